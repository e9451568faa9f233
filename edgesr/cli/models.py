"""``edgesr models``: the architectures edgesr can build, their size and cost, and their weights."""

from __future__ import annotations

import json
from pathlib import Path

HELP = "list the SR architectures with params, MACs at 720p and weights"


def add_parser(sub) -> None:
    from edgesr.artifacts import RECIPE

    p = sub.add_parser("models", help=HELP)
    p.add_argument(
        "--weights-dir",
        metavar="DIR",
        type=Path,
        help="folder of checkpoints; each is matched to its architecture by tensor shapes",
    )
    p.add_argument(
        "--eval",
        metavar="DIR",
        type=Path,
        action="append",
        default=[],
        help="HR image folder to measure Y-PSNR on (x4 protocol) for every model with weights; "
        "repeatable, e.g. Set5 and Set14",
    )
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.add_argument(
        "--ship-int8",
        metavar="NAME",
        help="make the shipped model NAME's INT8 ONNX Runtime files beside it (edgesr convert, then "
        f"edgesr quantize within {RECIPE['max_drop_db']:g} dB) and record them, with the SHA-256 of "
        "the FP32 file they come from, in its card",
    )
    p.add_argument(
        "--ship-router",
        metavar="NAME",
        help="fit the router NAME over the shipped aidn-rt, aidn-rt-real and aidn-da on degraded crops of the "
        "--data folders, measure it on the quality grid of the --eval folders, and write it to "
        "edgesr/data/routers/NAME.json",
    )
    p.add_argument(
        "--data",
        metavar="DIR",
        type=Path,
        action="append",
        default=[],
        help="training images for --ship-router (repeatable)",
    )
    p.add_argument("--default", action="store_true", help="with --ship-router: make it the default of upscale/stream")
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr.errors import InputError
    from edgesr.models.catalog import (
        catalog,
        format_shipped,
        format_table,
        router_rows,
        shipped_rows,
    )
    from edgesr.quality.scoring import catalog_psnr

    if args.ship_int8:
        return ship_int8(args.ship_int8)
    if args.ship_router:
        return ship_router(args)

    if args.weights_dir is not None and not args.weights_dir.is_dir():
        raise InputError(f"--weights-dir {args.weights_dir} is not a folder; point it at your checkpoints")
    if args.eval and args.weights_dir is None:
        raise InputError("--eval measures models with weights: add --weights-dir DIR")
    infos = catalog(args.weights_dir)
    psnr = catalog_psnr(infos, args.eval)
    ships, routers = shipped_rows(), router_rows()
    if args.json:
        rows = [i.to_dict(psnr.get(i.name)) for i in infos]
        print(json.dumps({"models": rows, "shipped": ships, "routers": routers}, indent=2))
        return 0
    print(format_table(infos, searched=args.weights_dir is not None, psnr=psnr, folders=[f.name for f in args.eval]))
    print()
    print(format_shipped(ships, routers))
    return 0


def ship_int8(name: str) -> int:
    from edgesr.artifacts import ship_int8 as make

    entry = make(name)
    v, lat = entry["validation"], entry["latency"]
    source = entry["source"]
    print(
        f"{name}: {', '.join(entry['files'])} from {source['path']} (sha256 {source['sha256'][:12]}); "
        f"drop {v['drop_db']:.3f} dB on {v['images']} images (budget {v['budget_db']} dB); x86 file "
        f"{lat['x86_vs_fp32']}x FP32, symmetric file {lat['int8_vs_fp32']}x ({lat['runtime']})"
    )
    return 0


def ship_router(args) -> int:
    from edgesr.artifacts import ship_router as make
    from edgesr.errors import InputError

    folders = [*args.data, *args.eval]
    if not args.data or not args.eval:
        raise InputError("--ship-router needs training images (--data DIR) and HR folders to measure on (--eval DIR)")
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        raise InputError(f"not a folder: {', '.join(missing)}; pass folders of images to --data and --eval")
    data = make(args.ship_router, args.data, args.eval, default=True if args.default else None)
    print(f"{args.ship_router}: {data['fit']['crops']} crops; picks on the grid: {data['picks_on_grid']}")
    for grid in data["degradation_grid"]["grids"]:
        routed = {c["degradation"]: c["gain_db"] for c in grid["cells"] if c["model"] == args.ship_router}
        print(f"  {Path(grid['folder']).name}: gain over bicubic " + ", ".join(f"{g:+.2f}" for g in routed.values()))
    return 0
