import copy

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgesr.onnx.rewrite_bicubic import (
    cubic_weight,
    phase_weights,
    rewrite_bicubic_resizes,
)
from tests.tiny_models import IR_VERSION


def resize_model(
    scale, mode="cubic", transform="half_pixel", exclude_outside=0, scales=None, channels=3, elem=TensorProto.FLOAT
):
    x = helper.make_tensor_value_info("x", elem, [1, channels, "h", "w"])
    y = helper.make_tensor_value_info("y", elem, [1, channels, None, None])
    sc = numpy_helper.from_array(np.array(scales or [1, 1, scale, scale], np.float32), "scales")
    node = helper.make_node(
        "Resize",
        ["x", "", "scales"],
        ["y"],
        name="up",
        mode=mode,
        coordinate_transformation_mode=transform,
        cubic_coeff_a=-0.75,
        exclude_outside=exclude_outside,
    )
    return helper.make_model(
        helper.make_graph([node], "g", [x], [y], [sc]),
        opset_imports=[helper.make_opsetid("", 17)],
        ir_version=IR_VERSION,
    )


def run(model, x):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


def test_phase_weights_sum_to_one_and_match_keys_kernel():
    for s in (2, 3, 4, 8):
        for t in ("half_pixel", "asymmetric"):
            assert np.allclose(phase_weights(s, -0.75, t).sum(axis=1), 1.0)
    assert cubic_weight(np.array(0.0), -0.75) == 1.0
    assert cubic_weight(np.array(1.0), -0.75) == 0.0
    assert cubic_weight(np.array(2.5), -0.75) == 0.0


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("transform", ["half_pixel", "pytorch_half_pixel", "asymmetric"])
def test_rewrite_matches_onnx_resize(scale, transform):
    model = resize_model(scale, transform=transform)
    x = np.random.default_rng(scale).random((1, 3, 17, 23), dtype=np.float32)
    want = run(model, x)
    rewritten = copy.deepcopy(model)
    done, skipped = rewrite_bicubic_resizes(rewritten)
    assert len(done) == 1 and not skipped
    assert [n.op_type for n in rewritten.graph.node] == ["Pad", "Conv", "DepthToSpace"]
    got = run(rewritten, x)
    assert got.shape == want.shape == (1, 3, 17 * scale, 23 * scale)
    assert np.abs(got - want).max() < 1e-5


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_rewrite_matches_pytorch_bicubic(scale):
    torch = pytest.importorskip("torch", reason="torch is needed for the PyTorch reference")
    x = np.random.default_rng(0).random((1, 3, 21, 19), dtype=np.float32)
    rewritten = resize_model(scale)
    rewrite_bicubic_resizes(rewritten)
    ref = torch.nn.functional.interpolate(
        torch.from_numpy(x), scale_factor=scale, mode="bicubic", align_corners=False
    ).numpy()
    assert np.abs(run(rewritten, x) - ref).max() < 1e-4


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        (dict(transform="align_corners"), "align_corners"),
        (dict(exclude_outside=1), "exclude_outside"),
        (dict(scales=[1, 1, 2.5, 2.5]), "not an integer"),
        (dict(scales=[1, 1, 2, 3]), "not [1, 1, s, s]"),
    ],
)
def test_non_rewritable_resizes_are_kept_with_a_reason(kwargs, reason):
    model = resize_model(2, **kwargs)
    done, skipped = rewrite_bicubic_resizes(model)
    assert not done and len(skipped) == 1 and reason in skipped[0]
    assert [n.op_type for n in model.graph.node] == ["Resize"]


def test_linear_resize_is_left_alone():
    model = resize_model(2, mode="linear")
    assert rewrite_bicubic_resizes(model) == ([], [])


def test_unknown_channel_count_is_reported():
    done, skipped = rewrite_bicubic_resizes(resize_model(2, channels="c"))
    assert not done and "channel count" in skipped[0]


def test_fp16_graph_gets_an_fp16_kernel():
    model = resize_model(2, elem=TensorProto.FLOAT16)
    x = np.random.default_rng(2).random((1, 3, 9, 11)).astype(np.float16)
    want = run(model, x).astype(np.float32)
    done, _ = rewrite_bicubic_resizes(model)
    assert len(done) == 1
    assert np.abs(run(model, x).astype(np.float32) - want).max() < 2e-2
