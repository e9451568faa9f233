"""Background ``tegrastats`` telemetry next to a run's frame rate and latency.

:class:`Telemetry` starts ``tegrastats --interval N`` in a subprocess, parses each line on a
reader thread and folds it into running summaries (GPU load and frequency, RAM, power, rails,
temperatures), so memory stays flat however long a stream runs. :meth:`Telemetry.window`
summarises only the samples taken while a block runs (one benchmarked artifact).

Where ``tegrastats`` is absent (any machine but a Jetson) or stops, the summary says so and
why; telemetry never fails the run it describes.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence

from edgesr.jetson.tegrastats import Sample, parse_line
from edgesr.log import logger

DEFAULT_INTERVAL_MS = 1000
_STOP_GRACE = 2.0  # seconds tegrastats gets to exit on SIGTERM before it is killed
_NOTES_KEPT = 3  # unparsed output lines kept to explain a tegrastats that produced no samples


class Series:
    """Count, mean, minimum, maximum and last value of one measurement."""

    def __init__(self):
        self.count = 0
        self.total = 0.0
        self.low = float("inf")
        self.high = float("-inf")
        self.last: float | None = None

    def add(self, value: float | None) -> None:
        if value is None:
            return
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        self.last = value

    def summary(self, digits: int = 1) -> dict[str, float] | None:
        if not self.count:
            return None
        return {
            "mean": round(self.total / self.count, digits),
            "min": round(self.low, digits),
            "max": round(self.high, digits),
        }


class Summary:
    """Running summaries of tegrastats samples."""

    def __init__(self):
        self.samples = 0
        self.latest: Sample | None = None
        self.gpu_load = Series()
        self.gpu_freq = Series()
        self.cpu_load = Series()
        self.emc_load = Series()
        self.ram_used = Series()
        self.swap_used = Series()
        self.power = Series()
        self.rails: dict[str, Series] = {}
        self.temps: dict[str, Series] = {}

    def add(self, sample: Sample) -> None:
        self.samples += 1
        self.latest = sample
        self.gpu_load.add(sample.gpu_load_pct)
        self.gpu_freq.add(sample.gpu_max_freq_mhz)
        online = [load for load in sample.cpu_load_pct if load is not None]
        self.cpu_load.add(sum(online) / len(online) if online else None)
        self.emc_load.add(sample.emc_load_pct)
        self.ram_used.add(sample.ram_used_mb)
        self.swap_used.add(sample.swap_used_mb)
        self.power.add(sample.power_mw / 1000.0 if sample.power_mw is not None else None)
        for name, mw in sample.rails_mw.items():
            self.rails.setdefault(name, Series()).add(mw)
        for name, celsius in sample.temps_c.items():
            self.temps.setdefault(name, Series()).add(celsius)

    def to_dict(self) -> dict:
        latest = self.latest
        return {
            "samples": self.samples,
            "gpu_load_pct": self.gpu_load.summary(),
            "gpu_freq_mhz": self.gpu_freq.summary(0),
            "cpu_load_pct": self.cpu_load.summary(),
            "emc_load_pct": self.emc_load.summary(),
            "ram_used_mb": self.ram_used.summary(0),
            "ram_total_mb": latest.ram_total_mb if latest else None,
            "swap_used_mb": self.swap_used.summary(0),
            "power_w": self.power.summary(2),
            "power_rail": (latest.total_rail or "sum of rails") if latest and latest.rails_mw else None,
            "rails_mw": {name: s.summary(0) for name, s in self.rails.items()},
            "temps_c": {name: s.summary() for name, s in self.temps.items()},
        }


class Telemetry:
    """``with Telemetry() as t: ...`` records tegrastats for the block; ``t.summary()`` reports it.

    ``interval_ms`` 0 turns telemetry off. ``command`` replaces the ``tegrastats`` invocation
    (tests feed recorded lines through it).
    """

    def __init__(self, interval_ms: int = DEFAULT_INTERVAL_MS, command: Sequence[str] | None = None):
        self.interval_ms = interval_ms
        if interval_ms <= 0:
            self.command: list[str] = []
            self.reason: str | None = "telemetry off (interval 0)"
        else:
            self.command = list(command) if command is not None else self._tegrastats(interval_ms)
            self.reason = None if self.command else "tegrastats is not on PATH (not a Jetson)"
        self._whole = Summary()
        self._windows: list[Summary] = []
        self._lock = threading.Lock()
        self._notes: list[str] = []
        self._process: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None
        self._first = threading.Event()

    @staticmethod
    def _tegrastats(interval_ms: int) -> list[str]:
        exe = shutil.which("tegrastats")
        return [exe, "--interval", str(interval_ms)] if exe else []

    @property
    def available(self) -> bool:
        return self.reason is None

    @property
    def running(self) -> bool:
        """True while the tegrastats process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def source(self) -> str:
        return " ".join(self.command) if self.command else "tegrastats"

    def __enter__(self) -> Telemetry:
        if not self.command:
            logger.info("telemetry: %s", self.reason)
            return self
        try:
            self._process = subprocess.Popen(
                self.command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                bufsize=1,
            )
        except OSError as exc:
            self.reason = f"cannot start {self.command[0]}: {exc.strerror or exc}"
            logger.warning("telemetry: %s", self.reason)
            return self
        self._thread = threading.Thread(
            target=self._read, args=(self._process.stdout,), name="edgesr-tegrastats", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(_STOP_GRACE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._thread is not None:
            self._thread.join(_STOP_GRACE)
        if not self._whole.samples and self.reason is None:
            said = f": {self._notes[0]}" if self._notes else ""
            self.reason = f"{self.command[0]} exited with code {process.returncode} before its first sample{said}"
            logger.warning("telemetry: %s", self.reason)

    def _read(self, lines) -> None:
        for line in lines:
            sample = parse_line(line)
            if sample is None:
                if line.strip() and len(self._notes) < _NOTES_KEPT:
                    self._notes.append(line.strip())
                continue
            with self._lock:
                self._whole.add(sample)
                for window in self._windows:
                    window.add(sample)
            self._first.set()

    def wait_for_sample(self, timeout: float) -> bool:
        """Block until the first sample arrived (tegrastats prints one per interval, not at start)."""
        return self.running and self._first.wait(timeout)

    @contextlib.contextmanager
    def window(self) -> Iterator[Summary]:
        """Collect the samples taken while the block runs into the yielded :class:`Summary`."""
        summary = Summary()
        with self._lock:
            self._windows.append(summary)
        try:
            yield summary
        finally:
            with self._lock:
                self._windows.remove(summary)

    def latest(self) -> Sample | None:
        with self._lock:
            return self._whole.latest

    def summary(self, window: Summary | None = None) -> dict:
        """The whole run (or ``window``) as plain data, with whether telemetry was available and why not."""
        data = {"available": self.available, "source": self.source, "interval_ms": self.interval_ms}
        if self.reason is not None:
            return {**data, "reason": self.reason}
        with self._lock:
            data.update((window if window is not None else self._whole).to_dict())
        if not data["samples"]:
            data["note"] = "no tegrastats sample fell in this interval; run longer or lower the interval"
        return data

    def brief(self) -> str:
        """The latest sample in a few words, for periodic log lines."""
        sample = self.latest()
        if sample is None:
            return "telemetry: " + (self.reason or "waiting for the first tegrastats sample")
        return brief(sample)


def brief(sample: Sample) -> str:
    parts = []
    if sample.gpu_load_pct is not None or sample.gpu_freq_mhz:
        load = f"{sample.gpu_load_pct:.0f}%" if sample.gpu_load_pct is not None else "load n/a"
        freq = f" @ {sample.gpu_max_freq_mhz} MHz" if sample.gpu_freq_mhz else ""
        parts.append(f"GPU {load}{freq}")
    if sample.power_mw is not None:
        parts.append(f"{sample.power_mw / 1000:.1f} W ({sample.total_rail or 'sum of rails'})")
    if sample.ram_used_mb is not None:
        parts.append(f"RAM {sample.ram_used_mb}/{sample.ram_total_mb} MB")
    if sample.temps_c:
        name, hottest = max(sample.temps_c.items(), key=lambda kv: kv[1])
        parts.append(f"{name} {hottest:.1f} C")
    return " | ".join(parts)
