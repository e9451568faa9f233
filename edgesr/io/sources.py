"""Frame sources addressed by URI (see :mod:`edgesr.io.uri`): video files, image files, folders and
globs, V4L2 cameras, CSI cameras (GStreamer), RTSP streams and a synthetic test pattern.

A source is a context manager with one call, ``read(timeout) -> Frame | None``, and three
distinct outcomes besides a frame: ``None`` when no frame arrived within ``timeout`` (live
sources only), :class:`EndOfStream` when a file is exhausted, and :class:`SourceError` when
the source failed or was lost. :class:`ReconnectingSource` turns a lost live source into a
bounded series of reconnect attempts with backoff.

OpenCV decodes video and drives cameras; it is imported when a source opens, so this module
imports without it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgesr.errors import DependencyError, EdgeSRError, InputError
from edgesr.io import images
from edgesr.io import uri as uris
from edgesr.io.frame import Frame
from edgesr.lazy import require
from edgesr.log import logger

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".ts", ".wmv", ".flv")


class EndOfStream(Exception):
    """The source has no more frames (a file ended, or a stream was closed on purpose)."""


class SourceError(EdgeSRError):
    """A source could not be opened, or a live source was lost and could not be recovered."""


@dataclass
class SourceOptions:
    """Settings shared by the OpenCV-backed live sources.

    ``open_timeout`` and ``read_timeout`` bound how long FFmpeg waits on a network stream
    before the attempt counts as failed (and a reconnect starts).
    """

    open_timeout: float = 10.0
    read_timeout: float = 5.0


class Source:
    """Base class: open/close through ``with``, frames through :meth:`read`.

    Subclasses set ``live`` (a camera or stream: frames keep coming whether or not they are
    read, so the pipeline may drop stale ones), ``stills`` (each frame a separate picture, not a
    moment of one continuous scene), and after opening ``fps`` and ``frame_count`` where known.
    """

    live = False
    stills = False

    def __init__(self, address: str):
        self.uri = address
        self.fps: float | None = None
        self.frame_count: int | None = None
        self.reconnects = 0
        self.gap_seconds = 0.0
        self.missed_frames = 0
        self._next_index = 0

    def open(self) -> None:
        """Acquire the device or file; raise :class:`SourceError` or :class:`InputError` if impossible."""

    def close(self) -> None:
        """Release what :meth:`open` acquired; safe to call twice."""

    def read(self, timeout: float) -> Frame | None:
        raise NotImplementedError

    def sizes(self) -> set[tuple[int, int]]:
        """The (height, width) of the frames to come, where known without decoding them (after :meth:`open`)."""
        return set()

    def interrupt(self) -> None:
        """Ask a blocking :meth:`read` (or a reconnect wait) to return soon; the run is stopping."""

    def _frame(self, rgb: np.ndarray, name: str | None = None) -> Frame:
        frame = Frame(rgb, self._next_index, time.perf_counter(), name)
        self._next_index += 1
        return frame

    def __enter__(self) -> Source:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def bgr_to_rgb(bgr: np.ndarray) -> np.ndarray:
    cv2 = require("cv2")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class VideoFileSource(Source):
    """A video file decoded by OpenCV's FFmpeg backend. Never live: every frame is delivered."""

    def __init__(self, path: str | Path):
        super().__init__(str(path))
        self.path = Path(path)
        self._cap = None

    def open(self) -> None:
        cv2 = require("cv2")
        if not self.path.is_file():
            raise InputError(f"video {self.path} does not exist; check the path")
        cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            raise InputError(
                f"cannot decode video {self.path}: not a video, an unsupported codec, or truncated "
                "(an MP4 cut short loses its index); check the file with ffprobe"
            )
        self._cap = cap
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else None
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 else None

    def sizes(self) -> set[tuple[int, int]]:
        cv2 = require("cv2")
        h, w = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        return {(h, w)} if h > 0 and w > 0 else set()

    def read(self, timeout: float) -> Frame:
        ok, bgr = self._cap.read()
        if not ok:
            self._warn_if_short()
            raise EndOfStream
        return self._frame(bgr_to_rgb(bgr))

    def _warn_if_short(self) -> None:
        # The container's count can be an estimate from its duration, so one frame of slack.
        if self.frame_count is not None and self._next_index < self.frame_count - 1:
            logger.warning(
                "%s ended after %d of the %d frames its header announces; the file may be truncated "
                "or damaged (the output holds the frames that decoded)",
                self.path.name,
                self._next_index,
                self.frame_count,
            )

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class ImageFilesSource(Source):
    """Image files from a folder (sorted), a glob pattern, or one file; each frame keeps its file stem."""

    stills = True

    def __init__(self, pattern: str):
        super().__init__(pattern)
        self.pattern = pattern
        self._paths: list[Path] = []

    def open(self) -> None:
        self._paths = images.list_images(self.pattern)
        self.frame_count = len(self._paths)

    def skip_done(self, done) -> int:
        """Leave out the files for which ``done(path)`` holds (a resumed run); returns how many."""
        before = len(self._paths)
        self._paths = [p for p in self._paths if not done(p)]
        self.frame_count = len(self._paths)
        return before - len(self._paths)

    def sizes(self) -> set[tuple[int, int]]:
        found = (images.header_size(p) for p in self._paths)
        return {size for size in found if size is not None}

    def read(self, timeout: float) -> Frame:
        if self._next_index >= len(self._paths):
            raise EndOfStream
        path = self._paths[self._next_index]
        return self._frame(images.read_rgb(path), path.stem)


