"""The degradation encoder's training: pairs share image and degradation, InfoNCE ranks partners, runs resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgesr.errors import InputError
from edgesr.io.images import read_rgb, sample_images, write_rgb
from edgesr.train import train
from edgesr.train.config import TrainConfig
from edgesr.train.contrastive import info_nce, swap_pairs
from edgesr.train.data import load_training_set
from edgesr.train.degraded import PairedDegradedPatchSampler
from edgesr.train.net import build_net


@pytest.fixture(scope="module")
def big_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big")
    for path in sample_images()[:2]:
        write_rgb(folder / f"{path.stem}.png", np.ascontiguousarray(read_rgb(path)[40:200, 40:200]))
    return folder


def test_pairs_share_a_degradation_and_differ_between_pairs(big_dir):
    data = load_training_set((str(big_dir),), 2, None)
    lr, hr = PairedDegradedPatchSampler(data, [0, 1], 12, 8, seed=0, stage=0, degrade="real")(3)
    assert lr.shape == (8, 3, 12, 12) and hr.shape == (8, 3, 24, 24)
    again, _ = PairedDegradedPatchSampler(data, [0, 1], 12, 8, seed=0, stage=0, degrade="real")(3)
    assert np.array_equal(lr, again)
    # a fixed noise level: both members of a pair carry it (their own draws, so they differ)
    lr, hr = PairedDegradedPatchSampler(data, [0, 1], 12, 4, seed=0, stage=0, degrade="noise=20")(0)
    smooth = torch.nn.functional.avg_pool2d(torch.from_numpy(hr).float(), 2).numpy()
    for i in range(4):
        assert 15 < (lr[i].astype(float) - smooth[i]).std() < 25


def test_info_nce_finds_partners_of_an_encoder_that_sees_the_degradation():
    class Level(torch.nn.Module):  # a perfect encoder for this batch: the noise level of the patch
        project = torch.nn.Identity()

        def forward(self, x):
            std = (x - torch.nn.functional.avg_pool2d(x, 3, 1, 1)).flatten(1).std(dim=1, keepdim=True)
            return torch.cat([torch.cos(std * 40), torch.sin(std * 40)], dim=1)

    torch.manual_seed(0)
    levels = torch.tensor([0.0, 0.0, 0.02, 0.02, 0.05, 0.05, 0.09, 0.09]).view(-1, 1, 1, 1)
    x = 0.5 + levels * torch.randn(8, 3, 32, 32)
    good = info_nce(Level(), Level(), x)
    assert good.accuracy == 1.0
    shuffled = info_nce(Level(), Level(), x[[0, 2, 1, 4, 3, 6, 5, 7]])
    assert shuffled.accuracy < 1.0 and shuffled.loss > good.loss
    assert torch.equal(swap_pairs(torch.arange(6)), torch.tensor([1, 0, 3, 2, 5, 4]))


def test_encoder_settings_are_checked():
    base = dict(data=("x",), out="o", iterations=(1,))
    with pytest.raises(InputError, match="no degradation encoder"):
        TrainConfig("aidn-rt", encoder_iterations=5, degrade="real", **base).check()
    with pytest.raises(InputError, match="needs degraded training data"):
        TrainConfig("aidn-da", encoder_iterations=5, **base).check()
    with pytest.raises(InputError, match="must be even"):
        TrainConfig("aidn-da", batch=5, degrade="real", **base).check()


def test_pretraining_then_joint_stage_runs_and_records_what_it_did(big_dir, tmp_path):
    cfg = TrainConfig(
        "aidn-da",
        (str(big_dir),),
        str(tmp_path / "run"),
        scale=2,
        stages=(16,),
        batch=4,
        iterations=(3,),
        encoder_iterations=4,
        degrade="noise=8,jpeg=60",
        device="cpu",
        model={"channels": 8, "convs": 2, "rep": 8, "encoder_channels": 4, "modulated": 1},
        val=str(big_dir.parent / "val"),
        cache=False,
    )
    (big_dir.parent / "val").mkdir(exist_ok=True)
    write_rgb(big_dir.parent / "val" / "v.png", read_rgb(sample_images()[2])[:64, :64])
    result = train(cfg)
    assert result.complete
    kinds = [(s["kind"], s["iterations"]) for s in result.summary["stages"]]
    assert kinds == [("encoder", 4), ("reconstruction", 3)]
    assert all(0.0 <= s["contrastive_accuracy"] <= 1.0 for s in result.summary["stages"])
    first, second = result.summary["stages"]
    assert first["weights_in"] != first["weights_out"] == second["weights_in"]
    # the encoder stage trained the encoder (and its head) only
    start = build_net("aidn-da", 2, cfg.model, cfg.seed).state_dict()
    after = torch.load(result.run_dir / "aidn-da_x2_stage1_p32.pth")
    changed = {k.split(".")[0] for k in start if not torch.equal(start[k], after[k])}
    assert changed == {"encoder"}


def test_other_image_positives_share_the_degradation_but_not_the_image(tmp_path):
    for k, value in enumerate((40, 90, 150, 200)):  # flat images: a patch's content names its image
        write_rgb(tmp_path / f"{k}.png", np.full((96, 96, 3), value, np.uint8))
    data = load_training_set((str(tmp_path),), 2, None)

    def levels(positives: str, iteration: int) -> np.ndarray:
        sampler = PairedDegradedPatchSampler(
            data, [0, 1, 2, 3], 8, 8, seed=0, stage=0, degrade="noise=5", positives=positives
        )
        return sampler(iteration)[1].reshape(8, -1).mean(axis=1)

    for it in range(3):
        other = levels("other-image", it)
        assert all(other[2 * k] != other[2 * k + 1] for k in range(4))
        # each pair's second image is the next pair's first: every image shows under two degradations
        assert [other[2 * k + 1] for k in range(4)] == [other[2 * ((k + 1) % 4)] for k in range(4)]
        same = levels("same-image", it)
        assert all(same[2 * k] == same[2 * k + 1] for k in range(4))
