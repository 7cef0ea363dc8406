"""A map for publication: PNG, SVG or PDF, rendered on the server (no browser, tiles or network).

:func:`render_map` draws the committed layers (offline basemap, countries, provinces, the
Iran–Pakistan border, named places) and the given, already filtered events with matplotlib
(``Figure`` + Agg canvas, no pyplot state) and geopandas, in a Lambert conformal conic
projection fitted to the map's extent. The picture carries a title, the date range, a legend
of the event types drawn, a scale bar whose length is measured on the WGS84 ellipsoid at the
map's latitude, a north arrow pointing to true north, the data sources and the location
uncertainty of each event as a geodesic disc (:func:`dashboard.geodesy.buffer`).

Text from data (event names, categories) is drawn literally: mathtext and TeX are off, so
``$…$`` is not maths, and SVG text is XML-escaped by matplotlib. Events at the same place are
fanned out around it with a thin leader line so none hides another. Coordinates are lon/lat.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from matplotlib.transforms import Bbox
from pyproj import CRS, Transformer
from shapely.geometry import Point, box

from dashboard import geodesy, layers, settings
from dashboard.errors import BadParameter, DashboardError

FORMATS = ("png", "svg", "pdf")
LAYER_KEYS = ("basemap", "countries", "provinces", "border", "places")
#: (min_lon, min_lat, max_lon, max_lat) drawn when no bounds are given: the border region
#: from Kerman to Quetta and the Makran coast.
DEFAULT_BOUNDS = (56.0, 24.2, 68.2, 31.6)
DEFAULT_TITLE = "Iran–Pakistan border crisis"
EMPHASISED_PROVINCES = ("PK-BA", "IR-13")

_FIG_WIDTH_IN = 10.0  # the dpi follows width_px, so the layout is the same at any size
_MARGIN_IN = 0.3
_HEADER_IN = 1.0
_MIN_ASPECT, _MAX_ASPECT = 0.5, 1.25  # map height / width; the extent grows to fit
_MARKERS = {"circle": "o", "triangle": "^", "square": "s", "diamond": "D", "star": "*",
            "hexagon": "h", "pentagon": "p", "cross": "P"}
_INK = "#222222"
_GREY = "#6b6b6b"
#: Labels sit on a soft white plate (a stroke "halo" would turn SVG text into paths).
_PLATE = {"boxstyle": "round,pad=0.12,rounding_size=0.3", "facecolor": "white", "alpha": 0.78,
          "edgecolor": "none"}
_RC = {
    "text.parse_math": False,  # untrusted names: "$x$" is text, not maths
    "text.usetex": False,
    "svg.fonttype": "none",  # SVG text stays text (searchable, editable)
    "svg.hashsalt": "staticmap",  # reproducible SVG ids
    "pdf.fonttype": 42,
    "font.family": "DejaVu Sans",
    "axes.unicode_minus": True,
}


@dataclass(frozen=True)
class _Frame:
    """The map's projection and its rectangular extent in projected metres."""

    crs: CRS
    to_map: Transformer
    to_lonlat: Transformer
    x0: float
    y0: float
    x1: float
    y1: float
    name: str = "Lambert conformal conic"

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def project(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.to_map.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x, float), np.asarray(y, float)

    def project_geoms(self, geoms: Any) -> np.ndarray:
        """Lon/lat shapely geometries → projected metres (one transformer for all layers)."""
        def fwd(xy: np.ndarray) -> np.ndarray:
            x, y = self.to_map.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(np.asarray(geoms, dtype=object), fwd)

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        lon, lat = self.to_lonlat.transform(x, y)
        return float(lon), float(lat)


# ------------------------------------------------------------------------------ validation
def check_bounds(bounds: Sequence[float] | None) -> tuple[float, float, float, float]:
    """Validated (min_lon, min_lat, max_lon, max_lat) in degrees; BadParameter if unusable."""
    if bounds is None:
        return DEFAULT_BOUNDS
    try:
        vals = tuple(float(v) for v in bounds)
    except (TypeError, ValueError):
        raise BadParameter("The map bounds must be four numbers: "
                           "MIN_LON,MIN_LAT,MAX_LON,MAX_LAT.") from None
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals):
        raise BadParameter("The map bounds must be four numbers: MIN_LON,MIN_LAT,MAX_LON,MAX_LAT.")
    w, s, e, n = vals
    if not (-180 <= w < e <= 180):
        raise BadParameter(f"The map bounds need -180 ≤ MIN_LON < MAX_LON ≤ 180 (got {w:g}, {e:g};"
                           " the order is MIN_LON,MIN_LAT,MAX_LON,MAX_LAT).")
    if not (-85 <= s < n <= 85):
        raise BadParameter(f"The map bounds need -85 ≤ MIN_LAT < MAX_LAT ≤ 85 (got {s:g}, {n:g};"
                           " the order is MIN_LON,MIN_LAT,MAX_LON,MAX_LAT).")
    if e - w < settings.STATIC_MAP_MIN_SPAN_DEG or n - s < settings.STATIC_MAP_MIN_SPAN_DEG:
        raise BadParameter(f"The map bounds must span at least {settings.STATIC_MAP_MIN_SPAN_DEG:g}"
                           " degrees of longitude and of latitude.")
    return w, s, e, n


