"""dashboard/importers.py: formats, per-row reasons, whole-file errors (tests/data/bad/)."""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_
from hypothesis import strategies as st

from dashboard import columnar, events, geodesy, importers, layers, settings, store
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


# --------------------------------------------------------------------------- issue 10 findings
def _csv(text: str) -> importers.ImportResult:
    return importers.import_bytes(text.encode("utf-8"), "t.csv")


def _fc(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def _feature(props, coords=(63.5, 26.5)) -> dict:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": list(coords)}}


FILLER = "".join(f"2024-01-16,26.{i:03d},63.5,plain row {i}\n" for i in range(400))  # > 8 KB


def test_rfc_4180_quote_escapes_after_the_first_8_kb_are_read():
    res = _csv("date,lat,lon,notes\n" + FILLER + '2024-01-17,26.5,63.5,"He said ""no"", then"\n')
    assert res.rejected == []
    assert res.events["notes"].iloc[-1] == 'He said "no", then'


def test_semicolons_in_a_comma_file_do_not_change_the_separator():
    res = _csv("date,lat,lon,notes\n" + "".join(f'2024-01-16,26.{i},63.5,"a;b;c;{i}"\n'
                                                 for i in range(3)))
    assert res.rejected == [] and list(res.events["notes"]) == [f"a;b;c;{i}" for i in range(3)]


@pytest.mark.parametrize("size", [200_000, 5_000_000])
def test_a_text_field_longer_than_131072_characters_imports(size):
    long = "x" * size
    res = _csv(f'date,lat,lon,notes\n2024-01-16,26.5,63.5,"{long}"\n2024-01-17,26.6,63.5,b\n')
    assert res.rejected == [] and res.events["notes"].iloc[0] == long


def test_rows_with_extra_fields_are_rejected_by_their_first_line():
    res = _csv('date,lat,lon,notes\n'
               '2024-01-16,26.5,63.5,"two\nlines"\n'     # lines 2-3
               '2024-01-16,26.6,63.5,ok,\n'              # line 4: an empty extra field is fine
               '2024-01-16,26.7,63.5,shifted,extra\n'    # line 5
               '2024-13-01,26.8,63.5,"bad\r\ndate"\n'    # lines 6-7
               '2024-01-16,95,63.5,last\n')              # line 8
    assert sorted(res.events["notes"]) == ["ok", "two\nlines"]
    reasons = {r.row: r.reason for r in res.rejected}
    assert sorted(reasons) == [5, 6, 8]
    assert reasons[5] == "line 5: the row has 5 fields but the header has 4"
    assert "not a date" in reasons[6] and "outside -90..90" in reasons[8]


@pytest.mark.parametrize("where", ["early", "late"])
def test_a_nul_character_rejects_its_row_with_a_reason_and_is_never_cut(where):
    bad = "2024-01-17,26.5,63.5,before\x00after\n"
    text = ("date,lat,lon,notes\n" + bad + FILLER if where == "early"
            else "date,lat,lon,notes\n" + FILLER + bad)
    res = _csv(text)
    assert len(res.events) == 400 and not res.events["notes"].str.contains("before").any()
    [rej] = res.rejected
    assert rej.row == (2 if where == "early" else 402)
    assert "notes contains a NUL character" in rej.reason
    res = importers.import_bytes(_fc(_feature({"event_date": "2024-01-16", "notes": "a\x00b"})),
                                 "x.geojson")
    assert len(res.events) == 0 and "NUL character" in res.rejected[0].reason


def test_a_lone_surrogate_in_geojson_text_is_a_row_reason_not_a_traceback():
    ok = json.dumps(_feature({"event_date": "2024-01-16", "notes": "fine"}))
    text = ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
            '{"event_date":"2024-01-16","notes":"bad \\ud800 text"},"geometry":{"type":"Point",'
            '"coordinates":[63.5,26.5]}},' + ok + "]}")
    res = importers.import_bytes(text.encode(), "s.geojson")
    assert list(res.events["notes"]) == ["fine"]
    assert res.rejected[0].row == 1 and "unpaired UTF-16 surrogate" in res.rejected[0].reason


def _model(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"event_id_cnty": [f"T{i}" for i in range(n)], "event_date": ["2024-01-16"] * n,
            "latitude": [26.5] * n, "longitude": [63.5] * n}
    return events.normalise(pd.DataFrame({**base, **columns}))


def test_a_leading_quote_is_removed_only_where_our_csv_export_added_it(tmp_path):
    texts = ["'=1+1", "'plain", "''", "'", "=SUM(A1)", "-", "@x", "\tx", "it's"]
    ev = _model(notes=texts)
    back = _csv(events.to_csv(ev)).events
    assert list(back["notes"]) == texts
    # a user's CSV: only "'" before a formula character or "'" is our guard
    res = _csv("date,lat,lon,notes\n2024-01-16,26.5,63.5,'=A1\n2024-01-16,26.6,63.5,'abc\n")
    assert list(res.events["notes"]) == ["=A1", "'abc"]
    # GeoJSON and GeoPackage keep every leading "'"
    res = importers.import_bytes(_fc(_feature({"event_date": "2024-01-16", "notes": "'=x"})),
                                 "g.geojson")
    assert res.events["notes"].iloc[0] == "'=x"
    path = tmp_path / "q.gpkg"
    store.write_gpkg(ev, path)
    assert list(importers.import_file(path).events["notes"]) == texts


