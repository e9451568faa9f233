"""``edgesr build`` from the app: the library's build in a worker process, its stages as progress,
cancel without leftovers, and the result folder as a zip.

Two builds of one model for one device meet at the build's own lock, so the second is refused
with the message the CLI gives.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from edgesr import devices
from edgesr.app.workers import Cancelled, Job
from edgesr.deploy import BuildOptions
from edgesr.errors import EdgeSRError
from edgesr.lock import LOCK_NAME

INTERRUPT_GRACE_S = 20  # after SIGINT, how long the build may take to unwind before it is killed
REPORT = "report"


class BuildFailed(EdgeSRError):
    """The build process stopped with an error; the message is the build's own."""


@dataclass(frozen=True)
class BuildRequest:
    device: str
    out: Path
    model: str | None = None  # a shipped model
    onnx: Path | None = None
    weights: Path | None = None
    arch: str | None = None
    precision: str = BuildOptions.precision
    max_drop: float = BuildOptions.max_drop
    finetune: int | None = None

    @property
    def model_name(self) -> str:
        """The name the build gives its folders (as :class:`edgesr.deploy.Build` derives it)."""
        if self.onnx is not None:
            return self.onnx.stem
        if self.weights is not None:
            return self.arch or self.weights.stem
        from edgesr import shipped

        return shipped.find(self.model).name

    def options(self) -> dict:
        d = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}
        return {k: v for k, v in d.items() if v is not None}


def expected_stages(request: BuildRequest) -> list[str]:
    """The stages a fresh build runs, in order; a fallback precision may add one."""
    from edgesr.engine import policy

    first = policy.plan(devices.get(request.device), request.precision).candidates[0]
    stages = ["export"] if request.weights is not None else []
    stages.append("convert")
    stages += {"int8": ["quantize", REPORT], "fp16": ["fp16", REPORT]}.get(first, [])
    return [*stages, "artifact"]


@dataclass
class Stages:
    """Each stage's state ("pending", "running", "done", "reused", "failed") and seconds."""

    order: list[str]
    state: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state = {s: "pending" for s in self.order}

    def _set(self, stage: str, state: str) -> None:
        stage = REPORT if stage.startswith(REPORT + "-") else stage
        if stage not in self.state:
            self.order.insert(max(0, len(self.order) - 1), stage)
        self.state[stage] = state
        if state == "running":
            self.started[stage] = time.monotonic()
        elif stage in self.started:
            self.seconds[stage] = time.monotonic() - self.started[stage]

    def read(self, line: str) -> None:
        """Follow the build's log: ``stage NAME ...``, ``... done in``, ``... failed``, ``reusing PATH``."""
        self.log = [*self.log[-199:], line]
        words = line.split()
        if len(words) >= 3 and words[0] == "stage":
            self._set(words[1], "running" if words[2] == "..." else "done" if words[2] == "done" else "failed")
        elif words and words[0] == "reusing" and len(words) > 1:
            self._set(Path(words[1]).parent.name, "reused")
        elif words and words[0] == "cache" and "hit" in line:
            for s in self.order:
                if self.state[s] == "pending":
                    self.state[s] = "reused"
        if (
            self.state.get("artifact") == "pending"
            and all(self.state[s] != "pending" for s in self.order[:-1])
            and all(self.state[s] != "running" for s in self.order[:-1])
        ):
            self._set("artifact", "running")

    @property
    def fraction(self) -> float:
        return sum(v in ("done", "reused") for v in self.state.values()) / max(1, len(self.state))


def run_build(job: Job, request: BuildRequest) -> dict:
    """Run the build in a worker process, following its stages; cancel interrupts it and removes
    whatever it had begun to write for this model."""
    stages = Stages(expected_stages(request))
    job.detail["stages"] = stages
    device_dir = request.out / devices.get(request.device).id
    before = set(os.listdir(device_dir)) if device_dir.is_dir() else set()
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgesr.app.build_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    proc.stdin.write(json.dumps(request.options()))
    proc.stdin.close()
    messages: list[dict] = []
    reader = threading.Thread(target=lambda: messages.extend(json.loads(line) for line in proc.stdout), daemon=True)
    reader.start()
    seen = 0
    while proc.poll() is None or reader.is_alive():
        for m in messages[seen:]:
            if "log" in m:
                stages.read(m["log"])
        seen = len(messages)
        job.fraction, job.message = stages.fraction, stages.log[-1] if stages.log else "starting the build"
        if job.cancel_requested:
            _stop(proc)
            reader.join(5)
            _remove_partial(device_dir, before, request.model_name)
            raise Cancelled
        time.sleep(0.2)
    for m in messages[seen:]:
        if "log" in m:
            stages.read(m["log"])
    final = next((m for m in reversed(messages) if "result" in m or "error" in m), None)
    if final is None or "error" in final:
        raise BuildFailed(
            final["error"]
            if final
            else f"the build process ended with exit code {proc.returncode} "
            "and no result; the server log has its output"
        )
    stages.state["artifact"] = "done"
    return final["result"]


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(INTERRUPT_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _remove_partial(device_dir: Path, before: set[str], model: str) -> None:
    """Folders the cancelled build created for ``model``, and temporary files it left in its work folder."""
    if not device_dir.is_dir():
        return
    for name in set(os.listdir(device_dir)) - before:
        if name.startswith(f"{model}-x") and (device_dir / name).is_dir():
            shutil.rmtree(device_dir / name, ignore_errors=True)
    work = device_dir / ".work" / model
    for tmp in work.rglob(".*.tmp") if work.is_dir() else ():
        tmp.unlink(missing_ok=True)


def zip_folder(folder: Path) -> bytes:
    """The build's result folder as a zip (its lock file left out)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.rglob("*")):
            if f.is_file() and f.name != LOCK_NAME:
                z.write(f, Path(folder.name) / f.relative_to(folder))
    return buf.getvalue()