def _check_layers(keys: Iterable[str] | None) -> set[str]:
    if keys is None:
        return set(LAYER_KEYS)
    chosen = {str(k) for k in keys}
    unknown = sorted(chosen - set(LAYER_KEYS))
    if unknown:
        raise BadParameter(f"Unknown map layer {unknown[0]!r}; choose from "
                           f"{', '.join(LAYER_KEYS)}.")
    return chosen


# ------------------------------------------------------------------------------ projection
def map_frame(bounds: Sequence[float], aspect_range: tuple[float, float] = (
        _MIN_ASPECT, _MAX_ASPECT)) -> _Frame:
    """Projection (conformal conic fitted to the bounds; Mercator near the equator) and the
    projected rectangle covering the bounds, widened so height/width lies in ``aspect_range``."""
    w, s, e, n = bounds
    lon0, lat0 = (w + e) / 2, (s + n) / 2
    name = "Lambert conformal conic" if (s > 2 or n < -2) else "Mercator"
    if s > 2 or n < -2:
        lat1, lat2 = s + (n - s) / 6, n - (n - s) / 6
        crs = CRS.from_proj4(f"+proj=lcc +lat_1={lat1:.6f} +lat_2={lat2:.6f} +lat_0={lat0:.6f} "
                             f"+lon_0={lon0:.6f} +ellps=WGS84 +units=m +no_defs")
    else:
        crs = CRS.from_proj4(f"+proj=merc +lon_0={lon0:.6f} +ellps=WGS84 +units=m +no_defs")
    to_map = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    t = np.linspace(0.0, 1.0, 64)
    lons = np.concatenate([w + (e - w) * t, np.full_like(t, e), e - (e - w) * t,
                           np.full_like(t, w)])
    lats = np.concatenate([np.full_like(t, s), s + (n - s) * t, np.full_like(t, n),
                           n - (n - s) * t])
    x, y = to_map.transform(lons, lats)
    x0, x1, y0, y1 = float(np.min(x)), float(np.max(x)), float(np.min(y)), float(np.max(y))
    width, height = x1 - x0, y1 - y0
    lo, hi = aspect_range
    if height / width < lo:
        grow = (lo * width - height) / 2
        y0, y1 = y0 - grow, y1 + grow
    elif height / width > hi:
        grow = (height / hi - width) / 2
        x0, x1 = x0 - grow, x1 + grow
    return _Frame(crs, to_map, to_lonlat, x0, y0, x1, y1, name)


def _visible_lonlat_box(frame: _Frame, margin: float = 0.08) -> tuple[float, float, float, float]:
    """Lon/lat box that covers the projected rectangle (plus a margin), for clipping layers."""
    t = np.linspace(0.0, 1.0, 64)
    mx, my = frame.width * margin, frame.height * margin
    x0, x1, y0, y1 = frame.x0 - mx, frame.x1 + mx, frame.y0 - my, frame.y1 + my
    xs = np.concatenate([x0 + (x1 - x0) * t, np.full_like(t, x1), x1 - (x1 - x0) * t,
                         np.full_like(t, x0)])
    ys = np.concatenate([np.full_like(t, y0), y0 + (y1 - y0) * t, np.full_like(t, y1),
                         y1 - (y1 - y0) * t])
    lon, lat = frame.to_lonlat.transform(xs, ys)
    lon, lat = np.asarray(lon), np.asarray(lat)
    ok = np.isfinite(lon) & np.isfinite(lat)
    return (max(float(lon[ok].min()), -180.0), max(float(lat[ok].min()), -89.0),
            min(float(lon[ok].max()), 180.0), min(float(lat[ok].max()), 89.0))


def _prepare(gdf: gpd.GeoDataFrame, clip: tuple[float, float, float, float], frame: _Frame,
             tolerance_m: float) -> gpd.GeoDataFrame:
    """Clip a lon/lat layer to ``clip``, project it and simplify it to the drawing resolution."""
    if gdf is None or len(gdf) == 0:
        return gpd.GeoDataFrame(geometry=[], crs=frame.crs)
    window = box(*clip)
    keep = gdf[gdf.geometry.intersects(window)].copy()
    if len(keep) == 0:
        return gpd.GeoDataFrame(geometry=[], crs=frame.crs)
    keep["geometry"] = keep.geometry.clip_by_rect(*clip)
    keep = keep[~keep.geometry.is_empty]
    geoms = frame.project_geoms(keep.geometry.to_numpy())
    out = gpd.GeoDataFrame(keep.drop(columns="geometry"), geometry=list(geoms), crs=frame.crs)
    out["geometry"] = out.geometry.simplify(tolerance_m, preserve_topology=True)
    return out[~out.geometry.is_empty & out.geometry.notna()]


def nice_length_km(max_km: float) -> float:
    """Largest 1, 2 or 5 × 10^k km not above ``max_km`` (for the scale bar)."""
    if not (max_km > 0 and math.isfinite(max_km)):
        raise BadParameter("The scale bar needs a positive length.")
    exp = math.floor(math.log10(max_km))
    for step in (5, 2, 1):
        if step * 10 ** exp <= max_km * (1 + 1e-9):
            return float(step * 10 ** exp)
    return float(10 ** exp)


