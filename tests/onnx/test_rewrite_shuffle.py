"""Add(DepthToSpace(a), DepthToSpace(b)) -> DepthToSpace(Add(a, b)): exact, and only where it is."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

from edgesr.onnx.rewrite_shuffle import merge_shuffled_adds  # noqa: E402


def two_shuffles(mode_b: str = "CRD", extra_reader: bool = False):
    nodes = [
        helper.make_node("DepthToSpace", ["a"], ["sa"], blocksize=2, mode="CRD", name="da"),
        helper.make_node("DepthToSpace", ["b"], ["sb"], blocksize=2, mode=mode_b, name="db"),
        helper.make_node("Add", ["sa", "sb"], ["y"], name="add"),
    ]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 10, 14])]
    if extra_reader:
        nodes.append(helper.make_node("Relu", ["sa"], ["z"], name="other"))
        outputs.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 3, 10, 14]))
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 12, 5, 7]) for n in ("a", "b")]
    model = helper.make_model(
        helper.make_graph(nodes, "g", inputs, outputs), opset_imports=[helper.make_opsetid("", 17)]
    )
    model.ir_version = 9
    return model


def run(model, feeds):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)


def test_merge_is_exact_and_leaves_one_shuffle():
    model = two_shuffles()
    rng = np.random.default_rng(0)
    feeds = {"a": rng.random((1, 12, 5, 7), np.float32), "b": rng.random((1, 12, 5, 7), np.float32)}
    before = run(model, feeds)[0]
    assert merge_shuffled_adds(model) == ["add"]
    ops = [n.op_type for n in model.graph.node]
    assert ops == ["Add", "DepthToSpace"]
    np.testing.assert_array_equal(run(model, feeds)[0], before)


@pytest.mark.parametrize("case", ["different modes", "shuffle read elsewhere"])
def test_left_alone_where_not_equivalent(case):
    model = two_shuffles(mode_b="DCR") if case == "different modes" else two_shuffles(extra_reader=True)
    assert merge_shuffled_adds(model) == []
    assert sum(n.op_type == "DepthToSpace" for n in model.graph.node) == 2
