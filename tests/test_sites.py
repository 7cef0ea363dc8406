"""Tests for dashboard/sites.py: resolving sites, distances, matrix, nearest sites."""

from __future__ import annotations

import pytest
import shapely
from geographiclib.geodesic import Geodesic

from dashboard import events, settings, sites
from dashboard.errors import BadCoordinate, UnknownSite


@pytest.mark.parametrize("text", ["sabz-koh", "Sabz Koh", "SABZ KOH", "Koh-e-Sabz", "koh i sabz"])
def test_resolve_site_by_id_name_alias_any_case(text):
    assert sites.resolve_site(text).id == "sabz-koh"


def test_resolve_erbil_by_alternative_spelling():
    assert sites.resolve_site("Arbil").id == "erbil"


def test_resolve_typed_coordinate_is_lat_lon():
    site = sites.resolve_site("26.9667, 64.1")
    assert (site.lat, site.lon, site.kind) == (26.9667, 64.1, "coordinate")


def test_unknown_site_suggests_the_closest_names():
    with pytest.raises(UnknownSite) as exc:
        sites.resolve_site("Panjgor")
    assert "Panjgur" in exc.value.suggestions
    assert str(exc.value).startswith("Unknown site 'Panjgor'; did you mean")


def test_out_of_range_coordinate_is_bad_coordinate():
    with pytest.raises(BadCoordinate, match="Latitude 95"):
        sites.resolve_site("95,10")


def test_known_sites_include_places_and_curated_events():
    known = sites.known_sites()
    kinds = {s.kind for s in known}
    assert kinds == {"place", "event"}
    ids = {s.id for s in known}
    assert {"sabz-koh", "panjgur"} <= ids
    assert set(events.load_curated_events()["event_id_cnty"]) <= ids
    assert len(ids) == len(known)


def test_known_sites_work_without_an_events_layer(tmp_path, monkeypatch):

    for name in ("places.geojson",):
        (tmp_path / name).write_bytes((settings.GEODATA_DIR / name).read_bytes())
    monkeypatch.setattr(settings, "GEODATA_DIR", tmp_path)
    known = sites.known_sites()
    assert known and {s.kind for s in known} == {"place"}


def test_measure_distance_matches_geographiclib_and_draws_the_path():
    a, b = sites.resolve_site("Sabz Koh"), sites.resolve_site("Panjgur")
    res = sites.measure_distance(a, b)
    ref = Geodesic.WGS84.Inverse(a.lat, a.lon, b.lat, b.lon)
    assert res.distance_m == pytest.approx(ref["s12"], abs=1e-3)
    assert res.initial_bearing_deg == pytest.approx(ref["azi1"] % 360, abs=1e-9)
    d = res.to_dict()
    assert set(d) >= {"from", "to", "distance_m", "initial_bearing_deg", "final_bearing_deg",
                      "method"}
    assert d["from"]["name"] == "Sabz Koh" and "WGS84" in d["method"]
    xy = shapely.get_coordinates(res.path)
    assert tuple(xy[0]) == (a.lon, a.lat) and tuple(xy[-1]) == pytest.approx((b.lon, b.lat))
    assert len(xy) >= res.distance_m / 1000  # ≤ 1 km between vertices


def test_distance_matrix_in_metres_by_name():
    chosen = [sites.resolve_site(s) for s in ("Panjgur", "Saravan", "Turbat")]
    m = sites.distance_matrix(chosen)
    assert list(m.index) == ["Panjgur", "Saravan", "Turbat"]
    assert m.loc["Panjgur", "Saravan"] == pytest.approx(
        sites.measure_distance(chosen[0], chosen[1]).distance_m)



def test_nearest_site_and_sites_within():
    site, d = sites.nearest_site(26.97, 64.09)
    assert site.id == "panjgur" and d < 2_000
    near = sites.sites_within(sites.resolve_site("Panjgur"), 100)
    assert [s.id for s, _ in near][:1] and all(m <= 100_000 for _, m in near)
    assert "sabz-koh" in {s.id for s, _ in near}


def test_zero_distance_has_no_bearing():
    panjgur = sites.resolve_site("Panjgur")
    res = sites.measure_distance(panjgur, panjgur)
    assert res.distance_m == 0.0 and not res.bearing_defined
    d = res.to_dict()
    assert d["initial_bearing_deg"] is None and d["final_bearing_deg"] is None
    assert d["distance_km"] == 0.0
    typed = sites.measure_distance(sites.resolve_site("26.9667,64.1"), panjgur)
    assert typed.distance_m == 0.0 and not typed.bearing_defined


def test_nonzero_distance_keeps_its_bearing():
    res = sites.measure_distance(sites.resolve_site("Panjgur"), sites.resolve_site("Saravan"))
    assert res.bearing_defined and 0 <= res.initial_bearing_deg < 360
    assert res.to_dict()["initial_bearing_deg"] == pytest.approx(res.initial_bearing_deg)


@pytest.mark.parametrize("text", ["-33.86,151.21", "-33.86, -151.21", "+10,-0.5"])
def test_negative_coordinates_resolve(text):
    site = sites.resolve_site(text)
    lat, lon = (float(p) for p in text.split(","))
    assert (site.lat, site.lon) == (lat, lon)
