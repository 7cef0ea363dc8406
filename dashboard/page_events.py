"""Page parts about events: filtering, the sortable table, the timeline, selection, data in/out.

Text from events and uploads is shown through Streamlit's table (plain text cells) or after
:func:`md_escape`, never as HTML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import filters, mapview, page_data, page_layers, settings
from dashboard.errors import DashboardError
from dashboard.escape import md_escape

DEFAULT_DATES = (dt.date(2024, 1, 1), dt.date(2024, 1, 31))
MAP_WIDTH_PX = 760


def all_events(version: str | None = None) -> gpd.GeoDataFrame:
    """The curated events (built in, read-only) beside the event store's events (the same
    GeoPackage as the CLI's, settings.default_store_path()), shared and read-only
    (page_data.events_frame) of the store's ``version`` (now, when None). An unreadable
    store is one warning."""
    try:
        return page_data.events_frame(version or page_data.store_version())
    except DashboardError as err:
        st.warning(md_escape(err))
        return page_data.curated_events()


def filtered(events: gpd.GeoDataFrame, version: str, f: filters.EventFilter
             ) -> gpd.GeoDataFrame:
    """The events ``f`` keeps: shared per data version and filter (page_data.filtered) when
    ``events`` is page_data.events_frame(version), else filtered here (an unreadable store
    shows the curated events only)."""
    try:
        if page_data.events_frame(version) is events:
            return page_data.filtered(version, f)
    except DashboardError:
        pass
    return filters.apply(events, f)


@dataclass
class MapContent:
    """What the map and the table show for the filtered events.

    ``specs``: event layer specs (markers, or hexagons) and ``legend`` the hexagon classes'
    legend entries (empty for markers); ``table_events``: the events the table lists; ``note``: one
    plain-text sentence saying what is aggregated or left out of the table ("" when all is
    shown); ``aggregated``: True when the map shows hexagons; ``lonlat``: the filtered
    events' (lon, lat) in degrees when they were many (None otherwise), for other tools."""

    specs: list[dict]
    legend: list[tuple[str, str]]
    table_events: gpd.GeoDataFrame
    note: str
    aggregated: bool
    lonlat: tuple[np.ndarray, np.ndarray] | None = None


def hex_resolution(zoom: int) -> int:
    """H3 resolution of the hexagons at a map zoom (settings.PAGE_HEX_RES, clamped)."""
    table = settings.PAGE_HEX_RES
    z = min(max(int(zoom), min(table)), max(table))
    return table[z]


def map_content(view_events: gpd.GeoDataFrame, types_on: list[str], types: list[str], *,
                discs: bool, bounds: tuple[float, float, float, float], zoom: int,
                version: str) -> MapContent:
    """Markers for every filtered event while there are few; with more than
    settings.PAGE_AGGREGATE_ABOVE, H3 hexagons with counts for the events in (and around)
    the view ``bounds`` (min_lon, min_lat, max_lon, max_lat), or the events themselves once the
    view holds at most settings.PAGE_DETAIL_CAP of them. The table then lists the latest
    settings.PAGE_TABLE_ROWS events in view. ``view_events`` must be rows of
    page_data.events_frame(version) (its index is the row position)."""
    n = len(view_events)
    if n <= settings.PAGE_AGGREGATE_ABOVE:
        specs = page_data.event_specs(view_events, types_on, discs=discs, version=version)
        return MapContent(specs, [], view_events, "", False)
    pos = view_events.index.to_numpy()
    lon_all, lat_all = page_data.coords(version)
    lon, lat = lon_all[pos], lat_all[pos]
    inside = page_data.in_box(lon, lat, bounds)  # the table: the view
    k = int(inside.sum())
    # The map draws a box around the view snapped outward to whole map tiles: a small pan,
    # or the page's own estimate of a view it moves to, gives the same box and so the same
    # layer (cached; the browser redraws nothing).
    drawn = page_data.in_box(lon, lat, snap_bounds(bounds, zoom))
    k_drawn = int(drawn.sum())
    keep = np.zeros(len(lon_all), dtype=bool)
    keep[pos[inside]] = True
    order = page_data.latest_first(version)
    table_events = view_events.loc[order[keep[order]][: settings.PAGE_TABLE_ROWS]]
    table_note = (f"The table lists the latest {len(table_events):,} of the {k:,} events in "
                  "the map's view; zoom in or filter to see others, or download them all "
                  "from the Data tab." if k > len(table_events) else
                  f"The table lists the {k:,} events in the map's view.")
    if k_drawn <= settings.PAGE_DETAIL_CAP:
        specs = page_data.event_specs(view_events[drawn], types_on, discs=discs,
                                      version=version,
                                      disc_vertices=settings.PAGE_DETAIL_DISC_VERTICES)
        return MapContent(specs, [], table_events,
                          f"Zoomed in: the {k:,} events in view are drawn one by one "
                          "(and those just around it). "
                          + table_note, False, (lon, lat))
    res = hex_resolution(zoom)
    # Hexagons for the view and a margin of a quarter view around it (a pan shows no gap).
    w, s_, e, n_ = bounds
    dx, dy = (e - w) / 4, (n_ - s_) / 4
    box = snap_bounds((w - dx, s_ - dy, e + dx, n_ + dy), zoom)
    layer, legend = page_data.hex_layer(version, view_events, types, res, box, (lon, lat))
    return MapContent([layer], legend, table_events,
                      f"{n:,} events are drawn as hexagons (H3 resolution {res}) with their "
                      "counts; zoom in to see single events. " + table_note, True, (lon, lat))


