"""The validation stage: a reference model and its candidates on HR image folders -> a report.

Every variant upscales the same LR image before the next image is read, so each image is
prepared once (docs/background.md, Quality protocol) and crops can compare all variants at one spot.
Latency is measured afterwards in the same process, interleaved, on one fixed-size frame.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from edgesr import __version__
from edgesr.errors import InputError, ModelError
from edgesr.fileio import check_writable_dir
from edgesr.io.images import fit, list_images, read_rgb
from edgesr.lazy import require
from edgesr.log import logger, stage
from edgesr.quality import prepare, psnr_y, ssim_y
from edgesr.quality.protocol import (
    DEFAULT_MAX_DROP_DB,
    EvalResult,
    ImageScore,
    min_hr_side,
    read_pair,
)
from edgesr.quality.upscalers import Bicubic
from edgesr.report import artifact_info
from edgesr.report.crops import DIFF_GAIN, choose_crop, diff_tile, tile
from edgesr.report.files import write_report
from edgesr.report.latency import measure
from edgesr.report.results import (
    BASELINE,
    CANDIDATE,
    REFERENCE,
    DatasetReport,
    ImageCrops,
    ValidationReport,
    Variant,
)
from edgesr.runtime.runners import RunnerOptions, open_runner

Upscale = Callable[[np.ndarray], np.ndarray]


@dataclass
class ValidateOptions:
    """Settings of :class:`Validate`.

    ``reference`` None means the first artifact. ``scale`` is for artifacts that do not record
    theirs (the runner infers it otherwise, and says so). ``repeats`` 0 skips the latency
    measurement. ``latency_size`` is the LR frame (height, width) every variant is timed on;
    180x320 upscales to 720p at x4.
    """

    reference: str | os.PathLike | None = None
    scale: int | None = None
    max_drop: float = DEFAULT_MAX_DROP_DB
    out_dir: str | os.PathLike | None = None
    crops: bool = True
    repeats: int = 10
    warmup: int = 2
    latency_size: tuple[int, int] = (180, 320)
    degradations: tuple[str, ...] = ()  # score each folder on LR degraded these ways too (edgesr.degrade)


class Validate:
    """``Validate(artifacts, data_dirs, options)()`` runs the stage; see :func:`validate`."""

    def __init__(
        self,
        artifacts: Sequence[str | os.PathLike],
        data_dirs: Sequence[str | os.PathLike],
        options: ValidateOptions | None = None,
    ):
        self.artifacts = [Path(a) for a in artifacts]
        self.data_dirs = [Path(d) for d in data_dirs]
        self.options = options if options is not None else ValidateOptions()

    def __call__(self) -> ValidationReport:
        opts = self.options
        # Everything the user can get wrong without running a model is checked first.
        if not opts.max_drop >= 0:
            raise InputError(f"the drop budget must be >= 0 dB, got {opts.max_drop}")
        if opts.repeats < 0 or opts.warmup < 0:
            raise InputError("latency repeats and warm-up runs must be >= 0")
        if len(opts.latency_size) != 2 or min(opts.latency_size) < 1:
            raise InputError(f"the latency frame must be two positive sizes (height, width), got {opts.latency_size}")
        paths = _ordered_artifacts(self.artifacts, opts.reference)
        if not self.data_dirs:
            raise InputError("no image folder given; pass --data DIR (repeat for several)")
        if len({d.resolve() for d in self.data_dirs}) < len(self.data_dirs):
            raise InputError("an image folder is given twice; pass each --data folder once")
        images = [list_images(d) for d in self.data_dirs]
        if opts.out_dir is not None:
            check_writable_dir(opts.out_dir)
        infos = [artifact_info.inspect(p) for p in paths]
        with contextlib.ExitStack() as stack:
            runners = [stack.enter_context(open_runner(p, RunnerOptions(scale=opts.scale))) for p in paths]
            upscalers = [artifact_info.RunnerUpscaler(r) for r in runners]
            report = self._compare(paths, infos, upscalers, images)
        if opts.out_dir is not None:
            write_report(report, opts.out_dir)
        return report

    def _compare(
        self,
        paths: list[Path],
        infos: list[artifact_info.ArtifactInfo | None],
        upscalers: list[artifact_info.RunnerUpscaler],
        images: list[list[Path]],
    ) -> ValidationReport:
        opts = self.options
        names = _unique_labels(paths)
        scale = _common_scale(names, [u.scale for u in upscalers])
        variants = [
            Variant(
                n,
                REFERENCE if i == 0 else CANDIDATE,
                info or artifact_info.from_spec(p, u.spec),
                backend=u.spec.backend,
                notes=u.spec.notes,
            )
            for i, (n, p, info, u) in enumerate(zip(names, paths, infos, upscalers))
        ]
        if variants[0].precision != "fp32":
            logger.warning(
                "the reference %s computes in %s, so drops are measured against it, not FP32",
                names[0],
                variants[0].precision,
            )
        baseline = Bicubic(scale)
        variants.append(Variant(baseline.name, BASELINE))
        runners: dict[str, Upscale] = {**dict(zip(names, upscalers)), baseline.name: baseline}
        datasets = []
        cells = [
            (label, folder, files, d)
            for label, folder, files in zip(_unique_labels(self.data_dirs), self.data_dirs, images)
            for d in _degradations(opts)
        ]
        for label, folder, files, d in cells:
            label = label if d is None else f"{label} [{d.label()}]"
            with stage(f"validate {len(names)} models x{scale} on {label}") as info:
                data = _score_folder(label, folder, files, variants, runners, scale, opts.crops, d)
                info["outcome"] = ", ".join(
                    f"{v.name} {data.drop(v.name):+.3f} dB" for v in variants if v.role == CANDIDATE
                )
            datasets.append(data)
        latency_input = None
        if opts.repeats > 0:
            # Real content at a deployment-like size: the first image's LR, cropped or enlarged to fit.
            frame = fit(prepare(read_rgb(images[0][0]), scale)[0], *opts.latency_size)
            _time(variants, dict(zip(names, upscalers)), frame, opts)
            latency_input = (frame.shape[0], frame.shape[1])
        return ValidationReport(
            variants,
            datasets,
            scale,
            scale,
            opts.max_drop,
            latency_input,
            datetime.now(timezone.utc).isoformat(timespec="seconds"),
            __version__,
        )


def validate(
    artifacts: Sequence[str | os.PathLike], data_dirs: Sequence[str | os.PathLike], **options
) -> ValidationReport:
    """Compare ``artifacts`` (the first is the reference) on ``data_dirs``; keyword arguments are
    :class:`ValidateOptions` fields. With ``out_dir`` the HTML, JSON and Markdown reports are written."""
    return Validate(artifacts, data_dirs, ValidateOptions(**options))()


def _ordered_artifacts(paths: list[Path], reference: str | os.PathLike | None) -> list[Path]:
    """The reference first, then the candidates in the order given; each file once."""
    if not paths:
        raise InputError("no model artifacts given; pass the reference and at least one candidate")
    ordered = paths if reference is None else [Path(reference), *paths]
    seen: dict[Path, Path] = {}
    result = []
    for p in ordered:
        key = p.resolve()
        if key in seen:
            if reference is not None and seen[key] is ordered[0]:
                continue  # the reference may also be listed among the artifacts
            raise InputError(f"{p} is given twice; pass each artifact once")
        seen[key] = p
        result.append(p)
    if len(result) < 2:
        raise InputError(
            f"nothing to compare {result[0]} with; pass at least one candidate artifact "
            "(use 'edgesr eval' to score a single model)"
        )
    return result


def _unique_labels(paths: list[Path]) -> list[str]:
    """File or folder names, with as many parent folders as it takes to tell them apart."""
    full = [p.resolve() for p in paths]
    for depth in range(1, max(len(p.parts) for p in full) + 1):
        labels = ["/".join(p.parts[-depth:]) for p in full]
        if len(set(labels)) == len(labels):
            return labels
    return [str(p) for p in full]


def _common_scale(names: list[str], scales: list[int]) -> int:
    if len(set(scales)) > 1:
        listed = ", ".join(f"{n} x{s}" for n, s in zip(names, scales))
        raise InputError(f"the artifacts have different scales ({listed}); compare models of one scale")
    return scales[0]


def _time(variants: list[Variant], upscalers: dict[str, Upscale], frame: np.ndarray, opts: ValidateOptions) -> None:
    """Measure every artifact's latency on ``frame`` and attach it to its variant."""
    with stage(f"latency of {len(upscalers)} models on a {frame.shape[0]}x{frame.shape[1]} LR frame") as info:
        timings = measure(upscalers, frame, warmup=opts.warmup, repeats=opts.repeats)
        info["outcome"] = ", ".join(f"{n} {t.median_ms:.1f} ms" for n, t in timings.items())
    for v in variants:
        v.latency = timings.get(v.name)


