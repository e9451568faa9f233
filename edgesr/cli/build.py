"""``edgesr build``: a model to a device-ready engine, bundle or ONNX Runtime artifact, with its accuracy report."""

from __future__ import annotations

import argparse
from pathlib import Path

from edgesr import sizes
from edgesr.cli.args import nonneg_int, positive_int
from edgesr.errors import InputError

HELP = "model -> simplified ONNX -> INT8/FP16 -> engine or device bundle, with an accuracy report"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "build",
        help=HELP,
        description="Run export (for checkpoints), convert, quantize, validate and build for one device. "
        "Each stage is reused when its inputs are unchanged. Where this machine cannot build for "
        "the device (no TensorRT, or another device), a bundle is written that finishes there.",
    )
    _add_source(p)
    _add_shape(p)
    _add_accuracy(p)
    _add_engine(p)
    p.set_defaults(run=run)


def _add_source(p) -> None:
    """The device and the model to build for it."""
    p.add_argument(
        "--device",
        help="device id from 'edgesr devices' (cpu: the ONNX Runtime artifact), or auto: this "
        "Jetson's module (cpu elsewhere); a device another Jetson's GPU cannot build for "
        "is refused there",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model", help="a model shipped with edgesr (default: the shipped default model)")
    src.add_argument("--onnx", type=Path, help="an ONNX model")
    src.add_argument("--weights", type=Path, metavar="CKPT", help="a PyTorch checkpoint (with --arch, or detected)")
    src.add_argument(
        "--bundle", type=Path, metavar="DIR", help="on the device: finish a bundle written by edgesr build"
    )
    p.add_argument("--arch", help="architecture of --weights (see 'edgesr models'); detected when left out")
    p.add_argument("--scale", type=positive_int, help="upscale factor, for checkpoints that do not record it")


def _add_shape(p) -> None:
    """The precision and the input sizes the engine is built for."""
    from edgesr.deploy import DEFAULT_OUTPUT_WH
    from edgesr.deploy import BuildOptions as Defaults
    from edgesr.engine.policy import PRECISIONS

    p.add_argument(
        "--precision",
        default=Defaults.precision,
        choices=PRECISIONS,
        help="best: INT8 within the budget where the device has fast INT8, else FP16 (default)",
    )
    shape = p.add_mutually_exclusive_group()
    shape.add_argument(
        "--input-size",
        metavar="HxW",
        help="static input size, HEIGHTxWIDTH like every size flag (default: a "
        f"{DEFAULT_OUTPUT_WH[1]}x{DEFAULT_OUTPUT_WH[0]} output)",
    )
    shape.add_argument(
        "--input-size-range", metavar="MIN:MAX", help="dynamic input sizes, each HEIGHTxWIDTH, e.g. 64x64:270x480"
    )
    # The old WIDTHxHEIGHT spellings: square sizes read the same either way, others are refused.
    shape.add_argument("--input", help=argparse.SUPPRESS)
    shape.add_argument("--input-range", help=argparse.SUPPRESS)


def _add_accuracy(p) -> None:
    """The accuracy budget, the images it is calibrated and measured on, and fine-tuning."""
    from edgesr.deploy import BuildOptions as Defaults
    from edgesr.models.registry import ARCHS

    qat_steps = ", ".join(f"{a.qat_steps} for {a.name}" for a in ARCHS if a.qat_steps)
    p.add_argument(
        "--max-drop",
        type=float,
        default=Defaults.max_drop,
        metavar="DB",
        help=f"accuracy budget in dB (default {Defaults.max_drop:g})",
    )
    p.add_argument("--calib", type=Path, metavar="DIR", help="calibration images (default: the shipped set)")
    p.add_argument(
        "--finetune",
        type=int,
        metavar="STEPS",
        help="INT8 quantization-aware fine-tune steps, 0 off (default: the models table's steps "
        f"for the architecture, {qat_steps}, else 0; needs PyTorch)",
    )
    p.add_argument(
        "--data",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="images for the accuracy report (repeatable; default: the shipped samples)",
    )


def _add_engine(p) -> None:
    """TensorRT builder settings and where the result goes."""
    from edgesr.deploy import BuildOptions as Defaults
    from edgesr.engine.engine_builder import OPT_LEVELS

    p.add_argument("--dla", type=nonneg_int, metavar="N", help="build for DLA core N (static shapes, FP16/INT8)")
    p.add_argument("--workspace", type=positive_int, metavar="MB", help="TensorRT workspace limit")
    p.add_argument(
        "--opt-level",
        type=int,
        choices=OPT_LEVELS,
        metavar=f"{OPT_LEVELS[0]}-{OPT_LEVELS[-1]}",
        help="builder optimisation level",
    )
    p.add_argument("-o", "--out", type=Path, default=Defaults.out, help=f"output root (default: {Defaults.out}/)")


def _input(args) -> tuple[int, int] | None:
    """--input-size as the library's (width, height)."""
    if args.input is not None:
        h, w = sizes.legacy_wh(args.input, "--input", "--input-size")
    elif args.input_size is not None:
        h, w = sizes.parse_hw(args.input_size, "--input-size")
    else:
        return None
    return w, h


def _input_range(args) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """--input-size-range as the library's ((min width, height), (max width, height))."""
    if args.input_range is not None:
        low, high = sizes.legacy_wh_range(args.input_range, "--input-range", "--input-size-range")
    elif args.input_size_range is not None:
        low, high = sizes.parse_hw_range(args.input_size_range, "--input-size-range")
    else:
        return None
    return (low[1], low[0]), (high[1], high[0])


def run(args) -> int:
    from edgesr.deploy import Build, BuildOptions, finish_bundle

    if args.bundle is not None:
        result = finish_bundle(args.bundle)
    else:
        if args.device is None:
            raise InputError(
                "pass --device DEVICE (see 'edgesr devices'; auto for this machine, cpu for the ONNX Runtime artifact)"
            )
        result = Build(
            BuildOptions(
                device=args.device,
                model=args.model,
                onnx=args.onnx,
                weights=args.weights,
                arch=args.arch,
                scale=args.scale,
                precision=args.precision,
                input=_input(args),
                input_range=_input_range(args),
                max_drop=args.max_drop,
                calib=args.calib,
                finetune=args.finetune,
                data=args.data,
                dla=args.dla,
                workspace_mb=args.workspace,
                opt_level=args.opt_level,
                out=args.out,
            )
        )()
    ident = result.identity
    state = "reused (identity unchanged)" if result.cached else "written"
    print(f"{result.kind} {state}: {result.artifact}")
    print(
        f"  {ident.model} x{ident.scale} {ident.precision} input {ident.input} for {ident.device}"
        + (f", TensorRT {ident.tensorrt}" if ident.tensorrt else "")
        + (f", {len(ident.kept_layers)} layers kept in float" if ident.kept_layers else "")
    )
    acc = result.accuracy or {}
    if acc.get("drop_db"):
        drops = ", ".join(f"{k} {v:+.3f} dB" for k, v in acc["drop_db"].items())
        print(f"  accuracy vs FP32: {drops} ({'within' if acc.get('passed') else 'OVER'} budget); {acc.get('report')}")
    if acc.get("estimate"):
        est = acc["estimate"]
        print(
            f"  budget estimate for unseen content: {est['drop_db']:.3f} dB (expected mean {est['expected_db']:.3f} "
            f"+ margin {est['margin_db']:.3f}) on {est['validation']}"
        )
    if result.next_step:
        print(f"  next: {result.next_step}")
    return 0 if acc.get("passed", True) else 1
