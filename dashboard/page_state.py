"""The page's view state and its permalink form (URL query string); pure Python, no Streamlit.

A copied link reopens the same view: layers, basemap, every event filter (categories, dates,
ACLED event/sub-event types, countries, actor text, minimum fatalities), the map's centre and
zoom, the open tab, measured sites, distance-matrix sites, buffer target and radii. Anything
malformed in a URL is ignored and replaced by the default, so a hand-edited link never breaks
the page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from dashboard import analysis, geodesy
from dashboard.errors import DashboardError

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
TABS = ("Measure", "Buffers", "Claims", "Data")
#: Tabs below the map; only the open one is drawn (a lighter page on every rerun).
BELOW = ("Events table", "Events per day", "Claims checked")
MAX_ZOOM = 18


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
    event_types: tuple[str, ...] = ()
    sub_event_types: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    actor: str = ""
    min_fatalities: int = 0
    tab: str = TABS[0]
    below: str = BELOW[0]
    center: tuple[float, float] | None = None
    zoom: int | None = None


def parse_radii(text: str) -> tuple[float, ...]:
    """Radii in km from text such as "10, 50 100", by the core parser
    (analysis.parse_radii_km, the same rule as the CLI); raises its one-sentence BadParameter."""
    return tuple(analysis.parse_radii_km(text))


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
    with contextlib.suppress(DashboardError):
        state = replace(state, radii_km=parse_radii(_first(params, "radii")))
    state = replace(state, event_types=_names(_first(params, "etype")),
                    sub_event_types=_names(_first(params, "subtype")),
                    countries=_names(_first(params, "country")),
                    actor=_first(params, "actor")[:100])
    with contextlib.suppress(ValueError):
        state = replace(state, min_fatalities=min(max(int(_first(params, "minfat")), 0), 10**6))
    if _first(params, "tab") in TABS:
        state = replace(state, tab=_first(params, "tab"))
    if _first(params, "below") in BELOW:
        state = replace(state, below=_first(params, "below"))
    with contextlib.suppress(ValueError):
        lat, lon = (float(v) for v in _first(params, "c").split(","))
        if geodesy.latlon_ok(lat, lon):
            state = replace(state, center=(lat, lon))
    with contextlib.suppress(ValueError):
        zoom = int(_first(params, "z"))
        if 1 <= zoom <= MAX_ZOOM:
            state = replace(state, zoom=zoom)
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
    for key, values in (("etype", state.event_types), ("subtype", state.sub_event_types),
                        ("country", state.countries)):
        if values:
            q[key] = ",".join(values)
    if state.actor:
        q["actor"] = state.actor
    if state.min_fatalities:
        q["minfat"] = str(int(state.min_fatalities))
    if state.tab != TABS[0]:
        q["tab"] = state.tab
    if state.below != BELOW[0]:
        q["below"] = state.below
    if state.center is not None:
        q["c"] = f"{state.center[0]:.4f},{state.center[1]:.4f}"
    if state.zoom is not None:
        q["z"] = str(int(state.zoom))
    return q
