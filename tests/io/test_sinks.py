"""Sinks by URI: finished files only, clear errors, H.264 through PyAV."""

from __future__ import annotations

import time

import numpy as np
import pytest

from edgesr.errors import DependencyError, InputError
from edgesr.io.frame import Frame
from edgesr.io.images import read_rgb
from edgesr.io.sinks import (
    ImageFileSink,
    ImageFolderSink,
    NullSink,
    SinkOptions,
    VideoFileSink,
    open_sink,
)
from tests.runtime.media import count_frames

pytest.importorskip("cv2", reason="needs OpenCV (the 'video' extra)")


def frames(n: int, size: tuple[int, int] = (64, 48), name: str | None = None):
    w, h = size
    rng = np.random.default_rng(0)
    return [Frame(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), i, time.perf_counter(), name) for i in range(n)]


def test_video_appears_only_when_finished(tmp_path):
    out = tmp_path / "out.mp4"
    with open_sink(str(out), SinkOptions(fps=30)) as sink:
        assert isinstance(sink, VideoFileSink)
        for f in frames(5):
            sink.write(f)
        assert not out.exists()  # written under a temporary name until closed
        assert [p.name for p in tmp_path.iterdir()] == [".out.partial.mp4"]
    assert count_frames(out) == (5, (64, 48))
    assert list(tmp_path.iterdir()) == [out]


def test_odd_sizes_are_cropped_to_even_with_a_warning(tmp_path, caplog):
    out = tmp_path / "odd.mp4"
    with open_sink(str(out)) as sink:
        for f in frames(3, size=(1285, 717)):
            sink.write(f)
    assert count_frames(out) == (3, (1284, 716))
    assert "even sizes" in caplog.text


@pytest.mark.parametrize("size", [(64, 48), (65, 47)], ids=["even", "odd, cropped"])
def test_frames_carrying_bgr_pixels_encode_to_the_same_video(tmp_path, size):
    import cv2

    def decoded(path):
        cap, out = cv2.VideoCapture(str(path)), []
        while (got := cap.read())[0]:
            out.append(got[1])
        cap.release()
        return out

    plain = frames(4, size)
    with_bgr = [Frame(f.image, f.index, f.captured, bgr=np.ascontiguousarray(f.image[..., ::-1])) for f in plain]
    for name, batch in (("rgb.mp4", plain), ("bgr.mp4", with_bgr)):
        with open_sink(str(tmp_path / name)) as sink:
            assert sink.prefers_bgr
            for f in batch:
                sink.write(f)
    a, b = decoded(tmp_path / "rgb.mp4"), decoded(tmp_path / "bgr.mp4")
    assert len(a) == 4 and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not open_sink(str(tmp_path / "h.mp4"), SinkOptions(codec="h264")).prefers_bgr


def test_h264_through_pyav(tmp_path):
    av = pytest.importorskip("av")
    out = tmp_path / "out.mp4"
    with open_sink(f"file://{out}?codec=h264&fps=24") as sink:
        for f in frames(6):
            sink.write(f)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.average_rate == 24
    assert count_frames(out)[0] == 6


def _photo_frames(n: int, size: tuple[int, int] = (128, 96)) -> list[Frame]:
    """A real photograph panning left: natural content, as an upscaled video carries."""
    from edgesr.io.images import fit, read_rgb, sample_images

    w, h = size
    photo = fit(read_rgb(sample_images()[0]), h, w + 4 * n)
    return [Frame(np.ascontiguousarray(photo[:, 4 * i : 4 * i + w]), i, 0.0) for i in range(n)]


def _decoded_rgb(path) -> list[np.ndarray]:
    import cv2

    cap, out = cv2.VideoCapture(str(path)), []
    while (got := cap.read())[0]:
        out.append(got[1][..., ::-1])
    cap.release()
    return out


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b) ** 2)))


@pytest.mark.parametrize("pyav", [True, False], ids=["PyAV", "OpenCV fallback"])
def test_mp4v_is_mpeg4_part2_of_the_frames(tmp_path, monkeypatch, pyav):
    av = pytest.importorskip("av")
    if not pyav:
        monkeypatch.setattr("edgesr.io.sinks.available", lambda name: name != "av")
    photo = _photo_frames(12)
    out = tmp_path / "out.mp4"
    with open_sink(str(out), SinkOptions(fps=25)) as sink:
        for f in photo:
            sink.write(f)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "mpeg4" and stream.codec_tag == "mp4v"
    assert min(_psnr(f.image, got) for f, got in zip(photo, _decoded_rgb(out), strict=True)) > 30


