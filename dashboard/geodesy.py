"""Geodesy on the WGS84 ellipsoid: distances, paths, nearest points, buffers, lengths, areas.

Everything goes through ``pyproj.Geod(ellps="WGS84")`` (Karney's GeographicLib algorithms) and
is vectorised with numpy. Distances are metres, bearings degrees clockwise from true north in
[0, 360), coordinates degrees. Function arguments are (lat, lon) in that order; shapely
geometries are (lon, lat) as in GeoJSON. No Streamlit, no folium.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry import LineString, MultiLineString

from dashboard import settings
from dashboard.errors import BadCoordinate, BadParameter

GEOD = Geod(ellps=settings.ELLIPSOID)
METHOD = settings.METHOD
EARTH_RADIUS_M = 6_371_008.8  # mean radius, only for bounds and vertex counts, never a result
MAX_BUFFER_M = settings.MAX_RADIUS_KM * 1000.0
#: Every buffer vertex lies within this relative error of the requested radius (0.01 %).
BUFFER_VERTEX_TOLERANCE = 1e-4
_SNAP_TOLERANCE = 1e-6  # vertices further off than this are moved (a margin under the promise)
_SNAP_ROUNDS = 8
_REFINE_ITERATIONS = 5  # along-track steps; tests check ≤ 1 mm against a dense brute force


def latlon_ok(lat: Any, lon: Any) -> np.ndarray:
    """Boolean mask (broadcast shape): finite, lat ∈ [-90, 90] and lon ∈ [-180, 180] degrees.

    THE coordinate range rule; :func:`validate_latlon` raises on it, importers and the CLI use
    the mask to name the bad row.
    """
    with np.errstate(invalid="ignore"):
        la = np.asarray(lat, dtype=float)
        lo = np.asarray(lon, dtype=float)
        return (np.isfinite(la) & np.isfinite(lo) & (np.abs(la) <= 90.0)
                & (np.abs(lo) <= 180.0))


def latlon_problem(lat: float, lon: float) -> str | None:
    """Why one coordinate is invalid, as a sentence fragment; None when it is valid."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return "coordinates must be finite numbers"
    if abs(lat) > 90:
        return f"latitude {lat:g} is outside -90..90 (coordinates are LAT,LON)"
    if abs(lon) > 180:
        return f"longitude {lon:g} is outside -180..180 (coordinates are LAT,LON)"
    return None


