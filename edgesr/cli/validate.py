"""``edgesr validate``: a reference model vs its FP16/INT8 candidates, with a drop budget."""

from __future__ import annotations

from pathlib import Path

from edgesr.cli.args import height_width

DEFAULT_OUT = "validation-report"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="accuracy drop and speed of FP16/INT8 artifacts against the FP32 reference: HTML/JSON/Markdown",
        description="Score the reference (the first ARTIFACT, or --reference) and every candidate on HR image "
                    "folders under the standard protocol (Y-channel PSNR/SSIM), measure their latency in the same "
                    "run, and write report.html, report.json and report.md. Exits 1 when a candidate's mean "
                    "Y-PSNR drop exceeds --max-drop on any data set.",
    )
    p.add_argument("artifacts", nargs="+", metavar="ARTIFACT", help="model files (.onnx); the first is the reference")
    p.add_argument("--data", metavar="DIR", action="append", required=True,
                   help="folder of HR images (repeat for several)")
    p.add_argument("--reference", metavar="ARTIFACT", help="the reference model (default: the first ARTIFACT)")
    p.add_argument("--max-drop", type=float, default=0.1, metavar="DB",
                   help="largest allowed mean Y-PSNR drop per data set, in dB (default 0.1)")
    p.add_argument("--scale", type=int, help="upscale factor, for models that do not record it")
    p.add_argument("-o", "--out", type=Path, default=Path(DEFAULT_OUT), metavar="OUT_DIR",
                   help=f"directory for the report files (default: ./{DEFAULT_OUT})")
    p.add_argument("--repeats", type=int, default=10, metavar="N",
                   help="interleaved latency runs per variant (default 10; 0 skips latency)")
    p.add_argument("--latency-size", type=height_width, default=(180, 320), metavar="HxW",
                   help="LR frame the latency is measured on (default 180x320)")
    p.add_argument("--no-crops", action="store_true", help="leave the image crops out of the HTML report")
    p.add_argument("--degrade", metavar="SPEC", action="append", default=[],
                   help="score every folder on LR degraded this way instead of clean bicubic LR (a spec such as "
                        "blur=iso:1.2,noise=10, a preset, or 'grid'; repeatable: one table per folder and degradation)")
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr.report import tables
    from edgesr.report.files import NAMES
    from edgesr.degrade import expand
    from edgesr.report.validate import validate

    expand(args.degrade)  # a bad spec fails before any model loads
    report = validate(args.artifacts, args.data, reference=args.reference, scale=args.scale,
                      max_drop=args.max_drop, out_dir=args.out, crops=not args.no_crops,
                      repeats=args.repeats, latency_size=args.latency_size, degradations=tuple(args.degrade))
    summary = tables.summary(report)
    print(_text_table(summary.flat_headers(), [[c.text for c in row] for row in summary.rows]))
    print()
    print(tables.headline(report))
    for line in tables.failure_lines(report):
        print(f"  {line}")
    print(f"report: {args.out / NAMES['html']} (also {NAMES['json']}, {NAMES['markdown']})")
    return 0 if report.passed else 1


def _text_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    return "\n".join("  ".join(f"{c:<{w}}" for c, w in zip(r, widths)).rstrip() for r in [headers, *rows])
