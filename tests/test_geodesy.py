"""dashboard/geodesy.py against GeographicLib (an independent implementation) and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from geographiclib.geodesic import Geodesic
from shapely.geometry import LineString, MultiLineString, Point, Polygon

from dashboard import geodesy, layers
from dashboard.errors import BadCoordinate, BadParameter

REF = Geodesic.WGS84


def _ref(lat1, lon1, lat2, lon2):
    g = REF.Inverse(lat1, lon1, lat2, lon2)
    return g["s12"], g["azi1"] % 360, g["azi2"] % 360


def test_distance_and_bearings_match_geographiclib_to_a_millimetre():
    rng = np.random.default_rng(7)
    lat1, lat2 = rng.uniform(-89, 89, 500), rng.uniform(-89, 89, 500)
    lon1, lon2 = rng.uniform(-180, 180, 500), rng.uniform(-180, 180, 500)
    d, az1, az2 = geodesy.inverse(lat1, lon1, lat2, lon2)
    for k in range(500):
        s, a1, a2 = _ref(lat1[k], lon1[k], lat2[k], lon2[k])
        assert abs(d[k] - s) < 1e-3
        assert abs((az1[k] - a1 + 180) % 360 - 180) < 1e-6
        assert abs((az2[k] - a2 + 180) % 360 - 180) < 1e-6


def test_sabz_koh_to_panjgur_is_the_geographiclib_value():
    d, az1, _ = geodesy.inverse(26.3727, 63.4882, 26.9667, 64.1)
    s, a1, _ = _ref(26.3727, 63.4882, 26.9667, 64.1)
    assert float(d) == pytest.approx(s, abs=1e-3)
    assert float(az1) == pytest.approx(a1, abs=1e-9)


@pytest.mark.parametrize(("lat1", "lon1", "lat2", "lon2"), [
    (26.9667, 64.1, 26.9667, 64.1),        # identical points
    (0.0, 0.0, 0.0, 180.0),                # antipodal on the equator
    (30.0, 60.0, -30.0, -120.0),           # antipodal off the equator
    (89.9, 10.0, 89.9, -170.0),            # across the north pole
    (-89.99, 0.0, -89.99, 90.0),           # near the south pole
    (10.0, 179.9, 10.0, -179.9),           # across the antimeridian
])
def test_edge_cases_match_geographiclib(lat1, lon1, lat2, lon2):
    d, _, _ = geodesy.inverse(lat1, lon1, lat2, lon2)
    assert float(d) == pytest.approx(_ref(lat1, lon1, lat2, lon2)[0], abs=1e-3)


def test_across_the_antimeridian_is_short_not_round_the_world():
    d, _, _ = geodesy.inverse(10.0, 179.9, 10.0, -179.9)
    assert float(d) < 25_000


@pytest.mark.parametrize("text", ["95,10", "10,200", "-91,0", "abc", "1,2,3", "", "nan,1"])
def test_bad_coordinates_are_one_clear_error(text):
    with pytest.raises(BadCoordinate) as exc:
        geodesy.parse_latlon(text)
    assert "\n" not in str(exc.value)


def test_parse_latlon_is_lat_then_lon():
    assert geodesy.parse_latlon(" 26.97, 64.10 ") == (26.97, 64.10)


def test_path_vertices_are_at_most_a_kilometre_apart_and_on_the_geodesic():
    path = geodesy.geodesic_path(26.3727, 63.4882, 33.7, 73.17, max_step_m=1000)
    xy = shapely.get_coordinates(path)
    steps = geodesy.GEOD.inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])[2]
    assert np.all(steps <= 1000.0 + 1e-6)
    total = geodesy.inverse(26.3727, 63.4882, 33.7, 73.17)[0]
    assert steps.sum() == pytest.approx(float(total), rel=1e-9)


def test_path_is_split_at_the_antimeridian():
    path = geodesy.geodesic_path(10, 170, 10, -170, max_step_m=50_000)
    assert isinstance(path, MultiLineString)
    for part in path.geoms:
        xs = shapely.get_coordinates(part)[:, 0]
        assert np.all(np.abs(np.diff(xs)) < 180)
    assert {180.0, -180.0} <= {round(x, 9) for x in shapely.get_coordinates(path)[:, 0]}


def test_distance_matrix_is_symmetric_with_zero_diagonal():
    m = geodesy.distance_matrix([26.37, 26.97, 27.37], [63.49, 64.10, 62.33])
    assert np.allclose(m, m.T) and np.all(np.diag(m) == 0)
    assert m[0, 1] == pytest.approx(_ref(26.37, 63.49, 26.97, 64.10)[0], abs=1e-3)


def _brute_force(lats, lons, line, spacing_m=5.0):
    """Minimum geodesic distance to vertices placed every ≤ 5 m along each geodesic segment."""
    xy = shapely.get_coordinates(line)
    pts = [xy[:1]]
    for (x0, y0), (x1, y1) in itertools.pairwise(xy):
        seg = geodesy.GEOD.inv(x0, y0, x1, y1)[2]
        inner = geodesy.GEOD.npts(x0, y0, x1, y1, int(seg // spacing_m))
        pts += [np.array(inner).reshape(-1, 2), np.array([[x1, y1]])]
    dense = np.concatenate(pts)
    out = []
    for la, lo in zip(lats, lons, strict=True):
        d = geodesy.GEOD.inv(np.full(len(dense), lo), np.full(len(dense), la), dense[:, 0],
                             dense[:, 1])[2]
        out.append(d.min())
    return np.array(out)


def test_distance_to_the_border_matches_a_dense_brute_force_within_a_metre():
    border = layers.load_border().geometry
    rng = np.random.default_rng(3)
    # from right next to the line to ~2,000 km away
    lats = np.concatenate([rng.uniform(24, 31, 12), rng.uniform(10, 45, 6)])
    lons = np.concatenate([rng.uniform(59, 65, 12), rng.uniform(40, 85, 6)])
    res = geodesy.nearest_on_geometry(lats, lons, border)
    ref = _brute_force(lats, lons, border)
    # the dense reference can only overestimate (by well under a metre at 5 m spacing)
    assert np.all(res["distance_m"].to_numpy() <= ref + 1e-3)
    assert np.max(ref - res["distance_m"].to_numpy()) < 1.0
    # and the reported nearest point is at the reported distance, on the line
    back = geodesy.GEOD.inv(lons, lats, res["nearest_lon"], res["nearest_lat"])[2]
    assert np.allclose(back, res["distance_m"], atol=1e-3)
    on_line = shapely.distance(border, shapely.points(res["nearest_lon"], res["nearest_lat"]))
    assert np.all(on_line < 1e-6)


def test_a_point_exactly_on_the_border_is_at_zero():
    border = layers.load_border().geometry
    x, y = shapely.get_coordinates(border)[100]
    res = geodesy.nearest_on_geometry([y], [x], border)
    assert res["distance_m"].iloc[0] < 1e-6
    assert not res["inside"].iloc[0]


def test_polygon_distance_is_to_the_boundary_with_an_inside_flag():
    square = Polygon([(60, 25), (62, 25), (62, 27), (60, 27)])
    res = geodesy.nearest_on_geometry([26.0, 26.0], [61.0, 63.0], square)
    assert list(res["inside"]) == [True, False]
    # east of the square at the same latitude: the nearest point is on the eastern edge
    d_out = res["distance_m"].iloc[1]
    assert d_out == pytest.approx(_ref(26.0, 63.0, res["nearest_lat"].iloc[1], 62.0)[0], abs=1e-3)
    assert res["nearest_lon"].iloc[1] == pytest.approx(62.0, abs=1e-9)


def test_empty_geometry_is_a_clear_error():
    with pytest.raises(BadParameter):
        geodesy.nearest_on_geometry([26.0], [63.0], LineString())
    with pytest.raises(BadParameter):
        geodesy.buffer(Point(), 10_000)
    with pytest.raises(BadParameter):
        geodesy.length_m(LineString())


@pytest.mark.parametrize("radius", [0, -5_000, float("nan")])
def test_zero_or_negative_radius_is_a_clear_error(radius):
    with pytest.raises(BadParameter):
        geodesy.buffer(Point(64.1, 26.9667), radius)


def _boundary_error(buf, geom, radius_m):
    """Largest relative error of the buffer boundary's distance to the geometry."""
    rings = [p.exterior for p in shapely.get_parts(buf)]
    xy = np.concatenate([shapely.get_coordinates(shapely.segmentize(r, 0.01)) for r in rings])
    if geom.geom_type == "Point":
        d = np.array([_ref(geom.y, geom.x, y, x)[0] for x, y in xy])
    else:
        d = geodesy.nearest_on_geometry(xy[:, 1], xy[:, 0], geom)["distance_m"].to_numpy()
    return float(np.max(np.abs(d - radius_m)) / radius_m)


