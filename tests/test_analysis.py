"""Tests for dashboard/analysis.py: distance to the border, buffers, what lies inside."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from dashboard import analysis, events, geodesy, layers, settings
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


def _within_reference(rings, events_, places) -> dict[str, float]:
    """Smallest radius (km) holding each event/place id, tested point by point."""
    out: dict[str, float] = {}
    for frame, col in ((events_, "event_id_cnty"), (places, "id")):
        for pid, geom in zip(frame[col].astype(str), frame.geometry, strict=True):
            for r, ring in sorted(zip(rings["radius_km"], rings.geometry, strict=True)):
                if ring.contains(geom):
                    out[pid] = r
                    break
    return out


@hyp_settings(max_examples=15, deadline=None)
@given(radii=st.lists(st.sampled_from([5, 20, 45, 90, 300]), min_size=1, max_size=3,
                      unique=True),
       target=st.sampled_from(["border", "Panjgur", "Erbil", "pk-ba"]),
       seed=st.integers(0, 2**16))
def test_points_within_equals_a_point_by_point_test(radii, target, seed):
    """The bounding-box prefilter and names built for members only change nothing: counts and
    members equal a plain point-in-polygon test of every point (events far away included)."""
    rng = np.random.default_rng(seed)
    ev = events.load_curated_events()
    extra = ev.iloc[rng.integers(0, len(ev), 300)].copy()
    extra["event_id_cnty"] = [f"R{i}" for i in range(len(extra))]
    lon, lat = rng.uniform(40, 70, len(extra)), rng.uniform(20, 40, len(extra))
    extra = extra.set_geometry(gpd.points_from_xy(lon, lat, crs="EPSG:4326"))
    both = gpd.GeoDataFrame(pd.concat([ev, extra], ignore_index=True),
                            crs="EPSG:4326")
    places = layers.load_places()
    rings = analysis.buffer_target(target, radii)
    res = analysis.points_within(rings, both, places)
    ref = _within_reference(rings, both, places)
    assert dict(zip(res.members["id"], res.members["within_km"], strict=True)) == ref
    assert list(res.summary["radius_km"]) == sorted(radii)
    for r, n_ev, n_pl in res.summary.itertuples(index=False):
        assert n_ev == sum(1 for k, v in ref.items() if v <= r and k in set(both[
            "event_id_cnty"]))
        assert n_pl == sum(1 for k, v in ref.items() if v <= r and k in set(places["id"]))
    m = res.members
    assert list(m["within_km"]) == sorted(m["within_km"]) and res.total == len(m)
    for _, band in m.groupby("within_km"):  # events first, latest first; then places A-Z
        kinds = list(band["kind"])
        assert kinds == sorted(kinds)
        days = both.set_index("event_id_cnty").loc[band.loc[band["kind"] == "event", "id"],
                                                   "event_date"]
        assert list(days) == sorted(days, reverse=True)
        names = list(band.loc[band["kind"] == "place", "name"])
        assert names == sorted(names)
    # the same with the caller's coordinates and a limit: the first rows, the same totals
    limit = int(rng.integers(0, len(m) + 2))
    cut = analysis.points_within(rings, both, places, limit=limit,
                                 event_lonlat=(both.geometry.x.to_numpy(),
                                               both.geometry.y.to_numpy()))
    pd.testing.assert_frame_equal(cut.members, m.head(limit).reset_index(drop=True))
    pd.testing.assert_frame_equal(cut.summary, res.summary)
    assert cut.total == res.total


def test_points_within_with_nothing_to_test():
    rings = analysis.buffer_target("Panjgur", [10])
    res = analysis.points_within(rings, None, None)
    assert list(res.summary.itertuples(index=False)) == [(10.0, 0, 0)]
    assert list(res.members.columns) == ["kind", "id", "name", "within_km"]
    assert res.members.empty


# ------------------------------------------------------------------- THE radius parser
@pytest.mark.parametrize(("given", "radii"), [
    ("25, 50 100", [25.0, 50.0, 100.0]), ("50;25;50", [25.0, 50.0]), ("10km, 20 KM", [10, 20]),
    ([90, 45], [45.0, 90.0]), (5, [5.0]), ("0.5", [0.5]),
    (str(settings.MAX_RADIUS_KM), [settings.MAX_RADIUS_KM])])
def test_parse_radii_km_accepts_numbers_lists_and_text(given, radii):
    assert analysis.parse_radii_km(given) == radii


@pytest.mark.parametrize(("given", "fragment"), [
    ("ten", "not a number of km"), ("-5", "more than 0 km"), ("0", "more than 0 km"),
    ("nan", "not a number"), ("inf", "not a number"), ("1e400", "not a number"),
    ("5001", "at most 5,000 km"), ("", "at least one radius"), ([], "at least one radius"),
    (" ".join(str(i) for i in range(1, 10)), "at most 8 radii")])
def test_parse_radii_km_errors_are_one_friendly_sentence(given, fragment):
    with pytest.raises(BadParameter) as exc:
        analysis.parse_radii_km(given)
    msg = str(exc.value)
    assert fragment in msg and "\n" not in msg and msg[0].isupper() and msg.endswith(".")


@given(st.lists(st.floats(min_value=0.001, max_value=settings.MAX_RADIUS_KM), min_size=1,
                max_size=settings.MAX_RADII))
def test_parse_radii_km_round_trips_any_valid_list(radii):
    text = ", ".join(repr(r) for r in radii)
    assert analysis.parse_radii_km(text) == sorted(set(radii))
    assert analysis.parse_radii_km(radii) == sorted(set(radii))


def test_limits_live_in_settings(monkeypatch):
    monkeypatch.setattr(settings, "MAX_RADII", 2)
    with pytest.raises(BadParameter, match="at most 2 radii"):
        analysis.parse_radii_km("1 2 3")
    monkeypatch.setattr(settings, "MAX_RADIUS_KM", 10.0)
    with pytest.raises(BadParameter, match="at most 10 km"):
        analysis.parse_radii_km("11")


# ------------------------------------------------------------ provinces by code or name
@pytest.mark.parametrize(("target", "label"), [
    ("Sistan and Baluchestan", "Sistan and Baluchestan (IR-13)"),
    ("sistan-and-baluchestan", "Sistan and Baluchestan (IR-13)"),
    ("IR-13", "Sistan and Baluchestan (IR-13)"), ("Balochistan", "Balochistan (PK-BA)"),
    ("BALOCHISTAN", "Balochistan (PK-BA)"), ("pk-ba", "Balochistan (PK-BA)")])
def test_province_by_iso_code_or_unique_name(target, label):
    geom, found = analysis.find_province(target)
    assert found == label
    assert geom.geom_type in ("Polygon", "MultiPolygon")


def test_buffer_target_by_province_name_equals_by_code():
    by_name = analysis.buffer_target("Sistan and Baluchestan", [20])
    by_code = analysis.buffer_target("IR-13", [20])
    assert by_name["target"].iloc[0] == by_code["target"].iloc[0]
    assert by_name.geometry.iloc[0].equals(by_code.geometry.iloc[0])


def _fake_provinces():
    sq = lambda x: shapely.box(x, 20.0, x + 1.0, 21.0)  # noqa: E731
    return gpd.GeoDataFrame(
        {"iso_3166_2": ["XX-01", "XX-01", "XX-02", "XX-03", "XX-04", "XX-04"],
         "name": ["Split", "Split", "Twin", "Twin", "Alpha", "Beta"],
         "name_local": ["", "", "", "", "", ""]},
        geometry=[sq(60), sq(62), sq(64), sq(66), sq(68), sq(70)], crs="EPSG:4326")


def test_province_parts_are_merged_and_ambiguity_is_one_sentence(monkeypatch):
    monkeypatch.setattr(analysis.layers, "load_provinces", lambda *_a: _fake_provinces())
    geom, label = analysis.find_province("split")
    assert label == "Split (XX-01)" and len(shapely.get_parts(geom)) == 2
    with pytest.raises(BadParameter, match="XX-02, XX-03"):
        analysis.find_province("Twin")
    with pytest.raises(BadParameter, match="Alpha, Beta"):
        analysis.find_province("XX-04")
    assert analysis.find_province("Nowhere") is None


def test_buffer_rings_of_a_province_are_exact_at_every_vertex():
    gdf = analysis.buffer_target("Balochistan", "45 90")
    geom, _ = analysis.find_province("PK-BA")
    for row in gdf.itertuples():
        err = geodesy.buffer_vertex_errors(row.geometry, geom, row.radius_km * 1000)
        assert np.max(np.abs(err)) <= geodesy.BUFFER_VERTEX_TOLERANCE


def test_distance_to_border_batch_equals_one_by_one_with_every_side():
    """Kabul (other), Panjgur (Pakistan), Zahedan (Iran), a border vertex (on the border):
    the batch result equals the per-point results, and a repeated call reuses the cache."""
    x, y = shapely.get_coordinates(layers.load_border().geometry)[30]
    lats, lons = [34.53, 26.9667, 29.4963, y], [69.17, 64.1, 60.8629, x]
    batch = analysis.distance_to_border(lats, lons)
    assert list(batch["side"]) == ["other", "Pakistan", "Iran", "on the border"]
    for k, (la, lo) in enumerate(zip(lats, lons, strict=True)):
        one = analysis.distance_to_border([la], [lo]).iloc[0]
        assert one["side"] == batch["side"].iloc[k]
        assert one["distance_m"] == pytest.approx(batch["distance_m"].iloc[k], abs=1e-6)
    again = analysis.distance_to_border(lats, lons)
    assert again.equals(batch)
