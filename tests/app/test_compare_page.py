"""The Compare page shows the numbers ``edgesr validate`` computes on the same inputs."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from edgesr.report import tables, validate
from tests.app.conftest import RUN_TIMEOUT, run_until


def page():
    from edgesr.app.pages import compare

    compare.render()


@pytest.fixture
def at(app_config):
    return AppTest.from_function(page, default_timeout=RUN_TIMEOUT)


def test_widgets_present(at):
    at.run()
    assert not at.exception
    assert at.multiselect[0].label.startswith("Artifacts")
    assert "hr" in " ".join(at.selectbox[0].options)  # the --data-dir folder's sub-folder of images
    assert at.number_input[0].value == 0.1
    assert at.button[0].disabled


def test_table_numbers_equal_validate(at, models_dir, hr_folder, tmp_path):
    at.run()
    options = at.multiselect[0].options
    chosen = [next(o for o in options if o.startswith(f"tiny/{n} ")) for n in ("tiny.onnx", "tiny_int8.onnx")]
    at.multiselect[0].set_value([options.index(c) for c in chosen])
    at.selectbox[0].set_value(next(o for o in at.selectbox[0].options if o.startswith(hr_folder.name[:2])))
    at.run()
    at.button[0].click()
    at = run_until(at, lambda a: len(a.dataframe) >= 2)
    expected = validate(
        [models_dir / "tiny" / "tiny.onnx", models_dir / "tiny" / "tiny_int8.onnx"],
        [hr_folder],
        max_drop=0.1,
        repeats=0,
    )
    per_image = tables.per_image(expected, expected.datasets[0])
    shown = at.dataframe[1].value
    assert list(shown.columns) == per_image.flat_headers()
    assert shown.values.tolist() == [[c.text for c in row] for row in per_image.rows]
    summary = at.dataframe[0].value
    want = tables.summary(expected)
    scores = [h for h in want.flat_headers() if h.endswith(("PSNR", "SSIM", "drop"))]
    assert summary[scores].values.tolist() == [
        [c.text for h, c in zip(want.flat_headers(), row) if h in scores] for row in want.rows
    ]