@pytest.mark.parametrize("radius_km", [1, 45, 90, 500, 2000])
def test_point_buffer_boundary_is_at_the_radius_within_0_1_percent(radius_km):
    centre = Point(64.1, 26.9667)
    buf = geodesy.buffer(centre, radius_km * 1000)
    assert buf.is_valid and buf.geom_type == "Polygon"
    assert _boundary_error(buf, centre, radius_km * 1000) < 1e-3


@pytest.mark.parametrize("radius_km", [10, 45, 300])
def test_border_buffer_boundary_is_at_the_radius_within_0_1_percent(radius_km):
    border = layers.load_border().geometry
    buf = geodesy.buffer(border, radius_km * 1000)
    assert buf.is_valid
    assert _boundary_error(buf, border, radius_km * 1000) < 1e-3
    assert buf.covers(border)


def test_province_buffer_contains_the_province_and_is_valid():
    prov = layers.load_provinces()
    pk_ba = prov.loc[prov["iso_3166_2"] == "PK-BA"].geometry.iloc[0]
    buf = geodesy.buffer(pk_ba, 25_000)
    assert buf.is_valid
    assert buf.buffer(1e-6).covers(pk_ba)
    assert geodesy.area_m2(buf) > geodesy.area_m2(pk_ba)


def test_buffer_area_matches_the_geodesic_circle():
    buf = geodesy.buffer(Point(64.1, 26.9667), 100_000)
    # area of a geodesic circle of 100 km is close to π r² (differs by < 0.1 %)
    assert geodesy.area_m2(buf) == pytest.approx(np.pi * 100_000**2, rel=1e-3)


