"""Other precisions of the same model, measured the way INT8 is: the FP16 variant.

FP16 accuracy is measured on the validation images by emulation (weights and activations
rounded to float16 in a float32 graph, see :mod:`edgesr.quantize.fp16`) and, where ONNX Runtime
CPU runs the float16 file, on that file too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from edgesr import fileio, meta
from edgesr.errors import InputError
from edgesr.log import logger, stage
from edgesr.meta import all_props
from edgesr.quantize import calibration
from edgesr.quantize.budget import evaluate
from edgesr.quantize.fp16 import emulate_fp16, to_fp16


@dataclass
class Fp16Result:
    model: object = field(repr=False)
    path: Path | None
    emulated: evaluate.Drop
    onnxruntime: evaluate.Drop | None  # None when ORT CPU cannot run the float16 file

    def as_dict(self) -> dict:
        return {
            "path": str(self.path) if self.path else None,
            "io": "float32 (Cast at the boundary)",
            "emulated": self.emulated.as_dict(),
            "onnxruntime_cpu": self.onnxruntime.as_dict() if self.onnxruntime else None,
        }


def fp16_variant(
    model_path: str | os.PathLike,
    out_path: str | os.PathLike | None = None,
    *,
    val: str | os.PathLike | None = None,
    keep_io_float32: bool = True,
    scale: int | None = None,
    validation_count: int = calibration.VALIDATION_COUNT,
) -> Fp16Result:
    """Write the FP16 variant of ``model_path`` and measure its Y-PSNR drop on ``val``."""
    from edgesr.onnx.loading import load
    from edgesr.quantize.prepare import check_float_model

    src = Path(model_path)
    model = load(src)
    check_float_model(model, src)
    mm = meta.read(model)
    scale = mm.scale if mm.known else scale
    if not scale:
        raise InputError(f"{src} has no edgesr metadata giving its scale; pass --scale")
    with stage("FP16 variant") as info:
        half = to_fp16(model, keep_io_float32=keep_io_float32)
        vs = calibration.load_validation(val, scale=scale, count=validation_count)
        ref = evaluate.run_validation(evaluate.Runner(model, value_range=mm.value_range), vs)
        emu = evaluate.compare(
            ref,
            evaluate.run_validation(evaluate.Runner(emulate_fp16(model), value_range=mm.value_range), vs),
            mm.value_range,
            scale,
        )
        try:
            real = evaluate.compare(
                ref,
                evaluate.run_validation(evaluate.Runner(half, value_range=mm.value_range), vs),
                mm.value_range,
                scale,
            )
        except Exception as exc:  # ORT refusing a float16 op is a fact to report, not a failure  # noqa: BLE001
            logger.warning(
                "ONNX Runtime CPU cannot run the FP16 file (%s); its accuracy is the emulated one",
                str(exc).splitlines()[0][:120],
            )
            real = None
        info["outcome"] = f"drop {emu.drop:.4f} dB (emulated)" + (f", {real.drop:.4f} dB on ORT CPU" if real else "")
    props = all_props(half)
    props["edgesr.quant.precision"] = "fp16"
    del half.metadata_props[:]
    for k, v in props.items():
        e = half.metadata_props.add()
        e.key, e.value = k, v
    if out_path is not None:
        fileio.write_bytes(out_path, half.SerializeToString())
    return Fp16Result(half, Path(out_path) if out_path else None, emu, real)
