"""Feature groups for each map layer, built from GeoDataFrames and results (folium, no Streamlit).

Each builder returns a *layer spec* -- plain, picklable data (so the page can cache it):
``{"name": <layer-control label>, "layers": [GeoJsonLayer keyword dicts, or
{"tiles": url, "attr": ...}, or {"legend": html}]}`` -- and :func:`to_group` turns a spec into a
``folium.FeatureGroup``. All text from data is escaped with :func:`dashboard.mapview.esc`;
geometry is lon/lat.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any
from urllib.parse import urlparse

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from dashboard import settings
from dashboard.mapview import (
    LAND_COLOUR,
    SEA_COLOUR,
    GeoJsonLayer,
    Legend,
    StaticVisibility,
    display_geometry,
    esc,
    event_style,
    features,
    frame_to_records,
    legend_html,
    shape_svg,
    world_lonlat,
    world_px,
)
from dashboard.settings import ELLIPSOID

EMPHASISED_PROVINCES = ("PK-BA", "IR-13")
TILE_CHOICES = {
    "Vector land (offline)": None,
    "OpenStreetMap (online)": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                               "&copy; OpenStreetMap contributors"),
    "Satellite, Esri World Imagery (online)": (
        "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/"
        "{z}/{y}/{x}", "Imagery &copy; Esri, Maxar, Earthstar Geographics"),
}
_GEOD = Geod(ellps=ELLIPSOID)

#: A picklable description of one feature group (see the module docstring).
LayerSpec = dict[str, Any]


def _spec(name: str) -> LayerSpec:
    return {"name": name, "control": True, "layers": []}


def _layer(spec: LayerSpec, data: dict, **kwargs: Any) -> None:
    spec["layers"].append({"data": data, **kwargs})


def to_group(spec: LayerSpec) -> folium.FeatureGroup:
    """Build the folium FeatureGroup for a layer spec (fresh objects on every call)."""
    fg = folium.FeatureGroup(name=spec["name"], control=spec.get("control", True))
    for layer in spec["layers"]:
        if "tiles" in layer:
            folium.TileLayer(tiles=layer["tiles"], attr=layer["attr"], max_zoom=18).add_to(fg)
        elif "legend" in layer:
            Legend(layer["legend"]).add_to(fg)
        elif "visible" in layer:
            StaticVisibility(layer["visible"], layer.get("quiet"), layer.get("report")).add_to(fg)
        else:
            GeoJsonLayer(**layer).add_to(fg)
    return fg


def geodesic_discs(lats: Any, lons: Any, radii_km: Any, n: int = 64) -> np.ndarray:
    """Polygons (lon/lat) whose vertices lie exactly ``radii_km`` from each centre (WGS84 fwd)."""
    lats, lons, radii = np.broadcast_arrays(
        np.asarray(lats, float), np.asarray(lons, float), np.asarray(radii_km, float)
    )
    if lats.size == 0:
        return np.array([], dtype=object)
    az = np.linspace(0.0, 360.0, n, endpoint=False)
    k = lats.size
    lon2, lat2, _ = _GEOD.fwd(
        np.repeat(lons.ravel(), n), np.repeat(lats.ravel(), n), np.tile(az, k),
        np.repeat(radii.ravel() * 1000.0, n),
    )
    ring = np.stack([np.asarray(lon2), np.asarray(lat2)], axis=-1).reshape(k, n, 2)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return shapely.polygons(np.round(ring, 4))


def _safe_link(url: Any) -> str:
    """An escaped <a> for http(s) URLs; other schemes (javascript:, data:) are shown as text."""
    text = str(url or "").strip()
    parsed = urlparse(text)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return (f'<a href="{esc(text)}" target="_blank" rel="noopener noreferrer">'
                f"{esc(parsed.netloc)}</a>")
    return esc(text)


def _popup(title: str, rows: Sequence[tuple[str, str]]) -> str:
    """Popup HTML; ``rows`` values must already be escaped HTML."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows if v)
    return f'<div class="dash-pop"><b>{esc(title)}</b><table>{body}</table></div>'


