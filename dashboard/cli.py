"""Command line: ``python -m dashboard COMMAND …`` — the same core functions the page uses.

Commands are registered by ``dashboard.cli_measure`` (sites, distance, distance-to,
buffer, claims, locate) and ``dashboard.cli_events`` (events import/export/list).
Every user error is one line on stderr and exit code 2; never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dashboard.errors import DashboardError

EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the full argument parser (each subcommand sets ``func``)."""
    from dashboard import cli_events, cli_measure

    parser = _Parser(
        prog="python -m dashboard",
        description="Exact WGS84 measurements and event data for the Iran–Pakistan border crisis.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    cli_measure.register(sub)
    cli_events.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (0 ok, 2 user error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DashboardError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # e.g. `python -m dashboard sites | head`
        return 0
    except KeyboardInterrupt:
        print("error: interrupted; nothing more was written.", file=sys.stderr)
        return 130
