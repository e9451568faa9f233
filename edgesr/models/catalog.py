"""The model zoo as data: one entry per registry row with its size, cost and available weights.

This is what ``edgesr models`` prints, with the models shipped inside the package and the scores
their cards record. Counting parameters and MACs needs torch; without it the entries carry only
what the registry knows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from edgesr import routing
from edgesr import shipped as shipped_mod
from edgesr.errors import EdgeSRError
from edgesr.lazy import available
from edgesr.log import logger
from edgesr.models import DEFAULT_SCALE, registry
from edgesr.texttable import align

CHECKPOINT_SUFFIXES = (".pth", ".pt", ".ckpt")


@dataclass
class ModelInfo:
    name: str
    title: str
    value_range: float
    seed: bool
    scale: int = DEFAULT_SCALE
    params: int | None = None  # of the default configuration; None without torch
    macs_720p: int | None = None  # per 1280x720 output frame
    weights: list[Path] = field(default_factory=list)

    def to_dict(self, psnr_y: dict[str, float] | None = None) -> dict:
        """The entry as plain data, with the Y-PSNR per folder measured for it (``psnr_y``)."""
        return dict(
            name=self.name,
            title=self.title,
            scale=self.scale,
            params=self.params,
            macs_720p=self.macs_720p,
            value_range=self.value_range,
            seed=self.seed,
            weights=[str(p) for p in self.weights],
            psnr_y=psnr_y or {},
        )


def find_weights(folder: str | os.PathLike) -> dict[str, list[Path]]:
    """Checkpoints in ``folder`` by detected architecture (shapes decide, not file names)."""
    from edgesr.models.checkpoint import detect, read_state_dict

    found: dict[str, list[Path]] = {}
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() not in CHECKPOINT_SUFFIXES:
            continue
        try:
            name, _ = detect(read_state_dict(path))
        except EdgeSRError as exc:
            logger.info("skipping %s: %s", path.name, exc)
            continue
        found.setdefault(name, []).append(path)
    return found


def catalog(weights_dir: str | os.PathLike | None = None) -> list[ModelInfo]:
    """Every registered architecture; sizes need torch, ``weights_dir`` is searched when given."""
    have_torch = available("torch")
    weights = find_weights(weights_dir) if weights_dir is not None and have_torch else {}
    infos = []
    for row in registry.ARCHS:
        info = ModelInfo(row.name, row.title, row.value_range, row.seed, weights=weights.get(row.name, []))
        if have_torch:
            _measure(info)
        infos.append(info)
    return infos


def _measure(info: ModelInfo) -> None:
    from edgesr.models import count_macs, count_params, create

    try:
        net = create(info.name, scale=info.scale)
    except ModuleNotFoundError as exc:
        if exc.name != f"edgesr.models.{registry.get(info.name).module}":
            raise
        logger.info("%s: its architecture module is not installed", info.name)
        return
    info.params = count_params(net)
    info.macs_720p = count_macs(net)


def format_table(
    infos: list[ModelInfo], *, searched: bool, psnr: dict[str, dict[str, float]], folders: list[str]
) -> str:
    """The entries as aligned text, with a PSNR column per folder in ``folders`` (``psnr`` by model, then
    folder); ``searched``: a folder of weights was searched, so a model without any found none."""
    rows = [("name", "scale", "params", "MACs@720p", *(f"PSNR {f}" for f in folders), "input", "weights")]
    for i in infos:
        params = f"{i.params:,}" if i.params is not None else "-"
        macs = f"{i.macs_720p / 1e9:.2f} G" if i.macs_720p is not None else "-"
        if i.weights:
            weights = ", ".join(str(p) for p in i.weights)
        else:
            weights = "none found" if searched else "bring your own (--weights-dir DIR to search)"
        scores = [f"{psnr[i.name][f]:.2f}" if i.name in psnr else "-" for f in folders]
        rows.append((i.name, f"x{i.scale}", params, macs, *scores, f"RGB 0-{i.value_range:g}", weights))
    lines = [align(rows, right=range(1, 4 + len(folders)))]  # numbers align right
    if any(i.params is None for i in infos):
        lines.append("(-: needs torch, pip install 'edgesr[torch]', or the architecture module is not installed)")
    return "\n".join(lines)


def shipped_rows() -> list[dict]:
    """The models inside the package, with the Set5/Set14 scores their cards record."""
    rows = []
    for m in shipped_mod.shipped():
        scores = m.card.get("evaluation", {}).get("datasets", {})
        rows.append(
            dict(
                name=m.name,
                arch=m.card.get("arch"),
                scale=m.card.get("scale"),
                default=bool(m.card.get("default")),
                params=m.card.get("params"),
                onnx=str(m.onnx),
                psnr_y={k: v["psnr"] for k, v in scores.items()},
                bicubic_psnr_y={k: v["bicubic_psnr"] for k, v in scores.items()},
                degraded_gain_db=_degraded_gain(m.name, m.card),
            )
        )
    return rows


def _degraded_gain(name: str, card: dict) -> dict[str, float]:
    """Per data set, the model's mean gain over bicubic on the grid's degraded columns (its card's grid)."""
    out = {}
    for folder, grid in card.get("degradation_grid", {}).get("datasets", {}).items():
        gains = [c["gain_db"] for c in grid["cells"] if c["model"] == name and c["degradation"] != "clean"]
        if gains:
            out[folder] = round(sum(gains) / len(gains), 4)
    return out


def router_rows() -> list[dict]:
    """The routers inside the package (:mod:`edgesr.routing`), with clean Y-PSNR and the mean gain over
    bicubic on the grid's degraded columns, per data set, from each router's measured grid."""
    rows = []
    for name, data in routing.shipped_routers().items():
        clean, degraded = {}, {}
        for grid in data.get("degradation_grid", {}).get("grids", []):
            folder = Path(grid["folder"]).name
            cells = [c for c in grid["cells"] if c["model"] == name]
            clean.update((folder, c["psnr"]) for c in cells if c["degradation"] == "clean")
            gains = [c["gain_db"] for c in cells if c["degradation"] != "clean"]
            if gains:
                degraded[folder] = round(sum(gains) / len(gains), 4)
        experts = data.get("router", {}).get("experts", [])
        rows.append(
            dict(name=name, default=bool(data.get("default")), experts=experts, psnr_y=clean, degraded_gain_db=degraded)
        )
    return rows


def format_shipped(rows: list[dict], routers: list[dict] = ()) -> str:
    """:func:`shipped_rows` and :func:`router_rows` as text, a line per model and per router."""
    if not rows:
        return "shipped with edgesr: none"
    routed_default = any(r["default"] for r in routers)
    lines = ["shipped with edgesr (Y-PSNR x4 from each model card; bicubic in brackets):"]
    for r in rows:
        scores = ", ".join(f"{k} {v:.2f} dB ({r['bicubic_psnr_y'][k]:.2f})" for k, v in r["psnr_y"].items())
        degraded = ", ".join(f"{k} {v:+.2f} dB" for k, v in r["degraded_gain_db"].items())
        mark = (" (default of build)" if routed_default else " (default)") if r["default"] else ""
        lines.append(
            f"  {r['name']}{mark}: {r['arch']} x{r['scale']}, {r['params']:,} params; {scores}"
            + (f"; on degraded input (quality grid, mean over bicubic) {degraded}" if degraded else "")
        )
    for r in routers:
        scores = ", ".join(f"{k} {v:.2f} dB" for k, v in r["psnr_y"].items())
        degraded = ", ".join(f"{k} {v:+.2f} dB" for k, v in r["degraded_gain_db"].items())
        lines.append(
            f"  {r['name']}{' (default of upscale and stream)' if r['default'] else ''}: router, per scene one of "
            f"{', '.join(r['experts'])}; {scores}"
            + (f"; on degraded input (quality grid, mean over bicubic) {degraded}" if degraded else "")
        )
    return "\n".join(lines)