def test_sources_with_separators_and_newlines_survive_a_csv_round_trip():
    sources = ["https://a.example/x;y", "line one\nline two", 'quote " and , comma',
               "'=not a formula", "[1] bracket"]
    ev = _model(sources=[sources, []])
    back = _csv(events.to_csv(ev)).events
    assert back["sources"].iloc[0] == sources and back["sources"].iloc[1] == []
    # older exports and user files: one source per line or separated by ";"
    res = _csv('date,lat,lon,sources\n2024-01-16,26.5,63.5,"a ; b"\n')
    assert res.events["sources"].iloc[0] == ["a", "b"]


HOSTILE = [
    ("date", "2924-01-16", "the date '2924-01-16' is outside the dates this tool can hold"),
    ("date", "1500-06-01", "the date '1500-06-01' is outside the dates this tool can hold"),
    ("geo_precision", "1e20", "geo_precision '1e20' is not 1, 2 or 3"),
    ("geo_precision", "inf", "geo_precision 'inf' is not 1, 2 or 3"),
    ("timestamp", "1" * 23, "is not a whole number between"),
    ("lat", "1" * 400, "are not finite numbers"),
    ("lon", "9" * 5000, "are not "),
    ("fatalities", "1" * 400, "is not a count of people"),
    ("fatalities", "1" * 5000, "is not a count of people"),
    ("fatalities", "2.5", "is not a count of people"),
    ("iso", "1" * 5000, "is not a whole number between"),
    ("uncertainty_km", "inf", "uncertainty_km 'inf' is not a distance in km"),
    ("uncertainty_km", "-1", "uncertainty_km '-1' is not a distance in km"),
    ("uncertainty_km", "NaN", "uncertainty_km 'NaN' is not a distance in km"),
]


@pytest.mark.parametrize(("column", "value", "reason"), HOSTILE)
def test_hostile_csv_values_are_row_rejections_with_a_reason(column, value, reason):
    cols = ["date", "lat", "lon", "geo_precision", "timestamp", "fatalities", "iso",
            "uncertainty_km"]
    good = {"date": "2024-01-16", "lat": "26.5", "lon": "63.5", "geo_precision": "1",
            "timestamp": "1705500000", "fatalities": "2", "iso": "586", "uncertainty_km": ""}
    bad = {**good, "lat": "26.6", column: value}
    text = ",".join(cols) + "\n" + "\n".join(",".join(r[c] for c in cols)
                                              for r in (good, bad)) + "\n"
    res = _csv(text)
    assert len(res.events) == 1 and res.events["uncertainty_km"].iloc[0] == 2.0
    [rej] = res.rejected
    assert rej.row == 3 and rej.reason.startswith("line 3: ") and reason in rej.reason
    assert "\n" not in rej.reason and len(rej.reason) < 200


@pytest.mark.parametrize(("props", "reason"), [
    ('{"event_date":"2924-01-16"}', "outside the dates this tool can hold"),
    ('{"event_date":"2024-01-16","geo_precision":1e20}', "geo_precision '1e+20' is not 1, 2 or 3"),
    ('{"event_date":"2024-01-16","timestamp":' + "1" * 23 + "}", "is not a whole number"),
    ('{"event_date":"2024-01-16","fatalities":' + "1" * 400 + "}", "is not a count of people"),
    ('{"event_date":"2024-01-16","fatalities":' + "1" * 5000 + "}", "is not a count of people"),
    ('{"event_date":"2024-01-16","uncertainty_km":Infinity}', "is not a distance in km"),
    ('{"event_date":"2024-01-16","uncertainty_km":NaN}', "is not a distance in km"),
    ('{"event_date":"2024-01-16","uncertainty_km":-3}', "is not a distance in km"),
    ('["event_date","2024-01-16"]', "its properties are a list, not an object"),
    ('"2024-01-16"', "its properties are a string, not an object"),
])
def test_hostile_geojson_values_are_row_rejections_with_a_reason(props, reason):
    ok = json.dumps(_feature({"event_date": "2024-01-16", "notes": "ok"}))
    bad = ('{"type":"Feature","properties":' + props +
           ',"geometry":{"type":"Point","coordinates":[63.6,26.6]}}')
    text = '{"type":"FeatureCollection","features":[' + ok + "," + bad + "]}"
    res = importers.import_bytes(text.encode(), "h.geojson")
    assert list(res.events["notes"]) == ["ok"]
    [rej] = res.rejected
    assert rej.row == 2 and rej.reason.startswith("feature 2: ") and reason in rej.reason


