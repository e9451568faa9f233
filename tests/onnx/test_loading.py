import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edgesr.errors import InputError, ModelError
from edgesr.onnx import loading
from tests.tiny_models import IR_VERSION, save, sr_model


def test_loads_dynamic_and_fixed_models(tmp_path):
    dyn = loading.load(save(sr_model(), tmp_path / "dyn.onnx"))
    inp = loading.image_input(dyn)
    assert inp.dynamic_hw and inp.channels == 3 and inp.shape_text == "1x3x?x?"
    fixed = loading.load(save(sr_model(dims=(1, 3, 32, 48)), tmp_path / "fixed.onnx"))
    assert not loading.image_input(fixed).dynamic_hw


def test_external_data_is_pulled_inline(tmp_path):
    model = sr_model(channels=64)
    path = tmp_path / "ext.onnx"
    onnx.save(
        model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="ext.onnx.data",
        size_threshold=0,
    )
    assert (tmp_path / "ext.onnx.data").exists()
    loaded = loading.load(path)
    assert all(not t.external_data for t in loaded.graph.initializer)


def test_fix_input_shape(tmp_path):
    model, inp, notes = loading.sanitise(sr_model(), (1, 3, 18, 32))
    assert inp.dims == (1, 3, 18, 32) and "fixed input shape" in notes[0]
    with pytest.raises(InputError, match="conflicts"):
        loading.sanitise(sr_model(), (1, 1, 18, 32))


def test_old_opset_is_upgraded():
    model, _, notes = loading.sanitise(sr_model(opset=11))
    assert loading.opset_of(model) == loading.UPGRADE_OPSET and "upgraded opset 11" in notes[0]


def _old_opset_model():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Add", ["r", "x"], ["y"])]
    return helper.make_model(
        helper.make_graph(nodes, "g", [x], [y]), opset_imports=[helper.make_opsetid("", 5)], ir_version=3
    )


def test_opset_too_old_to_convert_is_a_model_error():
    with pytest.raises(ModelError, match="opset 5 is older than 13 .*re-export"):
        loading.sanitise(_old_opset_model())


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"this is plainly not a protobuf \xff\xfe", "not an ONNX model"),
    ],
)
def test_not_onnx(tmp_path, content, message):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        loading.load(path)


def test_truncated_model(tmp_path):
    data = sr_model(channels=32).SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="not an ONNX model or is truncated|not a valid ONNX|not an ONNX model"):
        loading.load(path)


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        loading.load(tmp_path / "nope.onnx")


def _model_with_inputs(inputs):
    nodes = [helper.make_node("Identity", [inputs[0].name], ["y"])]
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    return helper.make_model(
        helper.make_graph(nodes, "g", inputs, [y]), opset_imports=[helper.make_opsetid("", 17)], ir_version=IR_VERSION
    )


def test_two_image_inputs_are_refused():
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 3, "h", "w"])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 3, "h", "w"])
    with pytest.raises(ModelError, match="2 inputs \\(a, b\\).*exactly one image input"):
        loading.image_input(_model_with_inputs([a, b]))


@pytest.mark.parametrize(
    "dims, message",
    [
        ([1, 3, 8], "rank 3"),
        ([1, 4, 8, 8], "4 channels"),
        ([1, "c", 8, 8], "c channels"),
    ],
)
def test_bad_input_shapes(dims, message):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)
    with pytest.raises(ModelError, match=message):
        loading.image_input(_model_with_inputs([x]))


def test_integer_input_is_refused():
    x = helper.make_tensor_value_info("x", TensorProto.INT64, [1, 3, 8, 8])
    with pytest.raises(ModelError, match="not a float32/float16"):
        loading.image_input(_model_with_inputs([x]))


@pytest.mark.parametrize("text", ["1x3x180", "axbxcxd", "1x3x0x5", ""])
def test_parse_shape_errors(text):
    with pytest.raises(InputError, match="NxCxHxW"):
        loading.parse_shape(text)


def test_parse_shape():
    assert loading.parse_shape("1x3x180x320") == (1, 3, 180, 320)
    assert np.prod(loading.parse_shape("2,3,4,5")) == 120
