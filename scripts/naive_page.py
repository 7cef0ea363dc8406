"""Baseline for scripts/bench_dashboard.py: the straightforward Streamlit + folium page.

One folium.Marker per event, the whole map rebuilt and re-sent on every interaction. Same
offline Leaflet assets, same event file (DASHBOARD_GEODATA), same sidebar controls
(event-type checkboxes, date slider) so the benchmark compares like with like.

    python -m streamlit run scripts/naive_page.py
"""

from __future__ import annotations

import html

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from dashboard import events as model
from dashboard.mapview import LEAFLET_CSS, LEAFLET_JS, STATIC_URL

st.set_page_config(page_title="Naive map", layout="wide")
ev = model.load_curated_events()
types = sorted(ev["category"].unique())
d0, d1 = ev["event_date"].min().date(), ev["event_date"].max().date()
on = [t for t in types if st.sidebar.checkbox(t, value=True, key=f"type_{t}")]
lo, hi = st.sidebar.slider("Date range", min_value=d0, max_value=d1, value=(d0, d1), key="dates")
shown = ev[ev["category"].isin(on) & (ev["event_date"] >= pd.Timestamp(lo))
           & (ev["event_date"] <= pd.Timestamp(hi))]
st.caption(f"Showing {len(shown):,} of {len(ev):,} events.")
m = folium.Map(location=(28.5, 62.0), zoom_start=6, tiles=None)
m.default_js = [("leaflet", f"{STATIC_URL}/{LEAFLET_JS}")]
m.default_css = [("leaflet_css", f"{STATIC_URL}/{LEAFLET_CSS}")]
for r in shown.itertuples():
    folium.Marker((r.latitude, r.longitude), tooltip=html.escape(str(r.location)),
                  icon=folium.DivIcon(html="<div class='dash-icon'>●</div>")).add_to(m)
st_folium(m, height=620, use_container_width=True, returned_objects=[])
