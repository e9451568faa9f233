"""Compare: two to four artifacts on a data folder or uploaded HR images, scored by ``edgesr validate``'s
own code (:func:`edgesr.report.validate` and the report's tables), so the numbers are the same."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from edgesr.app import views
from edgesr.app.choices import Entry, data_folders
from edgesr.app.uploads import UploadError, check_size, read_picture
from edgesr.app.workers import Job, key
from edgesr.errors import EdgeSRError
from edgesr.io.images import list_images, write_rgb
from edgesr.quality.protocol import DEFAULT_MAX_DROP_DB

JOB = "compare_job"
UPLOAD = "Upload HR images"
LATENCY_REPEATS = 3  # enough for a page; 'edgesr validate' runs 10


@dataclass(frozen=True)
class Compared:
    report: object  # edgesr.report.ValidationReport
    html: Path  # the report page, as 'edgesr validate' writes it


def render() -> None:
    st.title("Compare")
    st.caption(
        "FP32 against FP16/INT8 of one model, or two models: per-image Y-PSNR/SSIM, the drop and crops, "
        "the numbers 'edgesr validate' reports. The first artifact is the reference."
    )
    cat = views.catalog()
    if cat.note:
        st.info(cat.note)
    usable = cat.usable
    chosen = st.multiselect(
        "Artifacts (2 to 4; the first is the reference)",
        range(len(usable)),
        format_func=lambda i: usable[i].label,
        max_selections=4,
    )
    folder = _data()
    max_drop = st.number_input("Drop budget (dB)", min_value=0.0, max_value=5.0, value=DEFAULT_MAX_DROP_DB, step=0.05)
    ready = len(chosen) >= 2 and folder is not None
    if st.button("Compare", type="primary", disabled=not ready):
        try:
            _start([usable[i] for i in chosen], folder, max_drop)
        except EdgeSRError as exc:
            st.error(str(exc))
    job = views.follow(views.jobs(), JOB)
    if job is not None:
        show(job.result)


def _data() -> Path | None:
    folders = data_folders(views.settings().data_dirs)
    choice = st.selectbox(
        "HR images", [*folders, UPLOAD], help="Folders the server was started with (--data-dir), or images you upload"
    )
    if choice != UPLOAD:
        return folders[choice]
    uploads = st.file_uploader(
        "HR images (PNG, JPEG, ...)", accept_multiple_files=True, max_upload_size=views.settings().max_upload_mb
    )
    if not uploads:
        return None
    # decoded and saved once per set of uploads, not on every rerun of the page
    signature = [(u.file_id, u.size) for u in uploads]
    if st.session_state.get("hr_uploads", (None,))[0] != signature:
        try:
            st.session_state["hr_uploads"] = (signature, _save_uploads(uploads), "")
        except UploadError as exc:
            st.session_state["hr_uploads"] = (signature, None, str(exc))
    _, folder, error = st.session_state["hr_uploads"]
    if error:
        st.error(error)
    return folder


def _save_uploads(uploads) -> Path:
    cfg = views.settings()
    folder = Path(tempfile.mkdtemp(prefix="edgesr-app-hr-"))
    for i, up in enumerate(uploads):
        check_size(up.name, up.size, cfg.max_upload_mb)
        picture = read_picture(up.name, up.getvalue(), cfg.max_pixels)
        stem = "".join(ch for ch in Path(up.name).stem if ch.isalnum() or ch in "-_") or "image"
        write_rgb(folder / f"{i:02d}-{stem}.png", picture.rgb)
    return folder


def _start(entries: list[Entry], folder: Path, max_drop: float) -> None:
    from edgesr.report import validate

    files = [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in list_images(folder)]
    k = key("compare", [(str(e.path), e.path.stat().st_mtime_ns) for e in entries], str(folder), files, max_drop)

    def work(job: Job) -> Compared:
        job.report(0.1, f"scoring {len(entries)} artifacts on {len(files)} images")
        out = Path(tempfile.mkdtemp(prefix="edgesr-app-report-"))
        report = validate([e.path for e in entries], [folder], max_drop=max_drop, out_dir=out, repeats=LATENCY_REPEATS)
        return Compared(report, out / "report.html")

    st.session_state[JOB] = views.jobs().submit(k, f"compare {len(entries)} artifacts", work).id


def frame(table):
    """A report table (:mod:`edgesr.report.tables`) as a data frame of the same cell texts."""
    import pandas as pd

    return pd.DataFrame([[c.text for c in row] for row in table.rows], columns=table.flat_headers())


def show(result: Compared) -> None:
    from edgesr.report import tables
    from edgesr.report.plot import drop_chart

    report = result.report
    (st.success if report.passed else st.error)(tables.headline(report))
    for line in tables.failure_lines(report):
        st.markdown(f"- {line}")
    st.subheader("Summary")
    st.dataframe(frame(tables.summary(report)), hide_index=True)
    for data in report.datasets:
        st.subheader(f"Per image: {data.name}")
        st.dataframe(frame(tables.per_image(report, data)), hide_index=True)
        st.html(drop_chart(report, data))
        for crops in data.crops:
            with st.expander(f"crops of {crops.image}: {crops.crop.reason}"):
                st.html(
                    "".join(
                        f'<figure style="display:inline-block;margin:4px"><img src="{t.data_uri}">'
                        f'<figcaption style="font-size:12px">{t.label} {t.note}</figcaption></figure>'
                        for t in crops.tiles
                    )
                )
    st.download_button(
        "Download the full report (HTML)",
        result.html.read_bytes(),
        file_name="report.html",
        mime="text/html",
        on_click="ignore",
    )