def _degradations(opts: ValidateOptions) -> list:
    """None (the benchmark LR) when no degradation is asked, else each one asked."""
    if not opts.degradations:
        return [None]
    from edgesr.degrade import expand

    return expand(opts.degradations)


def _score_folder(
    label: str,
    folder: Path,
    files: list[Path],
    variants: list[Variant],
    runners: dict[str, Upscale],
    scale: int,
    crops: bool,
    degradation=None,
) -> DatasetReport:
    shave = scale
    smallest = min_hr_side(scale, shave)
    reference = variants[0].name
    data = DatasetReport(
        label, str(folder), {v.name: EvalResult(str(folder), scale, shave) for v in variants}, reference
    )
    tqdm = require("tqdm").tqdm
    for path in tqdm(files, desc=label, unit="img", leave=False, disable=None):
        lr, hr = read_pair(path, scale, smallest, folder, "validation")
        if degradation is not None:
            from edgesr.degrade.apply import degrade, image_seed

            lr = degrade(hr, degradation, scale, image_seed(path.name))
        outputs = {name: _upscale(fn, name, lr, hr.shape, path) for name, fn in runners.items()}
        for name, sr in outputs.items():
            score = ImageScore(path.stem, psnr_y(sr, hr, shave), ssim_y(sr, hr, shave), hr.shape[0], hr.shape[1])
            data.scores[name].images.append(score)
        if crops:
            data.crops.append(_image_crops(path.stem, variants, outputs, hr, shave))
    return data