def scale_bar_geometry(frame: _Frame, x: float, y: float, target_fraction: float = 0.22
                       ) -> tuple[float, float, float]:
    """(length_km, map length of it in projected units, latitude) for a scale bar starting at
    projected (x, y): the length is measured along the WGS84 geodesic heading east from there."""
    lon, lat = frame.lonlat(x, y)
    lon_e, lat_e = frame.lonlat(x + frame.width * target_fraction, y)
    approx_km = float(geodesy.inverse(lat, lon, lat_e, lon_e)[0]) / 1000.0
    length_km = nice_length_km(approx_km)
    end_lon, end_lat, _ = geodesy.GEOD.fwd(lon, lat, 90.0, length_km * 1000.0)
    ex, ey = frame.project(end_lon, end_lat)
    return length_km, float(math.hypot(float(ex) - x, float(ey) - y)), lat


def north_angle_deg(frame: _Frame, x: float, y: float) -> float:
    """Angle of true north at projected (x, y), in degrees counter-clockwise from the map's up."""
    lon, lat = frame.lonlat(x, y)
    step_m = max(frame.height * 0.01, 10.0)
    nlon, nlat, _ = geodesy.GEOD.fwd(lon, lat, 0.0, step_m)
    nx, ny = frame.project(nlon, nlat)
    return math.degrees(math.atan2(-(float(nx) - x), float(ny) - y))


# --------------------------------------------------------------------------- text helpers
def _date_text(d: dt.date) -> str:
    return f"{d.day} {d:%b %Y}"


def _date_range_text(events: pd.DataFrame, start: dt.date | None, end: dt.date | None) -> str:
    days = pd.to_datetime(events.get("event_date", pd.Series(dtype="datetime64[ns]")),
                          errors="coerce").dropna()
    lo = start or (days.min().date() if len(days) else None)
    hi = end or (days.max().date() if len(days) else None)
    if lo is None and hi is None:
        return "all dates"
    if lo is None:
        return f"up to {_date_text(hi)}"
    if hi is None:
        return f"from {_date_text(lo)}"
    if lo == hi:
        return _date_text(lo)
    return f"{_date_text(lo)} – {_date_text(hi)}"


def _short_place(text: Any, limit: int = 28) -> str:
    name = str(text or "").strip()
    for sep in (" (", ","):
        if sep in name and name.index(sep) > 0:
            name = name[: name.index(sep)]
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def _source_count(events: pd.DataFrame) -> int:
    seen: set[str] = set()
    if "sources" in events.columns:
        for v in events["sources"]:
            if isinstance(v, (list, tuple, np.ndarray)):
                seen.update(str(u).strip() for u in v if str(u).strip())
    if "source" in events.columns:
        for v in events["source"].dropna():
            seen.update(p.strip() for p in str(v).split(";") if p.strip())
    return len(seen)


def sources_text(events: pd.DataFrame, drawn: set[str]) -> str:
    """The data-sources line: layer sources from geodata/manifest.json and the events' count."""
    files = {"basemap": ("basemap_land", "basemap_lakes", "basemap_rivers", "basemap_coast"),
             "countries": ("countries",), "provinces": ("provinces",),
             "border": ("border",), "places": ("places",)}
    try:
        manifest = layers.load_manifest().get("layers", {})
    except DashboardError:
        manifest = {}
    by_source: dict[str, list[str]] = {}
    for key in LAYER_KEYS:
        if key not in drawn:
            continue
        for name in files[key]:
            entry = manifest.get(settings.LAYER_FILES[name], {})
            src = str(entry.get("source") or settings.LAYER_FILES[name])
            org = "Natural Earth" if src.startswith("Natural Earth") else src
            if entry.get("licence", "").startswith("Public domain"):
                org += " (public domain)"
            label = {"basemap": "land, lakes, rivers, coast"}.get(key, key)
            by_source.setdefault(org, [])
            if label not in by_source[org]:
                by_source[org].append(label)
    parts = [f"{', '.join(v)}: {k}" for k, v in by_source.items()]
    n = len(events)
    if n:
        parts.append(f"events: {n:,} record{'s' if n != 1 else ''} citing "
                     f"{_source_count(events):,} source{'s' if _source_count(events) != 1 else ''}")
    parts.append("distances, scale bar and uncertainty discs: WGS84 ellipsoid (pyproj.Geod)")
    return "Sources — " + "; ".join(parts) + "."


