import pytest

from tests.quantize.models import conv_chain, sensitive_model
from tests.tiny_models import save, sr_model


@pytest.fixture
def chain_path(tmp_path):
    return save(conv_chain(), tmp_path / "chain.onnx")


@pytest.fixture
def attention_path(tmp_path):
    return save(sr_model(scale=2, attention=True, bicubic_skip=True), tmp_path / "att.onnx")


@pytest.fixture
def sensitive_path(tmp_path):
    return save(sensitive_model(), tmp_path / "sensitive.onnx")


FAST = dict(count=6, latency=False, validation_count=3, validation_max_side=96)
