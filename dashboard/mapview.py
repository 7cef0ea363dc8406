"""Folium map built from layers and results: offline Leaflet, styles, escaping (no Streamlit here).

Every string that comes from data is passed through :func:`esc` before it reaches the
browser; popups and tooltips are pre-escaped HTML carried in GeoJSON properties and bound
by our own small Leaflet template (folium's ``Popup`` needs jQuery and a JS template literal).
Geometries are GeoJSON lon/lat; folium ``location``/``center`` values are (lat, lon).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from dashboard.escape import esc

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: URL prefix under which Streamlit serves STATIC_DIR (server.enableStaticServing).
STATIC_URL = "/app/static"
LEAFLET_JS = "leaflet/leaflet.js"
LEAFLET_CSS = "leaflet/leaflet.css"
#: Our own Leaflet control that plays the events through time in the browser.
TIMEPLAY_JS = "dash/timeplay.js"
#: Our own view helpers: label declutter by zoom, centre/zoom into the URL, focus scroll.
VIEW_JS = "dash/view.js"
#: The map's scripts under STATIC_DIR, in loading order.
MAP_SCRIPTS = (LEAFLET_JS, TIMEPLAY_JS, VIEW_JS)
SEA_COLOUR = "#dcebf5"
LAND_COLOUR = "#f7f4ec"

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}


@dataclass(frozen=True)
class EventStyle:
    """How one event type (the ``category`` column) is drawn: label, colour and marker shape."""

    label: str
    color: str
    shape: str


#: One style per event category (events.CATEGORIES): Okabe-Ito colours and distinct shapes, so
#: no two categories share both. Our own categories first, then ACLED's six event types
#: (ACLED rows get their category from ``event_type`` via events.ACLED_CATEGORY).
EVENT_STYLES: dict[str, EventStyle] = {
    "strike": EventStyle("State strike", OKABE_ITO["vermillion"], "triangle"),
    "retaliation": EventStyle("Retaliatory strike", OKABE_ITO["blue"], "square"),
    "attack": EventStyle("Militant attack", OKABE_ITO["orange"], "diamond"),
    "diplomatic": EventStyle("Diplomatic step", OKABE_ITO["purple"], "circle"),
    "battle": EventStyle("Battle (ACLED)", OKABE_ITO["black"], "cross"),
    "remote_violence": EventStyle("Explosion/remote violence (ACLED)", OKABE_ITO["vermillion"],
                                  "star"),
    "violence_against_civilians": EventStyle("Violence against civilians (ACLED)",
                                             OKABE_ITO["orange"], "pentagon"),
    "protest": EventStyle("Protest (ACLED)", OKABE_ITO["green"], "hexagon"),
    "riot": EventStyle("Riot (ACLED)", OKABE_ITO["yellow"], "diamond"),
    "strategic_development": EventStyle("Strategic development (ACLED)", OKABE_ITO["sky_blue"],
                                        "circle"),
    "other": EventStyle("Other", "#777777", "square"),
}
_FALLBACK = [
    (OKABE_ITO["green"], "cross"),
    (OKABE_ITO["yellow"], "pentagon"),
    (OKABE_ITO["black"], "hexagon"),
    (OKABE_ITO["sky_blue"], "cross"),
]

# SVG paths in a 20x20 box.
_SHAPES = {
    "circle": '<circle cx="10" cy="10" r="7"/>',
    "triangle": '<path d="M10 2 L18.5 17 L1.5 17 Z"/>',
    "square": '<rect x="3" y="3" width="14" height="14"/>',
    "diamond": '<path d="M10 1.5 L18.5 10 L10 18.5 L1.5 10 Z"/>',
    "star": '<path d="M10 1.5 L12.4 7.3 L18.6 7.6 L13.8 11.5 L15.4 17.6 L10 14.2 '
    'L4.6 17.6 L6.2 11.5 L1.4 7.6 L7.6 7.3 Z"/>',
    "hexagon": '<path d="M10 2 L17 6 L17 14 L10 18 L3 14 L3 6 Z"/>',
    "pentagon": '<path d="M10 2 L18 8 L15 17.5 L5 17.5 L2 8 Z"/>',
    "cross": '<path d="M7 2 H13 V7 H18 V13 H13 V18 H7 V13 H2 V7 H7 Z"/>',
}


def event_style(category: str, known: Sequence[str] = ()) -> EventStyle:
    """Style for an event type; unknown types get a fallback by their position in ``known``."""
    if category in EVENT_STYLES:
        return EVENT_STYLES[category]
    extra = [k for k in sorted(known) if k not in EVENT_STYLES]
    idx = extra.index(category) if category in extra else len(extra)
    color, shape = _FALLBACK[idx % len(_FALLBACK)]
    label = str(category).replace("_", " ").capitalize() or "Other"
    return EventStyle(label, color, shape)


def shape_svg(shape: str, color: str, size: int = 18, label: str = "") -> str:
    """Inline SVG for a marker shape, with a white outline so it reads on any background."""
    body = _SHAPES.get(shape, _SHAPES["circle"])
    text = ""
    if label:
        text = (
            f'<text x="10" y="13.5" text-anchor="middle" font-size="8" font-weight="700" '
            f'fill="#fff" stroke="#000" stroke-width="0.6" paint-order="stroke">{esc(label)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 20 20"><g fill="{color}" stroke="#fff" stroke-width="1.6" '
        f'stroke-linejoin="round">{body}</g>{text}</svg>'
    )


def bounds_view(
    south: float, west: float, north: float, east: float, *, width_px: int = 900,
    height_px: int = 620,
) -> tuple[tuple[float, float], int]:
    """Centre (lat, lon) and integer Web-Mercator zoom fitting a lat/lon box in a map that size
    (latitudes beyond ±85° count as ±85°)."""
    x0, y_north = world_px(0.0, np.clip(north, -_VIEW_LAT, _VIEW_LAT), 0)
    _, y_south = world_px(0.0, np.clip(south, -_VIEW_LAT, _VIEW_LAT), 0)
    lon_span = max(east - west, 1e-6) / 360.0
    y_span = max(float(y_south - y_north) / 256.0, 1e-6)
    zoom_x = np.log2(width_px / 256.0 / lon_span)
    zoom_y = np.log2(height_px / 256.0 / y_span)
    zoom = int(np.clip(np.floor(min(zoom_x, zoom_y)), 1, 14))
    _, lat_mid = world_lonlat(x0, (y_north + y_south) / 2, 0)
    return (round(float(lat_mid), 5), round((west + east) / 2, 5)), zoom


_VIEW_LAT = 85.0  # views the page sets or reads are kept within ±85° latitude


_MAX_LAT = 85.0511287798  # Leaflet's Web-Mercator latitude limit


def world_px(lon: Any, lat: Any, zoom: int) -> tuple[np.ndarray, np.ndarray]:
    """Web-Mercator pixel coordinates (x east, y south, from the world's top-left corner) of
    lon/lat degrees on a map at integer ``zoom``, as Leaflet draws them (for placing text on
    screen, never for distances)."""
    size = 256.0 * 2.0 ** zoom
    s = np.sin(np.radians(np.clip(np.asarray(lat, dtype=float), -_MAX_LAT, _MAX_LAT)))
    return ((np.asarray(lon, dtype=float) + 180.0) / 360.0 * size,
            (0.5 - np.log((1 + s) / (1 - s)) / (4 * np.pi)) * size)


def world_lonlat(x: Any, y: Any, zoom: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`world_px`: lon/lat degrees of Web-Mercator pixel coordinates."""
    size = 256.0 * 2.0 ** zoom
    lon = np.asarray(x, dtype=float) / size * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh((0.5 - np.asarray(y, dtype=float) / size) * 2 * np.pi)))
    return lon, lat


