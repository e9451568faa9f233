"""``edgesr quantize``: a float ONNX -> symmetric INT8 Q/DQ ONNX within an accuracy budget."""

from __future__ import annotations

from pathlib import Path

from edgesr.cli.args import height_width, nonneg_float, nonneg_int, positive_int

HELP = "INT8 Q/DQ model within an accuracy budget (plus FP16 and TensorRT cache)"
# Exit code when the model was written but the accuracy budget could not be met.
BUDGET_NOT_MET = 3


def add_parser(sub) -> None:
    p = sub.add_parser(
        "quantize",
        help=HELP,
        description="Calibrate on real images, place symmetric INT8 Q/DQ (zero point 0, per-channel weights) where "
        "runtimes fuse it, measure per-unit sensitivity and keep the most damaging units in higher "
        "precision until the Y-PSNR drop on the validation images fits --max-drop. Writes OUT.onnx "
        "(symmetric INT8: TensorRT, ONNX Runtime on ARM), OUT.x86.onnx (the same grid encoded UINT8+128, "
        "which ONNX Runtime runs fused on x86) and OUT.quant.json (the record). Exit code "
        f"{BUDGET_NOT_MET}: written, but the budget was not met.",
    )
    _add_inputs(p)
    _add_budget(p)
    _add_passes(p)
    _add_outputs(p)
    p.set_defaults(run=run)


def _add_inputs(p) -> None:
    """The model, where its Q/DQ version goes, and the images it is calibrated and validated on."""
    p.add_argument("model", type=Path, help="the float .onnx model (as written by 'edgesr convert')")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.onnx", help="Q/DQ model to write")
    p.add_argument(
        "--calib",
        metavar="DIR",
        help="calibration frames: a folder, glob or manifest .json "
        "(default: the set generated from the shipped samples, calibration/default.json)",
    )
    p.add_argument(
        "--val",
        metavar="DIR",
        help="HR images for the budget (default: the shipped samples); never use your reporting sets here",
    )
    p.add_argument(
        "--degrade",
        metavar="SPEC",
        action="append",
        default=[],
        help="measure the budget on validation LR degraded this way (a spec such as noise=10,jpeg=70, a "
        "preset, or 'grid'; repeatable): the content the model will see (default: clean bicubic LR)",
    )


def _add_budget(p) -> None:
    """How activation ranges are calibrated and the accuracy budget the result must meet."""
    from edgesr.quantize.calibration import DEFAULT_PATCH
    from edgesr.quantize.options import QuantizeOptions as Defaults
    from edgesr.quantize.ranges import METHODS

    p.add_argument(
        "--method",
        default=Defaults.method,
        choices=METHODS,
        help=f"activation range method (default: {Defaults.method}, consumer-aware)",
    )
    p.add_argument(
        "--max-drop",
        type=nonneg_float,
        default=Defaults.max_drop,
        metavar="DB",
        help=f"Y-PSNR drop allowed on the validation images (default {Defaults.max_drop:g})",
    )
    p.add_argument("--no-budget", action="store_true", help="quantize every eligible unit, no fallback")
    p.add_argument(
        "--input-shape",
        type=height_width,
        metavar="HxW",
        help="calibration patch for dynamic-shape models, LR pixels, HEIGHTxWIDTH (default "
        f"{DEFAULT_PATCH[0]}x{DEFAULT_PATCH[1]})",
    )
    p.add_argument(
        "--count", type=positive_int, default=Defaults.count, help=f"calibration inputs (default {Defaults.count})"
    )


def _add_passes(p) -> None:
    """The passes that make the weights quantize well, and the order units fall back to higher precision."""
    from edgesr.quantize.options import FALLBACK_ORDERS, ROUNDINGS
    from edgesr.quantize.options import QuantizeOptions as Defaults

    p.add_argument(
        "--rounding",
        default=Defaults.rounding,
        choices=ROUNDINGS,
        help=f"weight rounding: gptq (adaptive) or nearest (default {Defaults.rounding})",
    )
    p.add_argument("--no-bias-correction", action="store_true", help="skip weight bias correction")
    p.add_argument("--equalize", action="store_true", help="cross-layer equalisation of conv -> activation -> conv")
    p.add_argument(
        "--no-smooth",
        action="store_true",
        help="skip GELU smoothing (per-channel ranges equalised around conv -> GELU -> conv)",
    )
    p.add_argument(
        "--finetune",
        type=nonneg_int,
        default=Defaults.finetune_steps,
        metavar="STEPS",
        help="quantization-aware fine-tune steps by distillation (needs torch; default "
        f"{Defaults.finetune_steps} = off)",
    )
    p.add_argument(
        "--fallback-order",
        default=Defaults.fallback_order,
        choices=FALLBACK_ORDERS,
        help="which units go back to higher precision first: whole tensors by a per-tensor noise model, "
        "most noise removed per latency added (tensor), units by their damage quantized alone per "
        "latency added (cost), or simply the most damaging units (damage); default "
        f"{Defaults.fallback_order}",
    )