def test_huge_coordinates_in_geojson_are_a_row_reason():
    res = importers.import_bytes(_fc(_feature({"event_date": "2024-01-16"}),
                                     _feature({"event_date": "2024-01-16"},
                                              (10 ** 400, 26.5))), "c.geojson")
    assert len(res.events) == 1 and "are not finite numbers" in res.rejected[0].reason


# ----------------------------------------------------------------------------- GeoPackages
def _points(lats, lons, crs="EPSG:4326", **cols) -> gpd.GeoDataFrame:
    n = len(lats)
    data = {"event_date": ["2024-01-16"] * n, "notes": [f"n{i}" for i in range(n)], **cols}
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(lons, lats), crs=crs)


def test_a_multi_layer_geopackage_reads_the_events_layer(tmp_path):
    path = tmp_path / "multi.gpkg"
    _points([27.0], [63.0], notes=["a place"]).to_file(path, layer="places", driver="GPKG")
    _points([26.5, 26.6], [63.5, 63.6]).to_file(path, layer="events", driver="GPKG")
    res = importers.import_file(path)
    assert list(res.events["notes"]) == ["n0", "n1"]


def test_several_point_layers_without_an_events_layer_is_one_sentence(tmp_path):
    path = tmp_path / "two.gpkg"
    _points([27.0], [63.0]).to_file(path, layer="strikes", driver="GPKG")
    _points([26.5], [63.5]).to_file(path, layer="raids", driver="GPKG")
    with pytest.raises(ImportRejected, match=r"several point layers \(strikes, raids\)"):
        importers.import_file(path)


def test_a_single_point_layer_with_another_name_is_read(tmp_path):
    path = tmp_path / "one.gpkg"
    _points([26.5], [63.5]).to_file(path, layer="my_points", driver="GPKG")
    assert len(importers.import_file(path).events) == 1


def test_a_projected_geopackage_is_reprojected_without_warnings(tmp_path, capfd):
    lats, lons = [26.5, 27.35], [63.5, 62.3]
    utm = _points(lats, lons).to_crs("EPSG:32641")
    path = tmp_path / "utm.gpkg"
    utm.to_file(path, layer="events", driver="GPKG")
    capfd.readouterr()
    res = importers.import_file(path)
    assert res.rejected == []
    assert res.events["latitude"].tolist() == pytest.approx(lats, abs=1e-9)
    assert res.events["longitude"].tolist() == pytest.approx(lons, abs=1e-9)
    assert res.events.crs.to_epsg() == 4326
    assert capfd.readouterr().err == ""


def test_a_geopackage_without_crs_and_metre_coordinates_is_one_sentence(tmp_path):
    path = tmp_path / "nocrs.gpkg"
    frame = _points([3_100_000.0], [650_000.0]).set_crs(None, allow_override=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyogrio: "'crs' was not provided" (on purpose)
        frame.to_file(path, layer="events", driver="GPKG")
    with pytest.raises(ImportRejected, match="has no coordinate reference system") as exc:
        importers.import_file(path)
    assert "650,000, 3,100,000" in str(exc.value) and "\n" not in str(exc.value)


# ------------------------------------------------------------------------------ cost per row
def test_the_country_check_is_one_vectorised_pass_and_matches_the_exact_distance(monkeypatch):
    real = geodesy.nearest_on_geometry
    calls = []

    def counting(lats, lons, geom):
        calls.append(len(np.atleast_1d(lats)))
        return real(lats, lons, geom)

    monkeypatch.setattr(importers.geodesy, "nearest_on_geometry", counting)
    rng = np.random.default_rng(3)
    lats = np.concatenate([rng.uniform(22.0, 25.5, 250), rng.uniform(5.0, 15.0, 50)])
    lons = np.concatenate([rng.uniform(61.0, 68.0, 250), rng.uniform(40.0, 50.0, 50)])
    rows = "".join(f"2024-01-16,{a},{o},Pakistan\n" for a, o in zip(lats.tolist(), lons.tolist(),
                                                                  strict=True))
    res = _csv("date,lat,lon,country\n" + rows)
    assert len(calls) <= 1  # the old check measured every row on its own (~89 ms each)
    pakistan = layers.load_countries().set_index("name").geometry["Pakistan"]
    exact = real(lats, lons, pakistan)
    land = shapely.union_all(layers.load_layer("basemap_land").geometry.values)
    sea = ~shapely.contains_xy(land, lons, lats)  # all points lie inside the land layer's extent
    limit = np.where(sea, settings.MARITIME_TOLERANCE_KM, settings.COUNTRY_TOLERANCE_KM) * 1000
    expected = {i + 2 for i in np.flatnonzero(~exact["inside"].to_numpy()
                                              & (exact["distance_m"].to_numpy() > limit))}
    assert {r.row for r in res.rejected} == expected
    assert len(expected) > 40 and len(res.events) > 60
    assert sea.sum() > 20  # the Arabian Sea off Makran is in the sample
    assert all(("more than 50 km outside Pakistan" in r.reason
                or "more than 370.4 km outside Pakistan" in r.reason) for r in res.rejected)


# ------------------------------------------------------------- property: exact round trips
_ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                    max_size=10)
_TRICKY = st.sampled_from(["'", "''", "'=", "=1+1", "+", "-5", "@x", "\t", "\r", "\r\n", "\n",
                           '"', '""', ";", " ; ", ",", " ", "[", '["a"]', "nan", "NULL", "\u2028",
                           "\x85", "\x1f", "\ufeff", "é", "𝔸"])
