"""The EMA weights: the ramped decay, buffers copied, and a state dict that resumes where it stopped."""

from __future__ import annotations

import torch

from edgesr.train.ema import EMA


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 3, 1)
        self.register_buffer("act_id", torch.tensor(0))


def _step(net, value: float) -> None:
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(value)


def test_decay_ramps_from_the_first_update():
    """Step 0 averages with weight 1 - 1/10 on the new weights (no plain copy), later steps follow the ramp."""
    net = Net()
    _step(net, 0.0)
    ema = EMA(net, decay=0.5)
    _step(net, 1.0)
    ema.update(net, 0)  # decay min(0.5, 1/10) = 0.1
    assert torch.allclose(ema.module.conv.weight, torch.full_like(net.conv.weight, 0.9))
    ema.update(net, 90)  # decay min(0.5, 91/100) = 0.5
    assert torch.allclose(ema.module.conv.weight, torch.full_like(net.conv.weight, 0.95))


def test_buffers_are_copied_not_averaged():
    net = Net()
    ema = EMA(net, decay=0.999)
    net.act_id.fill_(3)
    ema.update(net, 1000)
    assert int(ema.module.act_id) == 3


def test_the_copy_is_frozen():
    ema = EMA(Net().train(), decay=0.999)
    assert not ema.module.training
    assert not any(p.requires_grad for p in ema.module.parameters())


def test_state_dict_is_the_plain_module_and_resumes_exactly():
    """``params_ema`` in checkpoints is the copy's own state dict; a resumed EMA continues as if never stopped."""
    torch.manual_seed(0)
    net = Net()
    whole = EMA(net, decay=0.99)
    steps = [float(v) for v in torch.rand(8)]
    for step, value in enumerate(steps[:4]):
        _step(net, value)
        whole.update(net, step)
    saved = whole.state_dict()
    assert set(saved) == set(Net().state_dict())
    resumed = EMA(Net(), decay=0.99)
    resumed.load_state_dict(saved)
    for step, value in enumerate(steps[4:], start=4):
        _step(net, value)
        whole.update(net, step)
        resumed.update(net, step)
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