def view_bounds(center: tuple[float, float], zoom: int, *, width_px: int = 700,
                height_px: int = 620) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) in degrees shown by a Web-Mercator map of that
    size in pixels centred on ``center`` (lat, lon) at integer ``zoom`` (inverse of
    :func:`bounds_view`; latitudes within ±85°, longitudes within ±180°)."""
    lat, lon = center
    x, y = world_px(lon, np.clip(lat, -_VIEW_LAT, _VIEW_LAT), zoom)
    west, north = world_lonlat(x - width_px / 2, y - height_px / 2, zoom)
    east, south = world_lonlat(x + width_px / 2, y + height_px / 2, zoom)
    return (max(float(west), -180.0), max(float(south), -_VIEW_LAT),
            min(float(east), 180.0), min(float(north), _VIEW_LAT))


def world_box(bounds: tuple[float, float, float, float]
              ) -> tuple[float, float, float, float] | None:
    """The part of a map view's box (min_lon, min_lat, max_lon, max_lat, degrees, as Leaflet
    reports it: longitudes may run past ±180° after panning across the antimeridian) that lies
    on one world: shifted by whole turns so its middle is within ±180°, then cut to ±180°
    longitude and ±85° latitude. None when nothing of it is left."""
    w, s_, e, n = (float(v) for v in bounds)
    if not all(np.isfinite([w, s_, e, n])):
        return None
    shift = 360.0 * round((w + e) / 2.0 / 360.0)
    box = (max(w - shift, -180.0), max(s_, -_VIEW_LAT), min(e - shift, 180.0),
           min(n, _VIEW_LAT))
    return box if box[0] < box[2] and box[1] < box[3] else None


def view_size_px(bounds: tuple[float, float, float, float], zoom: int) -> tuple[int, int]:
    """(width, height) in pixels of a Web-Mercator map showing ``bounds`` (min_lon, min_lat,
    max_lon, max_lat, degrees) at integer ``zoom`` (inverse of :func:`view_bounds`)."""
    w, s_, e, n = bounds
    x0, y0 = world_px(w, np.clip(n, -_VIEW_LAT, _VIEW_LAT), zoom)
    x1, y1 = world_px(e, np.clip(s_, -_VIEW_LAT, _VIEW_LAT), zoom)
    return round(float(x1 - x0)), round(float(y1 - y0))


class _LayerCss(MacroElement):
    """Page CSS for labels, legend and marker icons (inline, no network)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .leaflet-container { background: {{ this.sea }}; font: 12px/1.4 system-ui, sans-serif; }
        .dash-icon { background: none; border: none; }
        .dash-label { background: transparent; border: none; box-shadow: none; color: #333;
          font-weight: 600; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; }
        .dash-label:before { display: none; }
        .dash-z1 .dash-min7, .dash-z2 .dash-min7, .dash-z3 .dash-min7, .dash-z4 .dash-min7,
        .dash-z5 .dash-min7, .dash-z6 .dash-min7,
        .dash-z1 .dash-min8, .dash-z2 .dash-min8, .dash-z3 .dash-min8, .dash-z4 .dash-min8,
        .dash-z5 .dash-min8, .dash-z6 .dash-min8, .dash-z7 .dash-min8 { display: none; }
        .dash-label-big { font-size: 13px; color: #5a3d5c; letter-spacing: .02em;
          text-align: center; }
        .dash-legend { background: rgba(255,255,255,.92); padding: 4px 8px; border-radius: 6px;
          box-shadow: 0 1px 4px rgba(0,0,0,.3); line-height: 17px; font-size: 11px;
          max-width: 210px; }
        .dash-legend summary { font-weight: 700; cursor: pointer; }

        .dash-legend svg { vertical-align: middle; margin-right: 5px; }
        .dash-legend .ln { display: inline-block; width: 18px; margin-right: 5px;
          vertical-align: middle; }
        .dash-time { background: rgba(255,255,255,.95); padding: 5px 7px; font-size: 12px;
          border-radius: 6px; min-width: 230px; }
        .dash-time-row { display: flex; gap: 4px; align-items: center; }
        .dash-time-btn { display: inline-flex; align-items: center; gap: 4px; height: 26px;
          padding: 0 7px; border: 1px solid #888; border-radius: 4px; background: #fff;
          color: #222; font: 600 12px/1 system-ui, sans-serif; cursor: pointer;
          white-space: nowrap; }
        .dash-time-btn:hover { background: #eef4fa; }
        .dash-time-btn:disabled { color: #999; border-color: #ccc; cursor: default; }
        .dash-time-play { min-width: 68px; justify-content: center; }
        .dash-time-play[aria-pressed=true] { background: #0072B2; color: #fff;
          border-color: #0072B2; }
        .dash-time-win { height: 26px; font-size: 12px; border: 1px solid #888;
          border-radius: 4px; background: #fff; }
        .dash-time-label { margin-top: 4px; font-weight: 600; color: #222; }
        .dash-pop td { padding: 0 6px 0 0; vertical-align: top; }
        .dash-pop th { text-align: left; padding-right: 6px; vertical-align: top; color: #555; }
        </style>
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "LayerCss"
        self.sea = SEA_COLOUR


def base_map(
    *, center: tuple[float, float] = (28.5, 62.0), zoom: int = 6, static_url: str = STATIC_URL
) -> folium.Map:
    """Empty map (no tiles, no CDN) whose Leaflet JS/CSS come from ``static_url``.

    All content is added as feature groups, so the base map never changes and the
    streamlit-folium component is never re-mounted.
    """
    m = folium.Map(
        location=list(center), zoom_start=zoom, tiles=None, prefer_canvas=True,
        control_scale=True, min_zoom=2, max_zoom=16, world_copy_jump=False,
    )
    m.default_js = [(name.split("/")[-1].removesuffix(".js"), f"{static_url}/{name}")
                    for name in MAP_SCRIPTS]
    m.default_css = [("leaflet_css", f"{static_url}/{LEAFLET_CSS}")]
    _LayerCss().add_to(m)
    TimeControl().add_to(m)
    return m


class TimeControl(MacroElement):
    """The Play/Pause time-window control (static/dash/timeplay.js) on the map.

    It has no data of its own: it animates whatever timed event layers are on the map, so
    the base map (and the streamlit-folium component) never changes when the data does.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.dashTime({stepMs: {{ this.step_ms }}}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, step_ms: int = 900) -> None:
        super().__init__()
        self._name = "TimeControl"
        self.step_ms = int(step_ms)


class StaticRegistry(MacroElement):
    """Registers its parent feature group as static layer ``key`` (for StaticVisibility)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.__dashStatic = window.__dashStatic || {};
        window.__dashStatic[{{ this.key|tojson }}] = {{ this._parent.get_name() }};
        {% endmacro %}
        """
    )

    def __init__(self, key: str) -> None:
        super().__init__()
        self._name = "StaticRegistry"
        self.key = key


class StaticVisibility(MacroElement):
    """Shows exactly the registered static layers in ``keys`` (a one-line update). ``quiet``
    ([lat, lon, zoom]): a view the page moves the map to and has already drawn the content
    for, so the map does not report it back (static/dash/view.js). ``report``: the values the
    map sends the page from now on (streamlit-folium's returned objects, e.g. ["last_clicked",
    "bounds", "zoom"]); None leaves them as the map was mounted with."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, keys) {
          var reg = window.__dashStatic || {};
          Object.keys(reg).forEach(function (k) {
            var on = keys.indexOf(k) >= 0, layer = reg[k];
            if (on && !map.hasLayer(layer)) {
              map.addLayer(layer);
              if (k === "basemap" && layer.bringToBack) { layer.bringToBack(); }
            }
            if (!on && map.hasLayer(layer)) { map.removeLayer(layer); }
          });
        })({{ this.map_name() }}, {{ this.keys|tojson }});
        window.__dashQuietView = {{ this.quiet|tojson }};
        {% if this.report is not none %}
        (function (map, report) {
          var g = window.__GLOBAL_DATA__;
          if (!g) { return; }
          var was = (g.returned_objects || []).join(",");
          g.returned_objects = report;
          // starting to report the view: report the one shown now (streamlit-folium sends
          // on moveend, and only what changed since its last value)
          if (was !== report.join(",") && report.indexOf("bounds") >= 0 &&
              was.indexOf("bounds") < 0) {
            setTimeout(function () { map.fire("moveend"); }, 0);
          }
        })({{ this.map_name() }}, {{ this.report|tojson }});
        {% endif %}
        {% endmacro %}
        """
    )

    def __init__(self, keys: Sequence[str], quiet: Sequence[float] | None = None,
                 report: Sequence[str] | None = None) -> None:
        super().__init__()
        self._name = "StaticVisibility"
        self.keys = list(keys)
        self.quiet = [float(v) for v in quiet] if quiet is not None else None
        self.report = [str(k) for k in report] if report is not None else None

    def map_name(self) -> str:
        """JS name of the map this element ends up on (its nearest folium.Map ancestor)."""
        node = self._parent
        while node is not None and not isinstance(node, folium.Map):
            node = getattr(node, "_parent", None)
        if node is None:
            raise ValueError("StaticVisibility must be added to a map or a feature group")
        return node.get_name()


class GeoJsonLayer(MacroElement):
    """A Leaflet GeoJSON layer with pre-escaped ``tip``/``pop``/``label`` properties.

    ``focus`` (an id) makes the browser scroll the map into view when the layer first
    appears; ``label_side`` "left" puts a permanent label left of its point, "center" centres
    it on the point. ``timed`` marks a
    layer whose features carry ``day`` ("YYYY-MM-DD") for the time control;
    ``dx``/``dy`` properties shift a point's icon by that many pixels (events at one place
    are spread so none hides another). ``point`` selects how points are drawn: ``"icon"``
    (the SVG ``icon_html``), ``"count"`` (the SVG with the feature's ``n`` written on it, size
    growing with n) or ``"dot"`` (a circle marker using ``style``). ``hexplay`` (count classes
    ``breaks`` and ``colours``, H3 ``res``, ``play``, first day ``d0``) marks event hexagons
    whose features carry their events per day (``dk`` days after ``d0``, ``dc`` counts): the
    time control recounts and recolours them for its window.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJSON({{ this.data|tojson }}, {
          style: function (f) { return Object.assign({}, {{ this.style|tojson }},
                                                     (f.properties || {}).style || {}); },
          pointToLayer: function (f, ll) {
            var p = f.properties || {};
            {%- if this.point == "dot" %}
            return L.circleMarker(ll, Object.assign({}, {{ this.style|tojson }}, p.style || {}));
            {%- else %}
            var s = {{ this.icon_size|tojson }}, dx = p.dx || 0, dy = p.dy || 0;
            {%- if this.point == "count" %}
            s = Math.round(s * Math.min(2.6, 1 + Math.log10(Math.max(1, p.n)) / 2));
            {%- endif %}
            var svg = {{ this.icon_html|tojson }}.replace(/__N__/, p.nlabel || "")
                .replace(/width="\\d+" height="\\d+"/,
                         'width="' + s + '" height="' + s + '"');
            return L.marker(ll, {icon: L.divIcon({html: svg, className: "dash-icon",
                              iconSize: [s, s], iconAnchor: [s / 2 - dx, s / 2 - dy]}),
                              keyboard: false, riseOnHover: true});
            {%- endif %}
          },
          onEachFeature: function (f, layer) {
            var p = f.properties || {};
            if (p.tip) { layer.bindTooltip(p.tip, {sticky: {{ this.sticky|tojson }}}); }
            if (p.label) {
              var side = p.label_side === "left" || p.label_side === "center" ?
                p.label_side : "right";
              layer.bindTooltip(p.label, {permanent: true, direction: side,
                                offset: [side === "left" ? -6 : side === "right" ? 6 : 0, 0],
                                className: "dash-label " + (p.label_class || "")});
            }
            if (p.pop) { layer.bindPopup(p.pop, {maxWidth: 340}); }
          },
          interactive: {{ this.interactive|tojson }}
        });
        {%- if this.timed %}
        {{ this.get_name() }}._dashTime = true;
        {%- endif %}
        {%- if this.hexplay %}
        {{ this.get_name() }}._dashHex = {{ this.hexplay|tojson }};
        {%- endif %}
        {%- if this.focus %}
        {{ this.get_name() }}._dashFocus = {{ this.focus|tojson }};
        {%- endif %}
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self, data: dict, *, style: dict | None = None, point: str = "dot",
        icon_html: str = "", icon_size: int = 18, interactive: bool = True, sticky: bool = True,
        timed: bool = False, focus: str = "", hexplay: dict | None = None,
    ) -> None:
        super().__init__()
        self._name = "GeoJsonLayer"
        self.data = data
        self.style = style or {}
        self.point = point
        self.icon_html = icon_html
        self.icon_size = icon_size
        self.interactive = interactive
        self.sticky = sticky
        self.timed = timed
        self.focus = focus
        self.hexplay = hexplay or {}


def features(geoms: Iterable[Any], props: Iterable[dict] | None = None) -> dict:
    """GeoJSON FeatureCollection from shapely geometries (lon/lat) and property dicts."""
    geoms = list(geoms)
    props = list(props) if props is not None else [{} for _ in geoms]
    texts = shapely.to_geojson(np.asarray(geoms, dtype=object)) if geoms else []
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": json.loads(t), "properties": p}
            for t, p in zip(texts, props, strict=True)
        ],
    }


