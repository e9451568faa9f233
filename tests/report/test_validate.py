"""``edgesr.report.validate``: scores, drops, verdicts, latency and crops from tiny models on real photos."""

from __future__ import annotations

import json
import math
import shutil

import pytest

from edgesr.errors import InputError, ModelError
from edgesr.quality import evaluate
from edgesr.quality.upscalers import OnnxUpscaler
from edgesr.report import validate
from edgesr.runtime import runners
from edgesr.runtime.model_spec import ModelSpec
from tests.report.conftest import SCALE
from tests.tiny_models import save, sr_model

QUICK = dict(repeats=2, warmup=1, latency_size=(16, 24))


@pytest.fixture(scope="module")
def report(models, photos):
    return validate([models["fp32"], models["fp16"], models["int8"], models["noise"]], [photos], max_drop=0.5, **QUICK)


def test_variants_roles_and_precisions(report):
    got = [(v.name, v.role, v.precision) for v in report.variants]
    assert got == [
        ("tiny.onnx", "reference", "fp32"),
        ("tiny_fp16.onnx", "candidate", "fp16"),
        ("tiny_int8.onnx", "candidate", "int8"),
        ("noise.onnx", "candidate", "fp32"),
        ("bicubic", "baseline", "-"),
    ]
    assert report.scale == SCALE and report.shave == SCALE


def test_scores_match_edgesr_eval(report, models, photos):
    data = report.datasets[0]
    for key, name in (("fp32", "tiny.onnx"), ("int8", "tiny_int8.onnx")):
        alone = evaluate(OnnxUpscaler(models[key]), photos, SCALE)
        assert [s.psnr for s in data.scores[name].images] == pytest.approx([s.psnr for s in alone.images])
        assert data.scores[name].mean_ssim == pytest.approx(alone.mean_ssim)


def test_drops_and_verdicts(report):
    data = report.datasets[0]
    assert data.drop("tiny.onnx") == 0
    assert abs(data.drop("tiny_fp16.onnx")) < 0.05
    assert data.drop("noise.onnx") > 5
    assert data.image_drops("noise.onnx") == pytest.approx(
        [r.psnr - c.psnr for r, c in zip(data.scores["tiny.onnx"].images, data.scores["noise.onnx"].images)]
    )
    assert sum(data.image_drops("noise.onnx")) / 3 == pytest.approx(data.drop("noise.onnx"))
    assert {v.name: report.verdict(v) for v in report.variants}["noise.onnx"] == "fail"
    assert report.verdict(report.variants[1]) == "pass"
    assert [(f.variant, f.dataset) for f in report.failures] == [("noise.onnx", data.name)]
    assert not report.passed


def test_latency_for_every_artifact_not_the_baseline(report):
    ref, *others, baseline = report.variants
    assert ref.latency.repeats == 2 and report.latency_ratio(ref) == 1.0
    assert all(v.latency.min_ms <= v.latency.median_ms for v in others)
    assert baseline.latency is None and report.latency_input == (16, 24)


def test_one_crop_per_image_inside_the_shaved_region(report):
    data = report.datasets[0]
    assert [c.image for c in data.crops] == data.image_names
    for c, score in zip(data.crops, data.scores["tiny.onnx"].images):
        assert len(c.tiles) == 3 + 3 and len(c.diffs) == len(c.tiles)
        assert [t.label for t in c.tiles][0] == "bicubic" and c.tiles[-1].label == "ground truth"
        assert [d is not None for d in c.diffs] == [False, False, True, True, True, False]
        assert c.crop.top >= SCALE and c.crop.top + c.crop.size <= score.height - SCALE
        assert c.crop.left >= SCALE and c.crop.left + c.crop.size <= score.width - SCALE
        assert all(t.data_uri.startswith("data:image/png;base64,") for t in c.tiles)


def test_json_dict_holds_every_number(report):
    d = json.loads(json.dumps(report.to_dict()))
    assert d["passed"] is False and d["max_drop_db"] == 0.5 and d["reference"] == "tiny.onnx"
    assert d["failures"][0]["variant"] == "noise.onnx" and d["failures"][0]["drop_db"] > 5
    by_name = {v["name"]: v for v in d["variants"]}
    int8 = by_name["tiny_int8.onnx"]
    assert int8["precision"] == "int8" and int8["metadata"]["edgesr.quant.calibration"] == "3 photos"
    assert set(int8["latency_ms"]) == {"median", "p25", "p75", "min", "repeats", "samples"}
    assert len(int8["latency_ms"]["samples"]) == 2
    assert set(int8["datasets"][report.datasets[0].name]) == {"mean_psnr", "mean_ssim", "drop_psnr", "drop_ssim"}
    assert by_name["bicubic"]["latency_ms"] is None and by_name["bicubic"]["verdict"] == "baseline"
    image = d["datasets"][0]["images"][0]
    assert set(image["scores"]) == set(by_name) and set(image["crop"]) == {"top", "left", "size", "zoom", "reason"}


def test_reference_option_and_no_latency_no_crops(models, photos):
    r = validate([models["fp16"], models["fp32"]], [photos], reference=models["fp32"], repeats=0, crops=False)
    assert [v.name for v in r.variants] == ["tiny.onnx", "tiny_fp16.onnx", "bicubic"]
    assert r.latency_input is None and r.datasets[0].crops == [] and r.passed


