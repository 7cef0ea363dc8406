"""Permalink state: round trip through the query string, and tolerance of bad links."""

import datetime as dt

import pytest

from dashboard.page_state import DEFAULT_LAYERS, ViewState, from_query, parse_radii, to_query

TYPES = ["strike", "retaliation", "diplomatic"]
D0, D1 = dt.date(2024, 1, 3), dt.date(2024, 1, 31)


def test_default_state_gives_empty_query():
    assert to_query(ViewState(), all_types=TYPES) == {}


def test_state_round_trips_through_query():
    state = ViewState(
        layers=("border", "places"), basemap="osm", types=("strike",),
        start=dt.date(2024, 1, 16), end=dt.date(2024, 1, 18), site_a="sabz-koh",
        site_b="panjgur", matrix=("rask", "mand"), buffer_target="border", radii_km=(10.0, 50.0),
    )
    q = to_query(state, all_types=TYPES)
    assert q["radii"] == "10,50" and q["a"] == "sabz-koh" and q["types"] == "strike"
    back = from_query(q, event_types=TYPES, min_date=D0, max_date=D1)
    assert back == state


def test_bad_values_fall_back_to_defaults():
    q = {"layers": "border,<script>", "base": "evil", "types": "strike,nope",
         "from": "yesterday", "to": "2024-13-40", "radii": "10,abc"}
    s = from_query(q, event_types=TYPES, min_date=D0, max_date=D1)
    assert s.layers == ("border",)
    assert s.basemap == "vector"
    assert s.types == ("strike",)
    assert s.start is None and s.end is None
    assert s.radii_km == ()


def test_dates_are_clamped_and_ordered():
    s = from_query({"from": "2025-01-01", "to": "2023-01-01"}, min_date=D0, max_date=D1)
    assert (s.start, s.end) == (D0, D1)


def test_missing_layers_param_means_all_layers_and_list_params_accepted():
    s = from_query({"a": ["sabz-koh", "x"]})
    assert s.layers == DEFAULT_LAYERS and s.site_a == "sabz-koh"


def test_parse_radii_is_the_core_parser():
    from dashboard import analysis
    from dashboard.errors import BadParameter

    for text in ("50, 10;10 100", "25km; 50", "7.5"):
        assert parse_radii(text) == tuple(analysis.parse_radii_km(text))
    for bad in ("10,x", "-5", "", ",".join(str(i) for i in range(1, 20)), "1e999"):
        with pytest.raises(BadParameter) as page_err:
            parse_radii(bad)
        with pytest.raises(BadParameter) as core_err:
            analysis.parse_radii_km(bad)
        assert str(page_err.value) == str(core_err.value)


def test_filters_view_and_tab_round_trip_through_query():
    state = ViewState(event_types=("Battles", "Protests"), sub_event_types=("Armed clash",),
                      countries=("Iran",), actor="Jaish al-Adl", min_fatalities=3,
                      tab="Claims", center=(27.25, 62.5), zoom=8)
    q = to_query(state, all_types=TYPES)
    assert q["tab"] == "Claims" and q["c"] == "27.2500,62.5000" and q["z"] == "8"
    assert from_query(q, event_types=TYPES, min_date=D0, max_date=D1) == state


def test_bad_filter_view_and_tab_values_are_ignored():
    s = from_query({"tab": "Evil", "c": "95,10", "z": "99", "minfat": "many"})
    assert (s.tab, s.center, s.zoom, s.min_fatalities) == ("Measure", None, None, 0)
