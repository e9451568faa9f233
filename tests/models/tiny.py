"""Tiny configurations of every published architecture, small enough for fast CPU tests."""

from __future__ import annotations

TINY: dict[str, dict] = {
    "rfdn": dict(channels=8, blocks=2, esa_channels=4),
    "rlfn": dict(channels=8, mid_channels=6, blocks=2, esa_channels=4),
    "safmn": dict(dim=8, blocks=1, hidden=12),
    "imdn": dict(channels=8, blocks=2, distilled=2, attention=2),
    "fsrcnn": dict(d=8, s=4, m=1),
    "espcn": dict(channels=8, mid_channels=4),
}
PUBLISHED = list(TINY)


def tiny(name: str, scale: int = 2):
    import torch

    from edgesr import models

    torch.manual_seed(0)
    net = models.create(name, scale=scale, **TINY[name])
    # Random init gives near-constant outputs; scale the weights up so that every layer matters.
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return net.eval()
