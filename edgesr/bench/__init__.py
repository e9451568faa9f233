"""``edgesr bench``: time each artifact through the runtime's runners, with warm-up, repetitions,
median and spread, next to the host, power mode and tegrastats telemetry, as JSON and Markdown.

``import edgesr.bench`` is light: the API below is resolved on first use.
"""

from __future__ import annotations

from edgesr import lazy

_API = {
    "Bench": "edgesr.bench.run",
    "BenchOptions": "edgesr.bench.run",
    "BenchReport": "edgesr.bench.run",
    "bench": "edgesr.bench.run",
    "write_report": "edgesr.bench.files",
}

__all__ = list(_API)
__getattr__ = lazy.api(__name__, _API)
