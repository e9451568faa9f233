"""``edgesr train`` in-process: a run, Ctrl-C and --resume, and one-line errors for bad input."""

from __future__ import annotations

import json
import shutil
import signal

import pytest
import torch

from edgesr.cli import main
from edgesr.io.images import read_rgb, write_rgb
from edgesr.train import data as train_data

TINY = ["--scale", "2", "--batch", "4", "--set", "channels=8", "--set", "mid_channels=4"]


def args(train_dir, val_dir, out, *extra: str) -> list[str]:
    return [
        "-q",
        "train",
        "espcn",
        "--data",
        str(train_dir),
        "--val",
        str(val_dir),
        "-o",
        str(out),
        "--cache-dir",
        str(out.parent / "cache"),
        *TINY,
        *extra,
    ]


def test_train_then_ctrl_c_then_resume(train_dir, val_dir, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    draw = train_data.PatchSampler.__call__

    def ctrl_c_at_third_batch(self, iteration):
        if (self.stage, iteration) == (0, 2):
            signal.raise_signal(signal.SIGINT)  # as if pressed while this iteration runs
        return draw(self, iteration)

    monkeypatch.setattr(train_data.PatchSampler, "__call__", ctrl_c_at_third_batch)
    assert main(args(train_dir, val_dir, out, "--stages", "8,12", "--iterations", "5")) == 130
    err = capsys.readouterr().err
    assert "interrupted at stage 1, iteration 3" in err and f"--resume {out / 'checkpoint.pt'}" in err
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"
    monkeypatch.undo()

    assert main(["train", "--resume", str(out / "checkpoint.pt")]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out / 'espcn_x2.pth'}" in printed and "10 iterations" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete" and [s["patch"] for s in summary["stages"]] == [8, 12]
    assert summary["compute"]["patches"] == 40 and summary["model_config"]["channels"] == 8
    assert set(torch.load(out / "espcn_x2.pth", weights_only=True)) == {
        "first_part.0.weight",
        "first_part.0.bias",
        "first_part.2.weight",
        "first_part.2.bias",
        "last_part.0.weight",
        "last_part.0.bias",
    }


def test_small_images_are_left_out_of_stages_they_cannot_fill(train_dir, val_dir, tmp_path, capsys):
    mixed = tmp_path / "mixed"
    shutil.copytree(train_dir, mixed)
    for p in list(mixed.iterdir())[:2]:
        write_rgb(p, read_rgb(p)[:20, :20].copy())
    assert main(args(mixed, val_dir, tmp_path / "run", "--stages", "8,12", "--iterations", "2")) == 0
    assert "stage 2: 2 of 6 training images are smaller than 24x24" in capsys.readouterr().err
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert [s["images"] for s in summary["stages"]] == [6, 4] and len(summary["notes"]) == 1


def test_benchmark_data_is_refused_unless_allowed(train_dir, val_dir, tmp_path, capsys):
    set5 = tmp_path / "datasets" / "Set5"
    shutil.copytree(train_dir, set5)
    assert main(args(set5, val_dir, tmp_path / "run", "--stages", "8", "--iterations", "2")) == 1
    assert "is a benchmark set" in capsys.readouterr().err
    assert (
        main(args(set5, val_dir, tmp_path / "run", "--stages", "8", "--iterations", "2", "--allow-benchmark-data")) == 0
    )
    assert "TRAINED ON BENCHMARK DATA" in capsys.readouterr().err
    assert "BENCHMARK" in json.loads((tmp_path / "run" / "summary.json").read_text())["notes"][0]


def test_bad_input_is_one_line(train_dir, val_dir, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "run"
    budget = ["--iterations", "2", "--stages", "8"]
    cases = [
        (args(empty, val_dir, out, *budget), "no images"),
        (
            args(train_dir, val_dir, out, "--stages", "24", "--iterations", "2"),
            "no training image holds an LR patch of 24 px (HR 48x48 at x2); "
            "the largest LR patch these images hold is 20",
        ),
        (args(train_dir, val_dir, out, "--stages", "8"), "give a budget"),
        (args(train_dir, train_dir, out, *budget), "overlaps training folder"),
        (args(train_dir, val_dir, out, *budget, "--set", "chanels=4"), "did you mean 'channels'"),
        (args(train_dir, val_dir, out, *budget, "--set", "channels=many"), "expected int"),
        (["-q", "train", "espcnn", "--data", str(train_dir), "-o", str(out), *budget], "did you mean 'espcn'"),
        (
            ["-q", "train", "epfdn-tiny", "--data", str(train_dir), "-o", str(out), "--set", "act=tanh", *budget],
            "act 'tanh' is not one of relu, lrelu, silu, gelu",
        ),
        (["-q", "train", "--data", str(train_dir), *budget], "give ARCH, --out"),
        (["-q", "train", "--resume", str(out / "checkpoint.pt"), "--lr", "0.1"], "drop --lr"),
        (["-q", "train", "--resume", str(out / "checkpoint.pt")], "does not exist"),
    ]
    for argv, message in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1 and err.startswith("edgesr: error:"), err


def test_a_run_directory_holds_one_run(train_dir, val_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(args(train_dir, val_dir, out, "--stages", "8", "--iterations", "2")) == 0
    assert main(args(train_dir, val_dir, out, "--stages", "8", "--iterations", "3")) == 1
    assert "holds a run with other settings (theirs vs yours: iterations: [2] vs [3])" in capsys.readouterr().err


def test_unparsable_budgets_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "espcn", "--time", "2 weeks"])
    assert e.value.code == 2 and "is not a duration" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_refused(train_dir, val_dir, tmp_path, capsys):
    assert (
        main(args(train_dir, val_dir, tmp_path / "run", "--stages", "8", "--iterations", "2", "--device", "cuda")) == 1
    )
    assert "sees no CUDA GPU" in capsys.readouterr().err
