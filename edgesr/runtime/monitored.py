"""A :class:`~edgesr.runtime.jobs.Stream` watched as ``edgesr stream`` runs it: tegrastats telemetry (on a
Jetson) joins each periodic statistics line, and the final statistics carry the telemetry summary and the
host's facts (module, power mode, clocks), so a run's numbers say what they were measured on."""

from __future__ import annotations

import os
from dataclasses import dataclass

from edgesr.jetson.facts import gather
from edgesr.jetson.telemetry import Telemetry
from edgesr.log import logger
from edgesr.runtime.jobs import Stream, StreamOptions
from edgesr.runtime.streaming import PipelineResult

TELEMETRY_INTERVAL_MS = 1000  # tegrastats period: a sample a second costs nothing beside a live stream


@dataclass
class MonitoredResult:
    result: PipelineResult
    host: dict
    telemetry: dict

    def to_dict(self) -> dict:
        return {**self.result.to_dict(), "host": self.host, "telemetry": self.telemetry}


def monitored_stream(
    source: str,
    sink: str,
    model: str | os.PathLike,
    options: StreamOptions | None = None,
    telemetry_interval_ms: int = TELEMETRY_INTERVAL_MS,
) -> MonitoredResult:
    """Run ``source`` through ``model`` into ``sink``, sampling telemetry every ``telemetry_interval_ms``
    (0: none)."""
    with Telemetry(telemetry_interval_ms) as telemetry:

        def report(stats) -> None:
            line = stats.line(stream.pipeline.source)
            logger.info("%s", f"{line} | {telemetry.brief()}" if telemetry.available else line)

        stream = Stream(source, sink, model, options, on_report=report)
        result = stream()
    return MonitoredResult(result, gather().to_dict(), telemetry.summary())
