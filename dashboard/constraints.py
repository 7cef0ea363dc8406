"""Location constraints: check that each record's point and radius agree with its sources.

A record (an event or a place) has a point (lat, lon) and a radius ``uncertainty_km``; its
``constraints`` list states the location facts its sources give (format in
docs/CONTRACTS.md, "constraints"):

- ``within``: inside a province (ISO 3166-2 code) or a country (ISO 3166-1 alpha-3);
- ``distance_to``: ``km = [LOW, HIGH]`` from the Iran–Pakistan border or ``place:<id>``,
  ``measure`` "straight", "road" or "unspecified" — a road (or possibly road) figure only
  bounds the straight-line distance from above, so its straight-line band is [0, HIGH];
- ``near``: within HIGH km of ``place:<id>``.

The check: the record's disc (geodesic circle of ``uncertainty_km`` around the point) must
intersect every constraint's region, and the point must lie inside it unless the constraint
carries ``outside_ok`` (a reason). All distances are geodesic on WGS84 (dashboard.geodesy).
Distances to a point target and "too far" distances to the border are exact; "too close to
the border" is measured to a geodesic buffer of the border (boundary within 0.1 % of LOW).
No Streamlit, no folium.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import shapely
from shapely.geometry import Point, shape

from dashboard import geodesy, settings
from dashboard.errors import DataError

KINDS = ("within", "distance_to", "near")
MEASURES = ("straight", "road", "unspecified")
#: Below this many km a point counts as on the region's edge (coordinates have 6 decimals).
EDGE_KM = 0.001
#: Relative error allowed for distances measured to a geodesic buffer (its boundary error).
BUFFER_REL_ERROR = 1e-3


class ConstraintError(DataError):
    """A constraint is malformed or names an unknown target."""


@dataclass(frozen=True)
class Constraint:
    """One location fact from a source. ``km`` is (low, high) in km; None for ``within``."""

    kind: str
    target: str
    km: tuple[float, float] | None = None
    measure: str = "straight"
    source: str = ""
    quote: str = ""
    outside_ok: str = ""

    @property
    def straight_km(self) -> tuple[float, float] | None:
        """The straight-line (geodesic) band in km that this fact allows."""
        if self.km is None:
            return None
        low, high = self.km
        if self.kind == "near" or self.measure in ("road", "unspecified"):
            return (0.0, high)
        return (low, high)

    def describe(self) -> str:
        """Short human text, e.g. "90 km (road) from place:panjgur → straight ≤ 90 km"."""
        if self.kind == "within":
            return f"within {self.target}"
        low, high = self.km or (0.0, 0.0)
        target = "the Iran–Pakistan border" if self.target == "border" else self.target
        if self.kind == "near":
            return f"near {target} (≤ {high:g} km)"
        stated = f"{low:g}" if low == high else f"{low:g}–{high:g}"
        s_low, s_high = self.straight_km or (0.0, 0.0)
        text = f"{stated} km ({self.measure}) from {target}"
        if (s_low, s_high) != (low, high):
            text += f" → straight-line ≤ {s_high:g} km"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The constraint in the catalogue format (plus ``straight_km`` for bands)."""
        out: dict[str, Any] = {"kind": self.kind, "target": self.target}
        if self.km is not None:
            out["km"] = list(self.km)
            out["straight_km"] = list(self.straight_km or ())
        if self.kind == "distance_to":
            out["measure"] = self.measure
        out.update(source=self.source, quote=self.quote)
        if self.outside_ok:
            out["outside_ok"] = self.outside_ok
        return out


