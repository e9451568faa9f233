"""Benchmark evaluation under the standard SR protocol (docs/background.md, Quality protocol).

For each HR image: crop to a multiple of the scale, make LR with MATLAB-compatible bicubic,
upscale, round to uint8, score PSNR/SSIM on Y with ``scale`` pixels shaved off each border.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edgesr.degrade.spec import Degradation
from edgesr.errors import InputError, ModelError
from edgesr.io.images import list_images, read_rgb
from edgesr.lazy import require
from edgesr.log import logger
from edgesr.quality.imresize import imresize
from edgesr.quality.metrics import SSIM_WINDOW, psnr_y, ssim_y
from edgesr.texttable import align

# lr (HxWx3 uint8 RGB) -> sr (sH x sW x 3, uint8 or float in [0, 255] units)
UpscaleFn = Callable[[np.ndarray], np.ndarray]
# The accuracy budget of a lower precision: the largest mean Y-PSNR drop (dB) against the FP32 model that
# quantize fits, and build and validate accept, when none is given.
DEFAULT_MAX_DROP_DB = 0.1


def prepare(hr: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Crop ``hr`` (HxWx3 uint8) to a multiple of ``scale`` and make its LR: ``(lr, hr_cropped)``."""
    if scale < 1:
        raise InputError(f"scale must be a positive integer, got {scale}")
    h, w = (n - n % scale for n in hr.shape[:2])
    if h == 0 or w == 0:
        raise InputError(f"a {hr.shape[0]}x{hr.shape[1]} (HxW) image is smaller than the x{scale} scale")
    hr = hr[:h, :w]
    # An explicit output size keeps MATLAB's per-dimension scale exactly 1/scale while
    # protecting the LR size from ceil() on a product that rounded up.
    lr = imresize(hr, output_shape=(h // scale, w // scale))
    return lr, hr


def min_hr_side(scale: int, shave: int) -> int:
    """Smallest HR side that leaves a full SSIM window after cropping and shaving."""
    return math.ceil((2 * shave + SSIM_WINDOW) / scale) * scale


def read_pair(path: Path, scale: int, smallest: int, folder, task: str) -> tuple[np.ndarray, np.ndarray]:
    """``(lr, hr)`` of the HR image at ``path`` (see :func:`prepare`), refusing one with a side under
    ``smallest``; ``task`` names what needs that size."""
    hr = read_rgb(path)
    if min(hr.shape[:2]) < smallest:
        raise InputError(
            f"{path} is {hr.shape[0]}x{hr.shape[1]} (HxW); x{scale} {task} needs "
            f"at least {smallest}x{smallest}; remove it from {folder}"
        )
    return prepare(hr, scale)


@dataclass
class ImageScore:
    name: str
    psnr: float
    ssim: float
    height: int  # of the cropped HR image the scores were computed on
    width: int


@dataclass
class EvalResult:
    """Scores of one image folder at one scale."""

    folder: str
    scale: int
    shave: int
    images: list[ImageScore] = field(default_factory=list)
    degradation: str = "clean"  # the spec the LR was made with (edgesr.degrade)

    @property
    def name(self) -> str:
        return Path(self.folder).name

    @property
    def mean_psnr(self) -> float:
        return float(np.mean([s.psnr for s in self.images]))

    @property
    def mean_ssim(self) -> float:
        return float(np.mean([s.ssim for s in self.images]))

    def to_dict(self) -> dict:
        # JSON has no infinity; identical images (infinite PSNR) are written as the string "inf".
        def num(x: float) -> float | str:
            return x if math.isfinite(x) else str(x)

        return {
            "name": self.name,
            "folder": self.folder,
            "scale": self.scale,
            "shave": self.shave,
            "degradation": self.degradation,
            "mean_psnr": num(self.mean_psnr),
            "mean_ssim": self.mean_ssim,
            "images": [{**asdict(s), "psnr": num(s.psnr)} for s in self.images],
        }

    def table(self) -> str:
        """Per-image scores and the mean as aligned text."""
        rows = [("image", "HxW", "PSNR-Y", "SSIM-Y")]
        rows += [(s.name, f"{s.height}x{s.width}", f"{s.psnr:.2f}", f"{s.ssim:.4f}") for s in self.images]
        rows.append((f"mean ({len(self.images)})", "", f"{self.mean_psnr:.2f}", f"{self.mean_ssim:.4f}"))
        lines = align(rows, right=(2, 3)).split("\n")
        lines.insert(-1, "-" * len(lines[0]))
        return "\n".join(lines)


def _as_uint8(sr: np.ndarray) -> np.ndarray:
    if sr.dtype == np.uint8:
        return sr
    return np.clip(np.round(sr), 0, 255).astype(np.uint8)


def evaluate(
    upscale_fn: UpscaleFn,
    folder: str | os.PathLike,
    scale: int,
    shave: int | None = None,
    degradation: Degradation | None = None,
    seed: int = 0,
) -> EvalResult:
    """Score ``upscale_fn`` on every image in ``folder`` at ``scale``; ``shave`` defaults to ``scale``.

    With ``degradation`` the LR is the HR degraded that way (:func:`edgesr.degrade.degrade`),
    its random draws seeded by the image's name and ``seed``: every model scored on the same
    folder and degradation sees the same LR, bit for bit.
    """
    shave = scale if shave is None else shave
    paths = list_images(folder)
    smallest = min_hr_side(scale, shave)
    result = EvalResult(
        folder=str(folder),
        scale=scale,
        shave=shave,
        degradation=degradation.text() if degradation is not None else "clean",
    )
    tqdm = require("tqdm").tqdm
    for path in tqdm(paths, desc=Path(folder).name, unit="img", leave=False, disable=None):
        lr, hr = read_pair(path, scale, smallest, folder, f"evaluation shaving {shave} px")
        if degradation is not None and not (degradation.is_clean and degradation.down == "bicubic"):
            # imported here: edgesr.degrade reads this package's imresize
            from edgesr.degrade.apply import degrade, image_seed

            lr = degrade(hr, degradation, scale, image_seed(path.name, seed))
        sr = _as_uint8(upscale_fn(lr))
        if sr.shape != hr.shape:
            raise ModelError(
                f"{path.name}: the upscaler returned shape {sr.shape} for an LR of shape {lr.shape}, "
                f"expected {hr.shape}; check that the model is x{scale} RGB"
            )
        score = ImageScore(path.stem, psnr_y(sr, hr, shave), ssim_y(sr, hr, shave), hr.shape[0], hr.shape[1])
        logger.debug("%s: %.2f dB, SSIM %.4f", path.name, score.psnr, score.ssim)
        result.images.append(score)
    return result
