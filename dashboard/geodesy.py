"""Geodesy on the WGS84 ellipsoid: distances, paths, nearest points, buffers, lengths, areas.

Everything goes through ``pyproj.Geod(ellps="WGS84")`` (Karney's GeographicLib algorithms) and
is vectorised with numpy. Distances are metres, bearings degrees clockwise from true north in
[0, 360), coordinates degrees. Function arguments are (lat, lon) in that order; shapely
geometries are (lon, lat) as in GeoJSON. No Streamlit, no folium.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry import LineString, MultiLineString

from dashboard.errors import BadCoordinate, BadParameter

GEOD = Geod(ellps="WGS84")
METHOD = ("WGS84 ellipsoid; geodesics by pyproj.Geod (GeographicLib algorithms, "
          "C. F. F. Karney, J. Geodesy 87, 2013)")
EARTH_RADIUS_M = 6_371_008.8  # mean radius, only for bounds and vertex counts, never a result
MAX_BUFFER_M = 5_000_000.0
_REFINE_ITERATIONS = 5  # along-track steps; tests check ≤ 1 mm against a dense brute force


def validate_latlon(lat: Any, lon: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return float arrays; raise BadCoordinate when any lat ∉ [-90, 90] or lon ∉ [-180, 180]."""
    la = np.asarray(lat, dtype=float)
    lo = np.asarray(lon, dtype=float)
    if not (np.all(np.isfinite(la)) and np.all(np.isfinite(lo))):
        raise BadCoordinate("Coordinates must be finite numbers.")
    if np.any(np.abs(la) > 90):
        bad = float(la.flat[int(np.argmax(np.abs(la) > 90))])
        raise BadCoordinate(f"Latitude {bad:g} is outside -90..90 (coordinates are LAT,LON).")
    if np.any(np.abs(lo) > 180):
        bad = float(lo.flat[int(np.argmax(np.abs(lo) > 180))])
        raise BadCoordinate(f"Longitude {bad:g} is outside -180..180 (coordinates are LAT,LON).")
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
def _segments(geom: Any) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (lon, lat) of every straight piece of a line/polygon boundary."""
    lines = shapely.get_parts(shapely.boundary(geom) if geom.geom_type.endswith("Polygon")
                              else geom)
    starts, ends = [], []
    for line in shapely.get_parts(lines):
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
    """Geodesic distance (m) from each point to the nearest point of a line or polygon boundary.

    Columns: ``distance_m``, ``nearest_lat``, ``nearest_lon``, ``inside`` (True for points
    inside a polygon; always False for lines). Accurate to well under 1 m up to 2,000 km.

    Method: an STRtree of the geometry's segments in an azimuthal equidistant projection
    centred on the geometry picks, per point, the segments that can be nearest (a bound that
    allows for the projection's scale error), then each candidate is refined on the ellipsoid.
    """
    if geom is None or geom.is_empty:
        raise BadParameter("Cannot measure distance to an empty geometry.")
    la, lo = validate_latlon(lats, lons)
    la, lo = np.atleast_1d(la).ravel(), np.atleast_1d(lo).ravel()
    n = len(la)
    if n == 0:
        return pd.DataFrame({"distance_m": [], "nearest_lat": [], "nearest_lon": [],
                             "inside": pd.Series([], dtype=bool)})
    a, b = _segments(geom)
    centre = geom.centroid
    tr = aeqd_transformer(centre.y, centre.x)
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
    if geom.geom_type.endswith("Polygon"):
        inside = shapely.contains_xy(geom, lo, la) | (best_d < 1e-6)
    else:
        inside = np.zeros(n, dtype=bool)
    return pd.DataFrame({"distance_m": best_d, "nearest_lat": best_lat,
                         "nearest_lon": best_lon, "inside": inside})


# ------------------------------------------------------------------------ geodesic buffers
def _circle(lat: float, lon: float, radius_m: float, n: int) -> np.ndarray:
    az = np.linspace(0.0, 360.0, n, endpoint=False)
    x, y, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), az, np.full(n, radius_m))
    return np.column_stack([x, y])


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
    centred on the geometry and returned in lon/lat; its boundary lies at the radius within
    0.1 % (tests and scripts/bench_geodesy.py sample it). Buffers that would cross the
    antimeridian or reach a pole raise BadParameter.
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
    centre = geom.centroid
    tr = aeqd_transformer(centre.y, centre.x)
    # simplify the source by ≤ 0.02 % of the radius (in metres) to keep the union small
    proj = shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    simple = shapely.simplify(proj, tolerance=radius_m * 2e-4, preserve_topology=True)
    back = shapely.transform(simple, lambda xy: np.column_stack(
        tr.transform(xy[:, 0], xy[:, 1], direction="INVERSE")))
    verts = shapely.get_coordinates(back)
    n = _vertices_per_circle(radius_m)
    pieces = [_circle(lat, lon, radius_m, n) for lon, lat in np.unique(verts, axis=0)]
    if back.geom_type not in ("Point", "MultiPoint"):
        a, b = _segments(back)
        pieces += _corridor(a, b, radius_m, step_m=max(min(radius_m / 20.0, 20_000.0), 50.0))
    for ring in pieces:
        if np.ptp(ring[:, 0]) > 180.0:
            raise BadParameter("This buffer would cross the antimeridian (180°); "
                               "buffers there are not supported.")
    to_proj = [np.column_stack(tr.transform(r[:, 0], r[:, 1])) for r in pieces]
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
    return result


def rings(geom: Any, radii_m: Any) -> list[Any]:
    """Geodesic buffers for several radii (metres), in the order given (range rings)."""
    radii = list(np.atleast_1d(np.asarray(radii_m, dtype=float)))
    if not radii:
        raise BadParameter("Give at least one radius.")
    return [buffer(geom, r) for r in radii]
