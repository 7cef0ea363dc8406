"""dashboard/geodesy.py against GeographicLib (an independent implementation) and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from geographiclib.geodesic import Geodesic
from hypothesis import given, settings
from hypothesis import strategies as st
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


# ------------------------------------------- nearest point: fast path against brute force
def _exact_brute(lats, lons, geom):
    """Brute force independent of the fast path's chord search: the iterative geodesic
    refinement (geodesy._refine) on EVERY segment of the geometry, the nearest wins."""
    a, b = geodesy._segments(geom)
    la, lo = np.asarray(lats, dtype=float), np.asarray(lons, dtype=float)
    m, k = len(a), len(la)
    d, _x, _y = geodesy._refine(np.repeat(lo, m), np.repeat(la, m), np.tile(a[:, 0], k),
                                np.tile(a[:, 1], k), np.tile(b[:, 0], k),
                                np.tile(b[:, 1], k), np.full(m * k, 0.5))
    return d.reshape(k, m).min(axis=1)


def _check_against_brute(lats, lons, geom, tol_m=1.0):
    res = geodesy.nearest_on_geometry(lats, lons, geom)
    ref = _exact_brute(lats, lons, geom)
    got = res["distance_m"].to_numpy()
    assert np.max(np.abs(got - ref)) <= tol_m, (np.max(np.abs(got - ref)), got, ref)
    # the nearest point is at that distance, and lies on the geometry
    back = geodesy.GEOD.inv(lons, lats, res["nearest_lon"].to_numpy(),
                            res["nearest_lat"].to_numpy())[2]
    assert np.allclose(back, got, atol=1e-3)
    on = _exact_brute(res["nearest_lat"].to_numpy(), res["nearest_lon"].to_numpy(), geom)
    assert np.max(on) < 1e-3
    return got, ref


_FAR = {  # 1,000–3,500 km from the border, on both sides
    "Erbil": (36.19, 44.01), "Idlib": (35.93, 36.63), "Sanaa": (15.37, 44.19),
    "Aden": (12.79, 45.03), "Baghdad": (33.31, 44.36), "Delhi": (28.61, 77.21),
    "Kolkata": (22.57, 88.36), "Tashkent": (41.30, 69.24), "Muscat": (23.59, 58.41),
    "Mumbai": (19.08, 72.88), "Kashgar": (39.47, 75.99), "Riyadh": (24.71, 46.68)}


def test_far_points_on_both_sides_match_brute_force():
    border = layers.load_border().geometry
    lat, lon = zip(*_FAR.values(), strict=True)
    got, _ = _check_against_brute(np.array(lat), np.array(lon), border, tol_m=0.01)
    assert got.min() > 300_000 and got.max() > 2_000_000


def test_points_on_the_line_at_vertices_and_at_its_ends():
    border = layers.load_border().geometry
    xy = shapely.get_coordinates(border)
    rng = np.random.default_rng(5)
    k = rng.integers(0, len(xy) - 1, 20)
    f = rng.uniform(0, 1, 20)
    # exactly on geodesic segments (by Geod.fwd), on vertices, at both ends and beyond them
    az, _, seg = geodesy.GEOD.inv(xy[k, 0], xy[k, 1], xy[k + 1, 0], xy[k + 1, 1])
    on_x, on_y, _ = geodesy.GEOD.fwd(xy[k, 0], xy[k, 1], az, seg * f)
    end_az = geodesy.GEOD.inv(xy[-2, 0], xy[-2, 1], xy[-1, 0], xy[-1, 1])[0]
    past_x, past_y, _ = geodesy.GEOD.fwd([xy[-1, 0]] * 3, [xy[-1, 1]] * 3, [end_az] * 3,
                                          [10.0, 10_000.0, 500_000.0])
    lons = np.concatenate([on_x, xy[k, 0], xy[[0, -1], 0], past_x])
    lats = np.concatenate([on_y, xy[k, 1], xy[[0, -1], 1], past_y])
    got, _ = _check_against_brute(lats, lons, border, tol_m=1e-3)
    assert np.all(got[:20] < 1e-3)        # on the line
    assert np.all(got[20:42] < 1e-6)      # vertices and ends: exactly zero
    assert got[-3:] == pytest.approx([10.0, 10_000.0, 500_000.0], rel=1e-3)


def test_points_just_off_the_line_on_either_side():
    border = layers.load_border().geometry
    xy = shapely.get_coordinates(border)
    k = np.arange(3, len(xy) - 3, 9)
    az, _, seg = geodesy.GEOD.inv(xy[k, 0], xy[k, 1], xy[k + 1, 0], xy[k + 1, 1])
    mx, my, back = geodesy.GEOD.fwd(xy[k, 0], xy[k, 1], az, seg * 0.5)
    heading = np.asarray(back) + 180.0
    lons, lats = [], []
    for side in (-90.0, 90.0):
        for off in (0.5, 20.0, 300.0):
            x, y, _ = geodesy.GEOD.fwd(mx, my, heading + side, np.full(len(k), off))
            lons.append(x)
            lats.append(y)
    _check_against_brute(np.concatenate(lats), np.concatenate(lons), border, tol_m=1e-3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(22.0, 33.0), st.floats(55.0, 68.0)), min_size=1,
                max_size=30),
       st.lists(st.tuples(st.floats(-5.0, 55.0), st.floats(30.0, 100.0)), max_size=10))
def test_distance_to_the_real_border_equals_brute_force(near, far):
    border = layers.load_border().geometry
    pts = np.array(near + far)
    _check_against_brute(pts[:, 0], pts[:, 1], border)


_coord = st.tuples(st.floats(-60.0, 60.0), st.floats(-179.0, 179.0))


@st.composite
def _geometries(draw):
    """Random polylines, zig-zags, polygons and multi-lines near a random centre, at scales
    from ~1 km to ~2,000 km (bends, hairpins and near-parallel pieces included)."""
    lat0, lon0 = draw(_coord)
    scale = draw(st.floats(0.01, 20.0))
    kind = draw(st.sampled_from(["walk", "zigzag", "polygon", "multi"]))
    n = draw(st.integers(2, 25))
    steps = np.array(draw(st.lists(st.tuples(st.floats(-1, 1), st.floats(-1, 1)),
                                   min_size=n, max_size=n))) * scale
    if kind == "zigzag":
        steps[:, 0] = np.abs(steps[:, 0]) + scale * 0.05
        steps[1::2, 1] = -steps[::2, 1][:len(steps[1::2])]
    xy = np.cumsum(steps, axis=0) + np.array([lon0, lat0])
    xy[:, 0] = np.clip(xy[:, 0], -179.9, 179.9)
    xy[:, 1] = np.clip(xy[:, 1], -80, 80)
    if kind == "polygon" and n >= 3:
        ang = np.sort(np.arctan2(steps[:, 1], steps[:, 0]))
        r = scale * (0.3 + np.abs(steps[:, 0]) / max(scale, 1e-9))
        ring = np.column_stack([np.clip(lon0 + r * np.cos(ang), -179.9, 179.9),
                                np.clip(lat0 + r * np.sin(ang), -80, 80)])
        poly = Polygon(ring)
        if poly.is_valid and poly.area > 0:
            return poly
    if kind == "multi":
        other = np.clip(xy[::-1] + np.array([scale * 0.02, scale * 0.01]), -179.9, 179.9)
        return MultiLineString([xy, other])
    return LineString(xy)


@settings(max_examples=60, deadline=None)
@given(_geometries(), st.lists(st.tuples(st.floats(-1, 1), st.floats(-1, 1),
                                         st.floats(-3.0, 1.5)), min_size=1, max_size=25))
def test_random_lines_and_polygons_equal_brute_force(geom, offsets):
    """Points from metres to thousands of km away from random geometries."""
    xy = shapely.get_coordinates(geom)
    cx, cy = xy[:, 0].mean(), xy[:, 1].mean()
    span = max(float(np.ptp(xy[:, 0]) + np.ptp(xy[:, 1])), 0.01)
    off = np.array(offsets)
    reach = span * 10.0 ** off[:, 2]
    lats = np.clip(cy + off[:, 1] * reach, -85, 85)
    lons = (cx + off[:, 0] * reach + 180.0) % 360.0 - 180.0
    # and points right next to vertices
    k = np.arange(0, len(xy), max(len(xy) // 5, 1))
    lats = np.concatenate([lats, np.clip(xy[k, 1] + 1e-5, -85, 85)])
    lons = np.concatenate([lons, xy[k, 0] - 1e-5])
    _check_against_brute(lats, lons, geom)


def test_the_exact_path_alone_equals_brute_force(monkeypatch):
    """Points the fast path cannot certify are measured by its exact path: force every far
    point there and compare."""
    monkeypatch.setattr(geodesy, "_one_basin",
                        lambda pt, seg, d, c, p, lines: np.zeros(len(c), dtype=bool))
    border = layers.load_border().geometry
    rng = np.random.default_rng(11)
    lats, lons = rng.uniform(10, 45, 60), rng.uniform(35, 90, 60)
    _check_against_brute(lats, lons, border, tol_m=1e-3)


def test_fast_path_certifies_almost_every_point_near_the_border():
    border = layers.load_border().geometry
    rng = np.random.default_rng(12)
    lats, lons = rng.uniform(20, 35, 4000), rng.uniform(55, 70, 4000)
    *_, ok = geodesy._fast_on_lines(lats, lons, geodesy.prepared_lines(border))
    assert ok.mean() > 0.99


def test_lines_across_the_antimeridian_and_points_at_the_poles():
    line = LineString([(179.0, 10.0), (-179.5, 10.8), (-178.0, 9.5)])
    _check_against_brute(np.array([10.2, 11.0, 9.0, 10.5]),
                         np.array([179.9, -179.9, 178.5, -178.2]), line, tol_m=1e-3)
    polar = LineString([(0.0, 80.0), (90.0, 85.0), (180.0, 80.0)])
    res = geodesy.nearest_on_geometry([90.0, -90.0, 89.99], [0.0, 0.0, 45.0], polar)
    ref = _exact_brute([90.0, -90.0, 89.99], [0.0, 0.0, 45.0], polar)
    assert np.allclose(res["distance_m"], ref, atol=1e-3)


def test_prepared_structure_is_cached_per_geometry():
    border = layers.load_border().geometry
    assert geodesy.prepared_lines(border) is geodesy.prepared_lines(
        shapely.from_wkb(shapely.to_wkb(border)))
    other = LineString([(60.0, 25.0), (61.0, 26.0)])
    assert geodesy.prepared_lines(other) is not geodesy.prepared_lines(border)


def test_two_basins_where_chord_and_geodesic_rankings_disagree():
    """3,000 km away, a piece due east and a piece due north: the eastern one is 40 m nearer
    on the ellipsoid, yet its chord (straight line through the Earth) is longer. A method
    that trusts the chord ranking reports the northern piece, 40 m too far."""
    plat, plon, dist = 20.0, 60.0, 3_000_000.0

    def piece(az, d):
        x, y, back = geodesy.GEOD.fwd(plon, plat, az, d)
        ends = geodesy.GEOD.fwd([x, x], [y, y], [back + 90.0, back - 90.0], [2000.0, 2000.0])
        return [(ends[0][0], ends[1][0]), (x, y), (ends[0][1], ends[1][1])], (x, y)

    east, xe = piece(90.0, dist)
    north, xn = piece(0.0, dist + 40.0)
    chord = np.linalg.norm(geodesy._ecef(np.array([xe[0], xn[0]]), np.array([xe[1], xn[1]]))
                           - geodesy._ecef(np.array([plon]), np.array([plat])), axis=1)
    assert chord[0] > chord[1]  # the chord ranks the northern piece first
    geom = MultiLineString([north, east])
    res = geodesy.nearest_on_geometry([plat], [plon], geom)
    assert res["distance_m"].iloc[0] == pytest.approx(dist, abs=1e-3)
    assert res["nearest_lon"].iloc[0] == pytest.approx(xe[0], abs=1e-7)


def test_points_a_continent_away_take_the_exact_path_and_match_brute_force():
    border = layers.load_border().geometry
    cities = np.array([(51.51, -0.13), (40.71, -74.01), (-33.87, 151.21), (-23.55, -46.63),
                       (64.15, -21.94), (-54.80, -68.30)])
    got, _ = _check_against_brute(cities[:, 0], cities[:, 1], border, tol_m=1e-3)
    assert got.min() > 5_000_000
    *_, ok = geodesy._fast_on_lines(cities[:, 0], cities[:, 1], geodesy.prepared_lines(border))
    assert not ok.any()


@pytest.mark.parametrize("geom", [
    "border",
    LineString([(60.0, 25.0), (60.01, 25.005)]),  # one fine piece: no tree, leaves only
    MultiLineString([[(60.0, 25.0), (60.01, 25.0)], [(61.0, 26.0), (61.0, 26.01)]]),
    LineString([(60.0, 25.0), (60.05, 25.02), (60.2, 25.0)]),  # 9 pieces: padded blocks
])
def test_chord_search_keeps_the_nearest_chord_and_every_competitor(geom):
    """The branch and bound over the packed tables (padding included) against every fine
    segment measured directly: the same nearest chord distance per point, and no segment
    within the ranking slack of it left out."""
    geom = layers.load_border().geometry if geom == "border" else geom
    lines = geodesy.prepared_lines(geom)
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = geom.bounds
    lats = np.r_[rng.uniform(y0 - 0.05, y1 + 0.05, 300), rng.uniform(-30, 60, 300)]
    lons = np.r_[rng.uniform(x0 - 0.05, x1 + 0.05, 300), rng.uniform(0, 120, 300)]
    p = geodesy._ecef(lons, lats)
    pt, seg, d, _t, c = geodesy._chord_candidates(p, lines)
    assert np.all(np.diff(pt) >= 0) and np.all(seg >= 0)
    assert np.all((np.diff(seg) > 0) | (np.diff(pt) > 0))  # sorted by point, then segment
    m = len(lines.seg)
    full = geodesy._point_segment(np.repeat(p, m, axis=0), np.tile(lines.a, (len(p), 1)),
                                  np.tile(lines.ab, (len(p), 1)))[0].reshape(len(p), m)
    assert np.allclose(c, full.min(axis=1), rtol=0, atol=1e-6)
    assert np.allclose(d, full[pt, seg], rtol=0, atol=1e-6)
    want = full <= (c + geodesy._shell(c, lines))[:, None]
    got = np.zeros_like(want)
    got[pt, seg] = True
    assert not np.any(want & ~got)


def test_foot_frame_is_the_sin_and_cos_of_its_coordinates():
    """_on_segment's east/north frame comes from ECEF ratios, not from its lon/lat: the same
    numbers, vertices (t = 0 or 1, given exactly) included."""
    lines = geodesy.prepared_lines(layers.load_border().geometry)
    rng = np.random.default_rng(6)
    j = rng.integers(0, len(lines.seg), 3000)
    t = np.r_[rng.uniform(0, 1, 2000), np.zeros(500), np.ones(500)]
    lon, lat, (sl, cl, sp, cp) = geodesy._on_segment(lines, j, t, frame=True)
    for got, want in ((sl, np.sin(np.radians(lon))), (cl, np.cos(np.radians(lon))),
                      (sp, np.sin(np.radians(lat))), (cp, np.cos(np.radians(lat)))):
        assert np.max(np.abs(got - want)) < 1e-12
    va = lines.seg[j[2000:2500]]
    assert np.array_equal(lon[2000:2500], lines.lonlat[va, 0])
    assert np.array_equal(lat[2500:], lines.lonlat[lines.seg[j[2500:]] + 1, 1])
