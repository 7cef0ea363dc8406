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