def test_identical_candidate_passes_a_zero_budget_and_crops_fall_back_to_texture(models, photos):
    r = validate([models["fp32"], models["copy"]], [photos], max_drop=0.0, repeats=0)
    assert r.passed and r.datasets[0].drop("tiny_copy.onnx") == 0
    assert all("most texture" in c.crop.reason for c in r.datasets[0].crops)


def test_same_file_names_get_told_apart(models, photos, tmp_path):
    copies = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        copies.append(shutil.copy(models["fp32"], tmp_path / folder / "tiny.onnx"))
    r = validate(copies, [photos], repeats=0, crops=False)
    assert [v.name for v in r.variants] == ["a/tiny.onnx", "b/tiny.onnx", "bicubic"]


def test_models_without_metadata_are_run_and_what_was_assumed_is_shown(photos, tmp_path):
    bare = sr_model(scale=SCALE, bicubic_skip=True)
    del bare.metadata_props[:]
    a, b = save(bare, tmp_path / "a.onnx"), save(bare, tmp_path / "b.onnx")
    inferred = validate([a, b], [photos], repeats=0, crops=False)
    assert inferred.scale == SCALE
    assert any("inferred" in n for n in inferred.variants[0].notes)
    assert any("rewritten in memory" in n for n in inferred.variants[0].notes)
    declared = validate([a, b], [photos], scale=SCALE, repeats=0, crops=False)
    assert any("taken from --scale" in n for n in declared.variants[1].notes)
    with pytest.raises(ModelError, match="returned"):
        validate([a, b], [photos], scale=3, repeats=0, crops=False)


@pytest.mark.parametrize(
    "case, message",
    [
        ("no artifacts", "no model artifacts given"),
        ("one artifact", "nothing to compare"),
        ("twice", "is given twice"),
        ("no images", "no images"),
        ("no data", "no image folder given"),
        ("data twice", "image folder is given twice"),
        ("scales", "different scales (tiny.onnx x2, tiny_x4.onnx x4)"),
        ("asked scale", "tiny.onnx is a x2 model but --scale 4 was given"),
        ("not a model", "not an ONNX model"),
        ("budget", "drop budget must be >= 0"),
    ],
)
def test_bad_input(models, photos, tmp_path, case, message):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00junk")
    args = {
        "no artifacts": ([], [photos], {}),
        "one artifact": ([models["fp32"]], [photos], {}),
        "twice": ([models["fp32"], models["fp16"], models["fp16"]], [photos], {}),
        "no images": ([models["fp32"], models["fp16"]], [tmp_path], {}),
        "no data": ([models["fp32"], models["fp16"]], [], {}),
        "data twice": ([models["fp32"], models["fp16"]], [photos, photos], {}),
        "scales": ([models["fp32"], models["x4"]], [photos], {}),
        "asked scale": ([models["fp32"], models["fp16"]], [photos], {"scale": 4}),
        "not a model": ([models["fp32"], junk], [photos], {}),
        "budget": ([models["fp32"], models["fp16"]], [photos], {"max_drop": math.nan}),
    }[case]
    with pytest.raises((InputError, ModelError), match=message.replace("(", r"\(").replace(")", r"\)")):
        validate(args[0], args[1], repeats=0, **args[2])


def test_a_runner_registered_for_a_new_suffix_is_validated(models, photos, tmp_path, monkeypatch):
    """How TensorRT engines will arrive: a runtime runner for their suffix, described by its spec."""
    monkeypatch.setattr(runners, "RUNNERS", dict(runners.RUNNERS))

    class NearestEngine(runners.Runner):
        def activate(self):
            self.spec = ModelSpec(
                scale=SCALE,
                value_range=1.0,
                channel_order="RGB",
                input_name="x",
                output_name="y",
                dtype="float32",
                input_hw=None,
                batch=None,
                size_multiple=1,
                precision="fp16",
                backend="fake engine",
            )

        def infer(self, batch):
            return batch.repeat(SCALE, axis=2).repeat(SCALE, axis=3)

    runners.register_runner(".engine", NearestEngine)
    engine = tmp_path / "tiny.engine"
    engine.write_bytes(b"plan")
    r = validate([models["fp32"], engine], [photos], max_drop=100, repeats=1, warmup=0, latency_size=(8, 8))
    v = r.variants[1]
    assert (v.name, v.precision, v.backend, v.info.detail) == (
        "tiny.engine",
        "fp16",
        "fake engine",
        "as its runner reports",
    )
    assert r.passed and v.latency.repeats == 1


def test_degraded_validation_scores_each_folder_per_degradation_as_eval_does(models, photos):
    from edgesr.degrade import parse

    r = validate(
        [models["fp32"], models["int8"]], [photos], repeats=0, crops=False, degradations=("noise10", "jpeg=50")
    )
    assert [d.name for d in r.datasets] == [f"{photos.name} [noise10]", f"{photos.name} [jpeg50]"]
    for data, spec in zip(r.datasets, ("noise10", "jpeg=50")):
        alone = evaluate(OnnxUpscaler(models["int8"]), photos, SCALE, degradation=parse(spec))
        assert [s.psnr for s in data.scores["tiny_int8.onnx"].images] == pytest.approx([s.psnr for s in alone.images])
    clean = validate([models["fp32"], models["int8"]], [photos], repeats=0, crops=False)
    assert r.datasets[0].scores["tiny.onnx"].mean_psnr < clean.datasets[0].scores["tiny.onnx"].mean_psnr