def parse(obj: Any, record_id: str = "") -> Constraint:
    """A catalogue constraint object → Constraint; ConstraintError (one sentence) if malformed."""
    where = f"{record_id}: " if record_id else ""
    if not isinstance(obj, Mapping):
        raise ConstraintError(f"{where}a constraint must be an object, not {obj!r}.")
    kind = obj.get("kind")
    if kind not in KINDS:
        raise ConstraintError(f"{where}constraint kind {kind!r} is not one of {', '.join(KINDS)}.")
    target = obj.get("target")
    if not isinstance(target, str) or not target:
        raise ConstraintError(f"{where}{kind} constraint has no target.")
    km = None
    measure = str(obj.get("measure", "straight" if kind != "distance_to" else "unspecified"))
    if kind in ("distance_to", "near"):
        raw = obj.get("km")
        if not isinstance(raw, (list, tuple)) or len(raw) != 2:
            raise ConstraintError(f"{where}{kind} constraint needs km: [LOW, HIGH].")
        try:
            low, high = float(raw[0]), float(raw[1])
        except (TypeError, ValueError):
            raise ConstraintError(f"{where}{kind} constraint needs km: [LOW, HIGH].") from None
        if not (0 <= low <= high < float("inf")):
            raise ConstraintError(f"{where}{kind} constraint km {raw!r} must be 0 ≤ LOW ≤ HIGH.")
        km = (low, high)
        if kind == "distance_to" and measure not in MEASURES:
            raise ConstraintError(
                f"{where}distance_to measure {measure!r} is not one of {', '.join(MEASURES)}.")
        if kind == "distance_to" and target != "border" and not target.startswith("place:"):
            raise ConstraintError(
                f"{where}distance_to target {target!r} must be 'border' or 'place:<id>'.")
        if kind == "near" and not target.startswith("place:"):
            raise ConstraintError(f"{where}near target {target!r} must be 'place:<id>'.")
    if not obj.get("source"):
        raise ConstraintError(f"{where}{kind} {target} constraint has no source.")
    return Constraint(kind=kind, target=target, km=km, measure=measure,
                      source=str(obj.get("source", "")), quote=str(obj.get("quote", "")),
                      outside_ok=str(obj.get("outside_ok") or ""))


