"""What the pages share: the server-wide worker pool and runners, the settings, a job's progress
panel with its cancel button, the before/after slider, and image encoding."""

from __future__ import annotations

import base64
import io

import numpy as np
import streamlit as st

from edgesr.app import config as config_mod
from edgesr.app.choices import Catalog, discover
from edgesr.app.upscaling import RunnerPool
from edgesr.app.workers import CANCELLED, FAILED, Job, Jobs
from edgesr.lazy import require

POLL_S = 0.5
PREVIEW_WIDTH = 1280  # the slider shows at most this many pixels across; crops show every pixel


def settings() -> config_mod.AppConfig:
    return config_mod.current()


@st.cache_resource(show_spinner=False)
def jobs() -> Jobs:
    return Jobs(config_mod.WORKERS)


@st.cache_resource(show_spinner=False)
def build_jobs() -> Jobs:
    # builds get their own pool: a long build must not hold up upscales
    return Jobs(config_mod.WORKERS, keep=4)


@st.cache_resource(show_spinner=False)
def runners() -> RunnerPool:
    return RunnerPool()


def catalog() -> Catalog:
    return discover(settings().models_dir)


def follow(pool: Jobs, state_key: str) -> Job | None:
    """The job whose id the session keeps under ``state_key``: a live progress panel while it runs,
    its error or cancellation once it stops. Returns the job when it finished with a result."""
    job = pool.get(st.session_state.get(state_key))
    if job is None:
        return None
    if not job.finished:
        _progress(pool, job.id, state_key)
        return None
    if job.state == FAILED:
        st.error(job.error)
    elif job.state == CANCELLED:
        st.warning(f"{job.label}: cancelled")
    return job if job.result is not None else None


@st.fragment(run_every=POLL_S)
def _progress(pool: Jobs, job_id: int, state_key: str) -> None:
    job = pool.get(job_id)
    if job is None or job.finished:
        st.rerun()
    st.progress(job.fraction, text=f"{job.label}: {job.message}")
    stages = job.detail.get("stages")
    if stages is not None:
        stage_bars(stages)
    if st.button("Cancel", key=f"cancel-{state_key}", disabled=job.cancel_requested):
        job.cancel()


def stage_bars(stages) -> None:
    import time

    for name in stages.order:
        state = stages.state[name]
        value = {"done": 1.0, "reused": 1.0}.get(state, 0.0)
        text = f"{name}: {state}"
        if name in stages.seconds:
            text += f" ({stages.seconds[name]:.1f} s)"
        elif state == "running":
            text += f" ({time.monotonic() - stages.started[name]:.0f} s so far)"
        st.progress(value, text=text)


def png(rgb: np.ndarray) -> bytes:
    Image = require("PIL.Image")
    buf = io.BytesIO()
    # fast compression: pages show and offer fresh results at once; the files are a little larger
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _preview(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    if w <= PREVIEW_WIDTH:
        return rgb
    Image = require("PIL.Image")
    size = (PREVIEW_WIDTH, max(1, round(h * PREVIEW_WIDTH / w)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS))


def before_after(left: np.ndarray, right: np.ndarray, left_label: str, right_label: str) -> None:
    """Two images of one size on top of each other; a slider moves the border between them."""
    a, b = (base64.b64encode(png(_preview(x))).decode("ascii") for x in (left, right))
    h, w = _preview(left).shape[:2]
    shown_w = min(w, 800)  # fits the page's content column, so the frame's height matches the image
    label = "position:absolute;top:6px;padding:2px 8px;background:rgba(0,0,0,.6);color:#fff;font:13px sans-serif"
    html = f"""
<div style="position:relative;width:{shown_w}px;max-width:100%;user-select:none">
  <img src="data:image/png;base64,{b}" style="width:100%;display:block" alt="{right_label}">
  <img id="left" src="data:image/png;base64,{a}" alt="{left_label}"
       style="position:absolute;top:0;left:0;width:100%;clip-path:inset(0 50% 0 0)">
  <div id="bar" style="position:absolute;top:0;bottom:0;left:50%;width:2px;background:#fff"></div>
  <span style="{label};left:6px">{left_label}</span><span style="{label};right:6px">{right_label}</span>
  <input id="pos" type="range" min="0" max="100" value="50" aria-label="border position"
         style="width:100%;margin:6px 0 0 0">
</div>
<script>
  const pos = document.getElementById("pos");
  pos.addEventListener("input", () => {{
    document.getElementById("left").style.clipPath = `inset(0 ${{100 - pos.value}}% 0 0)`;
    document.getElementById("bar").style.left = pos.value + "%";
  }});
</script>"""
    st.iframe(html, height=int(shown_w * h / w) + 40)  # our own markup: two encoded images, fixed labels
