"""Frame sinks addressed by URI (see :mod:`edgesr.io.uri`): a video file, a single image, a folder
of images, ``display://N`` and ``null://``.

Video is MPEG-4 part 2 (mp4v) by default, or H.264 (``codec="h264"``), both encoded through PyAV
(the ``video`` extra); without PyAV, mp4v falls back to OpenCV's own writer. A video is written
under a temporary name beside the target and renamed into place when the sink closes: a finished,
playable video of the frames written, never a half-written one under the final name. A job that
can tell a complete run from a cut one (``edgesr upscale``) sets :attr:`Sink.outcome`: an
interrupted video is then kept as ``NAME.partial.EXT``, and the files of a failed run are removed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgesr.errors import DependencyError, InputError
from edgesr.fileio import check_writable_dir
from edgesr.io import images
from edgesr.io import uri as uris
from edgesr.io.frame import Frame
from edgesr.io.sources import VIDEO_SUFFIXES
from edgesr.lazy import available, require
from edgesr.log import logger

CODECS = ("mp4v", "h264")
DEFAULT_FPS = 25.0


@dataclass
class SinkOptions:
    """``fps`` None means :data:`DEFAULT_FPS` (callers pass the source's rate when it has one).
    ``crf`` is the H.264 quality (lower is better, 18 is visually lossless for most content)."""

    fps: float | None = None
    codec: str = "mp4v"
    crf: int = 18
    image_format: str = "png"
    flag: str = "-o"  # the option the user names the sink with, for the fixes in error messages


class Sink:
    """Base class: open/close through ``with``, frames through :meth:`write`."""

    # "complete" (the default: a live stream ends when it is stopped), "interrupted" or "failed".
    outcome = "complete"
    kept_partial: Path | None = None
    prefers_bgr = False  # True: frames should carry their BGR pixels (Frame.bgr), which this sink writes

    def __init__(self, address: str):
        self.uri = address
        self.frames_written = 0

    def open(self) -> None:
        """Check the destination can be written, before any frame is computed."""

    def write(self, frame: Frame) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish the output; safe to call twice."""

    def __enter__(self) -> Sink:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class NullSink(Sink):
    """Discards frames (for measuring the rest of the pipeline)."""

    def write(self, frame: Frame) -> None:
        self.frames_written += 1


class ImageFileSink(Sink):
    """One image file; the format follows the suffix."""

    def __init__(self, path: Path, flag: str = "-o"):
        super().__init__(str(path))
        self.path = path
        self.flag = flag

    def open(self) -> None:
        check_writable_dir(self.path.parent, self.flag)

    def write(self, frame: Frame) -> None:
        if self.frames_written:
            raise InputError(
                f"the output {self.path} is one image but the input has several frames; "
                "pass a folder or a video file with -o"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        images.write_rgb(self.path, frame.image)
        self.frames_written += 1


class ImageFolderSink(Sink):
    """A folder of images named after the input files (or ``frame_000000`` for video frames)."""

    def __init__(self, folder: Path, image_format: str, flag: str = "-o"):
        super().__init__(str(folder))
        self.folder = folder
        self.flag = flag
        self.suffix = "." + image_format.lower().lstrip(".")
        if self.suffix not in images.IMAGE_SUFFIXES:
            raise InputError(f"cannot write images as '{image_format}'; use one of {', '.join(images.IMAGE_SUFFIXES)}")

    def open(self) -> None:
        check_writable_dir(self.folder, self.flag)
        # Made at the first image, so a run refused before it leaves no empty folder.
        self._created = not self.folder.exists()
        self._written: list[Path] = []

    def path_for(self, name: str) -> Path:
        return self.folder / f"{name}{self.suffix}"

    def write(self, frame: Frame) -> None:
        name = frame.name if frame.name is not None else f"frame_{frame.index:06d}"
        self._written.append(images.write_rgb(self.path_for(name), frame.image))
        self.frames_written += 1

    def close(self) -> None:
        if self.outcome != "failed":
            return
        for path in self._written:
            path.unlink(missing_ok=True)
        if self._created and self.folder.is_dir() and not any(self.folder.iterdir()):
            self.folder.rmdir()


class _OpenCvWriter:
    """MPEG-4 part 2 (mp4v) through OpenCV's FFmpeg backend, where PyAV is not installed (it costs
    about 1.5 ms more per 720p frame: its own colour conversion, docs/decisions.md)."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int]):
        cv2 = require("cv2")
        self._writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        if not self._writer.isOpened():
            raise InputError(f"OpenCV cannot write mp4v video to {path.suffix} files; use .mp4, .mkv, .mov or .avi")

    def write(self, bgr: np.ndarray) -> None:
        self._writer.write(bgr)

    def close(self) -> None:
        self._writer.release()


def _video_writer(path: Path, fps: float, size: tuple[int, int], options: SinkOptions):
    """The encoder for ``options.codec``: H.264 takes RGB frames, mp4v BGR."""
    if options.codec == "h264":
        from edgesr.io.pyav import H264Writer

        return H264Writer(path, fps, size, crf=options.crf)
    if not available("av"):
        return _OpenCvWriter(path, fps, size)
    from edgesr.io.pyav import Mpeg4Writer

    return Mpeg4Writer(path, fps, size)


class VideoFileSink(Sink):
    """A video file. The frame size is taken from the first frame; every later frame must match.

    4:2:0 video needs even sizes: an odd width or height is cropped by one pixel, with a warning.
    """

    def __init__(self, path: Path, options: SinkOptions):
        super().__init__(str(path))
        if options.codec not in CODECS:
            raise InputError(f"unknown codec '{options.codec}'; choose one of {', '.join(CODECS)}")
        self.path = path
        self.options = options
        self.fps = options.fps or DEFAULT_FPS
        self._tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
        self._writer = None
        self._size: tuple[int, int] | None = None

    def open(self) -> None:
        if self.path.is_dir():
            raise InputError(f"the output {self.path} is a folder; give a video file name such as out.mp4")
        check_writable_dir(self.path.parent, self.options.flag)
        if self.options.codec == "h264":
            av = require("av")
            if "libx264" not in av.codecs_available:
                raise DependencyError("this PyAV build has no libx264 encoder; use --codec mp4v")
        else:
            require("cv2")

    def write(self, frame: Frame) -> None:
        width, height = frame.size
        if self._writer is None:
            self._start(width, height)
        elif (width, height) != self._frame_size:
            raise InputError(
                f"frame {frame.index} is {width}x{height} but the video {self.path.name} is "
                f"{self._frame_size[0]}x{self._frame_size[1]}; write frames of mixed sizes to a folder"
            )
        w, h = self._size
        crop = (w, h) != (width, height)
        self._writer.write(np.ascontiguousarray(self._pixels(frame)[:h, :w] if crop else self._pixels(frame)))
        self.frames_written += 1

    def _pixels(self, frame: Frame) -> np.ndarray:
        """The frame in the channel order the encoder takes."""
        if not self.prefers_bgr:
            return frame.image
        return frame.bgr if frame.bgr is not None else frame.image[..., ::-1]

    @property
    def prefers_bgr(self) -> bool:
        return self.options.codec != "h264"  # mp4v's encoders take BGR (OpenCV's writer takes nothing else)

    def _start(self, width: int, height: int) -> None:
        self._frame_size = (width, height)
        self._size = (width - width % 2, height - height % 2)
        if self._size != self._frame_size:
            logger.warning(
                "%s: frames are %dx%d but 4:2:0 video needs even sizes; writing %dx%d (last column/row cropped)",
                self.path.name,
                width,
                height,
                *self._size,
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = _video_writer(self._tmp, self.fps, self._size, self.options)

    def close(self) -> None:
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        try:
            writer.close()
        finally:
            if self.frames_written and self.outcome == "complete":
                os.replace(self._tmp, self.path)
            elif self.frames_written and self.outcome == "interrupted":
                self.kept_partial = self.path.with_name(f"{self.path.stem}.partial{self.path.suffix}")
                os.replace(self._tmp, self.kept_partial)
            elif self._tmp.exists():
                self._tmp.unlink()


class DisplaySink(Sink):
    """An OpenCV window on the local display (needs a display and OpenCV with GUI support)."""

    prefers_bgr = True

    def __init__(self, address: uris.Uri):
        address.check_options(())
        super().__init__(str(address))
        self.title = f"edgesr {address}"

    def open(self) -> None:
        cv2 = require("cv2")
        gui = [
            line.split(":", 1)[1].strip()
            for line in cv2.getBuildInformation().splitlines()
            if line.strip().startswith("GUI:")
        ]
        if not gui or gui[0].upper() == "NONE":
            raise DependencyError(
                "display:// needs OpenCV with GUI support, and this one is headless; "
                "pip install opencv-python (not -headless), or use JetPack's OpenCV on a Jetson"
            )
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            raise InputError(
                "display:// needs a display, and DISPLAY is not set; run on the device's desktop "
                "(or export DISPLAY=:0), or write to a file or null://"
            )
        cv2.namedWindow(self.title, cv2.WINDOW_NORMAL)

    def write(self, frame: Frame) -> None:
        cv2 = require("cv2")
        cv2.imshow(self.title, frame.bgr if frame.bgr is not None else cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR))
        cv2.waitKey(1)
        self.frames_written += 1

    def close(self) -> None:
        if self.frames_written:
            require("cv2").destroyWindow(self.title)


def _file_sink(address: uris.Uri, options: SinkOptions) -> Sink:
    path = Path(address.location)
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        address.check_options(("codec", "fps", "crf"))
        codec = address.options.get("codec", options.codec)
        fps = address.float_option("fps", options.fps)
        crf = address.int_option("crf", options.crf)
        return VideoFileSink(path, SinkOptions(fps=fps, codec=codec, crf=crf, flag=options.flag))
    if suffix in images.IMAGE_SUFFIXES:
        address.check_options(())
        return ImageFileSink(path, options.flag)
    if suffix and not path.is_dir():
        raise InputError(
            f"cannot tell what to write to {path} from its suffix; give a video "
            f"({', '.join(VIDEO_SUFFIXES[:5])}), an image, or a folder"
        )
    address.check_options(("format",))
    return ImageFolderSink(path, address.options.get("format", options.image_format), options.flag)


def _null_sink(address: uris.Uri, options: SinkOptions) -> Sink:
    address.check_options(())
    return NullSink("null://")


_OPENERS: dict[str, Callable[[uris.Uri, SinkOptions], Sink]] = {
    "file": _file_sink,
    "display": lambda address, options: DisplaySink(address),
    "null": _null_sink,
}


def open_sink(address: str | Path, options: SinkOptions | None = None) -> Sink:
    """The sink for ``address`` (not opened yet: use it in a ``with`` block)."""
    parsed = uris.parse(address)
    opener = _OPENERS.get(parsed.scheme)
    if opener is None:
        raise InputError(
            f"{parsed} cannot be written to; sinks: a video file, an image, a folder, display://0 or null://"
        )
    return opener(parsed, options if options is not None else SinkOptions())
