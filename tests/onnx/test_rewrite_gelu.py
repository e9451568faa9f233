"""GELUs whose 0.5 a simplifier folded into the next convolution are made whole again, exactly,
so ONNX Runtime fuses them; everything else is left alone."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import helper, numpy_helper  # noqa: E402

from edgesr.onnx.convert import convert  # noqa: E402
from edgesr.onnx.rewrite_gelu import restore_gelu_halves  # noqa: E402
from tests.tiny_models import gelu_model, save  # noqa: E402

X = np.random.default_rng(0).uniform(-1, 1, (2, 3, 9, 11)).astype(np.float32)


def run(model, x=X):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


def fused_ops(model, tmp_path) -> list[str]:
    """The op types ONNX Runtime runs after its own graph optimisations."""
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return [n.op_type for n in onnx.load(options.optimized_model_filepath).graph.node]


def folded(weight_as_constant_node: bool = False):
    """What onnxsim writes for conv -> GELU -> conv: the 0.5 multiplied into the last conv."""
    model = gelu_model(quantized=False, half=False)
    if weight_as_constant_node:
        graph = model.graph
        last = [n for n in graph.node if n.op_type == "Conv"][-1]
        weight = next(t for t in graph.initializer if t.name == last.input[1])
        graph.initializer.remove(weight)
        graph.node.insert(0, helper.make_node("Constant", [], [weight.name], value=weight))
        model = onnx.shape_inference.infer_shapes(model)  # value_info names the weight, as onnxsim's output does
    return model


@pytest.mark.parametrize("constant_node", [False, True], ids=["initializer", "Constant node"])
def test_folded_gelu_is_made_whole_exactly_and_fused_by_the_runtime(tmp_path, constant_node):
    model = folded(constant_node)
    before = run(model)
    assert "Gelu" not in fused_ops(model, tmp_path)
    assert len(restore_gelu_halves(model)) == 1
    onnx.checker.check_model(model, full_check=True)
    halves = [n for n in model.graph.node if n.op_type == "Mul" and "edgesr_gelu_half" in n.input]
    assert len(halves) == 1
    np.testing.assert_allclose(run(model), before, rtol=1e-5, atol=1e-6)
    assert "Gelu" in fused_ops(model, tmp_path)
    assert not any(n.op_type == "Constant" for n in model.graph.node)  # the old weight is gone, with its shape
    assert {v.name for v in model.graph.value_info} <= {o for n in model.graph.node for o in n.output}


def test_doubled_weight_is_exactly_twice_and_a_shared_one_stays_for_its_other_reader():
    model = folded()
    graph = model.graph
    convs = [n for n in graph.node if n.op_type == "Conv"]
    original = numpy_helper.to_array(next(t for t in graph.initializer if t.name == convs[-1].input[1]))
    # a second reader of the same weight, outside the GELU: it must keep the original values
    graph.node.append(
        helper.make_node(
            "Conv", [convs[0].output[0], convs[-1].input[1]], ["side"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]
        )
    )
    graph.output.append(helper.make_tensor_value_info("side", onnx.TensorProto.FLOAT, None))
    old_name = convs[-1].input[1]
    restore_gelu_halves(model)
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    assert np.array_equal(inits[convs[-1].input[1]], original * 2) and convs[-1].input[1] != old_name
    assert np.array_equal(inits[old_name], original)


@pytest.mark.parametrize("case", ["standard GELU", "GELU also read elsewhere", "GELU as a conv weight"])
def test_other_forms_are_left_alone(case):
    model = gelu_model(quantized=False, half=case == "standard GELU")
    graph = model.graph
    gelu = next(n for n in graph.node if n.op_type == "Mul" and any(i.startswith("add") for i in n.input)).output[0]
    if case == "GELU also read elsewhere":
        graph.node.append(helper.make_node("Relu", [gelu], ["extra"]))
        graph.output.append(helper.make_tensor_value_info("extra", onnx.TensorProto.FLOAT, None))
    elif case == "GELU as a conv weight":
        conv = next(n for n in graph.node if n.op_type == "Conv" and n.input[0] == gelu)
        conv.input[0], conv.input[1] = conv.input[1], gelu
    before = model.SerializeToString()
    assert restore_gelu_halves(model) == []
    assert model.SerializeToString() == before


def test_conversion_restores_what_the_simplifier_folded(tmp_path):
    result = convert(save(gelu_model(quantized=False), tmp_path / "g.onnx"), tmp_path / "out")
    report = result.report
    assert len(report["gelu_halves_restored"]) == 1 and report["parity"]["passed"]
    ops = [n.op_type for n in result.model.graph.node]
    assert ops.count("Mul") == 2 and "Gelu" in fused_ops(result.model, tmp_path)
