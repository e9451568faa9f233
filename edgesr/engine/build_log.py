"""TensorRT's builder log, kept: counts by severity and the text of warnings and errors, bounded.

The logger class subclasses ``tensorrt.ILogger`` and is therefore defined inside
:func:`make_logger`, so this module imports without TensorRT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType

from edgesr.log import logger

SEVERITIES: tuple[str, ...] = ("internal_error", "error", "warning", "info", "verbose")
MAX_MESSAGES = 50  # per kind; the rest are counted, not kept
MAX_CHARS = 1000  # per message


def _empty_counts() -> dict[str, int]:
    return dict.fromkeys(SEVERITIES, 0)


@dataclass
class BuildLog:
    """What the builder said. ``notes`` are edgesr's own warnings about the build."""

    counts: dict[str, int] = field(default_factory=_empty_counts)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dropped: int = 0

    def record(self, severity: str, message: str) -> None:
        self.counts[severity] = self.counts.get(severity, 0) + 1
        kept = {"internal_error": self.errors, "error": self.errors, "warning": self.warnings}.get(severity)
        if kept is None:
            logger.debug("TensorRT: %s", message)
            return
        if len(kept) < MAX_MESSAGES:
            kept.append(message[:MAX_CHARS])
        else:
            self.dropped += 1
        if severity == "warning":
            logger.debug("TensorRT warning: %s", message)

    def note(self, message: str) -> None:
        """A warning edgesr itself has about the build: logged loudly and kept with the outcome."""
        logger.warning(message)
        self.notes.append(message)

    def last_errors(self, n: int = 5) -> list[str]:
        return self.errors[-n:]

    def as_dict(self) -> dict:
        return {
            "counts": dict(self.counts),
            "warnings": list(self.warnings),
            "errors": list(self.errors),
            "notes": list(self.notes),
            "dropped": self.dropped,
        }


def make_logger(trt: ModuleType, log: BuildLog):
    """A ``trt.ILogger`` that records every message into ``log``."""
    severity = trt.ILogger.Severity
    names = {int(getattr(severity, n.upper())): n for n in SEVERITIES if hasattr(severity, n.upper())}

    class EdgeSRLogger(trt.ILogger):
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, sev, msg) -> None:  # called by TensorRT; must not raise
            log.record(names.get(int(sev), "verbose"), str(msg))

    return EdgeSRLogger()
