"""The events CLI (dashboard/cli_events.py) as a user runs it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import importers, settings
from dashboard.store import EventStore

DATA = Path(__file__).parent / "data"
CURATED = settings.GEODATA_DIR / "events.geojson"


def _curated() -> tuple[int, int]:
    """How many curated events the importer accepts and rejects (the CLI must agree)."""
    res = importers.import_file(CURATED)
    return len(res.events), len(res.rejected)


def run(*args: str, store: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--store", str(store)] if store else []
    return subprocess.run([sys.executable, "-m", "dashboard", "events", *args, *extra],
                          capture_output=True, text=True, timeout=300, check=False,
                          stdin=subprocess.DEVNULL)


def test_import_curated_then_reimport_updates(tmp_path):
    store = tmp_path / "s.gpkg"
    path = CURATED
    n, bad = _curated()
    first = run("import", str(path), store=store)
    assert first.returncode == (1 if bad else 0), first.stderr
    # nothing but the rejected-row report on stderr: no library warning
    assert len(first.stderr.splitlines()) == bad
    assert all(line.startswith("  rejected feature ") for line in first.stderr.splitlines())
    assert first.stdout.startswith(f"{n} imported ({n} new, 0 updated), {bad} rejected")
    again = run("import", str(path), store=store)
    assert again.stdout.startswith(f"{n} imported (0 new, {n} updated), {bad} rejected")
    listed = run("list", store=store)
    assert f"{n} events in" in listed.stdout


def test_import_reports_each_rejected_row_on_stderr_exit_1(tmp_path):
    """Old behaviour: exit 0 and the report on stdout although rows were rejected."""
    proc = run("import", str(DATA / "mixed_rows.csv"), store=tmp_path / "s.gpkg")
    assert proc.returncode == 1
    assert "1 imported (1 new, 0 updated), 7 rejected" in proc.stdout
    assert proc.stderr.count("  rejected line ") == 7
    assert len(proc.stderr.splitlines()) == 7 and "look swapped" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_import_with_every_row_rejected_is_exit_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("event_date,latitude,longitude\nsoon,26,63\n2024-01-16,95,63\n")
    store = tmp_path / "s.gpkg"
    proc = run("import", str(bad), store=store)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("error: No row of")
    assert "line 2" in proc.stderr and "1 more rejected" in proc.stderr
    assert not store.exists()


@pytest.mark.parametrize("name", ["binary.csv", "syntax_error.geojson", "deep_nesting.geojson"])
def test_unreadable_file_is_one_line_exit_2_and_nothing_written(tmp_path, name):
    store = tmp_path / "s.gpkg"
    proc = run("import", str(DATA / "bad" / name), store=store)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr
    assert not store.exists()


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg", "parquet"])
def test_export_import_round_trip_loses_nothing(tmp_path, fmt):
    s1, s2 = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    run("import", str(CURATED), store=s1)
    run("import", str(DATA / "acled_export.csv"), store=s1)
    out = tmp_path / f"out.{fmt}"
    proc = run("export", "--format", fmt, "--output", str(out), store=s1)
    assert proc.returncode == 0, proc.stderr
    assert run("import", str(out), store=s2).returncode == 0
    a, b = tmp_path / "a.geojson", tmp_path / "b.geojson"
    run("export", "--format", "geojson", "--output", str(a), store=s1)
    run("export", "--format", "geojson", "--output", str(b), store=s2)
    assert json.loads(a.read_text()) == json.loads(b.read_text())
    assert len(json.loads(a.read_text())["features"]) == _curated()[0] + 3


def test_export_filters_and_formula_safe_csv(tmp_path):
    store = tmp_path / "s.gpkg"
    run("import", str(DATA / "generic_yx.csv"), store=store)
    run("import", str(CURATED), store=store)
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


def test_from_after_to_is_one_sentence_exit_2(tmp_path):
    """Old behaviour: silently 0 events."""
    store = tmp_path / "s.gpkg"
    run("import", str(CURATED), store=store)
    out = tmp_path / "x.csv"
    for cmd in (["export", "--format", "csv", "--output", str(out)], ["list"]):
        proc = run(*cmd, "--from", "2024-01-20", "--to", "2024-01-10", store=store)
        assert proc.returncode == 2
        assert proc.stderr.strip() == ("error: The start date 2024-01-20 is after the end date "
                                       "2024-01-10.")
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_export_to_standard_output(tmp_path, fmt):
    """Old behaviour: a file named '-' was written."""
    store = tmp_path / "s.gpkg"
    run("import", str(CURATED), store=store)
    proc = subprocess.run([sys.executable, "-m", "dashboard", "events", "export", "--format",
                           fmt, "--output", "-", "--country", "pakistan", "--store", str(store)],
                          capture_output=True, text=True, timeout=300, check=False,
                          cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and proc.stderr == ""
    assert not (tmp_path / "-").exists()
    want = sum(importers.import_file(CURATED).events["country"] == "Pakistan")
    if fmt == "csv":
        rows = list(csv.DictReader(proc.stdout.splitlines()))
    else:
        rows = [f["properties"] for f in json.loads(proc.stdout)["features"]]
    assert len(rows) == want > 0 and {r["country"] for r in rows} == {"Pakistan"}


def test_gpkg_to_standard_output_is_refused(tmp_path):
    proc = run("export", "--format", "gpkg", "--output", "-", store=tmp_path / "s.gpkg")
    assert proc.returncode == 2 and "standard output" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1


def test_export_gpkg_is_a_geopackage_with_only_events(tmp_path):
    store = tmp_path / "s.gpkg"
    run("import", str(CURATED), store=store)
    out = tmp_path / "out.gpkg"
    assert run("export", "--format", "gpkg", "--output", str(out), store=store).returncode == 0
    import pyogrio

    assert [name for name, _ in pyogrio.list_layers(out)] == ["events"]
    assert len(pyogrio.read_dataframe(out)) == _curated()[0]


def test_batches_and_remove_batch(tmp_path):
    store = tmp_path / "s.gpkg"
    assert run("batches", store=store).stdout.startswith("No import batches")
    run("import", str(CURATED), store=store)
    run("import", str(DATA / "acled_export.csv"), store=store)
    proc = run("batches", "--json", store=store)
    assert proc.returncode == 0 and proc.stderr == ""
    got = json.loads(proc.stdout)
    n = _curated()[0]
    assert [b["label"] for b in got] == ["events.geojson", "acled_export.csv"]
    assert [b["origin"] for b in got] == ["cli", "cli"]
    assert [(b["inserted"], b["updated"], b["events"]) for b in got] == [(n, 0, n), (3, 0, 3)]
    table = run("batches", store=store).stdout
    assert got[1]["batch_id"] in table and "acled_export.csv" in table
    removed = run("remove-batch", got[1]["batch_id"], store=store)
    assert removed.returncode == 0 and "3 events deleted" in removed.stdout
    assert f"{n} events in" in run("list", store=store).stdout
    unknown = run("remove-batch", "nope", store=store)
    assert unknown.returncode == 2 and len(unknown.stderr.splitlines()) == 1
    assert "no import batch 'nope'" in unknown.stderr


def test_geojson_given_as_store_is_refused_and_untouched(tmp_path):
    """Old behaviour: the GeoJSON file was converted to SQLite in place."""
    store = tmp_path / "mine.geojson"
    store.write_bytes((DATA / "points.geojson").read_bytes())
    for cmd in (["import", str(DATA / "acled_export.csv")], ["list"], ["batches"]):
        proc = run(*cmd, store=store)
        assert proc.returncode == 2
        assert len(proc.stderr.splitlines()) == 1 and "is not a GeoPackage" in proc.stderr
    assert store.read_bytes() == (DATA / "points.geojson").read_bytes()


def test_events_table_without_geometry_is_one_line(tmp_path):
    """Old behaviour: a traceback from 'events list' and 'events import'."""
    import pandas as pd
    import pyogrio

    store = tmp_path / "attrs.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"event_id_cnty": ["A1"]}), store, layer="events",
                            driver="GPKG")
    before = store.read_bytes()
    for cmd in (["import", str(DATA / "acled_export.csv")], ["list"]):
        proc = run(*cmd, store=store)
        assert proc.returncode == 2
        assert proc.stderr.startswith("error: The 'events' table in ")
        assert len(proc.stderr.splitlines()) == 1 and "has no geometry" in proc.stderr
    assert store.read_bytes() == before


def test_import_through_a_symlinked_store(tmp_path):
    target = tmp_path / "real.gpkg"
    link = tmp_path / "link.gpkg"
    link.symlink_to(target)
    assert run("import", str(DATA / "acled_export.csv"), store=link).returncode == 0
    assert link.is_symlink() and len(EventStore(target).read()) == 3


# ----------------------------------------------------------------------------- GeoParquet
def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_parquet_export_is_inferred_from_the_name_and_round_trips_byte_for_byte(tmp_path):
    """No --format: a .parquet output is GeoParquet; export → import → export is identical."""
    import pyarrow.parquet as pq

    s1, s2 = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    run("import", str(CURATED), store=s1)
    run("import", str(DATA / "acled_export.csv"), store=s1)
    first = tmp_path / "one.parquet"
    proc = run("export", "--output", str(first), store=s1)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{_curated()[0] + 3} events exported as parquet")
    assert b"geo" in pq.read_schema(first).metadata
    assert run("import", str(first), store=s2).returncode == 0
    second = tmp_path / "two.geoparquet"
    assert run("export", "--output", str(second), store=s2).returncode == 0
    assert second.read_bytes() == first.read_bytes()


@pytest.mark.parametrize("key", ["year", "country"])
def test_partitioned_export_is_a_dataset_folder_that_imports_back(tmp_path, key):
    s1, s2 = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    run("import", str(CURATED), store=s1)
    run("import", str(DATA / "acled_export.csv"), store=s1)
    folder = tmp_path / "ds"
    proc = run("export", "--partition-by", key, "--output", str(folder), store=s1)
    assert proc.returncode == 0, proc.stderr
    assert f"exported as parquet partitioned by {key}" in proc.stdout
    parts = sorted(p.name for p in folder.iterdir())
    assert len(parts) >= 2 and all(p.startswith(f"{key}=") for p in parts)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dash-")]
    imp = run("import", str(folder), store=s2)
    assert imp.returncode == 0, imp.stderr
    again = tmp_path / "again"
    assert run("export", "--format", "parquet", "--partition-by", key, "--output", str(again),
               store=s2).returncode == 0
    assert _tree(again) == _tree(folder)
    a, b = tmp_path / "a.geojson", tmp_path / "b.geojson"
    run("export", "--output", str(a), store=s1)
    run("export", "--output", str(b), store=s2)
    features = {f["properties"]["event_id_cnty"]: f for f in json.loads(a.read_text())["features"]}
    assert features == {f["properties"]["event_id_cnty"]: f
                        for f in json.loads(b.read_text())["features"]}


def test_a_partitioned_export_replaces_an_earlier_dataset_but_never_a_foreign_folder(tmp_path):
    """Like an output file, an earlier export is replaced whole; a folder holding anything
    else is refused with one sentence (exit 2) and left as it was."""
    store = tmp_path / "s.gpkg"
    run("import", str(CURATED), store=store)
    folder = tmp_path / "ds"
    assert run("export", "--partition-by", "country", "--output", str(folder),
               store=store).returncode == 0
    assert run("export", "--partition-by", "year", "--output", str(folder),
               store=store).returncode == 0
    assert {p.name.split("=")[0] for p in folder.iterdir()} == {"year"}
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"precious")
    proc = run("export", "--partition-by", "year", "--output", str(mine), store=store)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
    assert "thesis.docx" in proc.stderr and "nothing was written" in proc.stderr
    assert _tree(mine) == {"thesis.docx": b"precious"}


@pytest.mark.parametrize(("args", "message"), [
    (["--output", "out.txt"], "Cannot tell the format from the output name"),
    (["--format", "csv", "--partition-by", "year", "--output", "x"], "does not go with"),
    (["--format", "parquet", "--output", "-"], "GeoParquet cannot be written to standard"),
    (["--partition-by", "actor1", "--output", "x"], "invalid choice"),
])
def test_export_argument_problems_are_one_line_exit_2(tmp_path, args, message):
    proc = run("export", *[a if a in ("-",) or a.startswith("--") or a in (
        "csv", "parquet", "year", "actor1") else str(tmp_path / a) for a in args],
               store=tmp_path / "s.gpkg")
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not [p for p in tmp_path.iterdir() if p.name != "s.gpkg"]


@pytest.mark.parametrize("kind", ["truncated", "empty_folder", "foreign_folder", "no_dataset"])
def test_a_bad_parquet_file_or_folder_is_one_line_exit_2_and_the_store_untouched(tmp_path,
                                                                                 kind):
    store = tmp_path / "s.gpkg"
    run("import", str(DATA / "acled_export.csv"), store=store)
    before = store.read_bytes()
    good = tmp_path / "good.parquet"
    assert run("export", "--output", str(good), store=store).returncode == 0
    target = tmp_path / kind
    if kind == "truncated":
        target = tmp_path / "cut.parquet"
        target.write_bytes(good.read_bytes()[:-100])
    else:
        target.mkdir()
        if kind == "foreign_folder":
            (target / "part-0.parquet").write_bytes(good.read_bytes())
            (target / "events.csv").write_text("date,lat,lon\n")
        if kind == "no_dataset":
            (target / "misc").mkdir()
            (target / "misc" / "part-0.parquet").write_bytes(good.read_bytes())
    proc = run("import", str(target), store=store)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("error: ")
    assert store.read_bytes() == before