def validate_latlon(lat: Any, lon: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return float arrays; raise BadCoordinate when any lat ∉ [-90, 90] or lon ∉ [-180, 180]."""
    try:
        la = np.asarray(lat, dtype=float)
        lo = np.asarray(lon, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise BadCoordinate("Coordinates must be numbers in decimal degrees.") from None
    ok = latlon_ok(la, lo)
    if not np.all(ok):
        la_b, lo_b = np.broadcast_arrays(la, lo)
        i = int(np.argmin(ok.ravel()))
        problem = latlon_problem(float(la_b.flat[i]), float(lo_b.flat[i])) or "invalid"
        raise BadCoordinate(problem[0].upper() + problem[1:] + ".")
    return la, lo


def parse_latlon(text: str) -> tuple[float, float]:
    """Parse "LAT,LON" (decimal degrees, e.g. "26.97,64.10") → (lat, lon); BadCoordinate if not."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",")]
    if len(parts) != 2:
        raise BadCoordinate(f"'{text}' is not a coordinate; write LAT,LON such as 26.97,64.10.")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise BadCoordinate(
            f"'{text}' is not a coordinate; write LAT,LON in decimal degrees such as 26.97,64.10."
        ) from None
    la, lo = validate_latlon(lat, lon)
    return float(la), float(lo)


def inverse(lat1: Any, lon1: Any, lat2: Any,
            lon2: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geodesic distance (m), initial bearing and final bearing (degrees, 0..360) — broadcast."""
    la1, lo1 = validate_latlon(lat1, lon1)
    la2, lo2 = validate_latlon(lat2, lon2)
    la1, lo1, la2, lo2 = np.broadcast_arrays(la1, lo1, la2, lo2)
    az12, az21, dist = GEOD.inv(lo1, la1, lo2, la2)
    az12 = np.mod(np.asarray(az12, dtype=float), 360.0)
    final = np.mod(np.asarray(az21, dtype=float) + 180.0, 360.0)
    return np.asarray(dist, dtype=float), az12, final


def _split_antimeridian(lons: np.ndarray, lats: np.ndarray) -> list[list[tuple[float, float]]]:
    """Cut a lon/lat vertex sequence where it jumps across ±180° (interpolating the crossing)."""
    parts: list[list[tuple[float, float]]] = [[(float(lons[0]), float(lats[0]))]]
    for i in range(1, len(lons)):
        x0, y0, x1, y1 = lons[i - 1], lats[i - 1], lons[i], lats[i]
        if abs(x1 - x0) > 180.0:
            edge = 180.0 if x0 > 0 else -180.0
            x1u = x1 + 360.0 if x0 > 0 else x1 - 360.0
            frac = (edge - x0) / (x1u - x0) if x1u != x0 else 0.0
            yc = float(y0 + frac * (y1 - y0))
            if parts[-1][-1] != (edge, yc):
                parts[-1].append((edge, yc))
            parts.append([(-edge, yc)])
        parts[-1].append((float(x1), float(y1)))
    return parts


def geodesic_path(lat1: float, lon1: float, lat2: float, lon2: float,
                  max_step_m: float = 1000.0) -> LineString | MultiLineString:
    """The geodesic between two points as a (lon, lat) line, ≤ ``max_step_m`` between vertices.

    Split into a MultiLineString where it crosses the antimeridian.
    """
    if max_step_m <= 0:
        raise BadParameter("The path step must be a positive number of metres.")
    validate_latlon([lat1, lat2], [lon1, lon2])
    dist = float(GEOD.inv(lon1, lat1, lon2, lat2)[2])
    if dist == 0.0:
        return LineString([(lon1, lat1), (lon1, lat1)])
    npts = max(math.ceil(dist / max_step_m) - 1, 0)
    inner = GEOD.npts(lon1, lat1, lon2, lat2, npts) if npts else []
    lons = np.array([lon1, *[p[0] for p in inner], lon2], dtype=float)
    lats = np.array([lat1, *[p[1] for p in inner], lat2], dtype=float)
    parts = [p for p in _split_antimeridian(lons, lats) if len(p) >= 2]
    return LineString(parts[0]) if len(parts) == 1 else MultiLineString(parts)


def distance_matrix(lats: Any, lons: Any) -> np.ndarray:
    """Symmetric matrix of geodesic distances (m) between every pair of points."""
    la, lo = validate_latlon(lats, lons)
    la, lo = la.ravel(), lo.ravel()
    i, j = np.triu_indices(len(la), k=1)
    out = np.zeros((len(la), len(la)))
    if len(i):
        d = GEOD.inv(lo[i], la[i], lo[j], la[j])[2]
        out[i, j] = d
        out[j, i] = d
    return out


def length_m(geom: Any) -> float:
    """Geodesic length (m) of a (lon, lat) geometry; the perimeter for polygons."""
    if geom is None or geom.is_empty:
        raise BadParameter("Cannot measure an empty geometry.")
    return float(GEOD.geometry_length(geom))


def area_m2(geom: Any) -> float:
    """Geodesic area (m²) of a (lon, lat) polygon geometry (0 for points and lines)."""
    if geom is None or geom.is_empty:
        raise BadParameter("Cannot measure an empty geometry.")
    return float(abs(GEOD.geometry_area_perimeter(geom)[0]))


# ----------------------------------------------------------------- nearest point on a geometry
def _flat_parts(geom: Any) -> list[Any]:
    """Single (non-multi, non-collection), non-empty parts of a geometry."""
    out: list[Any] = []
    stack = [geom]
    while stack:
        g = stack.pop()
        if g is None or g.is_empty:
            continue
        if g.geom_type.startswith("Multi") or g.geom_type == "GeometryCollection":
            stack.extend(shapely.get_parts(g))
        else:
            out.append(g)
    return out[::-1]


def _segments(geom: Any) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (lon, lat) of every straight piece of a line/polygon boundary."""
    starts, ends = [], []
    for part in _flat_parts(geom):
        if part.geom_type == "Point":
            continue
        lines = shapely.get_parts(part.boundary) if part.geom_type == "Polygon" else [part]
        for line in lines:
            xy = shapely.get_coordinates(line)
            if len(xy) >= 2:
                starts.append(xy[:-1])
                ends.append(xy[1:])
    if not starts:
        raise BadParameter("The geometry has no line or boundary to measure to.")
    return np.concatenate(starts), np.concatenate(ends)


def aeqd_transformer(lat0: float, lon0: float) -> Transformer:
    """lon/lat → azimuthal equidistant metres centred on (lat0, lon0) on WGS84 (always_xy)."""
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +ellps=WGS84 +units=m")
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


@functools.lru_cache(maxsize=8)
def _aeqd_cached(lat0: float, lon0: float) -> Transformer:
    """:func:`aeqd_transformer`, kept for the exact path's repeated calls on one geometry."""
    return aeqd_transformer(lat0, lon0)


def _refine(plon: np.ndarray, plat: np.ndarray, alon: np.ndarray, alat: np.ndarray,
            blon: np.ndarray, blat: np.ndarray,
            s0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest point on each geodesic segment A→B to P, vectorised over pairs.

    Iterates on the arc length s along A→B: from the current foot X, the along-track part of
    X→P (spherical along-track formula on the local distance and angle) moves s, clamped to
    the segment. Converges to sub-millimetre in a few steps for segments of tens of km;
    a fixed number of steps keeps it loop-free over points. Returns (distance_m, lon, lat).
    """
    az, _, seg_len = GEOD.inv(alon, alat, blon, blat)
    az, seg_len = np.asarray(az, dtype=float), np.asarray(seg_len, dtype=float)
    s = np.clip(np.zeros_like(seg_len) if s0 is None else np.asarray(s0, dtype=float) * seg_len,
                0.0, seg_len)
    for _ in range(_REFINE_ITERATIONS):
        lon, lat, back = GEOD.fwd(alon, alat, az, s)
        heading = np.asarray(back, dtype=float) + 180.0
        to_p, _, d = GEOD.inv(lon, lat, plon, plat)
        d = np.asarray(d, dtype=float)
        alpha = np.radians(np.asarray(to_p, dtype=float) - heading)
        ang = np.minimum(d / EARTH_RADIUS_M, 1.5)
        step = EARTH_RADIUS_M * np.arctan(np.tan(ang) * np.cos(alpha))
        s = np.clip(s + step, 0.0, seg_len)
    lon, lat, _ = GEOD.fwd(alon, alat, az, s)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    d = np.asarray(GEOD.inv(plon, plat, lon, lat)[2], dtype=float)
    return d, lon, lat


def _param(px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray,
           by: np.ndarray) -> np.ndarray:
    """Fraction (0..1) along projected segment A→B of the foot of P (a starting guess)."""
    dx, dy = bx - ax, by - ay
    den = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ((px - ax) * dx + (py - ay) * dy) / den
    return np.clip(np.nan_to_num(t), 0.0, 1.0)


def nearest_on_geometry(lats: Any, lons: Any, geom: Any) -> pd.DataFrame:
    """Geodesic distance (m) from each point to the nearest point of a geometry: a line, a
    polygon's boundary, a point, or any mix of them (multi-parts and collections).

    Columns: ``distance_m``, ``nearest_lat``, ``nearest_lon``, ``inside`` (True for points
    inside a polygon; always False for lines and points). Agrees with a brute force (exact
    geodesic refinement on every segment) to well under a millimetre in the tests and
    scripts/bench_geodesy.py, near the line and thousands of km away.

    Method (lines and boundaries, prepared once per geometry and cached by its WKB): the
    segments, densified on their geodesics to ≤ 2 km, are ECEF chords in a hierarchy of runs;
    a branch-and-bound search finds per point every piece whose chord distance is within
    the chord/geodesic ranking slack of the nearest. Where that slack is under 0.3 m, or the
    competing pieces form one basin, one ``Geod.inv`` from the chord foot and one exact
    along-track step give the geodesic nearest point (about 2.5× the cost of one ``Geod.inv``);
    the other points (two basins within the slack, near a pole, beyond ~5,000 km) take the
    exact path, which measures every basin. Point parts are measured to directly.
    """
    if geom is None or geom.is_empty:
        raise BadParameter("Cannot measure distance to an empty geometry.")
    la, lo = validate_latlon(lats, lons)
    la, lo = np.atleast_1d(la).ravel(), np.atleast_1d(lo).ravel()
    n = len(la)
    if n == 0:
        return pd.DataFrame({"distance_m": [], "nearest_lat": [], "nearest_lon": [],
                             "inside": pd.Series([], dtype=bool)})
    parts = _flat_parts(geom)
    pts = np.array([(p.x, p.y) for p in parts if p.geom_type == "Point"]).reshape(-1, 2)
    others = [p for p in parts if p.geom_type != "Point"]
    best_d = np.full(n, np.inf)
    best_lon = np.full(n, np.nan)
    best_lat = np.full(n, np.nan)
    if others:
        body = others[0] if len(others) == 1 else shapely.GeometryCollection(others)
        best_d, best_lon, best_lat = _lines_nearest(la, lo, body)
    if len(pts):
        d, plon, plat = _nearest_point(la, lo, pts)
        closer = d < best_d
        best_d[closer], best_lon[closer], best_lat[closer] = d[closer], plon[closer], plat[closer]
    polys = [p for p in others if p.geom_type == "Polygon"]
    if polys:
        inside = np.zeros(n, dtype=bool)
        for poly in polys:
            inside |= shapely.contains_xy(poly, lo, la)
        inside |= best_d < 1e-6
    else:
        inside = np.zeros(n, dtype=bool)
    return pd.DataFrame({"distance_m": best_d, "nearest_lat": best_lat,
                         "nearest_lon": best_lon, "inside": inside})


def _lines_nearest(la: np.ndarray, lo: np.ndarray,
                   geom: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest point on the lines / polygon boundaries of ``geom`` by :func:`_fast_on_lines`
    (which measures the points it cannot certify by its exact path), in chunks of points.
    Returns (distance_m, lon, lat)."""
    lines = prepared_lines(geom)
    n = len(la)
    best_d = np.empty(n)
    best_lon = np.empty(n)
    best_lat = np.empty(n)
    for s in range(0, n, _FAST_CHUNK):
        sl = slice(s, s + _FAST_CHUNK)
        best_d[sl], best_lon[sl], best_lat[sl], _ = _fast_on_lines(la[sl], lo[sl], lines)
    return best_d, best_lon, best_lat


def _nearest_point(la: np.ndarray, lo: np.ndarray,
                   pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest of the (lon, lat) points ``pts`` to each point: (distance_m, lon, lat)."""
    n = len(la)
    best_d = np.full(n, np.inf)
    best_i = np.zeros(n, dtype=int)
    rows = max(1, 2_000_000 // max(len(pts), 1))
    for s in range(0, n, rows):
        sl = slice(s, s + rows)
        k = len(la[sl])
        d = np.asarray(GEOD.inv(np.repeat(lo[sl], len(pts)), np.repeat(la[sl], len(pts)),
                                np.tile(pts[:, 0], k), np.tile(pts[:, 1], k))[2],
                       dtype=float).reshape(k, len(pts))
        best_i[sl] = np.argmin(d, axis=1)
        best_d[sl] = d[np.arange(k), best_i[sl]]
    return best_d, pts[best_i, 0].copy(), pts[best_i, 1].copy()


def _nearest_on_lines(la: np.ndarray, lo: np.ndarray,
                      geom: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest point on the lines / polygon boundaries of ``geom``: (distance_m, lon, lat).

    The former method (an STRtree in an azimuthal equidistant projection, then
    :func:`_refine`), kept only as a comparison in scripts/bench_geodesy.py: for large
    geometries seen from far away the projection's distortion can leave a point without any
    candidate segment (an infinite distance; seen with random polygons spanning ~20°).
    """
    n = len(la)
    a, b = _segments(geom)
    centre = geom.centroid
    tr = _aeqd_cached(centre.y, centre.x)
    ax, ay = tr.transform(a[:, 0], a[:, 1])
    bx, by = tr.transform(b[:, 0], b[:, 1])
    px, py = tr.transform(lo, la)
    seg_geoms = shapely.linestrings(np.stack([np.column_stack([ax, bx]),
                                              np.column_stack([ay, by])], axis=-1))
    pts = shapely.points(px, py)
    tree = shapely.STRtree(seg_geoms)
    # 1) nearest segment in the projection → a geodesic upper bound for every point
    pi, si = tree.query_nearest(pts, all_matches=False)
    first = np.full(n, -1)
    first[pi] = si
    upper = _refine(lo, la, a[first, 0], a[first, 1], b[first, 0], b[first, 1],
                    _param(px, py, ax[first], ay[first], bx[first], by[first]))[0]
    # 2) every segment whose projected distance could still beat that bound. The AEQD scale
    #    error grows like θ/sin θ with θ the angular distance from the centre (radial scale 1).
    extent = float(np.max(np.hypot(np.concatenate([ax, bx]), np.concatenate([ay, by]))))
    theta = np.minimum((np.hypot(px, py) + extent) / EARTH_RADIUS_M, 3.0)
    scale = np.where(theta > 1e-9, theta / np.sin(theta), 1.0) * 1.002
    reach = upper * scale + 50.0
    pairs = tree.query(pts, predicate="dwithin", distance=reach)
    cand_p, cand_s = pairs[0], pairs[1]
    # 3) a geodesic lower bound per candidate (triangle inequality: (|PA| + |PB| - |AB|) / 2)
    #    drops the segments that cannot beat the best vertex or first estimate
    seg_len = np.asarray(GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2], dtype=float)
    d_a = np.asarray(GEOD.inv(lo[cand_p], la[cand_p], a[cand_s, 0], a[cand_s, 1])[2], dtype=float)
    d_b = np.asarray(GEOD.inv(lo[cand_p], la[cand_p], b[cand_s, 0], b[cand_s, 1])[2], dtype=float)
    np.minimum.at(upper, cand_p, np.minimum(d_a, d_b))
    lower = (d_a + d_b - seg_len[cand_s]) / 2.0
    useful = lower <= upper[cand_p] + 1e-3
    cand_p, cand_s = cand_p[useful], cand_s[useful]
    d, nlon, nlat = _refine(lo[cand_p], la[cand_p], a[cand_s, 0], a[cand_s, 1],
                            b[cand_s, 0], b[cand_s, 1],
                            _param(px[cand_p], py[cand_p], ax[cand_s], ay[cand_s], bx[cand_s],
                                   by[cand_s]))
    order = np.lexsort((d, cand_p))
    cand_p, d, nlon, nlat = cand_p[order], d[order], nlon[order], nlat[order]
    keep = np.r_[True, cand_p[1:] != cand_p[:-1]]
    best_d = np.full(n, np.inf)
    best_lon = np.full(n, np.nan)
    best_lat = np.full(n, np.nan)
    best_d[cand_p[keep]] = d[keep]
    best_lon[cand_p[keep]] = nlon[keep]
    best_lat[cand_p[keep]] = nlat[keep]
    return best_d, best_lon, best_lat


# ------------------------------------------------- nearest point on lines: the fast, exact path
_FINE_STEP_M = 2000.0  # densified vertices ≤ 2 km apart on the geodesic: chord sagitta ≤ 8 cm
_BRANCH = 4  # children per node of the segment hierarchy
_KAPPA = 5e-17  # 1/m²: chord vs geodesic ranking slack is ≤ κ c² × separation (measured 3.6e-17)
_FREE_SLACK_M = 0.3  # below this slack the chord-nearest segment is taken without a basin check
_DUMMY_M = 1e15  # a padding node of the search tables sits this far (m) from every point
_FAST_CHUNK = 16_384  # points per vectorised pass (bounds memory)
_POLAR_LAT = 89.9  # points or vertices nearer a pole than this take the exact path
_FAR_CHORD_M = 4_900_000.0  # farther (chord ≈ 5,000 km geodesic): the exact path
_WGS84_A = GEOD.a
_WGS84_B = GEOD.b
_WGS84_E2 = GEOD.es
_WGS84_EP2 = _WGS84_E2 / (1.0 - _WGS84_E2)


def _ecef(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """(lon, lat) degrees on the ellipsoid surface → ECEF metres, shape (n, 3)."""
    lo, la = np.radians(lon), np.radians(lat)
    sl, cl = np.sin(la), np.cos(la)
    n = _WGS84_A / np.sqrt(1.0 - _WGS84_E2 * sl * sl)
    return np.stack([n * cl * np.cos(lo), n * cl * np.sin(lo), n * (1.0 - _WGS84_E2) * sl],
                    axis=-1)


def _geodetic(x: np.ndarray, y: np.ndarray, z: np.ndarray,
              frame: bool = False) -> tuple[np.ndarray, ...]:
    """ECEF metres (within metres of the surface) → (lon, lat) degrees; the point is moved
    along the ellipsoid normal onto the surface (Bowring; error < 1e-9 m at these heights).
    With ``frame``, also the sin/cos of its longitude and latitude (the local east/north
    frame), from the same ratios without more trigonometry."""
    p = np.hypot(x, y)
    # sin and cos of Bowring's parametric latitude atan2(z a, p b), without the angle
    st, ct = z * _WGS84_A, p * _WGS84_B
    r = np.hypot(st, ct)
    st /= r
    ct /= r
    num = z + (_WGS84_EP2 * _WGS84_B) * (st * st * st)
    den = p - (_WGS84_E2 * _WGS84_A) * (ct * ct * ct)
    lon, lat = np.degrees(np.arctan2(y, x)), np.degrees(np.arctan2(num, den))
    if not frame:
        return lon, lat
    h = np.hypot(num, den)
    return lon, lat, (y / p, x / p, num / h, den / h)


class _Lines:
    """A line/boundary geometry prepared once for many distance queries.

    Every segment is densified on its geodesic (``Geod.fwd``) to pieces ≤ ``_FINE_STEP_M``,
    kept as ECEF chords (a piece's chord lies ≤ 8 cm under the surface). A hierarchy of
    runs of consecutive pieces (each bounded by the chord of its ends plus a tube radius)
    finds, per point, every piece whose chord distance can compete with the nearest.
    """

    def __init__(self, geom: Any) -> None:
        a, b = _segments(geom)  # raises BadParameter when there is nothing to measure to
        self.polar = bool(np.any(np.abs(np.concatenate([a[:, 1], b[:, 1]])) >= _POLAR_LAT))
        # parts: maximal runs where one segment ends where the next starts
        brk = np.flatnonzero(np.any(a[1:] != b[:-1], axis=1)) + 1
        starts = np.r_[0, brk]
        ends = np.r_[brk, len(a)]
        az, _, seg_len = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
        az, seg_len = np.asarray(az, dtype=float), np.asarray(seg_len, dtype=float)
        pieces = np.maximum(np.ceil(seg_len / _FINE_STEP_M).astype(int), 1)
        rep = np.repeat(np.arange(len(a)), pieces)
        k = np.arange(len(rep)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        frac = k / pieces[rep]
        lon, lat, _ = GEOD.fwd(a[rep, 0], a[rep, 1], az[rep], seg_len[rep] * frac)
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        first = frac == 0  # the original vertices exactly, not as computed by fwd
        lon[first], lat[first] = a[rep[first], 0], a[rep[first], 1]
        offs = np.r_[0, np.cumsum(pieces)]
        vlon, vlat, vseg, vpart = [], [], [], []
        for p, (s, e) in enumerate(zip(starts, ends, strict=True)):
            m = slice(offs[s], offs[e])
            k = offs[e] - offs[s]
            vlon += [lon[m], b[e - 1:e, 0]]
            vlat += [lat[m], b[e - 1:e, 1]]
            vseg += [np.ones(k, dtype=bool), np.zeros(1, dtype=bool)]
            vpart += [np.full(k + 1, p)]
        self.lonlat = np.column_stack([np.concatenate(vlon), np.concatenate(vlat)])
        starts_seg = np.concatenate(vseg)  # vertex i starts a segment i → i + 1
        self.seg = np.flatnonzero(starts_seg)  # start vertex of each fine segment
        self.part = np.concatenate(vpart)[self.seg]
        self.xyz = _ecef(self.lonlat[:, 0], self.lonlat[:, 1])
        va, vb = self.xyz[self.seg], self.xyz[self.seg + 1]
        self.a, self.ab = va, vb - va
        self.ab2 = np.einsum("ij,ij->i", self.ab, self.ab)
        fl = np.asarray(GEOD.inv(self.lonlat[self.seg, 0], self.lonlat[self.seg, 1],
                                 self.lonlat[self.seg + 1, 0], self.lonlat[self.seg + 1, 1])[2],
                        dtype=float)
        self.length = fl
        self.cum = np.cumsum(fl) - fl  # arc length at each segment's start (parts end to end)
        nparts = int(self.part.max()) + 1
        self.part_first = np.searchsorted(self.part, np.arange(nparts), side="left")
        self.part_last = np.searchsorted(self.part, np.arange(nparts), side="right") - 1
        chord = np.sqrt(self.ab2)
        self.sag = float(np.max(chord) ** 2 / (8.0 * EARTH_RADIUS_M * 0.99)) if len(chord) else 0.0
        centre = self.xyz.mean(axis=0)
        self.diam = float(2.0 * np.max(np.linalg.norm(self.xyz - centre, axis=1)))
        self.levels = self._hierarchy()
        self.soa = _soa(self.a, self.ab)
        self.end = np.ascontiguousarray((va + self.ab).T)  # segment end vertices, (3, n)
        # the coarse levels only prune: float32 about the centre, tubes widened to cover
        # its rounding (≤ 2 m at 13,000 km from the centre)
        self.origin = centre
        for lv in self.levels:
            lv["soa"] = _soa(lv["a"] - centre, lv["ab"], lv["tau"] + 8.0).astype(np.float32)
        # start the search at the finest level that still has few nodes
        self.top = 0
        while self.top + 1 < len(self.levels) and len(self.levels[self.top + 1]["lo"]) <= 16:
            self.top += 1
        self.tree, self.leaf_seg = self._padded()

    def _padded(self) -> tuple[list[np.ndarray], np.ndarray]:
        """The levels below the top as packed tables of shape (8, parents, _BRANCH): the
        children of node i of one level are block i of the next table (missing children are
        dummies ``_DUMMY_M`` metres away, never kept), so the search gathers whole blocks and
        needs no child lists. Also the fine segment of each leaf column (−1: a dummy)."""
        real = np.arange(len(self.levels[self.top]["lo"]) if self.levels else len(self.seg))
        tables = []
        k = np.arange(_BRANCH)
        for depth in range(self.top, len(self.levels)):
            lv = self.levels[depth]
            ok = real >= 0
            child = np.full((len(real), _BRANCH), -1)
            child0, nchild = lv["child0"][real[ok]], lv["nchild"][real[ok]]
            child[ok] = np.where(k < nchild[:, None], child0[:, None] + k, -1)
            child = child.ravel()
            src = self.soa if depth + 1 == len(self.levels) else self.levels[depth + 1]["soa"]
            table = np.zeros((8, len(child)), dtype=src.dtype)
            table[:, child >= 0] = src[:, child[child >= 0]]
            table[:3, child < 0] = _DUMMY_M
            tables.append(table.reshape(8, -1, _BRANCH))
            real = child
        return tables, real

    def _hierarchy(self) -> list[dict[str, np.ndarray]]:
        """Levels of runs, coarsest first. A node covers segments [lo, hi) of one part."""
        lo = np.arange(len(self.seg))
        hi = lo + 1
        levels = []
        while True:
            # group consecutive nodes of the same part into runs of _BRANCH
            part = self.part[lo]
            newrun = np.r_[True, part[1:] != part[:-1]]
            pos = np.arange(len(lo)) - np.maximum.accumulate(np.where(newrun, np.arange(len(lo)),
                                                                      0))
            start = newrun | (pos % _BRANCH == 0)
            if start.all():
                break
            first = np.flatnonzero(start)
            count = np.diff(np.r_[first, len(lo)])
            nlo, nhi = lo[first], hi[first + count - 1]
            axis_a = self.xyz[self.seg[nlo]]
            axis_b = self.xyz[self.seg[nhi - 1] + 1]
            tau = np.zeros(len(nlo))
            # tube radius: every vertex of the run to the run's axis chord (exact for chords)
            owner = np.repeat(np.arange(len(nlo)), nhi - nlo)
            vid = self.seg[_ranges(nlo, nhi)]
            d = _point_segment(self.xyz[vid], axis_a[owner], axis_b[owner] - axis_a[owner])[0]
            np.maximum.at(tau, owner, d)
            levels.append({"lo": nlo, "hi": nhi, "a": axis_a, "ab": axis_b - axis_a,
                           "tau": tau * (1 + 1e-9) + 1e-6, "child0": first, "nchild": count})
            lo, hi = nlo, nhi
        return levels[::-1]


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of arange(lo[i], hi[i]) over i, without a Python loop."""
    size = hi - lo
    return np.repeat(lo - np.cumsum(size) + size, size) + np.arange(int(size.sum()))


def _point_segment(p: np.ndarray, a: np.ndarray,
                   ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distance from points ``p`` (n, 3) to segments a → a + ab (n, 3) and the
    parameter 0..1 of the foot."""
    return _pseg(np.ascontiguousarray(p.T), _soa(a, ab))


def _soa(a: np.ndarray, ab: np.ndarray, tau: np.ndarray | None = None) -> np.ndarray:
    """Segments packed as rows ax, ay, az, ux, uy, uz, 1/|ab|² (0 if empty), tube radius —
    one ``np.take`` gathers them all."""
    ab2 = np.einsum("ij,ij->i", ab, ab)
    inv = np.divide(1.0, ab2, out=np.zeros_like(ab2), where=ab2 > 0)
    return np.ascontiguousarray(np.vstack([a.T, ab.T, inv, np.zeros(len(a)) if tau is None
                                           else tau]))


def _pseg(p: np.ndarray, segs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance from points ``p`` (3, m) to packed segments ``segs`` (8, m) and the foot
    parameter, component-wise."""
    dx, dy, dz = p[0] - segs[0], p[1] - segs[1], p[2] - segs[2]
    ux, uy, uz = segs[3], segs[4], segs[5]
    t = (dx * ux + dy * uy + dz * uz) * segs[6]
    np.clip(t, 0.0, 1.0, out=t)
    dx -= t * ux
    dy -= t * uy
    dz -= t * uz
    return np.sqrt(dx * dx + dy * dy + dz * dz), t


def _group_starts(pt: np.ndarray) -> np.ndarray:
    """Start of each run of equal values in the sorted array ``pt``."""
    new = np.empty(len(pt), dtype=bool)
    new[:1] = True
    np.not_equal(pt[1:], pt[:-1], out=new[1:])
    return np.flatnonzero(new)


def _group_sizes(starts: np.ndarray, total: int) -> np.ndarray:
    """Sizes of the runs that begin at ``starts`` in an array of length ``total``."""
    size = np.empty(len(starts), dtype=np.int64)
    np.subtract(starts[1:], starts[:-1], out=size[:-1])
    size[-1:] = total - starts[-1:]
    return size


def _shell(c: np.ndarray, lines: _Lines) -> np.ndarray:
    """How much farther (chord metres) than the nearest a piece can be and still be
    geodesically nearer: κ c² × the largest separation, plus both chords' sagitta."""
    return _KAPPA * c * c * np.minimum(2.0 * c, lines.diam) + 2.0 * lines.sag + 1e-3


def _chord_candidates(p: np.ndarray, lines: _Lines) -> tuple[np.ndarray, ...]:
    """Pairs (point row, fine segment) that can hold each point's nearest point, sorted by
    point, then by segment: (pt, seg, chord distance m, foot parameter, and per point the
    nearest chord distance m). Branch and bound down the hierarchy: a run is dropped when its
    lower bound (axis distance − tube) exceeds the best upper bound (axis distance + tube)
    by more than the ranking slack (:func:`_shell`). Below the top level each kept node's
    children are one block of the next packed table (:meth:`_Lines._padded`)."""
    n = len(p)
    pt3 = np.ascontiguousarray(p.T)
    if lines.tree:
        table = lines.levels[lines.top]["soa"]
        q = (pt3 - lines.origin[:, None]).astype(np.float32)
    else:
        table, q = lines.soa, pt3
    # every top node for every point: broadcast, shape (nodes, points)
    d, t = _pseg(q[:, None, :], table[:, :, None])
    tau = table[7][:, None]
    best = np.min(d + tau, axis=0).astype(float)
    limit = best + _shell(best, lines)
    width = table.shape[1]
    f = np.flatnonzero(((d - tau) <= limit).T)
    pt = f // width
    ids = f - pt * width
    if not lines.tree:
        return pt, ids, d.T.ravel()[f], t.T.ravel()[f], best
    for depth, table in enumerate(lines.tree):
        leaf = depth == len(lines.tree) - 1
        segs = np.take(table, ids, axis=1)  # (8, pairs, _BRANCH): the children of each pair
        d, t = _pseg(np.take(pt3 if leaf else q, pt, axis=1)[:, :, None], segs)
        if leaf:
            lb = ub = d
        else:
            lb, ub = d - segs[7], d + segs[7]
        row = ub[:, 0].copy()  # each pair's best child (a column loop: min(axis=1) is slow)
        for k in range(1, _BRANCH):
            np.minimum(row, ub[:, k], out=row)
        best = np.full(n, np.inf, dtype=row.dtype)  # same dtypes: ufunc.at's fast loop
        np.minimum.at(best, pt, row)
        best = best.astype(float)
        limit = best + _shell(best, lines)
        f = np.flatnonzero(lb <= limit[pt][:, None])
        r = f // _BRANCH
        pt, ids = pt[r], ids[r] * _BRANCH + (f - r * _BRANCH)
    return pt, lines.leaf_seg[ids], d.ravel()[f], t.ravel()[f], best


def _one_basin(pt: np.ndarray, seg: np.ndarray, d: np.ndarray, c: np.ndarray,
               p: np.ndarray, lines: _Lines) -> np.ndarray:
    """Per point row of ``c``: True when its candidate segments within the ranking slack of
    the nearest chord distance ``c`` are consecutive pieces of one part along which the
    chord distance falls then rises (one basin, so the geodesic nearest point is in the
    chord-nearest point's basin). Rows without pairs are True."""
    ok = np.ones(len(c), dtype=bool)
    comp = d <= (c + _shell(c, lines))[pt]
    pt, seg, d = pt[comp], seg[comp], d[comp]  # still sorted by point, then by segment
    if not len(pt):
        return ok
    starts = _group_starts(pt)
    count = _group_sizes(starts, len(pt))
    first = seg[starts]
    last = seg[starts + count - 1]
    good = (last - first + 1 == count) & (lines.part[first] == lines.part[last])
    # the chord distance falls then rises along d_0, v_1, d_1, v_2, …: d_k the piece's
    # minimum, v_k the vertex it shares with the next piece
    q = np.take(p.T, pt, axis=1) - np.take(lines.end, seg, axis=1)
    vend = np.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2])
    seq = np.empty(2 * len(d))
    seq[0::2], seq[1::2] = d, vend
    lab = np.repeat(pt, 2)
    keep = np.ones(len(seq), dtype=bool)
    keep[2 * (starts + count - 1) + 1] = False  # no vertex after a group's last piece
    seq, lab = seq[keep], lab[keep]
    same = lab[1:] == lab[:-1]
    diff = np.diff(seq)
    idx = np.arange(len(diff))
    big = len(seq) + 1
    rise = np.where(same & (diff > 1e-7), idx, big)
    fall = np.where(same & (diff < -1e-7), idx, -1)
    # diff i belongs to point lab[i] (a diff across two points is masked by same)
    first_rise = np.full(len(c), big)
    last_fall = np.full(len(c), -1)
    np.minimum.at(first_rise, lab[:-1], rise)
    np.maximum.at(last_fall, lab[:-1], fall)
    rows = pt[starts]
    good &= last_fall[rows] < first_rise[rows]
    ok[pt[starts]] = good
    return ok


def _fast_on_lines(la: np.ndarray, lo: np.ndarray,
                   lines: _Lines) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(distance_m, lon, lat, certified) for each point.

    A chord search (:func:`_chord_candidates`) finds the segment nearest in ECEF; when the
    ranking slack between chord and geodesic distance is small, or the competing segments
    form one basin (:func:`_one_basin`), the point is certified: one ``Geod.inv`` from the
    chord foot gives the distance and the azimuth, and one along-track step on the ellipsoid
    moves the foot to the geodesic nearest point. Other points (``certified`` False) are
    measured by :func:`_exact_on_candidates`."""
    p = _ecef(lo, la)
    pt, seg, d, t, c = _chord_candidates(p, lines)  # sorted by point, then by segment
    at_min = np.flatnonzero(d == c[pt])  # every point has at least one
    first = at_min[_group_starts(pt[at_min])]
    j, t0 = seg[first], t[first]
    certified = (np.abs(la) < _POLAR_LAT) & (not lines.polar) & (c <= _FAR_CHORD_M)
    hard = _shell(c, lines) > _FREE_SLACK_M
    if hard.any():
        rows = np.flatnonzero(hard)
        sel = hard[pt]
        remap = np.cumsum(hard) - 1
        certified[rows] &= _one_basin(remap[pt[sel]], seg[sel], d[sel], c[rows], p[rows],
                                      lines)
    # a foot on a vertex is taken as the end of the segment before it (same part)
    part = np.take(lines.part, j)
    first_seg, last_seg = np.take(lines.part_first, part), np.take(lines.part_last, part)
    back = (t0 <= 0.0) & (j > first_seg)
    j = np.where(back, j - 1, j)
    t0 = np.where(back, 1.0, t0)
    lon0, lat0, frame = _on_segment(lines, j, t0, frame=True)
    az, _, d0 = GEOD.inv(lon0, lat0, lo, la)  # azimuth at the foot towards P, distance
    d0 = np.asarray(d0, dtype=float)
    az = np.radians(np.asarray(az, dtype=float))
    a0 = np.minimum(d0 / EARTH_RADIUS_M, 1.5)
    length = np.take(lines.length, j)
    alpha = az - _heading(lines, j, frame)
    step = EARTH_RADIUS_M * np.arctan(np.tan(a0) * np.cos(alpha))  # along-track to the foot
    moved = np.clip(step, -t0 * length, (1.0 - t0) * length)  # stays on segment j
    with np.errstate(invalid="ignore", divide="ignore"):
        t1 = np.clip(np.nan_to_num(t0 + moved / length), 0.0, 1.0)
    d1 = _moved_distance(a0, moved, alpha)
    j1 = j
    # a foot on the vertex between j and j + 1: step into the next segment too (same azimuth)
    nxt = (t0 >= 1.0) & (j < last_seg)
    if nxt.any():
        k = np.flatnonzero(nxt)
        jn = j[k] + 1
        alpha_n = az[k] - _heading(lines, jn, tuple(f[k] for f in frame))
        ln = np.take(lines.length, jn)
        step_n = EARTH_RADIUS_M * np.arctan(np.tan(a0[k]) * np.cos(alpha_n))
        moved_n = np.clip(step_n, 0.0, ln)
        dn = _moved_distance(a0[k], moved_n, alpha_n)
        closer = dn < d1[k]
        step[k[~closer]] = moved[k[~closer]]  # the vertex itself: nothing lies beyond
        k, jn = k[closer], jn[closer]
        with np.errstate(invalid="ignore", divide="ignore"):
            t1[k] = np.clip(np.nan_to_num(moved_n[closer] / ln[closer]), 0.0, 1.0)
        d1[k] = dn[closer]
        j1 = j1.copy()
        j1[k] = jn
        step[k], moved[k] = step_n[closer], moved_n[closer]
    lon1, lat1 = _on_segment(lines, j1, t1)
    farther = ~(d1 < d0) | (d0 / EARTH_RADIUS_M >= 1.5)
    d1 = np.where(farther, d0, d1)
    lon1 = np.where(farther, lon0, lon1)
    lat1 = np.where(farther, lat0, lat1)
    # the foot lies past the end of its segment: measure on the piece beyond as well
    part = np.take(lines.part, j1)
    over = (((step > moved + 1e-3) & (j1 < np.take(lines.part_last, part)))
            | ((step < moved - 1e-3) & (j1 > np.take(lines.part_first, part))))
    if over.any():
        k = np.flatnonzero(over)
        part = part[k]
        s = np.take(lines.cum, j[k]) + t0[k] * length[k] + step[k]
        s = np.clip(s, lines.cum[lines.part_first[part]],
                    lines.cum[lines.part_last[part]] + lines.length[lines.part_last[part]])
        j2 = np.clip(np.searchsorted(lines.cum, s, side="right") - 1,
                     lines.part_first[part], lines.part_last[part])
        with np.errstate(invalid="ignore", divide="ignore"):
            t2 = np.clip(np.nan_to_num((s - lines.cum[j2]) / lines.length[j2]), 0.0, 1.0)
        lon2, lat2 = _on_segment(lines, j2, t2)
        d2 = np.asarray(GEOD.inv(lo[k], la[k], lon2, lat2)[2], dtype=float)
        closer = d2 < d1[k]
        k = k[closer]
        d1[k], lon1[k], lat1[k] = d2[closer], lon2[closer], lat2[closer]
    if not certified.all():
        rows = np.flatnonzero(~certified)
        sel = ~certified[pt]
        remap = np.cumsum(~certified) - 1
        d1[rows], lon1[rows], lat1[rows] = _exact_on_candidates(
            la[rows], lo[rows], remap[pt[sel]], seg[sel], d[sel], t[sel], c[rows], lines)
    return d1, lon1, lat1, certified


def _exact_on_candidates(la: np.ndarray, lo: np.ndarray, pt: np.ndarray, seg: np.ndarray,
                         d: np.ndarray, t: np.ndarray, c: np.ndarray,
                         lines: _Lines) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The exact path. The candidate segments whose chord distance is within the ranking slack
    of the nearest hold the geodesic nearest point; in each run of consecutive candidates
    (a basin) the one nearest by chord is measured on the ellipsoid (one ``Geod.inv`` and
    one along-track step); the nearest of those (and the segment beyond it when its foot is
    at an end) is measured again by the iterative geodesic refinement (:func:`_refine`). Beyond
    ``_FAR_CHORD_M`` every candidate is refined. (distance_m, lon, lat) per row of ``la``."""
    keep = d <= (c + _shell(c, lines))[pt]
    pt, seg, t, d = pt[keep], seg[keep], t[keep], d[keep]
    # each candidate: one Geod.inv from its chord foot and one along-track step (as the
    # fast path does for one segment) ranks them; the winner is then refined iteratively.
    # Beyond _FAR_CHORD_M the step is not trusted: every candidate is refined.
    far = (c > _FAR_CHORD_M)[pt]
    if far.any():
        dist, lon, lat = np.empty(len(c)), np.empty(len(c)), np.empty(len(c))
        rows = np.unique(pt[far])
        va, vb = lines.seg[seg[far]], lines.seg[seg[far]] + 1
        dd, xx, yy = _refine(lo[pt[far]], la[pt[far]], lines.lonlat[va, 0],
                             lines.lonlat[va, 1], lines.lonlat[vb, 0], lines.lonlat[vb, 1],
                             t[far])
        order = np.lexsort((dd, pt[far]))
        first = order[_group_starts(pt[far][order])]
        dist[rows], lon[rows], lat[rows] = dd[first], xx[first], yy[first]
        if far.all():
            return dist, lon, lat
        near_rows = np.setdiff1d(np.arange(len(c)), rows)
        remap = np.full(len(c), -1)
        remap[near_rows] = np.arange(len(near_rows))
        sub = _exact_on_candidates(la[near_rows], lo[near_rows], remap[pt[~far]], seg[~far],
                                   d[~far], t[~far], c[near_rows], lines)
        dist[near_rows], lon[near_rows], lat[near_rows] = sub
        return dist, lon, lat
    # only the chord minimum of each run of consecutive pieces (one per basin) is measured
    linked = (pt[1:] == pt[:-1]) & (seg[1:] == seg[:-1] + 1)
    low = np.ones(len(pt), dtype=bool)
    low[1:] &= ~linked | (d[1:] <= d[:-1])
    low[:-1] &= ~linked | (d[:-1] <= d[1:])
    pt, seg, t = pt[low], seg[low], t[low]
    lon0, lat0, frame = _on_segment(lines, seg, t, frame=True)
    az, _, d0 = GEOD.inv(lon0, lat0, lo[pt], la[pt])
    d0 = np.asarray(d0, dtype=float)
    a0 = np.minimum(d0 / EARTH_RADIUS_M, 1.5)
    alpha = np.radians(np.asarray(az, dtype=float)) - _heading(lines, seg, frame)
    length = np.take(lines.length, seg)
    step = EARTH_RADIUS_M * np.arctan(np.tan(a0) * np.cos(alpha))
    moved = np.clip(step, -t * length, (1.0 - t) * length)
    rank = np.minimum(d0, _moved_distance(a0, moved, alpha))
    with np.errstate(invalid="ignore", divide="ignore"):
        t1 = np.clip(np.nan_to_num(t + moved / length), 0.0, 1.0)
    order = np.lexsort((rank, pt))
    first = order[_group_starts(pt[order])]
    pt, seg, t1 = pt[first], seg[first], t1[first]
    # the winner by the iterative refinement, and the piece beyond it when its foot is at
    # one of its ends (same part)
    part = np.take(lines.part, seg)
    side = np.where(t1 >= 1.0, 1, np.where(t1 <= 0.0, -1, 0))
    nb = np.clip(seg + side, np.take(lines.part_first, part), np.take(lines.part_last, part))
    extra = nb != seg
    pt = np.concatenate([pt, pt[extra]])
    t1 = np.concatenate([t1, np.where(side[extra] > 0, 0.0, 1.0)])
    seg = np.concatenate([seg, nb[extra]])
    va, vb = lines.seg[seg], lines.seg[seg] + 1
    dist, lon, lat = _refine(lo[pt], la[pt], lines.lonlat[va, 0], lines.lonlat[va, 1],
                             lines.lonlat[vb, 0], lines.lonlat[vb, 1], t1)
    order = np.lexsort((dist, pt))
    best = order[_group_starts(pt[order])]
    return dist[best], lon[best], lat[best]


def _heading(lines: _Lines, j: np.ndarray, frame: tuple[np.ndarray, ...]) -> np.ndarray:
    """Azimuth (radians) of fine segment j at a point of it with the given frame."""
    sl, cl, sp, cp = frame
    ux, uy, uz = np.take(lines.soa[3:6], j, axis=1)
    east = -sl * ux + cl * uy
    north = -sp * (cl * ux + sl * uy) + cp * uz
    return np.arctan2(east, north)


def _moved_distance(a0: np.ndarray, moved: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Distance (m) from P to the foot moved by ``moved`` metres along the segment, P being
    ``a0`` radians away at angle ``alpha`` from the heading: the haversine law of cosines.
    Its first order (−moved·cos α) is exact on the ellipsoid (α is the geodesic's); the
    sphere only enters the second order, a relative 0.3 % of a centimetre-size change."""
    b = moved / EARTH_RADIUS_M
    hav = np.sin((a0 - b) / 2.0) ** 2 + np.sin(a0) * np.sin(b) * np.sin(alpha / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0)))


def _on_segment(lines: _Lines, j: np.ndarray, t: np.ndarray,
                frame: bool = False) -> tuple[np.ndarray, ...]:
    """(lon, lat) of the point at parameter t of fine segment j, on the surface (the chord
    point moved along the normal; on the geodesic within micrometres); vertices exact.
    With ``frame``, also the sin/cos of its longitude and latitude (see :func:`_geodetic`)."""
    s = np.take(lines.soa, j, axis=1)
    out = _geodetic(s[0] + t * s[3], s[1] + t * s[4], s[2] + t * s[5], frame)
    lon, lat = out[0], out[1]
    at_end = (t <= 0.0) | (t >= 1.0)
    if at_end.any():
        k = np.flatnonzero(at_end)
        v = np.take(lines.seg, j[k]) + (t[k] >= 1.0)
        lon[k], lat[k] = lines.lonlat[v, 0], lines.lonlat[v, 1]
    return out


@functools.lru_cache(maxsize=16)
def _prepared(wkb: bytes) -> _Lines:
    return _Lines(shapely.from_wkb(wkb))


def prepared_lines(geom: Any) -> _Lines:
    """The prepared structure of a line/boundary geometry, cached by its WKB."""
    return _prepared(shapely.to_wkb(geom))


# ------------------------------------------------------------------------ geodesic buffers
def _circles(centres: np.ndarray, radius_m: float, n: int) -> list[np.ndarray]:
    """Geodesic circles (n vertices each) around (lon, lat) centres, in one ``Geod.fwd``."""
    m = len(centres)
    az = np.tile(np.linspace(0.0, 360.0, n, endpoint=False), m)
    x, y, _ = GEOD.fwd(np.repeat(centres[:, 0], n), np.repeat(centres[:, 1], n), az,
                       np.full(m * n, radius_m))
    return list(np.column_stack([x, y]).reshape(m, n, 2))


def _vertices_per_circle(radius_m: float) -> int:
    # chord sagitta ≤ 2e-5 of the radius: 1 - cos(π/n) ≤ 2e-5 → n ≥ 497
    return 512 if radius_m > 1000 else 64


def _corridor(a: np.ndarray, b: np.ndarray, radius_m: float, step_m: float) -> list[np.ndarray]:
    """Quadrilateral-like strips at exactly ``radius_m`` either side of each geodesic segment."""
    az, _, seg_len = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    rings = []
    for k in np.flatnonzero(seg_len > 0):
        m = max(math.ceil(seg_len[k] / step_m), 1)
        s = np.linspace(0.0, seg_len[k], m + 1)
        lon, lat, back = GEOD.fwd(np.full(m + 1, a[k, 0]), np.full(m + 1, a[k, 1]),
                                  np.full(m + 1, az[k]), s)
        fwd_az = np.asarray(back, dtype=float) + 180.0
        lx, ly, _ = GEOD.fwd(lon, lat, fwd_az - 90.0, np.full(m + 1, radius_m))
        rx, ry, _ = GEOD.fwd(lon, lat, fwd_az + 90.0, np.full(m + 1, radius_m))
        rings.append(np.vstack([np.column_stack([lx, ly]),
                                np.column_stack([rx, ry])[::-1]]))
    return rings


def buffer(geom: Any, radius_m: float) -> Any:
    """Geodesic buffer: every place within ``radius_m`` metres of a (lon, lat) geometry.

    Built from geodesic circles around the vertices and strips at exactly the radius either
    side of each segment (all by ``Geod.fwd``), unioned in an azimuthal equidistant projection
    centred on the geometry and returned in lon/lat. Then every boundary vertex is moved onto
    the exact geodesic distance from the original geometry (:func:`_snap_to_radius`), so each
    vertex lies at the radius within ``BUFFER_VERTEX_TOLERANCE`` (0.01 %; in practice
    ≤ 0.0001 %; tests and scripts/bench_geodesy.py check every vertex with
    :func:`buffer_vertex_errors`). Buffers that would cross the antimeridian or reach a pole
    raise BadParameter.
    """
    if geom is None or geom.is_empty:
        raise BadParameter("Cannot buffer an empty geometry.")
    try:
        radius_m = float(radius_m)
    except (TypeError, ValueError):
        raise BadParameter("The buffer radius must be a number of kilometres.") from None
    if not math.isfinite(radius_m) or radius_m <= 0:
        raise BadParameter(f"The buffer radius must be more than 0 km (got {radius_m / 1000:g}).")
    if radius_m > MAX_BUFFER_M:
        raise BadParameter(f"The buffer radius is limited to {MAX_BUFFER_M / 1000:,.0f} km.")
    _minx, miny, _maxx, maxy = geom.bounds
    reach_deg = math.degrees(radius_m / EARTH_RADIUS_M)
    if maxy + reach_deg >= 89.9 or miny - reach_deg <= -89.9:
        raise BadParameter("This buffer would reach a pole; polar buffers are not supported.")
    if geom.geom_type == "Point":  # a geodesic circle: every vertex exact by construction
        ring = _circles(np.array([[geom.x, geom.y]]), radius_m, _vertices_per_circle(radius_m))[0]
        if np.ptp(ring[:, 0]) > 180.0:
            raise BadParameter("This buffer would cross the antimeridian (180°); "
                               "buffers there are not supported.")
        return shapely.Polygon(ring[::-1])  # counter-clockwise exterior (RFC 7946)
    centre = geom.centroid
    tr = aeqd_transformer(centre.y, centre.x)
    # simplify the source by ≤ 0.02 % of the radius (in metres) to keep the union small
    proj = shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    simple = shapely.simplify(proj, tolerance=radius_m * 2e-4, preserve_topology=True)
    back = shapely.transform(simple, lambda xy: np.column_stack(
        tr.transform(xy[:, 0], xy[:, 1], direction="INVERSE")))
    verts = shapely.get_coordinates(back)
    n = _vertices_per_circle(radius_m)
    pieces = _circles(np.unique(verts, axis=0), radius_m, n)
    if back.geom_type not in ("Point", "MultiPoint"):
        a, b = _segments(back)
        pieces += _corridor(a, b, radius_m, step_m=max(min(radius_m / 20.0, 20_000.0), 50.0))
    for ring in pieces:
        if np.ptp(ring[:, 0]) > 180.0:
            raise BadParameter("This buffer would cross the antimeridian (180°); "
                               "buffers there are not supported.")
    flat = np.concatenate(pieces)  # one projection call for every piece
    fx, fy = tr.transform(flat[:, 0], flat[:, 1])
    to_proj = np.split(np.column_stack([fx, fy]), np.cumsum([len(r) for r in pieces])[:-1])
    polys = shapely.polygons([shapely.linearrings(r) for r in to_proj])
    polys = shapely.make_valid(polys)
    parts = [polys]
    if back.geom_type.endswith("Polygon"):
        parts.append(np.array([shapely.make_valid(simple)]))
    merged = shapely.union_all(np.concatenate([np.atleast_1d(p) for p in parts]))
    out = shapely.transform(merged, lambda xy: np.column_stack(
        tr.transform(xy[:, 0], xy[:, 1], direction="INVERSE")))
    out = shapely.make_valid(shapely.orient_polygons(out) if hasattr(shapely, "orient_polygons")
                             else out)
    polys_only = [g for g in shapely.get_parts(out) if g.geom_type == "Polygon"]
    result = shapely.union_all(polys_only) if len(polys_only) > 1 else polys_only[0]
    return _snap_to_radius(result, geom, radius_m)


def buffer_vertex_errors(buf: Any, geom: Any, radius_m: float) -> np.ndarray:
    """Signed relative error ``(d − r) / r`` of EVERY vertex of a buffer (all rings), with
    ``d`` the geodesic distance (m) from the vertex to ``geom`` (negative inside a polygon)."""
    xy = shapely.get_coordinates(buf)
    res = nearest_on_geometry(xy[:, 1], xy[:, 0], geom)
    d = res["distance_m"].to_numpy()
    d = np.where(res["inside"].to_numpy(), -d, d)
    return (d - radius_m) / radius_m


def _snap_to_radius(buf: Any, geom: Any, radius_m: float) -> Any:
    """Move every boundary vertex onto the exact geodesic distance ``radius_m`` from ``geom``.

    The union of circles and strips (chords, a simplified source, the projection) leaves
    vertices a little off the radius, worst where pieces meet. Each vertex is moved along
    the geodesic from its nearest point on the (original) geometry to exactly ``radius_m``;
    vertices where two parts of the geometry are equally near (concave corners) need a few
    rounds, because moving away from one part can bring the vertex nearer to another. Moved
    vertices can land on (or just past) a neighbour: such near-duplicates and hairline spikes
    are dropped (vertices are only removed, never added, so every kept vertex is exact).
    """
    xy = shapely.get_coordinates(buf).copy()
    todo = np.arange(len(xy))
    prev = np.full((len(xy), 2), np.nan)  # the nearest point of the previous round
    for _ in range(_SNAP_ROUNDS):
        res = nearest_on_geometry(xy[todo, 1], xy[todo, 0], geom)
        d = res["distance_m"].to_numpy()
        off = (np.abs(d - radius_m) > radius_m * _SNAP_TOLERANCE) & ~res["inside"].to_numpy()
        off &= d > 0
        if not off.any():
            break
        todo = todo[off]
        near = np.column_stack([res["nearest_lon"].to_numpy()[off],
                                res["nearest_lat"].to_numpy()[off]])
        before = prev[todo]
        prev[todo] = near
        known = np.isfinite(before[:, 0])
        moved = np.zeros(len(todo), dtype=bool)
        if known.any():  # the nearest part changed: a corner between two parts
            k = np.flatnonzero(known)
            apart = np.asarray(GEOD.inv(before[k, 0], before[k, 1], near[k, 0],
                                        near[k, 1])[2], dtype=float)
            k = k[apart > radius_m * 1e-6]
            if len(k):
                x, y, ok = _two_circle_point(before[k], near[k], xy[todo[k]], radius_m)
                xy[todo[k[ok]], 0], xy[todo[k[ok]], 1] = x[ok], y[ok]
                moved[k[ok]] = True
        rest = ~moved  # radial: straight away from the nearest point, to the radius
        az = GEOD.inv(near[rest, 0], near[rest, 1], xy[todo[rest], 0], xy[todo[rest], 1])[0]
        x, y, _ = GEOD.fwd(near[rest, 0], near[rest, 1], az, np.full(int(rest.sum()), radius_m))
        xy[todo[rest], 0], xy[todo[rest], 1] = x, y
    snapped = shapely.transform(buf, lambda _xy: xy)
    # near-duplicates and spikes narrower than 2e-5 of the radius (in degrees of latitude)
    gap_deg = math.degrees(radius_m * 2e-5 / EARTH_RADIUS_M)
    snapped = shapely.remove_repeated_points(snapped, tolerance=gap_deg)
    if not snapped.is_valid:
        snapped = shapely.simplify(snapped, tolerance=gap_deg, preserve_topology=False)
    if not snapped.is_valid:  # last resort: repair, keep the polygons
        snapped = shapely.make_valid(snapped)
    parts = [g for g in shapely.get_parts(snapped) if g.geom_type == "Polygon" and g.area > 0]
    return shapely.union_all(parts) if len(parts) > 1 else parts[0]


def _two_circle_point(a: np.ndarray, b: np.ndarray, p: np.ndarray,
                      radius_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points at ``radius_m`` from both (lon, lat) ``a`` and ``b``, nearest the guesses ``p``.

    Newton's method on the ellipsoid: the gradient of the geodesic distance from A at P is
    the unit vector of the geodesic A→P's azimuth at P, so each step solves a 2×2 system in
    local east/north metres and moves P by ``Geod.fwd``. Returns (lon, lat, converged).
    """
    px, py = p[:, 0].copy(), p[:, 1].copy()
    ok = np.ones(len(p), dtype=bool)
    for _ in range(6):
        _, back_a, da = GEOD.inv(a[:, 0], a[:, 1], px, py)
        _, back_b, db = GEOD.inv(b[:, 0], b[:, 1], px, py)
        ua = np.radians(np.asarray(back_a, dtype=float) + 180.0)
        ub = np.radians(np.asarray(back_b, dtype=float) + 180.0)
        ae, an, be, bn = np.sin(ua), np.cos(ua), np.sin(ub), np.cos(ub)
        det = ae * bn - an * be
        ok &= np.abs(det) > 1e-4  # nearly tangent circles: no well-defined corner
        safe = np.where(ok, det, 1.0)
        ra = radius_m - np.asarray(da, dtype=float)
        rb = radius_m - np.asarray(db, dtype=float)
        de = (ra * bn - rb * an) / safe
        dn = (ae * rb - be * ra) / safe
        step = np.hypot(de, dn)
        ok &= step < radius_m * 0.01  # a far jump means the guess was not near this corner
        step = np.where(ok, step, 0.0)
        px, py, _ = GEOD.fwd(px, py, np.degrees(np.arctan2(de, dn)), step)
        px, py = np.asarray(px, dtype=float), np.asarray(py, dtype=float)
    return px, py, ok


def rings(geom: Any, radii_m: Any) -> list[Any]:
    """Geodesic buffers for several radii (metres), in the order given (range rings)."""
    radii = list(np.atleast_1d(np.asarray(radii_m, dtype=float)))
    if not radii:
        raise BadParameter("Give at least one radius.")
    return [buffer(geom, r) for r in radii]
