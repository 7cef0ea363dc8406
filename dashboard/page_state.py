"""The page's view state and its permalink form (URL query string); pure Python, no Streamlit.

A copied link reopens the same view: layers, basemap, event types, dates, measured sites,
distance-matrix sites, buffer target and radii. Anything malformed in a URL is ignored and
replaced by the default, so a hand-edited link never breaks the page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

#: Overlay layers a user can switch on and off (key -> sidebar label).
LAYERS: dict[str, str] = {
    "countries": "Countries",
    "provinces": "Provinces",
    "border": "Iran–Pakistan border",
    "places": "Places",
    "discs": "Uncertainty discs",
    "basemap": "Land basemap (offline)",
}
DEFAULT_LAYERS = tuple(LAYERS)
BASEMAPS = ("vector", "osm", "satellite")
MAX_RADII = 8
MAX_RADIUS_KM = 5000.0


@dataclass(frozen=True)
class ViewState:
    """Everything a permalink carries. Dates are inclusive; ``types`` None means all types."""

    layers: tuple[str, ...] = DEFAULT_LAYERS
    basemap: str = "vector"
    types: tuple[str, ...] | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    site_a: str = ""
    site_b: str = ""
    matrix: tuple[str, ...] = ()
    buffer_target: str = ""
    radii_km: tuple[float, ...] = field(default=())


def parse_radii(text: str) -> tuple[float, ...]:
    """Parse "10, 50 100" into radii in km; raises ValueError naming the bad part."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    radii = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"{part.strip()!r} is not a number of kilometres.") from None
        if not 0 < value <= MAX_RADIUS_KM:
            raise ValueError(f"radius {value:g} km is outside 0–{MAX_RADIUS_KM:g} km.")
        radii.append(value)
    if len(radii) > MAX_RADII:
        raise ValueError(f"at most {MAX_RADII} radii at once (got {len(radii)}).")
    return tuple(sorted(set(radii)))


def _first(params: Mapping[str, object], key: str) -> str:
    value = params.get(key)
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return str(value or "").strip()[:200]


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _names(text: str, allowed: Sequence[str] | None = None, limit: int = 50) -> tuple[str, ...]:
    items = [t.strip() for t in text.split(",") if t.strip()][:limit]
    if allowed is not None:
        items = [t for t in items if t in allowed]
    return tuple(dict.fromkeys(items))


def from_query(params: Mapping[str, object], *, event_types: Sequence[str] = (),
               min_date: dt.date | None = None, max_date: dt.date | None = None) -> ViewState:
    """ViewState from query parameters; missing or invalid entries fall back to defaults."""
    state = ViewState()
    if "layers" in params:
        state = replace(state, layers=_names(_first(params, "layers"), list(LAYERS)))
    if _first(params, "base") in BASEMAPS:
        state = replace(state, basemap=_first(params, "base"))
    if "types" in params:
        state = replace(state, types=_names(_first(params, "types"), list(event_types)))
    start, end = _date(_first(params, "from")), _date(_first(params, "to"))
    if min_date and max_date:
        start = min(max(start, min_date), max_date) if start else None
        end = min(max(end, min_date), max_date) if end else None
    if start and end and start > end:
        start, end = end, start
    state = replace(state, start=start, end=end)
    state = replace(state, site_a=_first(params, "a"), site_b=_first(params, "b"),
                    matrix=_names(_first(params, "matrix"), limit=12),
                    buffer_target=_first(params, "buf"))
    with contextlib.suppress(ValueError):
        state = replace(state, radii_km=parse_radii(_first(params, "radii")))
    return state


def to_query(state: ViewState, *, all_types: Sequence[str] = ()) -> dict[str, str]:
    """Query parameters for ``state`` (defaults are left out to keep links short)."""
    q: dict[str, str] = {}
    if tuple(state.layers) != DEFAULT_LAYERS:
        q["layers"] = ",".join(state.layers)
    if state.basemap != "vector":
        q["base"] = state.basemap
    if state.types is not None and set(state.types) != set(all_types):
        q["types"] = ",".join(state.types)
    if state.start:
        q["from"] = state.start.isoformat()
    if state.end:
        q["to"] = state.end.isoformat()
    for key, value in (("a", state.site_a), ("b", state.site_b), ("buf", state.buffer_target)):
        if value:
            q[key] = value
    if state.matrix:
        q["matrix"] = ",".join(state.matrix)
    if state.radii_km:
        q["radii"] = ",".join(f"{r:g}" for r in state.radii_km)
    return q
