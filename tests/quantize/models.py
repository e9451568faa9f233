"""Tiny models for the quantize tests: plain SR shapes, and one with a deliberately sensitive layer."""

from __future__ import annotations

import numpy as np

from tests.tiny_models import Builder, sr_model  # noqa: F401  (re-exported for the tests)


def sensitive_model(scale: int = 2):
    """bicubic(x) + a small learned-looking residual, where one branch is INT8-hostile.

    ``/sens_a`` makes 8 channels: channel 0 carries a huge constant (bias 500) and channels 1..7
    small detail values (~0.05). ``/sens_b`` reads only the small channels, with large gains.
    Quantizing the tensor between them (amax ~500, step ~4) erases the small channels, so
    INT8 on that edge costs several dB, while the benign branch ``/calm`` is harmless.
    """
    b = Builder(seed=3)
    x = "input"
    scales = b.const(np.array([1, 1, scale, scale], np.float32), "scales")
    up = b.op("Resize", [x, "", scales], mode="cubic", coordinate_transformation_mode="half_pixel", cubic_coeff_a=-0.75)
    wa = (b.rng.standard_normal((8, 3, 3, 3)) * 0.05).astype(np.float32)
    wa[0] = 0.0
    ba = np.zeros(8, np.float32)
    ba[0] = 500.0
    a = b.op("Conv", [x, b.const(wa, "wa"), b.const(ba, "ba")], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    b.nodes[-1].name = "/sens_a"
    r = b.op("Relu", [a])
    wb = (b.rng.standard_normal((3 * scale * scale, 8, 3, 3)) * 0.08).astype(np.float32)
    wb[:, 0] = 0.0
    sb = b.op(
        "Conv",
        [r, b.const(wb, "wb"), b.const(np.zeros(3 * scale * scale, np.float32), "bb")],
        kernel_shape=[3, 3],
        pads=[1, 1, 1, 1],
    )
    b.nodes[-1].name = "/sens_b"
    wc = (b.rng.standard_normal((3 * scale * scale, 3, 3, 3)) * 0.01).astype(np.float32)
    calm = b.op(
        "Conv",
        [x, b.const(wc, "wc"), b.const(np.zeros(3 * scale * scale, np.float32), "bc")],
        kernel_shape=[3, 3],
        pads=[1, 1, 1, 1],
    )
    b.nodes[-1].name = "/calm"
    res = b.op("Add", [sb, calm])
    y = b.op("DepthToSpace", [res], blocksize=scale, mode="CRD")
    out = b.op("Add", [up, y])
    meta = {"edgesr.arch": "tiny-sensitive", "edgesr.scale": scale, "edgesr.value_range": 1.0}
    return b.model(out, metadata=meta)


def conv_chain(scale: int = 2, channels: int = 16, seed: int = 1, value_range: float = 1.0, act: str = "LeakyRelu"):
    """bicubic(x) + conv -> act -> conv -> act -> conv -> pixel shuffle (INT8-friendly); ``act``
    is an ONNX op or ``"gelu"`` (PyTorch's erf form)."""
    attrs = {"alpha": 0.05} if act == "LeakyRelu" else {}
    b = Builder(seed=seed)

    def activation(t: str) -> str:
        return b.gelu(t) if act == "gelu" else b.op(act, [t], **attrs)

    x = "input"
    scales = b.const(np.array([1, 1, scale, scale], np.float32), "scales")
    up = b.op("Resize", [x, "", scales], mode="cubic", coordinate_transformation_mode="half_pixel", cubic_coeff_a=-0.75)
    f = activation(b.conv(x, 3, channels))
    f = activation(b.conv(f, channels, channels))
    f = b.conv(f, channels, 3 * scale * scale)
    y = b.op("DepthToSpace", [f], blocksize=scale, mode="CRD")
    out = b.op("Add", [up, y])
    meta = {"edgesr.arch": "tiny-chain", "edgesr.scale": scale, "edgesr.value_range": value_range}
    return b.model(out, metadata=meta)


def wide_gelu_chain():
    """:func:`conv_chain` with GELUs whose first conv has two output channels 25x wider than the
    rest (what GELU smoothing is for)."""
    from onnx import numpy_helper

    model = conv_chain(act="gelu", channels=8)
    first = next(n for n in model.graph.node if n.op_type == "Conv")
    for t in model.graph.initializer:
        if t.name in first.input[1:]:
            v = numpy_helper.to_array(t).copy()
            v[:2] *= 25
            t.CopyFrom(numpy_helper.from_array(v, t.name))
    return model
