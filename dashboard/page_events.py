"""Page parts about events: filtering, the sortable table, the timeline, selection, data in/out.

Text from events and uploads is shown through Streamlit's table (plain text cells) or after
:func:`md_escape`, never as HTML.
"""

from __future__ import annotations

import datetime as dt
import re

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard import mapview, page_data, page_layers

DEFAULT_DATES = (dt.date(2024, 1, 1), dt.date(2024, 1, 31))
MAP_WIDTH_PX = 760
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def md_escape(text: object) -> str:
    """Text safe to pass to st.markdown/st.error: every Markdown/HTML special char escaped."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def all_events() -> gpd.GeoDataFrame:
    """Curated events plus this session's uploaded events."""
    curated = page_data.curated_events()
    uploaded = st.session_state.get("uploaded_events")
    if uploaded is None or not len(uploaded):
        return curated
    return gpd.GeoDataFrame(pd.concat([curated, uploaded], ignore_index=True),
                            geometry="geometry", crs=curated.crs)


def event_types(events: gpd.GeoDataFrame) -> list[str]:
    """Event types (``category`` values): the styled ones in style order, then others A–Z."""
    present = set(events["category"].dropna().astype(str))
    known = [t for t in mapview.EVENT_STYLES if t in present]
    return known + sorted(present - set(known))


def date_bounds(events: gpd.GeoDataFrame) -> tuple[dt.date, dt.date]:
    """First and last event day (a default January 2024 range if there are no events)."""
    dates = pd.to_datetime(events["event_date"], errors="coerce").dropna()
    if dates.empty:
        return DEFAULT_DATES
    d0, d1 = dates.min().date(), dates.max().date()
    return (d0, d1) if d0 < d1 else (d0, d0 + dt.timedelta(days=1))


def filter_events(events: gpd.GeoDataFrame, types_on: list[str],
                  dates: tuple[dt.date, dt.date]) -> gpd.GeoDataFrame:
    """Events of the chosen types between the two dates (inclusive)."""
    day = pd.to_datetime(events["event_date"], errors="coerce").dt.date
    keep = events["category"].isin(types_on) & (day >= dates[0]) & (day <= dates[1])
    return events[keep.fillna(False).to_numpy()]


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
        "Killed": pd.to_numeric(view_events.get("fatalities"), errors="coerce").to_numpy(),
        "Injured": pd.to_numeric(view_events.get("injured"), errors="coerce").to_numpy()
        if "injured" in view_events else None,
        "Geo precision": prec.to_numpy(),
        "Border distance (km)": km,
        "Side": dist["side"].to_numpy(),
        "Distance note": ["area event: not meaningful" if p >= 3 else "" for p in prec.fillna(1)],
        "ID": view_events["event_id_cnty"].astype(str).to_numpy(),
    })


def selected_event(table: pd.DataFrame, view_events: gpd.GeoDataFrame) -> list[dict]:
    """Highlight spec for the event selected in the table; centres the map on a new selection."""
    sel = st.session_state.get("event_table")
    rows = list(getattr(getattr(sel, "selection", None), "rows", []) or []) if sel else []
    if not rows or rows[0] >= len(table):
        st.session_state.pop("_selected_id", None)
        return []
    idx = rows[0]
    event_id = table["ID"].iloc[idx]
    geom = view_events.geometry.iloc[idx]
    if st.session_state.get("_selected_id") != event_id:
        st.session_state["_selected_id"] = event_id
        zoom = max(st.session_state["view"][1], 8)
        st.session_state["view"] = ((geom.y, geom.x), zoom)
    label = f"{table['Location'].iloc[idx]} · {table['Date'].iloc[idx]}"
    return [page_layers.highlight_group(geom.y, geom.x, label)]


def events_section(table: pd.DataFrame, view_events: gpd.GeoDataFrame, types: list[str]) -> None:
    """Sortable event table (select a row to highlight it) and the per-day timeline chart."""
    st.subheader("Events shown on the map")
    st.dataframe(
        table, key="event_table", on_select="rerun", selection_mode="single-row",
        hide_index=True, width="stretch", height=min(420, 38 + 35 * max(len(table), 1)),
        column_config={
            "Border distance (km)": st.column_config.NumberColumn(format="%.1f"),
            "Geo precision": st.column_config.NumberColumn(
                help="ACLED geo_precision: 1 town, 2 near a town, 3 region (drawn as an area)"),
        },
    )
    if not len(table):
        st.info("No events match the chosen types and dates.")
        return
    st.subheader("Events per day by type")
    days = pd.to_datetime(table["Date"]).dt.strftime("%Y-%m-%d")
    counts = (table.assign(n=1, Day=days).pivot_table(index="Day", columns="Type", values="n",
                                                     aggfunc="sum", fill_value=0))
    labels = {page_layers.event_style(t, types).label: t for t in types}
    cols = [c for c in counts.columns if c in labels]
    colors = [page_layers.event_style(labels[c], types).color for c in cols]
    st.bar_chart(counts[cols], color=colors, height=180, x_label="", y_label="events")


def summary_line(view_events: gpd.GeoDataFrame, events: gpd.GeoDataFrame,
                 dates: tuple[dt.date, dt.date]) -> str:
    """One line saying what the map shows."""
    return (f"Showing {len(view_events):,} of {len(events):,} events, "
            f"{dates[0]:%d %b} – {dates[1]:%d %b %Y}.")
