"""INT8 trade-off table per model: Set5/Set14 Y-PSNR drop vs FP32 and ONNX Runtime CPU speed-up.

For each model this builds, from the same converted FP32 ONNX:

- ``naive``: ONNX Runtime ``quantize_static`` (QDQ, symmetric INT8 activations and weights,
  per-channel, MinMax, the same calibration patches) - the baseline of the issue;
- edgesr's recipe, one technique added at a time, every unit INT8 (no budget):
  ``minmax`` -> ``mse`` ranges (consumer-aware) -> ``+gptq`` adaptive rounding -> ``+bias``
  correction;
- ``unit``: the full recipe with fallback to ``--max-drop`` on the validation images (never
  Set5/Set14), units ordered by their damage quantized alone per latency added;
- ``budget``: the same with the default order, whole tensors by the per-tensor noise model;
- ``finetune`` (trained weights only): the budgeted placement fine-tuned by distillation for
  ``--finetune STEPS`` (default: the models table's steps for the architecture, what
  ``edgesr build`` runs), then units given back to INT8 while the budget holds.

Accuracy: Set5 and Set14 at x4 under the standard protocol, each variant against the FP32
model (the drop is FP32 PSNR minus variant PSNR). Speed: all variants and FP32 run
interleaved in one process at 180x320 with 2 threads; the ratio FP32 / variant is reported for
the x86 file each variant's quantize run wrote (UINT8+128 activations, the same grid, what ORT
fuses on x86, with its CPU rewrites; for ``naive`` the same encoding and rewrites applied to
ORT's file) and, in brackets, for the symmetric INT8 file itself.

    python benchmarks/quantize_tradeoff.py --models rfdn rlfn safmn aidn-rt aidn-tiny \\
        --calib ../shared/datasets/train/bsd68 --val ../shared/datasets/train/sunhays80
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
WEIGHTS = {"rfdn": "rfdn_aim2020_x4.pth", "rlfn": "rlfn_ntire2024_x4.pth", "safmn": "safmn_ntire2023_x4.pth"}


def prepare(name: str, work: Path) -> Path:
    """Convert edgesr's shipped model of that name, or export a shared checkpoint (random weights
    for an architecture with neither) and convert it."""
    from edgesr import shipped
    from edgesr.cli import main

    converted = work / "converted" / f"{name}.onnx"
    if converted.is_file():
        return converted
    ours = {m.name: m for m in shipped.shipped()}
    onnx_path = ours[name].onnx if name in ours else work / f"{name}.onnx"
    args = ["export", name, "-o", str(onnx_path)]
    if name in WEIGHTS:
        args += ["--weights", str(SHARED / "weights" / WEIGHTS[name])]
    if (name not in ours and main(args) != 0) or main(["convert", str(onnx_path), "-o", str(work / "converted")]) != 0:
        sys.exit(f"could not export/convert {name}")
    return converted


def trained(name: str) -> bool:
    """True for a shared checkpoint or a model edgesr ships; :func:`prepare` gives others random weights."""
    from edgesr import shipped

    return name in WEIGHTS or name in {m.name for m in shipped.shipped()}


def naive(src: Path, out: Path, calib, input_name: str) -> None:
    """ONNX Runtime's quantize_static with the settings the issue measured."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter({input_name: x} for x in calib.arrays)

        def get_next(self):
            return next(self.it, None)

    quantize_static(
        str(src),
        str(out),
        Reader(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        calibrate_method=CalibrationMethod.MinMax,
        extra_options={"ActivationSymmetric": True, "WeightSymmetric": True},
    )


def main(argv=None) -> int:
    args = _arguments(argv)
    from edgesr.log import configure

    configure(-1)
    args.work.mkdir(parents=True, exist_ok=True)
    table, everything = [], {}
    for name in args.models:
        everything[name] = _model(name, args, table)
        _print(table, args.sets, name)
    if args.json:
        args.json.write_text(json.dumps({"table": table, "models": everything}, indent=1))
    return 0


def _arguments(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["rfdn", "rlfn", "safmn", "aidn-rt", "aidn-tiny"])
    ap.add_argument("--calib", default=str(SHARED / "datasets" / "train" / "bsd68"))
    ap.add_argument("--val", default=str(SHARED / "datasets" / "train" / "sunhays80"))
    ap.add_argument(
        "--sets", nargs="+", default=[str(SHARED / "datasets" / "Set5"), str(SHARED / "datasets" / "Set14")]
    )
    ap.add_argument("--max-drop", type=float, default=0.1)
    ap.add_argument(
        "--finetune",
        type=int,
        metavar="STEPS",
        help="fine-tune steps (default: the models table's for each architecture; 0: no fine-tune row)",
    )
    ap.add_argument("--rounds", type=int, default=10, help="latency rounds (interleaved)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "edgesr-quantize-tradeoff")
    ap.add_argument("--json", type=Path, help="also write all numbers here")
    ap.add_argument("--skip-steps", action="store_true", help="only naive, unit and budget (faster)")
    return ap.parse_args(argv)


def _model(name: str, args, table: list) -> dict:
    """Every variant of one model: made, scored on the reporting sets, timed side by side; rows into ``table``."""
    import onnx

    from edgesr import meta
    from edgesr.log import configure
    from edgesr.onnx.loading import image_input
    from edgesr.quantize import calibration

    t0 = time.perf_counter()
    src = prepare(name, args.work)
    model = onnx.load(str(src))
    mm = meta.read(model)
    wd = args.work / name
    wd.mkdir(exist_ok=True)
    calib = calibration.load_calibration(calibration.spec_from(args.calib), scale=mm.scale, value_range=mm.value_range)
    files = {"fp32": src}
    naive(src, wd / "naive.onnx", calib, image_input(model).name)
    files["naive"] = wd / "naive.onnx"
    logging.getLogger().handlers.clear()  # quantize_static configures the root logger
    configure(-1)
    records = _variants(name, src, wd, args, files)
    scores = _scores(files, mm.scale, args.sets)
    lat, models = _latency(model, files, args.rounds, mm.value_range)
    table.extend(_rows(name, files, records, scores, lat, models, len(args.sets)))
    return {
        "fp32_psnr": scores["fp32"],
        "scores": scores,
        "latency": lat.as_dict(),
        "records": {
            k: {kk: v[kk] for kk in ("kept", "validation", "int8_units", "recipe")} for k, v in records.items()
        },
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _variants(name: str, src: Path, wd: Path, args, files: dict) -> dict:
    """Quantize ``src`` each way the table compares; adds the files, returns the records by label."""
    from edgesr.models import registry
    from edgesr.quantize import quantize

    common = dict(calib=args.calib, val=args.val, latency=False)
    steps = (
        []
        if args.skip_steps
        else [
            ("minmax", dict(method="minmax", rounding="nearest", bias_correction=False)),
            ("mse", dict(method="mse", rounding="nearest", bias_correction=False)),
            ("+gptq", dict(method="mse", rounding="gptq", bias_correction=False)),
            ("+bias", dict(method="mse", rounding="gptq", bias_correction=True)),
            ("+cle", dict(method="mse", rounding="gptq", bias_correction=True, equalize=True)),
        ]
    )
    runs = [(label, dict(max_drop=None, **kw)) for label, kw in steps]
    runs += [
        (label, dict(max_drop=args.max_drop, fallback_order=order))
        for label, order in (("unit", "cost"), ("budget", "tensor"))
    ]
    ft_steps = args.finetune if args.finetune is not None else registry.get(name).qat_steps
    if ft_steps and trained(name):  # fine-tuning random weights means nothing
        runs.append(("finetune", dict(max_drop=args.max_drop, finetune_steps=ft_steps)))
    records = {}
    for label, kw in runs:
        files[label] = wd / f"{label}.onnx"
        records[label] = quantize(src, files[label], **common, **kw).record
    return records


def _scores(files: dict, scale: int, sets: list) -> dict:
    from edgesr.quality import evaluate
    from edgesr.quality.upscalers import OnnxUpscaler

    scores = {}
    for key, path in files.items():
        up = OnnxUpscaler(path)
        up.scale = scale
        scores[key] = [evaluate(up, folder, scale).mean_psnr for folder in sets]
    return scores


def _latency(model, files: dict, rounds: int, value_range: float):
    """Every variant (and its x86 encoding) timed interleaved in one process."""
    import onnx

    from edgesr.quantize.budget import evaluate as qeval
    from edgesr.quantize.outputs import x86_encoding, x86_path

    models = {"fp32": model}
    for key, path in files.items():
        if key == "fp32":
            continue
        m = onnx.load(str(path))
        models[key] = m
        x86 = x86_path(path)
        models[key + "@x86"] = onnx.load(str(x86)) if x86.is_file() else x86_encoding(m)
    return qeval.latency(models, rounds=rounds, value_range=value_range), models


def _rows(name, files, records, scores, lat, models, sets: int) -> list[dict]:
    rows = []
    for key in files:
        if key == "fp32":
            continue
        rec = records.get(key)
        rows.append(
            {
                "model": name,
                "variant": key,
                "kept": len(rec["kept"]) if rec else 0,
                "int8_convs": f"{rec['int8_convolutions']}/{rec['convolutions']}" if rec else "all (ORT)",
                "drop": [round(scores["fp32"][i] - scores[key][i], 3) for i in range(sets)],
                "val_drop": rec["validation"]["drop_db"] if rec else None,
                "speedup": round(lat.ratio("fp32", key + "@x86" if key + "@x86" in models else key), 2),
                "speedup_int8_file": round(lat.ratio("fp32", key), 2),
            }
        )
    return rows


def _print(table, sets, name) -> None:
    names = [Path(s).name for s in sets]
    head = (
        f"{'model':10s} {'variant':9s} {'kept':>4s} {'INT8 convs':>10s} "
        + " ".join(f"{'drop ' + n:>11s}" for n in names)
        + f" {'val drop':>8s} {'speed-up':>8s} {'(INT8 file)':>11s}"
    )
    print(head)
    for r in table:
        if r["model"] != name:
            continue
        val = f"{r['val_drop']:.3f}" if r["val_drop"] is not None else "-"
        print(
            f"{r['model']:10s} {r['variant']:9s} {r['kept']:>4d} {r['int8_convs']:>10s} "
            + " ".join(f"{d:>11.3f}" for d in r["drop"])
            + f" {val:>8s} {r['speedup']:>7.2f}x {r['speedup_int8_file']:>10.2f}x"
        )
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
