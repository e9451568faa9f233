"""A live source that stalls or drops is reconnected with bounded backoff, and the gap is counted."""

from __future__ import annotations

import threading
import time

import pytest

from edgesr.io.sources import (
    EndOfStream,
    ReconnectingSource,
    ReconnectPolicy,
    SourceError,
)
from edgesr.runtime.streaming import Pipeline, PipelineOptions
from tests.runtime.fakes import FakeCamera, FakeRunner, RecordingSink, index_of

FAST = ReconnectPolicy(retries=3, delay=0.05, max_delay=0.2, stall_timeout=0.3)


class Cameras:
    """An opener: the first camera follows ``first``; later ones are healthy, after ``failures``
    refused opens (the device is still gone)."""

    def __init__(self, failures: int = 0, **first):
        self.first, self.failures = first, failures
        self.opened: list[FakeCamera] = []
        self.attempts = 0

    def __call__(self) -> FakeCamera:
        self.attempts += 1
        if self.opened and self.failures > 0:
            self.failures -= 1
            raise SourceError("no such camera (yet)")
        camera = FakeCamera(fps=100.0, start_index=100 * len(self.opened), **(self.first if not self.opened else {}))
        self.opened.append(camera)
        return camera


def run(source, **options):
    sink = RecordingSink()
    with source, FakeRunner() as runner, sink:
        result = Pipeline(source, runner, sink, PipelineOptions(**options))()
    return result, sink


def test_dropped_camera_is_reconnected_and_the_gap_counted():
    cameras = Cameras(failures=2, drop_at=10)
    # drop="never": every frame the cameras produce reaches the sink, however slow this machine
    result, sink = run(ReconnectingSource(cameras, FAST), max_frames=30, drop="never")
    stats = result.stats
    assert stats["reconnects"] == 1 and cameras.attempts == 4  # first open, 2 refused, 1 good
    assert stats["gap_s"] >= 0.05 + 0.1 + 0.2 - 0.01  # the three backoff waits
    assert stats["missed_frames"] >= 30
    assert cameras.opened[0].closed
    first_camera = [i for i in (index_of(f.image) for f in sink.frames) if i < 100]
    assert first_camera == list(range(10)) and len(sink.frames) == 30
    assert [f.index for f in sink.frames] == list(range(30))  # indices continue across the reconnect


def test_stalled_camera_counts_as_lost():
    cameras = Cameras(stall_at=5, stall_s=10.0)
    start = time.perf_counter()
    result, _ = run(ReconnectingSource(cameras, FAST), max_frames=15)
    assert result.stats["reconnects"] == 1 and len(cameras.opened) == 2
    assert time.perf_counter() - start < 3.0  # did not sit out the 10 s stall


def test_backoff_is_bounded_and_then_a_clear_error():
    cameras = Cameras(failures=99, drop_at=3)
    policy = ReconnectPolicy(retries=3, delay=0.01, max_delay=0.02)
    with pytest.raises(SourceError, match="3 reconnect attempts failed.*--reconnect-retries"):
        run(ReconnectingSource(cameras, policy))
    assert cameras.attempts == 4


def test_first_open_failure_is_not_retried():
    def broken():
        raise SourceError("cannot open camera /dev/video9")

    with pytest.raises(SourceError, match="video9"):
        ReconnectingSource(broken, FAST).open()


def test_stop_interrupts_a_reconnect_wait():
    cameras = Cameras(failures=99, drop_at=2)
    source = ReconnectingSource(cameras, ReconnectPolicy(retries=5, delay=30.0))
    source.open()
    threading.Timer(0.2, source.interrupt).start()
    start = time.perf_counter()
    with pytest.raises(EndOfStream):
        while True:
            source.read(0.1)
    assert time.perf_counter() - start < 2.0


def test_no_retries_fails_at_the_first_drop():
    with pytest.raises(SourceError, match="0 reconnect attempts"):
        run(ReconnectingSource(Cameras(drop_at=3), ReconnectPolicy(retries=0)))