# ------------------------------------------------------------------------------ drawing
def _fan_out(x: np.ndarray, y: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions for markers: events sharing a location are spread on a small circle around it."""
    ox, oy = x.copy(), y.copy()
    if len(x) < 2:
        return ox, oy
    keys = pd.Series(list(zip(np.round(x, 0), np.round(y, 0), strict=True)))
    for _key, idx in keys.groupby(keys).groups.items():
        k = len(idx)
        if k < 2:
            continue
        ring = radius * max(1.0, k / 6)
        ang = np.pi / 2 + 2 * np.pi * np.arange(k) / k
        ii = np.asarray(list(idx))
        ox[ii] = x[ii] + ring * np.cos(ang)
        oy[ii] = y[ii] + ring * np.sin(ang)
    return ox, oy


def geodesic_circles(lons: Any, lats: Any, radii_km: Any) -> np.ndarray:
    """Lon/lat discs of ``radii_km`` around each centre: :func:`dashboard.geodesy.buffer` of
    the point (a WGS84 geodesic circle); None where the buffer is refused (a disc that would
    cross the antimeridian or reach a pole)."""
    lons, lats, radii = np.broadcast_arrays(np.asarray(lons, float), np.asarray(lats, float),
                                            np.asarray(radii_km, float))
    out = np.empty(lons.size, dtype=object)
    for i, (lon, lat, r_km) in enumerate(zip(lons.ravel(), lats.ravel(), radii.ravel(),
                                             strict=True)):
        try:
            out[i] = geodesy.buffer(Point(float(lon), float(lat)), float(r_km) * 1000.0)
        except BadParameter:
            out[i] = None
    return out


def _uncertainty_discs(events: pd.DataFrame, frame: _Frame) -> gpd.GeoDataFrame:
    """Geodesic discs (WGS84) of radius ``uncertainty_km`` around each event, projected; events
    with the same place, radius and category share one disc."""
    radius = pd.to_numeric(events["uncertainty_km"], errors="coerce")
    table = pd.DataFrame({"lon": events["longitude"].round(5), "lat": events["latitude"].round(5),
                          "r": radius, "category": events["category"]})
    table = table[np.isfinite(table["r"]) & (table["r"] > 0)].drop_duplicates()
    if len(table) == 0:
        return gpd.GeoDataFrame({"category": []}, geometry=[], crs=frame.crs)
    circles = geodesic_circles(table["lon"], table["lat"], table["r"])
    ok = np.array([c is not None for c in circles], dtype=bool)
    return gpd.GeoDataFrame({"category": table["category"].to_numpy()[ok]},
                            geometry=list(frame.project_geoms(circles[ok])), crs=frame.crs)


class _Labeller:
    """Greedy label placement: a label is drawn only where it overlaps no other label, marker
    or the border line, trying right, left, above and below its point."""

    _POSITIONS = (((7, 0), "left", "center"), ((-7, 0), "right", "center"),
                  ((0, 7), "center", "bottom"), ((0, -7), "center", "top"),
                  ((6, 6), "left", "bottom"), ((6, -6), "left", "top"),
                  ((-6, 6), "right", "bottom"), ((-6, -6), "right", "top"))

    def __init__(self, ax: Any, renderer: Any, obstacles: list[Bbox], lines: Any) -> None:
        self.ax, self.renderer = ax, renderer
        self.taken = list(obstacles)
        self.lines = lines  # shapely geometry in display pixels, or None
        self.frame_box = ax.get_window_extent(renderer)

    def place(self, x: float, y: float, text: str, gap_pt: float = 0.0, **style: Any) -> bool:
        for (dx, dy), ha, va in self._POSITIONS:
            sx = dx + (math.copysign(gap_pt, dx) if dx else 0)
            sy = dy + (math.copysign(gap_pt, dy) if dy else 0)
            art = self.ax.annotate(text, (x, y), xytext=(sx, sy), textcoords="offset points",
                                   ha=ha, va=va, annotation_clip=True, bbox=_PLATE,
                                   zorder=9, **style)
            bb = art.get_window_extent(self.renderer).expanded(1.04, 1.1)
            inside = (bb.x0 >= self.frame_box.x0 and bb.x1 <= self.frame_box.x1
                      and bb.y0 >= self.frame_box.y0 and bb.y1 <= self.frame_box.y1)
            clash = any(bb.overlaps(t) for t in self.taken)
            if not clash and self.lines is not None:
                clash = self.lines.intersects(box(bb.x0, bb.y0, bb.x1, bb.y1))
            if inside and not clash:
                self.taken.append(bb)
                return True
            art.remove()
        return False


def _to_display(ax: Any, geom: Any) -> Any:
    """A projected shapely geometry in the axes' display pixels (for label collision tests)."""
    return shapely.transform(geom, lambda xy: ax.transData.transform(xy))


def _styles() -> tuple[Any, Any, str, str]:
    # The page's marker styles are the single source of colours and shapes. mapview imports
    # folium, so it is imported only when a map is drawn, not when this module is imported.
    from dashboard.mapview import EVENT_STYLES, LAND_COLOUR, SEA_COLOUR, event_style

    return EVENT_STYLES, event_style, LAND_COLOUR, SEA_COLOUR


def render_map(events: pd.DataFrame | None, *, fmt: str = "png", start: dt.date | None = None,
               end: dt.date | None = None, bounds: Sequence[float] | None = None,
               layers: Iterable[str] | None = None, discs: bool = True,
               title: str | None = None, width_px: int = 1600) -> bytes:
    """Render a publication map of ``events`` (the filtered event GeoDataFrame) as bytes.

    ``fmt`` is "png", "svg" or "pdf"; ``start``/``end`` (dates) are the filter's date range
    shown under the title (else the events' own range); ``bounds`` is (min_lon, min_lat,
    max_lon, max_lat) in degrees (else :data:`DEFAULT_BOUNDS`); ``layers`` is the set of static
    layers to draw (:data:`LAYER_KEYS`, default all); ``discs`` draws each event's location
    uncertainty (``uncertainty_km``) as a geodesic disc; ``width_px`` is the PNG width in
    pixels (the vector formats have the same layout). Raises BadParameter for bad options.
    """
    fmt = str(fmt).lower().lstrip(".")
    if fmt not in FORMATS:
        raise BadParameter(f"Unknown map format {fmt!r}; choose png, svg or pdf.")
    try:
        width_px = int(width_px)
    except (TypeError, ValueError):
        raise BadParameter("The map width must be a whole number of pixels.") from None
    lo_px, hi_px = settings.STATIC_MAP_WIDTH_PX
    if not lo_px <= width_px <= hi_px:
        raise BadParameter(f"The map width must be {lo_px:,}–{hi_px:,} pixels (got {width_px:,}).")
    if start and end and start > end:
        raise BadParameter(f"The start date {start.isoformat()} is after the end date "
                           f"{end.isoformat()}.")
    bbox = check_bounds(bounds)
    drawn = _check_layers(layers)
    events = _event_frame(events)
    with mpl.rc_context(_RC):
        fig, crop = _draw(events, bbox, drawn, discs=discs, title=title, start=start, end=end,
                          dpi=width_px / _FIG_WIDTH_IN)
        out = io.BytesIO()
        meta = {"png": {"Software": None}, "svg": {"Date": None},
                "pdf": {"CreationDate": None, "ModDate": None}}[fmt]
        meta["Title"] = title or DEFAULT_TITLE
        fig.savefig(out, format=fmt, dpi=fig.dpi, metadata=meta, bbox_inches=crop)
    return out.getvalue()


def _event_frame(events: pd.DataFrame | None) -> pd.DataFrame:
    """The columns the map needs, with finite coordinates only."""
    cols = ["latitude", "longitude", "category", "event_date", "location", "uncertainty_km",
            "sources", "source"]
    if events is None or len(events) == 0:
        return pd.DataFrame({c: [] for c in cols})
    df = pd.DataFrame(events).drop(columns="geometry", errors="ignore").copy()
    if "latitude" not in df.columns or "longitude" not in df.columns:
        geom = gpd.GeoSeries(events.geometry) if hasattr(events, "geometry") else None
        if geom is None:
            raise BadParameter("The events have no latitude/longitude columns.")
        df["longitude"], df["latitude"] = geom.x.to_numpy(), geom.y.to_numpy()
    for c in cols:
        if c not in df.columns:
            df[c] = None
    df["latitude"] = pd.to_numeric(df["latitude"], errors="coerce")
    df["longitude"] = pd.to_numeric(df["longitude"], errors="coerce")
    df["category"] = df["category"].fillna("other").astype(str)
    ok = np.isfinite(df["latitude"]) & np.isfinite(df["longitude"])
    return df[ok.to_numpy()].reset_index(drop=True)


def _draw(events: pd.DataFrame, bbox: tuple[float, float, float, float], drawn: set[str], *,
          discs: bool, title: str | None, start: dt.date | None, end: dt.date | None,
          dpi: float) -> tuple[Figure, Bbox]:
    styles, event_style, land_colour, sea_colour = _styles()
    frame = map_frame(bbox)
    map_w_in = _FIG_WIDTH_IN - 2 * _MARGIN_IN
    map_h_in = map_w_in * frame.height / frame.width
    known = sorted(events["category"].unique())
    order = [c for c in styles if c in known] + [c for c in known if c not in styles]

    footer_in = 4.0  # generous; the picture is cropped below the last line of text
    fig_h = _HEADER_IN + map_h_in + footer_in
    fig = Figure(figsize=(_FIG_WIDTH_IN, fig_h), dpi=dpi, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    # geopandas asks for an idle redraw after each layer; on Agg that is a full draw
    canvas.draw_idle = lambda *args, **kwargs: None  # type: ignore[method-assign]
    ax = fig.add_axes((_MARGIN_IN / _FIG_WIDTH_IN, footer_in / fig_h, map_w_in / _FIG_WIDTH_IN,
                       map_h_in / fig_h))
    ax.set_xlim(frame.x0, frame.x1)
    ax.set_ylim(frame.y0, frame.y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#8a8a8a")
        spine.set_linewidth(0.8)
    ax.set_facecolor(sea_colour if "basemap" in drawn else "white")

    clip = _visible_lonlat_box(frame)
    tol = frame.width / 4000.0
    px = frame.width / (map_w_in * dpi)  # projected metres per pixel

    coverage_note = ""
    if "basemap" in drawn:
        land_ll = layers.load_layer("basemap_land")
        cw, cs, ce, cn = (float(v) for v in land_ll.total_bounds)
        w, s_, e, n = _visible_lonlat_box(frame, margin=0.0)
        if w < cw - 0.5 or e > ce + 0.5 or s_ < cs - 0.5 or n > cn + 0.5:
            coverage_note = (f"The offline basemap covers only {_deg(cw, 'E', 'W')} to "
                             f"{_deg(ce, 'E', 'W')} and {_deg(cs, 'N', 'S')} to "
                             f"{_deg(cn, 'N', 'S')}; land beyond it is not drawn.")
        land = _prepare(land_ll, clip, frame, tol)
        if len(land):
            land.plot(ax=ax, facecolor=land_colour, edgecolor="none", zorder=1)
        lakes = _prepare(layers.load_layer("basemap_lakes"), clip, frame, tol)
        if len(lakes):
            lakes.plot(ax=ax, facecolor=sea_colour, edgecolor="#a9c8dc", linewidth=0.4, zorder=1.5)
        rivers = _prepare(layers.load_layer("basemap_rivers"), clip, frame, tol)
        if len(rivers):
            rivers.plot(ax=ax, color="#8fbad8", linewidth=0.7, zorder=1.6)
        coast = _prepare(layers.load_layer("basemap_coast"), clip, frame, tol)
        if len(coast):
            coast.plot(ax=ax, color="#7fa7c4", linewidth=0.6, zorder=1.7)
    provinces = gpd.GeoDataFrame(geometry=[], crs=frame.crs)
    if "provinces" in drawn:
        provinces = _prepare(layers.load_provinces(), clip, frame, tol)
        if len(provinces):
            hot = provinces["iso_3166_2"].isin(EMPHASISED_PROVINCES)
            if hot.any():
                provinces[hot].plot(ax=ax, facecolor="#e3c98f", alpha=0.28, edgecolor="none",
                                    zorder=2)
                provinces[hot].plot(ax=ax, facecolor="none", edgecolor="#7a5c2e", linewidth=0.9,
                                    zorder=2.3)
            if (~hot).any():
                provinces[~hot].plot(ax=ax, facecolor="none", edgecolor="#a9a9a9",
                                     linewidth=0.5, linestyle=(0, (3, 3)), zorder=2.2)
    countries = gpd.GeoDataFrame(geometry=[], crs=frame.crs)
    if "countries" in drawn:
        countries = _prepare(layers.load_countries(), clip, frame, tol)
        if len(countries):
            countries.boundary.plot(ax=ax, color=_GREY, linewidth=0.9, zorder=2.5)
    border_px = None
    if "border" in drawn:
        border = _prepare(layers.load_layer("border"), clip, frame, tol / 4)
        if len(border):
            border.plot(ax=ax, color="white", linewidth=5.0, alpha=0.9, zorder=3)
            border.plot(ax=ax, color=_INK, linewidth=2.2, zorder=3.1)
    places = pd.DataFrame()
    if "places" in drawn:
        pl = layers.load_places()
        w, s, e, n = clip
        places = pl[(pl["lon"] >= w) & (pl["lon"] <= e) & (pl["lat"] >= s) & (pl["lat"] <= n)]

    # events inside the projected rectangle
    ex, ey = frame.project(events["longitude"].to_numpy(float), events["latitude"].to_numpy(float))
    inside = ((ex >= frame.x0) & (ex <= frame.x1) & (ey >= frame.y0) & (ey <= frame.y1)
              & np.isfinite(ex) & np.isfinite(ey))
    shown = events[inside].reset_index(drop=True)
    sx, sy = ex[inside], ey[inside]
    n_out = int((~inside).sum())
    many = len(shown) > settings.STATIC_MAP_MAX_LABELLED_EVENTS
    disc_note = ""
    if discs and len(shown):
        if len(shown) <= settings.STATIC_MAP_MAX_DISCS:
            dgdf = _uncertainty_discs(shown, frame)
            for cat in order:
                part = dgdf[dgdf["category"] == cat]
                if len(part):
                    colour = event_style(cat, known).color
                    part.plot(ax=ax, facecolor=colour, alpha=0.13, edgecolor="none", zorder=4)
                    part.plot(ax=ax, facecolor="none", edgecolor=colour, linewidth=0.9,
                              linestyle=(0, (4, 2)), alpha=0.9, zorder=4.1)
        else:
            disc_note = (f"Uncertainty discs are drawn for up to "
                         f"{settings.STATIC_MAP_MAX_DISCS:,} events; this map shows "
                         f"{len(shown):,}.")
    if "places" in drawn and discs and len(places):
        r_km = pd.to_numeric(places["uncertainty_km"], errors="coerce").fillna(0).to_numpy()
        circles = geodesic_circles(places["lon"].to_numpy(float)[r_km > 0],
                                   places["lat"].to_numpy(float)[r_km > 0], r_km[r_km > 0])
        circles = [c for c in circles if c is not None]
        if circles:
            gpd.GeoSeries(list(frame.project_geoms(circles)), crs=frame.crs).plot(
                ax=ax, facecolor="none", edgecolor="#555555", linewidth=0.6,
                linestyle=(0, (2, 2)), zorder=4.2)

    ax.set_xlabel("")  # geopandas labels the axes with the CRS
    ax.set_ylabel("")
    obstacles: list[Bbox] = []
    canvas.draw()  # fixes the axes position so data → pixel transforms are final
    renderer = canvas.get_renderer()
    if len(places):
        px_, py_ = frame.project(places["lon"].to_numpy(float), places["lat"].to_numpy(float))
        big = places["kind"].isin(["capital", "city"]).to_numpy()
        ax.scatter(px_, py_, s=np.where(big, 30, 18), facecolor="white", edgecolor=_INK,
                   linewidth=1.1, zorder=5)
    marker_pt = 11.0 if not many else (6.0 if len(shown) <= 20_000 else 3.0)
    fx, fy = _fan_out(sx, sy, radius=marker_pt * 1.05 / 72 * dpi * px)
    moved = (fx != sx) | (fy != sy)
    if moved.any():
        for i in np.flatnonzero(moved):
            ax.plot([sx[i], fx[i]], [sy[i], fy[i]], color=_INK, linewidth=0.8, zorder=5.5)
        ax.scatter(sx[moved], sy[moved], s=9, color=_INK, zorder=5.6)
    counts: dict[str, int] = {}
    for cat in order:
        sel = (shown["category"] == cat).to_numpy()
        counts[cat] = int(sel.sum())
        if not sel.any():
            continue
        style = event_style(cat, known)
        size = marker_pt ** 2 * (1.6 if _MARKERS.get(style.shape) == "*" else 1.0)
        ax.scatter(fx[sel], fy[sel], s=size, marker=_MARKERS.get(style.shape, "o"),
                   facecolor=style.color, edgecolor="white" if not many else "none",
                   linewidth=1.2 if not many else 0, zorder=6, rasterized=len(shown) > 5000)
    if not many:
        half = marker_pt / 72 * dpi * 0.6
        for x, y in zip(fx, fy, strict=True):
            cx, cy = ax.transData.transform((x, y))
            obstacles.append(Bbox.from_extents(cx - half, cy - half, cx + half, cy + half))
    if len(places):
        for x, y in zip(px_, py_, strict=True):
            cx, cy = ax.transData.transform((x, y))
            obstacles.append(Bbox.from_extents(cx - 4, cy - 4, cx + 4, cy + 4))
    if "border" in drawn:
        border_ll = layers.load_border().geometry
        bx, by = frame.project(*np.asarray(border_ll.coords).T)
        border_px = _to_display(ax, shapely.LineString(np.column_stack([bx, by])))

    _scale_and_north(ax, frame, obstacles)
    lab = _Labeller(ax, renderer, obstacles, border_px)
    if not many:
        for i, r in shown.iterrows():
            day = pd.to_datetime(r["event_date"], errors="coerce")
            when = f"{day.day} {day:%b}" if pd.notna(day) else ""
            text = " · ".join(t for t in (when, _short_place(r["location"])) if t)
            lab.place(fx[i], fy[i], text, gap_pt=marker_pt / 2.5, fontsize=8.5,
                      fontweight="bold", color=_INK)
    named = " ".join(t.get_text() for t in ax.texts).casefold()
    if len(places):
        rank = places["kind"].map({"capital": 0, "city": 1, "town": 2, "venue": 3}).fillna(4)
        for j in np.argsort(rank.to_numpy(), kind="stable"):
            r = places.iloc[j]
            if f"· {str(r['name']).casefold()}" in named:
                continue  # an event label already names this place
            lab.place(px_[j], py_[j], str(r["name"]), fontsize=8.5 if rank.iloc[j] < 2 else 7.8,
                      color="#333333")
    if len(countries):
        _country_labels(ax, countries, frame, lab)
    if len(provinces):
        for _, r in provinces[provinces["iso_3166_2"].isin(EMPHASISED_PROVINCES)].iterrows():
            pt = _label_point(r.geometry, frame)
            if pt is not None:
                lab.place(pt.x, pt.y, str(r["name"]), fontsize=9, fontstyle="italic",
                          color="#7a5c2e")

    # header
    top = 1 - 0.22 / fig.get_figheight()
    fig.text(_MARGIN_IN / _FIG_WIDTH_IN, top, title or DEFAULT_TITLE, fontsize=19,
             fontweight="bold", color=_INK, va="top")
    total = len(events)
    sub = f"{_date_range_text(events, start, end)}  ·  {len(shown):,} event"
    sub += "s" if len(shown) != 1 else ""
    sub += " on this map"
    if n_out:
        sub += f"; {n_out:,} more outside it"
    if total == 0:
        sub = f"{_date_range_text(events, start, end)}  ·  no events match the filters"
    fig.text(_MARGIN_IN / _FIG_WIDTH_IN, top - 0.5 / fig.get_figheight(), sub, fontsize=11.5,
             color="#444444", va="top")

    # legend
    handles: list[Any] = []
    for cat in order:
        if not counts.get(cat):
            continue
        st = event_style(cat, known)
        handles.append(Line2D([], [], linestyle="none", marker=_MARKERS.get(st.shape, "o"),
                              markersize=11 if st.shape == "star" else 9,
                              markerfacecolor=st.color, markeredgecolor="white",
                              label=f"{st.label} ({counts.get(cat, 0):,})"))
    if discs and len(shown) and not disc_note:
        handles.append(Patch(facecolor="#999999", alpha=0.35, edgecolor="#555555",
                             linestyle="--", label="Location uncertainty (geodesic radius)"))
    if "border" in drawn:
        handles.append(Line2D([], [], color=_INK, linewidth=2.2, label="Iran–Pakistan border"))
    if "countries" in drawn:
        handles.append(Line2D([], [], color=_GREY, linewidth=0.9, label="International boundary"))
    if "provinces" in drawn:
        handles.append(Patch(facecolor="#e3c98f", alpha=0.6, edgecolor="#7a5c2e",
                             label="Balochistan / Sistan and Baluchestan"))
    if "places" in drawn:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=5,
                              markerfacecolor="white", markeredgecolor=_INK, label="Place"))
    if moved.any():
        handles.append(Line2D([], [], color=_INK, linewidth=0.8, marker="o", markersize=3,
                              markevery=[0], label="Events at one place, fanned out"))
    below_in = footer_in - 0.15  # top of the legend, in inches from the bottom
    if handles:
        leg = fig.legend(handles=handles, loc="upper left", ncol=3, frameon=False, fontsize=9,
                         bbox_to_anchor=(_MARGIN_IN / _FIG_WIDTH_IN - 0.01, below_in / fig_h),
                         handlelength=1.8, columnspacing=1.6, borderaxespad=0)
        below_in = leg.get_window_extent(renderer).y0 / dpi - 0.12
    notes = [sources_text(events, drawn)]
    notes += [n for n in (disc_note, coverage_note) if n]
    notes.append(f"Projection: {frame.name} fitted to this map; the north arrow points to true "
                 "north.")
    wrapped = "\n".join(textwrap.fill(t, 150) for t in notes)
    foot = fig.text(_MARGIN_IN / _FIG_WIDTH_IN, below_in / fig_h, wrapped, fontsize=7.5,
                    color="#555555", va="top", linespacing=1.35)
    bottom_in = max(foot.get_window_extent(renderer).y0 / dpi - 0.2, 0.0)
    return fig, Bbox.from_extents(0.0, bottom_in, _FIG_WIDTH_IN, fig_h)


def _deg(value: float, pos: str, neg: str) -> str:
    return f"{abs(value):.0f}° {pos if value >= 0 else neg}"


def _label_point(geom: Any, frame: _Frame) -> Point | None:
    """A point inside the visible part of a projected polygon, for its label."""
    visible = geom.intersection(box(frame.x0 + frame.width * 0.04, frame.y0 + frame.height * 0.04,
                                    frame.x1 - frame.width * 0.04, frame.y1 - frame.height * 0.04))
    if visible.is_empty:
        return None
    parts = [p for p in shapely.get_parts(visible) if p.geom_type == "Polygon"]
    if not parts:
        return None
    biggest = max(parts, key=lambda p: p.area)
    if biggest.area < frame.width * frame.height * 0.01:
        return None
    return shapely.point_on_surface(biggest)


def _country_labels(ax: Any, countries: gpd.GeoDataFrame, frame: _Frame, lab: _Labeller) -> None:
    for _, r in countries.iterrows():
        pt = _label_point(r.geometry, frame)
        if pt is None:
            continue
        # try the representative point and a few points around it inside the country
        cands = [pt]
        step = frame.width * 0.06
        for dx, dy in ((0, step), (0, -step), (step, 0), (-step, 0)):
            p = Point(pt.x + dx, pt.y + dy)
            if r.geometry.contains(p):
                cands.append(p)
        for p in cands:
            if lab.place(p.x, p.y, str(r["name"]).upper(), fontsize=10.5, color="#8a8a8a",
                         fontweight="bold"):
                break


def _scale_and_north(ax: Any, frame: _Frame, obstacles: list[Bbox]) -> None:
    """Scale bar (lower left) and north arrow (upper left), each on a white plate."""
    x = frame.x0 + frame.width * 0.035
    y = frame.y0 + frame.height * 0.05
    length_km, length_map, lat = scale_bar_geometry(frame, x, y)
    h = frame.height * 0.011
    plate = Rectangle((x - frame.width * 0.015, y - frame.height * 0.035),
                      max(length_map + frame.width * 0.06, frame.width * 0.25),
                      frame.height * 0.095,
                      facecolor="white", alpha=0.85, edgecolor="none", zorder=7)
    ax.add_patch(plate)
    for k in range(4):
        ax.add_patch(Rectangle((x + length_map * k / 4, y), length_map / 4, h,
                               facecolor=_INK if k % 2 == 0 else "white", edgecolor=_INK,
                               linewidth=0.8, zorder=7.1))
    for frac in (0, 0.5, 1):
        v = length_km * frac
        ax.text(x + length_map * frac, y + h * 1.6, f"{v:g}", ha="center", va="bottom",
                fontsize=8, color=_INK, zorder=7.2)
    mi = length_km / settings.KM_PER_MILE
    ax.text(x + length_map + frame.width * 0.008, y + h / 2, "km", ha="left",
            va="center", fontsize=8, color=_INK, zorder=7.2)
    ax.text(x, y - frame.height * 0.008, f"{length_km:g} km = {mi:,.1f} mi, measured on the WGS84 "
            f"ellipsoid at {abs(lat):.1f}° {'N' if lat >= 0 else 'S'}", ha="left", va="top",
            fontsize=6.5, color="#555555", zorder=7.2)
    obstacles.append(_patch_px(ax, plate))

    # north arrow
    nx = frame.x0 + frame.width * 0.04
    ny = frame.y1 - frame.height * 0.1
    angle = math.radians(north_angle_deg(frame, nx, ny))
    size = frame.height * 0.045
    shape = np.array([[0, 1], [0.45, -0.6], [0, -0.25], [-0.45, -0.6]]) * size / 1.0
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    pts = shape @ rot.T + [nx, ny]
    plate_n = Rectangle((nx - size * 0.9, ny - size * 1.05), size * 1.8, size * 2.75,
                        facecolor="white", alpha=0.85, edgecolor="none", zorder=7)
    ax.add_patch(plate_n)
    ax.add_patch(Polygon(pts, closed=True, facecolor=_INK, edgecolor=_INK, zorder=7.1))
    tip = np.array([0, 1.15]) * size @ rot.T + [nx, ny]
    ax.text(tip[0], tip[1], "N", ha="center", va="bottom", fontsize=11, fontweight="bold",
            color=_INK, zorder=7.2)
    obstacles.append(_patch_px(ax, plate_n))


def _patch_px(ax: Any, patch: Rectangle) -> Bbox:
    (x0, y0), (x1, y1) = patch.get_xy(), (patch.get_x() + patch.get_width(),
                                           patch.get_y() + patch.get_height())
    a = ax.transData.transform((x0, y0))
    b = ax.transData.transform((x1, y1))
    return Bbox.from_extents(a[0], a[1], b[0], b[1])
