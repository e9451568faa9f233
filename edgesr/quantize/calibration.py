"""Calibration and validation images: real pictures, cut at the engine's input shape and fed
through exactly the runtime's pre-processing (:func:`edgesr.io.images.to_nchw`).

Calibrating on random data is never done. Three sources exist:

- the default set, generated on any fresh install from the photographs shipped in
  ``edgesr/data/samples`` (described by ``calibration/default.json``, which
  :func:`default_manifest` reproduces and a test keeps equal);
- a folder (or glob) of the user's own frames: they are used as the model will see them;
- a manifest ``.json`` naming images relative to itself, with the same fields as the default.

A validation set (for the accuracy budget) is a list of HR images scored under the standard
protocol: LR by MATLAB-compatible bicubic, Y-PSNR against the HR image.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgesr import fileio
from edgesr.degrade.apply import degrade, image_seed
from edgesr.degrade.spec import expand
from edgesr.errors import InputError
from edgesr.io import images
from edgesr.log import logger
from edgesr.quantize.budget import hard_content

# Calibration patch for models whose H and W are dynamic (LR pixels). Every model in the zoo
# accepts it (ESA needs 15, SAFMN 16) and it fits the LR view of every shipped sample.
# A model with a fixed input is calibrated and validated on whole inputs; larger fixed inputs are refused
# (4K frames fit, a declared 100000x100000 does not).
MAX_FIXED_PIXELS = 3840 * 2160
DEFAULT_PATCH = (64, 64)
DEFAULT_COUNT = 64
DEFAULT_SEED = 0
# Validation images are centre-cropped to at most this HR side, and at most VALIDATION_COUNT
# of them (spread over the folder) are used, so the budget search stays fast.
VALIDATION_MAX_SIDE = 256
VALIDATION_COUNT = 16
DEFAULT_VALIDATION = "package:edgesr/data/samples + drawn screen content and shapes"


@dataclass(frozen=True)
class CalibrationSpec:
    """Where calibration images come from and how patches are cut from them.

    ``views`` lists how each image is presented: ``"native"`` (as a frame the camera delivers)
    and/or ``"lr"`` (downscaled by the model's scale with MATLAB-compatible bicubic, like the
    LR of the standard evaluation protocol). ``patch`` None means whole frames (all images
    must then share one size, as an engine input has one shape).
    """

    images: tuple[Path, ...]
    views: tuple[str, ...] = ("native",)
    patch: tuple[int, int] | None = DEFAULT_PATCH
    count: int = DEFAULT_COUNT
    seed: int = DEFAULT_SEED
    name: str = "user"

    def describe(self) -> dict:
        return {
            "name": self.name,
            "images": len(self.images),
            "views": list(self.views),
            "patch": list(self.patch) if self.patch else "whole frames",
            "count": self.count,
            "seed": self.seed,
            "first_image": str(self.images[0]) if self.images else None,
        }


# -- the default set --------------------------------------------------------------------------


def default_manifest() -> dict:
    """The manifest of the default calibration set (what ``calibration/default.json`` holds)."""
    paths = images.sample_images()
    return {
        "name": "edgesr-samples",
        "description": "Default INT8 calibration and validation set, generated on any install from the "
        "photographs shipped in edgesr/data/samples (see SOURCES.md there). Each photo is "
        "used twice: as a native frame and as the x<scale> LR made by MATLAB-compatible "
        "bicubic, so the statistics cover both camera frames and benchmark-style inputs. "
        "Patches are cut at the engine input shape (64x64 LR for dynamic-shape models) at "
        "seeded random positions and pre-processed exactly as the runtime does.",
        "source": "package:edgesr/data/samples",
        "images": [{"file": p.name, "sha256": fileio.sha256(p)} for p in paths],
        "views": ["native", "lr"],
        "patch": list(DEFAULT_PATCH),
        "count": DEFAULT_COUNT,
        "seed": DEFAULT_SEED,
        "validation": {
            "images": "same photographs (HR)",
            "protocol": "HR centre crop of at most "
            f"{VALIDATION_MAX_SIDE} px, cropped to a multiple of the scale; LR by MATLAB bicubic; "
            "Y-PSNR with <scale> px shaved",
            "note": "overlaps the calibration images; pass a held-out folder (--val) for an independent budget check",
        },
    }


def default_spec() -> CalibrationSpec:
    m = default_manifest()
    return CalibrationSpec(
        images=tuple(images.sample_images()),
        views=tuple(m["views"]),
        patch=tuple(m["patch"]),
        count=m["count"],
        seed=m["seed"],
        name=m["name"],
    )


def spec_from(
    source: str | os.PathLike | CalibrationSpec | None,
    *,
    patch: tuple[int, int] | None = None,
    count: int | None = None,
) -> CalibrationSpec:
    """A spec from None (the default set), an image folder / glob / file, or a manifest ``.json``."""
    if isinstance(source, CalibrationSpec):
        spec = source
    elif source is None:
        spec = default_spec()
    elif str(source).lower().endswith(".json"):
        spec = _spec_from_manifest(Path(source))
    else:
        spec = CalibrationSpec(images=tuple(_list(source)), name=str(source))
    if patch is not None or count is not None:
        spec = CalibrationSpec(
            images=spec.images,
            views=spec.views,
            patch=patch if patch is not None else spec.patch,
            count=count if count is not None else spec.count,
            seed=spec.seed,
            name=spec.name,
        )
    if spec.count < 1:
        raise InputError(f"calibration count must be at least 1, got {spec.count}")
    return spec


def _spec_from_manifest(path: Path) -> CalibrationSpec:
    if not path.is_file():
        raise InputError(f"calibration manifest {path} does not exist; check the path")
    try:
        m = json.loads(path.read_text())
        source = m.get("source", "")
        if source == "package:edgesr/data/samples":
            paths = images.sample_images()
        else:
            root = path.parent / source if source else path.parent
            paths = [root / e["file"] for e in m["images"]]
        views = tuple(m.get("views", ["native"]))
        patch = m.get("patch")
        spec = CalibrationSpec(
            images=tuple(paths),
            views=views,
            patch=tuple(patch) if patch else None,
            count=int(m.get("count", DEFAULT_COUNT)),
            seed=int(m.get("seed", DEFAULT_SEED)),
            name=m.get("name", path.stem),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"calibration manifest {path} is malformed ({exc}); see calibration/default.json") from None
    for v in spec.views:
        if v not in ("native", "lr"):
            raise InputError(f"calibration manifest {path}: unknown view '{v}'; use 'native' and/or 'lr'")
    for p, e in zip(spec.images, m.get("images", [])):
        if e.get("sha256") and p.is_file() and fileio.sha256(p) != e["sha256"]:
            raise InputError(f"{p} does not match the sha256 in {path}; the calibration set changed")
    return spec


def _list(source) -> list[Path]:
    try:
        return images.list_images(source)
    except PermissionError as exc:
        raise InputError(f"cannot read calibration folder {source} ({exc.strerror}); fix its permissions") from None


# -- loading -----------------------------------------------------------------------------------


@dataclass
class CalibrationData:
    """Pre-processed calibration inputs, each ``1 x C x H x W`` float32, plus where they came from."""

    arrays: list[np.ndarray]
    sources: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    spec: CalibrationSpec | None = None

    def __len__(self) -> int:
        return len(self.arrays)

    def __iter__(self):
        return iter(self.arrays)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.arrays[0].shape)

    def batches(self, batch: int) -> list[np.ndarray]:
        return [np.concatenate(self.arrays[i : i + batch]) for i in range(0, len(self.arrays), batch)]


def load_calibration(
    spec: CalibrationSpec,
    *,
    scale: int,
    channels: int = 3,
    value_range: float = 1.0,
) -> CalibrationData:
    """Read, view and cut ``spec``'s images into ``spec.count`` inputs at ``spec.patch``.

    Unreadable images and images with transparency are refused (naming the file); grayscale
    and 16-bit ones are converted with a warning (by :func:`edgesr.io.images.read_rgb`).
    Views smaller than the patch are skipped with a warning; if nothing is left, the error
    says which size was needed.
    """
    from edgesr.quality.imresize import imresize

    if not spec.images:
        raise InputError("the calibration set names no images; give a folder of real frames")
    rng = np.random.default_rng(spec.seed)
    # Read at most `count` images, spread over the (sorted) list, so a folder of 10,000 frames is cheap.
    paths = list(spec.images)
    if len(paths) > spec.count:
        pick = np.linspace(0, len(paths) - 1, spec.count).round().astype(int)
        paths = [paths[i] for i in pick]
    views: list[tuple[str, np.ndarray]] = []
    skipped: list[str] = []
    for p in paths:
        rgb = images.read_rgb(p)
        for v in spec.views:
            img = rgb if v == "native" else _lr_view(rgb, scale, imresize)
            if img is None:
                skipped.append(f"{Path(p).name} ({v}: smaller than x{scale})")
                continue
            ph, pw = spec.patch if spec.patch else img.shape[:2]
            if img.shape[0] < ph or img.shape[1] < pw:
                skipped.append(f"{Path(p).name} ({v} {img.shape[0]}x{img.shape[1]} < {ph}x{pw})")
                continue
            views.append((f"{Path(p).name}:{v}", img))
    if skipped:
        logger.warning(
            "calibration: skipped %d image view(s) smaller than the input shape: %s",
            len(skipped),
            ", ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else ""),
        )
    if not views:
        need = "x".join(map(str, spec.patch)) if spec.patch else "one common size"
        raise InputError(
            f"no calibration image is at least {need} (HxW) in {spec.name}; give larger images "
            "or a smaller input shape (--input-shape)"
        )
    if spec.patch is None:
        sizes = {img.shape[:2] for _, img in views}
        if len(sizes) > 1:
            raise InputError(
                f"whole-frame calibration needs one frame size, {spec.name} has {sorted(sizes)}; "
                "pass a patch size (--input-shape) or frames of one size"
            )
    per_view = math.ceil(spec.count / len(views))
    arrays, sources = [], []
    for name, img in views:
        ph, pw = spec.patch if spec.patch else img.shape[:2]
        for _ in range(per_view):
            if len(arrays) == spec.count:
                break
            y = int(rng.integers(0, img.shape[0] - ph + 1))
            x = int(rng.integers(0, img.shape[1] - pw + 1))
            arrays.append(images.to_nchw(img[y : y + ph, x : x + pw], channels=channels, value_range=value_range))
            sources.append(f"{name}@{y},{x}")
    return CalibrationData(arrays=arrays, sources=sources, skipped=skipped, spec=spec)


def _lr_view(rgb: np.ndarray, scale: int, imresize) -> np.ndarray | None:
    h, w = (n - n % scale for n in rgb.shape[:2])
    if h < scale or w < scale:
        return None
    return imresize(rgb[:h, :w], output_shape=(h // scale, w // scale))


# -- validation --------------------------------------------------------------------------------


@dataclass
class ValidationSet:
    """HR images cropped for the protocol, with their LR inputs: the budget's yardstick."""

    pairs: list[tuple[np.ndarray, np.ndarray]]  # (lr uint8, hr uint8)
    names: list[str]
    scale: int
    source: str

    def __len__(self) -> int:
        return len(self.pairs)


