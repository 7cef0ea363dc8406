"""Measurements an analyst asks for, on the WGS84 ellipsoid: sites, distances, distance to the
border, buffers, claims check and constraint geolocation. Used by the CLI and the page alike.

Units are in the names (``distance_m``, ``radius_km``). Typed coordinates are "LAT,LON";
geometries are (lon, lat). No Streamlit, no folium.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from dashboard import events as events_mod
from dashboard import geodesy, layers, settings
from dashboard.errors import BadParameter, DataError, LayerError, UnknownSite

KM_PER_MILE = 1.609344
KM_PER_NMI = 1.852
_COORD = re.compile(r"^\s*[-+]?\d+(\.\d+)?\s*[,;]\s*[-+]?\d+(\.\d+)?\s*$")
_BORDER_SIDES = {"IRN": "Iran", "PAK": "Pakistan"}


@dataclass(frozen=True)
class Site:
    """A named point: a catalogue place, a curated event, or a typed coordinate."""

    id: str
    name: str
    lat: float
    lon: float
    uncertainty_km: float = 0.0
    kind: str = "place"
    aliases: tuple[str, ...] = ()


def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", str(text).casefold())


@functools.lru_cache(maxsize=4)
def _sites_cached(geodata: str) -> tuple[Site, ...]:
    base = Path(geodata)
    places = layers.load_places(base)
    out = [Site(id=str(r.id), name=str(r.name), lat=float(r.lat), lon=float(r.lon),
                uncertainty_km=float(r.uncertainty_km), kind="place",
                aliases=tuple(str(a) for a in r.alt_names))
           for r in places.itertuples()]
    path = base / settings.LAYER_FILES["events"]
    if path.is_file():
        ev = events_mod.load_curated_events(path)
        for r in ev.itertuples():
            date = pd.Timestamp(r.event_date).date().isoformat()
            out.append(Site(id=str(r.event_id_cnty),
                            name=f"{r.location}: {r.sub_event_type}, {date}",
                            lat=float(r.latitude), lon=float(r.longitude),
                            uncertainty_km=float(r.uncertainty_km), kind="event"))
    return tuple(out)


def known_sites() -> list[Site]:
    """Every place in ``geodata/places.geojson`` and every curated event (id = event_id_cnty)."""
    return list(_sites_cached(str(settings.GEODATA_DIR)))


def resolve_site(text: str) -> Site:
    """A site by id, name or alternative spelling (case-insensitive), or a typed "LAT,LON".

    Raises UnknownSite (with the closest names) or BadCoordinate (e.g. "95,10").
    """
    query = str(text).strip()
    if _COORD.match(query):
        lat, lon = geodesy.parse_latlon(query)
        label = f"{lat:.5f},{lon:.5f}"
        return Site(id=label, name=label, lat=lat, lon=lon, kind="coordinate")
    if not query:
        raise UnknownSite(query)
    key = _key(query)
    sites = known_sites()
    for site in sites:
        if key in {_key(site.id), _key(site.name), *(_key(a) for a in site.aliases)}:
            return site
    labels: dict[str, str] = {}
    for site in sites:
        for label in (site.name, site.id, *site.aliases):
            labels.setdefault(_key(label), site.name if site.kind == "place" else site.id)
    close = difflib.get_close_matches(key, list(labels), n=3, cutoff=0.6)
    starts = [k for k in labels if key and (k.startswith(key) or key in k)]
    suggestions = list(dict.fromkeys(labels[k] for k in [*close, *starts]))[:3]
    raise UnknownSite(query, suggestions)


@dataclass
class DistanceResult:
    """Geodesic distance between two sites, with bearings and the path for drawing."""

    origin: Site
    destination: Site
    distance_m: float
    initial_bearing_deg: float
    final_bearing_deg: float
    path: Any = field(repr=False)
    method: str = geodesy.METHOD

    def to_dict(self) -> dict[str, Any]:
        """The CLI's ``--json`` form."""
        def end(s: Site) -> dict[str, Any]:
            return {"id": s.id, "name": s.name, "lat": s.lat, "lon": s.lon,
                    "uncertainty_km": s.uncertainty_km}
        return {"from": end(self.origin), "to": end(self.destination),
                "distance_m": round(self.distance_m, 3),
                "distance_km": round(self.distance_m / 1000, 6),
                "distance_mi": round(self.distance_m / 1000 / KM_PER_MILE, 6),
                "distance_nmi": round(self.distance_m / 1000 / KM_PER_NMI, 6),
                "initial_bearing_deg": round(self.initial_bearing_deg, 6),
                "final_bearing_deg": round(self.final_bearing_deg, 6),
                "method": self.method}


def measure_distance(a: Site, b: Site) -> DistanceResult:
    """Geodesic distance (m), initial/final bearings (deg) and the path (≤ 1 km steps)."""
    dist, az1, az2 = geodesy.inverse(a.lat, a.lon, b.lat, b.lon)
    path = geodesy.geodesic_path(a.lat, a.lon, b.lat, b.lon, max_step_m=1000.0)
    return DistanceResult(a, b, float(dist), float(az1), float(az2), path)


