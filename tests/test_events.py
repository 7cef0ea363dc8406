"""dashboard/events.py: the model, the curated events, GeoJSON/CSV output."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pandas as pd
import pytest

from dashboard import events, layers


@pytest.fixture(scope="module")
def curated():
    return events.load_curated_events()


def test_model_has_acled_31_columns_plus_ours():
    assert len(events.ACLED_COLUMNS) == 31
    assert events.EVENT_COLUMNS[-5:] == ("injured", "sources", "uncertainty_km", "category",
                                         "disputed")


def test_curated_events_validate_against_the_model(curated):
    assert list(curated.columns[:36]) == list(events.EVENT_COLUMNS)
    assert curated["event_id_cnty"].is_unique
    assert curated.crs.to_epsg() == 4326
    assert pd.api.types.is_datetime64_any_dtype(curated["event_date"])
    assert curated["latitude"].between(-90, 90).all()
    assert curated["longitude"].between(-180, 180).all()
    assert all(set(curated["geo_precision"]) <= {1, 2, 3} for _ in [0])
    assert set(curated["category"]) <= set(events.CATEGORIES)
    for etype, sub in zip(curated["event_type"], curated["sub_event_type"], strict=True):
        assert sub in events.EVENT_TYPES[etype]
    for srcs in curated["sources"]:
        assert srcs and all(s.startswith(("https://", "http://")) for s in srcs)
    assert (curated.geometry.x == curated["longitude"]).all()


@pytest.mark.parametrize(("date", "country", "category", "count"), [
    ("2024-01-16", "Pakistan", "strike", 1),      # Sabz Koh
    ("2024-01-18", "Iran", "retaliation", 1),     # Saravan
    ("2024-01-15", "Iraq", "strike", 1),          # Erbil
    ("2024-01-15", "Syria", "strike", 1),         # Idlib
    ("2024-01-03", "Iran", "attack", 1),          # Kerman
    ("2023-12-15", "Iran", "attack", 1),          # Rask
    ("2024-01-12", "Yemen", "strike", 5),         # US/UK strikes: one event per named location
    ("2024-01-17", "Pakistan", "diplomatic", 1),  # ambassador recalled
    ("2024-01-17", "Switzerland", "diplomatic", 1),  # Davos
    ("2024-01-17", "China", "diplomatic", 1),     # call for restraint
])
def test_required_events_are_present(curated, date, country, category, count):
    hit = curated[(curated["event_date"] == pd.Timestamp(date)) & (curated["country"] == country)
                  & (curated["category"] == category)]
    assert len(hit) == count


def test_sabz_koh_strike_has_casualties_by_whom_and_the_dispute(curated):
    row = curated.set_index("event_id_cnty").loc["CUR-PAK-001"]
    assert (row["fatalities"], row["injured"]) == (2, 3)
    assert "foreign ministry" in row["notes"] and "Jaish al-Adl" in row["disputed"]
    assert row["uncertainty_km"] == 109  # covers both readings of "90 km from Panjgur"


def test_every_curated_event_lies_in_its_province(curated):
    """By ISO 3166-2 code (names are ambiguous: Natural Earth has two "Sanaa")."""
    import json

    from dashboard import geodesy

    feats = json.loads(events.curated_path().read_text(encoding="utf-8"))["features"]
    codes = {f["properties"]["event_id_cnty"]: f["properties"].get("admin1_code") for f in feats}
    checked = 0
    for r in curated.itertuples():
        code = codes.get(r.event_id_cnty)
        if not r.admin1:
            continue
        assert code, (r.event_id_cnty, r.admin1)  # every named province carries its code
        poly = layers.province(code).geometry
        gap = geodesy.nearest_on_geometry([r.latitude], [r.longitude], poly)["distance_m"][0]
        assert poly.covers(r.geometry) or gap <= r.uncertainty_km * 1000, r.event_id_cnty
        checked += 1
    assert checked >= 20


def test_precision_helpers():
    assert events.distance_meaningful(1) and events.distance_meaningful(2)
    assert not events.distance_meaningful(3)
    assert events.precision_radius_km(3) > events.precision_radius_km(2) > \
        events.precision_radius_km(1)
    d = dt.date(2024, 1, 17)  # a Wednesday
    assert events.date_window(d, 1) == (d, d)
    assert events.date_window(d, 2) == (dt.date(2024, 1, 15), dt.date(2024, 1, 21))
    assert events.date_window(d, 3) == (dt.date(2024, 1, 1), dt.date(2024, 1, 31))


def test_precision_fields_are_not_swapped():
    """geo_precision drives the spatial radius; time_precision only the date window."""
    df = pd.DataFrame([{"event_date": "2024-01-17", "latitude": 26.0, "longitude": 63.0,
                        "geo_precision": 3, "time_precision": 1}])
    ev = events.normalise(df)
    assert ev["uncertainty_km"].iloc[0] == events.precision_radius_km(3)
    assert events.date_window(ev["event_date"].iloc[0].date(), ev["time_precision"].iloc[0]) == \
        (dt.date(2024, 1, 17), dt.date(2024, 1, 17))
    assert not events.distance_meaningful(ev["geo_precision"].iloc[0])


def _one(**kw):
    base = {"event_id_cnty": "T1", "event_date": "2024-01-16", "latitude": 26.5,
            "longitude": -63.25, "notes": "plain"}
    base.update(kw)
    return events.normalise(pd.DataFrame([base]))


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_neutralises_formulas_but_not_numbers(prefix):
    text = events.to_csv(_one(notes=f"{prefix}SUM(A1:A2)", actor1="-Armed group"))
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["notes"] == f"'{prefix}SUM(A1:A2)"
    assert row["actor1"] == "'-Armed group"
    assert row["longitude"] == "-63.25"  # a number stays a number


def test_csv_keeps_other_text_intact():
    text = events.to_csv(_one(notes='He said "no", then; left'))
    assert next(csv.DictReader(io.StringIO(text)))["notes"] == 'He said "no", then; left'


def test_html_is_preserved_as_data_in_geojson_and_csv():
    payload = "<img src=x onerror=alert(1)>"
    ev = _one(notes=payload)
    fc = json.loads(events.to_geojson(ev))
    assert fc["features"][0]["properties"]["notes"] == payload
    assert next(csv.DictReader(io.StringIO(events.to_csv(ev))))["notes"] == payload


def test_geojson_round_trip_keeps_values(curated):
    fc = json.loads(events.to_geojson(curated))
    back = events.from_features(fc["features"])
    assert json.loads(events.to_geojson(back)) == fc
    committed = json.loads(events.curated_path().read_text())["features"]
    model_props = [{k: f["properties"].get(k) for k in events.EVENT_COLUMNS} for f in committed]
    model_props = [{**p, "year": int(p["event_date"][:4])} for p in model_props]
    assert [f["properties"] for f in fc["features"]] == sorted(
        model_props, key=lambda p: (p["event_date"], p["event_id_cnty"]))


def _strict(text: str) -> dict:
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_geojson_export_is_strict_json_even_for_non_finite_numbers():
    df = pd.DataFrame([{"event_id_cnty": "T1", "event_date": "2024-01-16", "latitude": 26.5,
                        "longitude": 63.5, "fatalities": float("inf"), "injured": float("nan"),
                        "uncertainty_km": float("inf")},
                       {"event_id_cnty": "T2", "event_date": "2024-01-16", "latitude": 26.5,
                        "longitude": 63.5, "uncertainty_km": -4.0}])
    props = [f["properties"] for f in _strict(events.to_geojson(df))["features"]]
    assert props[0]["fatalities"] is None and props[0]["injured"] is None
    assert props[0]["uncertainty_km"] == props[1]["uncertainty_km"] == 2.0  # the default


def test_geojson_coordinates_keep_every_digit():
    fc = _strict(events.to_geojson(_one(latitude=26.123456789012, longitude=-63.000000001)))
    assert fc["features"][0]["geometry"]["coordinates"] == [-63.000000001, 26.123456789012]


@pytest.mark.parametrize(("text", "cell"), [("'quoted", "''quoted"), ("''", "'''"),
                                             ("'", "''"), ("'=1", "''=1"), ("it's", "it's")])
def test_csv_guard_also_marks_text_that_starts_with_the_guard(text, cell):
    row = next(csv.DictReader(io.StringIO(events.to_csv(_one(notes=text)))))
    assert row["notes"] == cell
    assert events.unneutralise_formula(cell) == text


def test_csv_sources_are_a_json_list():
    ev = _one(sources=["https://a.example/x;y", "two\nlines"])
    row = next(csv.DictReader(io.StringIO(events.to_csv(ev))))
    assert json.loads(row["sources"]) == ["https://a.example/x;y", "two\nlines"]


def test_dates_outside_the_model_range_become_missing_not_an_error():
    df = pd.DataFrame([{"event_date": d, "latitude": 1.0, "longitude": 1.0}
                       for d in ("2924-01-16", "1500-06-01", "2024-01-16")])
    ev = events.normalise(df)
    assert ev["event_date"].isna().tolist() == [True, True, False]


def test_rows_without_sources_share_one_empty_list_that_refuses_changes():
    out = events.normalise(pd.DataFrame({"latitude": [27.0, 27.1, 27.2],
                                         "longitude": [63.0, 63.1, 63.2],
                                         "event_date": ["2024-01-16"] * 3,
                                         "sources": [None, "", "https://a.example/x"]}))
    assert list(out["sources"]) == [[], [], ["https://a.example/x"]]
    assert out["sources"].iloc[0] is out["sources"].iloc[1] is events.NO_SOURCES
    with pytest.raises(TypeError):
        out["sources"].iloc[0].append("https://b.example/")
    assert events.NO_SOURCES == []
