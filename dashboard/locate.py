"""Constraint geolocation: the region where an unplaced site can lie, from reported distances
to sites and the border and the province it is in. No Streamlit, no folium.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point

from dashboard import geodesy, layers, settings
from dashboard.analysis import _target_geometry
from dashboard.errors import BadParameter
from dashboard.sites import resolve_site


@dataclass(frozen=True)
class FromSite:
    """The unknown point lies ``km`` ± ``tol_km`` from a site (name, id or LAT,LON).

    ``measure`` "straight" (default) is a geodesic band; "road" (or "unspecified", a figure
    that may be by road) only bounds the straight line from above: 0 … ``km + tol_km``.
    """

    site: str
    km: float
    tol_km: float
    measure: str = "straight"


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
#: The two readings of "about 90 km from Panjgur" (the official may have meant by road).
SABZ_KOH_READINGS: dict[str, tuple[Any, ...]] = {
    "straight-line": SABZ_KOH_CONSTRAINTS,
    "road": (FromSite("Panjgur", 90.0, 15.0, measure="road"), FromBorder(45.0, 10.0),
             Within("PK-BA")),
}


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
    if hasattr(c, "describe"):
        return c.describe()
    if isinstance(c, FromSite) and c.measure != "straight":
        return (f"{c.km:g} ± {c.tol_km:g} km ({c.measure}) from {resolve_site(c.site).name}, "
                f"so at most {c.km + c.tol_km:g} km in a straight line")
    if isinstance(c, FromSite):
        return f"{c.km:g} ± {c.tol_km:g} km from {resolve_site(c.site).name}"
    if isinstance(c, FromBorder):
        return f"{c.km:g} ± {c.tol_km:g} km from the Iran–Pakistan border"
    return f"inside {c.iso_3166_2}"


def locate(constraints: Sequence[Any], *, context: Any = None) -> LocateResult:
    """Intersect geodesic rings (FromSite), bands (FromBorder), provinces (Within) and
    catalogue constraints (dashboard.constraints.Constraint: within, distance_to, near).

    ``context`` (a constraints.Context) lets several calls share its cached buffers.
    """
    from dashboard import constraints as cons

    if not constraints:
        raise BadParameter("Give at least one constraint.")
    region = None
    ctx = context
    for c in constraints:
        if isinstance(c, cons.Constraint):
            ctx = ctx or cons.Context.from_geodata(settings.GEODATA_DIR)
            part = ctx.region(c)
        elif isinstance(c, FromSite):
            s = resolve_site(c.site)
            if c.measure not in ("straight", "road", "unspecified"):
                raise BadParameter(f"Unknown distance measure {c.measure!r}; use straight or road.")
            if c.measure == "straight":
                part = _band(Point(s.lon, s.lat), c.km, c.tol_km)
            else:
                part = _band(Point(s.lon, s.lat), (c.km + c.tol_km) / 2, (c.km + c.tol_km) / 2)
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



@dataclass
class Reading:
    """One reading of a site's reported distances: its candidate region and how much of it the
    site's catalogue disc (point ± ``radius_km``) covers (``disc_share``, 0..1 of the area)."""

    name: str
    result: LocateResult
    lat_range: tuple[float, float]
    disc_share: float
    radius_km: float
    band_area_km2: float | None = None  # the part inside ``lat_band`` (e.g. a district)
    band_disc_share: float | None = None
    lat_band: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for tables and ``--json``."""
        out = {"reading": self.name, "area_km2": round(self.result.area_km2, 1),
               "lat_min": round(self.lat_range[0], 3), "lat_max": round(self.lat_range[1], 3),
               "disc_radius_km": self.radius_km, "disc_share": round(self.disc_share, 3),
               "constraints": self.result.constraints}
        if self.lat_band is not None:
            out.update(band_lat=[round(v, 4) for v in self.lat_band],
                       band_area_km2=round(self.band_area_km2 or 0.0, 1),
                       band_disc_share=round(self.band_disc_share or 0.0, 3))
        return out

    def summary(self) -> str:
        """One sentence: area, latitude span and the share inside the disc."""
        if self.result.area_km2 == 0:
            return f"{self.name} reading: no place satisfies all its constraints."
        text = (f"{self.name} reading: {self.result.area_km2:,.0f} km² between "
                f"{self.lat_range[0]:.2f}° and {self.lat_range[1]:.2f}° N; "
                f"{self.disc_share:.0%} of it lies inside the {self.radius_km:g} km disc")
        if self.lat_band is not None:
            text += (f" ({self.band_disc_share:.0%} of the {self.band_area_km2:,.0f} km² inside "
                     f"the district's published extent {self.lat_band[0]:.2f}–"
                     f"{self.lat_band[1]:.2f}° N)")
        return text


#: Published latitude extent of Panjgur district (26°08′54″–27°17′55″ N), the district the
#: reporting puts Sabz Koh in; Natural Earth has no district polygons, so readings also report
#: the share of their region inside this band. Source: https://pakistanalmanac.com/balochistan-panjgur
PANJGUR_DISTRICT_LAT: tuple[float, float] = (26 + 8 / 60 + 54 / 3600, 27 + 17 / 60 + 55 / 3600)

_READING_NAMES = {"straight": "straight-line", "road": "road", "unspecified": "unspecified"}


def catalogue_readings(place_id: str) -> dict[str, tuple[Any, ...]]:
    """The readings a place's catalogue constraints state: constraints with the same kind and
    target but different ``measure`` are alternative readings of one figure; every other
    constraint holds in all readings. {} when the place has no constraints."""
    from dashboard import constraints as cons

    places = layers.load_places(settings.GEODATA_DIR)
    if "constraints" not in places.columns:
        return {}
    row = places.loc[places["id"] == place_id]
    raw = row["constraints"].iloc[0] if len(row) else None
    if not isinstance(raw, list) or not raw:
        return {}
    parsed = [cons.parse(c, place_id) for c in raw]
    groups: dict[tuple[str, str], list[Any]] = {}
    for c in parsed:
        groups.setdefault((c.kind, c.target), []).append(c)
    alternatives = [g for g in groups.values() if len({c.measure for c in g}) > 1]
    common = [c for g in groups.values() if len({c.measure for c in g}) <= 1 for c in g]
    if not alternatives:
        return {"as catalogued": tuple(parsed)}
    out: dict[str, tuple[Any, ...]] = {}
    for alt in alternatives[0]:  # one disputed figure is what the catalogue states today
        rest = [c for g in alternatives[1:] for c in g]
        out[_READING_NAMES.get(alt.measure, alt.measure)] = (*common, alt, *rest)
    return out


def readings(site: str = "sabz-koh", variants: dict[str, tuple[Any, ...]] | None = None, *,
             context: Any = None) -> list[Reading]:
    """Each reading's candidate region and the share of it inside the site's catalogue disc.

    Without ``variants`` the readings come from the place's catalogue constraints (the same
    facts the build checks), falling back to SABZ_KOH_READINGS for Sabz Koh.
    """
    from dashboard import constraints as cons

    s = resolve_site(site)
    if variants is None:
        variants = catalogue_readings(s.id) or (SABZ_KOH_READINGS if s.id == "sabz-koh" else {})
    if not variants:
        raise BadParameter(f"{s.name} has no location constraints to read.")
    context = context or cons.Context.from_geodata(settings.GEODATA_DIR)
    out = []
    for name, cs in variants.items():
        res = locate(cs, context=context)
        band_area = band_share = None
        band = PANJGUR_DISTRICT_LAT if s.id == "sabz-koh" else None
        if res.area_km2 > 0:
            _, miny, _, maxy = res.region.bounds
            share = cons.coverage(res.region, s.lat, s.lon, s.uncertainty_km)
            if band is not None:
                part = shapely.intersection(res.region, shapely.box(-180, band[0], 180, band[1]))
                polys = [g for g in shapely.get_parts(part) if g.geom_type == "Polygon"]
                band_area = geodesy.area_m2(shapely.union_all(polys)) / 1e6 if polys else 0.0
                band_share = (cons.coverage(shapely.union_all(polys), s.lat, s.lon,
                                            s.uncertainty_km) if polys else 0.0)
        else:
            miny = maxy = float("nan")
            share = 0.0
        out.append(Reading(name, res, (miny, maxy), share, s.uncertainty_km, band_area,
                           band_share, band))
    return out
