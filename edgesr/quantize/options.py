"""What the quantize stage can be asked to do: :class:`QuantizeOptions` and the choices of its options.

The command line reads its defaults and choices from here, so the library and ``edgesr quantize`` cannot
drift apart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edgesr.quality.protocol import DEFAULT_MAX_DROP_DB
from edgesr.quantize import calibration
from edgesr.quantize.budget import evaluate

ROUNDINGS = ("gptq", "nearest")
# "tensor": whole tensors made float by a per-tensor noise model, most noise removed per latency added first
# (see edgesr.quantize.budget.noise); "cost": units by their damage quantized alone per latency added; "damage": the
# most damaging units first
FALLBACK_ORDERS = ("tensor", "cost", "damage")


@dataclass
class QuantizeOptions:
    """Settings of :func:`edgesr.quantize.quantize`; ``None`` means the documented default, resolved in the stage."""

    calib: str | os.PathLike | calibration.CalibrationSpec | None = None  # None: the shipped default set
    val: str | os.PathLike | None = None  # HR images for the budget; None: the shipped samples
    val_degrade: tuple[str, ...] = ()  # degradations of the validation LR (edgesr.degrade); (): clean bicubic
    method: str = "mse"  # one of edgesr.quantize.ranges.METHODS
    max_drop: float | None = DEFAULT_MAX_DROP_DB  # dB on the validation set; None: no budget (every unit INT8)
    input_shape: tuple[int, int] | None = None  # calibration patch (LR HxW) for dynamic-shape models
    count: int = calibration.DEFAULT_COUNT
    rounding: str = "gptq"  # one of ROUNDINGS
    bias_correction: bool = True
    equalize: bool = False  # cross-layer equalisation of conv -> activation -> conv pairs
    smooth: bool = True  # per-channel ranges equalised around conv -> GELU -> conv (edgesr.quantize.passes.smooth)
    fallback_order: str = "tensor"  # one of FALLBACK_ORDERS
    finetune_steps: int = 0  # quantization-aware fine-tune (needs torch); 0: off
    recentre_output: bool = True  # the output image on all 255 INT8 codes (see edgesr.quantize.passes.recentre)
    scale: int | None = None  # only for models without edgesr metadata
    latency: bool = True
    latency_shape: tuple[int, int] = evaluate.LATENCY_SHAPE
    latency_rounds: int = 10
    threads: int = 2  # for the latency measurement (ratios, same process)
    validation_max_side: int = calibration.VALIDATION_MAX_SIDE
    validation_count: int = calibration.VALIDATION_COUNT
    # other outputs, each written from the final model (None: not written)
    tensorrt_onnx: str | os.PathLike | None = None  # Q/DQ with INT32 biases folded to float (TensorRT's parser)
    trt_cache: str | None = None  # TensorRT version of a calibration cache of the activation scales
    trt_cache_dir: str | os.PathLike = Path("calibration")  # where the calibration cache goes
    fp16: str | os.PathLike | None = None  # the FP16 variant, measured on the validation images
