"""``edgesr export`` and ``edgesr models`` in-process."""

from __future__ import annotations

import json

import onnx
import pytest
import torch

from edgesr import meta
from edgesr.cli import main
from edgesr.models import registry
from tests.models.tiny import tiny


def test_export_with_weights(tmp_path, capsys):
    ckpt = tmp_path / "espcn.pth"
    torch.save({"params": tiny("espcn", 3).state_dict()}, ckpt)
    out = tmp_path / "espcn.onnx"
    assert main(["export", "espcn", "--weights", str(ckpt), "-o", str(out), "--static", "20x30"]) == 0
    assert "espcn x3" in capsys.readouterr().out
    m = onnx.load(str(out))
    assert meta.read(m).scale == 3 and meta.read(m).name == "espcn"
    assert [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim] == [1, 3, 20, 30]


def test_export_without_weights_warns(tmp_path, capsys):
    assert main(["export", "fsrcnn", "--scale", "2", "-o", str(tmp_path / "f.onnx")]) == 0
    assert "random weights" in capsys.readouterr().err


def test_export_checkpoint_of_other_arch_is_one_line(tmp_path, capsys):
    ckpt = tmp_path / "rlfn.pth"
    torch.save(tiny("rlfn", 2).state_dict(), ckpt)
    assert main(["export", "rfdn", "--weights", str(ckpt), "-o", str(tmp_path / "x.onnx")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "looks like a rlfn x2 checkpoint" in err
    assert not (tmp_path / "x.onnx").exists()


def test_export_rejects_bad_static_size(tmp_path):
    with pytest.raises(SystemExit):
        main(["export", "espcn", "-o", str(tmp_path / "x.onnx"), "--static", "20by30"])


def test_models_json_lists_every_architecture(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["models"]
    assert [r["name"] for r in rows] == registry.names()
    rfdn = rows[0]
    assert (rfdn["params"], rfdn["macs_720p"], rfdn["weights"]) == (433_448, 23_759_144_640, [])


def test_models_table_finds_shared_weights(weights, capsys):
    assert main(["models", "--weights-dir", str(weights)]) == 0
    table = capsys.readouterr().out
    for name, file in (
        ("rfdn", "rfdn_aim2020_x4.pth"),
        ("rlfn", "rlfn_ntire2024_x4.pth"),
        ("safmn", "safmn_ntire2023_x4.pth"),
    ):
        line = next(ln for ln in table.splitlines() if ln.startswith(name + " "))
        assert str(weights / file) in line


def test_models_table_without_weights_dir(capsys):
    assert main(["models"]) == 0
    assert "bring your own" in capsys.readouterr().out


def test_models_lists_the_shipped_router_with_its_grid(capsys):
    assert main(["models", "--json"]) == 0
    (auto,) = json.loads(capsys.readouterr().out)["routers"]
    assert auto["name"] == "auto" and auto["default"] and auto["experts"] == ["aidn-rt", "aidn-rt-real", "aidn-da"]
    assert set(auto["psnr_y"]) == set(auto["degraded_gain_db"]) == {"Set5", "Set14"}
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert "auto (default of upscale and stream): router, per scene one of aidn-rt" in text
    assert "aidn-rt (default of build)" in text


def test_models_rejects_missing_dir(tmp_path, capsys):
    assert main(["models", "--weights-dir", str(tmp_path / "none")]) == 1
    assert "is not a folder" in capsys.readouterr().err


def test_models_measures_psnr_of_found_weights(tmp_path, capsys):
    import numpy as np
    import torch

    from edgesr.io.images import read_rgb, sample_images, write_rgb
    from edgesr.quality.protocol import evaluate
    from edgesr.quality.upscalers import load_upscaler
    from tests.models.tiny import tiny

    ckpts, photos = tmp_path / "ckpts", tmp_path / "photos"
    ckpts.mkdir()
    photos.mkdir()
    torch.save(tiny("espcn", 4).state_dict(), ckpts / "espcn_x4.pth")
    for path in sample_images()[:2]:
        write_rgb(photos / f"{path.stem}.png", np.ascontiguousarray(read_rgb(path)[:96, :128]))
    assert main(["models", "--weights-dir", str(ckpts), "--eval", str(photos), "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["models"]}
    want = evaluate(load_upscaler("espcn", scale=4, weights=str(ckpts / "espcn_x4.pth")), photos, 4).mean_psnr
    assert rows["espcn"]["psnr_y"] == {"photos": pytest.approx(want, abs=1e-4)}
    assert rows["rfdn"]["psnr_y"] == {}
    assert main(["models", "--eval", str(photos)]) == 1
    assert "--weights-dir" in capsys.readouterr().err
