"""``edgesr validate``: a reference model vs its FP16/INT8 candidates, with a drop budget."""

from __future__ import annotations

from pathlib import Path

from edgesr.cli.args import height_width

HELP = "accuracy drop and speed of FP16/INT8 artifacts against the FP32 reference: HTML/JSON/Markdown"
DEFAULT_OUT = "validation-report"


def add_parser(sub) -> None:
    from edgesr.report.validate import ValidateOptions as Defaults

    size = Defaults.latency_size
    p = sub.add_parser(
        "validate",
        help=HELP,
        description="Score the reference (the first ARTIFACT, or --reference) and every candidate on HR image "
        "folders under the standard protocol (Y-channel PSNR/SSIM), measure their latency in the same "
        "run, and write report.html, report.json and report.md. Exits 1 when a candidate's mean "
        "Y-PSNR drop exceeds --max-drop on any data set.",
    )
    p.add_argument("artifacts", nargs="+", metavar="ARTIFACT", help="model files (.onnx); the first is the reference")
    p.add_argument(
        "--data", metavar="DIR", action="append", required=True, help="folder of HR images (repeat for several)"
    )
    p.add_argument("--reference", metavar="ARTIFACT", help="the reference model (default: the first ARTIFACT)")
    p.add_argument(
        "--max-drop",
        type=float,
        default=Defaults.max_drop,
        metavar="DB",
        help=f"largest allowed mean Y-PSNR drop per data set, in dB (default {Defaults.max_drop:g})",
    )
    p.add_argument("--scale", type=int, help="upscale factor, for models that do not record it")
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        default=Path(DEFAULT_OUT),
        metavar="OUT_DIR",
        help=f"directory for the report files (default: ./{DEFAULT_OUT})",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=Defaults.repeats,
        metavar="N",
        help=f"interleaved latency runs per variant (default {Defaults.repeats}; 0 skips latency)",
    )
    p.add_argument(
        "--latency-size",
        type=height_width,
        default=size,
        metavar="HxW",
        help=f"LR frame the latency is measured on (default {size[0]}x{size[1]})",
    )
    p.add_argument("--no-crops", action="store_true", help="leave the image crops out of the HTML report")
    p.add_argument(
        "--degrade",
        metavar="SPEC",
        action="append",
        default=[],
        help="score every folder on LR degraded this way instead of clean bicubic LR (a spec such as "
        "blur=iso:1.2,noise=10, a preset, or 'grid'; repeatable: one table per folder and degradation)",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr.degrade import expand
    from edgesr.report import tables
    from edgesr.report.files import NAMES
    from edgesr.report.validate import validate

    expand(args.degrade)  # a bad spec fails before any model loads
    report = validate(
        args.artifacts,
        args.data,
        reference=args.reference,
        scale=args.scale,
        max_drop=args.max_drop,
        out_dir=args.out,
        crops=not args.no_crops,
        repeats=args.repeats,
        latency_size=args.latency_size,
        degradations=tuple(args.degrade),
    )
    print(tables.text(tables.summary(report)))
    print()
    print(tables.headline(report))
    for line in tables.failure_lines(report):
        print(f"  {line}")
    print(f"report: {args.out / NAMES['html']} (also {NAMES['json']}, {NAMES['markdown']})")
    return 0 if report.passed else 1
