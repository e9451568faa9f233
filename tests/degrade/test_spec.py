"""Degradation specs: parsing, canonical text, presets, and one-line refusals."""

from __future__ import annotations

import pytest

from edgesr.degrade import GRID, PRESETS, Blur, Degradation, expand, parse
from edgesr.errors import InputError


def test_a_spec_parses_into_its_steps():
    d = parse("blur=aniso:2:0.8:30,down=area,noise=grey:5,shot=3,jpeg=70,h264=28")
    assert d == Degradation(Blur("aniso", 2.0, 0.8, 30.0), "area", 5.0, "grey", 3.0, 70, 28)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_round_trips_through_its_text(name):
    d = PRESETS[name]
    assert parse(d.text()) == d and parse(name) == d and d.label() == name


def test_the_grid_holds_the_published_columns_in_order():
    assert [d.text() for d in expand(["grid"])] == [
        "clean",
        "blur=iso:1.2",
        "blur=iso:2.4",
        "blur=iso:3.6",
        "blur=iso:1.2,noise=10",
        "noise=10",
        "jpeg=50",
        "blur=aniso:2:0.8:30,noise=5,jpeg=70",
    ]
    assert len(GRID) == 8


def test_expand_keeps_order_and_drops_repeats():
    assert [d.label() for d in expand(["noise10", "noise=10", "clean"])] == ["noise10", "clean"]


@pytest.mark.parametrize(
    "spec, words",
    [
        ("nosie10", ["unknown degradation 'nosie10'", "did you mean 'noise10'", "keys: blur, down"]),
        ("blurr=iso:1", ["unknown degradation key 'blurr'", "did you mean 'blur'"]),
        ("blur=iso:-1", ["blur sigma", "from 0.1 to 20", "'-1'"]),
        ("blur=iso:0", ["blur sigma"]),
        ("blur=box:1", ["blur kind 'box'", "iso, aniso, gen, plateau"]),
        ("blur=aniso:1", ["write aniso:SIGMA_X:SIGMA_Y[:ANGLE]"]),
        ("jpeg=0", ["JPEG quality", "from 1 to 100"]),
        ("jpeg=101", ["JPEG quality", "'101'"]),
        ("jpeg=50.5", ["whole number"]),
        ("noise=-3", ["noise sigma", "from 0 to 100"]),
        ("noise=pink:3", ["noise kind 'pink'"]),
        ("down=lanczos", ["down 'lanczos'", "bicubic, bilinear, area, decimate"]),
        ("noise=5,noise=6", ["sets noise twice"]),
        ("noise", ["unknown degradation 'noise'"]),
        ("jpeg=", ["not KEY=VALUE"]),
        ("h264=60", ["H.264 CRF", "from 0 to 51"]),
    ],
)
def test_bad_specs_are_one_line_naming_the_fix(spec, words):
    with pytest.raises(InputError) as err:
        parse(spec)
    message = str(err.value)
    assert "\n" not in message and all(w in message for w in words), message
