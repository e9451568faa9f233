"""The ONNX graph index: producers and readers by tensor, initializers, element types on request."""

from onnx import TensorProto, helper

from edgesr.onnx.graph_index import FLOAT, GraphIndex
from tests.tiny_models import sr_model


def _graph_with_an_unused_optional_output():
    nodes = [
        helper.make_node("Dropout", ["x"], ["y", ""], name="drop"),
        helper.make_node("Add", ["y", "y"], ["z"], name="twice"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1])],
    )
    return helper.make_model(graph)


def test_links_index_every_reader_slot_and_skip_empty_names():
    idx = GraphIndex.links(_graph_with_an_unused_optional_output().graph)
    assert set(idx.producer) == {"y", "z"} and idx.producer["z"].name == "twice"
    assert [n.name for n in idx.consumers["y"]] == ["twice", "twice"] and idx.fanout("z") == 1
    assert idx.graph_inputs == ["x"] and idx.graph_outputs == ["z"] and idx.elem_type == {}


def test_of_adds_element_types_and_sees_constants():
    model = sr_model()
    idx = GraphIndex.of(model)
    conv = next(n for n in idx.nodes if n.op_type == "Conv")
    assert idx.model is model and idx.node(conv.name) is conv
    assert idx.is_const(conv.input[1]) and not idx.is_const(conv.input[0]) and idx.constant_conv(conv)
    assert idx.elem_type[conv.output[0]] == FLOAT and idx.activation_inputs(conv) == [conv.input[0]]
