"""FP16 and INT8 copies of tiny ONNX models, made the way real candidates are made."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

from tests.tiny_models import save

_FLOAT, _FLOAT16 = TensorProto.FLOAT, TensorProto.FLOAT16


def to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """Every float tensor in float16, input and output included, except Resize's roi/scales (float32 by spec)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    keep = {name for n in g.node if n.op_type == "Resize" for name in n.input[1:]}
    for i, t in enumerate(g.initializer):
        if t.data_type == _FLOAT and t.name not in keep:
            g.initializer[i].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name))
    for v in [*g.input, *g.output]:
        v.type.tensor_type.elem_type = _FLOAT16
    del g.value_info[:]
    onnx.checker.check_model(m)
    return m


def to_int8(src: Path, dst: Path, lr_batches: list[np.ndarray], *, symmetric: bool = True) -> Path:
    """Static Q/DQ INT8 (per-channel weights) calibrated on ``lr_batches`` (1x3xHxW float32 each)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter(lr_batches)

        def get_next(self):
            batch = next(self.batches, None)
            return None if batch is None else {"input": batch}

    quantize_static(
        str(src),
        str(dst),
        Reader(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        extra_options={"ActivationSymmetric": symmetric, "WeightSymmetric": True},
    )
    return dst


def with_metadata(model: onnx.ModelProto, path: Path, **props: str) -> Path:
    """Save a copy of ``model`` with extra metadata_props."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for k, v in props.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = k, v
    return save(m, path)
