"""Sources by URI: normalisation, the three outcomes of read, and clear errors."""

from __future__ import annotations

import time

import numpy as np
import pytest

from edgesr.errors import DependencyError, InputError
from edgesr.io import uri
from edgesr.io.images import write_rgb
from edgesr.io.sources import (
    EndOfStream,
    ImageFilesSource,
    SourceError,
    TestPatternSource,
    VideoFileSource,
    csi_pipeline,
    open_source,
    opencv_has_gstreamer,
)

pytest.importorskip("cv2", reason="needs OpenCV (the 'video' extra)")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0", "v4l2:///dev/video0"),
        ("/dev/video2", "v4l2:///dev/video2"),
        ("v4l2:///dev/video1?width=640", "v4l2:///dev/video1?width=640"),
        ("csi://0", "csi://0"),
        ("rtsp://cam.local:8554/live?token=a&b=c", "rtsp://cam.local:8554/live?token=a&b=c"),
        ("clip.mp4", "file://clip.mp4"),
        ("file:///data/clip.mp4", "file:///data/clip.mp4"),
        ("test://320x180?fps=30", "test://320x180?fps=30"),
        ("null://", "null://"),
    ],
)
def test_addresses_are_normalised(text, expected):
    assert str(uri.parse(text)) == expected


def test_network_query_stays_in_the_address():
    parsed = uri.parse("rtsp://h/x?token=1")
    assert parsed.options == {} and parsed.location == "rtsp://h/x?token=1"


def test_unknown_scheme_and_misspelt_option():
    with pytest.raises(InputError, match="unknown scheme"):
        uri.parse("ftp://host/clip.mp4")
    with pytest.raises(InputError, match="did you mean 'frames'"):
        open_source("test://32x24?frame=3")


def test_test_pattern_is_deterministic_and_ends():
    with open_source("test://48x32?frames=3") as a, TestPatternSource(48, 32, frames=3) as b:
        assert not a.live
        frames = [a.read(1.0) for _ in range(3)]
        assert all(np.array_equal(f.image, b.read(1.0).image) for f in frames)
        assert frames[0].image.shape == (32, 48, 3) and not np.array_equal(frames[0].image, frames[1].image)
        with pytest.raises(EndOfStream):
            a.read(1.0)


def test_paced_test_pattern_is_live_and_times_out():
    with open_source("test://16x16?fps=20") as source:
        assert source.live and source.fps == 20
        source.read(1.0)
        start = time.perf_counter()
        assert source.read(0.001) is None  # timeout: the next frame is not due yet
        assert source.read(1.0) is not None
        assert time.perf_counter() - start < 0.5  # the next frame, 50 ms later, not the 1 s timeout


def test_video_file_source(tmp_path):
    from tests.runtime.media import make_video

    path = make_video(tmp_path / "v.mp4", frames=7, size=(40, 30))
    with open_source(str(path)) as source:
        assert isinstance(source, VideoFileSource) and not source.live
        assert source.frame_count == 7 and source.fps == pytest.approx(25.0)
        frames = [source.read(1.0) for _ in range(7)]
        with pytest.raises(EndOfStream):
            source.read(1.0)
    assert frames[0].image.shape == (30, 40, 3) and frames[-1].index == 6


def test_truncated_video_ends_early_with_a_warning(tmp_path, caplog):
    from tests.runtime.media import make_video

    path = make_video(tmp_path / "v.avi", frames=30, size=(64, 48), fourcc="MJPG")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with open_source(str(path)) as source:
        n = 0
        with pytest.raises(EndOfStream):
            while True:
                source.read(1.0)
                n += 1
    assert 0 < n < 30
    assert "may be truncated" in caplog.text


def test_truncated_mp4_is_a_one_line_error(tmp_path):
    from tests.runtime.media import make_video

    path = make_video(tmp_path / "v.mp4", frames=20)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(InputError, match="cannot decode video.*truncated"):
        open_source(str(path)).open()


def test_image_folder_and_glob(tmp_path):
    for name in ("b", "a"):
        write_rgb(tmp_path / f"{name}.png", np.zeros((5, 6, 3), np.uint8))
    (tmp_path / "notes.txt").write_text("x")
    for address in (str(tmp_path), str(tmp_path / "*.png")):
        with open_source(address) as source:
            assert isinstance(source, ImageFilesSource) and source.frame_count == 2
            assert [source.read(1.0).name for _ in range(2)] == ["a", "b"]
            with pytest.raises(EndOfStream):
                source.read(1.0)


@pytest.mark.parametrize(
    "address, message",
    [
        ("missing.mp4", "does not exist"),
        ("missing_dir/", "does not exist"),
        ("v4l2:///dev/video97", "does not exist"),
        ("test://axb", "WIDTHxHEIGHT"),
    ],
)
def test_unopenable_sources_are_one_line_errors(tmp_path, address, message):
    with pytest.raises((InputError, SourceError), match=message):
        open_source(str(tmp_path / address) if "://" not in address else address).open()


def test_unknown_file_kind(tmp_path):
    (tmp_path / "data.bin").write_bytes(b"x")
    with pytest.raises(InputError, match="cannot tell what"):
        open_source(str(tmp_path / "data.bin"))


def test_unreachable_rtsp_fails_within_the_open_timeout():
    from edgesr.io.sources import SourceOptions

    start = time.perf_counter()
    with pytest.raises(SourceError, match="cannot open stream"):
        open_source("rtsp://127.0.0.1:9/none", SourceOptions(open_timeout=2.0)).open()
    assert time.perf_counter() - start < 10


def test_csi_pipeline_and_missing_gstreamer():
    assert csi_pipeline(1, 1920, 1080, 30).startswith("nvarguscamerasrc sensor-id=1 ! ")
    source = open_source("csi://0?width=640&height=480&fps=30")
    assert "width=640, height=480, framerate=30/1" in source.pipeline
    if opencv_has_gstreamer():
        pytest.skip("this OpenCV has GStreamer; the missing-GStreamer message cannot be shown")
    with pytest.raises(DependencyError, match="GStreamer.*JetPack"):
        source.open()
