"""The ONNX-in-torch interpreter matches ONNX Runtime; a few fine-tune steps run and export."""

import numpy as np
import pytest

from edgesr.onnx.graph_index import GraphIndex
from edgesr.onnx.sessions import session
from edgesr.quantize import placement, qdq
from edgesr.quantize.graph import unique_names
from tests.quantize.models import conv_chain
from tests.tiny_models import sr_model

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("model", [conv_chain(), sr_model(scale=2, attention=True, bicubic_skip=True)])
def test_interpreter_matches_onnxruntime(model):
    from edgesr.quantize.qat.torchgraph import build_module

    x = np.random.default_rng(0).random((1, 3, 20, 18), dtype=np.float32)
    s = session(model)
    ref = s.run(None, {s.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        y = build_module(model)(torch.from_numpy(x)).numpy()
    assert np.abs(y - ref).max() < 1e-4


def test_finetune_steps_and_export():
    from edgesr.quantize.qat.finetune import FinetuneOptions, finetune

    m = conv_chain()
    unique_names(m)
    idx = GraphIndex.of(m)
    sizes = {t: 100 for t in idx.elem_type}
    pl = placement.place(idx, sizes)
    amax = {t: 2.0 for t in idx.elem_type}
    rng = np.random.default_rng(0)
    patches = [rng.random((1, 3, 16, 16), dtype=np.float32) for _ in range(4)]
    r = finetune(m, qdq.QdqPlan(int8=pl.int8, amax=amax), patches, FinetuneOptions(steps=3, batch=2))
    assert len(r.losses) == 3 and all(np.isfinite(r.losses))
    assert set(r.amax) >= set(amax)
    qm = qdq.build(r.model, qdq.QdqPlan(int8=pl.int8, amax=r.amax))
    s = session(qm)
    assert s.run(None, {"input": patches[0]})[0].shape == (1, 3, 32, 32)
