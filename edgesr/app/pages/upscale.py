"""Upscale: an uploaded image or short video, or a shipped sample, through a chosen model."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import streamlit as st

from edgesr.app import config as config_mod
from edgesr.app import views
from edgesr.app.choices import Entry
from edgesr.app.uploads import Clip, Picture, UploadError, check_size, read_upload
from edgesr.app.upscaling import Upscaled, UpscaledClip, upscale_clip, upscale_picture
from edgesr.app.workers import Job, key
from edgesr.errors import EdgeSRError
from edgesr.io.images import read_rgb, sample_images
from edgesr.lazy import available

JOB = "upscale_job"
TILES = {"automatic": None, "off": (0, 0), "128x128": (128, 128), "256x256": (256, 256), "512x512": (512, 512)}
NO_DEGRADATION = "none (the input as it is)"


def render() -> None:
    st.title("Upscale")
    st.caption("An image or a short video through a super-resolution model, with bicubic beside it.")
    cfg = views.settings()
    source = _source(cfg)
    model = model_picker()
    c1, c2 = st.columns(2)
    tile_choice = c1.selectbox(
        "Tiling",
        list(TILES),
        help="Cut the input into tiles so large frames fit in memory. "
        f"Automatic tiles inputs above {config_mod.AUTO_TILE_PIXELS // 1000} thousand pixels.",
    )
    degradation = _degradation(c2)
    ready = source is not None and model is not None
    if st.button("Upscale", type="primary", disabled=not ready):
        try:
            _start(source, model, tile_choice, degradation)
        except EdgeSRError as exc:
            st.error(str(exc))
    job = views.follow(views.jobs(), JOB)
    if job is not None:
        _show(job)


def _source(cfg) -> Picture | Clip | None:
    kind = st.radio("Input", ["Upload a file", "Shipped sample"], horizontal=True)
    if kind == "Shipped sample":
        samples = {p.stem: p for p in sample_images()}
        name = st.selectbox("Sample photograph", list(samples))
        return Picture(name, read_rgb(samples[name]))
    upload = st.file_uploader(
        f"Image or short video (at most {cfg.max_upload_mb} MB, {cfg.max_pixels / 1e6:.1f} MP, "
        f"{config_mod.MAX_VIDEO_FRAMES} frames)",
        max_upload_size=cfg.max_upload_mb,
        help="PNG, JPEG, BMP, TIFF, WebP; MP4, MKV, WebM, AVI, MOV. The type is found by "
        "decoding the file, not from its name.",
    )
    if upload is None:
        return None
    try:
        check_size(upload.name, upload.size, cfg.max_upload_mb)
        folder = Path(st.session_state.setdefault("upload_dir", tempfile.mkdtemp(prefix="edgesr-app-")))
        return read_upload(upload.name, upload.getvalue(), folder, cfg.max_pixels, config_mod.MAX_VIDEO_FRAMES)
    except UploadError as exc:
        st.error(str(exc))
        return None


def model_picker(label: str = "Model", key_prefix: str = "upscale") -> Entry | None:
    """Model family, then which of its files (precision); unusable files listed with the reason."""
    cat = views.catalog()
    if cat.note:
        st.info(cat.note)
    if cat.unusable:
        with st.expander(f"{len(cat.unusable)} file(s) in the models folder cannot be used"):
            for e in cat.unusable:
                st.markdown(f"- `{e.path.name}`: {e.reason}")
    families = cat.families()
    if not families:
        st.warning("no usable model: the shipped models are missing and the models folder has none")
        return None
    c1, c2 = st.columns(2)
    family = c1.selectbox(label, families, key=f"{key_prefix}-family")
    files = cat.in_family(family)
    labels = [f"{e.precision.upper()}: {e.path.name}" for e in files]
    chosen = c2.selectbox(
        "Precision",
        range(len(files)),
        format_func=labels.__getitem__,
        key=f"{key_prefix}-file",
        help="FP32, FP16 or INT8: the files of this model; precision is read from the file",
    )
    return files[chosen]


def _degradation(column) -> str | None:
    """A preset of :mod:`edgesr.degrade` applied to the input first ("simulate real footage")."""
    if not available("edgesr.degrade") or not available("cv2"):
        column.caption("Simulating real footage needs OpenCV: pip install 'edgesr[video]'")
        return None
    from edgesr.degrade import PRESETS

    choice = column.selectbox(
        "Simulate real footage",
        [NO_DEGRADATION, *PRESETS],
        help="Blur, noise and compression applied to the input before upscaling "
        "(edgesr.degrade presets; the size is kept)",
    )
    return None if choice == NO_DEGRADATION else choice


def _tile(choice: str, lr: np.ndarray) -> tuple[int, int] | None:
    tile = TILES[choice]
    if tile is None:
        return config_mod.AUTO_TILE if lr.shape[0] * lr.shape[1] > config_mod.AUTO_TILE_PIXELS else None
    return None if tile == (0, 0) else tile


def _start(source: Picture | Clip, model: Entry, tile_choice: str, degradation: str | None) -> None:
    frame = source.rgb if isinstance(source, Picture) else source.first_frame
    tile = _tile(tile_choice, frame)
    stat = model.path.stat()
    content = frame.tobytes() if isinstance(source, Picture) else source.path.read_bytes()
    k = key(content, list(frame.shape), str(model.path), stat.st_mtime_ns, tile, degradation)
    pool = views.runners()

    def work(job: Job) -> Upscaled | UpscaledClip:
        job.report(0.0, "loading the model")
        runner = pool.get(model.path)
        lr = _degrade(frame, degradation)
        first = upscale_picture(job, runner, lr, tile)
        if isinstance(source, Picture):
            return first
        target = source.path.with_name(f"upscaled-{job.id}.mp4")
        return upscale_clip(job, runner, source.path, target, source.frames, tile, first)

    st.session_state[JOB] = views.jobs().submit(k, f"upscale {source.name} with {model.path.name}", work).id


def _degrade(rgb: np.ndarray, preset: str | None) -> np.ndarray:
    if preset is None:
        return rgb
    from edgesr.degrade import degrade

    return degrade(rgb, preset, scale=1, seed=0)


def _show(job: Job) -> None:
    result = job.result
    clip = result if isinstance(result, UpscaledClip) else None
    first: Upscaled = clip.first if clip else result
    h, w = first.lr.shape[:2]
    H, W = first.sr.shape[:2]
    c = st.columns(4)
    c[0].metric("Model time", f"{first.model_ms:.0f} ms", help="time in the model's inference calls for this image")
    c[1].metric("Whole run", f"{job.seconds:.2f} s", help="queue, tiling, inference, stitching, bicubic")
    c[2].metric("Output size", f"{W}x{H}", help=f"from {w}x{h}")
    c[3].metric("Precision", first.precision.upper(), help=f"{first.backend}, {first.tiles} tile(s)")
    if clip:
        st.subheader(f"Video: {clip.frames} frames")
        st.video(str(clip.path))
        st.download_button(
            "Download the video", clip.path.read_bytes(), file_name="upscaled.mp4", mime="video/mp4", on_click="ignore"
        )
        st.caption("Below: the first frame.")
    st.subheader("Bicubic | model")
    views.before_after(first.bicubic, first.sr, "bicubic", "model")
    _crop(first)
    d1, d2 = st.columns(2)
    d1.download_button(
        "Download the result (PNG)",
        lambda: views.png(first.sr),
        file_name="upscaled.png",
        mime="image/png",
        on_click="ignore",
    )
    d2.download_button(
        "Download bicubic (PNG)",
        lambda: views.png(first.bicubic),
        file_name="bicubic.png",
        mime="image/png",
        on_click="ignore",
    )


def _crop(result: Upscaled) -> None:
    st.subheader("Zoomed crop")
    H, W = result.sr.shape[:2]
    c1, c2, c3 = st.columns(3)
    sizes = [n for n in (32, 64, 128, 256) if n <= min(H, W)] or [min(H, W)]
    size = c3.selectbox("Crop size (output pixels)", sizes, index=min(2, len(sizes) - 1))
    x = c1.slider("Centre x", 0, W - 1, W // 2)
    y = c2.slider("Centre y", 0, H - 1, H // 2)
    top, left = min(max(0, y - size // 2), H - size), min(max(0, x - size // 2), W - size)
    zoom = max(1, 384 // size)
    crops = [
        np.repeat(np.repeat(im[top : top + size, left : left + size], zoom, 0), zoom, 1)
        for im in (result.bicubic, result.sr)
    ]
    st.image(crops, caption=[f"bicubic ({left},{top})", f"model ({left},{top})"])
