"""``edgesr eval``: PSNR/SSIM of models on benchmark folders under the standard protocol, on clean
or degraded LR (``--degrade``: a grid of models x degradations)."""

from __future__ import annotations

from pathlib import Path

from edgesr.cli.args import positive_int

HELP = "score models (or the bicubic baseline) on HR image folders: Y-channel PSNR/SSIM, clean or degraded"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "eval",
        help=HELP,
        description="Crop each HR image to a multiple of the scale, make its LR with MATLAB-compatible "
        "bicubic (or, with --degrade, with that degradation: blur, downsampling, noise, JPEG), upscale, and "
        "score PSNR/SSIM on Y with SCALE pixels shaved at each border. With --degrade the result is a grid: "
        "one row per model, bicubic included, one column per degradation; each image's LR is seeded by its "
        "name, so every model sees the same LR.",
    )
    p.add_argument(
        "models",
        metavar="MODEL",
        nargs="+",
        help="'bicubic', an .onnx file, a checkpoint file, a shipped model's name, or an "
        "architecture name with --weights (several: one grid row each)",
    )
    p.add_argument("--weights", metavar="CKPT", help="checkpoint for an architecture name (one model only)")
    p.add_argument(
        "--data", metavar="DIR", action="append", required=True, help="folder of HR images (repeat for several)"
    )
    p.add_argument("--scale", type=positive_int, help="upscale factor (default: the model's own)")
    p.add_argument(
        "--degrade",
        metavar="SPEC",
        action="append",
        help="score on LR degraded this way: a spec such as blur=iso:1.2,noise=10,jpeg=50, a preset "
        "(clean, blur1.2, noise10, jpeg50, camera, stream, ...) or 'grid' for the quality grid's "
        "eight columns (repeatable)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the degradations' random draws (default 0)")
    p.add_argument("--json", metavar="OUT.json", help="also write the scores to this JSON file")
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr.degrade import expand
    from edgesr.errors import InputError
    from edgesr.fileio import write_json
    from edgesr.quality.scoring import load_upscalers, score_clean, score_grid

    if args.json is not None and not Path(args.json).resolve().parent.is_dir():
        raise InputError(f"the folder of --json {args.json} does not exist; create it or pick another path")
    degradations = expand(args.degrade) if args.degrade else None  # a bad spec fails before any model loads
    upscalers = load_upscalers(args.models, args.scale, args.weights)
    if degradations is not None:
        scores = score_grid(upscalers, args.data, degradations, args.seed, on_grid=lambda g: _print_grid(g, args.seed))
    else:
        scores = score_clean(upscalers, args.data, on_result=_print_result)
    if args.json is not None:
        write_json(args.json, scores.to_dict())
    return 0


def _print_result(upscaler, result) -> None:
    print(f"{result.name}: {upscaler.name}, x{result.scale}, Y channel, {result.shave} px shaved")
    print(result.table())
    print()


def _print_grid(grid, seed: int) -> None:
    print(
        f"{Path(grid.folder).name}: x{grid.scale}, Y-PSNR (dB over bicubic of the same LR), {grid.scale} px shaved, "
        f"seed {seed}"
    )
    print(grid.table())
    print()
