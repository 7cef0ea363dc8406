"""The measuring CLI (dashboard/cli_measure.py), run as a user runs it: python -m dashboard."""

from __future__ import annotations

import csv
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import default_signals

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


def test_locate_road_reading_only_caps_the_straight_line(capsys):
    from dashboard import cli

    args = ["--border", "45:10", "--within", "PK-BA", "--json"]
    assert cli.main(["locate", "--from", "Panjgur:90:15", *args]) == 0
    straight = json.loads(capsys.readouterr().out)
    assert cli.main(["locate", "--from", "Panjgur:90:15:road", *args]) == 0
    road = json.loads(capsys.readouterr().out)
    core = locate.locate((locate.FromSite("Panjgur", 90, 15, "road"), locate.FromBorder(45, 10),
                          locate.Within("PK-BA")))
    assert road["area_km2"] == pytest.approx(core.area_km2, abs=0.1)
    assert road["area_km2"] > straight["area_km2"] * 1.5  # 0 … 105 km holds more than 75 … 105
    assert cli.main(["locate", "--from", "Panjgur:90:road"]) == 2


# ------------------------------------------------------------------ new behaviour (issue 10)
def test_same_site_twice_prints_zero_and_no_bearing():
    proc = run("distance", "Panjgur", "Panjgur")
    assert proc.returncode == 0, proc.stderr
    assert "0.000 km" in proc.stdout and "initial bearing" not in proc.stdout
    assert "same point" in proc.stdout and "180" not in proc.stdout
    out = json.loads(run("distance", "Panjgur", "Panjgur", "--json").stdout)
    assert out["distance_m"] == 0 and out["initial_bearing_deg"] is None
    assert out["final_bearing_deg"] is None


@pytest.mark.parametrize(("target", "label"), [
    ("Sistan and Baluchestan", "Sistan and Baluchestan (IR-13)"),
    ("Balochistan", "Balochistan (PK-BA)"), ("IR-13", "Sistan and Baluchestan (IR-13)")])
def test_buffer_a_province_by_name_or_code(tmp_path, capsys, target, label):
    from dashboard import cli

    out = tmp_path / "p.geojson"
    assert cli.main(["buffer", target, "--km", "20", "--output", str(out)]) == 0
    fc = json.loads(out.read_text())
    assert fc["features"][0]["properties"]["target"] == label
    assert label in capsys.readouterr().out


def test_buffer_dash_output_is_standard_output(tmp_path, monkeypatch, capsys):
    from dashboard import cli

    monkeypatch.chdir(tmp_path)
    assert cli.main(["buffer", "Panjgur", "--km", "10", "--output", "-"]) == 0
    fc = json.loads(capsys.readouterr().out)
    assert fc["features"][0]["properties"]["radius_km"] == 10
    assert list(tmp_path.iterdir()) == []  # no file named '-'


