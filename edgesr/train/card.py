"""Model cards: what a shipped model is, how it was trained, and its quality, measured on the file that ships.

A card is built from a training run's ``summary.json`` (the recipe and the compute it took)
and from an evaluation of the exported ONNX file itself under the benchmark protocol, next to
bicubic on the same images, so the numbers describe exactly what a user runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from edgesr import __version__, fileio
from edgesr.errors import InputError
from edgesr.log import stage

CARD_FORMAT = "edgesr-model-card-1"
MACS_AT = (720, 1280)  # MACs are quoted for a 1280x720 output, the stream size edgesr is tuned for


def training_recipe(summary: dict) -> dict:
    """The recipe and budget of a run, from its ``summary.json``, without machine-specific paths."""
    cfg = summary.get("config", {})
    stages = [
        {
            k: r[k]
            for k in (
                "patch",
                "iterations",
                "peak_lr",
                "lr_pixels",
                "train_seconds",
                "cpu_seconds",
                "val_psnr",
                "ended_by",
            )
        }
        for r in summary.get("stages", [])
    ]
    data = summary.get("data", {})
    return {
        "recipe": (
            "multiscale hot start: each stage starts from the previous stage's EMA weights"
            if len(stages) > 1
            else "single stage"
        ),
        "stages": stages,
        "loss": "L1",
        "optimizer": "Adam, cosine decay per stage",
        "batch": cfg.get("batch"),
        "lr": cfg.get("lr"),
        "min_lr": cfg.get("min_lr"),
        "stage_lr_decay": cfg.get("stage_lr_decay"),
        "ema": cfg.get("ema"),
        "seed": cfg.get("seed"),
        "augmentation": "flips and 90-degree rotations",
        "init": Path(cfg["init"]).name if cfg.get("init") else None,
        "degrade": cfg.get("degrade"),
        "budget": {
            "time": cfg.get("time"),
            "iterations": cfg.get("iterations"),
            "budget_pixels": cfg.get("budget_pixels"),
        },
        "compute": summary.get("compute"),
        "device": summary.get("device"),
        "torch": summary.get("torch"),
        "data": {
            "folders": [Path(f).name for f in data.get("folders", [])],
            "images": data.get("images"),
            "lr_method": data.get("lr_method"),
            "fingerprint": data.get("fingerprint"),
        },
    }


def _without_paths(text: str, summary: dict) -> str:
    """``text`` with the run's data folders named without this machine's paths."""
    for folder in summary.get("data", {}).get("folders", []):
        text = text.replace(folder, Path(folder).name)
    return text


def measure(onnx_path: str | os.PathLike, folders: list[str | os.PathLike], scale: int) -> dict:
    """Y-PSNR/SSIM of the ONNX file and of bicubic on each folder, keyed by folder name."""
    from edgesr.quality import evaluate
    from edgesr.quality.upscalers import Bicubic, OnnxUpscaler

    model, bicubic = OnnxUpscaler(onnx_path), Bicubic(scale)
    out = {}
    for folder in folders:
        name = Path(folder).name
        with stage(f"measure {Path(onnx_path).name} on {name}") as info:
            got, base = evaluate(model, folder, scale), evaluate(bicubic, folder, scale)
            info["outcome"] = f"{got.mean_psnr:.2f} dB (bicubic {base.mean_psnr:.2f} dB)"
        out[name] = {
            "psnr": round(got.mean_psnr, 4),
            "ssim": round(got.mean_ssim, 5),
            "bicubic_psnr": round(base.mean_psnr, 4),
            "bicubic_ssim": round(base.mean_ssim, 5),
            "gain_db": round(got.mean_psnr - base.mean_psnr, 4),
            "images": len(got.images),
        }
    return out


def measure_grid(
    onnx_path: str | os.PathLike, against: list[str], folders: list[str | os.PathLike], scale: int
) -> dict:
    """The quality grid on each folder: bicubic, the ``against`` models (shipped names or .onnx files)
    and the ONNX file, keyed by folder name (:mod:`edgesr.quality.grid`)."""
    from edgesr import shipped
    from edgesr.degrade import GRID, expand
    from edgesr.quality.grid import BASELINE, run_grid
    from edgesr.quality.upscalers import Bicubic, OnnxUpscaler

    names = {m.name: m.onnx for m in shipped.shipped()}
    rows = [(BASELINE, Bicubic(scale))]
    rows += [(a, OnnxUpscaler(names.get(a, a))) for a in against]
    rows.append((Path(onnx_path).stem, OnnxUpscaler(onnx_path)))
    out = {}
    for folder in folders:
        with stage(f"quality grid of {Path(onnx_path).name} on {Path(folder).name}") as info:
            grid = run_grid(rows, str(folder), scale, expand(GRID))
            info["outcome"] = f"{len(rows)} models x {len(GRID)} degradations"
        out[Path(folder).name] = {k: v for k, v in grid.to_dict().items() if k != "folder"}
    return out


def encoder_study(net, folders: list[str | os.PathLike], svg_path: Path) -> dict:
    """The probe of a degradation encoder beside an untrained one of its shape; the projection plot to ``svg_path``."""
    from edgesr import models
    from edgesr.lazy import require
    from edgesr.report.scatter import projection_svg
    from edgesr.train.probe import BLURS, JPEGS, NOISES, probe

    torch = require("torch")
    scale = int(net.scale)
    with stage("probing the degradation encoder on held-out images") as info:
        trained = probe(net.encoder.eval(), folders, scale)
        torch.manual_seed(0)
        untrained = probe(models.create(net.arch, scale=scale, **_encoder_settings(net)).encoder.eval(), folders, scale)
        info["outcome"] = (
            f"blur {trained.blur_accuracy:.0%}, noise {trained.noise_accuracy:.0%}, "
            f"compression {trained.compression_accuracy:.0%}"
        )
    fileio.write_text(
        svg_path,
        projection_svg(
            trained.points, f"{net.arch} degradation representation, held-out patches (2 principal components)"
        ),
    )
    return {
        "protocol": f"held-out images x blur sigma {list(BLURS)} x noise sigma {list(NOISES)} x JPEG quality "
        f"{list(JPEGS)}, LR patches on the 8x8 grid; "
        "nearest class centroid fitted on half the images, tested on the other half",
        "trained": trained.to_dict(),
        "untrained_reference": untrained.to_dict(),
        "projection": svg_path.name,
    }


def _encoder_settings(net) -> dict:
    keys = (
        "rep",
        "encoder_channels",
        "channels",
        "convs",
        "modulated",
        "highpass",
        "encoder_norm",
        "blocks",
        "spatial",
    )
    return {k: getattr(net.config, k) for k in keys if hasattr(net.config, k)}


def ship(
    weights: str | os.PathLike,
    arch: str | None,
    out_dir: str | os.PathLike,
    name: str,
    *,
    eval_folders: list[str | os.PathLike],
    summary: str | os.PathLike | None = None,
    default: bool = False,
    studies: dict | None = None,
    notes: list[str] | None = None,
    grid_against: list[str] | None = None,
) -> Path:
    """Write ``<name>.onnx``, ``<name>.pth`` (weights only) and the card ``<name>.json`` into ``out_dir``.

    ``summary`` is the training run's summary.json (default: the one beside ``weights``).
    ``grid_against`` (a list, possibly empty) adds the quality grid on the evaluation folders,
    with those models beside this one. Returns the card's path.
    """
    from edgesr import models
    from edgesr.export import export_onnx
    from edgesr.lazy import require

    torch = require("torch")
    if not eval_folders:
        raise InputError("a model card needs at least one evaluation folder (--eval DIR)")
    run = _read_summary(weights, summary)
    net = models.deployed(models.load(arch, weights))
    out = Path(out_dir)
    onnx_path, pth_path, card_path = (out / f"{name}{ext}" for ext in (".onnx", ".pth", ".json"))
    export_onnx(net, onnx_path)
    with fileio.atomic_path(pth_path) as tmp:
        torch.save(
            {
                k: v.detach().cpu().float() if v.is_floating_point() else v.detach().cpu()
                for k, v in net.state_dict().items()
            },
            tmp,
        )
    card = {
        "format": CARD_FORMAT,
        "name": name,
        "default": default,
        "arch": net.arch,
        "scale": int(net.scale),
        "params": models.count_params(net),
        "macs_720p": models.count_macs(net, MACS_AT),
        "input": f"Nx3xHxW RGB in [0, {net.value_range:g}], any H and W",
        "training": training_recipe(run),
        "evaluation": {
            "protocol": "Y channel (BT.601), LR by MATLAB-compatible bicubic, scale pixels shaved at each border",
            "measured_on": f"{onnx_path.name} with ONNX Runtime (CPU)",
            "datasets": measure(onnx_path, eval_folders, int(net.scale)),
        },
        "studies": studies or {},
        **_optional_studies(net, onnx_path, eval_folders, grid_against, out / f"{name}.projection.svg"),
        "notes": [_without_paths(n, run) for n in run.get("notes", [])] + list(notes or []),
        "files": {p.name: {"sha256": fileio.sha256(p), "bytes": p.stat().st_size} for p in (onnx_path, pth_path)},
        "edgesr_version": __version__,
    }
    fileio.write_json(card_path, card)
    if default:
        _clear_other_defaults(out, card_path)
    return card_path


def _read_summary(weights: str | os.PathLike, summary: str | os.PathLike | None) -> dict:
    """The training run's summary.json: ``summary``, else the one beside ``weights``."""
    summary_path = Path(summary) if summary is not None else Path(weights).parent / "summary.json"
    if not summary_path.is_file():
        raise InputError(f"no training summary at {summary_path}; pass --summary RUN/summary.json")
    return json.loads(summary_path.read_text())


