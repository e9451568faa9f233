"""Background work for the pages: a small thread pool, progress, cancel, and results kept by input hash.

A page submits ``work(job)`` under a key that hashes everything the result depends on. The same
key while that job runs, or after it succeeded, returns the same job, so a rerun of the page,
a second browser asking for the same thing, or a repeated click costs nothing. Only the last
``keep`` results are held, which bounds the memory a busy server uses.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from edgesr.errors import EdgeSRError
from edgesr.log import logger

RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"


class Cancelled(Exception):
    """Raised inside a job's work when the user pressed cancel."""


@dataclass
class Job:
    id: int
    key: str
    label: str
    state: str = RUNNING
    fraction: float = 0.0
    message: str = "waiting for a free worker"
    result: object = None
    error: str = ""
    detail: dict = field(default_factory=dict)  # work-specific progress (a build's stages)
    started: float = field(default_factory=time.monotonic)
    seconds: float | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def finished(self) -> bool:
        return self.state != RUNNING

    def report(self, fraction: float, message: str) -> None:
        """Called by the work: how far it is (0..1) and what it does. Raises :class:`Cancelled` on cancel."""
        self.fraction, self.message = max(0.0, min(1.0, fraction)), message
        self.check()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()


class Jobs:
    """The server's worker pool; one per process (the pages get it through ``st.cache_resource``)."""

    def __init__(self, workers: int, keep: int = 8):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="edgesr-app")
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._jobs: dict[int, Job] = {}
        self._by_key: OrderedDict[str, Job] = OrderedDict()
        self.keep = keep

    def submit(self, key: str, label: str, work: Callable[[Job], object]) -> Job:
        with self._lock:
            known = self._by_key.get(key)
            if known is not None and known.state in (RUNNING, DONE):
                self._by_key.move_to_end(key)
                return known
            job = Job(next(self._ids), key, label)
            self._jobs[job.id] = job
            self._by_key[key] = job
            self._forget_old()
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: int | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id is not None else None

    def _forget_old(self) -> None:
        finished = [k for k, j in self._by_key.items() if j.finished]
        for k in finished[: max(0, len(self._by_key) - self.keep)]:
            self._jobs.pop(self._by_key.pop(k).id, None)

    def _run(self, job: Job, work: Callable[[Job], object]) -> None:
        job.started = time.monotonic()
        job.message = "starting"
        try:
            job.check()
            job.result = work(job)
            job.fraction, job.message, job.state = 1.0, "done", DONE
        except Cancelled:
            job.message, job.state = "cancelled", CANCELLED
        except EdgeSRError as exc:
            job.error, job.state = str(exc), FAILED
        except Exception as exc:  # a bug: logged with its traceback, the page shows one line
            logger.exception("%s failed", job.label)
            job.error = f"internal error ({type(exc).__name__}: {exc}); the server log has the details"
            job.state = FAILED
        finally:
            job.seconds = time.monotonic() - job.started
            with self._lock:
                self._forget_old()


def key(*parts) -> str:
    """A stable hash of what a result depends on (bytes are hashed, the rest JSON-encoded)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest() if isinstance(p, bytes) else json.dumps(p, default=str).encode())
        h.update(b"\0")
    return h.hexdigest()
