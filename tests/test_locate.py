"""Tests for dashboard/locate.py: constraint geolocation."""

from __future__ import annotations

import pytest
from geographiclib.geodesic import Geodesic
from shapely.geometry import Point

from dashboard import analysis, locate
from dashboard.errors import BadParameter


def test_locate_sabz_koh_region_contains_the_catalogue_point():
    res = locate.locate(locate.SABZ_KOH_CONSTRAINTS)
    assert res.region.is_valid and res.area_km2 > 100
    assert res.region.buffer(1e-9).contains(Point(63.4882, 26.3727))
    # every part's centroid lies in that part; the Panjgur ring and border band hold
    for part in res.parts:
        p = Point(part["centroid_lon"], part["centroid_lat"])
        assert res.region.contains(p)
        d_panjgur = Geodesic.WGS84.Inverse(26.9667, 64.1, p.y, p.x)["s12"] / 1000
        assert 75 <= d_panjgur <= 105
        d_border = analysis.distance_to_border([p.y], [p.x])["distance_m"].iloc[0] / 1000
        assert 35 - 1 <= d_border <= 55 + 1


def test_locate_without_solution_says_so():
    res = locate.locate([locate.FromSite("Panjgur", 10, 1), locate.Within("IR-13")])
    assert res.area_km2 == 0 and "No place" in res.summary


def test_locate_rejects_negative_distance():
    with pytest.raises(BadParameter):
        locate.locate([locate.FromBorder(-5, 1)])


def test_road_reading_only_bounds_the_straight_line():
    straight = locate.locate([locate.FromSite("Panjgur", 90, 15), locate.Within("PK-BA")])
    road = locate.locate([locate.FromSite("Panjgur", 90, 15, measure="road"),
                          locate.Within("PK-BA")])
    assert road.area_km2 > straight.area_km2
    assert road.region.buffer(1e-6).covers(straight.region)
    # Panjgur itself is 0 km away: impossible for the straight reading, allowed by road
    assert road.region.buffer(1e-9).contains(Point(64.1, 26.9667))
    assert not straight.region.contains(Point(64.1, 26.9667))
    assert "so at most 105 km in a straight line" in road.summary


def test_readings_report_the_share_of_each_region_inside_the_disc():
    from dashboard import constraints, sites

    site = sites.resolve_site("sabz-koh")
    out = {r.name: r for r in locate.readings("sabz-koh")}
    assert set(out) == {"straight-line", "road"}
    for r in out.values():
        assert r.radius_km == site.uncertainty_km
        fresh = constraints.coverage(r.result.region, site.lat, site.lon, site.uncertainty_km)
        assert r.disc_share == pytest.approx(fresh)
        assert r.lat_range[0] < r.lat_range[1]
        assert f"{r.disc_share:.0%}" in r.summary()
    # a disc far away covers nothing
    far = constraints.coverage(out["road"].result.region, 30.0, 70.0, 20.0)
    assert far == 0.0


def test_readings_come_from_the_place_catalogue_constraints():
    """The readings are the place's own constraints: the straight and road figures for the
    Panjgur distance are alternatives, the province and border band hold in both."""
    variants = locate.catalogue_readings("sabz-koh")
    assert set(variants) == {"straight-line", "road"}
    for name, cs in variants.items():
        kinds = sorted((c.kind, c.target, c.measure) for c in cs)
        assert ("within", "PK-BA", "straight") in kinds
        assert ("distance_to", "border", "straight") in kinds
        measure = "straight" if name == "straight-line" else "road"
        assert ("distance_to", "place:panjgur", measure) in kinds
    assert set(locate.catalogue_readings("panjgur")) <= {"as catalogued"}


def test_readings_report_the_district_band_share():
    out = {r.name: r for r in locate.readings("sabz-koh")}
    lo, hi = locate.PANJGUR_DISTRICT_LAT
    assert lo == pytest.approx(26.1483, abs=1e-4) and hi == pytest.approx(27.2986, abs=1e-4)
    for r in out.values():
        assert 0 < r.band_area_km2 <= r.result.area_km2
        assert 0.0 <= r.band_disc_share <= 1.0
        # the band's share, recomputed from the band region directly
        import shapely

        from dashboard import constraints, geodesy, sites

        s = sites.resolve_site("sabz-koh")
        part = shapely.intersection(r.result.region, shapely.box(-180, lo, 180, hi))
        assert geodesy.area_m2(part) / 1e6 == pytest.approx(r.band_area_km2, rel=1e-6)
        assert constraints.coverage(part, s.lat, s.lon, s.uncertainty_km) == pytest.approx(
            r.band_disc_share, abs=1e-6)
        assert "district's published extent" in r.summary()
