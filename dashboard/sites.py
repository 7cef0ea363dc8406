"""Named sites (catalogue places, curated events, typed LAT,LON) and distances between them.

A site is resolved by id, name or alternative spelling, or from a typed "LAT,LON"; distances
and bearings are WGS84 geodesics. No Streamlit, no folium.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dashboard import events as events_mod
from dashboard import geodesy, layers, settings
from dashboard.errors import BadParameter, DataError, UnknownSite
from dashboard.settings import KM_PER_MILE, KM_PER_NMI

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_COORD = re.compile(rf"^\s*{_NUMBER}\s*[,;]\s*{_NUMBER}\s*$")


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
    """Geodesic distance between two sites, with bearings and the path for drawing.

    The bearings are NaN when the two sites are the same point (a direction is undefined
    for a zero distance); :attr:`bearing_defined` says which case it is.
    """

    origin: Site
    destination: Site
    distance_m: float
    initial_bearing_deg: float
    final_bearing_deg: float
    path: Any = field(repr=False)
    method: str = geodesy.METHOD

    @property
    def bearing_defined(self) -> bool:
        """False when the distance is zero (same point): there is no direction."""
        return bool(np.isfinite(self.initial_bearing_deg) and np.isfinite(self.final_bearing_deg))

    def to_dict(self) -> dict[str, Any]:
        """The CLI's ``--json`` form (bearings null when the distance is zero)."""
        def bearing(value: float) -> float | None:
            return round(value, 6) if self.bearing_defined else None

        def end(s: Site) -> dict[str, Any]:
            return {"id": s.id, "name": s.name, "lat": s.lat, "lon": s.lon,
                    "uncertainty_km": s.uncertainty_km}
        return {"from": end(self.origin), "to": end(self.destination),
                "distance_m": round(self.distance_m, 3),
                "distance_km": round(self.distance_m / 1000, 6),
                "distance_mi": round(self.distance_m / 1000 / KM_PER_MILE, 6),
                "distance_nmi": round(self.distance_m / 1000 / KM_PER_NMI, 6),
                "initial_bearing_deg": bearing(self.initial_bearing_deg),
                "final_bearing_deg": bearing(self.final_bearing_deg),
                "method": self.method}


def measure_distance(a: Site, b: Site) -> DistanceResult:
    """Geodesic distance (m), initial/final bearings (deg; NaN for a zero distance) and the
    path (≤ 1 km steps)."""
    dist, az1, az2 = geodesy.inverse(a.lat, a.lon, b.lat, b.lon)
    if float(dist) == 0.0:
        az1 = az2 = np.nan
    path = geodesy.geodesic_path(a.lat, a.lon, b.lat, b.lon, max_step_m=1000.0)
    return DistanceResult(a, b, float(dist), float(az1), float(az2), path)


def distance_matrix(sites: Sequence[Site]) -> pd.DataFrame:
    """Geodesic distances (m) between every pair of sites; index and columns are site names."""
    names = [s.name for s in sites]
    m = geodesy.distance_matrix([s.lat for s in sites], [s.lon for s in sites])
    return pd.DataFrame(m, index=names, columns=names)


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

