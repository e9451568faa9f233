"""``edgesr models``: the architectures edgesr can build, their size and cost, and their weights."""

from __future__ import annotations

import json
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="list the SR architectures with params, MACs at 720p and weights")
    p.add_argument("--weights-dir", metavar="DIR", type=Path,
                   help="folder of checkpoints; each is matched to its architecture by tensor shapes")
    p.add_argument("--eval", metavar="DIR", type=Path, action="append", default=[],
                   help="HR image folder to measure Y-PSNR on (x4 protocol) for every model with weights; "
                        "repeatable, e.g. Set5 and Set14")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.add_argument("--ship-int8", metavar="NAME",
                   help="make the shipped model NAME's INT8 ONNX Runtime files beside it (edgesr convert, then "
                        "edgesr quantize within 0.1 dB) and record them, with the SHA-256 of the FP32 file they "
                        "come from, in its card")
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr.errors import InputError
    from edgesr.models.catalog import catalog

    if args.ship_int8:
        return ship_int8(args.ship_int8)

    if args.weights_dir is not None and not args.weights_dir.is_dir():
        raise InputError(f"--weights-dir {args.weights_dir} is not a folder; point it at your checkpoints")
    if args.eval and args.weights_dir is None:
        raise InputError("--eval measures models with weights: add --weights-dir DIR")
    infos = catalog(args.weights_dir)
    psnr = measure_psnr(infos, args.eval)
    ships = shipped_rows()
    if args.json:
        rows = [dict(name=i.name, title=i.title, scale=i.scale, params=i.params, macs_720p=i.macs_720p,
                     value_range=i.value_range, seed=i.seed, weights=[str(p) for p in i.weights],
                     psnr_y=psnr.get(i.name, {}))
                for i in infos]
        print(json.dumps({"models": rows, "shipped": ships}, indent=2))
        return 0
    print(format_table(infos, searched=args.weights_dir is not None, psnr=psnr,
                       folders=[f.name for f in args.eval]))
    print()
    print(format_shipped(ships))
    return 0


def ship_int8(name: str) -> int:
    from edgesr.artifacts import ship_int8 as make

    entry = make(name)
    v, lat = entry["validation"], entry["latency"]
    print(f"{name}: {', '.join(entry['files'])} from {entry['source']['path']} (sha256 {entry['source']['sha256'][:12]}); "
          f"drop {v['drop_db']:.3f} dB on {v['images']} images (budget {v['budget_db']} dB); x86 file "
          f"{lat['x86_vs_fp32']}x FP32, symmetric file {lat['int8_vs_fp32']}x ({lat['runtime']})")
    return 0


def shipped_rows() -> list[dict]:
    """The models inside the package, with the Set5/Set14 scores their cards record."""
    from edgesr.shipped import shipped

    rows = []
    for m in shipped():
        scores = m.card.get("evaluation", {}).get("datasets", {})
        rows.append(dict(name=m.name, arch=m.card.get("arch"), scale=m.card.get("scale"), default=bool(m.card.get("default")),
                         params=m.card.get("params"), onnx=str(m.onnx),
                         psnr_y={k: v["psnr"] for k, v in scores.items()},
                         bicubic_psnr_y={k: v["bicubic_psnr"] for k, v in scores.items()},
                         degraded_gain_db=_degraded_gain(m.name, m.card)))
    return rows


def _degraded_gain(name: str, card: dict) -> dict[str, float]:
    """Per data set, the model's mean gain over bicubic on the grid's degraded columns (its card's grid)."""
    out = {}
    for folder, grid in card.get("degradation_grid", {}).get("datasets", {}).items():
        gains = [c["gain_db"] for c in grid["cells"] if c["model"] == name and c["degradation"] != "clean"]
        if gains:
            out[folder] = round(sum(gains) / len(gains), 4)
    return out


def format_shipped(rows: list[dict]) -> str:
    if not rows:
        return "shipped with edgesr: none"
    lines = ["shipped with edgesr (Y-PSNR x4 from each model card; bicubic in brackets):"]
    for r in rows:
        scores = ", ".join(f"{k} {v:.2f} dB ({r['bicubic_psnr_y'][k]:.2f})" for k, v in r["psnr_y"].items())
        degraded = ", ".join(f"{k} {v:+.2f} dB" for k, v in r["degraded_gain_db"].items())
        lines.append(f"  {r['name']}{' (default)' if r['default'] else ''}: {r['arch']} x{r['scale']}, "
                     f"{r['params']:,} params; {scores}"
                     + (f"; on degraded input (quality grid, mean over bicubic) {degraded}" if degraded else ""))
    return "\n".join(lines)


def measure_psnr(infos, folders: list[Path]) -> dict[str, dict[str, float]]:
    """Mean Y-PSNR per folder for each model with weights, measured now with the standard protocol."""
    if not folders:
        return {}
    from edgesr.quality.protocol import evaluate
    from edgesr.quality.upscalers import load_upscaler

    found: dict[str, dict[str, float]] = {}
    for info in infos:
        if info.weights:
            up = load_upscaler(info.name, scale=info.scale, weights=str(info.weights[0]))
            found[info.name] = {f.name: round(evaluate(up, f, info.scale).mean_psnr, 4) for f in folders}
    return found


def format_table(infos, *, searched: bool, psnr: dict[str, dict[str, float]], folders: list[str]) -> str:
    rows = [("name", "scale", "params", "MACs@720p", *(f"PSNR {f}" for f in folders), "input", "weights")]
    for i in infos:
        params = f"{i.params:,}" if i.params is not None else "-"
        macs = f"{i.macs_720p / 1e9:.2f} G" if i.macs_720p is not None else "-"
        if i.weights:
            weights = ", ".join(str(p) for p in i.weights)
        else:
            weights = "none found" if searched else "bring your own (--weights-dir DIR to search)"
        scores = [f"{psnr[i.name][f]:.2f}" if i.name in psnr else "-" for f in folders]
        rows.append((i.name, f"x{i.scale}", params, macs, *scores, f"RGB 0-{i.value_range:g}", weights))
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    right = set(range(1, 4 + len(folders)))  # numbers align right
    lines = ["  ".join(c.rjust(w) if k in right else c.ljust(w) for k, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in rows]
    if any(i.params is None for i in infos):
        lines.append("(-: needs torch, pip install 'edgesr[torch]', or the architecture module is not installed)")
    return "\n".join(lines)
