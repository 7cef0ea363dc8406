"""Tests for dashboard/constraints.py: every record's point and disc against its sources."""

from __future__ import annotations

import re

import numpy as np
import pytest
from geographiclib.geodesic import Geodesic
from shapely.geometry import LineString, Point, box

from dashboard import constraints as cons
from dashboard.errors import DataError

WGS84 = Geodesic.WGS84
SRC = "https://example.org/report"


def _ctx() -> cons.Context:
    """A synthetic province (lon 60..61, lat 25..26), a country, a N–S border at lon 62 and
    two places."""
    return cons.Context(
        provinces={"XX-01": box(60.0, 25.0, 61.0, 26.0)},
        countries={"XXX": box(59.0, 24.0, 63.0, 27.0)},
        border=LineString([(62.0, 24.0), (62.0, 27.0)]),
        places={"town": (25.5, 60.5), "far": (30.0, 70.0)},
    )


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return WGS84.Inverse(lat1, lon1, lat2, lon2)["s12"] / 1000.0


def _point_at(lat: float, lon: float, azimuth: float, km: float) -> tuple[float, float]:
    g = WGS84.Direct(lat, lon, azimuth, km * 1000.0)
    return g["lat2"], g["lon2"]


def test_disc_that_misses_the_province_is_reported_with_both_distances():
    lat, lon = 25.5, 59.0  # west of the province edge at lon 60
    gap = _km(25.5, 59.0, 25.5, 60.0)  # nearest edge point lies on the same parallel (±0.1 km)
    lines = cons.check_record("EV-1", lat, lon, 20.0,
                              [{"kind": "within", "target": "XX-01", "source": SRC}], _ctx())
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith("EV-1: within XX-01 — point is ")
    out = float(line.split("point is ")[1].split(" km")[0])
    miss = float(line.split("disc misses by ")[1].split(" km")[0])
    assert out == pytest.approx(gap, abs=0.15)
    assert miss == pytest.approx(gap - 20.0, abs=0.15)


def test_point_outside_needs_outside_ok_even_when_its_disc_reaches():
    c = {"kind": "within", "target": "XX-01", "source": SRC}
    lat, lon = 25.5, 59.9  # ~10 km west of the province
    lines = cons.check_record("EV-2", lat, lon, 25.0, [c], _ctx())
    assert len(lines) == 1 and "no outside_ok" in lines[0] and "misses" not in lines[0]
    ok = {**c, "outside_ok": "a second source places it across the provincial line"}
    assert cons.check_record("EV-2", lat, lon, 25.0, [ok], _ctx()) == []
    # outside_ok never excuses a disc that misses
    assert "disc misses" in cons.check_record("EV-2", lat, lon, 5.0, [ok], _ctx())[0]


def test_point_inside_passes_and_country_codes_work():
    cs = [{"kind": "within", "target": "XX-01", "source": SRC},
          {"kind": "within", "target": "XXX", "source": SRC}]
    assert cons.check_record("EV-3", 25.5, 60.5, 1.0, cs, _ctx()) == []


def test_road_distance_only_bounds_the_straight_line_from_above():
    lat, lon = _point_at(25.5, 60.5, 90.0, 60.0)  # 60 km (straight) from "town"
    road = {"kind": "distance_to", "target": "place:town", "km": [80, 90], "measure": "road",
            "source": SRC}
    straight = {**road, "measure": "straight"}
    unspecified = {**road, "measure": "unspecified"}
    assert cons.check_record("PL-1", lat, lon, 1.0, [road], _ctx()) == []
    assert cons.check_record("PL-1", lat, lon, 1.0, [unspecified], _ctx()) == []
    lines = cons.check_record("PL-1", lat, lon, 1.0, [straight], _ctx())
    assert len(lines) == 1 and "point is 20.0 km outside; disc misses by 19.0 km" in lines[0]
    # a road figure is still an upper bound: 95 km straight cannot be 80–90 km by road
    far_lat, far_lon = _point_at(25.5, 60.5, 90.0, 95.0)
    lines = cons.check_record("PL-1", far_lat, far_lon, 1.0, [road], _ctx())
    assert "point is 5.0 km outside" in lines[0]
    assert cons.parse(road).straight_km == (0.0, 90.0)
    assert cons.parse(straight).straight_km == (80.0, 90.0)


def test_unknown_codes_and_places_are_violations_not_crashes():
    cs = [{"kind": "within", "target": "YE-XX", "source": SRC},
          {"kind": "near", "target": "place:atlantis", "km": [0, 5], "source": SRC}]
    lines = cons.check_record("EV-4", 25.5, 60.5, 10.0, cs, _ctx())
    assert len(lines) == 2
    assert lines[0].startswith("EV-4: ") and "'YE-XX' is not a province" in lines[0]
    assert "'place:atlantis' names no place" in lines[1]