def basemap_group(land: gpd.GeoDataFrame, lakes: gpd.GeoDataFrame | None = None,
                  rivers: gpd.GeoDataFrame | None = None) -> LayerSpec:
    """Offline vector basemap: land, lakes and rivers (drawn, not interactive)."""
    fg = _spec("Basemap: land (offline)")
    _layer(fg, features(display_geometry(land.geometry, 0.02)), interactive=False, style={
        "color": "#cbc3ae", "weight": 0.6, "fillColor": LAND_COLOUR, "fillOpacity": 1,
    })
    if lakes is not None and len(lakes):
        _layer(fg, features(display_geometry(lakes.geometry, 0.01)), interactive=False, style={
            "color": "#a9c8dc", "weight": 0.5, "fillColor": SEA_COLOUR, "fillOpacity": 1,
        })
    if rivers is not None and len(rivers):
        _layer(fg, features(display_geometry(rivers.geometry, 0.01)), interactive=False, style={
            "color": "#9cc3dd", "weight": 1, "fill": False,
        })
    return fg


def tiles_group(choice: str) -> LayerSpec | None:
    """Online tile layer for ``choice`` (a key of TILE_CHOICES), or None for the offline basemap."""
    spec = TILE_CHOICES.get(choice)
    if spec is None:
        return None
    fg = _spec(esc(choice))
    fg["layers"].append({"tiles": spec[0], "attr": spec[1]})
    return fg


def _labels(points: np.ndarray, texts: Sequence[str], label_class: str = "",
            side: str = "right") -> dict:
    """Permanent labels at ``points``; a line break in a text starts a new line. ``side``:
    where the label sits from its point ("right", "left" or "center")."""
    props = [{"label": "<br>".join(esc(line) for line in str(t).split("\n")),
              "label_class": label_class, "label_side": side} for t in texts]
    return features(points, props)


_BIG_LABEL_PX, _BIG_LABEL_LINE_PX = 13.0, 18.2  # .dash-label-big: 13 px font, 1.4 lines


