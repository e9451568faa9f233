"""``edgesr app``: the web application (Streamlit) for trying models, comparing precisions and building."""

from __future__ import annotations

from pathlib import Path

from edgesr.cli.args import number

HELP = "the web app: upscale, compare precisions, build for a device, check this machine"
_positive = number(int, 1, True, "a positive whole number")


def add_parser(sub) -> None:
    from edgesr.app.config import AppConfig as Defaults

    p = sub.add_parser(
        "app",
        help=HELP,
        description="Serve edgesr's web application (needs the 'app' extra: pip install 'edgesr[app]'). It listens "
        "on 127.0.0.1 only unless --host says otherwise. The browser chooses among the shipped models "
        "and the artifacts in --models-dir, never a server path.",
    )
    p.add_argument(
        "--host",
        default=Defaults.host,
        help=f"address to listen on (default {Defaults.host}: this machine only; 0.0.0.0 serves the network)",
    )
    p.add_argument("--port", type=_positive, default=Defaults.port, help=f"port (default {Defaults.port})")
    # No default here: the folder a user names must exist, while the default one may not yet.
    p.add_argument(
        "--models-dir",
        type=Path,
        metavar="DIR",
        help=f"folder of artifacts to offer and where Build writes (default: {Defaults.models_dir}/)",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of HR images (or of such folders) Compare may score on; repeat for several",
    )
    p.add_argument(
        "--max-upload-mb",
        type=_positive,
        default=Defaults.max_upload_mb,
        metavar="N",
        help=f"largest upload in MB (default {Defaults.max_upload_mb})",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr.app.config import AppConfig
    from edgesr.app.server import serve
    from edgesr.errors import InputError

    if args.models_dir is not None and not args.models_dir.is_dir():
        raise InputError(
            f"models folder {args.models_dir} does not exist; create it or pass an existing folder with --models-dir"
        )
    for d in args.data_dir:
        if not d.is_dir():
            raise InputError(f"data folder {d} does not exist; pass a folder of HR images with --data-dir")
    serve(
        AppConfig(
            host=args.host,
            port=args.port,
            models_dir=args.models_dir or AppConfig.models_dir,
            data_dirs=tuple(args.data_dir),
            max_upload_mb=args.max_upload_mb,
        )
    )
    return 0
