"""The measuring CLI (dashboard/cli_measure.py), run as a user runs it: python -m dashboard."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import analysis, claims, locate, sites


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dashboard", *args], capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL, check=False)


def assert_user_error(proc: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert fragment in lines[0]
    assert "Traceback" not in proc.stderr


def test_sites_json_lists_places_and_events():
    proc = run("sites", "--json")
    assert proc.returncode == 0
    listed = json.loads(proc.stdout)
    by_id = {s["id"]: s for s in listed}
    core = sites.resolve_site("sabz-koh")
    assert (by_id["sabz-koh"]["lat"], by_id["sabz-koh"]["lon"]) == (core.lat, core.lon)
    assert {"id", "name", "lat", "lon"} <= set(listed[0])
    assert any(s["kind"] == "event" for s in listed)


def test_distance_json_equals_the_core():
    proc = run("distance", "sabz koh", "PANJGUR", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    core = sites.measure_distance(sites.resolve_site("Sabz Koh"),
                                     sites.resolve_site("Panjgur"))
    assert out["distance_m"] == pytest.approx(core.distance_m, abs=1e-3)
    sabz = sites.resolve_site("sabz-koh")
    assert out["from"] == {"id": "sabz-koh", "name": "Sabz Koh", "lat": sabz.lat,
                           "lon": sabz.lon, "uncertainty_km": sabz.uncertainty_km}
    assert set(out) >= {"initial_bearing_deg", "final_bearing_deg", "method"}


def test_distance_text_prints_km_miles_nmi_and_bearing():
    proc = run("distance", "26.9667,64.1", "Saravan")
    assert proc.returncode == 0
    assert " km | " in proc.stdout and " mi | " in proc.stdout and "nmi" in proc.stdout
    assert "initial bearing" in proc.stdout


@pytest.mark.parametrize(("args", "fragment"), [
    (("distance", "Panjgor", "Saravan"), "did you mean 'Panjgur'"),
    (("distance", "95,10", "Saravan"), "Latitude 95"),
    (("buffer", "border", "--km", "-5"), "more than 0 km"),
    (("buffer", "XX-99", "--km", "5"), "Unknown site"),
    (("locate", "--from", "Panjgur:-90:15"), "must not be negative"),
    (("locate", "--border", "45"), "KM:TOL"),
    (("locate",), "at least one constraint"),
])
def test_user_errors_are_one_line_exit_2(args, fragment):
    assert_user_error(run(*args), fragment)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


@pytest.mark.parametrize("header", [["name", "lat", "lon"], ["name", "Latitude", "Longitude"]])
def test_distance_to_border_csv_round_trip(tmp_path, header):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _write_csv(src, header, [["Panjgur", "26.9667", "64.1"], ["Saravan", "27.3708", "62.3342"],
                             ["<b>x</b>", "26.3727", "63.4882"]])
    proc = run("distance-to", "border", "--input", str(src), "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["name"] for r in rows] == ["Panjgur", "Saravan", "<b>x</b>"]
    assert [r["side"] for r in rows] == ["Pakistan", "Iran", "Pakistan"]
    core = analysis.distance_to_border([26.9667, 27.3708, 26.3727], [64.1, 62.3342, 63.4882])
    for r, d in zip(rows, core["distance_m"], strict=True):
        assert float(r["distance_m"]) == pytest.approx(d, abs=1e-3)
        assert {"nearest_lat", "nearest_lon"} <= set(r)


def test_distance_to_border_bad_row_writes_nothing(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _write_csv(src, ["lat", "lon"], [["26.9", "64.1"], ["abc", "64.1"]])
    assert_user_error(run("distance-to", "border", "--input", str(src), "--output", str(out)),
                      "line 3")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]


def test_distance_to_border_missing_columns(tmp_path):
    src = tmp_path / "in.csv"
    _write_csv(src, ["a", "b"], [["1", "2"]])
    assert_user_error(run("distance-to", "border", "--input", str(src), "--output",
                          str(tmp_path / "o.csv")), "no latitude column")


def test_distance_to_border_streams_in_chunks(tmp_path, monkeypatch, capsys):
    """More rows than one chunk: output order and values are kept across chunk boundaries."""
    from dashboard import cli, cli_measure

    monkeypatch.setattr(cli_measure, "CHUNK_ROWS", 7)
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    lats = [25 + i * 0.1 for i in range(30)]
    _write_csv(src, ["lat", "lon"], [[f"{la:.1f}", "63.0"] for la in lats])
    assert cli.main(["distance-to", "border", "--input", str(src), "--output", str(out)]) == 0
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["lat"]) for r in rows] == pytest.approx(lats)
    core = analysis.distance_to_border(lats, [63.0] * 30)["distance_m"]
    assert [float(r["distance_m"]) for r in rows] == pytest.approx(list(core), abs=1e-3)


def test_buffer_writes_rfc7946_feature_collection(tmp_path):
    out = tmp_path / "b.geojson"
    proc = run("buffer", "PK-BA", "--km", "25", "50", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    fc = json.loads(out.read_text())
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 2
    for feat, km in zip(fc["features"], (25, 50), strict=True):
        assert feat["properties"]["radius_km"] == km
        assert feat["properties"]["target"] == "Balochistan (PK-BA)"
        assert feat["properties"]["area_km2"] > 0 and "WGS84" in feat["properties"]["method"]
        assert feat["geometry"]["type"] in ("Polygon", "MultiPolygon")
        lon, lat = feat["geometry"]["coordinates"][0][0][:2] if feat["geometry"]["type"] == \
            "Polygon" else feat["geometry"]["coordinates"][0][0][0][:2]
        assert 55 < lon < 75 and 20 < lat < 35  # lon,lat order


def test_claims_table_and_json():
    proc = run("claims")
    assert proc.returncode == 0
    for result in claims.check_claims():  # the table shows the core's verdicts
        assert result.id in proc.stdout and result.verdict in proc.stdout
    assert "generalised" in proc.stdout
    data = json.loads(run("claims", "--json").stdout)
    assert {c["id"] for c in data} >= {"sabz-koh-border", "sabz-koh-panjgur"}


def test_locate_json_and_geojson(tmp_path):
    out = tmp_path / "region.geojson"
    proc = run("locate", "--from", "Panjgur:90:15", "--border", "45:10", "--within", "PK-BA",
               "--json", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    core = locate.locate(locate.SABZ_KOH_CONSTRAINTS)
    assert summary["area_km2"] == pytest.approx(core.area_km2, abs=0.1)
    fc = json.loads(out.read_text())
    assert fc["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
