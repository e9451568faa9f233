"""The contrastive loss that teaches a degradation encoder (``edgesr.models.aidnda``) what degradation is.

A batch holds pairs (:class:`edgesr.train.degraded.PairedDegradedPatchSampler`): patches ``2k`` and
``2k + 1`` come from one image under one degradation. Each patch's projected representation
(the query) must pick its partner out of the batch: the partner's projection by the momentum
encoder (the key) is the positive, the other pairs' keys, other images under other
degradations, are the negatives (InfoNCE, both directions). The momentum encoder is the EMA copy
of the network the trainer keeps anyway (decay 0.999, as MoCo's key encoder); with keys from
the batch itself no queue is needed (as MoCo v3).
"""

from __future__ import annotations

from dataclasses import dataclass

from edgesr.lazy import require

torch = require("torch")
F = require("torch.nn.functional")

TEMPERATURE = 0.2  # MoCo v3's


@dataclass
class ContrastiveResult:
    loss: object  # scalar tensor
    accuracy: float  # share of queries whose nearest key is their partner's


def swap_pairs(x):
    """Each patch's partner in its place: 0,1,2,3 -> 1,0,3,2."""
    n = x.shape[0]
    order = torch.arange(n, device=x.device).view(-1, 2).flip(1).reshape(-1)
    return x[order]


def info_nce(encoder, key_encoder, lr, rep=None) -> ContrastiveResult:
    """InfoNCE of the pairs in ``lr`` (N x 3 x h x w, N even); ``rep``: the encoder's output if already computed."""
    if rep is None:
        rep = encoder(lr)
    query = F.normalize(encoder.project(rep), dim=1)
    with torch.no_grad():
        key = F.normalize(key_encoder.project(key_encoder(swap_pairs(lr))), dim=1)
    logits = query @ key.t() / TEMPERATURE
    target = torch.arange(lr.shape[0], device=lr.device)
    # key i^1 is the query's own patch under the key encoder: same degradation, not a negative
    logits = logits.masked_fill(F.one_hot(target ^ 1, lr.shape[0]).bool(), float("-inf"))
    loss = F.cross_entropy(logits, target)
    accuracy = float((logits.argmax(dim=1) == target).float().mean())
    return ContrastiveResult(loss, accuracy)
