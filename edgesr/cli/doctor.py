"""``edgesr doctor``: what this machine is and what edgesr can do on it, each finding with its fix."""

from __future__ import annotations

from pathlib import Path

HELP = "check this machine: Jetson module, JetPack, TensorRT, CUDA, ONNX Runtime, OpenCV, power"


def add_parser(sub) -> None:
    from edgesr.deploy import BuildOptions

    p = sub.add_parser(
        "doctor",
        help=HELP,
        description="Report the Jetson module (device tree), L4T/JetPack release, TensorRT, CUDA and cuDNN versions, "
        "GPU and compute capability, DLA cores, Python, ONNX Runtime providers, OpenCV video back-ends, "
        "power mode and clock locking, and free disk in the engines folder, each with a verdict and the "
        "fix for what is missing. Exits 1 when a check fails.",
    )
    p.add_argument(
        "--engines",
        type=Path,
        default=BuildOptions.out,
        metavar="DIR",
        help=f"the engines folder whose free space to check (default: {BuildOptions.out}/)",
    )
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    from edgesr.jetson import doctor

    report = doctor.run(engines=args.engines)
    print(report.json() if args.json else report.render())
    return 1 if report.failed else 0
