"""The CLI dispatcher (dashboard/cli.py): exit codes and one-line errors for every command."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

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


def test_help_documents_the_exit_codes():
    proc = _run("--help")
    text = " ".join(proc.stdout.split())
    assert "exit codes: 0 everything was done; 1 only part was done" in text
    assert "2 nothing was done" in text
    sub = _run("buffer", "--help")
    assert "within 0.01 %." in " ".join(sub.stdout.split()) and "%%" not in sub.stdout


def test_negative_latitude_positional_is_a_coordinate(capsys):
    assert cli.main(["distance", "-33.86,151.21", "51.5,-0.12", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["from"]["lat"], out["from"]["lon"]) == (-33.86, 151.21)
    assert (out["to"]["lat"], out["to"]["lon"]) == (51.5, -0.12)
    assert out["distance_m"] > 16_000_000


def test_negative_coordinates_work_in_a_real_process():
    proc = _run("distance", "-33.86,151.21", "-.5,-0.12")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and "-33.86000,151.21000" in proc.stdout


def _warns_then_fails(_args):
    warnings.warn("a noisy library warning", UserWarning, stacklevel=1)
    warnings.warn("a deprecation", DeprecationWarning, stacklevel=1)
    raise DashboardError("The thing went wrong.")


def _crashes(_args):
    raise ZeroDivisionError("division by zero\nsecond line")


def _unreadable(_args):
    raise PermissionError(13, "Permission denied", "/root/secret.csv")


@pytest.mark.parametrize(("func", "expected"), [
    (_warns_then_fails, "error: The thing went wrong."),
    (_crashes, "error: internal error (ZeroDivisionError: division by zero second line); "
               "nothing was written; set DASHBOARD_DEBUG=1 for details."),
    (_unreadable, "error: cannot access /root/secret.csv: Permission denied.")])
def test_every_failure_is_exactly_one_line_and_exit_2(monkeypatch, capsys, func, expected):
    monkeypatch.delenv("DASHBOARD_DEBUG", raising=False)
    args = cli.build_parser().parse_args(["sites"])
    args.func = func
    monkeypatch.setattr(cli, "build_parser", lambda: _FixedParser(args))
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # the CLI itself must hide them
        assert cli.main(["sites"]) == cli.EXIT_USER_ERROR
    assert capsys.readouterr().err == expected + "\n"


@pytest.mark.parametrize("argv", [
    ["distance", "95,10", "Panjgur"], ["distance", "Panjgur"], ["buffer", "border", "--km", "x"],
    ["buffer", "border", "--km", "10", "--output", ""],
    ["buffer", "border", "--km", "10", "--output", "/"],
    ["buffer", "Panjgur", "--km", "10", "--output", "/no/such/folder/x.geojson"],
    ["distance-to", "border", "--input", "/no/such.csv", "--output", "-"],
    ["locate", "--border", "45"], ["no-such-command"]])
def test_stderr_is_exactly_one_line_even_with_warnings_as_errors(argv):
    proc = subprocess.run([sys.executable, "-W", "error", "-m", "dashboard", *argv],
                          capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == cli.EXIT_USER_ERROR
    assert proc.stderr.count("\n") == 1 and proc.stderr.endswith("\n"), proc.stderr
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr
