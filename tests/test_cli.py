"""The CLI dispatcher (dashboard/cli.py): exit codes and one-line errors for every command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dashboard import cli
from dashboard.errors import DashboardError

COMMANDS = ("sites", "distance", "distance-to", "buffer", "claims", "locate", "events")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dashboard", *args], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)


def test_help_lists_every_command():
    proc = _run("--help")
    assert proc.returncode == 0, proc.stderr
    for command in COMMANDS:
        assert command in proc.stdout


@pytest.mark.parametrize("argv", [[], ["no-such-command"], ["distance"], ["buffer", "border"]])
def test_usage_errors_exit_2_with_one_line(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("python -m dashboard")
    assert "Traceback" not in "\n".join(err)


def test_dashboard_error_becomes_exit_2(monkeypatch, capsys):
    parser = cli.build_parser()

    def failing(_args):
        raise DashboardError("The thing went wrong.")

    args = parser.parse_args(["sites"])
    args.func = failing
    monkeypatch.setattr(cli, "build_parser", lambda: _FixedParser(args))
    assert cli.main(["sites"]) == cli.EXIT_USER_ERROR
    assert capsys.readouterr().err == "error: The thing went wrong.\n"


def test_bad_coordinate_is_one_line_in_a_real_process():
    proc = _run("distance", "95,10", "Panjgur")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr


class _FixedParser:
    """Stands in for the real parser so a handler can be made to fail on purpose."""

    def __init__(self, args):
        self._args = args

    def parse_args(self, _argv):
        return self._args
