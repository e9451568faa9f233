"""The accuracy budget: sensitivity finds the hostile layer, fallback keeps it, the rest stays INT8."""

import pytest

from edgesr.quantize import quantize
from edgesr.quantize.budget import sensitivity
from edgesr.quantize.budget.evaluate import Drop
from tests.quantize.conftest import FAST
from tests.quantize.models import sensitive_model
from tests.tiny_models import save


def _drop(d: float) -> Drop:
    return Drop(30.0, 30.0 - d, 40.0, d)


def test_fit_keeps_the_fewest_most_damaging_units():
    damages = [sensitivity.UnitDamage(n, "Conv", p) for n, p in [("a", 20.0), ("b", 30.0), ("c", 60.0), ("d", 70.0)]]
    cost = {"a": 0.5, "b": 0.2, "c": 0.01, "d": 0.01}

    def trial(keep):
        return sensitivity.Trial(keep, 4 - len(keep), _drop(sum(v for k, v in cost.items() if k not in keep)))

    r = sensitivity.fit(damages, 0.1, trial)
    assert r.met and r.kept == ["a", "b"] and r.drop.drop == pytest.approx(0.02)
    r = sensitivity.fit(damages, 0.25, trial)
    assert r.kept == ["a"]  # pruning gives back what the budget can spare
    r = sensitivity.fit(damages, 1.0, trial)
    assert r.kept == [] and r.met


def test_fit_reports_an_unreachable_budget_and_keeps_the_best_int8_result():
    damages = [sensitivity.UnitDamage(n, "Conv", 30.0) for n in "ab"]

    def trial(keep):
        return sensitivity.Trial(keep, 2 - len(keep), _drop(0.05 * (2 - len(keep))))

    r = sensitivity.fit(damages, -0.01, trial)
    assert not r.met
    assert r.kept == ["a"] and r.drop.drop == pytest.approx(0.05)


def test_deliberately_sensitive_layer_is_found_and_kept(tmp_path):
    p = save(sensitive_model(), tmp_path / "s.onnx")
    everything = quantize(p, None, max_drop=None, **FAST)
    assert everything.record["validation"]["drop_db"] > 0.5  # INT8 everywhere is clearly hurt
    result = quantize(p, None, max_drop=0.1, fallback_order="cost", **FAST)
    r = result.record
    assert r["validation"]["met"] and r["validation"]["drop_db"] <= 0.1
    worst = min(r["sensitivity"], key=lambda d: d["alone_output_psnr_db"])
    assert worst["node"] in ("/sens_a", "/sens_b")
    assert set(result.kept) & {"/sens_a", "/sens_b"}
    assert "/calm" not in result.kept  # the harmless conv stays INT8
    assert r["int8_convolutions"] >= 1
    for k in r["kept"]:
        assert "budget" in k["reason"] and k["alone_output_psnr_db"] < 60 and "cost model" in k["keep_cost"]


def test_damage_order_keeps_the_fewest(tmp_path):
    p = save(sensitive_model(), tmp_path / "s.onnx")
    result = quantize(p, None, max_drop=0.1, fallback_order="damage", **FAST)
    assert result.record["validation"]["met"]
    assert set(result.kept) <= {"/sens_a", "/sens_b"} and result.kept
    assert result.record["recipe"]["fallback_order"] == "damage"


def test_unreachable_budget_is_said_and_best_result_kept(tmp_path, caplog):
    p = save(sensitive_model(), tmp_path / "s.onnx")
    result = quantize(p, tmp_path / "out.onnx", max_drop=-1.0, **FAST)
    assert not result.record["validation"]["met"]
    assert (tmp_path / "out.onnx").is_file()
    assert result.record["int8_units"] > 0
    assert "cannot be met" in caplog.text