def distance_matrix(sites: Sequence[Site]) -> pd.DataFrame:
    """Geodesic distances (m) between every pair of sites; index and columns are site names."""
    names = [s.name for s in sites]
    m = geodesy.distance_matrix([s.lat for s in sites], [s.lon for s in sites])
    return pd.DataFrame(m, index=names, columns=names)


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


def nearest_site(lat: float, lon: float, kinds: Iterable[str] = ("place",)) -> tuple[Site, float]:
    """The nearest known site of the given kinds to a point, and its distance (m)."""
    sites = [s for s in known_sites() if s.kind in set(kinds)]
    if not sites:
        raise DataError("No known sites to compare with.")
    d = geodesy.inverse(lat, lon, [s.lat for s in sites], [s.lon for s in sites])[0]
    i = int(np.argmin(d))
    return sites[i], float(d[i])


def sites_within(site: Site, km: float) -> list[tuple[Site, float]]:
    """Other known sites within ``km`` kilometres of ``site``, nearest first, with metres."""
    if km <= 0:
        raise BadParameter("The distance must be more than 0 km.")
    others = [s for s in known_sites() if s.id != site.id]
    d = geodesy.inverse(site.lat, site.lon, [s.lat for s in others], [s.lon for s in others])[0]
    keep = np.flatnonzero(d <= km * 1000.0)
    return [(others[i], float(d[i])) for i in keep[np.argsort(d[keep])]]


