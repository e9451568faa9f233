"""The quantize stage's final model for each runtime (see :mod:`edgesr.quantize.stage`): its latency
against FP32, the files written (symmetric INT8, its x86 encoding, the record), and where asked for
TensorRT's ONNX, a TensorRT calibration cache and the FP16 variant."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from edgesr import fileio
from edgesr.lazy import require
from edgesr.onnx.cpu_rewrites import for_onnxruntime_cpu
from edgesr.quantize import qdq
from edgesr.quantize.budget import evaluate
from edgesr.quantize.passes import recentre
from edgesr.quantize.record import write_metadata

if TYPE_CHECKING:
    from edgesr.quantize.stage import Context


def x86_encoding(qmodel):
    """The UINT8 encoding of a Q/DQ model (what ONNX Runtime fuses on x86), recentring offsets
    folded into zero points, then ONNX Runtime's CPU rewrites (edgesr.onnx.cpu_rewrites: pixel
    shuffle split, channels padded to multiples of four, GELUs fused)."""
    fast = qdq.reencode(qmodel, "uint8")
    recentre.fold_offsets(fast)
    for_onnxruntime_cpu(fast)
    return fast


def x86_path(out_path: Path) -> Path:
    """The UINT8-encoded copy (same grid, zero point 128) that ONNX Runtime runs fused on x86."""
    return out_path.with_name(out_path.stem + ".x86.onnx")


def record_path(out_path: Path) -> Path:
    return out_path.with_name(out_path.stem + ".quant.json")


def latency(ctx: Context) -> None:
    """FP32 against the INT8 model in both encodings, interleaved in this process."""
    opts = ctx.opts
    with ctx.step("latency", "latency") as info:
        lat = evaluate.latency(
            {"fp32": ctx.reference_model, "int8": ctx.final_model, "int8_x86": x86_encoding(ctx.final_model)},
            shape=opts.latency_shape,
            threads=opts.threads,
            rounds=opts.latency_rounds,
            value_range=ctx.value_range,
            channels=ctx.inp.channels,
        )
        ctx.latency = {
            **lat.as_dict(),
            "runtime": f"onnxruntime {require('onnxruntime').__version__} CPU",
            "speedup": round(lat.ratio("fp32", "int8_x86"), 3),
            "speedup_int8_encoding": round(lat.ratio("fp32", "int8"), 3),
        }
        info["outcome"] = (
            f"INT8 {ctx.latency['speedup']:.2f}x FP32 at {opts.latency_shape[0]}x"
            f"{opts.latency_shape[1]} (UINT8 encoding; {ctx.latency['speedup_int8_encoding']:.2f}x "
            "as symmetric INT8)"
        )


def write(ctx: Context) -> None:
    """The symmetric INT8 model, its x86 encoding and the record, each atomically."""
    out = ctx.out
    with ctx.step(f"write {out}"):
        x86 = x86_encoding(ctx.final_model)
        write_metadata(x86, ctx.reference_model, ctx.record, encoding="uint8")
        ctx.record["files"] = {"int8": str(out), "x86": str(x86_path(out)), "record": str(record_path(out))}
        fileio.write_bytes(out, ctx.final_model.SerializeToString())
        fileio.write_bytes(x86_path(out), x86.SerializeToString())
        fileio.write_json(record_path(out), ctx.record)


def tensorrt_onnx(ctx: Context) -> None:
    """The Q/DQ model with INT32 biases folded to float, as TensorRT's parser needs (qdq.for_tensorrt)."""
    ctx.tensorrt_onnx = Path(ctx.opts.tensorrt_onnx)
    fileio.write_bytes(ctx.tensorrt_onnx, qdq.for_tensorrt(ctx.final_model).SerializeToString())


def trt_cache(ctx: Context) -> None:
    """The activation scales as a TensorRT calibration cache, named by the float model's hash and the version."""
    from edgesr.quantize.tensorrt.trtcache import (
        cache_path,
        scales_from_qdq,
        write_trt_cache,
    )

    version = ctx.opts.trt_cache
    path = cache_path(ctx.source, version, root=ctx.opts.trt_cache_dir, stem=ctx.source.stem)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_trt_cache(path, scales_from_qdq(ctx.final_model), version=version)
    ctx.trt_cache = path


def fp16(ctx: Context) -> None:
    """The FP16 variant of the float model, measured on the validation images (edgesr.quantize.variants)."""
    from edgesr.quantize.variants import fp16_variant

    opts = ctx.opts
    ctx.fp16 = fp16_variant(
        ctx.source, opts.fp16, val=opts.val, scale=opts.scale, validation_count=opts.validation_count
    )