def display_geometry(geoms: Any, tolerance_deg: float = 0.01) -> np.ndarray:
    """Simplified, 4-decimal geometries for drawing only (never for measuring)."""
    arr = np.asarray(getattr(geoms, "values", geoms), dtype=object)
    simple = shapely.simplify(arr, tolerance_deg, preserve_topology=True)
    return shapely.set_precision(simple, 1e-4)


def legend_html(entries: Sequence[tuple[str, str]], title: str = "Legend") -> str:
    """Legend body (click the title to fold it); ``entries`` are (trusted symbol HTML, label),
    labels are escaped here."""
    rows = "".join(f"<div>{sym}{esc(lbl)}</div>" for sym, lbl in entries)
    return f"<details open><summary>{esc(title)}</summary>{rows}</details>"


class Legend(MacroElement):
    """A bottom-right legend control with a trusted HTML body (see :func:`legend_html`)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        if (window.__dashLegend) { window.__dashLegend.remove(); }
        window.__dashLegend = L.control({position: "bottomright"});
        window.__dashLegend.onAdd = function () {
          var d = L.DomUtil.create("div", "dash-legend");
          d.setAttribute("data-testid", "map-legend");
          d.innerHTML = {{ this.body|tojson }};
          return d;
        };
        window.__dashLegend.addTo({{ this.map_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, body: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.body = body

    def map_name(self) -> str:
        """JS name of the map this legend ends up on (its nearest folium.Map ancestor)."""
        node = self._parent
        while node is not None and not isinstance(node, folium.Map):
            node = getattr(node, "_parent", None)
        if node is None:
            raise ValueError("the legend must be added to a map or one of its feature groups")
        return node.get_name()


def inline_assets(
    page_html: str, static_dir: Path = STATIC_DIR, static_url: str = STATIC_URL
) -> str:
    """Replace links to the app's static Leaflet files with inline ``<script>``/``<style>``."""
    for name in MAP_SCRIPTS:
        js = (static_dir / name).read_text(encoding="utf-8").replace("</script", "<\\/script")
        js_pat = re.compile(r'<script[^>]*src="' + re.escape(f"{static_url}/{name}")
                            + r'"[^>]*>\s*</script>')
        page_html = js_pat.sub(lambda _m, js=js: f"<script>{js}</script>", page_html, count=1)
    css = (static_dir / LEAFLET_CSS).read_text(encoding="utf-8")
    css_url = re.escape(f"{static_url}/{LEAFLET_CSS}")
    css_pat = re.compile(r'<link[^>]*href="' + css_url + r'"[^>]*/?>')
    return css_pat.sub(lambda _m: f"<style>{css}</style>", page_html, count=1)


def standalone_html(groups: Sequence[folium.FeatureGroup], *, center: tuple[float, float],
                    zoom: int) -> str:
    """A self-contained HTML page of the map (Leaflet inlined, works offline)."""
    m = base_map(center=center, zoom=zoom)
    for g in groups:
        g.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return inline_assets(m.get_root().render())


def frame_to_records(df: pd.DataFrame) -> list[dict]:
    """Row dicts with NaN as None (for building properties)."""
    return df.astype(object).where(df.notna(), None).to_dict("records")
