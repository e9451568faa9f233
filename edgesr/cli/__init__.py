"""The command line: each subcommand module parses its arguments and calls the library.

``main(argv) -> int`` is callable in-process. A user error (:class:`EdgeSRError`) is one line
on stderr and a non-zero exit; ``--debug`` adds the traceback. Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import traceback
from collections.abc import Sequence

from edgesr import __version__
from edgesr.errors import EdgeSRError

# subcommand -> module under edgesr.cli defining HELP (its one-line summary), add_parser(subparsers) and
# run(args) -> int. These modules import only argparse-level code at import time; add_parser reads defaults
# and choices from the library's options and tables, so only the command being run builds its parser.
COMMANDS: tuple[str, ...] = (
    "devices",
    "doctor",
    "build",
    "convert",
    "quantize",
    "validate",
    "upscale",
    "stream",
    "bench",
    "export",
    "eval",
    "models",
    "train",
    "app",
)


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line too (subcommand parsers are of this class as well)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}; see '{self.prog} --help'\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with ``command``'s arguments; the other commands are listed by name and summary only."""
    parser = _Parser(
        prog="edgesr",
        description="Deploy lightweight super-resolution models to Jetson and embedded GPUs.",
    )
    parser.add_argument("--version", action="version", version=f"edgesr {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"edgesr.cli.{name}")
        if name == command:
            module.add_parser(sub)
        else:
            sub.add_parser(name, help=module.HELP)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv``: its first word that is not an option (edgesr's own options take
    no value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _main(argv)
        except KeyboardInterrupt:  # Ctrl-C while parsing or loading modules too, not only inside a command
            print("edgesr: interrupted", file=sys.stderr)
            return 130
    finally:
        if argv is None:
            # The process's own command, done and reported: a Ctrl-C during the interpreter's teardown
            # (freeing runtimes, joining threads) would only turn its exit status into a signal death.
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _main(argv: Sequence[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from edgesr.log import configure

    configure(-1 if args.quiet else args.verbose)
    try:
        return int(args.run(args) or 0)
    except EdgeSRError as exc:
        if args.debug:
            traceback.print_exc()
        # One line even when the message quotes user text that holds line breaks.
        print("edgesr: error: " + " ".join(str(exc).splitlines()), file=sys.stderr)
        return exc.exit_code