def load_validation(
    source: str | os.PathLike | None,
    *,
    scale: int,
    max_side: int = VALIDATION_MAX_SIDE,
    count: int = VALIDATION_COUNT,
    min_lr: int = 16,
    degradations: Sequence[str] = (),
) -> ValidationSet:
    """Up to ``count`` HR images from ``source``, centre-cropped to ``max_side``.

    ``source`` None is the default set: the shipped photos and the drawn screen content and
    sharp graphics of :mod:`edgesr.quantize.budget.hard_content`, the content INT8 hurts most, so a
    budget met here holds on such images too. With ``degradations`` (specs or presets,
    :mod:`edgesr.degrade`), every image gives one pair per degradation, its LR degraded that way
    and seeded by the image's name: the budget is then measured on the content the model will see.
    """
    from edgesr.quality.protocol import prepare

    side = max_side - max_side % scale
    pairs, names, small = [], [], []
    for name, hr in _validation_images(source, count):
        hr = hr[(hr.shape[0] - min(side, hr.shape[0])) // 2 :][:side, (hr.shape[1] - min(side, hr.shape[1])) // 2 :][
            :, :side
        ]
        if min(hr.shape[:2]) < max(min_lr * scale, 2 * scale + 11):
            small.append(name)
            continue
        lr, hr = prepare(hr, scale)
        if not degradations:
            pairs.append((lr, hr))
            names.append(name)
        for d in expand(degradations):
            pairs.append((degrade(hr, d, scale, image_seed(name)), hr))
            names.append(f"{name} [{d.label()}]")
    if small:
        logger.warning("validation: skipped %d image(s) too small for x%d: %s", len(small), scale, ", ".join(small))
    if not pairs:
        raise InputError(
            f"no validation image in {source or 'the shipped samples'} is large enough for x{scale} "
            f"(at least {min_lr * scale} px a side)"
        )
    where = str(source) if source is not None else DEFAULT_VALIDATION
    if degradations:
        where += " degraded: " + "; ".join(d.text() for d in expand(degradations))
    return ValidationSet(pairs=pairs, names=names, scale=scale, source=where)


def _validation_images(source: str | os.PathLike | None, count: int):
    """(name, HR image) of the validation set, read as they are needed."""
    paths = images.sample_images() if source is None else _list(source)
    if len(paths) > count:
        pick = np.linspace(0, len(paths) - 1, count).round().astype(int)
        paths = [paths[i] for i in pick]
    for p in paths:
        yield Path(p).name, images.read_rgb(p)
    if source is None:
        for name, draw in hard_content.IMAGES.items():
            yield name, draw()
