"""Quantitative claims from the article and reporting (``geodata/claims.json``) against
measured values on the WGS84 ellipsoid. No Streamlit, no folium.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dashboard import geodesy, layers, locate, settings
from dashboard.analysis import distance_to_border
from dashboard.errors import DataError
from dashboard.settings import KM_PER_MILE
from dashboard.sites import Site, measure_distance, resolve_site

# claims check
NOT_TESTABLE = "not testable at Natural Earth 1:10m"


@dataclass
class ClaimResult:
    """One claim against the measured value (in the claim's unit).

    ``constraint`` is the claim as a location constraint of a catalogue place (None for
    border lengths and plain distances) and ``constraint_check`` its outcome from
    dashboard/constraints.py; ``readings`` lists, for claims about an unplaced site, each
    reading's candidate region and the share of it inside the site's disc.
    """

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
    constraint: str = ""
    constraint_check: str = ""
    readings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for tables and ``--json``)."""
        return asdict(self)


def claims_path() -> Path:
    """Path of the claims file (``geodata/claims.json``)."""
    return settings.GEODATA_DIR / "claims.json"


def _border_data() -> tuple[Any, str]:
    border = layers.load_border(settings.GEODATA_DIR)
    cla = border.properties.get("ne_featurecla") or "International boundary (verify)"
    return border, (f"border_iran_pakistan.geojson (Natural Earth 1:10m, {border.vertex_count} "
                    f"vertices, classed '{cla}' by Natural Earth; "
                    f"{layers.data_version('border')})")


def _measure_claim(measure: dict[str, Any]) -> tuple[float, str, str]:
    """Measured value in km, data used, note."""
    kind = measure.get("kind")
    border, border_data = _border_data()
    if kind == "border_length":
        return border.length_m / 1000.0, border_data, ""
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
                f"reported distances (±{site.uncertainty_km:g} km), so agreement is a "
                "consistency check only.")
    return ""


def _border_note(entries: list[dict[str, Any]], measured_km: float, data: str) -> str:
    spread = sorted((float(c["claimed"]) * (KM_PER_MILE if c.get("unit") == "mi" else 1.0),
                     c["claimed"], c.get("unit", "km"), c["source"]) for c in entries
                    if c["measure"].get("kind") == "border_length")
    shown: dict[tuple[str, int], str] = {}  # one entry per source and length (km or miles)
    for v, orig, unit, src in spread:
        key = (src, round(v))
        if key not in shown or unit == "mi":
            shown[key] = f"{v:,.0f} km" + (f" ({orig:g} mi)" if unit == "mi" else "")
    listed = "; ".join(f"{text} — {src}" for (src, _), text in shown.items())
    return (f"Published lengths of this boundary range from {spread[0][0]:,.0f} to "
            f"{spread[-1][0]:,.0f} km ({listed}). Our line, {data}, measures "
            f"{measured_km:,.1f} km: it is generalised (it cuts the boundary's small bends), so "
            "no published length can be confirmed or refuted with it.")


def _constraint_outcome(spec: dict[str, Any], ctx: Any) -> tuple[str, str, str]:
    """(constraint text, outcome line, verdict) of a claim stated as a place constraint."""
    from dashboard import constraints as cons

    place = resolve_site(spec["place"])
    c = cons.parse({**{k: v for k, v in spec.items() if k != "place"},
                    "source": "geodata/claims.json"}, place.id)
    out = cons.evaluate(place.id, place.lat, place.lon, place.uncertainty_km, c, ctx)
    if out.outside_km <= 0:
        verdict = "consistent"
    elif out.disc_miss_km <= 0:
        verdict = "consistent within the site's uncertainty"
    else:
        verdict = "inconsistent"
    return c.describe(), out.line(), verdict


def check_claims(path: Path | None = None) -> list[ClaimResult]:
    """Every claim in ``geodata/claims.json`` against the measured value and a verdict.

    Border lengths: "not testable at Natural Earth 1:10m", with the published spread and
    sources in the note. Claims with a ``constraint`` (a fact about a catalogue place) get
    their verdict from dashboard/constraints.py: "consistent" (the point satisfies it),
    "consistent within the site's uncertainty" (the point does not, its disc reaches it) or
    "inconsistent". Other claims: "consistent" when |measured − claimed| ≤ tolerance (claim's
    unit), else "longer than claimed" / "shorter than claimed".
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
    site_readings: dict[str, list[dict[str, Any]]] = {}
    ctx = None  # one constraints.Context for every claim: its geodesic buffers are shared
    for c in entries:
        km, used, note = _measure_claim(c["measure"])
        unit = c.get("unit", "km")
        measured = km / KM_PER_MILE if unit == "mi" else km
        diff = measured - float(c["claimed"])
        tol = float(c["tolerance"])
        ctext = check = ""
        readings: list[dict[str, Any]] = []
        if c["measure"].get("kind") == "border_length":
            verdict = NOT_TESTABLE
            note = _border_note(entries, km, used)
        elif c.get("constraint"):
            from dashboard import constraints as cons

            ctx = ctx or cons.Context.from_geodata(settings.GEODATA_DIR)
            ctext, check, verdict = _constraint_outcome(c["constraint"], ctx)
            site = c["constraint"]["place"]
            if site == "sabz-koh":
                if site not in site_readings:
                    site_readings[site] = [r.to_dict()
                                           for r in locate.readings(site, context=ctx)]
                readings = site_readings[site]
                note = " ".join(filter(None, [note, "Both readings of the Panjgur distance: " + (
                    "; ".join(f"{r['reading']} {r['area_km2']:,.0f} km² "
                              f"({r['lat_min']:.2f}–{r['lat_max']:.2f}° N), "
                              f"{r['disc_share']:.0%} inside the ±{r['disc_radius_km']:g} km disc"
                              + (f" ({r['band_disc_share']:.0%} of its "
                                 f"{r['band_area_km2']:,.0f} km² within Panjgur district's "
                                 "published latitude extent)" if "band_area_km2" in r else "")
                              for r in readings)) + "."]))
        elif abs(diff) <= tol:
            verdict = "consistent"
        else:
            verdict = "longer than claimed" if diff > 0 else "shorter than claimed"
        out.append(ClaimResult(
            id=c["id"], claim=c["claim"], source=c["source"], url=c.get("url", ""),
            claimed=float(c["claimed"]), unit=unit, measured=round(measured, 3),
            tolerance=tol, difference=round(diff, 3), verdict=verdict, method=geodesy.METHOD,
            data=used, note=note, constraint=ctext, constraint_check=check,
            readings=readings))
    return out
