"""``edgesr devices``: the device table and the JetPack releases behind it."""

from __future__ import annotations

import json

HELP = "list the devices edgesr builds for and their facts"


def add_parser(sub) -> None:
    p = sub.add_parser("devices", help=HELP)
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr import devices

    print(json.dumps(devices.table_data(), indent=2) if args.json else devices.format_table())
    return 0