def test_antimeridian_and_pole_buffers_are_refused_clearly():
    with pytest.raises(BadParameter, match="antimeridian"):
        geodesy.buffer(Point(179.9, 10), 50_000)
    with pytest.raises(BadParameter, match="pole"):
        geodesy.buffer(Point(0, 89.5), 100_000)


def test_rings_keep_the_order_of_radii():
    polys = geodesy.rings(Point(64.1, 26.9667), [90_000, 45_000])
    assert geodesy.area_m2(polys[0]) > geodesy.area_m2(polys[1])


def test_border_length_equals_geographiclib_sum_of_segments():
    border = layers.load_border().geometry
    xy = shapely.get_coordinates(border)
    ref = sum(_ref(xy[i, 1], xy[i, 0], xy[i + 1, 1], xy[i + 1, 0])[0] for i in range(len(xy) - 1))
    assert geodesy.length_m(border) == pytest.approx(ref, abs=1e-3)


# ------------------------------------------------------------- exact buffers: every vertex
def _vertex_rel_errors(buf, geom, radius_m):
    """Signed relative error of EVERY vertex of ``buf`` (all rings), measured independently:
    GeographicLib to the points of a point source, nearest_on_geometry to lines/polygons."""
    xy = shapely.get_coordinates(buf)
    if geom.geom_type in ("Point", "MultiPoint"):
        pts = shapely.get_coordinates(geom)
        d = np.array([min(REF.Inverse(py, px, y, x)["s12"] for px, py in pts) for x, y in xy])
    else:
        res = geodesy.nearest_on_geometry(xy[:, 1], xy[:, 0], geom)
        d = np.where(res["inside"], -res["distance_m"], res["distance_m"])
    return (d - radius_m) / radius_m


def _province(code):
    prov = layers.load_provinces()
    return shapely.union_all(prov.loc[prov["iso_3166_2"] == code].geometry.to_numpy())


