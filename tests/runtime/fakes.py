"""Stand-ins for the pipeline's collaborators: a camera that stalls and drops, a runner with a
known cost, a sink that keeps what it gets."""

from __future__ import annotations

import threading
import time

import numpy as np

from edgesr.io.frame import Frame
from edgesr.io.sinks import Sink
from edgesr.io.sources import Source, SourceError
from edgesr.runtime.model_spec import ModelSpec
from edgesr.runtime.runners import Runner


def stamp(index: int, size: tuple[int, int] = (32, 24)) -> np.ndarray:
    """A frame whose pixels encode its index, so order and identity survive the pipeline."""
    w, h = size
    return np.full((h, w, 3), (index % 256, index // 256 % 256, 7), np.uint8)


def index_of(image: np.ndarray) -> int:
    return int(image[0, 0, 0]) + 256 * int(image[0, 0, 1])


class FakeCamera(Source):
    """A live source at ``fps`` frames per second. It goes silent for ``stall_s`` seconds after
    frame ``stall_at`` and raises :class:`SourceError` (unplugged) at frame ``drop_at``; counts
    are per connection, as a real camera restarts."""

    live = True

    def __init__(
        self,
        fps: float = 200.0,
        stall_at: int | None = None,
        stall_s: float = 0.0,
        drop_at: int | None = None,
        size: tuple[int, int] = (32, 24),
        start_index: int = 0,
    ):
        super().__init__("fake://camera")
        self.fps = fps
        self.stall_at, self.stall_s, self.drop_at = stall_at, stall_s, drop_at
        self.size = size
        self.produced = 0
        self.start_index = start_index
        self._next_due = 0.0
        self._wake = threading.Event()
        self.closed = False

    def open(self) -> None:
        self._next_due = time.perf_counter()

    def close(self) -> None:
        self.closed = True

    def interrupt(self) -> None:
        self._wake.set()

    def read(self, timeout: float) -> Frame | None:
        if self.drop_at is not None and self.produced >= self.drop_at:
            raise SourceError("fake camera unplugged")
        if self.stall_at is not None and self.produced == self.stall_at and self.stall_s > 0:
            self._next_due = time.perf_counter() + self.stall_s
            self.stall_s = 0.0
        wait = self._next_due - time.perf_counter()
        if wait > timeout:
            self._wake.wait(timeout)
            return None
        if wait > 0:
            self._wake.wait(wait)
        self._next_due = max(self._next_due + 1.0 / self.fps, time.perf_counter() - 1.0 / self.fps)
        frame = self._frame(stamp(self.start_index + self.produced, self.size))
        self.produced += 1
        return frame


class FakeRunner(Runner):
    """Nearest-neighbour x``scale`` upscaling that costs ``delay`` seconds a call, or fails at call ``fail_at``."""

    def __init__(self, scale: int = 2, delay: float = 0.0, fail_at: int | None = None):
        super().__init__("fake.onnx")
        self.scale, self.delay, self.fail_at = scale, delay, fail_at
        self.calls = 0

    def activate(self) -> None:
        self.spec = ModelSpec(
            scale=self.scale,
            value_range=255.0,
            channel_order="RGB",
            input_name="x",
            output_name="y",
            dtype="float32",
            input_hw=None,
            batch=None,
            size_multiple=1,
            precision="fp32",
            backend="fake",
        )

    def infer(self, batch: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.fail_at is not None and self.calls >= self.fail_at:
            raise RuntimeError("inference exploded")
        if self.delay:
            time.sleep(self.delay)
        return batch.repeat(self.scale, axis=2).repeat(self.scale, axis=3)


class RecordingSink(Sink):
    """Keeps every frame written, optionally slowly; remembers whether it was closed."""

    def __init__(self, delay: float = 0.0):
        super().__init__("memory://")
        self.frames: list[Frame] = []
        self.delay = delay
        self.closed = False

    def write(self, frame: Frame) -> None:
        if self.delay:
            time.sleep(self.delay)
        self.frames.append(frame)
        self.frames_written += 1

    def close(self) -> None:
        self.closed = True
