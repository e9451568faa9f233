"""``edgesr eval``: PSNR/SSIM of a model on benchmark folders under the standard protocol."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="score a model (or the bicubic baseline) on HR image folders: Y-channel PSNR/SSIM",
        description="Crop each HR image to a multiple of the scale, make its LR with MATLAB-compatible "
        "bicubic, upscale, and score PSNR/SSIM on Y with SCALE pixels shaved at each border.",
    )
    p.add_argument("model", metavar="MODEL",
                   help="'bicubic', an .onnx file, a checkpoint file, or an architecture name with --weights")
    p.add_argument("--weights", metavar="CKPT", help="checkpoint for an architecture name")
    p.add_argument("--data", metavar="DIR", action="append", required=True,
                   help="folder of HR images (repeat for several)")
    p.add_argument("--scale", type=int, help="upscale factor (default: the model's own)")
    p.add_argument("--json", metavar="OUT.json", help="also write the scores to this JSON file")
    p.set_defaults(run=run)


def run(args) -> int:
    from pathlib import Path

    from edgesr.errors import InputError
    from edgesr.fileio import write_json
    from edgesr.log import stage
    from edgesr.quality import evaluate
    from edgesr.quality.upscalers import load_upscaler

    if args.json is not None and not Path(args.json).resolve().parent.is_dir():
        raise InputError(f"the folder of --json {args.json} does not exist; create it or pick another path")
    upscaler = load_upscaler(args.model, args.scale, args.weights)
    results = []
    for folder in args.data:
        with stage(f"eval {upscaler.name} x{upscaler.scale} on {folder}") as info:
            result = evaluate(upscaler, folder, upscaler.scale)
            info["outcome"] = f"{result.mean_psnr:.2f} dB, SSIM {result.mean_ssim:.4f}"
        results.append(result)
        print(f"{result.name}: {upscaler.name}, x{result.scale}, Y channel, {result.shave} px shaved")
        print(result.table())
        print()
    if args.json is not None:
        write_json(args.json, {"model": upscaler.name, "scale": upscaler.scale,
                               "datasets": [r.to_dict() for r in results]})
    return 0
