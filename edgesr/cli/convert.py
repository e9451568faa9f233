"""``edgesr convert``: simplify, check, rewrite and prove an ONNX model for a target."""

from __future__ import annotations

from pathlib import Path

from edgesr.cli.args import nchw, positive_float

HELP = "simplify, check and prove an ONNX model for a device"


def add_parser(sub) -> None:
    from edgesr.onnx.convert import RELATIVE_ATOL
    from edgesr.onnx.convert import ConvertOptions as Defaults

    p = sub.add_parser(
        "convert",
        help=HELP,
        description="Load and sanitise MODEL, simplify it, apply deployment rewrites, check every op "
        "against the target, prove numeric parity on real images, and write the converted "
        "ONNX plus a JSON report to OUT_DIR.",
    )
    p.add_argument("model", type=Path, help="the .onnx model")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="OUT_DIR", help="output directory")
    p.add_argument(
        "--target",
        default=Defaults.target,
        metavar="DEVICE",
        help=f"device id from 'edgesr devices' whose op support decides pass/fail (default: {Defaults.target})",
    )
    p.add_argument(
        "--input-shape",
        type=nchw,
        metavar="NxCxHxW",
        help="fix a dynamic input shape, batch x channels x HEIGHT x WIDTH, e.g. 1x3x180x320",
    )
    p.add_argument("--no-rewrite", action="store_true", help="skip deployment rewrites (bicubic Resize)")
    p.add_argument(
        "--atol", type=positive_float, help=f"parity tolerance (default {RELATIVE_ATOL:g} x the model's value range)"
    )
    p.add_argument("--images", metavar="DIR", help="real images for the parity check (default: shipped samples)")
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr.devices import get
    from edgesr.io.images import list_images
    from edgesr.onnx.convert import Convert, ConvertOptions

    options = ConvertOptions(
        target=get(args.target).id,
        input_shape=args.input_shape,
        rewrite=not args.no_rewrite,
        atol=args.atol,
        parity_images=list_images(args.images) if args.images else None,
    )
    result = Convert(args.model, args.out, options)()
    r = result.report
    p = r["parity"]
    psnr = "identical" if p["identical"] else f"{p['output_psnr_db']:.1f} dB"
    print(f"{args.model} -> {result.onnx_path}")
    print(
        f"  nodes {r['before']['nodes']} -> {r['after']['nodes']} ({r['simplifier']}), "
        f"rewrites: {len(r['rewrites'])} bicubic, {len(r['shuffle_merges'])} shuffle add, "
        f"{len(r['gelu_halves_restored'])} GELU"
    )
    print(
        f"  parity on {p['images']} real images {', '.join(p['input_shapes'])}: "
        f"max abs error {p['max_abs_error']:.3g}, output PSNR {psnr}"
        + (f" ({p['bounded']})" if p.get("bounded") else "")
    )
    if r["support_verdict"]["warnings"]:
        print(f"  {len(r['support_verdict']['warnings'])} support warnings (logged above, listed in the report)")
    print(f"  report: {result.report_path}")
    return 0
