"""Side-by-side crops: where on an image the candidates differ most from the reference.

A mean PSNR hides where the damage is; a crop at the worst spot shows whether it is visible.
Crops are enlarged by repeating pixels (nearest neighbour) only, so what is shown is exactly
what each variant produced.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np

from edgesr.io.images import luma
from edgesr.lazy import require

CROP_SIZE = 48  # HR pixels; at x4 that is 12 LR pixels, enough to judge edges and texture
TILE_SIZE = 192  # display pixels a crop is zoomed towards
ROW_WIDTH = 1300  # display pixels a row of tiles should fit in (the HTML page's content width)
TILE_GAP = 12
DIFF_GAIN = 8  # differences of a few grey levels become visible at this gain


@dataclass(frozen=True)
class Crop:
    """A square window of the HR-sized images, in HR pixels, and why it was chosen."""

    top: int
    left: int
    size: int
    zoom: int
    reason: str  # "largest difference from the reference" or "most texture (no difference)"

    def of(self, image: np.ndarray) -> np.ndarray:
        return image[self.top : self.top + self.size, self.left : self.left + self.size]


@dataclass(frozen=True)
class Tile:
    label: str
    data_uri: str  # a PNG as data:image/png;base64,...
    note: str = ""  # e.g. the crop's PSNR against the ground truth


def choose_crop(
    reference: np.ndarray, candidates: list[np.ndarray], hr: np.ndarray, shave: int, columns: int, size: int = CROP_SIZE
) -> Crop:
    """The window (inside the shaved border) with the largest summed |Y difference| to the reference.

    When every candidate equals the reference there is nothing to point at, so the window with
    the most ground-truth detail (gradient energy) is shown instead. The zoom lets ``columns``
    tiles sit side by side in one row.
    """
    h, w = hr.shape[:2]
    inner_h, inner_w = h - 2 * shave, w - 2 * shave
    size = max(1, min(size, inner_h, inner_w))
    ref_y = luma(reference)
    score = sum((np.abs(luma(c) - ref_y) for c in candidates), np.zeros_like(ref_y))
    reason = "largest difference from the reference"
    if not score.any():
        gy, gx = np.gradient(luma(hr))
        score = gy * gy + gx * gx
        reason = "most texture (no candidate differs from the reference)"
    inner = score[shave : h - shave, shave : w - shave]
    # Box sums of every size x size window from one summed-area table.
    table = np.pad(inner.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = table[size:, size:] - table[:-size, size:] - table[size:, :-size] + table[:-size, :-size]
    top, left = np.unravel_index(int(np.argmax(sums)), sums.shape)
    zoom = min(TILE_SIZE, ROW_WIDTH // columns - TILE_GAP) // size
    return Crop(int(top) + shave, int(left) + shave, size, max(1, zoom), reason)


def tile(label: str, crop: Crop, image: np.ndarray, note: str = "") -> Tile:
    return Tile(label, png_data_uri(_zoom(crop.of(image), crop.zoom)), note)


def diff_tile(label: str, crop: Crop, candidate: np.ndarray, reference: np.ndarray) -> Tile:
    """|Y(candidate) - Y(reference)| x DIFF_GAIN as grey levels: black where they agree."""
    diff = np.abs(luma(crop.of(candidate)) - luma(crop.of(reference))) * DIFF_GAIN
    return Tile(label, png_data_uri(_zoom(np.clip(np.round(diff), 0, 255).astype(np.uint8), crop.zoom)))


def _zoom(image: np.ndarray, k: int) -> np.ndarray:
    return np.repeat(np.repeat(image, k, axis=0), k, axis=1)


def png_data_uri(image: np.ndarray) -> str:
    Image = require("PIL.Image")
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