@pytest.mark.parametrize(("obj", "message"), [
    ({"kind": "inside", "target": "XX-01", "source": SRC}, "kind 'inside'"),
    ({"kind": "within", "source": SRC}, "no target"),
    ({"kind": "within", "target": "XX-01"}, "no source"),
    ({"kind": "distance_to", "target": "border", "km": [5], "source": SRC}, "km: [LOW, HIGH]"),
    ({"kind": "distance_to", "target": "border", "km": [9, 3], "source": SRC}, "LOW ≤ HIGH"),
    ({"kind": "distance_to", "target": "border", "km": "45", "source": SRC}, "km: [LOW, HIGH]"),
    ({"kind": "distance_to", "target": "border", "km": [1, 2], "measure": "flight",
      "source": SRC}, "measure 'flight'"),
    ({"kind": "distance_to", "target": "IR-13", "km": [1, 2], "source": SRC}, "'border' or"),
    ({"kind": "near", "target": "border", "km": [0, 2], "source": SRC}, "place:<id>"),
    ("within XX-01", "must be an object"),
])
def test_malformed_constraints_are_one_sentence(obj, message):
    with pytest.raises(cons.ConstraintError, match=re.escape(message)) as info:
        cons.parse(obj, "EV-9")
    assert "\n" not in str(info.value) and str(info.value).startswith("EV-9: ")
    assert isinstance(info.value, DataError)


def test_band_distances_to_a_place_match_geographiclib_exactly():
    rng = np.random.default_rng(7)
    ctx = _ctx()
    for _ in range(40):
        lat, lon = _point_at(25.5, 60.5, float(rng.uniform(0, 360)), float(rng.uniform(1, 300)))
        low = float(rng.uniform(0, 150))
        high = low + float(rng.uniform(0, 100))
        c = cons.parse({"kind": "distance_to", "target": "place:town", "km": [low, high],
                        "measure": "straight", "source": SRC})
        d = _km(lat, lon, 25.5, 60.5)
        expected = max(d - high, low - d, 0.0)
        got = cons.evaluate("R", lat, lon, 10.0, c, ctx)
        assert got.outside_km == pytest.approx(expected if expected > cons.EDGE_KM else 0.0,
                                               abs=1e-6)
        assert got.disc_miss_km == pytest.approx(max(got.outside_km - 10.0, 0.0), abs=1e-6)


def test_border_band_on_both_sides():
    ctx = _ctx()
    band = {"kind": "distance_to", "target": "border", "km": [35, 55], "measure": "straight",
            "source": SRC}
    # 10 km west of the N–S border line: 25 km too close (to 0.1 % of the band's low edge)
    lat, lon = _point_at(25.5, 62.0, 270.0, 10.0)
    got = cons.evaluate("B", lat, lon, 5.0, cons.parse(band), ctx)
    assert got.outside_km == pytest.approx(25.0, abs=35 * cons.BUFFER_REL_ERROR + 0.01)
    # 80 km west: 25 km too far, exactly
    lat, lon = _point_at(25.5, 62.0, 270.0, 80.0)
    got = cons.evaluate("B", lat, lon, 30.0, cons.parse(band), ctx)
    assert got.outside_km == pytest.approx(25.0, abs=0.01)
    assert got.disc_miss_km == 0.0 and not got.ok  # the disc reaches; the point needs outside_ok
    # 45 km west: inside
    lat, lon = _point_at(25.5, 62.0, 270.0, 45.0)
    assert cons.evaluate("B", lat, lon, 1.0, cons.parse(band), ctx).outside_km == 0.0


def test_region_and_coverage():
    ctx = _ctx()
    disc_region = ctx.region(cons.parse({"kind": "near", "target": "place:town", "km": [0, 30],
                                         "source": SRC}))
    assert disc_region.contains(Point(60.5, 25.5))
    assert cons.coverage(disc_region, 25.5, 60.5, 40.0) == pytest.approx(1.0)
    assert cons.coverage(disc_region, 30.0, 70.0, 40.0) == 0.0
    # a disc of the same radius, offset by one radius, covers about 39 % (lens of two circles)
    lat, lon = _point_at(25.5, 60.5, 0.0, 30.0)
    assert cons.coverage(disc_region, lat, lon, 30.0) == pytest.approx(0.391, abs=0.01)
    ring = ctx.region(cons.parse({"kind": "distance_to", "target": "place:town", "km": [20, 30],
                                  "measure": "straight", "source": SRC}))
    assert not ring.contains(Point(60.5, 25.5))


def test_committed_catalogues_satisfy_their_constraints():
    """The committed events and places (scripts/*_catalog.json) against geodata/."""
    events, places = cons.load_catalogs()
    ctx = cons.Context.from_geodata(places=places)
    assert cons.check_all(events, places, ctx) == []


def test_committed_layers_carry_the_constraints():
    from dashboard import layers

    _, places = cons.load_catalogs()
    layer = layers.load_places().set_index("id")
    for p in places:
        want = [cons.parse(c, p["id"]).to_dict() for c in p.get("constraints") or []]
        assert list(layer.loc[p["id"], "constraints"] or []) == want, p["id"]
