"""Command line: ``python -m dashboard COMMAND …`` — the same core functions the page uses.

Commands are registered by ``dashboard.cli_measure`` (sites, distance, distance-to,
buffer, claims, locate) and ``dashboard.cli_events`` (events import/export/list).

Exit codes: 0 everything was done; 1 only part was done (e.g. some rows rejected, the rest
imported; the report is on stderr); 2 nothing was done (a bad argument or file). Every error
is one line on stderr; never a traceback, never a library warning.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import warnings
from collections.abc import Sequence

from dashboard.errors import DashboardError

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

EPILOG = ("exit codes: 0 everything was done; 1 only part was done (the rest is reported on "
          "stderr); 2 nothing was done (bad argument or file). Errors are one line on stderr. "
          "Coordinates are LAT,LON in decimal degrees (negative ones work: -33.86,151.21). "
          "--output - writes text to standard output.")

#: An argument that starts like a negative number ("-5", "-.5", "-33.86,151.21") is a value,
#: not an option (the rule of Python ≥ 3.13's argparse, applied on every version).
_NEGATIVE_NUMBER = re.compile(r"^-\.?\d")


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line and exit code 2, and which takes
    negative coordinates such as ``-33.86,151.21`` as values."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message: str) -> None:  # type: ignore[override]
        message = " ".join(message.split())
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the full argument parser (each subcommand sets ``func``)."""
    from dashboard import cli_enrich, cli_events, cli_map, cli_measure

    parser = _Parser(
        prog="python -m dashboard",
        description="Exact WGS84 measurements and event data for the Iran–Pakistan border crisis.",
        epilog=EPILOG,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    cli_measure.register(sub)
    cli_events.register(sub)
    cli_map.register(sub)
    cli_enrich.register(sub)
    return parser


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DashboardError as err:
        print(f"error: {_one_line(str(err))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # e.g. `python -m dashboard sites | head`
        _silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        print("error: interrupted; no output file was written.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print("error: not enough memory for this input; nothing was written.", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as err:  # e.g. an unreadable input file
        where = f" {err.filename}" if getattr(err, "filename", None) else ""
        print(f"error: cannot access{where}: {_one_line(err.strerror or str(err))}.",
              file=sys.stderr)
        return EXIT_USER_ERROR
    except Exception as err:  # a bug: still one line; DASHBOARD_DEBUG=1 shows the traceback
        if os.environ.get("DASHBOARD_DEBUG"):
            raise
        print(f"error: internal error ({type(err).__name__}: {_one_line(str(err))[:200]}); "
              "nothing was written; set DASHBOARD_DEBUG=1 for details.", file=sys.stderr)
        return EXIT_USER_ERROR


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the interpreter's flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 all done, 1 partly done, 2 nothing done)."""
    root = logging.getLogger()
    if not root.handlers:  # library log records would reach stderr via logging.lastResort
        root.addHandler(logging.NullHandler())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # library warnings never reach the user
        return _run(argv)
