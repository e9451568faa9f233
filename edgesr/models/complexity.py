"""Parameter and multiply-accumulate counts, the two numbers SR papers compare models by.

MACs are counted at the ATen level while the model runs on the ``meta`` device (shapes only:
no memory, no arithmetic), so any convolution or matrix product is seen, whether it comes from
a layer module or a functional call. Counted, per frame:

- convolutions: output elements x (input channels / groups) x kernel area;
- transposed convolutions: input elements x (output channels / groups) x kernel area;
- matrix products (``mm``, ``addmm``, ``bmm``, ``baddbmm``, so also linear layers and
  ``matmul``): output elements x inner dimension.

Bias adds, activations, pooling, normalisation, resizing and element-wise products are not
counted: they are at most a few operations per element, against hundreds per output pixel for
the convolutions of these networks.
"""

from __future__ import annotations

import copy
import math

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from edgesr.errors import InputError

_aten = torch.ops.aten
_MATMULS = {_aten.mm.default, _aten.addmm.default, _aten.bmm.default, _aten.baddbmm.default}


class _MacCounter(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.macs = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func is _aten.convolution.default:
            x, weight, transposed = args[0], args[1], args[6]
            per_element = weight.shape[1] * math.prod(weight.shape[2:])
            self.macs += (x.numel() if transposed else out.numel()) * per_element
        elif func in _MATMULS:
            self.macs += out.numel() * args[-2].shape[-1]
        return out


def count_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count_macs(module: torch.nn.Module, out_hw: tuple[int, int] = (720, 1280)) -> int:
    """MACs for one frame whose output is ``out_hw`` (input ``out_hw / scale``)."""
    scale = int(module.scale)
    h, w = out_hw
    if h % scale or w % scale:
        raise InputError(f"output size {h}x{w} is not a multiple of the x{scale} scale")
    shadow = copy.deepcopy(module).to("meta").eval()
    counter = _MacCounter()
    with torch.no_grad(), counter:
        shadow(torch.empty(1, 3, h // scale, w // scale, device="meta"))
    return counter.macs