def snap_bounds(bounds: tuple[float, float, float, float], zoom: int
                ) -> tuple[float, float, float, float]:
    """``bounds`` (min_lon, min_lat, max_lon, max_lat, degrees) widened outward to whole
    256-px map tiles' widths at ``zoom`` (360° / 2**zoom)."""
    step = 360.0 / 2 ** max(int(zoom), 0)
    w, s, e, n = bounds
    # min/max: a value so small that value / step underflows to 0 must stay inside the box
    return (float(min(np.floor(w / step) * step, w)), float(min(np.floor(s / step) * step, s)),
            float(max(np.ceil(e / step) * step, e)), float(max(np.ceil(n / step) * step, n)))


def event_filter(start: dt.date, end: dt.date, categories: list[str],
                 event_types: list[str], sub_event_types: list[str], countries: list[str],
                 actor: str, min_fatalities: float) -> filters.EventFilter:
    """The page's one event filter (filters.EventFilter); an empty choice means "any"."""
    return filters.EventFilter(
        start=start, end=end, categories=tuple(categories),
        event_types=tuple(event_types) or None, sub_event_types=tuple(sub_event_types) or None,
        countries=tuple(countries) or None, actor=actor or "",
        min_fatalities=float(min_fatalities) if min_fatalities else None)


def choices(events: gpd.GeoDataFrame, column: str) -> list[str]:
    """Distinct non-empty values of a text column, A–Z (options of a filter)."""
    if column not in events:
        return []
    values = {str(v).strip() for v in pd.unique(events[column].dropna())}
    return sorted(values - {""})


def event_types(events: gpd.GeoDataFrame) -> list[str]:
    """Event types (``category`` values): the styled ones in style order, then others A–Z."""
    present = {str(v) for v in pd.unique(events["category"].dropna())}
    known = [t for t in mapview.EVENT_STYLES if t in present]
    return known + sorted(present - set(known))


def date_bounds(events: gpd.GeoDataFrame) -> tuple[dt.date, dt.date]:
    """First and last event day (a default January 2024 range if there are no events)."""
    dates = pd.to_datetime(events["event_date"], errors="coerce").dropna()
    if dates.empty:
        return DEFAULT_DATES
    d0, d1 = dates.min().date(), dates.max().date()
    return (d0, d1) if d0 < d1 else (d0, d0 + dt.timedelta(days=1))


def border_view() -> tuple[tuple[float, float], int]:
    """(centre, zoom) fitting the Iran–Pakistan border."""
    line, _ = page_data.border()
    west, south, east, north = line.bounds
    # Pad generously: the border plus Panjgur, Turbat, Zahedan and the coast in one view.
    return mapview.bounds_view(south - 1.5, west - 3.5, north + 1.5, east + 4.5,
                               width_px=MAP_WIDTH_PX)