def _add_outputs(p) -> None:
    """The scale of models without metadata, the latency measurement and the extra files to write."""
    from edgesr.quantize.options import QuantizeOptions as Defaults

    p.add_argument("--scale", type=positive_int, help="upscale factor, only for models without edgesr metadata")
    p.add_argument("--no-latency", action="store_true", help="skip the INT8 vs FP32 latency measurement")
    p.add_argument(
        "--tensorrt-onnx",
        type=Path,
        metavar="PATH",
        help="also write the Q/DQ model with INT32 biases folded to float (TensorRT's parser)",
    )
    p.add_argument(
        "--trt-cache",
        metavar="TRT_VERSION",
        help="also export the activation scales as a TensorRT calibration cache for this TensorRT "
        "version (e.g. 8.6.2), named by model hash and version under --cache-dir",
    )
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(Defaults.trt_cache_dir),
        help=f"where --trt-cache goes (default {Defaults.trt_cache_dir})",
    )
    p.add_argument("--fp16", type=Path, metavar="OUT_FP16.onnx", help="also write the FP16 variant and measure it")


def run(args) -> int:
    from edgesr.quantize import quantize

    result = quantize(
        args.model,
        args.output,
        calib=args.calib,
        val=args.val,
        val_degrade=tuple(args.degrade),
        method=args.method,
        max_drop=None if args.no_budget else args.max_drop,
        input_shape=args.input_shape,
        count=args.count,
        rounding=args.rounding,
        bias_correction=not args.no_bias_correction,
        equalize=args.equalize,
        smooth=not args.no_smooth,
        finetune_steps=args.finetune,
        fallback_order=args.fallback_order,
        scale=args.scale,
        latency=not args.no_latency,
        tensorrt_onnx=args.tensorrt_onnx,
        trt_cache=args.trt_cache,
        trt_cache_dir=args.cache_dir,
        fp16=args.fp16,
    )
    _print(args, result)
    return 0 if result.record["validation"]["met"] else BUDGET_NOT_MET


def _print(args, result) -> None:
    r = result.record
    v = r["validation"]
    print(f"{args.model} -> {args.output} (symmetric INT8), {r['files']['x86']} (x86 encoding)")
    print(
        f"  INT8 units: {r['int8_units']} ({r['int8_convolutions']} of {r['convolutions']} convolutions); "
        f"kept in higher precision: {len(r['kept'])}"
    )
    for k in r["kept"]:
        print(f"    {k['node']} ({k['op']}): {k['reason']}")
    status = "within" if v["met"] else "NOT within"
    print(
        f"  validation ({v['images']} images, {v['source']}): drop {v['drop_db']:.3f} dB "
        f"(measured {v['measured_drop_db']:.3f}, expected from noise {v['expected_drop_db']:.3f}, "
        f"{v['clean_half_drop_db']:.3f} on the cleaner half, {v['hard_third_drop_db']:.3f} on the harder third: "
        f"margin {v['margin_db']:.3f} over the expected mean), "
        f"{status} the {v['budget_db']} dB budget"
        if v["budget_db"] is not None
        else f"  validation ({v['images']} images): drop {v['drop_db']:.3f} dB (no budget)"
    )
    if r.get("latency"):
        lat = r["latency"]
        print(
            f"  latency {lat['shape'][0]}x{lat['shape'][1]}, {lat['threads']} threads, {lat['runtime']}: "
            f"INT8 {lat['speedup']:.2f}x FP32 (x86 encoding), {lat['speedup_int8_encoding']:.2f}x (INT8 file)"
        )
    if result.tensorrt_onnx:
        print(f"  TensorRT Q/DQ model: {result.tensorrt_onnx}")
    if result.trt_cache:
        print(f"  TensorRT calibration cache: {result.trt_cache}")
    if result.fp16:
        f = result.fp16
        real = f"{f.onnxruntime.drop:.4f} dB on ORT CPU" if f.onnxruntime else "ORT CPU cannot run it"
        print(f"  FP16 variant: {f.path}: drop {f.emulated.drop:.4f} dB (emulated), {real}")
    print(f"  record: {r['files']['record']}")
