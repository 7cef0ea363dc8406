"""Area measurements: distance of many points to the border, geodesic buffers and rings around
the border, a province or a site, and what lies inside them. Used by the CLI and the page.

Units are in the names (``distance_m``, ``radius_km``); geometries are (lon, lat). No
Streamlit, no folium.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from dashboard import geodesy, layers, settings
from dashboard.errors import BadParameter, LayerError
from dashboard.sites import resolve_site

_BORDER_SIDES = {"IRN": "Iran", "PAK": "Pakistan"}
_SIDE_LABELS = np.array(["other", "Pakistan", "Iran", "on the border"], dtype=object)


@functools.lru_cache(maxsize=2)
def _border_sides(geodata: str) -> tuple[Any, Any]:
    countries = layers.load_countries(Path(geodata))
    geoms = []
    for iso in _BORDER_SIDES:
        rows = countries.loc[countries["iso_a3"] == iso, "geometry"]
        if rows.empty:
            raise LayerError(f"countries.geojson has no {iso} polygon.")
        geoms.append(rows.iloc[0])
    return tuple(geoms)


def distance_to_border(lats: Any, lons: Any) -> pd.DataFrame:
    """Per point: geodesic ``distance_m`` to the Iran–Pakistan border line, the ``nearest_lat``
    and ``nearest_lon`` on it, and ``side`` ("Iran", "Pakistan", "on the border" within 1 m,
    or "other" for points in neither country)."""
    border = layers.load_border(settings.GEODATA_DIR).geometry
    la, lo = geodesy.validate_latlon(lats, lons)
    la, lo = np.atleast_1d(la).ravel(), np.atleast_1d(lo).ravel()
    res = geodesy.nearest_on_geometry(la, lo, border)  # its prepared lines are cached
    irn, pak = _border_sides(str(settings.GEODATA_DIR))
    for geom in (irn, pak):  # the cached polygons, prepared once for contains_xy
        if not shapely.is_prepared(geom):
            shapely.prepare(geom)
    dist = res["distance_m"].to_numpy()
    code = np.zeros(len(la), dtype=np.int8)
    code[shapely.contains_xy(pak, lo, la)] = 1
    code[shapely.contains_xy(irn, lo, la)] = 2
    code[dist < 1.0] = 3
    side = _SIDE_LABELS[code]
    return pd.DataFrame({"distance_m": dist, "nearest_lat": res["nearest_lat"].to_numpy(),
                         "nearest_lon": res["nearest_lon"].to_numpy(), "side": side})


def _name_key(text: str) -> str:
    """Case-, accent- and punctuation-blind form of a name ("Sistan-and-Baluchestan")."""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def find_province(text: str) -> tuple[Any, str] | None:
    """A province by ISO 3166-2 code (``PK-BA``) or unique name (English or local), as
    (geometry, label); None when nothing matches. Parts of one province are merged.

    Raises BadParameter when a name matches several provinces (give the code) or a code
    names several provinces (give the name).
    """
    key = _name_key(text)
    if not key:
        return None
    provinces = layers.load_provinces(settings.GEODATA_DIR)
    codes = provinces["iso_3166_2"].astype(str)
    hit = provinces.loc[codes.map(_name_key) == key]
    if hit.empty:
        names = provinces["name"].astype(str).map(_name_key)
        local = provinces["name_local"].fillna("").astype(str).map(_name_key)
        hit = provinces.loc[(names == key) | (local == key)]
        if hit.empty:
            return None
        found = sorted(set(hit["iso_3166_2"].astype(str)))
        if len(found) > 1:
            raise BadParameter(f"{text.strip()!r} names {len(found)} provinces "
                               f"({', '.join(found)}); give the ISO 3166-2 code instead.")
    names_found = list(dict.fromkeys(hit["name"].astype(str)))
    if len(names_found) > 1:
        raise BadParameter(f"{text.strip()!r} is the code of {len(names_found)} provinces "
                           f"({', '.join(names_found)}); give the name instead.")
    geom = shapely.union_all(np.asarray(hit.geometry)) if len(hit) > 1 else hit.geometry.iloc[0]
    return geom, f"{names_found[0]} ({hit['iso_3166_2'].iloc[0]})"


def _target_geometry(target: str) -> tuple[Any, str]:
    """A buffer target: "border", a province (ISO 3166-2 code such as PK-BA, or its name)
    or a site."""
    text = str(target).strip()
    if text.casefold() == "border":
        return layers.load_border(settings.GEODATA_DIR).geometry, "Iran–Pakistan border"
    province = find_province(text)
    if province is not None:
        return province
    site = resolve_site(text)
    return Point(site.lon, site.lat), site.name


def _not_a_radius(text: str) -> str:
    return f"The radius {text[:40]!r} is not a number of km; write numbers such as 25, 50."


def parse_radii_km(radii_km: Any) -> list[float]:
    """THE radius parser (page and CLI): radii in km from a number, a list, or text such as
    "25, 50 100" or "25km; 50". Returns them ascending without repeats.

    Raises BadParameter (one sentence) for a part that is not a number, a radius ≤ 0 or
    above ``settings.MAX_RADIUS_KM``, more than ``settings.MAX_RADII`` radii, or none.
    """
    if isinstance(radii_km, str):
        text = re.sub(r"(?i)(?<=[0-9.])\s*km\b", "", radii_km)  # "10 km, 20km" → "10, 20"
        parts: list[Any] = [p for p in re.split(r"[,\s;]+", text.strip()) if p]
    elif radii_km is None:
        parts = []
    else:
        parts = list(np.atleast_1d(np.asarray(radii_km, dtype=object)).ravel())
    out: list[float] = []
    for p in parts:
        text = str(p).strip()
        try:
            r = float(p)
        except (TypeError, ValueError, OverflowError):
            raise BadParameter(_not_a_radius(text)) from None
        if not math.isfinite(r):
            raise BadParameter(_not_a_radius(text))
        if r <= 0:
            raise BadParameter(f"A radius must be more than 0 km (got {r:g} km).")
        if r > settings.MAX_RADIUS_KM:
            raise BadParameter(f"A radius can be at most {settings.MAX_RADIUS_KM:,.0f} km "
                               f"(got {r:,.6g} km).")
        out.append(r)
    if not out:
        raise BadParameter("Give at least one radius in km, such as 25, 50.")
    radii = sorted(set(out))
    if len(radii) > settings.MAX_RADII:
        raise BadParameter(f"Give at most {settings.MAX_RADII} radii at once "
                           f"(got {len(radii)}).")
    return radii


def buffer_target(target: str, radii_km: Any) -> gpd.GeoDataFrame:
    """Geodesic buffers (one row per radius, ascending) around the border, a province or a
    site. Columns: target, radius_km, area_km2 (geodesic), method, geometry (lon, lat)."""
    geom, label = _target_geometry(target)
    radii = parse_radii_km(radii_km)
    polys = geodesy.rings(geom, [r * 1000.0 for r in radii])
    return gpd.GeoDataFrame({"target": [label] * len(radii), "radius_km": radii,
                             "area_km2": [geodesy.area_m2(p) / 1e6 for p in polys],
                             "method": [geodesy.METHOD] * len(radii)},
                            geometry=polys, crs="EPSG:4326")


@dataclass
class WithinResult:
    """What lies inside buffers: counts per radius and the members with their smallest radius.

    ``summary``: per radius (km, ascending) the events and places inside it; ``members``: the
    events and places inside the largest buffer (kind, id, name, within_km: the smallest
    radius holding it), at most ``limit`` of them when one was given; ``total``: how many
    there are in all."""

    summary: pd.DataFrame
    members: pd.DataFrame
    total: int = 0


def points_within(rings: gpd.GeoDataFrame, events: gpd.GeoDataFrame | None,
                  places: gpd.GeoDataFrame | None, *,
                  event_lonlat: tuple[np.ndarray, np.ndarray] | None = None,
                  limit: int | None = None) -> WithinResult:
    """Events and places inside each buffer (``rings`` from :func:`buffer_target`).

    Members are ordered by the smallest radius holding them, events before places, events
    latest first, then in the order given. ``event_lonlat``: the events' (lon, lat) arrays
    in degrees when the caller has them (saves reading a million geometries); ``limit``:
    list at most that many members (the counts and ``total`` still include all). Only points
    inside the buffers' bounding box are tested and only listed members get a name, so a
    million events cost a few array passes."""
    radii = rings["radius_km"].to_numpy(float)
    order = np.argsort(radii, kind="stable")
    geoms = [rings.geometry.iloc[i] for i in order]
    for g in geoms:
        shapely.prepare(g)
    bbox = rings.total_bounds if len(rings) else np.array([0.0, 0.0, -1.0, -1.0])
    counts = {"event": np.zeros(len(order), dtype=int), "place": np.zeros(len(order), dtype=int)}
    found = []
    for kind, frame in (("event", events), ("place", places)):
        if frame is None or not len(frame):
            continue
        if kind == "event" and event_lonlat is not None:
            lon, lat = (np.asarray(a, dtype=float) for a in event_lonlat)
        else:
            lon, lat = frame.geometry.x.to_numpy(float), frame.geometry.y.to_numpy(float)
        pos, within, counts[kind] = _smallest_radius(geoms, radii[order], bbox, lon, lat)
        if kind == "event":  # latest first within one radius
            day = pd.to_datetime(frame["event_date"].iloc[pos], errors="coerce")
            # NaT is the smallest int64, so unknown dates come last
            key = day.to_numpy("datetime64[ns]").astype("int64").astype(float)
            rank = np.lexsort((-key, within))
        else:
            rank = np.lexsort((frame["name"].astype(str).to_numpy()[pos], within))
        found.append((kind, frame, pos[rank], within[rank]))
    total = sum(len(p) for _, _, p, _ in found)
    listed = []
    left = total if limit is None else max(int(limit), 0)
    # events come before places at one radius: merge the two sorted lists by radius
    w = np.concatenate([ws[:left] for *_, ws in found] or [np.zeros(0)])
    kk = np.concatenate([np.full(min(len(ws), left), k) for k, (*_, ws) in enumerate(found)]
                        or [np.zeros(0, dtype=int)])
    ii = np.concatenate([np.arange(min(len(ws), left)) for *_, ws in found]
                        or [np.zeros(0, dtype=int)])
    first = np.lexsort((kk, w))[:left]  # stable: each list keeps its own order
    for k, (kind, frame, pos, within) in enumerate(found):
        idx = np.sort(ii[first][kk[first] == k])
        rows = frame.iloc[pos[idx]]
        names = _event_names(rows) if kind == "event" else rows["name"].astype(str).to_numpy()
        ids = (rows["event_id_cnty"] if kind == "event" else rows["id"]).astype(str)
        listed.append(pd.DataFrame({"kind": kind, "id": ids.to_numpy(), "name": names,
                                    "within_km": within[idx], "_k": k, "_i": idx}))
    summary = pd.DataFrame({"radius_km": radii[order], "events": counts["event"],
                            "places": counts["place"]})
    cols = ["kind", "id", "name", "within_km"]
    if listed:
        members = pd.concat(listed, ignore_index=True).sort_values(
            ["within_km", "_k", "_i"], kind="stable")[cols].reset_index(drop=True)
    else:
        members = pd.DataFrame({c: [] for c in cols})
    members = members.astype({"kind": "str", "id": "str", "name": "str", "within_km": float})
    return WithinResult(summary, members, total)


def _smallest_radius(geoms: list, radii: np.ndarray, bbox: np.ndarray, lon: np.ndarray,
                     lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of the points inside the largest of ``geoms`` (buffers, radii ascending,
    prepared), each one's smallest radius (km), and how many points each buffer holds."""
    west, south, east, north = bbox
    cand = np.flatnonzero((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))
    within = np.full(len(cand), np.nan)
    counts = np.zeros(len(geoms), dtype=int)
    for j in range(len(geoms) - 1, -1, -1):  # largest first: the smallest radius wins
        inside = shapely.contains_xy(geoms[j], lon[cand], lat[cand])
        within[inside] = radii[j]
        counts[j] = int(inside.sum())
    hit = ~np.isnan(within)
    return cand[hit], within[hit], counts


def _event_names(events: pd.DataFrame) -> np.ndarray:
    """"Location: sub-event type, YYYY-MM-DD" of each event."""
    date = pd.to_datetime(events["event_date"]).dt.date.astype(str)
    return (events["location"].astype(str) + ": " + events["sub_event_type"].astype(str)
            + ", " + date).to_numpy()
