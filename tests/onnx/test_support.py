"""Op support tables and the node/graph checker, on tiny graphs built with onnx.helper."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgesr import devices
from edgesr.errors import InputError
from edgesr.onnx import support
from edgesr.onnx.support import Finding, check_graph, check_node, targets_for_device

GPU_TARGETS = ("trt8", "trt10", "trt11", "ort-cpu")


def _model(nodes, *, opset=17, shape=(1, 3, 16, 16), initializers=()):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [f"d{i}" for i in range(len(shape))])
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)  # the test graphs themselves must be valid ONNX
    return model


def _weights(name, shape):
    return numpy_helper.from_array(np.zeros(shape, np.float32), name)


def _by_op(findings):
    out = {}
    for f in findings:
        out.setdefault(f.op, []).append(f)
    return out


def _only(findings, op) -> Finding:
    (finding,) = _by_op(findings)[op]
    return finding


def _conv_relu_d2s():
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("DepthToSpace", ["r"], ["y"], name="shuffle", blocksize=2),
    ]
    return _model(nodes, initializers=[_weights("w", (12, 3, 3, 3))])


def _resize(mode, coord="half_pixel", scales=(1, 1, 2, 2), opset=17, nearest="round_prefer_floor"):
    node = helper.make_node(
        "Resize",
        ["x", "", "s"],
        ["y"],
        name="up",
        mode=mode,
        coordinate_transformation_mode=coord,
        nearest_mode=nearest,
    )
    return _model([node], opset=opset, initializers=[numpy_helper.from_array(np.array(scales, np.float32), "s")])


def test_every_table_covers_every_sr_op_with_a_valid_status():
    assert set(support.TABLES) == set(support.TARGETS)
    for target, table in support.TABLES.items():
        assert set(support.SR_OPS) <= set(table), target
        assert {r.status for r in table.values()} <= {"supported", "partial", "unsupported"}
        for op, rule in table.items():
            if rule.status in ("partial", "unsupported"):
                assert rule.note, f"{target}/{op} needs a note saying why"


def test_conv_relu_depth_to_space_runs_on_every_gpu_and_cpu_target():
    model = _conv_relu_d2s()
    for target in GPU_TARGETS:
        findings = check_graph(model, target)
        assert {f.op: f.status for f in findings} == {
            "Conv": "supported",
            "Relu": "supported",
            "DepthToSpace": "supported",
        }, target
        assert not any(f.blocking for f in findings)
        assert _only(findings, "Conv").nodes == ("conv",)


def test_depth_to_space_falls_back_to_gpu_on_dla_without_blocking():
    findings = check_graph(_conv_relu_d2s(), "dla")
    assert _only(findings, "Conv").status == "supported"
    assert _only(findings, "Relu").status == "supported"
    d2s = _only(findings, "DepthToSpace")
    assert d2s.status == "unsupported" and not d2s.blocking
    assert "falls back to GPU" in d2s.note and d2s.nodes == ("shuffle",)


def test_cubic_resize_per_target():
    model = _resize("cubic")
    trt8 = _only(check_graph(model, "trt8"), "Resize")
    assert trt8.status == "unsupported" and trt8.blocking and "cubic" in trt8.note
    assert _only(check_graph(model, "trt10"), "Resize").status == "partial"
    assert _only(check_graph(model, "trt11"), "Resize").status == "partial"
    cpu = _only(check_graph(model, "ort-cpu"), "Resize")
    assert cpu.status == "supported" and "slow" in cpu.note
    dla = _only(check_graph(model, "dla"), "Resize")
    assert dla.status == "unsupported" and not dla.blocking and "falls back to GPU" in dla.note


@pytest.mark.parametrize("coord", ["tf_crop_and_resize", "half_pixel_symmetric"])
def test_resize_coordinate_modes_tensorrt_lacks_are_blocking(coord):
    finding = _only(check_graph(_resize("linear", coord, opset=19), "trt10"), "Resize")
    assert finding.status == "unsupported" and finding.blocking and coord in finding.note


def test_resize_on_dla_checks_mode_transform_and_scales():
    def dla(model):
        return _only(check_graph(model, "dla"), "Resize")

    assert dla(_resize("nearest", "asymmetric", nearest="floor")).status == "supported"
    assert dla(_resize("nearest")).status == "supported"  # half_pixel + round_prefer_floor
    assert dla(_resize("linear", "pytorch_half_pixel")).status == "supported"
    assert dla(_resize("nearest", scales=(1, 1, 64, 64))).status == "unsupported"
    assert dla(_resize("linear", scales=(1, 1, 8, 8))).status == "unsupported"
    assert dla(_resize("nearest", scales=(1, 1, 1.5, 1.5))).status == "unsupported"
    bad = dla(_resize("linear", "align_corners"))
    assert bad.status == "unsupported" and "align_corners" in bad.note and "falls back to GPU" in bad.note


def test_resize_scales_from_a_constant_node_are_read():
    scales = helper.make_node(
        "Constant", [], ["s"], name="scales", value=numpy_helper.from_array(np.array([1, 1, 64, 64], np.float32))
    )
    up = helper.make_node("Resize", ["x", "", "s"], ["y"], name="up", mode="nearest")
    findings = check_graph(_model([scales, up]), "dla")
    assert _only(findings, "Resize").status == "unsupported"
    assert _only(findings, "Constant").status == "supported"  # the value inside is not a node to check


def test_check_node_alone_reports_partial_when_constants_are_unknown():
    up = helper.make_node("Resize", ["x", "", "s"], ["y"], name="up", mode="nearest")
    finding = check_node(up, "dla", opset=17, dynamic=False)
    assert finding.status == "partial" and "1..32" in finding.note and finding.nodes == ("up",)


@pytest.mark.parametrize(
    ("mode", "opset", "trt8"),
    [
        ("constant", 17, "supported"),
        ("reflect", 17, "supported"),
        ("edge", 17, "supported"),
        ("wrap", 19, "unsupported"),
    ],
)
def test_pad_modes_per_tensorrt_version(mode, opset, trt8):
    pads = numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "p")
    model = _model(
        [helper.make_node("Pad", ["x", "p"], ["y"], name="pad", mode=mode)], opset=opset, initializers=[pads]
    )
    assert _only(check_graph(model, "trt8"), "Pad").status == trt8
    for target in ("trt10", "trt11", "ort-cpu"):
        assert _only(check_graph(model, target), "Pad").status == "supported", target
    dla = _only(check_graph(model, "dla"), "Pad")
    assert dla.status == "unsupported" and "falls back to GPU" in dla.note


def _layer_norm(outputs=("y",)):
    node = helper.make_node("LayerNormalization", ["x", "g"], list(outputs), name="ln", axis=-1)
    return _model([node], initializers=[_weights("g", (16,))])


def test_layer_normalization_per_target():
    model = _layer_norm()
    trt8 = _only(check_graph(model, "trt8"), "LayerNormalization")
    assert trt8.status == "partial" and "8.6" in trt8.note and not trt8.blocking
    assert _only(check_graph(model, "trt10"), "LayerNormalization").status == "supported"
    assert _only(check_graph(model, "ort-cpu"), "LayerNormalization").status == "supported"
    assert _only(check_graph(model, "dla"), "LayerNormalization").status == "unsupported"
    training = _only(check_graph(_layer_norm(("y", "mean", "inv_std")), "trt10"), "LayerNormalization")
    assert training.status == "unsupported" and training.blocking


def test_gelu_needs_opset_20_and_a_new_enough_tensorrt():
    model = _model([helper.make_node("Gelu", ["x"], ["y"], name="gelu")], opset=20)
    assert _only(check_graph(model, "trt8"), "Gelu").blocking
    assert _only(check_graph(model, "trt10"), "Gelu").status == "partial"
    assert _only(check_graph(model, "trt11"), "Gelu").status == "supported"
    assert _only(check_graph(model, "ort-cpu"), "Gelu").status == "supported"


def test_opset_21_group_normalization():
    node = helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], name="gn", num_groups=3)
    model = _model([node], opset=21, initializers=[_weights("s", (3,)), _weights("b", (3,))])
    assert _only(check_graph(model, "trt8"), "GroupNormalization").status == "unsupported"
    assert "10.9" in _only(check_graph(model, "trt10"), "GroupNormalization").note
    assert _only(check_graph(model, "trt11"), "GroupNormalization").status == "supported"


def test_an_op_in_no_table_is_unknown_and_not_blocking():
    model = _model([helper.make_node("Softsign", ["x"], ["y"], name="soft")])
    for target in support.TARGETS:
        finding = _only(check_graph(model, target), "Softsign")
        assert finding.status == "unknown" and not finding.blocking and finding.note, target
        assert finding.nodes == ("soft",)


def test_dynamic_input_sends_every_dla_layer_to_the_gpu():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, "H", "W"])
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"], name="a"), helper.make_node("Relu", ["r"], ["y"], name="b")],
        "g",
        [x],
        [y],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    (finding,) = check_graph(model, "dla")
    assert finding.status == "unsupported" and not finding.blocking
    assert "static shapes" in finding.note and "falls back to GPU" in finding.note
    assert finding.nodes == ("a", "b")
    assert check_graph(model, "trt10")[0].status == "supported"


def test_findings_group_nodes_and_name_unnamed_ones():
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="first"), helper.make_node("Relu", ["a"], ["y"])]
    (finding,) = check_graph(_model(nodes), "trt10")
    assert finding.nodes == ("first", "Relu#1")


@pytest.mark.parametrize(
    ("attrs", "status"),
    [
        ({"kernel_shape": [3, 3]}, "supported"),
        ({"kernel_shape": [3, 3], "dilations": [2, 2], "pads": [2, 2, 2, 2]}, "supported"),
        ({"kernel_shape": [3, 3], "strides": [9, 9]}, "unsupported"),
        ({"kernel_shape": [3, 3], "pads": [3, 3, 3, 3]}, "unsupported"),  # pads must stay below the kernel
    ],
)
def test_dla_convolution_limits(attrs, status):
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", **attrs)
    model = _model([node], initializers=[_weights("w", (8, 3, 3, 3))])
    assert _only(check_graph(model, "dla"), "Conv").status == status
    assert _only(check_graph(model, "trt10"), "Conv").status == "supported"


def test_dla_rejects_large_kernels_and_grouped_deconvolution():
    big = helper.make_node("Conv", ["x", "w"], ["y"], name="big", kernel_shape=[33, 33], pads=[16] * 4)
    finding = _only(check_graph(_model([big], initializers=[_weights("w", (8, 3, 33, 33))]), "dla"), "Conv")
    assert finding.status == "unsupported" and "kernel" in finding.note
    deconv = helper.make_node(
        "ConvTranspose", ["x", "w"], ["y"], name="up", kernel_shape=[2, 2], strides=[2, 2], group=3
    )
    finding = _only(check_graph(_model([deconv], initializers=[_weights("w", (3, 1, 2, 2))]), "dla"), "ConvTranspose")
    assert finding.status == "unsupported" and "grouped" in finding.note
    plain = helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up", kernel_shape=[2, 2], strides=[2, 2])
    model = _model([plain], initializers=[_weights("w", (3, 4, 2, 2))])
    assert _only(check_graph(model, "dla"), "ConvTranspose").status == "supported"


@pytest.mark.parametrize(
    ("op", "kernel", "status"),
    [
        ("MaxPool", [3, 3], "supported"),
        ("AveragePool", [8, 8], "supported"),
        ("MaxPool", [9, 9], "unsupported"),
        ("AveragePool", [3, 3, 3], "unsupported"),
    ],
)
def test_dla_pooling_window(op, kernel, status):
    shape = (1, 3, 16, 16) if len(kernel) == 2 else (1, 3, 16, 16, 16)
    model = _model([helper.make_node(op, ["x"], ["y"], name="pool", kernel_shape=kernel)], shape=shape)
    assert _only(check_graph(model, "dla"), op).status == status


def test_dilated_pooling_is_blocking_on_tensorrt():
    node = helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2], dilations=[2, 2])
    finding = _only(check_graph(_model([node]), "trt11"), "MaxPool")
    assert finding.blocking and "dilation" in finding.note


def test_dla_concat_axis_and_constant_second_input():
    cat = helper.make_node("Concat", ["x", "x"], ["y"], name="cat", axis=1)
    assert _only(check_graph(_model([cat]), "dla"), "Concat").status == "supported"
    cat_w = helper.make_node("Concat", ["x", "x"], ["y"], name="cat", axis=3)
    assert _only(check_graph(_model([cat_w]), "dla"), "Concat").status == "unsupported"
    mm = helper.make_node("MatMul", ["x", "x"], ["y"], name="mm")
    assert _only(check_graph(_model([mm], shape=(1, 3, 16, 16)), "dla"), "MatMul").status == "unsupported"


def _qdq(zero_point, scale, on_weights):
    inits = [
        numpy_helper.from_array(np.array(scale, np.float32), "s"),
        numpy_helper.from_array(np.array(zero_point, np.int8), "z"),
    ]
    if on_weights:
        inits.append(_weights("w", (len(scale) if isinstance(scale, list) else 1, 3, 3, 3)))
        nodes = [
            helper.make_node("QuantizeLinear", ["w", "s", "z"], ["wq"], name="q", axis=0),
            helper.make_node("DequantizeLinear", ["wq", "s", "z"], ["wd"], name="dq", axis=0),
            helper.make_node("Conv", ["x", "wd"], ["y"], name="conv", kernel_shape=[3, 3]),
        ]
    else:
        nodes = [
            helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="q", axis=1),
            helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], name="dq", axis=1),
        ]
    return _model(nodes, initializers=inits)


def test_quantize_linear_zero_point_and_per_channel_axis():
    per_tensor = _qdq(0, 0.1, on_weights=False)
    assert _only(check_graph(per_tensor, "trt10"), "QuantizeLinear").status == "supported"
    asym = _only(check_graph(_qdq(3, 0.1, on_weights=False), "trt8"), "QuantizeLinear")
    assert asym.blocking and "zero point" in asym.note
    assert _only(check_graph(_qdq(3, 0.1, on_weights=False), "ort-cpu"), "QuantizeLinear").status == "supported"
    per_channel_activation = _only(
        check_graph(_qdq([0, 0, 0], [0.1, 0.2, 0.3], on_weights=False), "trt11"), "QuantizeLinear"
    )
    assert per_channel_activation.blocking and "weights" in per_channel_activation.note
    weights = check_graph(_qdq([0] * 4, [0.1] * 4, on_weights=True), "trt10")
    assert _only(weights, "QuantizeLinear").status == "supported"
    assert _only(weights, "DequantizeLinear").status == "partial"  # rooted at weights through Q: not traced
    dla = _only(check_graph(per_tensor, "dla"), "QuantizeLinear")
    assert dla.status == "unsupported" and "falls back to GPU" in dla.note


def test_blocking_is_never_true_for_dla():
    assert Finding("X", "trt10", "unsupported").blocking
    assert not Finding("X", "dla", "unsupported").blocking
    assert not Finding("X", "trt10", "partial").blocking
    assert not Finding("X", "trt10", "unknown").blocking


def test_unknown_target_suggests_the_closest():
    with pytest.raises(InputError, match="did you mean 'trt10'"):
        check_graph(_conv_relu_d2s(), "trt-10")


@pytest.mark.parametrize(
    ("device_id", "expected"),
    [
        ("orin-agx", ("trt8", "trt10", "trt11", "dla")),
        ("orin-nano", ("trt8", "trt10")),
        ("xavier-nx", ("trt8", "dla")),
        ("nano", ("trt8",)),
        ("thor", ("trt10", "trt11")),
        ("cpu", ("ort-cpu",)),
    ],
)
def test_targets_for_device(device_id, expected):
    assert targets_for_device(devices.get(device_id)) == expected


def test_import_is_cheap():
    code = (
        "import sys, edgesr.onnx.support; print(sorted(m for m in ('onnx', 'torch', 'tensorrt') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
