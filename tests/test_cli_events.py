"""The events CLI (dashboard/cli_events.py) as a user runs it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import events, settings

DATA = Path(__file__).parent / "data"


def run(*args: str, store: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--store", str(store)] if store else []
    return subprocess.run([sys.executable, "-m", "dashboard", "events", *args, *extra],
                          capture_output=True, text=True, timeout=300, check=False,
                          stdin=subprocess.DEVNULL)


def test_import_curated_then_reimport_updates(tmp_path):
    store = tmp_path / "s.gpkg"
    path = settings.GEODATA_DIR / "events.geojson"
    n = len(events.load_curated_events())
    first = run("import", str(path), store=store)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"{n} imported ({n} new, 0 updated), 0 rejected")
    again = run("import", str(path), store=store)
    assert again.stdout.startswith(f"{n} imported (0 new, {n} updated), 0 rejected")
    listed = run("list", store=store)
    assert f"{n} events in" in listed.stdout


def test_import_reports_each_rejected_row(tmp_path):
    proc = run("import", str(DATA / "mixed_rows.csv"), store=tmp_path / "s.gpkg")
    assert proc.returncode == 0
    assert "1 imported (1 new, 0 updated), 7 rejected" in proc.stdout
    assert proc.stdout.count("  rejected line ") == 7
    assert "look swapped" in proc.stdout


@pytest.mark.parametrize("name", ["binary.csv", "syntax_error.geojson", "deep_nesting.geojson"])
def test_unreadable_file_is_one_line_exit_2_and_nothing_written(tmp_path, name):
    store = tmp_path / "s.gpkg"
    proc = run("import", str(DATA / "bad" / name), store=store)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr
    assert not store.exists()


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_export_import_round_trip_loses_nothing(tmp_path, fmt):
    s1, s2 = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    run("import", str(settings.GEODATA_DIR / "events.geojson"), store=s1)
    run("import", str(DATA / "acled_export.csv"), store=s1)
    out = tmp_path / f"out.{fmt}"
    proc = run("export", "--format", fmt, "--output", str(out), store=s1)
    assert proc.returncode == 0, proc.stderr
    assert run("import", str(out), store=s2).returncode == 0
    a, b = tmp_path / "a.geojson", tmp_path / "b.geojson"
    run("export", "--format", "geojson", "--output", str(a), store=s1)
    run("export", "--format", "geojson", "--output", str(b), store=s2)
    assert json.loads(a.read_text()) == json.loads(b.read_text())
    assert len(json.loads(a.read_text())["features"]) == len(events.load_curated_events()) + 3


def test_export_filters_and_formula_safe_csv(tmp_path):
    store = tmp_path / "s.gpkg"
    run("import", str(DATA / "generic_yx.csv"), store=store)
    run("import", str(settings.GEODATA_DIR / "events.geojson"), store=store)
    out = tmp_path / "pk.csv"
    proc = run("export", "--format", "csv", "--output", str(out), "--country", "Iran",
               "--from", "2024-01-18", "--to", "2024-01-31", store=store)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {r["country"] for r in rows} == {"Iran"}
    assert all("2024-01-18" <= r["event_date"] <= "2024-01-31" for r in rows)
    hyper = [r for r in rows if "HYPERLINK" in r["notes"]]
    assert hyper and hyper[0]["notes"].startswith("'=HYPERLINK(")


def test_bad_export_arguments(tmp_path):
    proc = run("export", "--format", "csv", "--output", str(tmp_path / "x.csv"), "--from",
               "soon", store=tmp_path / "s.gpkg")
    assert proc.returncode == 2 and "not a date" in proc.stderr
    proc = run("export", "--format", "csv", "--output", str(tmp_path / "no" / "x.csv"),
               store=tmp_path / "s.gpkg")
    assert proc.returncode == 2 and "does not exist" in proc.stderr
