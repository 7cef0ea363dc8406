"""dashboard/analysis.py: sites, distances, distance to border, buffers, claims, locate."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from geographiclib.geodesic import Geodesic
from shapely.geometry import Point

from dashboard import analysis, events, layers
from dashboard.errors import BadCoordinate, BadParameter, UnknownSite


@pytest.mark.parametrize("text", ["sabz-koh", "Sabz Koh", "SABZ KOH", "Koh-e-Sabz", "koh i sabz"])
def test_resolve_site_by_id_name_alias_any_case(text):
    assert analysis.resolve_site(text).id == "sabz-koh"


def test_resolve_erbil_by_alternative_spelling():
    assert analysis.resolve_site("Arbil").id == "erbil"


def test_resolve_typed_coordinate_is_lat_lon():
    site = analysis.resolve_site("26.9667, 64.1")
    assert (site.lat, site.lon, site.kind) == (26.9667, 64.1, "coordinate")


def test_unknown_site_suggests_the_closest_names():
    with pytest.raises(UnknownSite) as exc:
        analysis.resolve_site("Panjgor")
    assert "Panjgur" in exc.value.suggestions
    assert str(exc.value).startswith("Unknown site 'Panjgor'; did you mean")


def test_out_of_range_coordinate_is_bad_coordinate():
    with pytest.raises(BadCoordinate, match="Latitude 95"):
        analysis.resolve_site("95,10")


def test_known_sites_include_places_and_curated_events():
    sites = analysis.known_sites()
    kinds = {s.kind for s in sites}
    assert kinds == {"place", "event"}
    ids = {s.id for s in sites}
    assert {"sabz-koh", "panjgur"} <= ids
    assert set(events.load_curated_events()["event_id_cnty"]) <= ids
    assert len(ids) == len(sites)


def test_known_sites_work_without_an_events_layer(tmp_path, monkeypatch):
    from dashboard import settings

    for name in ("places.geojson",):
        (tmp_path / name).write_bytes((settings.GEODATA_DIR / name).read_bytes())
    monkeypatch.setattr(settings, "GEODATA_DIR", tmp_path)
    sites = analysis.known_sites()
    assert sites and {s.kind for s in sites} == {"place"}


def test_measure_distance_matches_geographiclib_and_draws_the_path():
    a, b = analysis.resolve_site("Sabz Koh"), analysis.resolve_site("Panjgur")
    res = analysis.measure_distance(a, b)
    ref = Geodesic.WGS84.Inverse(a.lat, a.lon, b.lat, b.lon)
    assert res.distance_m == pytest.approx(ref["s12"], abs=1e-3)
    assert res.initial_bearing_deg == pytest.approx(ref["azi1"] % 360, abs=1e-9)
    d = res.to_dict()
    assert set(d) >= {"from", "to", "distance_m", "initial_bearing_deg", "final_bearing_deg",
                      "method"}
    assert d["from"]["name"] == "Sabz Koh" and "WGS84" in d["method"]
    xy = shapely.get_coordinates(res.path)
    assert tuple(xy[0]) == (a.lon, a.lat) and tuple(xy[-1]) == pytest.approx((b.lon, b.lat))
    assert len(xy) >= 90  # ≤ 1 km between vertices over ~90 km


def test_distance_matrix_in_metres_by_name():
    sites = [analysis.resolve_site(s) for s in ("Panjgur", "Saravan", "Turbat")]
    m = analysis.distance_matrix(sites)
    assert list(m.index) == ["Panjgur", "Saravan", "Turbat"]
    assert m.loc["Panjgur", "Saravan"] == pytest.approx(
        analysis.measure_distance(sites[0], sites[1]).distance_m)


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


def test_nearest_site_and_sites_within():
    site, d = analysis.nearest_site(26.97, 64.09)
    assert site.id == "panjgur" and d < 2_000
    near = analysis.sites_within(analysis.resolve_site("Panjgur"), 100)
    assert [s.id for s, _ in near][:1] and all(m <= 100_000 for _, m in near)
    assert "sabz-koh" in {s.id for s, _ in near}


def test_claims_check_reports_measured_values_and_border_caveat():
    results = {r.id: r for r in analysis.check_claims()}
    assert {"sabz-koh-border", "sabz-koh-panjgur", "border-length-km",
            "border-length-miles"} <= set(results)
    border = results["border-length-km"]
    assert border.measured == pytest.approx(layers.load_border().length_m / 1000, abs=1e-3)
    assert border.verdict == "shorter than claimed"
    assert "generalised" in border.note
    miles = results["border-length-miles"]
    assert miles.measured == pytest.approx(border.measured / 1.609344, abs=1e-3)
    sabz = results["sabz-koh-panjgur"]
    assert sabz.verdict == "consistent" and "inferred" in sabz.note
    assert abs(sabz.difference) <= sabz.tolerance
    for r in results.values():
        assert "WGS84" in r.method and r.source


def test_locate_sabz_koh_region_contains_the_catalogue_point():
    res = analysis.locate(analysis.SABZ_KOH_CONSTRAINTS)
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
    res = analysis.locate([analysis.FromSite("Panjgur", 10, 1), analysis.Within("IR-13")])
    assert res.area_km2 == 0 and "No place" in res.summary


def test_locate_rejects_negative_distance():
    with pytest.raises(BadParameter):
        analysis.locate([analysis.FromBorder(-5, 1)])