@dataclass
class Context:
    """The geometries constraints refer to: provinces and countries by code, border, places."""

    provinces: dict[str, Any]
    countries: dict[str, Any]
    border: Any
    places: dict[str, tuple[float, float]]
    _buffers: dict[tuple[str, float], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_features(cls, provinces: Iterable[Mapping[str, Any]],
                      countries: Iterable[Mapping[str, Any]], border: Any,
                      places: Iterable[Mapping[str, Any]]) -> Context:
        """From GeoJSON-like features (province ``iso_3166_2``, country ``iso_a3``) and place
        records with ``id``, ``lat``, ``lon``. Parts with one code are united."""
        prov: dict[str, list[Any]] = {}
        for f in provinces:
            prov.setdefault(f["properties"]["iso_3166_2"], []).append(_geom(f))
        ctry = {f["properties"]["iso_a3"]: _geom(f) for f in countries}
        return cls(provinces={k: shapely.union_all(v) for k, v in prov.items()},
                   countries=ctry, border=_geom(border),
                   places={str(p["id"]): (float(p["lat"]), float(p["lon"])) for p in places})

    @classmethod
    def from_geodata(cls, geodata_dir: Path | None = None,
                     places: Iterable[Mapping[str, Any]] | None = None) -> Context:
        """From the committed layers in geodata/ (provinces, countries, border, places);
        ``places`` (records with ``id``, ``lat``, ``lon``, e.g. the place catalogue) replaces
        the places layer."""
        from dashboard import layers

        prov = layers.load_provinces(geodata_dir)
        ctry = layers.load_countries(geodata_dir)
        if places is not None:
            places = pd.DataFrame([{k: p[k] for k in ("id", "lat", "lon")} for p in places])
        else:
            places = layers.load_places(geodata_dir)
        return cls(
            provinces={c: shapely.union_all(g.values) for c, g in
                       prov.groupby("iso_3166_2").geometry},
            countries=dict(zip(ctry["iso_a3"], ctry.geometry, strict=True)),
            border=layers.load_border(geodata_dir).geometry,
            places={str(i): (float(la), float(lo)) for i, la, lo in
                    zip(places["id"], places["lat"], places["lon"], strict=True)})

    def area(self, code: str) -> Any:
        """Province or country polygon by ISO code; ConstraintError if unknown."""
        if code in self.provinces:
            return self.provinces[code]
        if code in self.countries:
            return self.countries[code]
        raise ConstraintError(f"{code!r} is not a province (ISO 3166-2) or country (ISO 3166-1 "
                              "alpha-3) code in geodata.")

    def place(self, target: str) -> tuple[float, float]:
        """(lat, lon) of ``place:<id>``; ConstraintError if unknown."""
        pid = target.removeprefix("place:")
        if pid not in self.places:
            raise ConstraintError(f"{target!r} names no place in the place catalogue.")
        return self.places[pid]

    def target_geometry(self, c: Constraint) -> Any:
        """The geometry a band is measured from (border line or place point), lon/lat."""
        if c.target == "border":
            return self.border
        lat, lon = self.place(c.target)
        return Point(lon, lat)

    def buffer(self, target: str, km: float) -> Any:
        """Cached geodesic buffer (km) of the border or a place."""
        key = (target, round(km, 6))
        if key not in self._buffers:
            geom = self.border if target == "border" else Point(*self.place(target)[::-1])
            self._buffers[key] = geodesy.buffer(geom, km * 1000.0)
        return self._buffers[key]

    def region(self, c: Constraint) -> Any:
        """The region (lon/lat polygon) a constraint allows, straight-line reading."""
        if c.kind == "within":
            return self.area(c.target)
        low, high = c.straight_km or (0.0, 0.0)
        outer = self.buffer(c.target, high)
        if low <= 0:
            return outer
        return shapely.difference(outer, self.buffer(c.target, low))


def _geom(f: Any) -> Any:
    if isinstance(f, Mapping):
        g = f.get("geometry", f)
        return shape(g) if isinstance(g, Mapping) else g
    return f


@dataclass(frozen=True)
class Outcome:
    """How a point and its disc relate to one constraint's region (km)."""

    record_id: str
    constraint: Constraint
    outside_km: float  # 0 when the point is inside the region
    disc_miss_km: float  # 0 when the disc reaches the region
    radius_km: float

    @property
    def ok(self) -> bool:
        """True when the disc reaches the region and the point is inside (or may be outside)."""
        return self.disc_miss_km <= 0 and (self.outside_km <= 0 or bool(self.constraint.outside_ok))

    def line(self) -> str:
        """One-line report: "<id>: <constraint> — point is X km outside; disc misses by Y km"."""
        text = f"{self.record_id}: {self.constraint.describe()} — "
        if self.outside_km <= 0:
            return text + "point is inside"
        text += f"point is {self.outside_km:.1f} km outside; "
        if self.disc_miss_km > 0:
            return text + f"disc misses by {self.disc_miss_km:.1f} km"
        if self.constraint.outside_ok:
            return text + f"disc (±{self.radius_km:g} km) reaches it; outside_ok"
        return text + (f"disc (±{self.radius_km:g} km) reaches it, but the constraint has no "
                       "outside_ok saying why the point may lie outside")


def _outside_km(c: Constraint, lat: float, lon: float, ctx: Context) -> float:
    """Geodesic distance (km) from the point to the constraint's region; 0 inside."""
    if c.kind == "within":
        near = geodesy.nearest_on_geometry([lat], [lon], ctx.area(c.target)).iloc[0]
        return 0.0 if bool(near["inside"]) else float(near["distance_m"]) / 1000.0
    low, high = c.straight_km or (0.0, 0.0)
    if c.target == "border":
        d = float(geodesy.nearest_on_geometry([lat], [lon], ctx.border)["distance_m"].iloc[0])
    else:
        plat, plon = ctx.place(c.target)
        d = float(geodesy.inverse(lat, lon, plat, plon)[0])
    d_km = d / 1000.0
    if d_km > high + EDGE_KM:
        return d_km - high  # exact: walk along the geodesic to the nearest target point
    if d_km >= low - EDGE_KM:
        return 0.0
    if c.target != "border":
        return low - d_km  # exact for a point target: walk straight away from it
    inner = ctx.buffer("border", low)
    to_edge = float(geodesy.nearest_on_geometry([lat], [lon], inner)["distance_m"].iloc[0])
    return max(to_edge / 1000.0 - low * BUFFER_REL_ERROR, 0.0)


def evaluate(record_id: str, lat: float, lon: float, radius_km: float,
             constraint: Constraint, ctx: Context) -> Outcome:
    """Where the point and its disc stand against one constraint (ConstraintError if the
    target is unknown)."""
    out = _outside_km(constraint, lat, lon, ctx)
    out = 0.0 if out <= EDGE_KM else out
    miss = out - radius_km
    return Outcome(record_id, constraint, outside_km=out,
                   disc_miss_km=miss if miss > EDGE_KM else 0.0, radius_km=radius_km)


def check_record(record_id: str, lat: float, lon: float, radius_km: float,
                 constraints: Sequence[Any], ctx: Context) -> list[str]:
    """Violation lines for one record (empty when every constraint holds)."""
    lines = []
    for raw in constraints:
        try:
            c = raw if isinstance(raw, Constraint) else parse(raw, record_id)
            outcome = evaluate(record_id, lat, lon, radius_km, c, ctx)
        except ConstraintError as err:
            msg = str(err)
            lines.append(msg if msg.startswith(f"{record_id}:") else f"{record_id}: {msg}")
            continue
        if not outcome.ok:
            lines.append(outcome.line())
    return lines


def records(events: Iterable[Mapping[str, Any]],
            places: Iterable[Mapping[str, Any]]) -> list[tuple[str, float, float, float, list]]:
    """(id, lat, lon, radius_km, constraints) for catalogue events and places."""
    out = []
    for e in events:
        out.append((str(e["event_id_cnty"]), float(e["latitude"]), float(e["longitude"]),
                    float(e["uncertainty_km"]), list(e.get("constraints") or [])))
    for p in places:
        out.append((str(p["id"]), float(p["lat"]), float(p["lon"]), float(p["uncertainty_km"]),
                    list(p.get("constraints") or [])))
    return out


def check_all(events: Iterable[Mapping[str, Any]], places: Iterable[Mapping[str, Any]],
              ctx: Context) -> list[str]:
    """Violation lines for every catalogue event and place, in catalogue order."""
    lines: list[str] = []
    for rid, lat, lon, radius, cons in records(events, places):
        if not isinstance(cons, list):
            lines.append(f"{rid}: 'constraints' must be a list.")
            continue
        lines += check_record(rid, lat, lon, radius, cons, ctx)
    return lines


def load_catalogs(events_path: Path | None = None,
                  places_path: Path | None = None) -> tuple[list[dict], list[dict]]:
    """The events and places catalogues (scripts/events_catalog.json, places_catalog.json)."""
    scripts = settings.REPO_ROOT / "scripts"
    out = []
    for path, key in ((events_path or scripts / "events_catalog.json", "events"),
                      (places_path or scripts / "places_catalog.json", "places")):
        try:
            out.append(json.loads(Path(path).read_text(encoding="utf-8"))[key])
        except FileNotFoundError:
            raise DataError(f"Catalogue {path} is missing.") from None
        except (ValueError, KeyError, TypeError) as err:
            raise DataError(f"Catalogue {path} is not valid ({err}).") from None
    return out[0], out[1]


def coverage(region: Any, lat: float, lon: float, radius_km: float) -> float:
    """Fraction (0..1) of a region's geodesic area that lies inside the disc of ``radius_km``
    around (lat, lon)."""
    if region is None or region.is_empty:
        return 0.0
    disc = geodesy.buffer(Point(lon, lat), radius_km * 1000.0)
    inter = shapely.intersection(region, disc)
    total = geodesy.area_m2(region)
    if inter.is_empty or total <= 0:
        return 0.0
    polys = [g for g in shapely.get_parts(inter) if g.geom_type == "Polygon"]
    if not polys:
        return 0.0
    return min(geodesy.area_m2(shapely.union_all(polys)) / total, 1.0)
