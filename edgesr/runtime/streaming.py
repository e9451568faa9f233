"""The threaded pipeline: read -> pre-process -> infer -> post-process -> write.

One thread per stage, joined by bounded FIFO queues, so the stages overlap, throughput
approaches that of the slowest stage, and frame order is preserved by construction. Heavy work
(decoding, numpy, ONNX Runtime, encoding) releases the GIL, so the threads really run in
parallel.

Drop policy. A file source never drops: every put blocks until there is room. A live source
keeps producing whether or not it is read, so blocking would turn into latency; for live
sources every queue in front of the inference stage (the usual bottleneck) is a "freshest
frame" slot: with ``drop="oldest"`` (the default) a full queue discards its oldest frame to take
the new one, with ``"newest"`` the new frame is discarded, and ``"never"`` blocks like a file.
Queues after inference always block, so each finished frame is written. Every drop is counted.

Stopping. End of stream, a frame or time limit, :meth:`Pipeline.stop` and Ctrl-C all stop the
reader and let the frames already in flight drain to the sink, so the output is complete up to
the last frame read. An error in any stage aborts all of them at once and is re-raised in the
calling thread. Opening and closing source, runner and sink is the caller's job (``with``
blocks), so the sink is finalised in every case.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from edgesr.errors import InputError
from edgesr.io.frame import Frame
from edgesr.io.sinks import Sink
from edgesr.io.sources import EndOfStream, Source
from edgesr.log import logger
from edgesr.runtime.runners import Runner
from edgesr.runtime.scene import ReestimatePolicy
from edgesr.runtime.stats import PipelineStats
from edgesr.runtime.tiling import DEFAULT_OVERLAP, TilePlan, Tiler

DROP_POLICIES = ("oldest", "newest", "never")
FILE_QUEUE_SIZE = 4  # enough slack to absorb per-frame jitter between stages
LIVE_QUEUE_SIZE = 1  # every queued live frame is latency
_POLL = 0.1  # seconds between checks for stop and abort while waiting


@dataclass
class PipelineOptions:
    """Pipeline settings; None means the default for the kind of source.

    ``queue_size``: depth of each inter-stage queue (1 for live sources, 4 for files).
    ``drop``: policy for live sources (see the module docstring); files never drop.
    ``tile``/``tile_overlap``: tile a dynamic model's input (fixed-shape models always tile).
    ``batch``: tiles per inference call (all tiles of a frame when None, or what the memory budget allows).
    ``memory_budget_mb``: what one frame may take; larger frames are tiled to fit (see tiling).
    ``max_frames``/``max_seconds``: stop after that many frames read, or seconds.
    ``report_every``: seconds between periodic reports (None: no reports).
    """

    queue_size: int | None = None
    drop: str = "oldest"
    tile: tuple[int, int] | None = None
    tile_overlap: int = DEFAULT_OVERLAP
    batch: int | None = None
    max_frames: int | None = None
    max_seconds: float | None = None
    report_every: float | None = None
    memory_budget_mb: int | None = None

    def __post_init__(self) -> None:
        if self.drop not in DROP_POLICIES:
            raise InputError(f"unknown drop policy '{self.drop}'; choose one of {', '.join(DROP_POLICIES)}")
        for name in ("queue_size", "batch", "max_frames"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InputError(f"{name.replace('_', '-')} must be at least 1, not {value}")


@dataclass
class PipelineResult:
    """How the run ended (``end of stream``, ``interrupted``, ``stopped``, ``frame limit``,
    ``time limit``) and its statistics."""

    ended: str
    stats: dict
    model: dict = field(default_factory=dict)
    source: str = ""
    sink: str = ""

    @property
    def interrupted(self) -> bool:
        return self.ended == "interrupted"

    def to_dict(self) -> dict:
        return {"ended": self.ended, "source": self.source, "sink": self.sink, "model": self.model, **self.stats}


@dataclass
class _Item:
    frame: Frame
    batch: np.ndarray | None = None
    plan: TilePlan | None = None
    stitched: np.ndarray | None = None  # the output frame, when its tiles ran in several calls
    condition: object = None  # a blind-SR model's degradation representation for this frame


class _Aborted(Exception):
    """Raised inside a stage thread when another stage failed; ends the thread quietly."""


_END = object()


class Pipeline:
    """``Pipeline(source, runner, sink, options)()`` runs until the source ends or the run is stopped.

    ``source``, ``runner`` and ``sink`` must be open (activated). ``on_progress(frames_written)``
    is called from the calling thread a few times a second; ``on_report(stats)`` every
    ``options.report_every`` seconds (default: a log line).
    """

    def __init__(
        self,
        source: Source,
        runner: Runner,
        sink: Sink,
        options: PipelineOptions | None = None,
        on_progress: Callable[[int], None] | None = None,
        on_report: Callable[[PipelineStats], None] | None = None,
    ):
        self.source, self.runner, self.sink = source, runner, sink
        self.options = options if options is not None else PipelineOptions()
        self.live = source.live
        self.drop = self.options.drop if self.live else "never"
        size = self.options.queue_size or (LIVE_QUEUE_SIZE if self.live else FILE_QUEUE_SIZE)
        self._queues = [queue.Queue(maxsize=size) for _ in range(4)]
        self.tiler = Tiler(runner.spec, self.options.tile, self.options.tile_overlap, self.options.memory_budget_mb)
        if runner.scene is not None and source.stills and runner.options.reestimate is None:
            # separate pictures: each its own degradation, as the one graph estimates it
            runner.set_reestimate(ReestimatePolicy(every=1))
        self.stats = PipelineStats()
        self._on_progress = on_progress
        self._on_report = on_report if on_report is not None else self._log_report
        self._stopping = threading.Event()
        self._abort = threading.Event()
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._ended = "end of stream"

    def stop(self, reason: str = "stopped") -> None:
        """Stop reading and let the frames in flight finish (thread-safe)."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._ended = reason
            self._stopping.set()
        self.source.interrupt()

    def __call__(self) -> PipelineResult:
        q_read, q_pre, q_infer, q_post = self._queues
        droppable = self.drop != "never"
        workers = {
            "read": self._read,
            "pre": lambda: self._stage("pre", self._pre, q_read, q_pre, droppable),
            "infer": lambda: self._stage("infer", self._infer, q_pre, q_infer, False),
            "post": lambda: self._stage("post", self._post, q_infer, q_post, False),
            "write": self._write,
        }
        for height, width in sorted(self.source.sizes()):
            self.tiler.plan(height, width)  # a frame over the memory budget is refused before any is decoded
        threads = [
            threading.Thread(target=self._guarded(fn), name=f"edgesr-{name}", daemon=True)
            for name, fn in workers.items()
        ]
        _single_threaded_opencv()
        self.stats = PipelineStats()  # the clock starts with the run, not with construction
        for t in threads:
            t.start()
        try:
            self._wait(threads)
        except KeyboardInterrupt:
            logger.info("interrupted: finishing the frames in flight (Ctrl-C again to abandon them)")
            self.stop("interrupted")
            try:
                self._wait(threads)
            except KeyboardInterrupt:
                self._abort.set()
                self.source.interrupt()
                for t in threads:
                    t.join()
        if self._error is not None:
            raise self._error
        spec = self.runner.spec
        stats = self.stats.snapshot(self.source)
        if self.runner.scene is not None:
            stats["degradation"] = self.runner.scene.summary()
        return PipelineResult(
            self._ended,
            stats,
            spec.as_dict() if spec is not None else {},
            self.source.uri,
            self.sink.uri,
        )

    def _wait(self, threads: list[threading.Thread]) -> None:
        next_report = time.perf_counter() + (self.options.report_every or 0)
        for t in threads:
            while t.is_alive():
                t.join(_POLL)
                if self._on_progress is not None:
                    self._on_progress(self.stats.frames_written)
                now = time.perf_counter()
                if self.options.report_every and now >= next_report:
                    self._on_report(self.stats)
                    next_report = now + self.options.report_every
                if self.options.max_seconds is not None and self.stats.elapsed >= self.options.max_seconds:
                    self.stop("time limit")
        if self._on_progress is not None:
            self._on_progress(self.stats.frames_written)

    def _log_report(self, stats: PipelineStats) -> None:
        logger.info("%s", stats.line(self.source))

    def _guarded(self, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except _Aborted:
                pass
            except BaseException as exc:  # handed to the calling thread, which re-raises it
                with self._lock:
                    if self._error is None:
                        self._error = exc
                self._abort.set()
                self.source.interrupt()

        return run

    def _read(self) -> None:
        q = self._queues[0]
        limit = self.options.max_frames
        try:
            while not self._stopping.is_set():
                start = time.perf_counter()
                frame = self.source.read(_POLL)
                if frame is None:
                    continue
                self.stats.stages["read"].add(time.perf_counter() - start)
                self.stats.frames_read += 1
                self._offer(q, _Item(frame))
                if limit is not None and self.stats.frames_read >= limit:
                    self.stop("frame limit")
        except EndOfStream:
            pass
        self._put(q, _END)

    def _stage(
        self, name: str, work: Callable[[_Item], _Item], inbox: queue.Queue, outbox: queue.Queue, droppable: bool
    ) -> None:
        timing = self.stats.stages[name]
        while True:
            item = self._get(inbox)
            if item is _END:
                self._put(outbox, _END)
                return
            start = time.perf_counter()
            item = work(item)
            timing.add(time.perf_counter() - start)
            if droppable:
                self._offer(outbox, item)
            else:
                self._put(outbox, item)

    def _write(self) -> None:
        timing = self.stats.stages["write"]
        inbox = self._queues[3]
        while True:
            item = self._get(inbox)
            if item is _END:
                return
            start = time.perf_counter()
            self.sink.write(item.frame)
            timing.add(time.perf_counter() - start)
            self.stats.wrote(item.frame.captured)

    def _pre(self, item: _Item) -> _Item:
        if self.runner.scene is not None:  # from the whole frame, so every tile of it gets the same
            item.condition = self.runner.estimate(item.frame.image)
        item.batch, item.plan = self.tiler.split(item.frame.image)
        return item

    def _infer(self, item: _Item) -> _Item:
        batch, plan = item.batch, item.plan
        step = self.options.batch or plan.per_call or batch.shape[0]
        if step >= batch.shape[0] and plan.per_call is None:
            item.batch = self._run_model(batch, item.condition)
        else:  # each call's tiles go straight into the output frame, so no frame of float outputs is held
            item.batch = None
            for i in range(0, batch.shape[0], step):
                out = self._run_model(self.tiler.model_input(batch[i : i + step], plan), item.condition)
                item.stitched = self.tiler.stitch(out, plan, item.stitched, i, self.sink.prefers_bgr)
        return item

    def _run_model(self, batch: np.ndarray, condition) -> np.ndarray:
        return self.runner.infer(batch) if condition is None else self.runner.infer(batch, condition)

    def _post(self, item: _Item) -> _Item:
        frame = item.frame
        bgr = self.sink.prefers_bgr
        image = item.stitched if item.stitched is not None else self.tiler.stitch(item.batch, item.plan, bgr=bgr)
        item.frame = Frame(
            image[..., ::-1] if bgr else image, frame.index, frame.captured, frame.name, bgr=image if bgr else None
        )
        item.batch = item.plan = item.stitched = None
        return item

    def _offer(self, q: queue.Queue, item) -> None:
        """Put for live sources: never wait; a full queue loses its oldest or the new frame."""
        if self.drop == "never":
            self._put(q, item)
            return
        while True:
            try:
                q.put_nowait(item)
                return
            except queue.Full:
                if self.drop == "newest":
                    self.stats.drop()
                    return
            try:
                q.get_nowait()
                self.stats.drop()
            except queue.Empty:
                pass

    def _put(self, q: queue.Queue, item) -> None:
        while True:
            try:
                q.put(item, timeout=_POLL)
                return
            except queue.Full:
                if self._abort.is_set():
                    raise _Aborted from None

    def _get(self, q: queue.Queue):
        while True:
            try:
                return q.get(timeout=_POLL)
            except queue.Empty:
                if self._abort.is_set():
                    raise _Aborted from None


def _single_threaded_opencv() -> None:
    """Each stage is already a thread of its own; OpenCV's worker pools inside decoding, colour
    conversion and encoding would only compete with the model's threads for the same cores (on
    2 cores this halved the CPU the pipeline adds to the model). Set once OpenCV is in use."""
    cv2 = sys.modules.get("cv2")
    if cv2 is not None:
        cv2.setNumThreads(1)
