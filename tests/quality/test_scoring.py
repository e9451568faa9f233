"""Scoring several models on several folders (what ``edgesr eval`` prints), called as a library."""

from __future__ import annotations

import pytest

from edgesr.degrade import expand
from edgesr.errors import InputError
from edgesr.quality.scoring import catalog_psnr, load_upscalers, score_clean, score_grid
from edgesr.quality.upscalers import Bicubic
from tests.quality.tiny_upscalers import nearest_onnx


def test_clean_scores_each_model_on_each_folder_and_reports_as_it_goes(photos):
    heard = []
    scores = score_clean(
        [Bicubic(2), Bicubic(3)],
        [str(photos), str(photos)],
        on_result=lambda up, result: heard.append((up.scale, result.mean_psnr)),
    )
    assert [scale for scale, _ in heard] == [2, 2, 3, 3]
    data = scores.to_dict()
    assert [m["scale"] for m in data["models"]] == [2, 3]
    assert [len(m["datasets"]) for m in data["models"]] == [2, 2]


def test_one_model_is_reported_alone(photos):
    data = score_clean([Bicubic(2)], [str(photos)]).to_dict()
    assert data["model"] == "bicubic" and data["scale"] == 2 and len(data["datasets"]) == 1


def test_grid_puts_bicubic_first_unless_given(photos, tmp_path):
    onnx = load_upscalers([str(nearest_onnx(tmp_path / "x2.onnx", metadata={"edgesr.scale": 2}))])
    grids = []
    scores = score_grid(onnx, [str(photos)], expand(["clean"]), seed=3, on_grid=grids.append)
    assert scores.grids == grids and grids[0].models == ["bicubic", "x2.onnx"]
    assert scores.to_dict()["seed"] == 3 and scores.to_dict()["scale"] == 2
    with_bicubic = score_grid([*onnx, Bicubic(2)], [str(photos)], expand(["clean"]))
    assert with_bicubic.grids[0].models == ["x2.onnx", "bicubic"]


def test_bicubic_takes_the_scale_of_the_model_before_it(tmp_path):
    model = nearest_onnx(tmp_path / "x2.onnx", metadata={"edgesr.scale": 2})
    assert [u.scale for u in load_upscalers([str(model), "bicubic"])] == [2, 2]


@pytest.mark.parametrize(
    "models, scale, weights, message",
    [
        (["bicubic", "bicubic"], None, "w.pth", "--weights goes with one architecture name"),
        (["bicubic"], None, None, "bicubic needs a scale"),
    ],
)
def test_bad_model_lists_are_refused(models, scale, weights, message):
    with pytest.raises(InputError, match=message):
        load_upscalers(models, scale, weights)


def test_a_model_of_another_scale_than_the_first_is_refused(tmp_path):
    x2 = nearest_onnx(tmp_path / "x2.onnx", metadata={"edgesr.scale": 2})
    x3 = nearest_onnx(tmp_path / "x3.onnx", scale=3, metadata={"edgesr.scale": 3})
    with pytest.raises(InputError, match="a x3 model but x2 was asked"):
        load_upscalers([str(x2), str(x3)])


def test_catalog_psnr_without_folders_measures_nothing():
    assert catalog_psnr([object()], []) == {}
