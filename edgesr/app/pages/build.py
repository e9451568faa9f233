"""Build: ``edgesr build`` for a device from the device table, in a worker process with a progress
bar per stage and cancel; the accuracy report inline and the result as a zip."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import streamlit as st

from edgesr import devices, shipped
from edgesr.app import views
from edgesr.app.building import BuildRequest, run_build, zip_folder
from edgesr.app.workers import Job, key
from edgesr.engine.policy import PRECISIONS
from edgesr.errors import EdgeSRError

JOB = "build_job"
DETECT = "detect from the weights"


def render() -> None:
    st.title("Build")
    cfg = views.settings()
    st.caption(
        f"Every stage of 'edgesr build' for one device; results go to the models folder {cfg.models_dir}, "
        "where Upscale and Compare find them."
    )
    ids = devices.device_ids()
    device = st.selectbox("Device", ids, format_func=lambda i: f"{i}: {devices.get(i).name}")
    source = _source()
    c1, c2, c3 = st.columns(3)
    precision = c1.selectbox(
        "Precision", PRECISIONS, help="best: the fastest precision the device runs that meets the budget"
    )
    max_drop = c2.number_input(
        "Budget (dB)",
        min_value=0.0,
        max_value=5.0,
        value=BuildRequest.max_drop,
        step=0.05,
        help="largest allowed mean Y-PSNR drop against FP32",
    )
    fast = c3.checkbox(
        "Skip the INT8 fine-tune", help="faster, but INT8 may lose more dB and fall back to a slower precision"
    )
    if source is not None and st.button("Build", type="primary"):
        try:
            request = BuildRequest(
                device=device,
                out=cfg.models_dir,
                precision=precision,
                max_drop=max_drop,
                finetune=0 if fast else None,
                **source,
            )
            _start(request)
        except EdgeSRError as exc:
            st.error(str(exc))
    job = views.follow(views.build_jobs(), JOB)
    if job is not None:
        _show(job)


def _source() -> dict | None:
    """The model to build as BuildRequest fields: shipped, or an ONNX file or checkpoint of the models folder."""
    cat = views.catalog()
    choices: list[tuple[str, dict]] = [(f"{m.name} (shipped)", {"model": m.name}) for m in shipped.shipped()]
    choices += [
        (f"{e.label}", {"onnx": e.path}) for e in cat.usable if e.source != "shipped" and e.path.suffix == ".onnx"
    ]
    if importlib.util.find_spec("torch") is not None:  # without importing it: that takes seconds
        choices += [(f"{p.name} (checkpoint)", {"weights": p}) for p in cat.checkpoints]
    if not choices:
        st.warning("nothing to build: no shipped model and no ONNX file or checkpoint in the models folder")
        return None
    index = st.selectbox("Model", range(len(choices)), format_func=lambda i: choices[i][0])
    source = dict(choices[index][1])
    if "weights" in source:
        from edgesr.models import registry

        arch = st.selectbox("Architecture", [DETECT, *registry.names()])
        source["arch"] = None if arch == DETECT else arch
    return source


def _start(request: BuildRequest) -> None:
    # the key of the request: a repeat of a finished build shows it again; the build itself
    # also reuses every stage whose inputs are unchanged
    k = key(
        "build",
        request.options(),
        [(p.stat().st_mtime_ns if p.is_file() else None) for p in (request.onnx, request.weights) if p is not None],
    )
    label = f"build {request.model_name} for {request.device}"

    def work(job: Job) -> dict:
        return run_build(job, request)

    st.session_state[JOB] = views.build_jobs().submit(k, label, work).id


def _show(job: Job) -> None:
    result = job.result
    stages = job.detail.get("stages")
    if stages is not None:
        with st.expander("Stages", expanded=False):
            views.stage_bars(stages)
    cached = " (unchanged inputs: reused)" if result["cached"] else ""
    st.success(f"{result['kind']}: {result['artifact']}{cached}")
    if result.get("next_step"):
        st.info(f"Next: {result['next_step']}")
    accuracy = result.get("accuracy") or {}
    drops = ", ".join(f"{k} {v:+.3f} dB" for k, v in accuracy.get("drop_db", {}).items())
    st.markdown(f"**Precision** {accuracy.get('precision', '?')}; **drop** {drops or accuracy.get('note', '-')}")
    report = Path(accuracy["report"]) if accuracy.get("report") else None
    if report is not None and report.is_file():
        st.subheader("Accuracy report")
        st.iframe(report.read_text(), height=700)  # the page edgesr.report wrote, values escaped there
    folder = Path(result["directory"])
    st.download_button(
        f"Download {folder.name}.zip",
        lambda: zip_folder(folder),
        file_name=f"{folder.name}.zip",
        mime="application/zip",
        on_click="ignore",
    )