class TestPatternSource(Source):
    """Synthetic frames: moving colour bars over a gradient, deterministic per frame index.

    With ``fps`` it behaves like a camera (live, paced, frames missed when nobody reads in
    time); without it frames come as fast as they are read. ``frames`` ends the stream after
    that many frames (endless when absent).
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self, width: int, height: int, fps: float | None = None, frames: int | None = None, address: str | None = None
    ):
        super().__init__(address or f"test://{width}x{height}")
        self.width, self.height = width, height
        self.fps = fps
        self.live = fps is not None
        self.frame_count = frames
        self._base = _pattern(width, height)
        self._due = 0.0
        self._wake = threading.Event()

    def open(self) -> None:
        self._due = time.perf_counter()
        self._wake.clear()

    def read(self, timeout: float) -> Frame | None:
        if self.frame_count is not None and self._next_index >= self.frame_count:
            raise EndOfStream
        if self.fps is not None:
            now = time.perf_counter()
            if now - self._due > 1.0 / self.fps:
                self._due = now  # a sensor does not queue frames nobody read: they are gone
            wait = self._due - now
            if wait > timeout:
                self._wake.wait(timeout)
                return None
            if wait > 0:
                self._wake.wait(wait)
            self._due += 1.0 / self.fps
        shift = (self._next_index * 4) % self.width
        return self._frame(self._base[:, shift : shift + self.width].copy())

    def interrupt(self) -> None:
        self._wake.set()


def _pattern(width: int, height: int) -> np.ndarray:
    """Twice as wide as a frame, so a shifting window gives motion without per-frame drawing."""
    x = np.arange(2 * width, dtype=np.float32)[None, :]
    y = np.arange(height, dtype=np.float32)[:, None]
    bars = (np.floor(x / max(width / 8, 1)) % 8).astype(np.uint8)
    colours = np.array(
        [
            [255, 255, 255],
            [255, 255, 0],
            [0, 255, 255],
            [0, 255, 0],
            [255, 0, 255],
            [255, 0, 0],
            [0, 0, 255],
            [0, 0, 0],
        ],
        np.float32,
    )
    ramp = (y / max(height - 1, 1)) * 0.6 + 0.2
    rgb = colours[np.broadcast_to(bars, (height, 2 * width))] * ramp[..., None]
    rgb += 20.0 * np.sin(x / 7.0 + y / 5.0)[..., None]
    return np.clip(rgb, 0, 255).astype(np.uint8)


class _CaptureSource(Source):
    """A live source read through ``cv2.VideoCapture``; a failed read means the source was lost.

    ``read`` blocks until the backend delivers a frame or gives up (FFmpeg's read timeout for
    streams, V4L2's select timeout for cameras), so ``timeout`` does not apply here.
    """

    live = True

    def __init__(self, address: str, options: SourceOptions):
        super().__init__(address)
        self.options = options
        self._cap = None

    def _capture(self, cv2):
        raise NotImplementedError

    def _cannot_open(self) -> str:
        raise NotImplementedError

    def open(self) -> None:
        cv2 = require("cv2")
        cap = self._capture(cv2)
        if not cap.isOpened():
            cap.release()
            raise SourceError(self._cannot_open())
        self._cap = cap
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and 0 < fps < 1000 else None

    def read(self, timeout: float) -> Frame:
        ok, bgr = self._cap.read()
        if not ok or bgr is None:
            raise SourceError(f"{self.uri} stopped delivering frames")
        return self._frame(bgr_to_rgb(bgr))

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class V4l2CameraSource(_CaptureSource):
    """A V4L2 camera (USB webcams, ``/dev/videoN``); ``width``, ``height``, ``fps`` request a mode."""

    def __init__(self, address: uris.Uri, options: SourceOptions):
        address.check_options(("width", "height", "fps"))
        super().__init__(str(address), options)
        self.device = address.location
        self.mode = (address.int_option("width"), address.int_option("height"), address.float_option("fps"))

    def _capture(self, cv2):
        if not Path(self.device).exists():
            raise SourceError(
                f"camera {self.device} does not exist; list cameras with 'ls /dev/video*' "
                "(inside a container, pass the device through)"
            )
        cap = cv2.VideoCapture(self.device, cv2.CAP_V4L2)
        width, height, fps = self.mode
        for prop, value in (
            (cv2.CAP_PROP_FRAME_WIDTH, width),
            (cv2.CAP_PROP_FRAME_HEIGHT, height),
            (cv2.CAP_PROP_FPS, fps),
        ):
            if value is not None:
                cap.set(prop, value)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the driver's queue is latency; keep only the newest frame
        return cap

    def _cannot_open(self) -> str:
        return f"cannot open camera {self.device}: it is busy, not a capture device, or access is denied"


class RtspSource(_CaptureSource):
    """An RTSP stream through OpenCV's FFmpeg backend, with open and read timeouts."""

    def _capture(self, cv2):
        ms = (
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(self.options.open_timeout * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(self.options.read_timeout * 1000),
        )
        return cv2.VideoCapture(self.uri, cv2.CAP_FFMPEG, list(ms))

    def _cannot_open(self) -> str:
        return (
            f"cannot open stream {self.uri} within {self.options.open_timeout:g} s: check the address, "
            "that the server is up, and credentials"
        )


def csi_pipeline(sensor: int, width: int, height: int, fps: float, flip: int = 0) -> str:
    """The GStreamer pipeline that reads a Jetson CSI camera into BGR frames for OpenCV."""
    return (
        f"nvarguscamerasrc sensor-id={sensor} ! "
        f"video/x-raw(memory:NVMM), width={width}, height={height}, framerate={round(fps)}/1 ! "
        f"nvvidconv flip-method={flip} ! video/x-raw, format=BGRx ! videoconvert ! "
        "video/x-raw, format=BGR ! appsink drop=true max-buffers=1 sync=false"
    )


def opencv_has_gstreamer() -> bool:
    info = require("cv2").getBuildInformation()
    return any(line.strip().startswith("GStreamer:") and "YES" in line for line in info.splitlines())


class CsiCameraSource(_CaptureSource):
    """A Jetson CSI camera through GStreamer's nvarguscamerasrc (needs OpenCV built with GStreamer)."""

    def __init__(self, address: uris.Uri, options: SourceOptions):
        address.check_options(("width", "height", "fps", "flip"))
        super().__init__(str(address), options)
        if not address.location.isdigit():
            raise InputError(f"{address}: the CSI sensor must be a number, e.g. csi://0")
        self.pipeline = csi_pipeline(
            int(address.location),
            address.int_option("width", 1280),
            address.int_option("height", 720),
            address.float_option("fps", 30.0),
            int(address.options.get("flip", "0")),
        )

    def _capture(self, cv2):
        if not opencv_has_gstreamer():
            raise DependencyError(
                f"{self.uri} needs OpenCV built with GStreamer, and this OpenCV ({cv2.__version__}) has none "
                "(PyPI wheels never do); on a Jetson use JetPack's OpenCV (apt install python3-opencv, in a "
                "venv made with --system-site-packages)"
            )
        return cv2.VideoCapture(self.pipeline, cv2.CAP_GSTREAMER)

    def _cannot_open(self) -> str:
        return (
            f"cannot open CSI camera {self.uri}: check the ribbon cable and that nvargus-daemon is running "
            "(sudo systemctl restart nvargus-daemon)"
        )


@dataclass
class ReconnectPolicy:
    """How a lost live source is recovered.

    Each outage gets up to ``retries`` attempts, waiting ``delay`` seconds before the first and
    doubling up to ``max_delay``; ``retries`` 0 fails at the first drop. A live source that
    delivers nothing for ``stall_timeout`` seconds counts as lost.
    """

    retries: int = 10
    delay: float = 0.5
    max_delay: float = 8.0
    stall_timeout: float = 5.0


class ReconnectingSource(Source):
    """Wraps a live source: on loss or stall it closes it, reopens a fresh one with backoff, and
    counts the reconnect, the gap in seconds and (when the frame rate is known) the frames missed.

    Frame indices continue across reconnects. The first open is not retried: an address that
    never worked is a user error, reported at once.
    """

    live = True

    def __init__(self, opener: Callable[[], Source], policy: ReconnectPolicy | None = None):
        self._opener = opener
        self.policy = policy if policy is not None else ReconnectPolicy()
        self._inner: Source | None = None
        self._cancel = threading.Event()
        self._last_frame = 0.0
        self._lost_at: float | None = None
        super().__init__("")

    def open(self) -> None:
        self._inner = self._opener()
        self._inner.open()
        self.uri = self._inner.uri
        self.fps = self._inner.fps
        self._last_frame = time.perf_counter()

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()
            self._inner = None

    def interrupt(self) -> None:
        self._cancel.set()
        if self._inner is not None:
            self._inner.interrupt()

    def read(self, timeout: float) -> Frame | None:
        try:
            frame = self._inner.read(timeout)
        except SourceError as exc:
            self._recover(str(exc))
            return None
        now = time.perf_counter()
        if frame is None:
            if now - self._last_frame > self.policy.stall_timeout:
                self._recover(f"no frame for {now - self._last_frame:.1f} s")
            return None
        if self._lost_at is not None:
            gap = now - self._lost_at
            self.gap_seconds += gap
            if self.fps:
                self.missed_frames += max(0, round(gap * self.fps) - 1)
            self._lost_at = None
        self._last_frame = now
        frame.index = self._next_index
        self._next_index += 1
        return frame

    def _recover(self, reason: str) -> None:
        if self._lost_at is None:
            self._lost_at = self._last_frame
        logger.warning("%s lost (%s); reconnecting", self.uri, reason)
        self.close()
        delay = self.policy.delay
        for attempt in range(1, self.policy.retries + 1):
            if self._cancel.wait(delay):
                raise EndOfStream
            try:
                inner = self._opener()
                inner.open()
            except (EdgeSRError, OSError) as exc:
                logger.warning("reconnect %d/%d to %s failed: %s", attempt, self.policy.retries, self.uri, exc)
                delay = min(delay * 2, self.policy.max_delay)
                continue
            self._inner = inner
            self._last_frame = time.perf_counter()
            self.reconnects += 1
            logger.info("%s reconnected after %d attempt(s)", self.uri, attempt)
            return
        raise SourceError(
            f"{self.uri} was lost ({reason}) and {self.policy.retries} reconnect attempts failed; "
            "check the camera or stream, or allow more with --reconnect-retries"
        )


def _file_source(address: uris.Uri, options: SourceOptions) -> Source:
    address.check_options(())
    location = address.location
    if any(ch in location for ch in "*?["):
        return ImageFilesSource(location)
    path = Path(location)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return VideoFileSource(path)
    if path.is_dir() or path.suffix.lower() in images.IMAGE_SUFFIXES:
        return ImageFilesSource(location)
    if not path.exists():
        raise InputError(f"{path} does not exist; give a video, an image, a folder, a glob or a URI such as csi://0")
    raise InputError(
        f"cannot tell what {path} is from its suffix; video suffixes: {', '.join(VIDEO_SUFFIXES)}, "
        f"image suffixes: {', '.join(images.IMAGE_SUFFIXES)}"
    )


def _test_source(address: uris.Uri, options: SourceOptions) -> Source:
    address.check_options(("fps", "frames"))
    try:
        width, height = (int(v) for v in address.location.lower().split("x"))
    except ValueError:
        raise InputError(f"{address}: give the size as WIDTHxHEIGHT, e.g. test://320x180") from None
    if width < 1 or height < 1:
        raise InputError(f"{address}: the size must be positive")
    return TestPatternSource(width, height, address.float_option("fps"), address.int_option("frames"), str(address))


_OPENERS: dict[str, Callable[[uris.Uri, SourceOptions], Source]] = {
    "file": _file_source,
    "test": _test_source,
    "v4l2": V4l2CameraSource,
    "csi": CsiCameraSource,
    "rtsp": lambda address, options: RtspSource(str(address), options),
    "rtsps": lambda address, options: RtspSource(str(address), options),
}


def open_source(address: str | Path, options: SourceOptions | None = None) -> Source:
    """The source for ``address`` (not opened yet: use it in a ``with`` block)."""
    parsed = uris.parse(address)
    opener = _OPENERS.get(parsed.scheme)
    if opener is None:
        raise InputError(
            f"{parsed} cannot be read from; sources: a path, or "
            + ", ".join(f"{k}://" for k in _OPENERS if k != "file")
        )
    return opener(parsed, options if options is not None else SourceOptions())
