"""The threaded pipeline: order, overlap, drop policy, stopping, errors, statistics."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from edgesr.errors import InputError
from edgesr.io.sources import TestPatternSource
from edgesr.runtime.runners import open_runner
from edgesr.runtime.streaming import Pipeline, PipelineOptions
from tests.runtime.fakes import FakeCamera, FakeRunner, RecordingSink, index_of, stamp


class StampedFiles(TestPatternSource):
    """A file-like (not live) source whose frames carry their index in their pixels."""

    def read(self, timeout):
        frame = super().read(timeout)
        frame.image = stamp(frame.index)
        return frame


def run(source, runner, sink, **options):
    with source, runner, sink:
        return Pipeline(source, runner, sink, PipelineOptions(**options))()


def test_every_file_frame_arrives_in_order_even_behind_a_slow_stage():
    sink = RecordingSink(delay=0.002)
    result = run(StampedFiles(32, 24, frames=60), FakeRunner(delay=0.004), sink)
    assert [index_of(f.image) for f in sink.frames] == list(range(60))
    assert [f.index for f in sink.frames] == list(range(60))
    assert result.ended == "end of stream" and result.stats["dropped"] == 0 and sink.closed
    assert sink.frames[0].image.shape == (48, 64, 3)


def test_real_model_output_matches_running_it_alone(models):
    source, sink = TestPatternSource(45, 31, frames=5), RecordingSink()
    run(source, open_runner(models["dynamic"]), sink, tile=(24, 24), tile_overlap=8)
    with open_runner(models["dynamic"]) as runner, TestPatternSource(45, 31, frames=5) as again:
        from edgesr.runtime.tiling import Tiler

        tiler = Tiler(runner.spec)
        for written in sink.frames:
            batch, plan = tiler.split(again.read(1.0).image)
            alone = tiler.stitch(runner.infer(batch), plan)
            assert np.abs(written.image.astype(int) - alone.astype(int)).max() <= 1


@pytest.mark.parametrize("tile", [None, (24, 24)], ids=["whole frame", "tiled"])
def test_a_sink_that_writes_bgr_gets_the_same_pixels_in_bgr_order(models, tile):
    class BgrSink(RecordingSink):
        prefers_bgr = True

    rgb_sink, bgr_sink = RecordingSink(), BgrSink()
    for sink in (rgb_sink, bgr_sink):
        run(TestPatternSource(45, 31, frames=3), open_runner(models["dynamic"]), sink, tile=tile, tile_overlap=8)
    for plain, ordered in zip(rgb_sink.frames, bgr_sink.frames):
        assert plain.bgr is None and ordered.bgr is not None
        assert np.array_equal(ordered.image, plain.image) and np.array_equal(ordered.bgr, plain.image[..., ::-1])


class Gated:
    """Makes one call of a stage wait at a barrier shared with the other stages: the barrier
    opens only while all of them are inside their call at the same time."""

    def __init__(self, barrier: threading.Barrier, at_call: int):
        self.barrier, self.at_call, self.calls = barrier, at_call, 0

    def __call__(self) -> None:
        self.calls += 1
        if self.calls == self.at_call:
            self.barrier.wait(timeout=10.0)


def test_stages_overlap():
    """Frame 2 is read while frame 1 is inferred while frame 0 is written; run one stage at a
    time and the barrier never opens (the run fails instead of hanging)."""
    barrier = threading.Barrier(3)
    gates = [Gated(barrier, at_call=3), Gated(barrier, at_call=2), Gated(barrier, at_call=1)]

    class Source(StampedFiles):
        def read(self, timeout):
            gates[0]()
            return super().read(timeout)

    class Runner(FakeRunner):
        def infer(self, batch):
            gates[1]()
            return super().infer(batch)

    class Sink(RecordingSink):
        def write(self, frame):
            gates[2]()
            super().write(frame)

    sink = Sink()
    result = run(Source(32, 24, frames=6), Runner(), sink)
    assert not barrier.broken and [index_of(f.image) for f in sink.frames] == list(range(6))
    assert result.stats["frames_written"] == 6


def test_live_source_drops_stale_frames_and_keeps_latency_bounded():
    camera = FakeCamera(fps=200.0)
    in_flight = []

    class Sink(RecordingSink):
        def write(self, frame):
            stats = pipeline.stats
            in_flight.append(stats.frames_read - stats.frames_written - stats.dropped)
            super().write(frame)

    sink = Sink()
    with camera, FakeRunner(delay=0.02) as runner, sink:
        pipeline = Pipeline(camera, runner, sink, PipelineOptions(max_seconds=1.0))
        result = pipeline()
    stats = result.stats
    assert result.ended == "time limit"
    assert stats["dropped"] > stats["frames_written"]  # 200 fps in, about 50 fps out
    assert stats["frames_read"] == stats["frames_written"] + stats["dropped"]
    indices = [index_of(f.image) for f in sink.frames]
    assert indices == sorted(indices)  # order kept, gaps where frames were dropped
    # No backlog, however slow this machine: at most one frame per stage and per one-slot queue
    # is ever between the camera and the sink (a growing queue would hold a hundred by now).
    assert max(in_flight) <= 5 + 4, in_flight


@pytest.mark.parametrize("policy", ["oldest", "newest"])
def test_drop_policies_both_drop(policy):
    result = run(FakeCamera(fps=200.0), FakeRunner(delay=0.02), RecordingSink(), drop=policy, max_seconds=0.5)
    assert result.stats["dropped"] > 0


def test_never_drop_policy_on_a_live_source_keeps_everything():
    sink = RecordingSink()
    result = run(FakeCamera(fps=200.0), FakeRunner(delay=0.005), sink, drop="never", max_frames=40)
    assert result.stats["dropped"] == 0 and len(sink.frames) == 40
    assert [index_of(f.image) for f in sink.frames] == list(range(40))


def test_stop_drains_frames_in_flight():
    sink = RecordingSink()
    source = StampedFiles(32, 24)  # endless
    with source, FakeRunner(delay=0.005) as runner, sink:
        pipeline = Pipeline(source, runner, sink)
        threading.Timer(0.3, pipeline.stop).start()
        result = pipeline()
    assert result.ended == "stopped"
    assert result.stats["frames_written"] == result.stats["frames_read"] == len(sink.frames) > 10


def test_ctrl_c_finishes_cleanly():
    sink = RecordingSink()
    source = StampedFiles(32, 24)

    def interrupt(written: int) -> None:
        if written >= 5:
            raise KeyboardInterrupt

    with source, FakeRunner() as runner, sink:
        result = Pipeline(source, runner, sink, on_progress=interrupt)()
    assert result.interrupted and result.stats["frames_written"] == result.stats["frames_read"] >= 5


def test_a_stage_error_stops_everything_and_is_raised():
    sink = RecordingSink()
    with pytest.raises(RuntimeError, match="exploded"):
        run(StampedFiles(32, 24), FakeRunner(fail_at=4), sink)
    assert sink.closed and len(sink.frames) <= 3


def test_a_sink_error_is_raised():
    class Full(RecordingSink):
        def write(self, frame):
            raise InputError("disk full")

    with pytest.raises(InputError, match="disk full"):
        run(StampedFiles(32, 24, frames=50), FakeRunner(), Full())


def test_statistics_are_complete():
    reports = []
    source, sink = StampedFiles(32, 24, frames=30), RecordingSink(delay=0.01)
    with source, FakeRunner() as runner, sink:
        result = Pipeline(source, runner, sink, PipelineOptions(report_every=0.05), on_report=reports.append)()
    stats = result.stats
    assert set(stats["stages"]) == {"read", "pre", "infer", "post", "write"}
    assert stats["stages"]["write"]["p50_ms"] >= 9.0
    assert stats["end_to_end"]["p95_ms"] >= stats["end_to_end"]["p50_ms"] > 0
    assert stats["fps"] > 0 and stats["frames_written"] == 30
    assert reports and "fps" in reports[0].line()
    assert result.to_dict()["model"]["backend"] == "fake"


def test_frames_of_changing_size_are_handled(models):
    class Mixed(TestPatternSource):
        def read(self, timeout):
            frame = super().read(timeout)
            frame.image = frame.image[: 20 + frame.index, : 31 - frame.index]
            return frame

    sink = RecordingSink()
    run(Mixed(40, 40, frames=4), open_runner(models["dynamic"]), sink)
    assert [f.image.shape for f in sink.frames] == [(4 * (20 + i), 4 * (31 - i), 3) for i in range(4)]


def test_bad_options_are_refused():
    with pytest.raises(InputError, match="drop policy"):
        PipelineOptions(drop="sometimes")
    with pytest.raises(InputError, match="queue-size"):
        PipelineOptions(queue_size=0)


def test_a_run_keeps_opencv_to_one_thread_of_its_own():
    import cv2

    cv2.setNumThreads(4)
    try:
        run(StampedFiles(32, 24, frames=3), FakeRunner(), RecordingSink())
        assert cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(-1)
