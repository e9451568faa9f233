"""Uploaded files, checked by decoding them (never by their name) and against the size limits.

An upload is written to a private temporary folder under a name the server chooses, then read
with the library's own readers, so an upload is held to the same rules as a file on the
command line (transparency refused, 16-bit converted with a note). Every problem is an
:class:`UploadError` whose message the page shows.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgesr.errors import InputError
from edgesr.io.images import read_rgb
from edgesr.lazy import available, require


class UploadError(InputError):
    """An upload that cannot be used; the message says why and what to upload instead."""


class NotAnImage(UploadError):
    """The upload does not decode as an image (it may still be a video)."""


@dataclass(frozen=True)
class Picture:
    name: str
    rgb: np.ndarray


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path  # the decoded-checked copy in the server's temporary folder
    first_frame: np.ndarray
    fps: float | None
    frames: int | None


def check_size(name: str, size: int, max_mb: int) -> None:
    if size > max_mb * 1024 * 1024:
        raise UploadError(
            f"{name} is {size / 2**20:.1f} MB, over the {max_mb} MB upload limit; upload a smaller "
            "file (the server's --max-upload-mb sets the limit)"
        )


def _pixels_ok(name: str, width: int, height: int, max_pixels: int, what: str = "image") -> None:
    if width * height > max_pixels:
        raise UploadError(
            f"{name} is a {width}x{height} {what} ({width * height / 1e6:.1f} MP), over the "
            f"{max_pixels / 1e6:.1f} MP limit; crop or downscale it first"
        )


def read_picture(name: str, data: bytes, max_pixels: int) -> Picture:
    """Decode an image upload; its size is checked from the header before the pixels are decoded."""
    Image = require("PIL.Image")
    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
    except Image.DecompressionBombError as exc:  # Pillow refuses it from the header alone
        raise UploadError(
            f"{name} is over the {max_pixels / 1e6:.1f} MP limit ({exc}); crop or downscale it first"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise NotAnImage(
            f"{name} is not an image edgesr can read ({exc}); upload a PNG, JPEG, BMP, TIFF or WebP file"
        ) from None
    _pixels_ok(name, width, height, max_pixels)
    with tempfile.TemporaryDirectory(prefix="edgesr-app-") as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(data)
        try:
            rgb = read_rgb(path)
        except InputError as exc:
            raise UploadError(str(exc).replace(str(path), name)) from None
    return Picture(name, rgb)


def read_clip(name: str, data: bytes, folder: Path, max_pixels: int, max_frames: int) -> Clip:
    """Decode a video upload into ``folder``: it must open, yield a first frame and fit the limits."""
    if not available("cv2"):
        raise UploadError(f"{name} is not an image, and video needs OpenCV: pip install 'edgesr[video]'")
    from edgesr.io.sources import EndOfStream, VideoFileSource

    path = folder / f"upload{Path(name).suffix.lower() if Path(name).suffix.isascii() else ''}"
    path.write_bytes(data)
    source = VideoFileSource(path)
    try:
        with source:
            frame = source.read(1.0)
    except (InputError, EndOfStream):
        raise UploadError(
            f"{name} is neither an image nor a video edgesr can decode (or it is truncated); "
            "upload a PNG/JPEG image or an MP4/MKV/WebM video"
        ) from None
    height, width = frame.image.shape[:2]
    _pixels_ok(name, width, height, max_pixels, "video")
    if source.frame_count is not None and source.frame_count > max_frames:
        raise UploadError(
            f"{name} has {source.frame_count} frames; the app takes clips of up to {max_frames} "
            "frames (use 'edgesr upscale' for long videos)"
        )
    return Clip(name, path, frame.image, source.fps, source.frame_count)


def read_upload(name: str, data: bytes, folder: Path, max_pixels: int, max_frames: int) -> Picture | Clip:
    """An image if it decodes as one, else a video if it decodes as one, else an :class:`UploadError`."""
    try:
        return read_picture(name, data, max_pixels)
    except NotAnImage:
        pass
    return read_clip(name, data, folder, max_pixels, max_frames)
