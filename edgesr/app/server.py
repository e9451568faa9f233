"""Start the Streamlit server for ``edgesr app`` in this process, with edgesr's safe settings."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from edgesr.app import config as config_mod
from edgesr.lazy import require

SCRIPT = Path(__file__).with_name("main.py")


def flag_options(cfg: config_mod.AppConfig) -> dict:
    return {
        "server.address": cfg.host,
        "server.port": cfg.port,
        "server.headless": True,
        "server.maxUploadSize": cfg.max_upload_mb,
        "server.enableXsrfProtection": True,
        "server.enableCORS": True,
        "server.fileWatcherType": "none",
        "server.runOnSave": False,
        "browser.gatherUsageStats": False,
        "client.toolbarMode": "viewer",
        "client.showErrorDetails": "none",  # errors are messages; a traceback never reaches the browser
        "global.developmentMode": False,
    }


def banner(cfg: config_mod.AppConfig) -> str:
    try:
        local = ipaddress.ip_address(cfg.host).is_loopback
    except ValueError:
        local = cfg.host == "localhost"
    reach = (
        "only this machine can reach it (pass --host 0.0.0.0 to serve the network)"
        if local
        else "every machine that can reach this address can use it: models, uploads and builds"
    )
    return (
        f"edgesr app: http://{cfg.host}:{cfg.port} - {reach}; models from {cfg.models_dir}, "
        f"uploads up to {cfg.max_upload_mb} MB"
    )


def serve(cfg: config_mod.AppConfig) -> None:
    """Run the app until interrupted."""
    require("streamlit")
    from streamlit.web import bootstrap

    config_mod.publish(cfg)
    flags = flag_options(cfg)
    bootstrap.load_config_options(flag_options=flags)
    print(banner(cfg), flush=True)
    bootstrap.run(str(SCRIPT), False, [], flags)