def events_view(events: gpd.GeoDataFrame) -> tuple[tuple[float, float], int]:
    """(centre, zoom) fitting every event (a tiny offset forces a re-fit after panning)."""
    if not len(events):
        return border_view()
    west, south, east, north = events.total_bounds
    (lat, lon), zoom = mapview.bounds_view(south - 1, west - 1, north + 1, east + 1,
                                           width_px=MAP_WIDTH_PX)
    nudge = (st.session_state.get("_fit_count", 0) % 2) * 1e-6
    st.session_state["_fit_count"] = st.session_state.get("_fit_count", 0) + 1
    return (lat + nudge, lon), zoom


def session_event_table(view_events: gpd.GeoDataFrame, types: list[str]) -> pd.DataFrame:
    """:func:`event_table`, kept in the session while the shown events are the same object
    (the filtered frames are shared and never modified, see page_data.filtered): a rerun that
    changes neither the filters nor the view (a table row, a site, a buffer) reuses it.
    Callers must not modify the table."""
    ss = st.session_state
    kept = ss.get("_event_table")
    if kept is not None and kept[0] is view_events and kept[1] == tuple(types):
        return kept[2]
    table = event_table(view_events, types)
    ss["_event_table"] = (view_events, tuple(types), table)
    return table


def event_table(view_events: gpd.GeoDataFrame, types: list[str]) -> pd.DataFrame:
    """The table twin of the map: one row per shown event, with distance to the border."""
    lats = tuple(view_events.geometry.y.round(6))
    lons = tuple(view_events.geometry.x.round(6))
    dist = page_data.border_distances(lats, lons)
    prec = pd.to_numeric(view_events["geo_precision"], errors="coerce")
    km = dist["distance_km"].round(1).to_numpy()
    return pd.DataFrame({
        "Date": pd.to_datetime(view_events["event_date"], errors="coerce").dt.date.to_numpy(),
        "Type": [page_layers.event_style(t, types).label for t in view_events["category"]],
        "Location": view_events["location"].astype("string").to_numpy(),
        "Province": view_events.get("admin1", pd.Series(index=view_events.index)).to_numpy(),
        "Country": view_events.get("country", pd.Series(index=view_events.index)).to_numpy(),
        "Killed": count_text(view_events.get("fatalities"), len(view_events)),
        "Injured": count_text(view_events.get("injured"), len(view_events)),
        "Geo precision": prec.to_numpy(),
        "Border distance (km)": km,
        "Side": dist["side"].to_numpy(),
        "Distance note": ["area event: not meaningful" if p >= 3 else "" for p in prec.fillna(1)],
        "ID": view_events["event_id_cnty"].astype(str).to_numpy(),
    })


UNKNOWN = "—"


def count_text(values: pd.Series | None, n: int) -> list[str]:
    """``n`` counts as text for the table: whole numbers, "—" where unknown (never "None")."""
    if values is None:
        return [UNKNOWN] * n
    nums = pd.to_numeric(values, errors="coerce")
    return [UNKNOWN if pd.isna(v) else f"{int(v):,}" for v in nums]


def apply_selection(view_events: gpd.GeoDataFrame) -> bool:
    """Take a new table selection: remember the event (by id) and centre the map on it
    (zoom 8 at least). Returns True when the map's view was moved.

    Runs before the map content, so a selection among many events draws the new view in the
    same run. The selection is kept by event id, not by row: with many events the table lists
    the events in the map's view, so centring the map changes the table; the row the person
    clicked is read against the table they saw (the previous run's ids, ``_table_ids``), and
    a table that changed under an unchanged selection keeps the selected event."""
    ss = st.session_state
    sel = ss.get("event_table")
    rows = list(getattr(getattr(sel, "selection", None), "rows", []) or []) if sel else []
    if rows == ss.get("_selected_rows"):
        return False
    ss["_selected_rows"] = rows  # the person changed the selection
    ids = ss.get("_table_ids") or []
    if not rows or rows[0] >= len(ids):
        ss.pop("_selected_id", None)
        return False
    event_id = ids[rows[0]]
    if ss.get("_selected_id") == event_id:
        return False
    ss["_selected_id"] = event_id
    geom = _event_geometry(view_events, event_id)
    if geom is None:
        return False
    view = ((geom.y, geom.x), max(ss["view"][1], 8))
    if view == ss["view"]:  # the map was given this view last and would not move back to it
        view = ((geom.y + 1e-9, geom.x), view[1])  # (it may have been panned since)
    ss["view"] = view
    return True


