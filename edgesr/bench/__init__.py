"""``edgesr bench``: time each artifact through the runtime's runners, with warm-up, repetitions,
median and spread, next to the host, power mode and tegrastats telemetry, as JSON and Markdown.

``import edgesr.bench`` is light: the API below is resolved on first use.
"""

from __future__ import annotations

_API = {
    "Bench": "edgesr.bench.run",
    "BenchOptions": "edgesr.bench.run",
    "BenchReport": "edgesr.bench.run",
    "bench": "edgesr.bench.run",
    "write_report": "edgesr.bench.files",
}

__all__ = list(_API)


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'edgesr.bench' has no attribute {name!r}")
