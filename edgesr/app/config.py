"""The app's settings, handed from ``edgesr app`` to the Streamlit script through the environment.

Streamlit runs the page script in its own way, so the command line cannot pass objects; it puts
this JSON into ``EDGESR_APP_CONFIG`` in the same process before the server starts (tests set it
the same way).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

ENV = "EDGESR_APP_CONFIG"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501
DEFAULT_MAX_UPLOAD_MB = 200
# Input pixels of one image or video frame: about 1920x1080. At x4 the output is 33 MP, which
# two users at once can still hold in memory.
DEFAULT_MAX_PIXELS = 2_100_000
MAX_VIDEO_FRAMES = 300  # a short clip: 10 s at 30 fps
AUTO_TILE_PIXELS = 512 * 512  # larger inputs are tiled so a model's activations stay bounded
AUTO_TILE = (256, 256)
WORKERS = 2  # upscales and comparisons that run at once; more wait in line


@dataclass(frozen=True)
class AppConfig:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    models_dir: Path = Path("engines")
    data_dirs: tuple[Path, ...] = field(default_factory=tuple)
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    max_pixels: int = DEFAULT_MAX_PIXELS

    def to_json(self) -> str:
        d = asdict(self)
        d["models_dir"] = str(self.models_dir)
        d["data_dirs"] = [str(p) for p in self.data_dirs]
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str) -> AppConfig:
        d = json.loads(text)
        d["models_dir"] = Path(d["models_dir"])
        d["data_dirs"] = tuple(Path(p) for p in d.get("data_dirs", ()))
        return cls(**d)


def current() -> AppConfig:
    """The settings of this server (the defaults when started without ``edgesr app``)."""
    text = os.environ.get(ENV)
    return AppConfig.from_json(text) if text else AppConfig()


def publish(config: AppConfig) -> None:
    os.environ[ENV] = config.to_json()
