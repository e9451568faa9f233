"""Several models scored on several HR folders under the standard protocol: on clean LR (one result per
model and folder) or on degraded LR (one grid per folder, bicubic beside the models). ``edgesr eval`` and
``edgesr models --eval`` run this; they only print what it returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from edgesr.degrade.spec import Degradation
from edgesr.errors import InputError
from edgesr.log import stage
from edgesr.quality.grid import BASELINE, Grid, run_grid
from edgesr.quality.protocol import EvalResult, evaluate
from edgesr.quality.upscalers import Bicubic, Upscaler, load_upscaler


def load_upscalers(models: Sequence[str], scale: int | None = None, weights: str | None = None) -> list[Upscaler]:
    """Each of ``models`` (``bicubic``, an .onnx or checkpoint file, a shipped model's name, or with
    ``weights`` one architecture name) as an upscaler; all must upscale by one factor. Bicubic without
    ``scale`` takes the factor of the model before it."""
    from edgesr import routing, shipped

    if weights is not None and len(models) > 1:
        raise InputError("--weights goes with one architecture name; give the others as .onnx or checkpoint files")
    names = {m.name: m for m in shipped.shipped()}
    routers = routing.shipped_routers()
    out: list[Upscaler] = []
    for model in models:
        if model in routers and not Path(model).exists() and weights is None:
            from edgesr.quality.routing import RoutedUpscaler

            out.append(RoutedUpscaler(model, routing.Router.from_dict(routers[model]["router"], model)))
            continue
        if model in names and not Path(model).exists() and weights is None:
            up = load_upscaler(str(names[model].onnx), scale)
            up.name = model
        else:
            given = scale if scale is not None or model != BASELINE else None
            up = load_upscaler(model, given or (out[0].scale if out else None), weights)
        out.append(up)
    scales = {u.scale for u in out}
    if len(scales) > 1:
        raise InputError(
            f"the models upscale by different factors ({', '.join(f'x{s}' for s in sorted(scales))}); "
            "compare models of one scale"
        )
    return out


@dataclass
class CleanScores:
    """Per model, its result on each folder (clean bicubic LR)."""

    models: list[tuple[Upscaler, list[EvalResult]]] = field(default_factory=list)

    def to_dict(self) -> dict:
        """One model: its entry alone; several: ``{"models": [...]}``."""
        report = [
            {"model": u.name, "scale": u.scale, "datasets": [r.to_dict() for r in results]}
            for u, results in self.models
        ]
        return report[0] if len(report) == 1 else {"models": report}


def score_clean(
    upscalers: Sequence[Upscaler],
    folders: Sequence[str],
    on_result: Callable[[Upscaler, EvalResult], None] | None = None,
) -> CleanScores:
    """Every upscaler on every folder; ``on_result`` hears of each result as it is made."""
    scores = CleanScores()
    for upscaler in upscalers:
        results = []
        for folder in folders:
            with stage(f"eval {upscaler.name} x{upscaler.scale} on {folder}") as info:
                result = evaluate(upscaler, folder, upscaler.scale)
                info["outcome"] = f"{result.mean_psnr:.2f} dB, SSIM {result.mean_ssim:.4f}"
            results.append(result)
            if on_result is not None:
                on_result(upscaler, result)
        scores.models.append((upscaler, results))
    return scores


@dataclass
class GridScores:
    """The quality grid of each folder: rows are models (bicubic first unless given), columns degradations."""

    scale: int
    seed: int
    grids: list[Grid] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"scale": self.scale, "seed": self.seed, "grids": [g.to_dict() for g in self.grids]}


def score_grid(
    upscalers: Sequence[Upscaler],
    folders: Sequence[str],
    degradations: Sequence[Degradation],
    seed: int = 0,
    on_grid: Callable[[Grid], None] | None = None,
) -> GridScores:
    """Every upscaler, and bicubic as the baseline, on every folder under every degradation; ``on_grid``
    hears of each folder's grid as it is made."""
    scale = upscalers[0].scale
    rows = [(u.name, u) for u in upscalers]
    if BASELINE not in [name for name, _ in rows]:
        rows.insert(0, (BASELINE, Bicubic(scale)))
    scores = GridScores(scale, seed)
    for folder in folders:
        with stage(f"grid on {folder}: {len(rows)} models x {len(degradations)} degradations") as info:
            grid = run_grid(rows, folder, scale, degradations, seed)
            info["outcome"] = "done"
        scores.grids.append(grid)
        if on_grid is not None:
            on_grid(grid)
    return scores


def catalog_psnr(infos, folders: Sequence[Path]) -> dict[str, dict[str, float]]:
    """Mean Y-PSNR per folder (by folder name) of each :class:`~edgesr.models.catalog.ModelInfo` with
    weights, measured now under the standard protocol (its first checkpoint)."""
    found: dict[str, dict[str, float]] = {}
    if not folders:
        return found
    for info in infos:
        if info.weights:
            up = load_upscaler(info.name, scale=info.scale, weights=str(info.weights[0]))
            found[info.name] = {f.name: round(evaluate(up, f, info.scale).mean_psnr, 4) for f in folders}
    return found
