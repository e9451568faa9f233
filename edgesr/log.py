"""One logger for the package and a helper that logs a stage's start, duration and outcome."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator

logger = logging.getLogger("edgesr")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time (it is replaced under test capture)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure(verbosity: int = 0) -> None:
    """Route edgesr's log to stderr: 0 = info, 1+ = debug, negative = warnings only."""
    level = logging.INFO if verbosity == 0 else logging.DEBUG if verbosity > 0 else logging.WARNING
    logger.setLevel(level)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("[%(levelname).1s] %(message)s"))
        logger.addHandler(handler)


@contextlib.contextmanager
def stage(name: str) -> Iterator[dict]:
    """Log ``name`` starting, then its duration and whether it finished or failed.

    Yields a dict the caller may fill with a short ``outcome`` string for the final line.
    The measured duration is stored back under ``seconds``.
    """
    info: dict = {}
    logger.info("%s ...", name)
    start = time.perf_counter()
    try:
        yield info
    except BaseException:
        info["seconds"] = time.perf_counter() - start
        logger.info("%s failed after %.2f s", name, info["seconds"])
        raise
    info["seconds"] = time.perf_counter() - start
    outcome = info.get("outcome")
    logger.info("%s done in %.2f s%s", name, info["seconds"], f": {outcome}" if outcome else "")
