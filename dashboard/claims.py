"""Quantitative claims from the article and reporting (``geodata/claims.json``) against
measured values on the WGS84 ellipsoid. No Streamlit, no folium.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dashboard import geodesy, layers, settings
from dashboard.analysis import distance_to_border
from dashboard.errors import DataError
from dashboard.settings import KM_PER_MILE
from dashboard.sites import Site, measure_distance, resolve_site


# claims check
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