def _text_px(line: str, font_px: float = _BIG_LABEL_PX) -> float:
    """Width in pixels of one line of a bold label in Debian's browser font (DejaVu Sans
    Bold, measured with matplotlib; the .dash-label-big letter spacing included)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    prop = FontProperties(family="DejaVu Sans", weight="bold", size=font_px)
    return float(TextPath((0, 0), line, prop=prop).get_extents().width) + 0.02 * font_px * len(line)


def _wrapped(text: str) -> list[str]:
    """``text`` as it is, then wrapped to ever shorter lines (at spaces)."""
    out = [text]
    words = text.replace("\n", " ").split()
    for width in (24, 16, 11, 7):
        lines: list[str] = []
        for w in words:
            if lines and len(lines[-1]) + 1 + len(w) <= width:
                lines[-1] += " " + w
            else:
                lines.append(w)
        if "\n".join(lines) not in out:
            out.append("\n".join(lines))
    return out


def fit_area_labels(geoms: Sequence[Any], texts: Sequence[str], zoom: int,
                    margin_px: float = 5.0) -> tuple[list[Any], list[str]]:
    """Points (lon/lat) and texts for labels drawn centred on their point that lie wholly
    inside their area, ``margin_px`` off its outline, on a Web-Mercator map at ``zoom`` (the
    page's default view): the most central such place, with the text wrapped onto more lines
    when one line does not fit. An area too small for any wrapping keeps its
    point-on-surface and the text as given."""
    points, out_texts = [], []
    for geom, text in zip(geoms, texts, strict=True):
        area = shapely.transform(
            geom, lambda xy: np.column_stack(world_px(xy[:, 0], xy[:, 1], zoom)))
        area = shapely.simplify(area, 0.5)  # half a pixel: the same outline, fewer vertices
        shapely.prepare(area)
        edge = area.boundary
        x0, y0, x1, y1 = area.bounds
        best = None
        for option in _wrapped(str(text)):
            lines = option.split("\n")
            w = max(_text_px(line) for line in lines) + 2 * margin_px
            h = _BIG_LABEL_LINE_PX * len(lines) + 2 * margin_px
            xs = np.arange(x0 + w / 2, x1 - w / 2, 4.0)
            ys = np.arange(y0 + h / 2, y1 - h / 2, 4.0)
            if not len(xs) or not len(ys):
                continue
            cx, cy = (a.ravel() for a in np.meshgrid(xs, ys))
            boxes = shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            inside = shapely.contains_properly(area, boxes)
            if inside.any():
                room = shapely.distance(boxes[inside], edge)
                i = int(np.argmax(room))
                lon, lat = world_lonlat(cx[inside][i], cy[inside][i], zoom)
                best = ((float(lon), float(lat)), option)
                break
        if best is None:
            p = shapely.point_on_surface(geom)
            best = ((p.x, p.y), str(text))
        points.append(shapely.Point(*best[0]))
        out_texts.append(best[1])
    return points, out_texts


def countries_group(countries: gpd.GeoDataFrame) -> LayerSpec:
    """Country outlines with hover names and centre labels."""
    fg = _spec("Countries")
    geoms = display_geometry(countries.geometry, 0.01)
    props = [{"tip": esc(n)} for n in countries["name"]]
    _layer(fg, features(geoms, props), style={
        "color": "#6b6b6b", "weight": 1.3, "fillOpacity": 0, "fill": True,
    })
    _layer(fg,
        _labels(shapely.point_on_surface(geoms), [str(n).upper() for n in countries["name"]]),
        style={"radius": 0, "opacity": 0, "fillOpacity": 0}, interactive=False,
    )
    return fg


def provinces_group(provinces: gpd.GeoDataFrame,
                    emphasise: Sequence[str] = EMPHASISED_PROVINCES,
                    label_zoom: int | None = None) -> LayerSpec:
    """Province outlines; the two Baloch provinces filled and labelled. With ``label_zoom``
    (the page's default zoom) each label is placed and wrapped to lie inside its province,
    off the border line, at that zoom (:func:`fit_area_labels`)."""
    fg = _spec("Provinces (Balochistan, Sistan-Baluchestan)")
    geoms = display_geometry(provinces.geometry, 0.01)
    hot = provinces["iso_3166_2"].isin(list(emphasise)).to_numpy()
    tips = [f"{esc(n)}, {esc(c)}" for n, c in zip(provinces["name"], provinces["country"],
                                                  strict=True)]
    style_hot = {"color": "#7a5c2e", "weight": 1.6, "fillColor": "#e3c98f", "fillOpacity": 0.22}
    props = [{"tip": t, "style": style_hot if h else {}} for t, h in zip(tips, hot, strict=True)]
    _layer(fg, features(geoms, props), style={
        "color": "#a9a9a9", "weight": 0.6, "dashArray": "3 3", "fillOpacity": 0,
    })
    names = [f"{n} ({c})" for n, c in zip(provinces["name"][hot], provinces["country_iso_a3"][hot],
                                          strict=True)]
    if label_zoom is None:
        labels = _labels(shapely.point_on_surface(geoms[hot]), names, "dash-label-big")
    else:
        points, names = fit_area_labels(list(provinces.geometry[hot]), names, label_zoom)
        labels = _labels(np.array(points, dtype=object), names, "dash-label-big", "center")
    _layer(fg, labels, style={"radius": 0, "opacity": 0, "fillOpacity": 0}, interactive=False)
    return fg


def border_group(geometry: Any, props: dict | None = None) -> LayerSpec:
    """The Iran–Pakistan border line (lon/lat LineString) with a white casing and a tooltip."""
    props = props or {}
    fg = _spec("Iran–Pakistan border")
    geoms = np.array([geometry], dtype=object)
    length = props.get("length_km") or (props.get("length_m") or 0) / 1000
    tip = "<b>Iran–Pakistan border</b>"
    if length:
        tip += f"<br>{float(length):,.1f} km along this line (Natural Earth 1:10m, WGS84)"
    published = props.get("published_lengths_km")
    if isinstance(published, dict) and published:
        values = sorted({float(v) for v in published.values()
                         if isinstance(v, int | float) and not isinstance(v, bool)})
        if values:
            tip += (f"<br>Published lengths: {esc(', '.join(f'{v:,.0f}' for v in values))} km "
                    "(sources in the Claims tab); none can be tested against this "
                    "generalised line")
    _layer(fg, features(geoms), style={"color": "#ffffff", "weight": 7, "opacity": 0.9},
                 interactive=False)
    _layer(fg, features(geoms, [{"tip": tip}]), style={
        "color": "#1b1b1b", "weight": 3.2, "opacity": 1,
    })
    return fg


#: Zoom from which a place's label is shown, by kind (declutter: towns and villages only when
#: zoomed in, so labels never pile up at the default zoom); capitals and cities always.
LABEL_MIN_ZOOM = {"town": 7, "village": 8, "venue": 8}


def label_class(kind: Any) -> str:
    """CSS class that hides a place label below its kind's zoom (see LABEL_MIN_ZOOM)."""
    zoom = LABEL_MIN_ZOOM.get(str(kind or ""), 0)
    return f"dash-min{zoom}" if zoom else ""


def label_sides(lats: Any, lons: Any, near_km: float = 120.0) -> list[str]:
    """"left" for places on the Iranian side within ``near_km`` of the border (their label
    would otherwise run across the border line), "right" elsewhere."""
    from dashboard import analysis

    res = analysis.distance_to_border(list(map(float, lats)), list(map(float, lons)))
    near = (res["distance_m"].to_numpy() / 1000.0) < near_km
    iran = res["side"].astype(str).str.casefold().eq("iran").to_numpy()
    return ["left" if n and i else "right" for n, i in zip(near, iran, strict=True)]


def places_group(places: gpd.GeoDataFrame, *, discs: bool = True) -> LayerSpec:
    """Reference places: dot + label (decluttered by zoom, kept off the border line), popup
    with source, optional uncertainty disc."""
    fg = _spec("Places")
    if discs and len(places):
        polys = geodesic_discs(places["lat"], places["lon"], places["uncertainty_km"].fillna(0))
        _layer(fg, features(polys), interactive=False, style={
            "color": "#555", "weight": 1, "dashArray": "2 3", "fillColor": "#555",
            "fillOpacity": 0.05,
        })
    props = []
    for r in frame_to_records(places.drop(columns="geometry")):
        rows = [
            ("Kind", esc(r.get("kind"))),
            ("Province", esc(r.get("admin1_name"))),
            ("Lat, lon", f"{r['lat']:.4f}, {r['lon']:.4f}"),
            ("Uncertainty", f"± {r['uncertainty_km']:g} km" if r.get("uncertainty_km") else ""),
            ("Note", esc(r.get("note"))),
            ("Source", _safe_link(r.get("source"))),
        ]
        big = r.get("kind") in ("capital", "city")
        props.append({"pop": _popup(str(r["name"]), rows), "label": esc(r["name"]),
                      "label_class": label_class(r.get("kind")), "tip": "",
                      "style": {"radius": 5 if big else 4}})
    sides = label_sides(places["lat"], places["lon"]) if len(places) else []
    for prop, side in zip(props, sides, strict=True):
        prop["label_side"] = side
    pts = shapely.points(places["lon"].to_numpy(float), places["lat"].to_numpy(float))
    _layer(fg, features(pts, props), point="dot", style={
        "radius": 4, "color": "#222", "weight": 1.5, "fillColor": "#fff", "fillOpacity": 1,
    })
    return fg


def _event_popup(r: dict) -> str:
    links = [_safe_link(u) for u in (r.get("sources") or [])]
    if r.get("source"):
        links.insert(0, esc(r["source"]))
    fat, inj = r.get("fatalities"), r.get("injured")
    casualties = ", ".join(x for x in (
        f"{int(fat)} killed" if fat is not None else "", f"{int(inj)} injured" if inj else ""
    ) if x)
    prec = r.get("geo_precision")
    unc = r.get("uncertainty_km")
    where = ", ".join(esc(r.get(k)) for k in ("location", "admin1", "country") if r.get(k))
    rows = [
        ("Date", esc(r.get("date_text"))),
        ("Type", esc(" / ".join(str(r[k]) for k in ("event_type", "sub_event_type") if r.get(k)))),
        ("Where", where),
        ("Precision", f"geo {esc(prec)}" + (f", ± {float(unc):g} km" if unc else "")
         if prec is not None else ""),
        ("Actors", esc(" vs ".join(str(r[k]) for k in ("actor1", "actor2") if r.get(k)))),
        ("Casualties", esc(casualties)),
        ("Notes", esc(r.get("notes"))),
        ("Disputed", esc(r.get("disputed"))),
        ("Sources", "<br>".join(links)),
    ]
    return _popup(str(r.get("location") or r.get("event_id_cnty") or "Event"), rows)


def _event_props(events: pd.DataFrame, label: str) -> list[dict]:
    """Feature properties of events: id, day (for the time control), tooltip, popup, and the
    pixel offset that keeps events at one place apart."""
    out = []
    for r in frame_to_records(events):
        date = str(r.get("date_text") or "")
        tip = f"<b>{esc(r.get('location'))}</b><br>{esc(date)} · {esc(label)}"
        n_here = int(r.get("_n_here") or 1)
        if n_here > 1:
            tip += f"<br><i>{n_here} events at this place, drawn side by side</i>"
        out.append({"id": str(r.get("event_id_cnty")), "day": date, "ev": 1, "tip": tip,
                    "pop": _event_popup(r), "dx": r.get("_dx") or 0, "dy": r.get("_dy") or 0})
    return out


#: Smallest distance (px) between the true position and each icon when events share a place,
#: and the smallest distance between neighbouring icons on that circle (icons are 20 px).
SPREAD_PX = 13
ICON_GAP_PX = 21


def spread_offsets(lons: np.ndarray, lats: np.ndarray, decimals: int = 3
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel offsets (dx, dy) and group sizes so events at the same place (coordinates equal
    to ``decimals`` places, ~100 m) sit on a small circle around it instead of on each other."""
    key = pd.Series(list(zip(np.round(lons, decimals), np.round(lats, decimals), strict=True)))
    n = key.map(key.value_counts()).to_numpy(int) if len(key) else np.zeros(0, int)
    rank = key.groupby(key).cumcount().to_numpy(int) if len(key) else np.zeros(0, int)
    angle = -np.pi / 2 + 2 * np.pi * rank / np.maximum(n, 1)
    # Neighbours on the circle are at least ICON_GAP_PX apart: chord 2 r sin(pi/n) >= gap.
    with np.errstate(divide="ignore"):
        ring = ICON_GAP_PX / 2 / np.sin(np.pi / np.maximum(n, 2))
    radius = np.where(n > 1, np.maximum(SPREAD_PX, ring), 0)
    return np.round(radius * np.cos(angle), 1), np.round(radius * np.sin(angle), 1), n


def _prepare(events: gpd.GeoDataFrame) -> pd.DataFrame:
    df = pd.DataFrame(events.drop(columns="geometry"))
    dates = pd.to_datetime(df["event_date"], errors="coerce")
    df["date_text"] = dates.dt.strftime("%Y-%m-%d").fillna("")
    df["_lon"] = events.geometry.x.to_numpy()
    df["_lat"] = events.geometry.y.to_numpy()
    prec = pd.to_numeric(df["geo_precision"], errors="coerce").fillna(1).to_numpy()
    point = prec < 3
    dx, dy, n = spread_offsets(df["_lon"].to_numpy()[point], df["_lat"].to_numpy()[point])
    df["_dx"], df["_dy"], df["_n_here"] = 0.0, 0.0, 1
    df.loc[point, "_dx"], df.loc[point, "_dy"], df.loc[point, "_n_here"] = dx, dy, n
    return df


def event_groups(events: gpd.GeoDataFrame, types: Sequence[str], *,
                 discs: bool = True, disc_vertices: int = 64) -> list[LayerSpec]:
    """One feature group per event type in ``types`` (the ``category`` column).

    Point events (geo_precision 1–2) get a shaped SVG marker and, with ``discs``, their
    uncertainty disc; geo_precision 3 events are drawn as areas (a disc of their uncertainty
    radius) without a pin. Discs and areas are polygons of ``disc_vertices`` vertices, each
    exactly on the radius. Many events are not drawn one by one: the page shows
    :func:`hex_aggregates` instead (see app.py).
    """
    df = _prepare(events)
    groups = []
    for t in types:
        sub = df[df["category"] == t]
        st_ = event_style(t, types)
        fg = _spec(f"{esc(st_.label)} ({len(sub):,})")
        _event_layers(sub, st_, discs, fg, disc_vertices)
        groups.append(fg)
    return groups


def _event_layers(sub: pd.DataFrame, st_: Any, discs: bool, fg: LayerSpec,
                  disc_vertices: int = 64) -> None:
    prec = pd.to_numeric(sub["geo_precision"], errors="coerce").fillna(1).to_numpy()
    unc = pd.to_numeric(sub.get("uncertainty_km"), errors="coerce")
    unc = (unc if unc is not None else pd.Series(0.0, index=sub.index)).fillna(0).to_numpy()
    area = prec >= 3
    if area.any():
        a = sub[area]
        polys = geodesic_discs(a["_lat"], a["_lon"], np.maximum(unc[area], 5.0),
                               n=disc_vertices)
        _layer(fg, features(polys, _event_props(a, st_.label + " (area, precision 3)")), style={
            "color": st_.color, "weight": 2, "dashArray": "6 4", "fillColor": st_.color,
            "fillOpacity": 0.18,
        }, timed=True)
    pts = sub[~area]
    if discs and len(pts) and (unc[~area] > 0).any():
        polys = geodesic_discs(pts["_lat"], pts["_lon"], unc[~area], n=disc_vertices)
        _layer(fg, features(polys, [{"day": d} for d in pts["date_text"]]), interactive=False,
               style={"color": st_.color, "weight": 1.2, "dashArray": "3 3",
                      "fillColor": st_.color, "fillOpacity": 0.08}, timed=True)
    if len(pts):
        geoms = shapely.points(pts["_lon"].to_numpy(), pts["_lat"].to_numpy())
        _layer(fg, features(geoms, _event_props(pts, st_.label)), point="icon",
               icon_html=shape_svg(st_.shape, st_.color, 20), icon_size=20, timed=True)


#: Fill colours of the hexagon count classes, light (few) to dark (many): viridis, readable
#: by colour-blind people and in greyscale.
HEX_COLOURS = ("#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154")


def hex_breaks(max_count: int, classes: int = len(HEX_COLOURS)) -> list[int]:
    """Lower bounds of the count classes: 1, then geometric steps up to ``max_count``."""
    if max_count <= 1:
        return [1]
    edges = np.unique(np.round(np.geomspace(1, max_count + 1, classes + 1)[:-1]).astype(int))
    return [int(e) for e in edges if e >= 1] or [1]


def _cell_polygon(cell: int) -> Any:
    """Lon/lat polygon of an H3 cell; a cell across the antimeridian is kept in one piece by
    shifting its western vertices by +360°."""
    from h3.api import basic_int

    ring = np.array([(lon, lat) for lat, lon in basic_int.cell_to_boundary(int(cell))])
    if ring[:, 0].max() - ring[:, 0].min() > 180.0:
        ring[:, 0] = np.where(ring[:, 0] < 0, ring[:, 0] + 360.0, ring[:, 0])
    return shapely.Polygon(np.round(ring, 5))  # ~1 m: plenty for drawing, half the bytes


def _days_per_cell(cell_i: np.ndarray, ns: np.ndarray, n_cells: int
                   ) -> tuple[int, list[tuple[list[int], list[int]]] | None]:
    """(d0, per cell its event days as offsets from day ``d0`` (days since 1970-01-01),
    ascending, and the events on each), from aligned cell indexes and dates (ns); the list is
    None when there are more than settings.PAGE_HEX_PLAY_PAIRS (cell, day) pairs (too much
    to send for Play)."""
    day = ns // 86_400_000_000_000
    if not len(day):
        return 0, [([], []) for _ in range(n_cells)]
    d0 = int(day.min())
    span = int(day.max()) - d0 + 1
    pairs, counts = np.unique(cell_i.astype(np.int64) * span + (day - d0), return_counts=True)
    if len(pairs) > settings.PAGE_HEX_PLAY_PAIRS:
        return d0, None
    cells, offsets = np.divmod(pairs, span)
    bounds = np.searchsorted(cells, np.arange(n_cells + 1))
    return d0, [(offsets[a:b].tolist(), counts[a:b].tolist())
                for a, b in pairwise(bounds.tolist())]


def hex_aggregates(categories: Any, dates: Any, cells: np.ndarray, types: Sequence[str],
                   res: int) -> tuple[LayerSpec, list[tuple[str, str]]]:
    """Hexagon aggregates of events given as aligned arrays: their type (``category``), date
    and H3 cell at resolution ``res``. One polygon per cell holding events, coloured by its
    count; the tooltip gives the count per type and the date span. Returns (layer spec,
    legend entries for :func:`event_legend`)."""
    # Integer codes and counting (np.unique + bincount): a million events in well under 1 s.
    uniq, cell_i = np.unique(np.asarray(cells, dtype=np.uint64), return_inverse=True)
    type_codes, type_names = pd.factorize(pd.Series(categories).astype(str), sort=False)
    nt = max(len(type_names), 1)
    counts_all = np.bincount(cell_i * nt + type_codes, minlength=len(uniq) * nt
                             ).reshape(len(uniq), nt)
    day = pd.to_datetime(pd.Series(dates), errors="coerce").to_numpy(dtype="datetime64[ns]")
    known = ~np.isnat(day)
    ns = day.astype("int64")
    first = np.full(len(uniq), np.iinfo(np.int64).max)
    last = np.full(len(uniq), np.iinfo(np.int64).min)
    np.minimum.at(first, cell_i[known], ns[known])
    np.maximum.at(last, cell_i[known], ns[known])
    total = counts_all.sum(axis=1)
    breaks = hex_breaks(int(total.max()) if len(total) else 1)
    day0, days = _days_per_cell(cell_i[known], ns[known], len(uniq))
    klass = np.searchsorted(np.array(breaks), total, side="right") - 1
    names = [str(t) for t in type_names]
    order = [names.index(t) for t in types if t in names] + \
        [i for i, t in enumerate(names) if t not in types]
    labels = [esc(event_style(names[i], types).label) for i in order]
    counts = counts_all[:, order]
    props = []
    for i, (n, k) in enumerate(zip(total, klass, strict=True)):
        rows = "".join(f"<br>{lbl}: {c:,}" for lbl, c in zip(labels, counts[i], strict=True)
                       if c)
        has_day = first[i] <= last[i]
        d0 = pd.Timestamp(first[i]) if has_day else pd.NaT
        d1 = pd.Timestamp(last[i]) if has_day else pd.NaT
        span = (f"{d0:%d %b %Y}" if d0 == d1 else f"{d0:%d %b %Y} – {d1:%d %b %Y}") \
            if pd.notna(d0) else "dates unknown"
        prop = {"tip": f"<b>{int(n):,} event{'s' if n != 1 else ''}</b>{rows}"
                       f"<br>{span}<br>H3 cell, resolution {res}",
                "style": {"fillColor": HEX_COLOURS[int(k)]}, "n": int(n)}
        if days is not None:
            prop["dk"], prop["dc"] = days[i]
        props.append(prop)
    geoms = np.array([_cell_polygon(c) for c in uniq], dtype=object)
    fg = _spec(f"Events per hexagon ({int(total.sum()):,})")
    # With days per hexagon the time control (static/dash/timeplay.js) plays the hexagons:
    # it adds up each one's events in the window and colours it with the same classes.
    _layer(fg, features(geoms, props), style={"color": "#333", "weight": 0.6,
                                              "fillOpacity": 0.6}, timed=days is not None,
           hexplay={"breaks": breaks, "colours": list(HEX_COLOURS[:len(breaks)]), "res": res,
                    "play": days is not None, "d0": day0})
    entries = []
    for i, lo in enumerate(breaks):
        hi = breaks[i + 1] - 1 if i + 1 < len(breaks) else int(total.max())
        text = f"{lo:,}" if lo == hi else f"{lo:,}–{hi:,}"
        entries.append((f'<span style="display:inline-block;width:14px;height:12px;'
                        f'background:{HEX_COLOURS[i]};border:1px solid #333"></span>',
                        f"{text} event{'' if hi == 1 else 's'} per hexagon"))
    return fg, entries


#: The measured geodesic path: yellow on a black casing, unlike the border (solid black) and
#: the dashed uncertainty discs.
MEASURE_COLOUR = "#F0E442"
_MEASURE_SYMBOL = ('<span class="ln" style="border-top:5px solid #000;position:relative">'
                   '<span style="position:absolute;left:1px;right:1px;top:-4px;'
                   'border-top:3px solid #F0E442"></span></span>')


def event_legend(types: Sequence[str], *, measured: bool = False,
                 hexagons: Sequence[tuple[str, str]] = ()) -> LayerSpec:
    """Legend (a spec outside the layer control) listing event shapes/colours and fixed layers;
    with ``measured`` also the measured path; ``hexagons`` (from :func:`hex_aggregates`)
    first when the events are drawn as hexagons."""
    entries = list(hexagons) + [
        (shape_svg(event_style(t, types).shape, event_style(t, types).color, 16),
         event_style(t, types).label) for t in types]
    entries += [
        ('<span class="ln" style="border-top:3px solid #1b1b1b"></span>', "Iran–Pakistan border"),
        ('<span class="ln" style="border-top:2px dashed #888"></span>', "Uncertainty disc / area"),
        ('<svg width="16" height="16"><circle cx="8" cy="8" r="4" fill="#fff" stroke="#222" '
         'stroke-width="1.5"/></svg>', "Place"),
    ]
    if measured:
        entries.append((_MEASURE_SYMBOL, "Measured path (geodesic)"))
    return {"name": "Legend", "control": False, "layers": [{"legend": legend_html(entries)}]}


def highlight_group(lat: float, lon: float, label: str, focus: str = "") -> LayerSpec:
    """A ring around the selected event, with its name shown; ``focus`` (the selection's id)
    makes the browser scroll the map into view once for that selection."""
    fg = _spec("Selected event")
    pt = np.array([shapely.Point(lon, lat)], dtype=object)
    _layer(fg, features(pt, [{"label": esc(label)}]), point="dot", style={
        "radius": 17, "color": "#000", "weight": 3, "fill": False,
    }, interactive=False, focus=focus)
    return fg


def measure_group(points: Sequence[tuple[float, float, str]], path: Any,
                  label: str) -> LayerSpec:
    """Geodesic path (lon/lat LineString from the core) between measured sites (lat, lon, name)."""
    fg = _spec("Measurement")
    line = features(np.array([path], dtype=object), [{"tip": esc(label)}])
    _layer(fg, line, style={"color": "#000", "weight": 7, "opacity": 0.85}, interactive=False)
    _layer(fg, line, style={"color": MEASURE_COLOUR, "weight": 3.5, "opacity": 1})
    pts = shapely.points([p[1] for p in points], [p[0] for p in points])
    _layer(fg, features(pts, [{"label": esc(p[2])} for p in points]), point="dot", style={
        "radius": 6, "color": "#000", "weight": 2, "fillColor": MEASURE_COLOUR, "fillOpacity": 1,
    })
    return fg


def polygons_group(name: str, gdf: gpd.GeoDataFrame, tips: Sequence[str], *,
                   color: str = "#0072B2", dash: str = "6 4") -> LayerSpec:
    """Result polygons (buffers, rings, candidate regions) with pre-escaped tooltips."""
    fg = _spec(esc(name))
    geoms = display_geometry(gdf.geometry, 0.002)
    _layer(fg, features(geoms, [{"tip": t} for t in tips]), style={
        "color": color, "weight": 2, "dashArray": dash, "fillColor": color, "fillOpacity": 0.07,
    })
    return fg
