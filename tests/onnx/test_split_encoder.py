"""A blind-SR graph split at its representation: the two parts compute what the one graph does."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from edgesr import models
from edgesr.errors import ModelError
from edgesr.export import export_onnx
from edgesr.meta import GRAPH_KEY, PAIR_KEY, REPRESENTATION, all_props
from edgesr.onnx.sessions import session
from edgesr.onnx.split_encoder import representation_tensor, split


@pytest.fixture(scope="module")
def blind(tmp_path_factory):
    torch.manual_seed(0)
    net = models.create("aidn-da", channels=8, convs=3, rep=8, encoder_channels=4, modulated=2)
    for p in net.attention.parameters():  # trained-looking attention: the representation matters
        torch.nn.init.normal_(p, std=0.3)
    path = tmp_path_factory.mktemp("blind") / "da.onnx"
    export_onnx(models.deployed(net.eval()), path)
    return path


def test_two_graphs_equal_the_one_graph_and_say_which_is_which(blind, tmp_path):
    result = split(blind, tmp_path)
    x = np.random.default_rng(0).random((2, 3, 20, 28)).astype(np.float32)
    whole = session(str(blind)).run(None, {"input": x})[0]
    rep = session(str(result.encoder)).run(None, {"input": x})[0]
    cond = session(str(result.conditional))
    assert rep.shape == (2, result.representation) == (2, 8)
    assert [i.name for i in cond.get_inputs()] == ["input", REPRESENTATION]
    assert np.abs(cond.run(None, {"input": x, REPRESENTATION: rep})[0] - whole).max() <= 1e-5
    # another representation changes the output: the conditional graph really reads it
    other = cond.run(None, {"input": x, REPRESENTATION: rep + 1.0})[0]
    assert np.abs(other - whole).max() > 1e-4
    roles = [all_props(onnx.load(str(p))) for p in (result.encoder, result.conditional)]
    assert [r[GRAPH_KEY] for r in roles] == ["encoder", "conditional"]
    assert roles[0][PAIR_KEY] == roles[1][PAIR_KEY] == result.pair
    assert roles[0]["edgesr.arch"] == "aidn-da"


def test_a_graph_without_an_encoder_is_refused(tmp_path):
    path = tmp_path / "rt.onnx"
    export_onnx(models.create("aidn-rt", channels=8, convs=2).eval(), path)
    with pytest.raises(ModelError, match="no single degradation representation"):
        representation_tensor(onnx.load(str(path)))


def test_parts_of_two_models_do_not_pair_and_a_part_alone_does_not_run(blind, tmp_path):
    from edgesr.runtime.onnxruntime_runner import OnnxRuntimeRunner
    from edgesr.runtime.scene import pair_of

    torch.manual_seed(1)
    other_net = models.create("aidn-da", channels=8, convs=3, rep=8, encoder_channels=4, modulated=2)
    other_path = tmp_path / "other.onnx"
    export_onnx(models.deployed(other_net.eval()), other_path)
    mine, theirs = split(blind, tmp_path / "a"), split(other_path, tmp_path / "b")
    assert pair_of(mine.encoder, mine.conditional) == mine.pair != theirs.pair
    with pytest.raises(ModelError, match="belongs to another model"):
        pair_of(theirs.encoder, mine.conditional)
    with pytest.raises(ModelError, match="not the encoder graph"):
        pair_of(mine.conditional, mine.conditional)
    alone = tmp_path / "alone.conditional.onnx"
    alone.write_bytes(mine.conditional.read_bytes())  # no alone.encoder.onnx beside it
    with pytest.raises(ModelError, match="conditional graph of a blind-SR model"):
        OnnxRuntimeRunner(alone).activate()
    with pytest.raises(ModelError, match="encoder graph of a blind-SR model"):
        OnnxRuntimeRunner(mine.encoder).activate()


@pytest.mark.parametrize(
    "hw, window",
    [
        ((180, 320), (0, 180, 0, 320)),  # small frames whole
        ((512, 512), (0, 512, 0, 512)),
        ((3000, 3360), (1240, 1752, 1424, 1936)),  # central, on the 8x8 grid
        ((513, 1000), (0, 512, 240, 752)),
    ],
)
def test_the_encoder_reads_a_central_window_on_the_codec_grid(hw, window):
    from edgesr.onnx.split_encoder import CODEC_BLOCK, ENCODER_WINDOW, encoder_view

    frame = np.zeros((1, 3, *hw), np.uint8)
    view = encoder_view(frame)
    assert np.shares_memory(view, frame) and max(view.shape[2:]) <= ENCODER_WINDOW
    y0, y1, x0, x1 = window
    assert view.shape[2:] == (y1 - y0, x1 - x0)
    marked = frame.copy()
    marked[:, :, y0, x0] = 255
    assert encoder_view(marked)[0, 0, 0, 0] == 255 and y0 % CODEC_BLOCK == x0 % CODEC_BLOCK == 0
