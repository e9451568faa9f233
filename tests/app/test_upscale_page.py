"""The Upscale page in Streamlit's test harness: widgets, a small upscale end to end, bad uploads."""

from __future__ import annotations

import io

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from edgesr.io.images import read_rgb, sample_images
from tests.app.conftest import RUN_TIMEOUT, png_bytes, run_until


def page():
    from edgesr.app.pages import upscale

    upscale.render()


@pytest.fixture
def at(app_config):
    return AppTest.from_function(page, default_timeout=RUN_TIMEOUT)


def _upload(at, name: str, data: bytes, mime: str = "application/octet-stream"):
    at.file_uploader[0].set_value((name, data, mime))
    at.run()
    return at


def test_widgets_present(at):
    at.run()
    assert not at.exception
    assert at.radio[0].options == ["Upload a file", "Shipped sample"]
    labels = [s.label for s in at.selectbox]
    assert labels[:3] == ["Model", "Precision", "Tiling"]
    assert "tiny" in at.selectbox[0].options
    assert at.button[0].label == "Upscale" and at.button[0].disabled  # nothing uploaded yet


def test_corrupt_artifact_listed_as_unusable(at):
    at.run()
    text = " ".join(m.value for m in at.markdown)
    assert "`broken.onnx`: broken.onnx is not an ONNX model or is truncated" in text


def test_small_upload_upscaled_end_to_end(at):
    rgb = np.ascontiguousarray(read_rgb(sample_images()[0])[:45, :80])
    at.run()
    at.selectbox(key="upscale-family").set_value("tiny")
    _upload(at, "small.png", png_bytes(rgb), "image/png")
    assert not at.error
    at.button[0].click()
    at = run_until(at, lambda a: len(a.metric) == 4)
    assert (at.metric[2].label, at.metric[2].value) == ("Output size", "160x90")
    assert [b.label for b in at.get("download_button")][:2] == ["Download the result (PNG)", "Download bicubic (PNG)"]


def test_simulated_footage_is_upscaled(at):
    pytest.importorskip("cv2", reason="edgesr.degrade needs OpenCV (the video extra)")
    at.run()
    at.radio[0].set_value("Shipped sample")
    at.run()
    at.selectbox(key="upscale-family").set_value("tiny")
    at.run()
    at.selectbox(key="upscale-file").set_value(1)  # tiny's INT8 file
    presets = at.selectbox[-1].options
    assert presets[0].startswith("none") and "noise10" in presets
    at.selectbox[-1].set_value("noise10")
    next(s for s in at.selectbox if s.label == "Tiling").set_value("256x256")
    at.run()
    at.button[0].click()
    at = run_until(at, lambda a: len(a.metric) == 4)
    assert at.metric[3].value.startswith("INT8")


@pytest.mark.parametrize(
    "name,data,says",
    [
        ("notes.png", b"plain text, not pixels" * 10, "neither an image nor a video"),
        ("cut.png", None, "cannot decode"),
        ("huge.png", "huge", "over the"),
        ("big.png", b"\0" * (2 * 1024 * 1024), "over the 1 MB upload limit"),
    ],
)
def test_bad_upload_gives_a_message(at, name, data, says):
    if data is None:  # a real PNG cut in half
        data = png_bytes(read_rgb(sample_images()[1])[:200, :200])[:3000]
    elif data == "huge":
        data = _huge_png_header(20000, 20000)
    at.run()
    _upload(at, name, data)
    assert not at.exception
    assert any(says in e.value for e in at.error), [e.value for e in at.error]
    assert at.button[0].disabled


def _huge_png_header(width: int, height: int) -> bytes:
    """A valid PNG of width x height whose pixel data is one black row repeated (small on disk)."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])  # 8-bit grey
    raw = zlib.compressobj(9)
    data = b"".join(raw.compress(b"\0" * (width + 1)) for _ in range(64)) + raw.flush()
    out = io.BytesIO()
    out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return out.getvalue()
