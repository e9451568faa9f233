"""The builder's timing cache: read before a build when the file exists, written back after it.

The cache only speeds builds up (tactic timings are reused, not re-measured); a cache made on
another device or TensorRT is refused by TensorRT, and then a fresh one is started -- said in
the build log, never silently. The file is replaced atomically, so a crash leaves the old cache.
API: ``IBuilderConfig.create_timing_cache / set_timing_cache(cache, ignore_mismatch) /
get_timing_cache`` and ``ITimingCache.serialize`` (TensorRT 8.x, 10.x and 11.x alike).
"""

from __future__ import annotations

from pathlib import Path

from edgesr import fileio
from edgesr.engine.build_log import BuildLog
from edgesr.errors import InputError


def attach(config, path: Path, log: BuildLog) -> None:
    """Give ``config`` the cache stored at ``path`` (an empty one when there is none yet)."""
    try:
        data = path.read_bytes() if path.is_file() else b""
    except OSError as exc:
        raise InputError(
            f"cannot read timing cache {path} ({exc.strerror or exc}); fix its permissions or delete it"
        ) from None
    cache = config.create_timing_cache(data)
    if cache is not None and config.set_timing_cache(cache, ignore_mismatch=False):
        return
    log.note(
        f"timing cache {path} was made by another device or TensorRT version, or is damaged; "
        "starting a new one (the build takes longer, the engine is unaffected)"
    )
    config.set_timing_cache(config.create_timing_cache(b""), ignore_mismatch=False)


def save(config, path: Path) -> None:
    """Write the config's (now grown) cache to ``path``, atomically."""
    data = bytes(memoryview(config.get_timing_cache().serialize()))
    path.parent.mkdir(parents=True, exist_ok=True)
    fileio.write_bytes(path, data)
