"""Tiny SR-shaped ONNX models built in code, for fast tests of every stage.

Weights are seeded random values; the graphs mirror what real SR exports contain: conv
stacks, pixel shuffle (DepthToSpace), a bicubic image skip, sigmoid attention.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

IR_VERSION = 9  # what torch exports and every onnxruntime release reads


class Builder:
    """Accumulates nodes and initializers with unique names."""

    def __init__(self, seed: int = 0):
        self.nodes: list = []
        self.inits: list = []
        self.rng = np.random.default_rng(seed)
        self.n = 0

    def name(self, kind: str) -> str:
        self.n += 1
        return f"{kind}_{self.n}"

    def const(self, array: np.ndarray, kind: str = "c") -> str:
        t = numpy_helper.from_array(np.asarray(array), self.name(kind))
        self.inits.append(t)
        return t.name

    def op(self, op_type: str, inputs: list[str], **attrs) -> str:
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out + "_node", **attrs))
        return out

    def conv(self, x: str, cin: int, cout: int, k: int = 3, groups: int = 1) -> str:
        w = self.const(
            (self.rng.standard_normal((cout, cin // groups, k, k)) * (0.5 / (cin * k))).astype(np.float32), "w"
        )
        b = self.const((self.rng.standard_normal(cout) * 0.01).astype(np.float32), "b")
        return self.op("Conv", [x, w, b], kernel_shape=[k, k], pads=[k // 2] * 4, group=groups)

    def qdq(self, x: str, scale: float = 1 / 32, zero: int = 128) -> str:
        """Per-tensor UINT8 Q -> DQ of an activation (what the x86 files carry)."""
        s, z = self.const(np.array(scale, np.float32), "s"), self.const(np.array(zero, np.uint8), "zp")
        return self.op("DequantizeLinear", [self.op("QuantizeLinear", [x, s, z]), s, z])

    def qconv(self, x: str, cin: int, cout: int, k: int = 3, name: str | None = None) -> str:
        """A convolution with INT8 per-channel weights and an INT32 bias, both dequantized."""
        w = self.rng.integers(-127, 128, (cout, cin, k, k)).astype(np.int8)
        ws = (self.rng.uniform(0.5, 1.5, cout) / (127 * cin * k)).astype(np.float32)
        wdq = self.op(
            "DequantizeLinear",
            [self.const(w, "w"), self.const(ws, "ws"), self.const(np.zeros(cout, np.int8), "wz")],
            axis=0,
        )
        bias = self.rng.integers(-2000, 2000, cout).astype(np.int32)
        bdq = self.op(
            "DequantizeLinear",
            [
                self.const(bias, "b"),
                self.const((ws / 32).astype(np.float32), "bs"),
                self.const(np.zeros(cout, np.int32), "bz"),
            ],
            axis=0,
        )
        out = self.op("Conv", [x, wdq, bdq], kernel_shape=[k, k], pads=[k // 2] * 4)
        if name:
            self.nodes[-1].name = name
        return out

    def gelu(self, x: str, half: bool = True) -> str:
        """``x * (1 + erf(x / sqrt 2)) [* 0.5]``, as PyTorch exports GELU (without the 0.5: as
        a simplifier leaves it after folding the factor into the next convolution)."""
        e = self.op("Erf", [self.op("Div", [x, self.const(np.array(np.sqrt(2.0), np.float32), "sqrt2")])])
        g = self.op("Mul", [x, self.op("Add", [e, self.const(np.array(1.0, np.float32), "one")])])
        return self.op("Mul", [g, self.const(np.array(0.5, np.float32), "half")]) if half else g

    def model(
        self,
        out: str,
        *,
        dims=(1, 3, "h", "w"),
        opset: int = 17,
        metadata: dict | None = None,
        input_name: str = "input",
        output_name: str = "output",
    ) -> onnx.ModelProto:
        self.nodes.append(helper.make_node("Identity", [out], [output_name], name="output_identity"))
        x = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(dims))
        y = helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [dims[0], 3, None, None])
        graph = helper.make_graph(self.nodes, "tiny_sr", [x], [y], self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION)
        for k, v in (metadata or {}).items():
            entry = m.metadata_props.add()
            entry.key, entry.value = k, str(v)
        onnx.checker.check_model(m)
        return m


def sr_model(
    *,
    scale: int = 4,
    channels: int = 8,
    bicubic_skip: bool = False,
    attention: bool = False,
    dims=(1, 3, "h", "w"),
    opset: int = 17,
    seed: int = 0,
    value_range: float = 1.0,
) -> onnx.ModelProto:
    """conv -> relu -> conv [-> sigmoid attention] -> conv -> pixel shuffle [+ bicubic(input)]."""
    b = Builder(seed)
    x = "input"
    f = b.op("Relu", [b.conv(x, 3, channels)])
    f = b.conv(f, channels, channels)
    if attention:
        gate = b.op("Sigmoid", [b.conv(f, channels, channels, k=1)])
        f = b.op("Mul", [f, gate])
    f = b.conv(f, channels, 3 * scale * scale)
    y = b.op("DepthToSpace", [f], blocksize=scale, mode="CRD")
    if bicubic_skip:
        scales = b.const(np.array([1, 1, scale, scale], np.float32), "scales")
        up = b.op(
            "Resize", [x, "", scales], mode="cubic", coordinate_transformation_mode="half_pixel", cubic_coeff_a=-0.75
        )
        y = b.op("Add", [y, up])
    meta = {"edgesr.arch": "tiny", "edgesr.scale": scale, "edgesr.value_range": value_range}
    return b.model(y, dims=dims, opset=opset, metadata=meta)


def gelu_model(*, quantized: bool = True, half: bool = True):
    """conv -> [Q -> DQ ->] x * (1 + erf(x / sqrt 2)) [* 0.5] -> conv, 3 channels out."""
    b = Builder(seed=7)
    x = b.conv("input", 3, 8)
    if quantized:
        x = b.qdq(x, scale=1 / 64)
    return b.model(b.conv(b.gelu(x, half), 8, 3), dims=("n", 3, "h", "w"))


def save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path
