"""``edgesr train``: train an architecture on HR image folders, stage by stage, resumably."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from edgesr.cli.args import library_type
from edgesr.errors import InputError
from edgesr.train.config import (
    DEFAULT_LR,
    POSITIVES,
    TrainConfig,
    parse_count,
    parse_duration,
    parse_setting,
    parse_sizes,
)

HELP = "train an SR architecture (L1, Adam + cosine, EMA; multiscale hot start; resumable)"
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig) if f.default is not dataclasses.MISSING}
# What --resume may change: where the run writes and runs, not what it computes.
_RESUME_OPTIONS = ("out", "device", "checkpoint_every", "cache_dir")
# Unset options stay unset, so --resume can tell what was given.
_UNSET = argparse.SUPPRESS


def _arg(parse):
    return library_type(parse, parse.__name__.removeprefix("parse_"))


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train",
        help=HELP,
        description="Train on aligned patches of HR images and their MATLAB-bicubic LR. Each of --stages trains "
        "on LR patches of that size, starting from the previous stage's EMA weights. A budget is required: "
        "--iterations (per stage) or --budget-pixels (LR pixels over the run, split evenly among stages), "
        "and/or --time. The run directory holds a resumable checkpoint (Ctrl-C saves one; running the same "
        "command again continues), the EMA weights of each stage and summary.json. Never train on Set5 or "
        "Set14.",
    )
    _add_run(p)
    _add_budget(p)
    _add_optimiser(p)
    _add_monitoring(p)
    _add_model(p)
    _add_cache_and_resume(p)
    p.set_defaults(run=run)


def _add_run(p) -> None:
    """The architecture, its training data and where the run goes."""
    p.add_argument("arch", nargs="?", metavar="ARCH", help="architecture name (see 'edgesr models')")
    p.add_argument(
        "--data",
        metavar="DIR",
        action="append",
        default=_UNSET,
        help="folder of HR training images (repeat for several)",
    )
    p.add_argument("-o", "--out", metavar="DIR", default=_UNSET, help="run directory")
    p.add_argument("--scale", type=int, default=_UNSET, help=f"upscale factor (default {_DEFAULTS['scale']})")


def _add_budget(p) -> None:
    """The stages, their batch and how long the run trains."""
    p.add_argument(
        "--stages",
        type=_arg(parse_sizes),
        metavar="P[,P...]",
        default=_UNSET,
        help=f"LR patch side of each stage, e.g. 48,64,96 (default {_DEFAULTS['stages'][0]})",
    )
    p.add_argument("--batch", type=int, default=_UNSET, help=f"patches per iteration (default {_DEFAULTS['batch']})")
    p.add_argument(
        "--iterations",
        type=_arg(parse_sizes),
        metavar="N[,N...]",
        default=_UNSET,
        help="iterations of every stage, or one count per stage",
    )
    p.add_argument(
        "--budget-pixels",
        type=_arg(parse_count),
        metavar="N",
        default=_UNSET,
        help="LR pixels over the run (e.g. 2G), split evenly among stages: equal compute for any stage list",
    )
    p.add_argument(
        "--time",
        type=_arg(parse_duration),
        metavar="DURATION",
        default=_UNSET,
        help="time in training steps over the run (e.g. 2h, 90m; validation not counted), split evenly among stages",
    )


def _add_optimiser(p) -> None:
    """The learning-rate schedule, the weight average and the seed."""
    p.add_argument(
        "--lr",
        type=float,
        default=_UNSET,
        help=f"peak learning rate (default: the architecture's own, else {DEFAULT_LR:g})",
    )
    p.add_argument(
        "--min-lr",
        type=float,
        default=_UNSET,
        help=f"learning rate at the end of a stage (default {_DEFAULTS['min_lr']:g})",
    )
    p.add_argument(
        "--stage-lr-decay",
        type=float,
        default=_UNSET,
        help=f"stage i peaks at lr * this**i (default {_DEFAULTS['stage_lr_decay']:g})",
    )
    p.add_argument("--ema", type=float, default=_UNSET, help=f"EMA decay of the weights (default {_DEFAULTS['ema']:g})")
    p.add_argument("--seed", type=int, default=_UNSET, help=f"random seed (default {_DEFAULTS['seed']})")


def _add_monitoring(p) -> None:
    """Validation, checkpoints, logging and the device the run trains on."""
    p.add_argument(
        "--val",
        metavar="DIR",
        default=_UNSET,
        help="held-out HR folder to validate on (default: the photos shipped with edgesr)",
    )
    p.add_argument(
        "--val-every",
        type=int,
        metavar="N",
        default=_UNSET,
        help="also validate every N iterations (default: at the end of each stage only)",
    )
    p.add_argument(
        "--checkpoint-every",
        type=int,
        metavar="N",
        default=_UNSET,
        help=f"iterations between checkpoints (default {_DEFAULTS['checkpoint_every']})",
    )
    p.add_argument(
        "--log-every",
        type=int,
        metavar="N",
        default=_UNSET,
        help=f"iterations per loss-log entry (default {_DEFAULTS['log_every']})",
    )
    p.add_argument("--device", default=_UNSET, help="auto (CUDA when available), cpu, cuda or cuda:N (default auto)")


def _add_model(p) -> None:
    """The architecture's settings, starting weights, degradations and encoder training."""
    p.add_argument(
        "--set",
        dest="model",
        metavar="KEY=VALUE",
        type=_arg(parse_setting),
        action="append",
        default=_UNSET,
        help="architecture hyper-parameter, e.g. act=gelu for epfdn (repeatable)",
    )
    p.add_argument(
        "--init",
        metavar="CKPT",
        default=_UNSET,
        help="start from these weights (e.g. a shipped model's .pth) instead of random ones",
    )
    p.add_argument(
        "--degrade",
        metavar="MIX|SPEC",
        default=_UNSET,
        help="make each patch's LR from its HR patch with a degradation: a training mix (real: blur, "
        "noise, JPEG drawn per patch, some clean) or a fixed spec/preset (e.g. blur=iso:1.2,noise=10); "
        "validation then scores the quality grid's degradations (default: the benchmark bicubic LR)",
    )
    p.add_argument(
        "--encoder-iterations",
        type=int,
        metavar="N",
        default=_UNSET,
        help="for an architecture with a degradation encoder (aidn-da): pre-train the encoder "
        "contrastively for N iterations before the reconstruction stages "
        f"(default {_DEFAULTS['encoder_iterations']})",
    )
    p.add_argument(
        "--contrastive",
        type=float,
        metavar="W",
        default=_UNSET,
        help="weight of the encoder's contrastive loss beside L1 in the reconstruction stages "
        f"(default {_DEFAULTS['contrastive']:g})",
    )
    p.add_argument(
        "--positives",
        choices=POSITIVES,
        default=_UNSET,
        help="a contrastive positive is another image under the same degradation (content cannot match it) "
        f"or another place of the same image (default {_DEFAULTS['positives']})",
    )


