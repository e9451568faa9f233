"""``edgesr upscale`` and ``edgesr stream`` in-process: outputs, statistics, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from edgesr.cli import main
from edgesr.io.images import fit, read_rgb, sample_images, write_rgb
from tests.runtime.media import count_frames, make_video, make_video_with_audio

pytest.importorskip("cv2", reason="video files need OpenCV (the 'video' extra)")


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("edgesr: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_upscale_video_to_video(models, video, tmp_path, capsys):
    out = tmp_path / "x4.mp4"
    stats = tmp_path / "stats.json"
    assert (
        main(
            [
                "-q",
                "upscale",
                str(video),
                "-o",
                str(out),
                "-m",
                str(models["dynamic"]),
                "--no-progress",
                "--json",
                str(stats),
            ]
        )
        == 0
    )
    assert count_frames(out) == (12, (256, 192))
    report = json.loads(stats.read_text())
    assert report["frames_written"] == 12 and report["dropped"] == 0 and report["ended"] == "end of stream"
    assert report["model"]["scale"] == 4
    assert "12 frames" in capsys.readouterr().out


def test_upscale_odd_video_with_tiles_and_the_artifact_spelling(models, tmp_path):
    out = tmp_path / "odd_x2.mkv"
    assert (
        main(
            [
                "-q",
                "upscale",
                "test://321x179?frames=3",
                "-o",
                str(out),
                "--artifact",
                str(models["x2"]),
                "--tile",
                "64x96",
                "--no-progress",
            ]
        )
        == 0
    )
    assert count_frames(out) == (3, (642, 358))


def test_upscale_folder_keeps_names(models, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i, path in enumerate(sample_images()[:2]):
        write_rgb(src / f"img{i}.png", fit(read_rgb(path), 31 + i, 40))
    assert (
        main(["-q", "upscale", str(src), "-o", str(tmp_path / "out"), "-m", str(models["static"]), "--no-progress"])
        == 0
    )
    written = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in written] == ["img0.png", "img1.png"]
    assert read_rgb(written[1]).shape == (128, 160, 3)


def test_upscale_one_image(models, tmp_path):
    src = tmp_path / "small.png"
    write_rgb(src, fit(read_rgb(sample_images()[0]), 20, 24))
    assert (
        main(
            ["-q", "upscale", str(src), "-o", str(tmp_path / "big.png"), "-m", str(models["bicubic"]), "--no-progress"]
        )
        == 0
    )
    assert read_rgb(tmp_path / "big.png").shape == (80, 96, 3)


def test_audio_is_copied(models, tmp_path, capsys):
    pytest.importorskip("av")
    import av

    src = make_video_with_audio(tmp_path / "talk.mp4")
    out = tmp_path / "talk_x2.mp4"
    assert main(["upscale", str(src), "-o", str(out), "-m", str(models["x2"]), "--no-progress"]) == 0
    assert "audio copied aac" in capsys.readouterr().out
    with av.open(str(out)) as container:
        assert {s.type for s in container.streams} == {"video", "audio"}
        assert container.streams.audio[0].codec_context.name == "aac"
    assert count_frames(out) == (25, (128, 96))


def test_audio_can_be_dropped_on_purpose(models, tmp_path, capsys):
    pytest.importorskip("av")
    import av

    src = make_video_with_audio(tmp_path / "talk.mp4", frames=5)
    out = tmp_path / "silent.mp4"
    assert main(["upscale", str(src), "-o", str(out), "-m", str(models["x2"]), "--no-progress", "--audio", "drop"]) == 0
    assert "audio dropped (--audio drop)" in capsys.readouterr().out
    with av.open(str(out)) as container:
        assert [s.type for s in container.streams] == ["video"]


def test_missing_pyav_is_said_or_refused(models, video, tmp_path, monkeypatch, capsys):
    import edgesr.runtime.jobs as jobs

    monkeypatch.setattr(jobs, "available", lambda name: False)
    assert main(["upscale", str(video), "-o", str(tmp_path / "a.mp4"), "-m", str(models["x2"]), "--no-progress"]) == 0
    assert "PyAV is not installed" in capsys.readouterr().err

    def no_av(name):
        from edgesr.errors import DependencyError

        raise DependencyError("av is not installed; pip install 'edgesr[video]' (provides av)")

    monkeypatch.setattr(jobs, "require", no_av)
    assert (
        main(
            [
                "upscale",
                str(video),
                "-o",
                str(tmp_path / "b.mp4"),
                "-m",
                str(models["x2"]),
                "--audio",
                "copy",
                "--no-progress",
            ]
        )
        == 1
    )
    assert "edgesr[video]" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "b.mp4").exists()


def test_truncated_video_gives_the_frames_that_decode(models, tmp_path, capsys):
    src = make_video(tmp_path / "cut.avi", frames=30, fourcc="MJPG")
    src.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    out = tmp_path / "cut_x4.mp4"
    assert main(["upscale", str(src), "-o", str(out), "-m", str(models["dynamic"]), "--no-progress"]) == 0
    n, _ = count_frames(out)
    assert 0 < n < 30
    assert "may be truncated" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["upscale", "{tmp}/missing.mp4", "-o", "{tmp}/o.mp4"], "does not exist"),
        (["upscale", "{video}", "-o", "/proc/o.mp4"], "cannot write to output directory /proc"),
        (["upscale", "{video}", "-o", "{tmp}/o.png"], "is a video; -o must be"),
        (["upscale", "{video}", "-o", "{video}"], "would overwrite the input"),
        (["upscale", "test://32x24?fps=10", "-o", "{tmp}/o.mp4"], "use 'edgesr stream"),
        (["upscale", "{video}", "-o", "{tmp}/o.mp4", "--tile", "48x48", "--tile-overlap", "48"], "overlap"),
        (["stream", "--source", "csi://0", "--sink", "null://"], "GStreamer"),
        (["stream", "--source", "/dev/video77", "--sink", "null://"], "camera /dev/video77 does not exist"),
        (["stream", "--source", "test://32x24", "--sink", "rtsp://x/y"], "cannot be written to"),
    ],
)
def test_bad_input_is_one_line(models, video, tmp_path, capsys, args, message):
    argv = [a.format(tmp=tmp_path, video=video) for a in args] + ["-m", str(models["dynamic"])]
    if argv[0] == "upscale":
        argv.append("--no-progress")
    assert main(argv) == 1
    assert message in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "o.mp4").exists()


def test_model_problems_are_one_line(video, tmp_path, capsys):
    (tmp_path / "m.onnx").write_bytes(b"not a model")
    assert main(["upscale", str(video), "-o", str(tmp_path / "o.mp4"), "-m", str(tmp_path / "m.onnx")]) == 1
    assert "not an ONNX model" in one_error_line(capsys.readouterr().err)
    assert main(["upscale", str(video), "-o", str(tmp_path / "o.mp4"), "-m", "no-such-model"]) == 1
    assert "does not exist" in one_error_line(capsys.readouterr().err)


def test_stream_prints_periodic_stats_and_final_json(models, tmp_path, capsys):
    stats = tmp_path / "s.json"
    assert (
        main(
            [
                "stream",
                "--source",
                "test://40x30?fps=50",
                "--sink",
                "null://",
                "-m",
                str(models["dynamic"]),
                "--duration",
                "1.2",
                "--stats-every",
                "0.4",
                "--json",
                str(stats),
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["ended"] == "time limit" and report["frames_written"] > 20
    assert {"fps", "dropped", "end_to_end", "stages", "reconnects", "gap_s"} <= set(report)
    assert set(report["stages"]["infer"]) == {"p50_ms", "p95_ms", "mean_ms", "max_ms"}
    assert err.count("fps | e2e p50") >= 2
    assert json.loads(stats.read_text())["frames_written"] == report["frames_written"]


def test_stream_to_a_video_file_with_a_frame_limit(models, tmp_path, capsys):
    out = tmp_path / "live.mp4"
    assert (
        main(
            [
                "-q",
                "stream",
                "--source",
                "test://40x30",
                "--sink",
                str(out),
                "-m",
                str(models["x2"]),
                "--max-frames",
                "7",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["ended"] == "frame limit"
    assert count_frames(out) == (7, (80, 60))


def test_ctrl_c_finalises_the_output_video(models, tmp_path):
    """A real SIGINT to a real process: exit code 130, and the video is complete and playable."""
    out = tmp_path / "live.mp4"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edgesr",
            "stream",
            "--source",
            "test://64x48?fps=30",
            "--sink",
            str(out),
            "-m",
            str(models["dynamic"]),
            "--stats-every",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # as from a terminal, even when these tests run in the background (SIGINT ignored)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 60
    while not (tmp_path / ".live.partial.mp4").exists() and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    report = json.loads(stdout)
    assert report["ended"] == "interrupted"
    n, size = count_frames(out)
    assert n == report["frames_written"] > 0 and size == (256, 192)
    assert not (tmp_path / ".live.partial.mp4").exists()
