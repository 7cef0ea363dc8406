"""Floor for scripts/bench_dashboard.py's "first map": the least a Streamlit page with a
streamlit-folium map can do. A title, a caption and a Leaflet map (the same offline Leaflet
files as the dashboard) with one marker, nothing else: the time a new browser session needs
to show it is Streamlit's and the component's own start-up, which no page can go below.

    python -m streamlit run scripts/floor_page.py
"""

from __future__ import annotations

import folium
import streamlit as st
from streamlit_folium import st_folium

from dashboard.mapview import LEAFLET_CSS, LEAFLET_JS, STATIC_URL

st.set_page_config(page_title="Floor", layout="wide")
st.title("Floor page")
st.caption("Showing 1 of 1 events.")
m = folium.Map(location=[28.5, 62.0], zoom_start=6, tiles=None)
m.default_js = [("leaflet", f"{STATIC_URL}/{LEAFLET_JS}")]
m.default_css = [("leaflet_css", f"{STATIC_URL}/{LEAFLET_CSS}")]
folium.Marker([28.5, 62.0], icon=folium.DivIcon(html="●", class_name="dash-icon")).add_to(m)
st_folium(m, height=620, returned_objects=[])
