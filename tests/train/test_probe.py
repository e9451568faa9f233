"""The encoder probe: an encoder that measures noise is told apart from one that does not."""

from __future__ import annotations

import numpy as np
import torch

from edgesr.io.images import read_rgb, sample_images, write_rgb
from edgesr.report.scatter import projection_svg
from edgesr.train.probe import BLURS, JPEGS, NOISES, probe


class NoiseMeter(torch.nn.Module):
    """High-pass energy: grows with noise, shrinks with blur."""

    def forward(self, x):
        high = x - torch.nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        return torch.log(high.flatten(1).std(dim=1, keepdim=True) + 1e-4).repeat(1, 4)


class Blind(torch.nn.Module):
    def forward(self, x):
        return torch.randn(x.shape[0], 4, generator=torch.Generator().manual_seed(int(x.shape[0])))


def test_a_noise_meter_classifies_noise_far_above_chance_and_random_vectors_do_not(tmp_path):
    for path in sample_images()[:4]:  # 192x192 crops: 4 images, two to fit and two to test
        write_rgb(tmp_path / f"{path.stem}.png", np.ascontiguousarray(read_rgb(path)[:192, :192]))
    folder = [tmp_path]
    meter = probe(NoiseMeter(), folder, per_image=3)
    blind = probe(Blind(), folder, per_image=3)
    assert meter.noise_accuracy > 0.8 > 0.5 > blind.noise_accuracy
    assert meter.chance == {"blur": 1 / len(BLURS), "noise": 1 / len(NOISES), "compression": 1 / len(JPEGS)}
    assert meter.patches["fitted"] > 0 and meter.patches["tested"] == len(meter.points)
    svg = projection_svg(meter.points, "t")
    assert svg.startswith("<svg") and svg.count("<circle") == 2 * len(meter.points)
    assert np.isfinite(np.asarray(meter.points)).all()


class BlockMeter(torch.nn.Module):
    """Horizontal steps across JPEG block edges (columns 8k-1 | 8k) against steps inside blocks."""

    def forward(self, x):
        step = (x[..., 1:] - x[..., :-1]).abs().mean(dim=(1, 2))  # N x (W - 1)
        edge = step[:, 7::8].mean(dim=1)
        inside = step.mean(dim=1)
        return torch.log(edge / (inside + 1e-6) + 1e-6)[:, None].repeat(1, 4)


def test_compression_is_probed_on_the_block_grid(tmp_path):
    for path in sample_images()[:4]:
        write_rgb(tmp_path / f"{path.stem}.png", np.ascontiguousarray(read_rgb(path)[:192, :192]))
    meter = probe(BlockMeter(), [tmp_path], per_image=3)
    blind = probe(Blind(), [tmp_path], per_image=3)
    assert meter.compression_accuracy > 0.65 > 0.6 > blind.compression_accuracy  # chance 0.5
    assert meter.patches["compression_tested"] == 2 * meter.patches["tested"]
