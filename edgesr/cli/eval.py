"""``edgesr eval``: PSNR/SSIM of models on benchmark folders under the standard protocol, on clean
or degraded LR (``--degrade``: a grid of models x degradations)."""

from __future__ import annotations

from edgesr.cli.args import positive_int


def add_parser(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="score models (or the bicubic baseline) on HR image folders: Y-channel PSNR/SSIM, clean or degraded",
        description="Crop each HR image to a multiple of the scale, make its LR with MATLAB-compatible "
        "bicubic (or, with --degrade, with that degradation: blur, downsampling, noise, JPEG), upscale, and "
        "score PSNR/SSIM on Y with SCALE pixels shaved at each border. With --degrade the result is a grid: "
        "one row per model, bicubic included, one column per degradation; each image's LR is seeded by its "
        "name, so every model sees the same LR.",
    )
    p.add_argument("models", metavar="MODEL", nargs="+",
                   help="'bicubic', an .onnx file, a checkpoint file, a shipped model's name, or an "
                        "architecture name with --weights (several: one grid row each)")
    p.add_argument("--weights", metavar="CKPT", help="checkpoint for an architecture name (one model only)")
    p.add_argument("--data", metavar="DIR", action="append", required=True,
                   help="folder of HR images (repeat for several)")
    p.add_argument("--scale", type=positive_int, help="upscale factor (default: the model's own)")
    p.add_argument("--degrade", metavar="SPEC", action="append",
                   help="score on LR degraded this way: a spec such as blur=iso:1.2,noise=10,jpeg=50, a preset "
                        "(clean, blur1.2, noise10, jpeg50, camera, stream, ...) or 'grid' for the quality grid's "
                        "eight columns (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of the degradations' random draws (default 0)")
    p.add_argument("--json", metavar="OUT.json", help="also write the scores to this JSON file")
    p.set_defaults(run=run)


def _upscalers(args) -> list:
    from pathlib import Path

    from edgesr import shipped
    from edgesr.errors import InputError
    from edgesr.quality.upscalers import load_upscaler

    if args.weights is not None and len(args.models) > 1:
        raise InputError("--weights goes with one architecture name; give the others as .onnx or checkpoint files")
    names = {m.name: m for m in shipped.shipped()}
    out = []
    for model in args.models:
        if model in names and not Path(model).exists() and args.weights is None:
            up = load_upscaler(str(names[model].onnx), args.scale)
            up.name = model
        else:
            scale = args.scale if args.scale is not None or model != "bicubic" else None
            up = load_upscaler(model, scale or (out[0].scale if out else None), args.weights)
        out.append(up)
    scales = {u.scale for u in out}
    if len(scales) > 1:
        raise InputError(f"the models upscale by different factors ({', '.join(f'x{s}' for s in sorted(scales))}); "
                         "compare models of one scale")
    return out


def run(args) -> int:
    from pathlib import Path

    from edgesr.errors import InputError

    if args.json is not None and not Path(args.json).resolve().parent.is_dir():
        raise InputError(f"the folder of --json {args.json} does not exist; create it or pick another path")
    if args.degrade:
        from edgesr.degrade import expand

        degradations = expand(args.degrade)  # a bad spec fails before any model loads
    upscalers = _upscalers(args)
    if args.degrade:
        return _grid(args, upscalers, degradations)
    return _clean(args, upscalers)


def _clean(args, upscalers) -> int:
    from edgesr.fileio import write_json
    from edgesr.log import stage
    from edgesr.quality import evaluate

    report = []
    for upscaler in upscalers:
        results = []
        for folder in args.data:
            with stage(f"eval {upscaler.name} x{upscaler.scale} on {folder}") as info:
                result = evaluate(upscaler, folder, upscaler.scale)
                info["outcome"] = f"{result.mean_psnr:.2f} dB, SSIM {result.mean_ssim:.4f}"
            results.append(result)
            print(f"{result.name}: {upscaler.name}, x{result.scale}, Y channel, {result.shave} px shaved")
            print(result.table())
            print()
        report.append({"model": upscaler.name, "scale": upscaler.scale, "datasets": [r.to_dict() for r in results]})
    if args.json is not None:
        write_json(args.json, report[0] if len(report) == 1 else {"models": report})
    return 0


def _grid(args, upscalers, degradations) -> int:
    from pathlib import Path

    from edgesr.fileio import write_json
    from edgesr.log import stage
    from edgesr.quality.grid import BASELINE, run_grid
    from edgesr.quality.upscalers import Bicubic

    scale = upscalers[0].scale
    rows = [(u.name, u) for u in upscalers]
    if BASELINE not in [name for name, _ in rows]:
        rows.insert(0, (BASELINE, Bicubic(scale)))
    grids = []
    for folder in args.data:
        with stage(f"grid on {folder}: {len(rows)} models x {len(degradations)} degradations") as info:
            grid = run_grid(rows, folder, scale, degradations, args.seed)
            info["outcome"] = "done"
        grids.append(grid)
        print(f"{Path(folder).name}: x{scale}, Y-PSNR (dB over bicubic of the same LR), {scale} px shaved, "
              f"seed {args.seed}")
        print(grid.table())
        print()
    if args.json is not None:
        write_json(args.json, {"scale": scale, "seed": args.seed, "grids": [g.to_dict() for g in grids]})
    return 0
