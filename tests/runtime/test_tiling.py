"""Tiling must be invisible: a tiled frame equals the untiled one everywhere, seams included."""

from __future__ import annotations

import numpy as np
import pytest

from edgesr.errors import InputError
from edgesr.io.images import fit, read_rgb, sample_images
from edgesr.runtime.runners import open_runner
from edgesr.runtime.tiling import Tiler, plan_axis


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return fit(read_rgb(sample_images()[1]), 179, 321)  # odd in both axes, larger than the tiles


def upscale(runner, image, tile=None, overlap=16):
    tiler = Tiler(runner.spec, tile, overlap)
    batch, plan = tiler.split(image)
    return tiler.stitch(runner.infer(batch), plan), plan


@pytest.mark.parametrize(
    "length, tile, overlap",
    [(179, 64, 16), (321, 64, 16), (100, 64, 8), (64, 64, 16), (65, 64, 16), (1000, 96, 32), (30, 64, 16)],
)
def test_spans_cover_the_axis_once_with_the_promised_margin(length, tile, overlap):
    spans, padded = plan_axis(length, tile, overlap)
    assert padded == max(length, tile)
    assert spans[0].own_start == 0 and spans[-1].own_end == length
    for a, b in zip(spans, spans[1:]):
        assert a.own_end == b.own_start  # owned regions tile the axis exactly
    for s in spans:
        assert 0 <= s.start and s.start + tile <= padded
        inner_left = s.own_start - s.start if s.own_start > 0 else overlap
        inner_right = s.start + tile - s.own_end if s.own_end < length else overlap
        assert min(inner_left, inner_right) >= overlap // 2


def test_tiled_equals_untiled_everywhere_including_seams(models, photo):
    with open_runner(models["dynamic"]) as runner:
        whole, one = upscale(runner, photo)
        tiled, plan = upscale(runner, photo, tile=(64, 64), overlap=16)
    assert one.count == 1 and plan.count > 6
    assert tiled.shape == whole.shape == (179 * 4, 321 * 4, 3)
    diff = np.abs(tiled.astype(np.int16) - whole.astype(np.int16))
    assert diff.max() <= 1  # float round-off may flip a rounding at .5, nothing more
    assert (diff > 0).mean() < 1e-3
    seam_cols = [c.own_start * 4 for c in plan.cols[1:]]
    assert diff[:, [x + d for x in seam_cols for d in (-1, 0)]].max() <= 1


def test_too_little_overlap_shows_seams(models, photo):
    """The check above is sensitive: with a margin below the receptive field, seams appear."""
    exact = photo[:128, :192]  # three by two tiles that meet edge to edge
    with open_runner(models["dynamic"]) as runner:
        whole, _ = upscale(runner, exact)
        tiled, plan = upscale(runner, exact, tile=(64, 64), overlap=0)
    assert [c.start for c in plan.cols] == [0, 64, 128]
    assert np.abs(tiled.astype(np.int16) - whole.astype(np.int16)).max() > 8


def test_fixed_shape_model_tiles_at_its_shape_and_matches_dynamic(models, photo):
    with open_runner(models["static"]) as fixed, open_runner(models["dynamic"]) as dynamic:
        assert fixed.spec.input_hw == (64, 64) and fixed.spec.batch == 1
        tiled, plan = upscale(fixed, photo)
        whole, _ = upscale(dynamic, photo)
    assert plan.tile_hw == (64, 64) and plan.count > 1
    assert np.abs(tiled.astype(np.int16) - whole.astype(np.int16)).max() <= 1


def test_frame_smaller_than_a_fixed_tile_is_padded_and_cropped(models, photo):
    small = photo[:41, :37]
    with open_runner(models["static"]) as runner:
        out, plan = upscale(runner, small)
    assert plan.padded_hw == (64, 64) and out.shape == (41 * 4, 37 * 4, 3)


def test_size_multiple_pads_odd_frames(models, photo):
    with open_runner(models["dynamic"]) as runner:
        spec = runner.spec.__class__(**{**runner.spec.as_dict(), "size_multiple": 8})
        tiler = Tiler(spec)
        batch, plan = tiler.split(photo)
        assert batch.shape[2:] == (184, 328)
        out = tiler.stitch(runner.infer(batch), plan)
    assert out.shape == (179 * 4, 321 * 4, 3)


def test_tile_option_conflicting_with_a_fixed_shape_is_refused(models):
    with open_runner(models["static"]) as runner, pytest.raises(InputError, match="fixed at 64x64"):
        Tiler(runner.spec, (32, 32))


def test_overlap_must_fit_in_the_tile(models):
    with open_runner(models["dynamic"]) as runner, pytest.raises(InputError, match="overlap"):
        Tiler(runner.spec, (16, 16), overlap=16)