def _optional_studies(
    net, onnx_path: Path, eval_folders: list[str | os.PathLike], grid_against: list[str] | None, svg_path: Path
) -> dict:
    """The quality grid when ``grid_against`` is given; the encoder study when the model has a degradation encoder."""
    studies = {}
    if grid_against is not None:
        studies["degradation_grid"] = {
            "protocol": "edgesr eval --degrade grid: each column's LR made by that degradation "
            "(docs/degradations.md), seeded by image name; Y-PSNR, gain over bicubic of the same LR",
            "datasets": measure_grid(onnx_path, grid_against, eval_folders, int(net.scale)),
        }
    if hasattr(net, "encoder"):
        studies["degradation_encoder"] = encoder_study(net, eval_folders, svg_path)
    return studies


def _clear_other_defaults(folder: Path, keep: Path) -> None:
    """One default per folder: the newly shipped default takes over from any other card's."""
    from edgesr.log import logger

    for other in sorted(folder.glob("*.json")):
        if other == keep:
            continue
        try:
            data = json.loads(other.read_text())
        except (OSError, ValueError):
            continue
        if data.get("format") == CARD_FORMAT and data.get("default"):
            data["default"] = False
            fileio.write_json(other, data)
            logger.info("%s is no longer the default model", data.get("name", other.stem))