def _event_row(view_events: gpd.GeoDataFrame, event_id: str) -> int | None:
    """Position of the event ``event_id`` among ``view_events`` (None if not shown)."""
    match = np.flatnonzero((view_events["event_id_cnty"] == event_id).to_numpy(dtype=bool))
    return int(match[0]) if len(match) else None


def _event_geometry(view_events: gpd.GeoDataFrame, event_id: str) -> object | None:
    i = _event_row(view_events, event_id)
    return None if i is None else view_events.geometry.iloc[i]


def selected_event(table: pd.DataFrame, view_events: gpd.GeoDataFrame) -> list[dict]:
    """Highlight spec for the event selected in the table (:func:`apply_selection`) while the
    filters show it; remembers this table's ids for the next selection."""
    ss = st.session_state
    ss["_table_ids"] = list(table["ID"])
    event_id = ss.get("_selected_id")
    i = _event_row(view_events, event_id) if event_id else None
    if i is None:
        return []
    geom = view_events.geometry.iloc[i]
    day = pd.to_datetime(view_events["event_date"].iloc[i], errors="coerce")
    label = f"{view_events['location'].iloc[i]} · {day.date() if pd.notna(day) else UNKNOWN}"
    return [page_layers.highlight_group(geom.y, geom.x, label, focus=str(event_id))]


def events_table(table: pd.DataFrame, on_select: Callable[[], None] | str = "rerun") -> None:
    """Sortable table of the events on the map; selecting a row highlights it on the map
    (``on_select``: the callback that reruns the parts of the page it changes)."""
    st.dataframe(
        table, key="event_table", on_select=on_select, selection_mode="single-row",
        hide_index=True, width="stretch", height=min(420, 38 + 35 * max(len(table), 1)),
        column_config={
            "Border distance (km)": st.column_config.NumberColumn(format="%.1f"),
            "Geo precision": st.column_config.NumberColumn(
                help="ACLED geo_precision: 1 town, 2 near a town, 3 region (drawn as an area)"),
        },
    )
    if not len(table):
        st.info("No events match the chosen types and dates.")


def timeline_section(table: pd.DataFrame, types: list[str]) -> None:
    """Events per day by type (follows the filters)."""
    if not len(table):
        st.info("No events match the chosen types and dates.")
        return
    st.altair_chart(timeline_chart(table, types), width="stretch")


def timeline_chart(table: pd.DataFrame, types: list[str]) -> object:
    """Stacked bars of events per day on a real (temporal) axis: days without events are
    gaps, coloured by type with the map's colours, 220 px high."""
    import altair as alt

    labels = [page_layers.event_style(t, types).label for t in types]
    colours = [page_layers.event_style(t, types).color for t in types]
    days = pd.to_datetime(table["Date"], errors="coerce")
    counts = (pd.DataFrame({"Day": days, "Type": table["Type"]}).dropna()
              .groupby(["Day", "Type"]).size().rename("Events").reset_index())
    return (alt.Chart(counts).mark_bar(width={"band": 0.85}).encode(
        x=alt.X("yearmonthdate(Day):T", title=None,
                axis=alt.Axis(format="%d %b", labelAngle=0, tickCount="day")),
        y=alt.Y("sum(Events):Q", title="events", axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("Type:N", scale=alt.Scale(domain=labels, range=colours),
                        legend=alt.Legend(orient="bottom", title=None, columns=4)),
        tooltip=[alt.Tooltip("yearmonthdate(Day):T", title="Day", format="%d %b %Y"),
                 alt.Tooltip("Type:N"), alt.Tooltip("sum(Events):Q", title="Events")],
    ).properties(height=220))


def summary_line(view_events: gpd.GeoDataFrame, events: gpd.GeoDataFrame,
                 dates: tuple[dt.date, dt.date]) -> str:
    """One line saying what the map shows."""
    return (f"Showing {len(view_events):,} of {len(events):,} events, "
            f"{dates[0]:%d %b} – {dates[1]:%d %b %Y}.")
