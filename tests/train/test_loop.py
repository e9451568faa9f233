"""Training runs on tiny data: the loss falls, runs reproduce, resume exactly, and hot-start stage by stage."""

from __future__ import annotations

import shutil
import signal

import pytest
import torch

from edgesr import models
from edgesr.cli import main
from edgesr.train import resume, train
from edgesr.train.net import fingerprint


def weights(result) -> dict:
    return torch.load(result.weights, weights_only=True)


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def stop_at(step: int):
    """An on_step hook that presses Ctrl-C after ``step`` iterations."""

    def hook(state) -> None:
        if state.step == step:
            signal.raise_signal(signal.SIGINT)

    return hook


def test_loss_falls(config):
    result = train(config(stages=(12,), iterations=(40,), log_every=5))
    losses = [loss for _, loss in result.summary["losses"]]
    assert result.complete and len(losses) == 8
    assert losses[-1] < 0.6 * losses[0]


def test_same_seed_same_weights(config, tmp_path):
    a = train(config(out=str(tmp_path / "a")))
    b = train(config(out=str(tmp_path / "b")))
    c = train(config(out=str(tmp_path / "c"), seed=1))
    assert same(weights(a), weights(b)) and not same(weights(a), weights(c))
    assert a.summary["val_psnr"] == b.summary["val_psnr"]


@pytest.mark.parametrize("stop", [3, 6, 9], ids=["in stage 1", "at the stage boundary", "in stage 2"])
def test_interrupted_and_resumed_run_ends_where_an_uninterrupted_one_does(config, tmp_path, stop):
    whole = train(config(out=str(tmp_path / "whole")))
    before = signal.getsignal(signal.SIGINT)
    cut = train(config(out=str(tmp_path / "cut"), checkpoint_every=100), on_step=stop_at(stop))
    assert cut.status == "interrupted" and cut.weights is None
    assert cut.summary["position"]["step"] == stop and signal.getsignal(signal.SIGINT) is before
    shutil.copytree(tmp_path / "cut", tmp_path / "cut2")
    again = train(config(out=str(tmp_path / "cut")))  # the same command continues the run in its directory
    moved = resume(tmp_path / "cut2" / "checkpoint.pt")
    for r in (again, moved):
        assert r.complete and same(weights(whole), weights(r))
        assert r.summary["compute"]["iterations"] == whole.summary["compute"]["iterations"] == 12
        assert r.summary["val_psnr"] == whole.summary["val_psnr"]


def test_stages_switch_patch_size_and_hot_start(config, tmp_path):
    result = train(config(iterations=(6, 4)))
    first, second = result.summary["stages"]
    assert (first["patch"], second["patch"]) == (8, 12)
    assert (first["iterations"], second["iterations"]) == (6, 4)
    assert (first["lr_pixels"], second["lr_pixels"]) == (6 * 4 * 8 * 8, 4 * 4 * 12 * 12)
    assert second["weights_in"] == first["weights_out"] != first["weights_in"]
    stage1 = torch.load(result.run_dir / "espcn_x2_stage1_p8.pth", weights_only=True)
    assert fingerprint(stage1) == first["weights_out"]
    assert second["peak_lr"] == first["peak_lr"] / 2
    assert result.summary["compute"]["lr_pixels"] == first["lr_pixels"] + second["lr_pixels"]


def test_outputs_load_as_models_and_evaluate(config, val_dir, capsys):
    result = train(config())
    net = models.load("espcn", result.weights)
    assert net.scale == 2 and same(net.state_dict(), weights(result))
    assert same(models.load(None, result.checkpoint).state_dict(), weights(result))  # the checkpoint's EMA
    assert main(["eval", "espcn", "--weights", str(result.weights), "--data", str(val_dir)]) == 0
    assert f"{result.summary['val_psnr'][-1]:.2f}" in capsys.readouterr().out


def test_time_budget(config):
    result = train(config(stages=(8,), iterations=None, time=1.0))
    stage = result.summary["stages"][0]
    assert result.complete and stage["ended_by"] == "time" and stage["iterations"] > 0
    assert 1.0 <= stage["train_seconds"] < 3.0


def test_a_finished_run_is_not_trained_again(config):
    first = train(config())
    again = train(config())
    assert again.complete and again.weights == first.weights and again.summary == first.summary


def test_a_second_run_on_the_same_folder_is_refused(config):
    from edgesr.lock import BusyError, locked

    cfg = config()
    with locked(cfg.out):
        with pytest.raises(BusyError, match="is writing"):
            train(cfg)
