"""The build process the app starts: ``python -m edgesr.app.build_worker`` with the options as JSON on stdin.

A separate process, so cancel can interrupt it (SIGINT: atomic writes remove their temporary
files as the interrupt unwinds) and a crash cannot take the server down. It speaks JSON lines
on stdout: ``{"log": text}`` for every log line of the library, then ``{"result": ...}`` or
``{"error": text}``. Everything else the library prints goes to stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from edgesr.errors import EdgeSRError


class _Forward(logging.Handler):
    def __init__(self, out):
        super().__init__(logging.INFO)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        _send(self.out, {"log": record.getMessage(), "level": record.levelname})


def _send(out, message: dict) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def main() -> int:
    from edgesr.deploy import build
    from edgesr.log import logger

    out, sys.stdout = sys.stdout, sys.stderr
    options = json.loads(sys.stdin.read())
    for name in ("onnx", "weights", "out"):
        if options.get(name) is not None:
            options[name] = Path(options[name])
    logger.setLevel(logging.INFO)
    logger.addHandler(_Forward(out))
    try:
        result = build(**options)
    except EdgeSRError as exc:
        _send(out, {"error": str(exc)})
        return 1
    except KeyboardInterrupt:
        return 130
    _send(
        out,
        {
            "result": {
                "kind": result.kind,
                "directory": str(result.directory),
                "artifact": str(result.artifact),
                "cached": result.cached,
                "accuracy": result.accuracy,
                "next_step": result.next_step,
            }
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
