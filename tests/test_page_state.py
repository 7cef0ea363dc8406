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


def test_parse_radii_sorts_dedupes_and_rejects_bad_input():
    assert parse_radii("50, 10;10 100") == (10.0, 50.0, 100.0)
    assert parse_radii("") == ()
    with pytest.raises(ValueError, match="'x'"):
        parse_radii("10,x")
    with pytest.raises(ValueError, match="outside"):
        parse_radii("-5")
    with pytest.raises(ValueError, match="at most"):
        parse_radii(",".join(str(i) for i in range(1, 20)))