def _add_cache_and_resume(p) -> None:
    """The LR cache, the benchmark-data guard and resuming a run."""
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        default=_UNSET,
        help="where the LR of training images is cached (default ~/.cache/edgesr/train-lr)",
    )
    p.add_argument(
        "--no-cache", dest="cache", action="store_false", default=_UNSET, help="make the LR images in memory only"
    )
    p.add_argument(
        "--allow-benchmark-data",
        action="store_true",
        default=_UNSET,
        help="train on a folder named like a benchmark (Set5, Set14, ...) anyway, with a warning",
    )
    p.add_argument(
        "--resume", metavar="CKPT", type=Path, help="continue the run of this checkpoint with its own settings"
    )


def _options(args) -> dict:
    """The TrainConfig settings given on the command line, paths made absolute."""
    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(TrainConfig)
        if f.name != "arch" and hasattr(args, f.name)
    }
    for key in ("out", "val", "cache_dir", "init"):
        if key in given:
            given[key] = str(Path(given[key]).resolve())
    if "data" in given:
        given["data"] = tuple(str(Path(f).resolve()) for f in given["data"])
    if "model" in given:
        given["model"] = dict(given["model"])
    return given


def _flag(key: str) -> str:
    return "--set" if key == "model" else "--no-cache" if key == "cache" else "--" + key.replace("_", "-")


def run(args) -> int:
    import sys

    from edgesr.train import resume, train

    given = _options(args)
    if args.resume is not None:
        extra = [_flag(k) for k in given if k not in _RESUME_OPTIONS] + (["ARCH"] if args.arch else [])
        if extra:
            raise InputError(
                f"--resume continues a run with its own settings; drop {', '.join(extra)} "
                f"(it may change only {', '.join(_flag(k) for k in _RESUME_OPTIONS)})"
            )
        result = resume(args.resume, **given)
    else:
        missing = [
            name for name, ok in (("ARCH", args.arch), ("--data", "data" in given), ("--out", "out" in given)) if not ok
        ]
        if missing:
            raise InputError(f"give {', '.join(missing)} (or --resume CHECKPOINT)")
        result = train(TrainConfig(arch=args.arch, **given))
    s = result.summary
    if not result.complete:
        pos = s["position"]
        print(
            f"edgesr: interrupted at stage {pos['stage'] + 1}, iteration {pos['iteration']}; continue with: "
            f"edgesr train --resume {result.checkpoint}",
            file=sys.stderr,
        )
        return 130
    c = s.get("compute", {})
    psnr = ", ".join(f"{v:.2f}" for v in s.get("val_psnr", []) if v is not None)
    print(
        f"wrote {result.weights}: {s.get('arch')} x{s.get('scale')}, {c.get('iterations', 0):,} iterations, "
        f"{c.get('lr_pixels', 0):.3g} LR pixels, {c.get('train_seconds', 0):.0f} s of training; "
        f"held-out Y-PSNR per stage {psnr} dB"
    )
    print(f"summary: {result.run_dir / 'summary.json'}")
    return 0
