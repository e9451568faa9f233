"""Live pipeline statistics: frame rate, per-stage and end-to-end latency percentiles, drops,
reconnects. Memory stays flat: percentiles come from a fixed window of recent samples.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

WINDOW = 2048  # samples kept per latency series (the percentiles describe the recent frames)
STAGES = ("read", "pre", "infer", "post", "write")


class Latencies:
    """A thread-safe window of durations in seconds, plus whole-run count, sum and maximum."""

    def __init__(self, window: int = WINDOW):
        self._recent: deque[float] = deque(maxlen=window)
        self._lock = threading.Lock()
        self.count = 0
        self.total = 0.0
        self.worst = 0.0

    def add(self, seconds: float) -> None:
        with self._lock:
            self._recent.append(seconds)
            self.count += 1
            self.total += seconds
            self.worst = max(self.worst, seconds)

    def summary(self) -> dict[str, float]:
        """Milliseconds: p50 and p95 over the window, mean and max over the run."""
        with self._lock:
            recent = np.fromiter(self._recent, dtype=np.float64, count=len(self._recent))
            count, total, worst = self.count, self.total, self.worst
        if count == 0:
            return {"p50_ms": 0.0, "p95_ms": 0.0, "mean_ms": 0.0, "max_ms": 0.0}
        p50, p95 = np.percentile(recent, (50, 95)) * 1000.0
        return {
            "p50_ms": round(float(p50), 2),
            "p95_ms": round(float(p95), 2),
            "mean_ms": round(total / count * 1000.0, 2),
            "max_ms": round(worst * 1000.0, 2),
        }


class PipelineStats:
    """Counters and latencies written by the pipeline threads, read by whoever reports."""

    def __init__(self):
        self.stages = {name: Latencies() for name in STAGES}
        self.end_to_end = Latencies()
        self.frames_read = 0
        self.frames_written = 0
        self.dropped = 0
        self.started = time.perf_counter()
        self.last_write: float | None = None
        self._interval_mark = (self.started, 0)
        self._lock = threading.Lock()

    def drop(self) -> None:
        with self._lock:  # two threads drop (the reader and the pre-processor)
            self.dropped += 1

    def wrote(self, captured: float) -> None:
        now = time.perf_counter()
        self.end_to_end.add(now - captured)
        self.frames_written += 1
        self.last_write = now

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def fps(self) -> float:
        """Frames written per second of the run so far."""
        elapsed = (self.last_write or self.started) - self.started
        return self.frames_written / elapsed if elapsed > 0 else 0.0

    def interval_fps(self) -> float:
        """Frames written per second since the previous call (the current rate, for live reports)."""
        now, written = time.perf_counter(), self.frames_written
        then, before = self._interval_mark
        self._interval_mark = (now, written)
        return (written - before) / (now - then) if now > then else 0.0

    def snapshot(self, source=None) -> dict:
        """Everything, as plain data; ``source`` adds its reconnect counters."""
        data = {
            "frames_read": self.frames_read,
            "frames_written": self.frames_written,
            "dropped": self.dropped,
            "elapsed_s": round(self.elapsed, 3),
            "fps": round(self.fps(), 2),
            "end_to_end": self.end_to_end.summary(),
            "stages": {name: lat.summary() for name, lat in self.stages.items()},
        }
        if source is not None:
            data.update(
                reconnects=source.reconnects, gap_s=round(source.gap_seconds, 3), missed_frames=source.missed_frames
            )
        return data

    def line(self, source=None) -> str:
        """One human line for periodic reports."""
        e2e = self.end_to_end.summary()
        summaries = {name: lat.summary() for name, lat in self.stages.items()}
        stages = " ".join(f"{name} {s['p50_ms']:.0f}/{s['p95_ms']:.0f}" for name, s in summaries.items())
        text = (
            f"{self.frames_written} frames, {self.interval_fps():.1f} fps | e2e p50 {e2e['p50_ms']:.0f} ms "
            f"p95 {e2e['p95_ms']:.0f} ms | stage p50/p95 ms: {stages} | dropped {self.dropped}"
        )
        if source is not None and (source.reconnects or source.gap_seconds):
            text += f" | reconnects {source.reconnects}, gap {source.gap_seconds:.1f} s"
        return text
