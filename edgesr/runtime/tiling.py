"""Cut frames into model-sized tiles and stitch the upscaled tiles back, without seams.

Method (crop-and-stitch): tiles overlap by at least ``overlap`` input pixels and are spread
evenly over the frame; between two neighbours the boundary is the middle of their overlap, and
each output pixel is copied from the one tile that owns it. An owned pixel then lies at least
``overlap // 2`` input pixels from any tile edge that is not a frame edge, so when that margin
covers the model's receptive-field radius the stitched frame equals the untiled result exactly
(up to float round-off), seams included. Blending instead would average two slightly different
values and never be exact. A frame smaller than the tile (a fixed-shape engine) or not a multiple
of the model's ``size_multiple`` is padded by edge replication at the bottom and right, and the
padding is cropped off the output.

Tiles are used when the model has a fixed input shape, when asked, or when a frame's working set
would exceed the memory budget (then tiles and tiles per call are sized to fit it, and stitched
tile batch by tile batch into the output frame); a dynamic model otherwise runs on the whole
frame, as one "tile". A frame whose upscaled pixels alone exceed the budget is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgesr.errors import InputError
from edgesr.log import logger
from edgesr.runtime.model_spec import ModelSpec
from edgesr.runtime.tensors import to_model, to_pixels

DEFAULT_OVERLAP = 16
_PLAN_CACHE_SIZE = 8
# Memory one frame may take: a Jetson Orin Nano 8 GB shares its memory between CPU and GPU, and the
# system, the runtime and the queued frames need the rest.
DEFAULT_MEMORY_BUDGET_MB = 1024
# Bytes one input pixel costs in an inference call: the float input, the float output (scale^2
# pixels of 3 channels) and the model's activations (up to 64 float channels, two alive at once).
_ACTIVATION_BYTES = 64 * 4 * 2
# Side of automatic tiles, clamped so they stay efficient and a frame needs few of them.
_AUTO_SIDE = (64, 1024)


@dataclass(frozen=True)
class Span:
    """One tile along one axis: input pixels ``start .. start + tile`` of the padded frame feed it,
    and it writes frame pixels ``own_start .. own_end``."""

    start: int
    own_start: int
    own_end: int


@dataclass(frozen=True)
class TilePlan:
    frame_hw: tuple[int, int]
    tile_hw: tuple[int, int]
    padded_hw: tuple[int, int]
    rows: tuple[Span, ...]
    cols: tuple[Span, ...]
    per_call: int | None = None  # tiles per inference call the memory budget allows (None: no limit)

    @property
    def count(self) -> int:
        return len(self.rows) * len(self.cols)


def plan_axis(length: int, tile: int, overlap: int) -> tuple[tuple[Span, ...], int]:
    """Spans covering ``length`` pixels with tiles of ``tile``; also the padded length (>= tile)."""
    if length <= tile:
        return (Span(0, 0, length),), tile
    n = math.ceil((length - overlap) / (tile - overlap))
    starts = [round(i * (length - tile) / (n - 1)) for i in range(n)]
    # Middle of each overlap: floor((overlap_i) / 2) from the right tile's start.
    bounds = [0] + [(starts[i + 1] + starts[i] + tile) // 2 for i in range(n - 1)] + [length]
    return tuple(Span(starts[i], bounds[i], bounds[i + 1]) for i in range(n)), length


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


class Tiler:
    """Splits frames into model input batches and stitches model outputs into frames.

    ``tile`` (height, width) asks for tiles on a dynamic model; a fixed-shape model always
    tiles at its own shape, and a different ``tile`` is refused.
    """

    def __init__(
        self,
        spec: ModelSpec,
        tile: tuple[int, int] | None = None,
        overlap: int = DEFAULT_OVERLAP,
        memory_budget_mb: int | None = None,
    ):
        if spec.input_hw is not None and tile is not None and tuple(tile) != spec.input_hw:
            raise InputError(
                f"the model's input is fixed at {spec.input_hw[0]}x{spec.input_hw[1]}, so tiles are that "
                f"size; drop --tile {tile[0]}x{tile[1]}"
            )
        self.spec = spec
        self.tile = spec.input_hw if spec.input_hw is not None else (tuple(tile) if tile is not None else None)
        if self.tile is not None and min(self.tile) - overlap < 1:
            raise InputError(f"tile overlap {overlap} must be smaller than the tile {self.tile[0]}x{self.tile[1]}")
        if overlap < 0:
            raise InputError(f"tile overlap must not be negative, not {overlap}")
        self.overlap = overlap
        self.budget = (memory_budget_mb or DEFAULT_MEMORY_BUDGET_MB) << 20
        self._plans: dict[tuple[int, int], TilePlan] = {}

    def plan(self, height: int, width: int) -> TilePlan:
        key = (height, width)
        found = self._plans.get(key)
        if found is None:
            found = self._make_plan(height, width)
            if len(self._plans) >= _PLAN_CACHE_SIZE:  # frames of ever-new sizes must not grow memory
                self._plans.pop(next(iter(self._plans)))
            self._plans[key] = found
        return found

    def _call_bytes(self, pixels: int) -> int:
        return pixels * (3 * 4 + self.spec.scale**2 * 3 * 4 + _ACTIVATION_BYTES)

    def _budget_tile(self, height: int, width: int) -> tuple[tuple[int, int] | None, int | None]:
        """The automatic tile and tiles per call for a frame over the budget; (None, None) when it fits whole."""
        s = self.spec.scale
        frame_bytes = height * width * (3 + s * s * 3)  # decoded input and upscaled output, as pixels
        mb = self.budget >> 20
        if frame_bytes > self.budget:
            raise InputError(
                f"a {width}x{height} frame upscales x{s} to {width * s}x{height * s}, "
                f"{frame_bytes / 2**20:.0f} MB as pixels, over the {mb} MB memory budget; raise "
                "--memory-budget MB or give smaller frames"
            )
        if self.tile is not None or frame_bytes + self._call_bytes(height * width) <= self.budget:
            return None, None
        room = max(self.budget - frame_bytes - height * width * 3 * 4, self.budget // 8)
        side = int(math.sqrt(room / 4 / self._call_bytes(1)))
        side = _round_up(max(_AUTO_SIDE[0], min(_AUTO_SIDE[1], side)), self.spec.size_multiple)
        per_call = max(1, room // self._call_bytes(side * side))
        logger.info(
            "a %dx%d frame is over the %d MB memory budget whole: tiles of %dx%d, %d per call",
            width,
            height,
            mb,
            side,
            side,
            per_call,
        )
        return (side, side), per_call

    def _make_plan(self, height: int, width: int) -> TilePlan:
        m = self.spec.size_multiple
        auto, per_call = self._budget_tile(height, width)
        if self.tile is None and auto is not None:
            tile_hw = (min(auto[0], _round_up(height, m)), min(auto[1], _round_up(width, m)))
        elif self.tile is None:
            tile_hw = (_round_up(height, m), _round_up(width, m))
        elif self.spec.input_hw is not None:
            tile_hw = self.tile
        else:  # a dynamic model never needs a tile larger than the frame
            tile_hw = (_round_up(min(self.tile[0], height), m), _round_up(min(self.tile[1], width), m))
        rows, padded_h = plan_axis(height, tile_hw[0], min(self.overlap, tile_hw[0] - 1))
        cols, padded_w = plan_axis(width, tile_hw[1], min(self.overlap, tile_hw[1] - 1))
        return TilePlan((height, width), tile_hw, (padded_h, padded_w), rows, cols, per_call)

    def split(self, image: np.ndarray) -> tuple[np.ndarray, TilePlan]:
        """H x W x 3 uint8 RGB -> the model input batch (one entry per tile) and its plan. Under a memory
        budget (``plan.per_call``) the tiles stay uint8 and :meth:`model_input` converts them call by call."""
        h, w = image.shape[:2]
        plan = self.plan(h, w)
        ph, pw = plan.padded_hw
        if (ph, pw) != (h, w):
            image = np.pad(image, ((0, ph - h), (0, pw - w), (0, 0)), mode="edge")
        th, tw = plan.tile_hw
        if plan.count == 1:
            tiles = image[None, :th, :tw]
        else:
            tiles = np.stack(
                [image[r.start : r.start + th, c.start : c.start + tw] for r in plan.rows for c in plan.cols]
            )
        return (tiles if plan.per_call is not None else to_model(tiles, self.spec)), plan

    def model_input(self, tiles: np.ndarray, plan: TilePlan) -> np.ndarray:
        return to_model(tiles, self.spec) if plan.per_call is not None else tiles

    def stitch(
        self, outputs: np.ndarray, plan: TilePlan, frame: np.ndarray | None = None, first: int = 0, bgr: bool = False
    ) -> np.ndarray:
        """Model outputs for ``plan``'s tiles ``first ..`` -> the sH x sW x 3 uint8 RGB frame (BGR with
        ``bgr``; ``frame``, filled in place, when tiles come in several calls)."""
        s = self.spec.scale
        h, w = plan.frame_hw
        if plan.count == 1:
            return to_pixels(outputs[0, :, : h * s, : w * s], self.spec, bgr)
        if frame is None:
            frame = np.empty((h * s, w * s, 3), np.uint8)
        spans = [(r, c) for r in plan.rows for c in plan.cols][first : first + outputs.shape[0]]
        for k, (r, c) in enumerate(spans):
            y0, y1 = (r.own_start - r.start) * s, (r.own_end - r.start) * s
            x0, x1 = (c.own_start - c.start) * s, (c.own_end - c.start) * s
            frame[r.own_start * s : r.own_end * s, c.own_start * s : c.own_end * s] = to_pixels(
                outputs[k, :, y0:y1, x0:x1], self.spec, bgr
            )
        return frame
