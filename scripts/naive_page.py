"""Baseline for scripts/bench_dashboard.py: the straightforward Streamlit + streamlit-folium page.

Same data and the same controls as the dashboard (event-type checkboxes, date range with day
steps, measuring between two sites, a geodesic buffer with radii, a selectable event table),
written the obvious way: every rerun builds a new ``folium.Map`` with every layer (basemap,
countries, provinces, border, places), one ``folium.Marker`` per event, the measured path,
the buffer rings and the highlighted row, and sends the whole map to the browser again. Data
is loaded once per server (``st.cache_data``), so the comparison is about drawing, not I/O.

    DASHBOARD_STORE=… python -m streamlit run scripts/naive_page.py

Events: the curated ones plus the store's (``$DASHBOARD_STORE``), as the dashboard shows.
Same offline Leaflet files as the dashboard, so no network is needed.
"""

from __future__ import annotations

import datetime as dt
import html
import json

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from dashboard import analysis, layers, sites
from dashboard import events as model
from dashboard.mapview import LEAFLET_CSS, LEAFLET_JS, STATIC_URL, event_style
from dashboard.store import EventStore

st.set_page_config(page_title="Naive map", layout="wide")


@st.cache_data(show_spinner=False)
def load() -> tuple[gpd.GeoDataFrame, dict[str, str], dict[str, str]]:
    curated = model.load_curated_events()
    stored = EventStore().read().drop(columns="batch_id", errors="ignore")
    ev = gpd.GeoDataFrame(pd.concat([curated, stored], ignore_index=True), geometry="geometry",
                          crs="EPSG:4326") if len(stored) else curated
    static = {name: layers.load_layer(name).to_json() for name in
              ("basemap_land", "countries", "provinces", "border", "places")}
    site_labels = {}
    for s in sites.known_sites():
        label = f"{s.name} · {s.kind}" if s.kind else s.name
        site_labels[label if label not in site_labels else f"{label} ({s.id})"] = s.id
    return ev, static, site_labels


ev, static, site_labels = load()
types = sorted(ev["category"].dropna().unique())
d0, d1 = ev["event_date"].min().date(), ev["event_date"].max().date()
ss = st.session_state
ss.setdefault("dates", (d0, d1))


def step(days: int) -> None:
    lo, hi = ss["dates"]
    ss["dates"] = (lo, min(max(hi + dt.timedelta(days=days), lo), d1))


st.sidebar.header("Event types")
on = [t for t in types if st.sidebar.checkbox(event_style(t, types).label, value=True,
                                              key=f"type_{t}")]
st.sidebar.header("Dates")
lo, hi = st.sidebar.slider("Date range", min_value=d0, max_value=d1, key="dates")
c1, c2 = st.sidebar.columns(2)
c1.button("◀ Day", on_click=step, args=(-1,))
c2.button("Day ▶", on_click=step, args=(1,))

day = ev["event_date"].dt.date
shown = ev[ev["category"].isin(on) & (day >= lo) & (day <= hi)].reset_index(drop=True)

map_col, tool_col = st.columns([5, 2])
notes = []
m = folium.Map(location=(27.6, 62.5), zoom_start=6, tiles=None)
m.default_js = [("leaflet", f"{STATIC_URL}/{LEAFLET_JS}")]
m.default_css = [("leaflet_css", f"{STATIC_URL}/{LEAFLET_CSS}")]
folium.GeoJson(json.loads(static["basemap_land"]), name="Land",
               style_function=lambda f: {"color": "#cbc3ae", "weight": 0.6,
                                         "fillColor": "#f7f4ec", "fillOpacity": 1}).add_to(m)
for name in ("countries", "provinces"):
    folium.GeoJson(json.loads(static[name]), name=name.capitalize(),
                   style_function=lambda f: {"color": "#888", "weight": 1,
                                             "fillOpacity": 0}).add_to(m)
folium.GeoJson(json.loads(static["border"]), name="Border",
               style_function=lambda f: {"color": "#111", "weight": 3}).add_to(m)
for f in json.loads(static["places"])["features"]:
    lon, lat = f["geometry"]["coordinates"]
    folium.CircleMarker((lat, lon), radius=4, tooltip=html.escape(f["properties"]["name"]),
                        color="#222", fill=True, fill_color="#fff").add_to(m)

with tool_col:
    measure, buffers = st.tabs(["Measure", "Buffers"])
    with measure:
        options = list(site_labels)
        a = st.selectbox("From", options, index=None, key="measure_a")
        b = st.selectbox("To", options, index=None, key="measure_b")
        if a and b:
            sa, sb = sites.resolve_site(site_labels[a]), sites.resolve_site(site_labels[b])
            res = sites.measure_distance(sa, sb)
            st.write(f"{res.distance_m / 1000:,.1f} km")
            coords = [(y, x) for x, y in res.path.coords]
            folium.PolyLine(coords, color="#D55E00", weight=3).add_to(m)
            notes.append(f"{sa.name} → {sb.name} {res.distance_m / 1000:,.1f} km")
    with buffers:
        targets = {"Iran–Pakistan border": "border"}
        targets.update({f"Site: {k}": v for k, v in site_labels.items()})
        target = st.selectbox("Buffer around", list(targets), index=None, key="buffer_target")
        radii = st.text_input("Radii in km (comma-separated)", key="buffer_radii")
        if target and radii.strip():
            rings = analysis.buffer_target(targets[target], radii)
            inside = analysis.points_within(rings, shown, None)
            st.dataframe(inside.summary, hide_index=True)
            folium.GeoJson(json.loads(rings.to_json()), name="Buffers",
                           style_function=lambda f: {"color": "#0072B2", "weight": 2,
                                                     "fillOpacity": 0.05}).add_to(m)
            notes.append(f"buffer {radii} km")

for r in shown.itertuples():
    st_ = event_style(r.category, types)
    folium.Marker((r.latitude, r.longitude), tooltip=html.escape(str(r.location)),
                  icon=folium.DivIcon(html=f"<div class='dash-icon' style='color:{st_.color}'>"
                                           "●</div>")).add_to(m)

table = pd.DataFrame({"Date": shown["event_date"].dt.date, "Type": shown["category"],
                      "Location": shown["location"].astype(str),
                      "ID": shown["event_id_cnty"].astype(str)})
selection = ss.get("event_table")
rows = list(selection.selection.rows) if selection else []
if rows and rows[0] < len(shown):
    r = shown.iloc[rows[0]]
    folium.CircleMarker((r.latitude, r.longitude), radius=14, color="#000", weight=3,
                        fill=False).add_to(m)
    notes.append(f"selected {r.event_id_cnty}")

with map_col:
    st.caption(f"Showing {len(shown):,} of {len(ev):,} events, {lo:%d %b} – {hi:%d %b %Y}"
               + "".join(f"; {html.escape(n)}" for n in notes) + ".")
    st_folium(m, height=620, use_container_width=True, returned_objects=[])
st.dataframe(table, key="event_table", on_select="rerun", selection_mode="single-row",
             hide_index=True, height=400)
