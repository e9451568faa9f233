"""``edgesr models``: the architectures edgesr can build, their size and cost, and their weights."""

from __future__ import annotations

import json
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="list the SR architectures with params, MACs at 720p and weights")
    p.add_argument("--weights-dir", metavar="DIR", type=Path,
                   help="folder of checkpoints; each is matched to its architecture by tensor shapes")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr.errors import InputError
    from edgesr.models.catalog import catalog

    if args.weights_dir is not None and not args.weights_dir.is_dir():
        raise InputError(f"--weights-dir {args.weights_dir} is not a folder; point it at your checkpoints")
    infos = catalog(args.weights_dir)
    if args.json:
        rows = [dict(name=i.name, title=i.title, scale=i.scale, params=i.params, macs_720p=i.macs_720p,
                     value_range=i.value_range, seed=i.seed, weights=[str(p) for p in i.weights])
                for i in infos]
        print(json.dumps({"models": rows}, indent=2))
        return 0
    print(format_table(infos, searched=args.weights_dir is not None))
    return 0


def format_table(infos, *, searched: bool) -> str:
    rows = [("name", "scale", "params", "MACs@720p", "input", "weights")]
    for i in infos:
        params = f"{i.params:,}" if i.params is not None else "-"
        macs = f"{i.macs_720p / 1e9:.2f} G" if i.macs_720p is not None else "-"
        if i.weights:
            weights = ", ".join(str(p) for p in i.weights)
        else:
            weights = "none found" if searched else "bring your own (--weights-dir DIR to search)"
        rows.append((i.name, f"x{i.scale}", params, macs, f"RGB 0-{i.value_range:g}", weights))
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    right = {1, 2, 3}  # numbers align right
    lines = ["  ".join(c.rjust(w) if k in right else c.ljust(w) for k, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in rows]
    if any(i.params is None for i in infos):
        lines.append("(-: needs torch, pip install 'edgesr[torch]', or the architecture module is not installed)")
    return "\n".join(lines)
