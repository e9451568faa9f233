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
    args = ap.parse_args(argv)

    import onnx

    from edgesr import meta
    from edgesr.log import configure
    from edgesr.models import registry
    from edgesr.onnx.loading import image_input
    from edgesr.quality import evaluate
    from edgesr.quality.upscalers import OnnxUpscaler
    from edgesr.quantize import calibration, quantize
    from edgesr.quantize.budget import evaluate as qeval
    from edgesr.quantize.outputs import x86_encoding, x86_path

    configure(-1)
    args.work.mkdir(parents=True, exist_ok=True)
    table, everything = [], {}
    for name in args.models:
        t0 = time.perf_counter()
        src = prepare(name, args.work)
        model = onnx.load(str(src))
        mm = meta.read(model)
        inp = image_input(model)
        wd = args.work / name
        wd.mkdir(exist_ok=True)
        calib = calibration.load_calibration(
            calibration.spec_from(args.calib), scale=mm.scale, value_range=mm.value_range
        )
        files = {"fp32": src}
        naive(src, wd / "naive.onnx", calib, inp.name)
        files["naive"] = wd / "naive.onnx"
        logging.getLogger().handlers.clear()  # quantize_static configures the root logger
        configure(-1)
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
        records = {}
        for label, kw in steps:
            r = quantize(src, wd / f"{label}.onnx", calib=args.calib, val=args.val, max_drop=None, latency=False, **kw)
            files[label] = wd / f"{label}.onnx"
            records[label] = r.record
        for label, order in (("unit", "cost"), ("budget", "tensor")):
            r = quantize(
                src,
                wd / f"{label}.onnx",
                calib=args.calib,
                val=args.val,
                max_drop=args.max_drop,
                latency=False,
                fallback_order=order,
            )
            files[label] = wd / f"{label}.onnx"
            records[label] = r.record
        ft_steps = args.finetune if args.finetune is not None else registry.get(name).qat_steps
        if ft_steps and trained(name):  # fine-tuning random weights means nothing
            r = quantize(
                src,
                wd / "finetune.onnx",
                calib=args.calib,
                val=args.val,
                max_drop=args.max_drop,
                latency=False,
                finetune_steps=ft_steps,
            )
            files["finetune"] = wd / "finetune.onnx"
            records["finetune"] = r.record
        # accuracy on the reporting sets
        scores = {}
        for key, path in files.items():
            up = OnnxUpscaler(path)
            up.scale = mm.scale
            scores[key] = [evaluate(up, folder, mm.scale).mean_psnr for folder in args.sets]
        # speed: everything interleaved in one process
        models = {"fp32": model}
        for key, path in files.items():
            if key == "fp32":
                continue
            m = onnx.load(str(path))
            models[key] = m
            x86 = x86_path(path)
            models[key + "@x86"] = onnx.load(str(x86)) if x86.is_file() else x86_encoding(m)
        lat = qeval.latency(models, rounds=args.rounds, value_range=mm.value_range)
        for key in files:
            if key == "fp32":
                continue
            rec = records.get(key)
            row = {
                "model": name,
                "variant": key,
                "kept": len(rec["kept"]) if rec else 0,
                "int8_convs": f"{rec['int8_convolutions']}/{rec['convolutions']}" if rec else "all (ORT)",
                "drop": [round(scores["fp32"][i] - scores[key][i], 3) for i in range(len(args.sets))],
                "val_drop": rec["validation"]["drop_db"] if rec else None,
                "speedup": round(lat.ratio("fp32", key + "@x86" if key + "@x86" in models else key), 2),
                "speedup_int8_file": round(lat.ratio("fp32", key), 2),
            }
            table.append(row)
        everything[name] = {
            "fp32_psnr": scores["fp32"],
            "scores": scores,
            "latency": lat.as_dict(),
            "records": {
                k: {kk: v[kk] for kk in ("kept", "validation", "int8_units", "recipe")} for k, v in records.items()
            },
            "seconds": round(time.perf_counter() - t0, 1),
        }
        _print(table, args.sets, name)
    if args.json:
        args.json.write_text(json.dumps({"table": table, "models": everything}, indent=1))
    return 0


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
