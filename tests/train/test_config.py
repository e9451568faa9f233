"""Budgets, stage plans and the parsers behind the command-line options."""

from __future__ import annotations

import pytest

from edgesr.errors import InputError
from edgesr.train import TrainConfig
from edgesr.train.config import benchmark_folders, parse_count, parse_duration
from edgesr.train.stages import plan_stages


def cfg(**kw) -> TrainConfig:
    return TrainConfig(arch="epfdn-tiny", data=("d",), out="o", **kw)


def test_pixel_budget_gives_every_stage_the_same_lr_pixels():
    plans = plan_stages(cfg(stages=(48, 64, 96), batch=16, budget_pixels=3 * 16 * 96 * 96 * 100))
    assert [p.iterations for p in plans] == [400, 225, 100]
    single = plan_stages(cfg(stages=(96,), batch=16, budget_pixels=3 * 16 * 96 * 96 * 100))
    assert single[0].iterations * 96 * 96 == sum(p.iterations * p.patch**2 for p in plans)


def test_schedules_restart_lower_each_stage_and_follow_the_nearest_budget():
    a, b = plan_stages(cfg(stages=(32, 48), iterations=(100,), time=60.0, lr=1e-3, min_lr=1e-5))
    assert (a.peak_lr, b.peak_lr) == (1e-3, 5e-4) and a.seconds == 30.0
    assert a.lr(0.0) == pytest.approx(1e-3) and a.lr(0.5) == pytest.approx(5.05e-4) and a.lr(1.0) == pytest.approx(1e-5)
    assert a.progress(50, 3.0) == 0.5 and a.progress(10, 15.0) == 0.5


def test_bad_settings_are_all_named():
    with pytest.raises(InputError) as e:
        cfg(stages=(48, 64), iterations=(1, 2, 3), lr=-1.0).check()
    assert "one per stage" in str(e.value) and "min_lr" in str(e.value)
    with pytest.raises(InputError, match="give a budget"):
        cfg().check()
    with pytest.raises(InputError, match="give one"):
        cfg(iterations=(5,), budget_pixels=10).check()


def test_parsers():
    assert parse_duration("2h") == 7200 and parse_duration("1h30m") == 5400 and parse_duration("45") == 45
    assert parse_count("2G") == 2 * 10**9 and parse_count("1.5e6") == 1_500_000
    for bad in ("2x", "", "1h1h"):
        with pytest.raises(InputError):
            parse_duration(bad)
    with pytest.raises(InputError):
        parse_count("lots")


def test_benchmark_folders_are_recognised_by_name():
    assert benchmark_folders(("/x/datasets/Set5", "/x/train/bsd68", "/x/SET14/sub")) == [
        "/x/datasets/Set5",
        "/x/SET14/sub",
    ]


def test_learning_rate_defaults_to_the_architectures_own():
    assert cfg().lr == 1e-3
    assert TrainConfig(arch="aidn-rt", data=("d",), out="o").lr == 5e-4
    assert TrainConfig(arch="aidn-rt", data=("d",), out="o", lr=2e-3).lr == 2e-3
    with pytest.raises(InputError, match="unknown architecture"):
        TrainConfig(arch="nope", data=("d",), out="o")
