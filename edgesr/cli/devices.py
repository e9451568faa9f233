"""``edgesr devices``: the device table and the JetPack releases behind it."""

from __future__ import annotations

import json


def add_parser(sub) -> None:
    p = sub.add_parser("devices", help="list the devices edgesr builds for and their facts")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr import devices

    if args.json:
        rows = [
            dict(id=d.id, name=d.name, gpu=d.gpu, compute_capability=d.compute_capability,
                 dla_cores=d.dla_cores, fast_int8=d.fast_int8, precisions=list(d.precisions),
                 tensorrt=list(d.tensorrt_versions), jetpack=[j.version for j in d.jetpacks], note=d.note)
            for d in devices.DEVICES
        ]
        print(json.dumps({"devices": rows, "aliases": devices.ALIASES}, indent=2))
        return 0
    print(devices.format_table())
    return 0
