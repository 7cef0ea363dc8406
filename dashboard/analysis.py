"""Area measurements: distance of many points to the border, geodesic buffers and rings around
the border, a province or a site, and what lies inside them. Used by the CLI and the page.

Units are in the names (``distance_m``, ``radius_km``); geometries are (lon, lat). No
Streamlit, no folium.
"""

from __future__ import annotations

import functools
import re
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
    res = geodesy.nearest_on_geometry(lats, lons, border)
    la, lo = geodesy.validate_latlon(lats, lons)
    la, lo = np.atleast_1d(la).ravel(), np.atleast_1d(lo).ravel()
    irn, pak = _border_sides(str(settings.GEODATA_DIR))
    side = np.full(len(la), "other", dtype=object)
    side[shapely.contains_xy(pak, lo, la)] = "Pakistan"
    side[shapely.contains_xy(irn, lo, la)] = "Iran"
    side[res["distance_m"].to_numpy() < 1.0] = "on the border"
    return pd.DataFrame({"distance_m": res["distance_m"].to_numpy(),
                         "nearest_lat": res["nearest_lat"].to_numpy(),
                         "nearest_lon": res["nearest_lon"].to_numpy(), "side": side})


def _target_geometry(target: str) -> tuple[Any, str]:
    """A buffer target: "border", a province ISO 3166-2 code (e.g. PK-BA) or a site."""
    text = str(target).strip()
    if text.casefold() == "border":
        return layers.load_border(settings.GEODATA_DIR).geometry, "Iran–Pakistan border"
    provinces = layers.load_provinces(settings.GEODATA_DIR)
    hit = provinces.loc[provinces["iso_3166_2"].str.casefold() == text.casefold()]
    if not hit.empty:
        row = hit.iloc[0]
        return row.geometry, f"{row['name']} ({row['iso_3166_2']})"
    site = resolve_site(text)
    return Point(site.lon, site.lat), site.name


def parse_radii_km(radii_km: Any) -> list[float]:
    """Radii in km (a number, a list, or text like "25, 50"); positive, ascending, unique."""
    if isinstance(radii_km, str):
        parts = [p for p in re.split(r"[,\s;]+", radii_km.strip()) if p]
    else:
        parts = list(np.atleast_1d(radii_km))
    out = []
    for p in parts:
        try:
            r = float(p)
        except (TypeError, ValueError):
            raise BadParameter(f"'{p}' is not a distance in km.") from None
        if not np.isfinite(r) or r <= 0:
            raise BadParameter(f"A radius must be more than 0 km (got {p}).")
        out.append(r)
    if not out:
        raise BadParameter("Give at least one radius in km.")
    return sorted(set(out))


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
    """What lies inside buffers: counts per radius and the members with their smallest radius."""

    summary: pd.DataFrame
    members: pd.DataFrame


def points_within(rings: gpd.GeoDataFrame, events: gpd.GeoDataFrame | None,
                  places: gpd.GeoDataFrame | None) -> WithinResult:
    """Events and places inside each buffer (``rings`` from :func:`buffer_target`)."""
    frames = []
    if events is not None and len(events):
        date = pd.to_datetime(events["event_date"]).dt.date.astype(str)
        frames.append(pd.DataFrame({
            "kind": "event", "id": events["event_id_cnty"].astype(str).to_numpy(),
            "name": (events["location"].astype(str) + ": " + events["sub_event_type"].astype(str)
                     + ", " + date).to_numpy(),
            "lon": events.geometry.x.to_numpy(), "lat": events.geometry.y.to_numpy()}))
    if places is not None and len(places):
        frames.append(pd.DataFrame({
            "kind": "place", "id": places["id"].astype(str).to_numpy(),
            "name": places["name"].astype(str).to_numpy(),
            "lon": places.geometry.x.to_numpy(), "lat": places.geometry.y.to_numpy()}))
    pts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["kind", "id", "name", "lon", "lat"])
    within = np.full(len(pts), np.nan)
    rows = []
    order = np.argsort(rings["radius_km"].to_numpy())
    for i in order[::-1]:  # largest first so the smallest containing radius wins
        geom = rings.geometry.iloc[i]
        radius = float(rings["radius_km"].iloc[i])
        inside = shapely.contains_xy(geom, pts["lon"].to_numpy(float), pts["lat"].to_numpy(float))
        within[inside] = radius
        rows.append({"radius_km": radius,
                     "events": int(np.sum(inside & (pts["kind"] == "event").to_numpy())),
                     "places": int(np.sum(inside & (pts["kind"] == "place").to_numpy()))})
    summary = pd.DataFrame(rows[::-1], columns=["radius_km", "events", "places"])
    members = pts.assign(within_km=within).dropna(subset=["within_km"])
    members = members.sort_values(["within_km", "kind", "name"])[
        ["kind", "id", "name", "within_km"]].reset_index(drop=True)
    return WithinResult(summary, members)
