"""``edgesr app``: the web application (Streamlit) for trying models, comparing precisions and building."""

from __future__ import annotations

from pathlib import Path


def _positive(text: str) -> int:
    import argparse

    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive whole number")
    return int(text)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "app", help="the web app: upscale, compare precisions, build for a device, check this machine",
        description="Serve edgesr's web application (needs the 'app' extra: pip install 'edgesr[app]'). It listens "
                    "on 127.0.0.1 only unless --host says otherwise. The browser chooses among the shipped models "
                    "and the artifacts in --models-dir, never a server path.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only; "
                                                        "0.0.0.0 serves the network)")
    p.add_argument("--port", type=_positive, default=8501, help="port (default 8501)")
    p.add_argument("--models-dir", type=Path, default=None, metavar="DIR",
                   help="folder of artifacts to offer and where Build writes (default: engines/)")
    p.add_argument("--data-dir", type=Path, action="append", default=[], metavar="DIR",
                   help="a folder of HR images (or of such folders) Compare may score on; repeat for several")
    p.add_argument("--max-upload-mb", type=_positive, default=200, metavar="N",
                   help="largest upload in MB (default 200)")
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr.app.config import AppConfig
    from edgesr.app.server import serve
    from edgesr.errors import InputError

    if args.models_dir is not None and not args.models_dir.is_dir():
        raise InputError(f"models folder {args.models_dir} does not exist; create it or pass an existing folder "
                         "with --models-dir")
    for d in args.data_dir:
        if not d.is_dir():
            raise InputError(f"data folder {d} does not exist; pass a folder of HR images with --data-dir")
    serve(AppConfig(host=args.host, port=args.port, models_dir=args.models_dir or Path("engines"),
                    data_dirs=tuple(args.data_dir), max_upload_mb=args.max_upload_mb))
    return 0
