"""The training loop: L1 loss, Adam with a cosine schedule per stage, EMA weights, hot-started stages.

A run lives in one directory: ``checkpoint.pt`` (resumable, rewritten atomically),
``summary.json`` (settings, compute spent, validation PSNR per stage), the EMA weights at the
end of each stage and, once complete, the final EMA weights ``<arch>_x<scale>.pth``, a plain
state dict :func:`edgesr.models.load` reads.

Reproducibility: the initial weights depend on the seed only, the patch stream on (seed,
stage, iteration) only, and the learning rate on the position in the stage only, so a run
stopped and resumed computes what an uninterrupted one computes. Time budgets are the
exception: where a stage ends then depends on the machine's speed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from edgesr.errors import InputError, ModelError
from edgesr.fileio import atomic_path, check_writable_dir, write_json
from edgesr.lazy import require
from edgesr.lock import locked
from edgesr.log import logger, stage
from edgesr.models import count_params, registry
from edgesr.quality import EvalResult
from edgesr.train.config import TrainConfig, data_notes
from edgesr.train.data import (
    LR_METHOD,
    LRCache,
    PatchSampler,
    default_cache_dir,
    held_out_folder,
    load_training_set,
)
from edgesr.train.ema import EMA
from edgesr.train.net import (
    build_net,
    cpu_state_dict,
    describe_device,
    fingerprint,
    resolve_device,
    seed_everything,
    validate,
)
from edgesr.train.run_state import (
    Checkpoint,
    StageRecord,
    TrainState,
    load_checkpoint,
    save_checkpoint,
    set_rng_state,
)
from edgesr.train.stages import StagePlan, plan_stages

torch = require("torch")

CHECKPOINT = "checkpoint.pt"
SUMMARY = "summary.json"
StepHook = Callable[[TrainState], None]


@dataclass
class TrainResult:
    status: str  # complete or interrupted
    run_dir: Path
    checkpoint: Path
    weights: Path | None  # the final EMA weights; None until the run is complete
    summary: dict

    @property
    def complete(self) -> bool:
        return self.status == "complete"


def weights_name(cfg: TrainConfig, plan: StagePlan | None = None) -> str:
    stem = f"{registry.get(cfg.arch).name}_x{cfg.scale}"
    return f"{stem}.pth" if plan is None else f"{stem}_stage{plan.index + 1}_p{plan.patch}.pth"


class Trainer:
    """One run; calling it trains until the budget is spent or a stop is requested (Ctrl-C).

    ``checkpoint`` continues that run; ``on_step`` is called with the state after every
    iteration (progress reporting, tests).
    """

    def __init__(
        self, config: TrainConfig, *, checkpoint: Checkpoint | None = None, on_step: StepHook | None = None
    ) -> None:
        config.check()
        self.cfg = config
        self.checkpoint = checkpoint
        self.on_step = on_step
        self.stop_requested = False

    def request_stop(self) -> None:
        """Finish the current iteration, save a checkpoint and return."""
        self.stop_requested = True

    def __call__(self) -> TrainResult:
        self._setup()
        logger.info(
            "%s x%d, %s params, on %s",
            self.net.arch,
            self.cfg.scale,
            f"{count_params(self.net):,}",
            describe_device(self.device),
        )
        for plan in self.plans[self.state.stage :]:
            logger.info("%s", plan.describe())
        self._window = torch.tensor(self.state.window_sum, dtype=torch.float64, device=self.device)
        self._session_start = time.perf_counter()
        self._wall_before = self.state.wall_seconds
        with self._stop_on_sigint():
            if self.state.step == 0 and not self.state.val_history:
                self._validate()  # the untrained baseline, and proof the folder works before compute is spent
            for plan in self.plans[self.state.stage :]:
                if not self._train_stage(plan):
                    return self._save("interrupted")
                self._end_stage(plan)
        weights = self.run_dir / weights_name(self.cfg)
        _write_weights(weights, cpu_state_dict(self.ema.module))
        return self._save("complete", weights)

    def _setup(self) -> None:
        """Check the settings, load the data, build network, EMA and optimizer, restore a checkpoint."""
        cfg = self.cfg
        self.run_dir = check_writable_dir(cfg.out)
        registry.get(cfg.arch)  # a misspelt name fails here, with a suggestion, before data is loaded
        self.notes = data_notes(cfg)
        self.val_folder = held_out_folder(cfg.val, cfg.data)
        self.device = resolve_device(cfg.device)
        self.plans = plan_stages(cfg)
        with stage(f"loading training images at x{cfg.scale}") as info:
            cache = LRCache(Path(cfg.cache_dir) if cfg.cache_dir else default_cache_dir()) if cfg.cache else None
            self.data = load_training_set(cfg.data, cfg.scale, cache)
            info["outcome"] = f"{len(self.data.pairs)} images from {len(cfg.data)} folder(s)"
        self.fits = self._fit_stages()
        seed_everything(cfg.seed)
        self.net = build_net(cfg.arch, cfg.scale, cfg.model, cfg.seed, cfg.init).to(self.device).train()
        min_size = int(getattr(self.net, "min_size", 1))
        if min(cfg.stages) < min_size:
            raise InputError(
                f"{self.net.arch} needs inputs of at least {min_size} px; raise the smallest of "
                f"--stages {','.join(map(str, cfg.stages))}"
            )
        self.ema = EMA(self.net, cfg.ema)
        # betas (0.9, 0.99) as BasicSR trains the lightweight SR networks edgesr ships
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
        self.state = TrainState(
            data_fingerprint=self.data.fingerprint,
            records=[
                StageRecord(p.patch, p.iterations, p.seconds, p.peak_lr, images=len(f), kind=p.kind)
                for p, f in zip(self.plans, self.fits)
            ],
        )
        if self.checkpoint is not None:
            self._restore(self.checkpoint)
        self.run_dir.mkdir(parents=True, exist_ok=True)

    def _fit_stages(self) -> list[list[int]]:
        """Per stage, the training images that hold its LR patch; none is an error, fewer a warning."""
        n, s = len(self.data.pairs), self.cfg.scale
        largest = max(min(p.lr.shape[:2]) for p in self.data.pairs)
        fits = []
        for plan in self.plans:
            fit = self.data.fitting(self._need(plan.patch))
            side = plan.patch * s
            if not fit:
                raise InputError(
                    f"stage {plan.index + 1}: no training image holds an LR patch of {plan.patch} px "
                    f"(HR {side}x{side} at x{s}); the largest LR patch these images hold is "
                    f"{largest} px; use smaller --stages or larger images"
                )
            if len(fit) < n:
                note = (
                    f"stage {plan.index + 1}: {n - len(fit)} of {n} training images are smaller than "
                    f"{side}x{side} (LR patch {plan.patch} at x{s}) and are left out of it"
                )
                logger.warning("%s", note)
                self.notes.append(note)
            fits.append(fit)
        return fits

    def _need(self, patch: int) -> int:
        """LR side an image must hold for one patch (degraded patches carry a margin)."""
        if self.cfg.degrade is None:
            return patch
        from edgesr.train.degraded import DegradedPatchSampler

        return DegradedPatchSampler.need(patch, self.cfg.degrade, self.cfg.scale)

    def _sampler(self, plan: StagePlan):
        cfg = self.cfg
        if cfg.degrade is None:
            return PatchSampler(self.data, self.fits[plan.index], plan.patch, cfg.batch, cfg.seed, plan.index)
        from edgesr.train.degraded import (
            DegradedPatchSampler,
            PairedDegradedPatchSampler,
        )

        if not cfg.paired():
            return DegradedPatchSampler(
                self.data, self.fits[plan.index], plan.patch, cfg.batch, cfg.seed, plan.index, cfg.degrade
            )
        # the encoder's stage: cfg.batch pairs of small patches, about the LR pixels of a reconstruction batch
        batch = 2 * cfg.batch if plan.kind == "encoder" else cfg.batch
        return PairedDegradedPatchSampler(
            self.data,
            self.fits[plan.index],
            plan.patch,
            batch,
            cfg.seed,
            plan.index,
            cfg.degrade,
            positives=cfg.positives,
        )

    def _loss(self, plan: StagePlan, x, y, divisor: float):
        """The stage's loss, and the contrastive accuracy where there is a contrastive term (else None)."""
        if plan.kind == "encoder":
            from edgesr.train.contrastive import info_nce

            result = info_nce(self.net.encoder, self.ema.module.encoder, x)
            return result.loss, result.accuracy
        if not (self.cfg.paired() and self.cfg.contrastive):
            return (self.net(x) - y).abs().mean() * (divisor / 255.0), None
        from edgesr.train.contrastive import info_nce

        rep = self.net.encoder(x)
        result = info_nce(self.net.encoder, self.ema.module.encoder, x, rep)
        l1 = (self.net(x, rep) - y).abs().mean() * (divisor / 255.0)
        return l1 + self.cfg.contrastive * result.loss, result.accuracy

    def _restore(self, ck: Checkpoint) -> None:
        if ck.state.data_fingerprint != self.data.fingerprint:
            raise InputError(
                f"the training images changed since {ck.path} was written (fingerprint "
                f"{ck.state.data_fingerprint} vs {self.data.fingerprint}), so continuing would not "
                "give the run it started; restore the images or start a new run with another --out"
            )
        self.net.load_state_dict(ck.params)
        self.ema.load_state_dict(ck.params_ema)
        self.opt.load_state_dict(ck.optimizer)
        set_rng_state(ck.rng)
        self.state = ck.state
        self.state.status = "running"
        logger.info(
            "resuming %s: stage %d of %d, iteration %d (step %d)",
            ck.path,
            min(self.state.stage + 1, len(self.plans)),
            len(self.plans),
            self.state.iteration,
            self.state.step,
        )

    def _train_stage(self, plan: StagePlan) -> bool:
        """Train ``plan`` until its budget is spent; False when stopped first."""
        cfg, s = self.cfg, self.state
        rec = s.records[plan.index]
        if s.iteration == 0 and not rec.weights_in:
            rec.weights_in = fingerprint(self.net.state_dict())
        sampler = self._sampler(plan)
        # Inputs are scaled exactly as the deployed model's (to_model_input); the loss is in [0, 1] units
        # whatever the model's value range, so one learning rate suits every architecture.
        divisor = 255.0 / float(self.net.value_range)
        tqdm = require("tqdm").tqdm
        desc = f"stage {plan.index + 1}/{len(self.plans)} (LR {plan.patch} px)"
        with tqdm(total=plan.iterations, initial=s.iteration, desc=desc, unit="it", disable=None) as bar:
            while (progress := plan.progress(s.iteration, rec.train_seconds)) < 1:
                start, cpu_start = time.perf_counter(), time.process_time()
                lr_now = plan.lr(progress)
                for group in self.opt.param_groups:
                    group["lr"] = lr_now
                lr_batch, hr_batch = sampler(s.iteration)
                x = torch.from_numpy(lr_batch).to(self.device).float().div_(divisor)
                y = torch.from_numpy(hr_batch).to(self.device).float().div_(divisor)
                loss, accuracy = self._loss(plan, x, y, divisor)
                if accuracy is not None:  # smoothed over about the last 50 iterations
                    prev = rec.contrastive_accuracy
                    rec.contrastive_accuracy = accuracy if prev is None else 0.98 * prev + 0.02 * accuracy
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                self.opt.step()
                self.ema.update(self.net, s.step)
                self._window += loss.detach().double()
                s.iteration += 1
                s.step += 1
                s.window_count += 1
                rec.iterations += 1
                rec.patches += x.shape[0]
                rec.lr_pixels += x.shape[0] * x.shape[2] * x.shape[3]
                rec.train_seconds += time.perf_counter() - start
                rec.cpu_seconds += time.process_time() - cpu_start
                bar.update(1)
                if s.window_count == cfg.log_every:
                    bar.set_postfix(loss=f"{self._close_window():.4f}", lr=f"{lr_now:.2e}")
                if (
                    cfg.val_every
                    and s.iteration % cfg.val_every == 0
                    and plan.progress(s.iteration, rec.train_seconds) < 1
                ):
                    self._validate()
                if s.step % cfg.checkpoint_every == 0:
                    self._save("running")
                if self.on_step is not None:
                    self.on_step(s)
                if self.stop_requested:
                    return False
        return True

    def _close_window(self) -> float:
        s = self.state
        mean = float(self._window) / s.window_count
        if not math.isfinite(mean):
            raise ModelError(
                f"training diverged: the L1 loss is {mean} at step {s.step}; start again with a "
                f"lower --lr (now {self.cfg.lr:g})"
            )
        s.losses.append([s.step, mean])
        self._window.zero_()
        s.window_count = 0
        return mean

    def _end_stage(self, plan: StagePlan) -> None:
        s = self.state
        rec = s.records[plan.index]
        if s.window_count:
            self._close_window()  # each stage's losses stay its own
        done = plan.iterations is not None and rec.iterations >= plan.iterations
        rec.ended_by = "iterations" if done else "time"
        if plan.iterations is not None and not done:
            logger.warning(
                "stage %d ran out of time after %d of %d iterations", plan.index + 1, rec.iterations, plan.iterations
            )
        rec.val_psnr = self._validate().mean_psnr
        weights = cpu_state_dict(self.ema.module)
        rec.weights_out = fingerprint(weights)
        _write_weights(self.run_dir / weights_name(self.cfg, plan), weights)
        # The hot start: the next stage trains on from this stage's result, the EMA weights just validated.
        self.net.load_state_dict(self.ema.state_dict())
        s.stage += 1
        s.iteration = 0
        logger.info(
            "stage %d done: %d iterations, %.0f s, %.2f dB on %s",
            plan.index + 1,
            rec.iterations,
            rec.train_seconds,
            rec.val_psnr,
            self.val_folder,
        )
        self._save("running")

    def _validate(self) -> EvalResult:
        s = self.state
        start = time.perf_counter()
        result = validate(self.ema.module, self.val_folder, self.cfg.scale, self.device, self._val_degradations())
        s.val_seconds += time.perf_counter() - start
        s.val_history.append(
            {
                "step": s.step,
                "stage": min(s.stage, len(self.plans) - 1) + 1,
                "iteration": s.iteration,
                "psnr": result.mean_psnr,
            }
        )
        logger.debug("validation at step %d: %.3f dB", s.step, result.mean_psnr)
        return result

    def _val_degradations(self) -> list | None:
        """None (the benchmark LR) for a clean run; the quality grid's columns for a degraded one."""
        if self.cfg.degrade is None:
            return None
        from edgesr.degrade import GRID, expand

        return expand(GRID)

    def _save(self, status: str, weights: Path | None = None) -> TrainResult:
        s = self.state
        s.status = status
        s.window_sum = float(self._window)
        s.wall_seconds = self._wall_before + time.perf_counter() - self._session_start
        path = save_checkpoint(self.run_dir / CHECKPOINT, self.cfg, s, self.net, self.ema, self.opt)
        summary = self._summary(weights)
        write_json(self.run_dir / SUMMARY, summary)
        return TrainResult(status, self.run_dir, path, weights, summary)

    def _summary(self, weights: Path | None) -> dict:
        s, cfg = self.state, self.cfg
        stages = [
            {
                **dataclasses.asdict(r),
                "iterations_per_second": r.iterations / r.train_seconds if r.train_seconds else None,
            }
            for r in s.records
        ]
        compute = {
            k: sum(getattr(r, k) for r in s.records)
            for k in ("iterations", "patches", "lr_pixels", "train_seconds", "cpu_seconds")
        }
        compute.update(val_seconds=s.val_seconds, wall_seconds=s.wall_seconds)
        return {
            "status": s.status,
            "arch": self.net.arch,
            "scale": cfg.scale,
            "params": count_params(self.net),
            "model_config": dataclasses.asdict(self.net.config),
            "weights": str(weights) if weights is not None else None,
            "checkpoint": str(self.run_dir / CHECKPOINT),
            "position": {"stage": s.stage, "iteration": s.iteration, "step": s.step},
            "val_folder": str(self.val_folder),
            "val_psnr": [r.val_psnr for r in s.records],
            "stages": stages,
            "compute": compute,
            "device": describe_device(self.device),
            "torch": torch.__version__,
            "data": {
                "folders": list(cfg.data),
                "images": len(self.data.pairs),
                "fingerprint": self.data.fingerprint,
                "lr_method": LR_METHOD if cfg.degrade is None else f"degraded: {cfg.degrade}",
            },
            "notes": self.notes,
            "config": cfg.to_dict(),
            "val_history": s.val_history,
            "losses": s.losses,
        }

    @contextlib.contextmanager
    def _stop_on_sigint(self) -> Iterator[None]:
        """Ctrl-C stops after the current iteration with a checkpoint; a second Ctrl-C aborts at once.

        A flag rather than KeyboardInterrupt, which could land between the parameter updates of
        one optimizer step and save a half-updated network.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame) -> None:
            if self.stop_requested:
                raise KeyboardInterrupt
            self.request_stop()
            logger.warning("stopping after this iteration to save a checkpoint; Ctrl-C again aborts without saving")

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def _write_weights(path: Path, sd: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(sd, tmp)


def train(config: TrainConfig, *, on_step: StepHook | None = None) -> TrainResult:
    """Train ``config``. A run directory that holds a checkpoint of the same run continues it."""
    config.check()
    with locked(config.out):
        existing = Path(config.out) / CHECKPOINT
        if not existing.is_file():
            return Trainer(config, on_step=on_step)()
        ck = load_checkpoint(existing)
        diffs = ck.config.differences(config)
        if diffs:
            raise InputError(
                f"{config.out} holds a run with other settings (theirs vs yours: {'; '.join(diffs)}); "
                f"pass another --out, or continue that run with --resume {existing}"
            )
        return _continue(ck, config, on_step)


def resume(
    checkpoint: str | Path,
    *,
    out: str | None = None,
    device: str | None = None,
    checkpoint_every: int | None = None,
    cache_dir: str | None = None,
    on_step: StepHook | None = None,
) -> TrainResult:
    """Continue the run of ``checkpoint`` with its own settings; where and how it runs may change."""
    ck = load_checkpoint(checkpoint)
    changes: dict = {"out": out or str(ck.path.parent)}
    for key, value in (("device", device), ("checkpoint_every", checkpoint_every), ("cache_dir", cache_dir)):
        if value is not None:
            changes[key] = value
    with locked(changes["out"]):
        return _continue(ck, dataclasses.replace(ck.config, **changes), on_step)


def _continue(ck: Checkpoint, config: TrainConfig, on_step: StepHook | None) -> TrainResult:
    if ck.state.status == "complete":
        run_dir = ck.path.parent
        logger.info("%s is a finished run; nothing to train", ck.path)
        summary = json.loads((run_dir / SUMMARY).read_text()) if (run_dir / SUMMARY).is_file() else {}
        return TrainResult("complete", run_dir, ck.path, run_dir / weights_name(ck.config), summary)
    return Trainer(config, checkpoint=ck, on_step=on_step)()
