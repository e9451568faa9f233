"""The unit that flows from a source to a sink: one RGB image and where it came from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Frame:
    """An HxWx3 uint8 RGB image.

    ``index`` counts frames delivered by the source (from 0); ``name`` is the file stem for
    image sources, so a folder sink can keep the input names; ``captured`` is the
    ``time.perf_counter()`` at which the source handed the frame over, the start of its
    end-to-end latency.
    """

    image: np.ndarray
    index: int
    captured: float
    name: str | None = None
    # The same pixels in BGR order, where the producer made that order for a sink that writes BGR
    # (OpenCV's encoders and windows): ``image`` is then a view of it, and no conversion runs.
    bgr: np.ndarray | None = None

    @property
    def size(self) -> tuple[int, int]:
        """Width and height, in the order video APIs use."""
        return int(self.image.shape[1]), int(self.image.shape[0])
