"""Compare finished training runs on Set5 and Set14 x4: the hot-start and activation studies.

    python benchmarks/train_studies.py --study hot_start hot=RUN_A single=RUN_B \\
        --study activation relu=RUN_C lrelu=RUN_D silu=RUN_E gelu=RUN_F --json studies.json

Each RUN is a run directory of ``edgesr train``. For every run this prints its stages, the
compute it was given (LR pixels, iterations, CPU seconds) and the Y-PSNR/SSIM of its final EMA
weights under the standard protocol, bicubic alongside. Runs of one study should share their
budget (``--budget-pixels``) so the comparison is at equal compute; the table shows it. The
JSON is the ``studies`` object of a model card (``edgesr export --card --studies``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def score(run: Path, sets: list[Path]) -> dict:
    from edgesr.quality import evaluate
    from edgesr.quality.upscalers import load_upscaler

    summary = json.loads((run / "summary.json").read_text())
    if summary.get("status") != "complete":
        sys.exit(f"{run} is not a finished run (status {summary.get('status')})")
    up = load_upscaler(summary["arch"], summary["scale"], summary["weights"])
    row = {
        "run": run.name,
        "arch": summary["arch"],
        "settings": summary["config"].get("model", {}),
        "stages": [s["patch"] for s in summary["stages"]],
        "iterations": summary["compute"]["iterations"],
        "lr_pixels": summary["compute"]["lr_pixels"],
        "cpu_seconds": round(summary["compute"]["cpu_seconds"], 1),
    }
    for folder in sets:
        r = evaluate(up, folder, summary["scale"])
        row[folder.name] = {"psnr": round(r.mean_psnr, 3), "ssim": round(r.mean_ssim, 4)}
    return row


def table(name: str, rows: dict[str, dict], sets: list[Path], bicubic: dict) -> str:
    head = ["variant", "stages", "iterations", "LR pixels", "CPU s"] + [f"{s.name} PSNR / SSIM" for s in sets]
    lines = [f"### {name}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, r in rows.items():
        cells = [
            label,
            ",".join(map(str, r["stages"])),
            str(r["iterations"]),
            f"{r['lr_pixels'] / 1e6:.1f}M",
            f"{r['cpu_seconds']:.0f}",
        ] + [f"{r[s.name]['psnr']:.2f} / {r[s.name]['ssim']:.4f}" for s in sets]
        lines.append("| " + " | ".join(cells) + " |")
    cells = ["bicubic", "", "", "", ""] + [
        f"{bicubic[s.name]['psnr']:.2f} / {bicubic[s.name]['ssim']:.4f}" for s in sets
    ]
    lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--study",
        nargs="+",
        action="append",
        required=True,
        metavar="NAME LABEL=RUN",
        help="a study name followed by LABEL=RUN_DIR pairs (repeatable)",
    )
    ap.add_argument(
        "--sets", nargs="+", type=Path, default=[SHARED / "datasets" / "Set5", SHARED / "datasets" / "Set14"]
    )
    ap.add_argument("--json", type=Path, help="write the studies here (a model card's studies object)")
    args = ap.parse_args()

    from edgesr.quality import evaluate
    from edgesr.quality.upscalers import Bicubic

    bicubic = {}
    for s in args.sets:
        r = evaluate(Bicubic(4), s, 4)
        bicubic[s.name] = {"psnr": round(r.mean_psnr, 3), "ssim": round(r.mean_ssim, 4)}
    studies = {}
    for name, *pairs in args.study:
        if not pairs or any("=" not in p for p in pairs):
            sys.exit(f"--study {name}: give LABEL=RUN_DIR pairs")
        rows = {label: score(Path(run), args.sets) for label, run in (p.split("=", 1) for p in pairs)}
        studies[name] = {"bicubic": bicubic, "runs": rows}
        print(table(name, rows, args.sets, bicubic))
        print()
    if args.json:
        from edgesr.fileio import write_json

        write_json(args.json, studies)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
