"""dashboard/importers.py: formats, per-row reasons, whole-file errors (tests/data/bad/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import importers, settings
from dashboard.errors import ImportRejected

DATA = Path(__file__).parent / "data"

BAD_FILES = {
    "binary.csv": "binary file",
    "empty.csv": "The file is empty.",
    "latin1.csv": "not UTF-8 text (byte 0xe9",
    "syntax_error.geojson": "JSON syntax error at line 2, column",
    "not_feature_collection.geojson": "not a GeoJSON FeatureCollection",
    "deep_nesting.geojson": f"nests deeper than {settings.MAX_JSON_DEPTH} levels",
    "no_coordinates.csv": "has no latitude (lat/latitude/Y), longitude (lon/longitude/X) or date",
    "fake.gpkg": "not a GeoPackage",
    "unknown.xlsx": "Unknown file type '.xlsx'",
}


def test_the_bad_corpus_is_complete():
    assert sorted(p.name for p in (DATA / "bad").iterdir()) == sorted(BAD_FILES)


@pytest.mark.parametrize(("name", "message"), sorted(BAD_FILES.items()))
def test_each_bad_file_has_its_own_clear_error(name, message):
    with pytest.raises(ImportRejected) as exc:
        importers.import_file(DATA / "bad" / name)
    text = str(exc.value)
    assert message in text
    assert "\n" not in text and len(text) < 200


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "MAX_IMPORT_BYTES", 1000)
    big = tmp_path / "big.csv"
    big.write_text("date,lat,lon\n" + "2024-01-16,26,63\n" * 100)
    with pytest.raises(ImportRejected, match="the import limit is"):
        importers.import_file(big)


def test_acled_export_both_date_styles_and_text_numbers():
    res = importers.import_file(DATA / "acled_export.csv")
    assert res.rejected == []
    ev = res.events.set_index("event_id_cnty")
    assert str(ev.loc["TST1001", "event_date"].date()) == "2024-01-16"
    assert str(ev.loc["TST1003", "event_date"].date()) == "2024-01-17"
    assert ev.loc["TST1002", "latitude"] == pytest.approx(27.35)
    assert ev.loc["TST1002", "fatalities"] == 9
    assert ev.loc["TST1003", "time_precision"] == 2
    assert ev.loc["TST1001", "geometry"].coords[0] == (63.5, 26.4)  # lon, lat


def test_generic_csv_with_y_x_and_semicolons_keeps_text_verbatim():
    res = importers.import_file(DATA / "generic_yx.csv")
    assert len(res.events) == 2 and not res.rejected
    assert res.events["notes"].iloc[1].startswith("=HYPERLINK(")
    assert all(res.events["event_id_cnty"].str.startswith("USR-"))


def test_derived_ids_are_stable():
    a = importers.import_file(DATA / "generic_yx.csv").events["event_id_cnty"].tolist()
    b = importers.import_file(DATA / "generic_yx.csv").events["event_id_cnty"].tolist()
    assert a == b and len(set(a)) == 2


def test_every_bad_row_is_reported_with_its_line_and_reason():
    res = importers.import_file(DATA / "mixed_rows.csv")
    assert len(res.events) == 1 and res.events["notes"].iloc[0] == "good row"
    reasons = {r.row: r.reason for r in res.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9]
    assert "date is missing" in reasons[3]
    assert "'2024-13-45' is not a date" in reasons[4]
    assert "latitude 95 is outside -90..90" in reasons[5]
    assert "longitude 190 is outside -180..180" in reasons[6]
    assert "not numbers" in reasons[7]
    assert "outside Pakistan" in reasons[8] and "look swapped" in reasons[8]
    assert "fatalities '-3' is not a count" in reasons[9]
    assert all(r.reason.startswith(f"line {r.row}:") for r in res.rejected)
    assert res.summary() == "1 imported, 7 rejected"


def test_geojson_points_and_bad_geometries():
    res = importers.import_file(DATA / "points.geojson")
    assert len(res.events) == 1
    reasons = {r.row: r.reason for r in res.rejected}
    assert "geometry is empty" in reasons[2]
    assert "LineString, not a Point" in reasons[3]


def test_html_is_kept_as_data():
    res = importers.import_file(DATA / "xss_events.csv")
    assert res.events["notes"].iloc[0] == "<img src=x onerror=alert(1)>"
    assert res.events["location"].iloc[0] == "<script>alert(1)</script>"
    assert len(res.rejected) == 1 and "not a date" in res.rejected[0].reason


def test_geopackage_import(tmp_path):
    from dashboard.store import write_gpkg

    events = importers.import_file(DATA / "acled_export.csv").events
    path = tmp_path / "x.gpkg"
    write_gpkg(events, path)
    res = importers.import_bytes(path.read_bytes(), "x.gpkg")
    assert sorted(res.events["event_id_cnty"]) == sorted(events["event_id_cnty"])


def test_utf16_with_bom_is_read():
    text = "date,lat,lon\n2024-01-16,26.3,63.4\n"
    res = importers.import_bytes(text.encode("utf-16"), "excel.csv")
    assert len(res.events) == 1


@pytest.mark.parametrize(("text", "iso"), [("2024-01-16", "2024-01-16"),
                                           ("16 January 2024", "2024-01-16"),
                                           ("16 Jan 2024", "2024-01-16"),
                                           ("2024-01-16T10:00:00", "2024-01-16"),
                                           ("January 16, 2024", "2024-01-16")])
def test_date_styles(text, iso):
    assert importers.parse_date(text).isoformat() == iso


@pytest.mark.parametrize("text", ["", "16/01/24", "yesterday", None])
def test_not_dates(text):
    assert importers.parse_date(text) is None
