"""Tests for dashboard/analysis.py: distance to the border, buffers, what lies inside."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from dashboard import analysis, events, layers
from dashboard.errors import BadParameter


def test_distance_to_border_reports_side_and_nearest_point():
    res = analysis.distance_to_border([26.9667, 27.3708, 35.0], [64.1, 62.3342, 50.0])
    assert list(res["side"]) == ["Pakistan", "Iran", "Iran"]
    assert res["distance_m"].iloc[0] > 50_000
    border = layers.load_border().geometry
    near = shapely.points(res["nearest_lon"], res["nearest_lat"])
    assert np.all(shapely.distance(border, near) < 1e-6)


def test_point_on_the_border_is_on_the_border():
    x, y = shapely.get_coordinates(layers.load_border().geometry)[50]
    res = analysis.distance_to_border([y], [x])
    assert res["side"].iloc[0] == "on the border" and res["distance_m"].iloc[0] < 1.0


def test_buffer_target_border_province_and_site():
    for target, label in (("border", "Iran–Pakistan border"), ("pk-ba", "Balochistan (PK-BA)"),
                          ("Panjgur", "Panjgur")):
        gdf = analysis.buffer_target(target, [50, 10])
        assert list(gdf["radius_km"]) == [10, 50]
        assert set(gdf["target"]) == {label}
        assert gdf["area_km2"].iloc[0] < gdf["area_km2"].iloc[1]
        assert all(gdf.geometry.is_valid)


def test_buffer_radius_must_be_positive():
    with pytest.raises(BadParameter):
        analysis.buffer_target("border", [-5])
    with pytest.raises(BadParameter):
        analysis.buffer_target("border", "ten")


def test_points_within_counts_events_and_places_by_smallest_radius():
    rings = analysis.buffer_target("Panjgur", [100, 30])
    ev = events.load_curated_events()
    res = analysis.points_within(rings, ev, layers.load_places())
    members = res.members.set_index("id")
    assert members.loc["panjgur", "within_km"] == 30
    assert members.loc["sabz-koh", "within_km"] == 100  # 89.7 km away
    assert members.loc["CUR-PAK-001", "kind"] == "event"
    row100 = res.summary.set_index("radius_km").loc[100]
    assert row100["places"] >= 2 and row100["events"] >= 1
