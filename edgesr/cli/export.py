"""``edgesr export``: an architecture (and its checkpoint) -> a verified, self-describing ONNX file."""

from __future__ import annotations

from pathlib import Path

from edgesr.cli.args import height_width

HELP = "export an SR architecture with its weights to ONNX"


def add_parser(sub) -> None:
    from edgesr.export.to_onnx import MAX_OPSET, MIN_OPSET
    from edgesr.models import DEFAULT_SCALE

    p = sub.add_parser(
        "export",
        help=HELP,
        description="Export to ONNX (weights embedded, edgesr metadata, dynamic H/W unless "
        "--static) and check it against PyTorch on real images.",
    )
    p.add_argument("name", help="architecture name (see 'edgesr models')")
    p.add_argument(
        "--weights",
        metavar="CKPT",
        type=Path,
        help="PyTorch checkpoint; without it the weights are random (pipeline tests only)",
    )
    p.add_argument(
        "--scale", type=int, help=f"upscale factor; default: the checkpoint's, or {DEFAULT_SCALE} without one"
    )
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUT.onnx", help="ONNX file to write")
    p.add_argument(
        "--opset", type=int, default=MIN_OPSET, help=f"ONNX opset ({MIN_OPSET}..{MAX_OPSET}, default {MIN_OPSET})"
    )
    p.add_argument(
        "--static",
        type=height_width,
        metavar="HxW",
        help="fix the input to 1x3xHxW (e.g. for DLA) instead of dynamic batch, height, width",
    )
    g = p.add_argument_group("model card (shipping a trained model)")
    g.add_argument(
        "--card",
        action="store_true",
        help="also write OUT.pth (the weights) and OUT.json, a model card with the training recipe "
        "from the run's summary.json and the quality of the written ONNX measured on --eval",
    )
    g.add_argument(
        "--eval",
        metavar="DIR",
        action="append",
        default=[],
        help="HR benchmark folder to measure the card's Y-PSNR/SSIM on, next to bicubic (repeatable)",
    )
    g.add_argument(
        "--summary",
        type=Path,
        metavar="JSON",
        help="the training run's summary.json (default: the one beside --weights)",
    )
    g.add_argument("--studies", type=Path, metavar="JSON", help="study tables to include in the card (a JSON object)")
    g.add_argument("--default", action="store_true", help="mark the model as the default one")
    g.add_argument(
        "--grid",
        action="store_true",
        help="also measure the quality grid (edgesr eval --degrade grid) on the --eval folders, next to "
        "bicubic and the --grid-against models",
    )
    g.add_argument(
        "--grid-against",
        metavar="MODEL",
        action="append",
        default=[],
        help="a shipped model's name or an .onnx file to sit beside this one in the grid (repeatable)",
    )
    g.add_argument("--note", action="append", default=[], metavar="TEXT", help="a note for the card (repeatable)")
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr.errors import InputError

    if args.card:
        return _ship(args)
    if args.eval or args.summary or args.studies or args.default or args.note or args.grid or args.grid_against:
        raise InputError("--eval, --summary, --studies, --default, --note and --grid describe a model card; add --card")
    from edgesr.export.architecture import export_architecture

    done = export_architecture(
        args.name, args.output, weights=args.weights, scale=args.scale, opset=args.opset, static_hw=args.static
    )
    print(
        f"wrote {done.path}: {done.arch} x{done.scale}, {done.params:,} params, "
        f"input {done.input_shape} RGB in [0, {done.value_range:g}]"
    )
    return 0


def _ship(args) -> int:
    import json

    from edgesr.errors import InputError
    from edgesr.train.card import ship

    if args.weights is None or args.static is not None:
        raise InputError("--card ships a trained model: give --weights CKPT, and no --static")
    studies = json.loads(args.studies.read_text()) if args.studies is not None else None
    card = ship(
        args.weights,
        args.name,
        args.output.parent,
        args.output.stem,
        eval_folders=args.eval,
        summary=args.summary,
        default=args.default,
        studies=studies,
        notes=args.note,
        grid_against=args.grid_against if args.grid else None,
    )
    print(f"wrote {args.output}, {args.output.with_suffix('.pth')} and the card {card}")
    return 0