def _upscale(fn: Upscale, name: str, lr: np.ndarray, shape: tuple[int, ...], path: Path) -> np.ndarray:
    sr = fn(lr)
    if sr.shape != shape:
        raise ModelError(
            f"{name} returned shape {sr.shape} for {path.name} (LR {lr.shape}), expected {shape}; "
            f"check that every artifact is an RGB model of the same scale"
        )
    return sr


def _image_crops(
    image: str, variants: list[Variant], outputs: dict[str, np.ndarray], hr: np.ndarray, shave: int
) -> ImageCrops:
    reference = variants[0]
    candidates = [v for v in variants if v.role == CANDIDATE]
    baseline = next(v for v in variants if v.role == BASELINE)
    # Columns: bicubic, reference, candidates, ground truth (the order a reader compares them in).
    crop = choose_crop(
        outputs[reference.name], [outputs[v.name] for v in candidates], hr, shave, columns=len(candidates) + 3
    )

    def scored(v: Variant, label: str):
        psnr = psnr_y(crop.of(outputs[v.name]), crop.of(hr), 0)
        return tile(label, crop, outputs[v.name], f"{psnr:.2f} dB" if math.isfinite(psnr) else "exact")

    tiles = [scored(baseline, "bicubic"), scored(reference, f"{reference.name} ({reference.precision}, reference)")]
    tiles += [scored(v, f"{v.name} ({v.precision})") for v in candidates]
    tiles.append(tile("ground truth", crop, hr))
    diffs = [
        None,
        None,
        *[
            diff_tile(f"difference from reference, x{DIFF_GAIN}", crop, outputs[v.name], outputs[reference.name])
            for v in candidates
        ],
        None,
    ]
    return ImageCrops(image, crop, tiles, diffs)