def test_locate_dash_output_prints_only_the_geojson(capsys):
    from dashboard import cli

    assert cli.main(["locate", "--from", "Panjgur:90:15", "--output", "-"]) == 0
    fc = json.loads(capsys.readouterr().out)
    assert fc["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_distance_to_dash_output_and_bad_row_prints_nothing(tmp_path, capsys):
    from dashboard import cli

    src = tmp_path / "in.csv"
    _write_csv(src, ["lat", "lon"], [["26.9", "64.1"]])
    assert cli.main(["distance-to", "border", "--input", str(src), "--output", "-"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert len(rows) == 1 and float(rows[0]["distance_m"]) > 0
    _write_csv(src, ["lat", "lon"], [["26.9", "64.1"], ["-91", "64.1"]])
    assert cli.main(["distance-to", "border", "--input", str(src), "--output", "-"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # all or nothing on standard output too
    assert "CSV line 3: latitude -91 is outside -90..90" in captured.err


@pytest.mark.parametrize(("output", "fragment"), [
    ("", "empty"), ("{tmp}", "is a folder"), ("{tmp}/missing/x.geojson", "does not exist"),
    ("{tmp}/" + "n" * 256, "too long")])
def test_output_errors_are_one_line_exit_2(tmp_path, capsys, output, fragment):
    from dashboard import cli

    path = output.format(tmp=tmp_path)
    assert cli.main(["buffer", "Panjgur", "--km", "10", "--output", path]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and fragment in err
    assert list(tmp_path.iterdir()) == []


def test_outputs_follow_the_umask_and_write_through_symlinks(tmp_path, capsys):
    from dashboard import cli

    old = os.umask(0o022)
    try:
        out = tmp_path / ("n" * 247 + ".geojson")  # 255 bytes: a long legal name works
        assert cli.main(["buffer", "Panjgur", "--km", "10", "--output", str(out)]) == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
        target = tmp_path / "real.geojson"
        target.write_text("old")
        link = tmp_path / "link.geojson"
        link.symlink_to(target)
        assert cli.main(["locate", "--border", "45:10", "--output", str(link)]) == 0
    finally:
        os.umask(old)
    assert link.is_symlink() and json.loads(target.read_text())["type"] == "FeatureCollection"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def _start_distance_to(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    """Start distance-to on standard input and hold it mid-file: one block of rows is sent
    and the pipe is left open, so the process has written part of its output and waits for
    the rest. The caller interrupts it there (no race with the end of the work)."""
    out = tmp_path / "out.csv"
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "distance-to", "border",
                             "--input", "-", "--output", str(out)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
    assert proc.stdin is not None
    proc.stdin.write("lat,lon\n")
    proc.stdin.writelines(f"{25 + (i % 500) * 0.01:.2f},{62 + (i % 300) * 0.01:.2f}\n"
                          for i in range(60_000))  # more than one block (CHUNK_ROWS)
    proc.stdin.flush()
    deadline = time.monotonic() + 120
    while (not any(p.stat().st_size for p in _parts(tmp_path)) and proc.poll() is None
           and time.monotonic() < deadline):
        time.sleep(0.02)
    assert proc.poll() is None and _parts(tmp_path), "the temporary output never appeared"
    return proc, out


def _parts(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".part"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_distance_to_leaves_no_part_file_after_a_signal(tmp_path, sig):
    proc, out = _start_distance_to(tmp_path)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert _parts(tmp_path) == [] and not out.exists()
    assert "Traceback" not in err


def test_distance_to_part_file_after_sigkill_is_removed_by_the_next_run(tmp_path):
    proc, out = _start_distance_to(tmp_path)
    proc.kill()
    proc.wait(timeout=60)
    proc.stdin.close()  # type: ignore[union-attr]
    assert len(_parts(tmp_path)) == 1  # SIGKILL cannot be caught …
    small = tmp_path / "small.csv"
    _write_csv(small, ["lat", "lon"], [["26.9", "64.1"]])
    again = run("distance-to", "border", "--input", str(small), "--output", str(out))
    assert again.returncode == 0, again.stderr
    assert _parts(tmp_path) == []  # … so the next write to the folder cleans it


def test_distance_to_reads_standard_input():
    proc = subprocess.run([sys.executable, "-m", "dashboard", "distance-to", "border", "--input",
                           "-", "--output", "-"], input="\ufefflat,lon\n26.9667,64.1\n",
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(proc.stdout.splitlines()))
    assert rows[0]["side"] == "Pakistan" and float(rows[0]["distance_m"]) > 0


def _reference_distance_to(text: str) -> str:
    """What distance-to writes, by the csv module alone: every row re-written by csv.writer
    with the measured columns appended (the output format before the fast reader)."""
    import io

    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    header, body = rows[0], rows[1:]
    lower = [h.strip().casefold() for h in header]
    ilat = next(lower.index(n) for n in ("lat", "latitude", "y") if n in lower)
    ilon = next(lower.index(n) for n in ("lon", "lng", "long", "longitude", "x") if n in lower)
    res = analysis.distance_to_border([float(r[ilat]) for r in body],
                                      [float(r[ilon]) for r in body])
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([*header, "distance_m", "nearest_lat", "nearest_lon", "side"])
    for r, d, la, lo, side in zip(body, res["distance_m"], res["nearest_lat"],
                                  res["nearest_lon"], res["side"], strict=True):
        w.writerow([*r, f"{d:.3f}", f"{la:.7f}", f"{lo:.7f}", side])
    return out.getvalue()


_PLAIN = "".join(f"{i},p{i},{25 + i * 0.37:.4f},{60 + i * 0.29:.5f}\n" for i in range(23))


@pytest.mark.parametrize(("name", "text"), [
    ("plain", "id,name,lat,lon\n" + _PLAIN),
    ("no final newline", "id,name,lat,lon\n" + _PLAIN.rstrip("\n")),
    ("quoted fields after plain blocks", "id,name,lat,lon\n" + _PLAIN
     + '99,"Panjgur, Balochistan",26.9667,64.1\n100,"two\nlines",27.0,63.0\n' + _PLAIN),
    ("quoted header", '"id","name, long",Latitude,Longitude\n' + _PLAIN),
    ("CRLF line ends", "id,name,lat,lon\r\n" + _PLAIN.replace("\n", "\r\n")),
    ("byte order mark and spaces", "\ufeffid,name,lat,lon\n" + _PLAIN.replace(",p", ", p")),
    ("unicode", "id,name,lat,lon\n" + _PLAIN.replace("p1", "پنجگور")),
])
def test_distance_to_output_bytes_are_those_of_the_csv_module(tmp_path, monkeypatch, name,
                                                              text):
    """Fast reading (plain blocks split on commas, row text written back as read) must not
    change a byte of the output, whatever the quoting, line ends or block boundaries."""
    from dashboard import cli, cli_measure

    monkeypatch.setattr(cli_measure, "CHUNK_ROWS", 5)
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(text.encode("utf-8"))
    assert cli.main(["distance-to", "border", "--input", str(src), "--output", str(out)]) == 0
    assert out.read_bytes().decode("utf-8") == _reference_distance_to(text)


@pytest.mark.parametrize(("value", "fragment"), [("", "line 4"), ("1_0x", "line 4"),
                                                 ("NA", "line 4"), ("95", "line 4: latitude 95"),
                                                 ("inf", "line 4: coordinates must be finite")])
def test_distance_to_bad_value_in_a_plain_block_names_its_line(tmp_path, capsys, value,
                                                               fragment):
    from dashboard import cli

    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(f"lat,lon\n26.9,64.1\n27.0,63.0\n{value},64.0\n26.5,63.5\n",
                   encoding="utf-8")
    assert cli.main(["distance-to", "border", "--input", str(src), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0] and "nothing was written" in err[0]
    assert not out.exists()