# ---------------------------------------------------------------------------- claims check
@dataclass
class ClaimResult:
    """One claim against the measured value (in the claim's unit)."""

    id: str
    claim: str
    source: str
    url: str
    claimed: float
    unit: str
    measured: float
    tolerance: float
    difference: float
    verdict: str
    method: str
    data: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for tables and ``--json``)."""
        return asdict(self)


def claims_path() -> Path:
    """Path of the claims file (``geodata/claims.json``)."""
    return settings.GEODATA_DIR / "claims.json"


def _measure_claim(measure: dict[str, Any]) -> tuple[float, str, str]:
    """Measured value in km, data used, note."""
    kind = measure.get("kind")
    border = layers.load_border(settings.GEODATA_DIR)
    border_data = (f"border_iran_pakistan.geojson (Natural Earth 1:10m, {border.vertex_count} "
                   f"vertices, {layers.data_version('border')})")
    if kind == "border_length":
        note = ("The Natural Earth 1:10m line is generalised: it cuts the boundary's small bends, "
                "so it measures shorter than the surveyed boundary. A gap here reflects the data's "
                "resolution, not evidence against the claim.")
        return border.length_m / 1000.0, border_data, note
    if kind == "distance_to_border":
        site = resolve_site(measure["site"])
        d = distance_to_border([site.lat], [site.lon])["distance_m"].iloc[0]
        return d / 1000.0, f"{site.name} (±{site.uncertainty_km:g} km); {border_data}", _site_note(
            site)
    if kind == "distance":
        a, b = resolve_site(measure["from"]), resolve_site(measure["to"])
        d = measure_distance(a, b).distance_m
        note = " ".join(n for n in (_site_note(a), _site_note(b)) if n)
        return d / 1000.0, (f"{a.name} (±{a.uncertainty_km:g} km) → {b.name} "
                            f"(±{b.uncertainty_km:g} km); places.geojson"), note
    raise DataError(f"claims.json: unknown measure kind {kind!r}.")


def _site_note(site: Site) -> str:
    if site.id == "sabz-koh":
        return ("Sabz Koh has no published coordinate; its position was inferred from these "
                "reported distances (±20 km), so agreement is a consistency check only.")
    return ""


def check_claims(path: Path | None = None) -> list[ClaimResult]:
    """Every claim in ``geodata/claims.json`` against the measured value and a verdict.

    Verdict: "consistent" when |measured − claimed| ≤ tolerance (claim's unit), otherwise
    "longer than claimed" / "shorter than claimed"; border-length verdicts carry the
    generalisation note.
    """
    p = path or claims_path()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        entries = data["claims"]
    except FileNotFoundError:
        raise DataError(f"Claims file {p} is missing.") from None
    except (ValueError, KeyError, TypeError) as err:
        raise DataError(f"Claims file {p} is not valid: {err}.") from None
    out = []
    for c in entries:
        km, used, note = _measure_claim(c["measure"])
        unit = c.get("unit", "km")
        measured = km / KM_PER_MILE if unit == "mi" else km
        diff = measured - float(c["claimed"])
        tol = float(c["tolerance"])
        if abs(diff) <= tol:
            verdict = "consistent"
        else:
            verdict = "longer than claimed" if diff > 0 else "shorter than claimed"
        out.append(ClaimResult(
            id=c["id"], claim=c["claim"], source=c["source"], url=c.get("url", ""),
            claimed=float(c["claimed"]), unit=unit, measured=round(measured, 3),
            tolerance=tol, difference=round(diff, 3), verdict=verdict, method=geodesy.METHOD,
            data=used, note=note))
    return out


# ------------------------------------------------------------------ constraint geolocation
@dataclass(frozen=True)
class FromSite:
    """The unknown point lies ``km`` ± ``tol_km`` from a site (name, id or LAT,LON)."""

    site: str
    km: float
    tol_km: float


@dataclass(frozen=True)
class FromBorder:
    """The unknown point lies ``km`` ± ``tol_km`` from the Iran–Pakistan border."""

    km: float
    tol_km: float


@dataclass(frozen=True)
class Within:
    """The unknown point lies inside a province (ISO 3166-2 code, e.g. PK-BA)."""

    iso_3166_2: str


SABZ_KOH_CONSTRAINTS: tuple[Any, ...] = (FromSite("Panjgur", 90.0, 15.0), FromBorder(45.0, 10.0),
                                         Within("PK-BA"))


@dataclass
class LocateResult:
    """Candidate region satisfying every constraint, with its geodesic area and centroid."""

    region: Any
    area_km2: float
    centroid_lat: float
    centroid_lon: float
    constraints: list[str]
    summary: str
    parts: list[dict[str, float]] = field(default_factory=list)
    method: str = geodesy.METHOD

    def to_dict(self) -> dict[str, Any]:
        """Summary without the geometry (the CLI's ``--json``)."""
        return {"area_km2": round(self.area_km2, 1), "centroid_lat": round(self.centroid_lat, 6),
                "centroid_lon": round(self.centroid_lon, 6), "parts": self.parts,
                "constraints": self.constraints, "summary": self.summary, "method": self.method}


def _band(geom: Any, km: float, tol_km: float) -> Any:
    if km < 0 or tol_km < 0:
        raise BadParameter("Distances and tolerances must not be negative.")
    outer = geodesy.buffer(geom, (km + tol_km) * 1000.0)
    inner_km = km - tol_km
    if inner_km <= 0:
        return outer
    return shapely.difference(outer, geodesy.buffer(geom, inner_km * 1000.0))


def _describe(c: Any) -> str:
    if isinstance(c, FromSite):
        return f"{c.km:g} ± {c.tol_km:g} km from {resolve_site(c.site).name}"
    if isinstance(c, FromBorder):
        return f"{c.km:g} ± {c.tol_km:g} km from the Iran–Pakistan border"
    return f"inside {c.iso_3166_2}"


def locate(constraints: Sequence[Any]) -> LocateResult:
    """Intersect geodesic rings (FromSite), bands (FromBorder) and provinces (Within)."""
    if not constraints:
        raise BadParameter("Give at least one constraint.")
    region = None
    for c in constraints:
        if isinstance(c, FromSite):
            s = resolve_site(c.site)
            part = _band(Point(s.lon, s.lat), c.km, c.tol_km)
        elif isinstance(c, FromBorder):
            part = _band(layers.load_border(settings.GEODATA_DIR).geometry, c.km, c.tol_km)
        elif isinstance(c, Within):
            part = _target_geometry(c.iso_3166_2)[0]
            if part.geom_type == "Point":
                raise BadParameter(f"'{c.iso_3166_2}' is not a province code such as PK-BA.")
        else:
            raise BadParameter(f"Unknown constraint {c!r}.")
        region = part if region is None else shapely.intersection(region, part)
    described = [_describe(c) for c in constraints]
    if region is None or region.is_empty or region.area == 0:
        return LocateResult(region=shapely.Polygon(), area_km2=0.0, centroid_lat=float("nan"),
                            centroid_lon=float("nan"), constraints=described,
                            summary="No place satisfies all the constraints together.")
    polys = [g for g in shapely.get_parts(region) if g.geom_type == "Polygon"]
    region = shapely.union_all(polys) if len(polys) > 1 else polys[0]
    area = geodesy.area_m2(region) / 1e6
    clat, clon = _centroid(region)
    parts = [{"area_km2": round(geodesy.area_m2(p) / 1e6, 1),
              "centroid_lat": round(_centroid(p)[0], 6), "centroid_lon": round(_centroid(p)[1], 6)}
             for p in sorted(shapely.get_parts(region), key=lambda g: -g.area)]
    summary = f"Candidate region of {area:,.0f} km² ({'; '.join(described)})"
    if len(parts) > 1:
        summary += (f", in {len(parts)} separate parts: " + "; ".join(
            f"{q['area_km2']:,.0f} km² around {q['centroid_lat']:.4f},{q['centroid_lon']:.4f}"
            for q in parts) + ". The overall centroid "
            f"{clat:.4f},{clon:.4f} lies between them, outside the region.")
    else:
        summary += f"; centroid {clat:.4f},{clon:.4f}."
    return LocateResult(region=region, area_km2=area, centroid_lat=float(clat),
                        centroid_lon=float(clon), constraints=described, summary=summary,
                        parts=parts)


def _centroid(geom: Any) -> tuple[float, float]:
    """(lat, lon) of a polygon's centroid computed in an equidistant projection centred on it."""
    rough = geom.representative_point()
    tr = geodesy.aeqd_transformer(rough.y, rough.x)
    proj = shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    lon, lat = tr.transform(proj.centroid.x, proj.centroid.y, direction="INVERSE")
    return float(lat), float(lon)
