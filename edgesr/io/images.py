"""Image files in and out as RGB uint8 arrays, with clear errors for what cannot be used.

Pillow does the decoding, so this module works without OpenCV. Grayscale, palette and
16-bit images are converted to 8-bit RGB with a logged note (never silently); images with
real transparency are refused because there is no right colour to put behind them.
"""

from __future__ import annotations

import glob
import os
import warnings
from importlib import resources
from pathlib import Path

import numpy as np

from edgesr.errors import InputError
from edgesr.fileio import atomic_path
from edgesr.lazy import require
from edgesr.log import logger

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Decode ``path`` to an HxWx3 uint8 RGB array."""
    Image = require("PIL.Image")
    p = Path(path)
    if not p.is_file():
        raise InputError(f"image {p} does not exist; check the path")
    try:
        with warnings.catch_warnings():  # large images are bounded by the callers' memory budgets instead
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                im.load()
                return _to_rgb8(im, p)
    except Image.DecompressionBombError as exc:
        raise InputError(f"image {p} is too large to decode safely ({exc}); downscale it") from None
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's errors for corrupt files
        raise InputError(f"cannot decode image {p} ({exc}); replace or remove the file") from None


def header_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """(height, width) from the image's header, no pixels decoded; None when the header does not parse
    (decoding the file says why)."""
    Image = require("PIL.Image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                return im.height, im.width
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


def _to_rgb8(im, p: Path) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(im, dtype=np.float64)
        peak = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        logger.warning("%s is a %s-bit image; converting to 8 bits per channel", p.name, 16 if peak > 255 else 8)
        arr = np.clip(np.round(arr / peak * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(arr[..., None], 3, axis=2)
    if mode == "F":
        raise InputError(f"{p} holds floating-point samples; save it as 8-bit RGB")
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = np.asarray(im.convert("RGBA"))
        if (rgba[..., 3] < 255).any():
            raise InputError(f"{p} has transparent pixels; flatten it onto a background and save as RGB")
        return np.ascontiguousarray(rgba[..., :3])
    if mode != "RGB":
        logger.debug("%s: converting %s to RGB", p.name, mode)
        im = im.convert("RGB")
    elif _png_bit_depth(p) == 16:
        # Pillow decodes 16-bit colour PNGs to 8 bits without saying so; say so.
        logger.warning("%s is a 16-bit image; converting to 8 bits per channel", p.name)
    return np.asarray(im, dtype=np.uint8).copy()


def _png_bit_depth(p: Path) -> int | None:
    with open(p, "rb") as f:
        head = f.read(25)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return head[24]
    return None


def write_rgb(path: str | os.PathLike, rgb: np.ndarray) -> Path:
    """Encode an HxWx3 uint8 array; the format follows the suffix. Atomic."""
    Image = require("PIL.Image")
    p = Path(path)
    if p.suffix.lower() not in IMAGE_SUFFIXES:
        raise InputError(f"cannot tell the image format of {p}; use one of {', '.join(IMAGE_SUFFIXES)}")
    with atomic_path(p) as tmp:
        Image.fromarray(np.ascontiguousarray(rgb)).save(tmp, format=Image.registered_extensions()[p.suffix.lower()])
    return p


def list_images(source: str | os.PathLike) -> list[Path]:
    """Image files in a folder (sorted), a glob pattern, or a single file."""
    s = str(source)
    if any(ch in s for ch in "*?["):
        found = [Path(f) for f in sorted(glob.glob(s)) if Path(f).suffix.lower() in IMAGE_SUFFIXES]
    else:
        p = Path(s)
        if not p.exists():
            raise InputError(f"{p} does not exist; give an image folder, file or glob")
        if p.is_file():
            found = [p]
        else:
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise InputError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found in {s}; point to a folder of images")
    return found


def sample_images() -> list[Path]:
    """The real photographs shipped with edgesr (see edgesr/data/samples/SOURCES.md)."""
    root = resources.files("edgesr") / "data" / "samples"
    return sorted(Path(str(f)) for f in root.iterdir() if Path(str(f)).suffix.lower() in IMAGE_SUFFIXES)


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 Y in [16, 235]-range units from RGB in [0, 1] floats or uint8 (returned as float64 in [0, 255])."""
    x = rgb.astype(np.float64)
    if rgb.dtype == np.uint8:
        x = x / 255.0
    return 16.0 + (65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2])


def fit(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """Centre-crop to ``height`` x ``width``, first enlarging (bicubic) an image that is too small."""
    h, w = rgb.shape[:2]
    if h < height or w < width:
        Image = require("PIL.Image")
        k = max(height / h, width / w)
        size = (max(width, round(w * k)), max(height, round(h * k)))
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.BICUBIC))
        h, w = rgb.shape[:2]
    top, left = (h - height) // 2, (w - width) // 2
    return rgb[top : top + height, left : left + width]


def to_nchw(rgb: np.ndarray, *, channels: int = 3, value_range: float = 1.0) -> np.ndarray:
    """HxWx3 uint8 -> 1xCxHxW float32 scaled to [0, value_range]; C=1 gives the BT.601 Y plane."""
    x = rgb.astype(np.float32) / 255.0
    if channels == 1:
        x = ((luma(rgb) - 16.0) / 219.0).astype(np.float32)[..., None]
    elif channels != 3:
        raise InputError(f"models with {channels} input channels are not image models; expected 1 or 3")
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None] * np.float32(value_range))
