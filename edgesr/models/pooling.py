"""Size-dependent pooling and resizing written so that an ONNX export stays dynamic and exact.

``F.adaptive_max_pool2d(x, (h // p, w // p))`` exports with its output size frozen to the
sample's, and ``F.interpolate(size=...)`` becomes a float Resize whose rounding is up to the
runtime. The forms here use only ``max_pool2d`` with a fixed kernel, integer index arithmetic
on the input's shape, and gathers, so every runtime computes the same elements as PyTorch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def adaptive_max_pool(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Exactly ``F.adaptive_max_pool2d(x, (h // factor, w // factor))`` for ``h, w >= factor >= 2``.

    Adaptive window ``i`` of an axis of length ``n`` pooled to ``m = n // factor`` cells is
    ``[floor(i*n/m), ceil((i+1)*n/m))``. Its length is at least ``n/m >= factor`` and, because
    ``n < (m+1)*factor``, at most ``2*factor``. So two fixed ``factor``-long windows, one at each
    end, cover it, and its max is the larger of a stride-1 ``factor``-window max-pool read at
    ``start`` and at ``end - factor``. Max is idempotent, so the overlap changes nothing. The
    axes are pooled one after the other, which is exact because adaptive windows are products
    of a row range and a column range.
    """
    return _pool_axis(_pool_axis(x, 2, factor), 3, factor)


def _pool_axis(x: torch.Tensor, dim: int, factor: int) -> torch.Tensor:
    n = x.shape[dim]
    m = n // factor
    i = torch.arange(m, device=x.device)
    start = (i * n) // m
    end = ((i + 1) * n + m - 1) // m
    kernel = (factor, 1) if dim == 2 else (1, factor)
    sliding = F.max_pool2d(x, kernel, stride=1)
    return torch.maximum(sliding.index_select(dim, start), sliding.index_select(dim, end - factor))


def upsample_nearest(x: torch.Tensor, height, width) -> torch.Tensor:
    """``F.interpolate(x, size=(height, width), mode="nearest")`` as two integer-indexed gathers.

    Output pixel ``j`` of an axis reads input ``floor(j * n_in / n_out)``, computed in integers.
    PyTorch computes it in float32; the two agree for every upscale from ``n // 4``, ``n // 8``
    and ``n // 16`` to ``n`` with ``n`` up to 8192 (checked exhaustively), which covers SAFMN.
    """
    rows = (torch.arange(height, device=x.device) * x.shape[2]) // height
    cols = (torch.arange(width, device=x.device) * x.shape[3]) // width
    # Columns first, on the coarse rows: a gather along the last axis copies element by element,
    # one along rows copies whole rows, so this order leaves the slow gather the least to do.
    return x.index_select(3, cols).index_select(2, rows)
