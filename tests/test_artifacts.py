"""The artifact a run picks for a shipped model or none: the default runs its INT8 file, the
shipped one while its card ties it to the FP32 file, else one built once into the user cache
under a key that changes with the FP32 file and the code that makes it."""

from __future__ import annotations

import json
import platform
import shutil
from pathlib import Path

import pytest

from edgesr import artifacts, routing, shipped
from edgesr.errors import InputError
from edgesr.fileio import sha256

DEFAULT = shipped.find(None)
ENCODING = "x86" if platform.machine().lower() in ("x86_64", "amd64") else "int8"


@pytest.fixture
def no_router(tmp_path, monkeypatch):
    """No router ships: the default is the default model alone."""
    monkeypatch.setattr(routing, "FOLDER", tmp_path / "no-routers")


def test_without_a_router_the_default_model_runs_its_shipped_int8_file(no_router):
    got = artifacts.resolve(None)
    assert got.precision == "int8"
    assert got.path == DEFAULT.int8(ENCODING)
    assert "shipped" in got.what


def test_precision_fp32_gives_the_fp32_default_back(no_router):
    got = artifacts.resolve(None, "fp32")
    assert (got.path, got.precision) == (DEFAULT.onnx, "fp32")


def test_the_default_is_the_shipped_router_over_int8_experts(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    got = artifacts.resolve(None)
    assert got.path.name.endswith(routing.SUFFIX) and got.precision == "int8" and "default router" in got.what
    router, files, _ = routing.read_artifact(got.path)
    assert files == {e: shipped.find(e).int8(ENCODING).resolve() for e in router.experts}
    assert artifacts.resolve("auto").path == got.path  # named by its content: made once
    fp32 = artifacts.resolve(None, "fp32")
    assert fp32.path != got.path and routing.read_artifact(fp32.path)[1] == {
        e: shipped.find(e).onnx.resolve() for e in router.experts
    }


def test_an_explicit_model_runs_as_asked(tmp_path):
    own = tmp_path / "mine.onnx"
    shutil.copyfile(DEFAULT.onnx, own)
    assert artifacts.resolve(str(own)).path == own
    named = artifacts.resolve(DEFAULT.name)
    assert (named.path, named.precision) == (DEFAULT.onnx, "fp32")
    with pytest.raises(InputError, match="runs as given"):
        artifacts.resolve(str(own), "int8")


def test_upscale_says_which_artifact_and_precision_it_runs(tmp_path, capsys):
    from edgesr.cli import main
    from edgesr.io.images import read_rgb, sample_images, write_rgb

    write_rgb(tmp_path / "lr.png", read_rgb(sample_images()[0])[:32, :40])
    assert main(["upscale", str(tmp_path / "lr.png"), "-o", str(tmp_path / "sr.png"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "router auto" in err and "INT8" in err and DEFAULT.int8(ENCODING).name in err


@pytest.fixture
def stale_models(tmp_path, monkeypatch):
    """A models folder whose default's card records its INT8 file as made from another FP32 file,
    a private cache, and a fake recipe that counts its runs."""
    folder = tmp_path / "models"
    folder.mkdir()
    for p in (DEFAULT.onnx, DEFAULT.int8("int8"), DEFAULT.int8("x86")):
        shutil.copyfile(p, folder / p.name)
    card = json.loads(DEFAULT.onnx.with_suffix(".json").read_text())
    card["int8"]["source"]["sha256"] = "0" * 64
    (folder / f"{DEFAULT.name}.json").write_text(json.dumps(card))
    monkeypatch.setattr(shipped, "FOLDER", folder)
    monkeypatch.setattr(routing, "FOLDER", tmp_path / "no-routers")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    runs = []

    def fake_recipe(fp32, out, name, *, latency, how=None):
        runs.append(sha256(fp32))
        for encoding in artifacts.ENCODINGS:
            (out / shipped.int8_name(name, encoding)).write_bytes(f"int8 of {sha256(fp32)} #{len(runs)}".encode())
        return {"source": {"sha256": sha256(fp32)}, "validation": {}}

    monkeypatch.setattr(artifacts, "make_int8", fake_recipe)
    return folder, runs


def test_a_stale_shipped_file_is_never_used_and_the_cache_is_built_once(stale_models):
    folder, runs = stale_models
    first = artifacts.resolve(None)
    assert first.precision == "int8" and "cache" in first.what
    assert first.path.parent.parent == artifacts.cache_root()
    assert artifacts.resolve(None).path == first.path
    assert len(runs) == 1


def test_the_cache_is_rebuilt_for_another_fp32_file(stale_models):
    folder, runs = stale_models
    first = artifacts.resolve(None).path
    fp32 = folder / DEFAULT.onnx.name
    fp32.write_bytes(fp32.read_bytes() + b"\0")  # another FP32 file
    second = artifacts.resolve(None).path
    assert len(runs) == 2 and runs[0] != runs[1]
    assert second != first and not first.parent.exists()  # the stale entry is gone
    assert runs[1] in second.read_text()


def test_the_cache_is_rebuilt_for_other_quantize_code(stale_models, monkeypatch):
    folder, runs = stale_models
    first = artifacts.resolve(None).path
    monkeypatch.setattr(artifacts, "fingerprint", lambda: "another quantize stage")
    second = artifacts.resolve(None).path
    assert len(runs) == 2 and second != first
    assert runs[0] == runs[1]  # same FP32 file: the code alone made it stale


def test_the_fingerprint_covers_the_quantize_code(tmp_path, monkeypatch):
    package = tmp_path / "edgesr"
    shutil.copytree(Path(artifacts.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__", "models"))
    monkeypatch.setattr(artifacts, "_PACKAGE", package)
    before = artifacts.fingerprint()
    qdq = package / "quantize" / "qdq.py"
    qdq.write_text(qdq.read_text() + "\n# changed\n")
    assert artifacts.fingerprint() != before


@pytest.mark.slow
def test_the_real_recipe_remakes_the_shipped_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    built = artifacts.cached_int8(DEFAULT, ENCODING, "test")
    assert sha256(built) == DEFAULT.card["int8"]["files"][built.name]["sha256"]


def test_a_model_trained_on_degraded_lr_is_budgeted_on_degraded_validation():
    clean = shipped.ShippedModel("a", DEFAULT.onnx, {"training": {"data": {"lr_method": "matlab-bicubic"}}})
    robust = shipped.ShippedModel("b", DEFAULT.onnx, {"training": {"data": {"lr_method": "degraded: real"}}})
    assert artifacts.recipe(clean) == artifacts.RECIPE
    assert artifacts.recipe(robust) == {**artifacts.RECIPE, "val_degrade": ["grid"]}
    assert artifacts.cache_key(DEFAULT.onnx, artifacts.recipe(clean)) != artifacts.cache_key(
        DEFAULT.onnx, artifacts.recipe(robust)
    )


def test_ship_router_fits_measures_and_writes_it(tmp_path, monkeypatch, capsys):
    from edgesr.cli import main
    from edgesr.io import images

    monkeypatch.setattr(routing, "FOLDER", tmp_path / "routers")
    train, hr = tmp_path / "train", tmp_path / "hr"
    for folder, size in ((train, 200), (hr, 96)):
        folder.mkdir()
        for i, path in enumerate(images.sample_images()[:2]):
            images.write_rgb(folder / f"{i}.png", images.fit(images.read_rgb(path), size, size))
    argv = ["models", "--ship-router", "r", "--data", str(train), "--eval", str(hr)]
    assert main(argv) == 0
    data = json.loads((tmp_path / "routers" / "r.json").read_text())
    assert data["default"] is False and data["fit"]["crops"] == 8 and data["made_by"] == "edgesr models --ship-router r"
    routing.Router.from_dict(data["router"], "written")
    (grid,) = data["degradation_grid"]["grids"]
    assert {c["model"] for c in grid["cells"]} == {"bicubic", "r", "aidn-rt", "aidn-rt-real", "aidn-da"}
    assert sum(data["picks_on_grid"].values()) == 2 * 8
    assert "r: 8 crops" in capsys.readouterr().out
    assert main(argv + ["--default"]) == 0 and routing.shipped_routers()["r"]["default"] is True
    assert main(argv) == 0 and routing.shipped_routers()["r"]["default"] is True  # kept unless asked


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--ship-router", "r"], "needs training images (--data DIR)"),
        (["--ship-router", "r", "--data", "{missing}", "--eval", "{missing}"], "not a folder"),
    ],
)
def test_ship_router_bad_input_is_one_line(tmp_path, capsys, argv, message):
    from edgesr.cli import main

    assert main(["models", *[a.format(missing=tmp_path / "nope") for a in argv]]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