_TEXT = st.lists(st.one_of(_ANY_TEXT, _TRICKY), max_size=3).map("".join)
_TEXT_COLUMNS = ("notes", "actor1", "assoc_actor_1", "location", "event_type", "admin1",
                 "disputed", "source", "tags", "category", "region", "inter1")


@st.composite
def event_tables(draw: st.DrawFn) -> gpd.GeoDataFrame:
    """A few events with arbitrary text, numbers and dates, in the event model."""
    rows = []
    for i in range(draw(st.integers(1, 4))):
        row: dict = {c: draw(_TEXT) for c in _TEXT_COLUMNS}
        row["country"] = "Zz" + draw(_TEXT)  # no real country: the plausibility check is moot
        row["event_id_cnty"] = f"E{i}" + draw(_TEXT)
        row["event_date"] = draw(st.dates(events.MIN_DATE, events.MAX_DATE)).isoformat()
        row["latitude"] = draw(st.floats(-90, 90))
        row["longitude"] = draw(st.floats(-180, 180))
        for col in ("fatalities", "injured"):
            row[col] = draw(st.one_of(st.none(), st.integers(0, 10**9).map(float)))
        row["uncertainty_km"] = draw(st.floats(0, 20_000))
        row["geo_precision"] = draw(st.sampled_from([1, 2, 3]))
        row["time_precision"] = draw(st.sampled_from([1, 2, 3]))
        row["iso"] = draw(st.one_of(st.none(), st.integers(0, 999)))
        row["timestamp"] = draw(st.one_of(st.none(), st.integers(-(2**53) + 1, 2**53 - 1)))
        row["sources"] = draw(st.lists(_TEXT, max_size=3))
        rows.append(row)
    return events.normalise(pd.DataFrame(rows))


def _export(ev: pd.DataFrame, fmt: str, folder: Path) -> bytes:
    if fmt == "csv":
        return events.to_csv(ev).encode("utf-8")
    if fmt == "geojson":
        return events.to_geojson(ev).encode("utf-8")
    if fmt == "parquet":
        path = folder / f"e{len(list(folder.iterdir()))}.parquet"
        columnar.write_geoparquet(ev, path)
        return path.read_bytes()
    path = folder / f"e{len(list(folder.iterdir()))}.gpkg"
    store.write_gpkg(ev, path)
    return path.read_bytes()