_EXACT_CASES = {
    "border 45 km": (lambda: layers.load_border().geometry, 45),
    "border 50 km": (lambda: layers.load_border().geometry, 50),
    "border 90 km": (lambda: layers.load_border().geometry, 90),
    "province PK-BA 50 km": (lambda: _province("PK-BA"), 50),
    "province IR-13 45 km": (lambda: _province("IR-13"), 45),
    "point 45 km": (lambda: Point(64.1, 26.9667), 45),
    "multipoint, overlapping discs 45 km": (
        lambda: shapely.MultiPoint([(64.1, 26.9667), (63.5, 26.55), (62.33, 27.37)]), 45),
    "two provinces (multi-part) 30 km": (
        lambda: shapely.MultiPolygon([_province("PK-BA"), _province("IR-13")]), 30),
    "multi-line with a sharp bend 20 km": (
        lambda: MultiLineString([[(62.0, 26.0), (63.0, 26.5), (62.1, 26.6)],
                                 [(64.0, 27.0), (64.5, 27.4)]]), 20),
}


@pytest.mark.parametrize("case", list(_EXACT_CASES))
def test_every_buffer_vertex_is_at_the_radius_within_0_01_percent(case):
    make, km = _EXACT_CASES[case]
    geom, r = make(), km * 1000.0
    buf = geodesy.buffer(geom, r)
    assert buf.is_valid and buf.geom_type in ("Polygon", "MultiPolygon")
    err = _vertex_rel_errors(buf, geom, r)
    assert len(err) == len(shapely.get_coordinates(buf))  # every vertex, not a sample
    worst = float(np.max(np.abs(err)))
    assert worst <= geodesy.BUFFER_VERTEX_TOLERANCE, f"{case}: worst vertex {worst:.2e}"
    # the core's own checker agrees with the independent one
    assert np.allclose(geodesy.buffer_vertex_errors(buf, geom, r), err, atol=1e-7)


def test_buffer_covers_its_source_and_rings_are_each_exact():
    border = layers.load_border().geometry
    polys = geodesy.rings(border, [90_000, 45_000])
    for poly, r in zip(polys, (90_000, 45_000), strict=True):
        assert poly.buffer(1e-9).covers(border)
        assert np.max(np.abs(geodesy.buffer_vertex_errors(poly, border, r))) <= 1e-4


def test_nearest_on_geometry_measures_to_points_and_mixed_collections():
    pts = shapely.MultiPoint([(64.1, 26.9667), (62.3342, 27.3708)])
    res = geodesy.nearest_on_geometry([26.5, 27.0], [63.9, 62.5], pts)
    for k, (lat, lon) in enumerate([(26.5, 63.9), (27.0, 62.5)]):
        ref = min(REF.Inverse(lat, lon, py, px)["s12"]
                  for px, py in shapely.get_coordinates(pts))
        assert res["distance_m"][k] == pytest.approx(ref, abs=1e-3)
    mixed = shapely.GeometryCollection([Point(64.1, 26.9667),
                                        LineString([(60.0, 25.0), (60.0, 30.0)])])
    res = geodesy.nearest_on_geometry([26.9667], [64.0], mixed)
    assert res["distance_m"][0] == pytest.approx(REF.Inverse(26.9667, 64.0, 26.9667,
                                                             64.1)["s12"], abs=1e-3)
    assert not res["inside"][0]


@pytest.mark.parametrize(("lat", "lon", "fragment"), [
    (95, 10, "Latitude 95"), (10, 181, "Longitude 181"), (float("nan"), 0, "finite"),
    (0, float("inf"), "finite")])
def test_one_lat_lon_rule_for_values_and_masks(lat, lon, fragment):
    with pytest.raises(BadCoordinate, match=fragment):
        geodesy.validate_latlon(lat, lon)
    assert not geodesy.latlon_ok([0.0, lat], [0.0, lon])[1]
    assert geodesy.latlon_ok([0.0, lat], [0.0, lon])[0]
    assert fragment.lower() in geodesy.latlon_problem(lat, lon).lower()
    assert geodesy.latlon_problem(-90.0, 180.0) is None