def test_mp4v_keeps_flat_colours(tmp_path):
    pytest.importorskip("av")
    palette = [(0, 0, 0), (255, 255, 255), (200, 30, 40), (30, 180, 60), (40, 60, 220), (128, 128, 128)]
    flat = [Frame(np.full((48, 64, 3), c, np.uint8), i, 0.0) for i, c in enumerate(palette)]
    with open_sink(str(tmp_path / "flat.mp4"), SinkOptions(fps=25)) as sink:
        for f in flat:
            sink.write(f)
    for f, got in zip(flat, _decoded_rgb(tmp_path / "flat.mp4"), strict=True):
        # BT.601 limited range in the encoder's conversion and in the decoder's: a level or two off
        assert np.abs(got.astype(int) - f.image).max() <= 3, (f.image[0, 0], got[0, 0])


def test_mp4v_takes_a_key_frame_every_second(tmp_path):
    av = pytest.importorskip("av")
    out = tmp_path / "out.mp4"
    with open_sink(str(out), SinkOptions(fps=10)) as sink:
        for f in _photo_frames(25, (64, 48)):
            sink.write(f)
    with av.open(str(out)) as container:
        keys = [i for i, packet in enumerate(container.demux(video=0)) if packet.size and packet.is_keyframe]
    assert keys == [0, 10, 20]


def test_a_sink_without_frames_leaves_nothing(tmp_path):
    with open_sink(str(tmp_path / "out.mp4")):
        pass
    assert list(tmp_path.iterdir()) == []


def test_frames_of_another_size_are_refused(tmp_path):
    with open_sink(str(tmp_path / "out.mp4")) as sink:
        sink.write(frames(1)[0])
        with pytest.raises(InputError, match="mixed sizes"):
            sink.write(frames(1, size=(32, 32))[0])
    assert count_frames(tmp_path / "out.mp4")[0] == 1


def test_image_folder_keeps_names_or_numbers_frames(tmp_path):
    with open_sink(str(tmp_path / "named")) as sink:
        assert isinstance(sink, ImageFolderSink)
        for f in frames(2, name="photo"):
            sink.write(f)
    assert [p.name for p in (tmp_path / "named").iterdir()] == ["photo.png"]
    with open_sink(f"file://{tmp_path / 'numbered'}?format=jpg") as sink:
        for f in frames(2):
            sink.write(f)
    assert sorted(p.name for p in (tmp_path / "numbered").iterdir()) == ["frame_000000.jpg", "frame_000001.jpg"]


def test_single_image_sink(tmp_path):
    f = frames(2)
    with open_sink(str(tmp_path / "one.png")) as sink:
        assert isinstance(sink, ImageFileSink)
        sink.write(f[0])
        with pytest.raises(InputError, match="several frames"):
            sink.write(f[1])
    assert np.array_equal(read_rgb(tmp_path / "one.png"), f[0].image)


def test_null_sink_counts():
    with open_sink("null://") as sink:
        assert isinstance(sink, NullSink)
        for f in frames(3):
            sink.write(f)
    assert sink.frames_written == 3


def test_unwritable_destination_fails_before_any_frame(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        open_sink(str(tmp_path / "file" / "out.mp4")).open()
    with pytest.raises(InputError, match="cannot write to output directory /proc"):
        open_sink("/proc/out.mp4").open()  # not writable even for root
    with pytest.raises(InputError, match="is a folder"):
        VideoFileSink(tmp_path, SinkOptions()).open()


def test_bad_sink_addresses():
    with pytest.raises(InputError, match="cannot be written to"):
        open_sink("0")
    with pytest.raises(InputError, match="cannot tell what to write"):
        open_sink("out.xyz")
    with pytest.raises(InputError, match="unknown codec"):
        open_sink("file://out.mp4?codec=hevc")
    with pytest.raises(InputError, match="did you mean 'codec'"):
        open_sink("file://out.mp4?codc=h264")


def test_display_needs_a_gui_and_a_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises((DependencyError, InputError), match="display"):
        open_sink("display://0").open()
