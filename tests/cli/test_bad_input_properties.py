"""Property-based bad input: the size and URI parsers and mutated ONNX files either give a value
or refuse with an :class:`EdgeSRError` (one line for the CLI), never another exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgesr import sizes
from edgesr.errors import EdgeSRError
from edgesr.io import uri
from edgesr.onnx import loading
from tests.tiny_models import sr_model

FAST = settings(max_examples=200, deadline=None)


@FAST
@given(st.text(max_size=24))
def test_size_parsers_refuse_cleanly(text):
    for parse in (
        lambda t: sizes.parse_hw(t, "--tile"),
        lambda t: sizes.parse_hw_range(t, "--input-size-range"),
        lambda t: sizes.parse_nchw(t, "--input-shape"),
        lambda t: sizes.legacy_wh(t, "--input", "--input-size"),
    ):
        try:
            parse(text)
        except EdgeSRError as exc:
            assert "\n" not in str(exc)


@FAST
@given(st.integers(1, sizes.MAX_SIDE), st.integers(1, sizes.MAX_SIDE), st.sampled_from(["x", "X", " x "]))
def test_sizes_read_height_first(h, w, sep):
    assert sizes.parse_hw(f"{h}{sep}{w}", "--tile") == (h, w)
    assert sizes.parse_nchw(f"1x3x{h}x{w}", "--input-shape") == (1, 3, h, w)


@FAST
@given(st.integers(1, 4096), st.integers(1, 4096))
def test_old_build_order_only_where_unambiguous(h, w):
    if h == w:
        assert sizes.legacy_wh(f"{w}x{h}", "--input", "--input-size") == (h, w)
    else:
        with pytest.raises(EdgeSRError, match=f"write --input-size {h}x{w}"):
            sizes.legacy_wh(f"{w}x{h}", "--input", "--input-size")


@FAST
@given(
    st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda s, rest: f"{s}://{rest}",
            st.sampled_from(["file", "test", "v4l2", "csi", "rtsp", "null", "display", "ftp", "x"]),
            st.text(max_size=30),
        ),
    )
)
def test_uri_parser_refuses_cleanly(text):
    try:
        parsed = uri.parse(text)
    except EdgeSRError as exc:
        assert "\n" not in str(exc)
        return
    assert parsed.scheme


MODEL = sr_model(channels=4).SerializeToString()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_onnx_loads_or_refuses(tmp_path_factory, data):
    blob = bytearray(MODEL)
    kind = data.draw(st.sampled_from(["flip", "truncate", "splice"]))
    if kind == "truncate":
        blob = blob[: data.draw(st.integers(0, len(blob) - 1))]
    elif kind == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            blob[data.draw(st.integers(0, len(blob) - 1))] ^= 1 << data.draw(st.integers(0, 7))
    else:
        at = data.draw(st.integers(0, len(blob)))
        blob[at:at] = data.draw(st.binary(min_size=1, max_size=16))
    path = Path(tmp_path_factory.mktemp("mut")) / "m.onnx"
    path.write_bytes(bytes(blob))
    try:
        model = loading.load(path)
        loading.sanitise(model)
    except EdgeSRError as exc:
        assert "\n" not in str(exc)