def _assert_round_trip(ev: gpd.GeoDataFrame, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        first = _export(ev, fmt, Path(tmp))
        back = importers.import_bytes(first, f"x.{fmt}")
        assert back.rejected == []
        second = _export(back.events, fmt, Path(tmp))
        if fmt != "gpkg":  # a GeoPackage file holds timestamps; compare what it holds instead
            assert second == first
        again = importers.import_bytes(second, f"y.{fmt}")
    # the model read back is the model written, value for value
    assert events.to_geojson(back.events) == events.to_geojson(ev)
    assert events.to_geojson(again.events) == events.to_geojson(ev)
    assert back.events["sources"].tolist() == ev["sources"].tolist()


@pytest.mark.parametrize("fmt", ["csv", "geojson", "parquet"])
@settings_(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ev=event_tables())
def test_text_export_import_export_is_identical(fmt, ev):
    """CSV, GeoJSON and GeoParquet: export → import → export gives the same bytes, and the
    events read back equal those written."""
    _assert_round_trip(ev, fmt)


def _dataset_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@settings_(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ev=event_tables())
def test_partitioned_dataset_export_import_export_is_identical(ev):
    """A folder partitioned by year: every file of the second export equals the first, and
    the events read back equal those written (a folder lists rows partition by partition)."""
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / "one", Path(tmp) / "two"
        columnar.write_dataset(ev, first, partition_by="year")
        back = importers.import_file(first)
        assert back.rejected == [] and back.row_label == "row"
        columnar.write_dataset(back.events, second, partition_by="year")
        assert _dataset_files(second) == _dataset_files(first)
        again = importers.import_file(second)

    def key(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.sort_values("event_id_cnty", kind="stable").reset_index(drop=True)
    assert events.to_geojson(key(back.events)) == events.to_geojson(key(ev))
    assert events.to_geojson(again.events) == events.to_geojson(back.events)


@settings_(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ev=event_tables())
def test_geopackage_export_import_export_is_identical(ev):
    _assert_round_trip(ev, "gpkg")


def test_one_import_limit_in_decimal_megabytes_like_the_page_uploader():
    assert settings.MAX_IMPORT_BYTES == settings.MAX_IMPORT_MB * 1_000_000
    with pytest.raises(ImportRejected) as exc:
        importers.import_bytes(b" " * (settings.MAX_IMPORT_BYTES + 1), "big.csv")
    assert str(exc.value) == (f"The file is 50 MB ({settings.MAX_IMPORT_BYTES + 1:,} bytes); the "
                              "import limit is 50 MB (50,000,000 bytes).")


def test_every_row_with_a_trailing_separator_is_accepted():
    rows = "".join(f"2024-01-16,26.{i:04d},63.5,n{i},\n" for i in range(3000))
    res = _csv("date,lat,lon,notes\n" + rows)
    assert res.rejected == [] and len(res.events) == 3000
    assert res.events["notes"].iloc[-1] == "n2999"


def test_every_curated_event_imports_including_ship_attacks_at_sea():
    from dashboard import events as model

    res = importers.import_file(model.curated_path())
    assert res.rejected == []
    assert len(res.events) == len(model.load_curated_events())


def test_a_stated_uncertainty_widens_the_country_check(tmp_path):
    # 18.5 N 45.0 E is on land in Saudi Arabia, about 100 km north of Yemen
    path = tmp_path / "far.csv"
    path.write_text("event_date,latitude,longitude,country,uncertainty_km\n"
                    "2024-01-15,18.5,45.0,Yemen,150\n"
                    "2024-01-15,18.5,45.0,Yemen,\n", encoding="utf-8")
    res = importers.import_file(path)
    assert len(res.events) == 1 and res.events["uncertainty_km"].iloc[0] == 150
    assert len(res.rejected) == 1 and "more than 50 km outside Yemen" in res.rejected[0].reason


def test_points_at_sea_may_lie_within_200_nautical_miles_of_their_country(tmp_path):
    # Gulf of Aden ~100 km off Yemen: accepted; the Somali Sea ~900 km away: rejected
    path = tmp_path / "sea.csv"
    path.write_text("event_date,latitude,longitude,country\n"
                    "2024-01-15,13.0,48.0,Yemen\n"
                    "2024-01-15,8.0,55.0,Yemen\n", encoding="utf-8")
    res = importers.import_file(path)
    assert len(res.events) == 1 and res.events["latitude"].iloc[0] == 13.0
    assert [r.row for r in res.rejected] == [3]
    assert "more than 370.4 km outside Yemen" in res.rejected[0].reason


# ------------------------------------------------------------------------- GeoParquet, Parquet
def _curated_parquet(path: Path) -> bytes:
    columnar.write_geoparquet(events.load_curated_events(), path)
    return path.read_bytes()


def _bad_parquet(kind: str, tmp: Path) -> Path:
    """A file or folder that is not a readable GeoParquet source, by kind."""
    good = _curated_parquet(tmp / "good.parquet.src")
    if kind == "truncated":
        (tmp / "t.parquet").write_bytes(good[: len(good) // 2])
        return tmp / "t.parquet"
    if kind == "corrupt":
        broken = bytearray(good)
        broken[200:600] = b"\xff" * 400  # column data destroyed, footer intact
        (tmp / "c.parquet").write_bytes(bytes(broken))
        return tmp / "c.parquet"
    if kind == "not_parquet":
        (tmp / "n.parquet").write_text("date,lat,lon\n2024-01-16,26,63\n")
        return tmp / "n.parquet"
    if kind == "empty_file":
        (tmp / "e.parquet").write_bytes(b"")
        return tmp / "e.parquet"
    folder = tmp / kind
    folder.mkdir()
    if kind == "mixed_folder":
        (folder / "part-0.parquet").write_bytes(good)
        (folder / "readme.txt").write_text("notes")
    if kind == "not_a_dataset":
        (folder / "misc").mkdir()
        (folder / "misc" / "part-0.parquet").write_bytes(good)
    if kind == "damaged_in_folder":
        (folder / "year=2024").mkdir()
        (folder / "year=2024" / "part-0.parquet").write_bytes(good[:-10])
    return folder


@pytest.mark.parametrize(("kind", "message"), [
    ("truncated", "t.parquet is a damaged or truncated Parquet file"),
    ("corrupt", "c.parquet cannot be read as Parquet"),
    ("not_parquet", "n.parquet is not a Parquet file"),
    ("empty_file", "The file is empty."),
    ("empty_folder", "The folder empty_folder holds no .parquet files"),
    ("mixed_folder", "holds 'readme.txt', which is not a .parquet file"),
    ("not_a_dataset", "its subfolder 'misc' is not a partition such as year=2024"),
    ("damaged_in_folder", "damaged_in_folder/year=2024/part-0.parquet is a damaged or trunc"),
])
def test_an_unreadable_parquet_file_or_folder_is_one_sentence(tmp_path, kind, message, capfd):
    with pytest.raises(ImportRejected) as exc:
        importers.import_file(_bad_parquet(kind, tmp_path))
    text = str(exc.value)
    assert message in text and "\n" not in text and len(text) < 200
    assert capfd.readouterr().err == ""  # no library warning


def test_parquet_bytes_that_are_not_parquet_are_refused_like_a_fake_geopackage():
    with pytest.raises(ImportRejected, match=r"named \.parquet but is not a Parquet file"):
        importers.import_bytes(b"date,lat,lon\n2024-01-16,26,63\n", "x.parquet")
    with pytest.raises(ImportRejected, match="damaged or truncated"):
        importers.import_bytes(b"PAR1" + b"\x00" * 40, "x.parquet")


def test_a_dataset_folder_counts_all_its_files_against_the_size_limit(tmp_path, monkeypatch):
    folder = tmp_path / "ds"
    columnar.write_dataset(events.load_curated_events(), folder, partition_by="year")
    sizes = [p.stat().st_size for p in folder.rglob("*.parquet")]
    assert len(sizes) >= 2
    monkeypatch.setattr(settings, "MAX_IMPORT_BYTES", sum(sizes) - 1)
    with pytest.raises(ImportRejected, match=r"The dataset folder ds is .* the import limit is"):
        importers.import_file(folder)
    monkeypatch.setattr(settings, "MAX_IMPORT_BYTES", sum(sizes))
    assert len(importers.import_file(folder).events) == len(events.load_curated_events())


def test_parquet_file_bytes_and_folder_give_the_same_events(tmp_path):
    curated = events.load_curated_events()
    data = _curated_parquet(tmp_path / "c.parquet")
    from_bytes = importers.import_bytes(data, "c.geoparquet").events
    from_file = importers.import_file(tmp_path / "c.parquet").events
    columnar.write_dataset(curated, tmp_path / "by_country", partition_by="country")
    from_folder = importers.import_file(tmp_path / "by_country").events
    assert events.to_geojson(from_bytes) == events.to_geojson(curated)
    assert events.to_geojson(from_file) == events.to_geojson(curated)
    ordered = from_folder.set_index("event_id_cnty").loc[curated["event_id_cnty"]]
    assert events.to_geojson(ordered.reset_index()) == events.to_geojson(curated)


def test_country_partitions_with_awkward_names_round_trip(tmp_path):
    names = ["Côte d'Ivoire", "a/b", "x=y", "2024", "", "ایران", "100%", "  spaced "]
    rows = [{"event_id_cnty": f"K{i}", "event_date": "2024-01-16", "latitude": 10.0 + i,
             "longitude": 20.0, "country": f"Zz{name}" if i % 2 else name}
            for i, name in enumerate(names)]
    ev = events.normalise(pd.DataFrame(rows))
    columnar.write_dataset(ev, tmp_path / "ds", partition_by="country")
    back = importers.import_file(tmp_path / "ds")
    assert back.rejected == []
    got = back.events.set_index("event_id_cnty").loc[ev["event_id_cnty"]].reset_index()
    assert got["country"].tolist() == ev["country"].tolist()
    assert events.to_geojson(got) == events.to_geojson(ev)


def _parquet_table(tmp: Path, name: str, table) -> Path:
    import pyarrow.parquet as pq

    pq.write_table(table, tmp / name)
    return tmp / name


def test_hostile_parquet_values_are_row_rejections_with_a_reason(tmp_path):
    """Bad values inside a readable Parquet file reject their row with the same reasons as a
    CSV file (one sentence, "row N:"), the other rows are imported."""
    import datetime as dt

    import pyarrow as pa

    n = 9
    table = pa.table({
        "event_id_cnty": ["a", "b", "c", "d", "e", "f", "g", "h", "a"],
        "event_date": pa.array([dt.datetime(2024, 1, 16)] * 5 + [dt.datetime(3000, 1, 1)]
                               + [dt.datetime(2024, 1, 16)] * 3, pa.timestamp("us")),
        "latitude": [26.5, 26.5, 26.5, 26.5, 26.5, 26.5, 95.0, 26.5, 26.5],
        "longitude": [63.5] * n,
        "notes": pa.array([b"ok", b"\xff\xfe bad", b"a\x00b", b"x", b"y", b"z", b"w", b"v",
                           b"u"], pa.binary()),
        "fatalities": [1.0, 1, 1, float("inf"), 1, 1, 1, -2, 1],
        "sources": pa.array([["s"], ["t"], [], ["x\x00"], None, [], [], [], []],
                            pa.list_(pa.string())),
    })
    res = importers.import_file(_parquet_table(tmp_path, "h.parquet", table))
    assert res.events["event_id_cnty"].tolist() == ["a", "e"]
    reasons = {r.row: r.reason for r in res.rejected}
    assert "notes is not valid UTF-8 text" in reasons[2]
    assert "notes contains a NUL character" in reasons[3]
    assert "sources contains a NUL character" in reasons[4]
    assert "outside the dates this tool can hold" in reasons[6]
    assert "latitude 95 is outside -90..90" in reasons[7]
    assert "fatalities '-2.0' is not a count of people" in reasons[8]
    assert "event id 'a' repeats row 1" in reasons[9]
    assert all(r.reason.startswith(f"row {r.row}: ") and "\n" not in r.reason
               for r in res.rejected)


def test_bad_geoparquet_geometries_are_row_rejections(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = gpd.GeoDataFrame(
        {"event_date": ["2024-01-16"] * 4, "notes": ["pt", "line", "none", "wkb"]},
        geometry=[shapely.Point(63.5, 26.5), shapely.LineString([(63, 26), (64, 27)]), None,
                  shapely.Point(63.6, 26.6)], crs="EPSG:4326")
    path = tmp_path / "g.parquet"
    frame.to_parquet(path)
    table = pq.read_table(path)
    wkb = table.column("geometry").to_pylist()
    wkb[3] = b"\x01\x01\x00\x00"  # cut short: not valid WKB
    table = table.set_column(table.column_names.index("geometry"), "geometry",
                             pa.array(wkb, pa.binary()))
    pq.write_table(table, path)
    res = importers.import_file(path)
    assert res.events["notes"].tolist() == ["pt"]
    reasons = {r.row: r.reason for r in res.rejected}
    assert reasons == {2: "row 2: the geometry is a LineString, not a Point",
                       3: "row 3: the geometry is empty",
                       4: "row 4: the geometry is not valid WKB"}


def test_plain_parquet_with_lat_lon_columns_reads_like_the_same_csv(tmp_path):
    """No GeoParquet metadata: columns named as in a CSV header (any case) give the same
    events and the same rejections (numbered by row instead of by line)."""
    frame = pd.DataFrame({"Date": ["2024-01-16", "bad", "2024-01-17"],
                          "LAT": ["26.5", "26.6", "26.7"], "lon": ["63.5", "63.6", "63.7"],
                          "notes": ["one", "two", "=1+1"]})
    frame.to_parquet(tmp_path / "p.parquet")
    pq_res = importers.import_file(tmp_path / "p.parquet")
    csv_res = importers.import_bytes(frame.to_csv(index=False).encode(), "p.csv")
    assert events.to_geojson(pq_res.events) == events.to_geojson(csv_res.events)
    assert [r.reason.replace("row 2", "line 3") for r in pq_res.rejected] == \
        [r.reason for r in csv_res.rejected]
    typed = pd.DataFrame({"event_date": pd.to_datetime(["2024-01-16"]), "y": [26.5],
                          "x": [63.5], "fatalities": pd.array([3], "Int32")})
    typed.to_parquet(tmp_path / "typed.parquet")
    got = importers.import_file(tmp_path / "typed.parquet").events
    assert got[["latitude", "longitude", "fatalities"]].iloc[0].tolist() == [26.5, 63.5, 3.0]
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "none.parquet")
    with pytest.raises(ImportRejected, match="has no GeoParquet geometry and no latitude"):
        importers.import_file(tmp_path / "none.parquet")


def test_a_projected_geoparquet_is_transformed_like_a_geopackage(tmp_path, capfd):
    lats, lons = [26.5, 27.25], [63.5, 62.75]
    _points(lats, lons).to_crs("EPSG:32641").to_parquet(tmp_path / "utm.parquet")
    res = importers.import_file(tmp_path / "utm.parquet")
    assert res.rejected == []
    np.testing.assert_allclose(res.events["latitude"], lats, atol=1e-9)
    np.testing.assert_allclose(res.events["longitude"], lons, atol=1e-9)
    _points(lats, lons).to_parquet(tmp_path / "arrow.parquet", geometry_encoding="geoarrow")
    native = importers.import_file(tmp_path / "arrow.parquet").events
    assert native["latitude"].tolist() == lats and native["longitude"].tolist() == lons
    metres = _points(lats, lons).to_crs("EPSG:32641").set_crs(None, allow_override=True)
    metres.to_parquet(tmp_path / "nocrs.parquet")
    with pytest.raises(ImportRejected, match=r"nocrs\.parquet has no coordinate reference system"):
        importers.import_file(tmp_path / "nocrs.parquet")
    assert capfd.readouterr().err == ""


# --------------------------------------------------------------------- streamed CSV (on disk)
def _both_ways(path: Path, monkeypatch) -> tuple[importers.ImportResult, importers.ImportResult]:
    """(streamed block by block, read whole) for the same file on disk."""
    monkeypatch.setattr(importers, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(importers, "STREAM_BLOCK_BYTES", 4096)
    streamed = importers.import_file(path)
    whole = importers.import_bytes(path.read_bytes(), path.name)
    return streamed, whole


def _same_result(a: importers.ImportResult, b: importers.ImportResult) -> None:
    assert a.rejected == b.rejected and a.row_label == b.row_label
    pd.testing.assert_frame_equal(pd.DataFrame(a.events), pd.DataFrame(b.events),
                                  check_exact=True)


@pytest.mark.parametrize("path", sorted((DATA).glob("*.csv")), ids=lambda p: p.name)
def test_every_csv_of_the_corpus_reads_the_same_streamed_or_whole(path, monkeypatch):
    _same_result(*_both_ways(path, monkeypatch))


def test_a_large_csv_streams_in_blocks_with_lines_reasons_and_ids_across_blocks(tmp_path,
                                                                              monkeypatch):
    """Many 4 KB blocks: quoted line breaks shift later line numbers, blank rows are skipped,
    an id accepted in one block and repeated in a later one is rejected there, formula guards
    are removed; the result equals the one-pass reader's and the file is never read whole."""
    rows = ["event_id_cnty,event_date,latitude,longitude,notes,fatalities"]
    for i in range(3000):
        note = {0: '"two\nlines"', 1: "'=1+1", 2: "plain"}[i % 3]
        date = "soon" if i % 97 == 0 else "2024-01-16"
        ident = "DUP" if i in (5, 2500) else f"R{i}"
        rows.append(f"{ident},{date},{26 + i / 10_000:.4f},63.5,{note},{i % 4}")
        if i % 400 == 0:
            rows.append(" , , , , , ")
    path = tmp_path / "big.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert path.stat().st_size > 20 * 4096
    streamed, whole = _both_ways(path, monkeypatch)
    _same_result(streamed, whole)
    assert any("event id 'DUP' repeats line 10" in r.reason for r in streamed.rejected)
    assert sum("is not a date" in r.reason for r in streamed.rejected) == 31
    assert streamed.events["notes"].iloc[:3].tolist() == ["=1+1", "plain", "two\nlines"]

    def no_whole_read(*_a, **_k):
        raise AssertionError("the file was read whole")
    monkeypatch.setattr(Path, "read_bytes", no_whole_read)
    monkeypatch.setattr(importers, "_read_csv", no_whole_read)
    _same_result(importers.import_file(path), whole)


@settings_(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
@given(ev=event_tables(), copies=st.integers(1, 40))
def test_streamed_csv_export_import_is_exact(ev, copies):
    """Our CSV export, repeated to span many blocks (ids made unique), streamed from disk:
    the same events as the one-pass reader and as written."""
    big = pd.concat([ev.assign(event_id_cnty=ev["event_id_cnty"] + f"#{k}")
                     for k in range(copies)], ignore_index=True)
    big = events.normalise(big)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "e.csv"
        path.write_text(events.to_csv(big), encoding="utf-8", newline="")
        with pytest.MonkeyPatch.context() as mp:
            streamed, whole = _both_ways(path, mp)
    _same_result(streamed, whole)
    assert streamed.rejected == []
    assert events.to_geojson(streamed.events) == events.to_geojson(big)


@pytest.mark.parametrize("text", ["date,lat,lon\n", "date,lat,lon\n , , \n\n", "date,lat,lon",
                                  "date,lat,lon\nsoon,1,2\n", "date,lat,lon\n2024-01-16,1\n",
                                  'date,lat,lon\n2024-01-16,1,"2\n',
                                  "date;lat;lon\n2024-01-16;1;2\n"])
def test_small_and_odd_csv_files_read_the_same_streamed_or_whole(tmp_path, monkeypatch, text):
    """Header only, blank rows, no final newline, a short record, an open quote, another
    separator: the same events, reasons or one-sentence refusal either way."""
    path = tmp_path / "odd.csv"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(importers, "STREAM_MIN_BYTES", 0)
    outcomes = []
    for read in (lambda: importers.import_file(path),
                 lambda: importers.import_bytes(path.read_bytes(), path.name)):
        try:
            outcomes.append(read())
        except ImportRejected as err:
            outcomes.append(str(err))
    if isinstance(outcomes[0], str):
        assert outcomes[0] == outcomes[1]
    else:
        _same_result(*outcomes)


def test_a_quoted_cr_lf_at_arrows_4_mb_block_boundary_keeps_its_line_feed(tmp_path, monkeypatch):
    """Arrow's CSV chunker dropped the LF of a quoted CR LF that straddles a block boundary
    (4 MB blocks before): the text changed silently. Whole and streamed reads keep it."""
    block = 4 << 20
    rows = [f"2024-01-16,26.5,63.5,row {i:07d}\n" for i in range(block // 32)]
    body = "event_date,lat,lon,notes\n" + "".join(rows[:(block - 200) // len(rows[0])])
    start = '2024-01-16,26.5,63.5,"cr'
    special = start + "p" * (block - 1 - len(body.encode()) - len(start)) + '\r\nlf"\n'
    data = (body + special + "".join(rows[-10:])).encode()
    assert data[block - 1:block + 1] == b"\r\n"
    res = importers.import_bytes(data, "crlf.csv")
    [kept] = [n for n in res.events["notes"] if n.startswith("cr")]
    assert kept.endswith("p\r\nlf") and res.rejected == []
    path = tmp_path / "crlf.csv"
    path.write_bytes(data)
    monkeypatch.setattr(importers, "STREAM_MIN_BYTES", 0)
    _same_result(importers.import_file(path), res)
