"""Cached data for the page: layers, events, per-event distance to the border, layer specs.

Two cache levels (``st.cache_data``): raw layers are loaded once; derived, picklable slices
(layer specs, the event table) are cached per argument. All numbers come from the core
modules (layers, events, analysis) -- the page never measures on its own.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard import layers, page_layers

EVENT_SOURCE_COLUMN = "_origin"


@st.cache_data(show_spinner=False)
def layer(name: str) -> gpd.GeoDataFrame:
    """A committed geodata layer (countries, provinces, places, basemap_land …)."""
    if name == "countries":
        return layers.load_countries()
    if name == "provinces":
        return layers.load_provinces()
    if name == "places":
        return layers.load_places()
    return layers.load_layer(name)


@st.cache_data(show_spinner=False)
def border() -> tuple[object, dict]:
    """The Iran–Pakistan border line (lon/lat LineString) and its properties incl. length."""
    line = layers.load_border()
    props = dict(line.properties)
    props.setdefault("length_m", line.length_m)
    return line.geometry, props


@st.cache_data(show_spinner=False)
def static_spec(name: str, discs: bool = True) -> page_layers.LayerSpec:
    """Layer spec of a static layer: basemap, countries, provinces, border or places."""
    if name == "basemap":
        return page_layers.basemap_group(layer("basemap_land"), layer("basemap_lakes"),
                                         layer("basemap_rivers"))
    if name == "countries":
        return page_layers.countries_group(layer("countries"))
    if name == "provinces":
        return page_layers.provinces_group(layer("provinces"))
    if name == "border":
        return page_layers.border_group(*border())
    if name == "places":
        return page_layers.places_group(layer("places"), discs=discs)
    raise ValueError(f"unknown static layer {name!r}")


@st.cache_data(show_spinner=False)
def curated_events() -> gpd.GeoDataFrame:
    """The curated events of January 2024 (events.load_curated_events)."""
    from dashboard import events

    gdf = events.load_curated_events()
    gdf[EVENT_SOURCE_COLUMN] = "curated"
    return gdf


def event_specs(view_events: gpd.GeoDataFrame, types_on: list[str], *,
                discs: bool) -> list[page_layers.LayerSpec]:
    """Event layer specs for the shown events (cached by the events' ids and data version)."""
    key = (tuple(view_events["event_id_cnty"].astype(str)), store_version(), tuple(types_on),
           bool(discs))
    return _event_specs(key, view_events, tuple(types_on), bool(discs))


@st.cache_data(show_spinner=False, max_entries=32)
def _event_specs(key: tuple, _events: gpd.GeoDataFrame, types_on: tuple[str, ...],
                 discs: bool) -> list[page_layers.LayerSpec]:
    return page_layers.event_groups(_events, list(types_on), discs=discs)


def store_path() -> str:
    """Where the event store lives (``$DASHBOARD_STORE`` or the user data folder)."""
    from dashboard import settings

    return str(settings.default_store_path())


def store_version() -> str:
    """The event store's version token (changes after every write, by the page or the CLI)."""
    from dashboard.store import EventStore

    return EventStore().version()


@st.cache_data(show_spinner=False, max_entries=4)
def store_events(version: str) -> gpd.GeoDataFrame:
    """Every event in the store (same file as the CLI), read once per store ``version``."""
    from dashboard.store import EventStore

    gdf = EventStore().read()
    gdf[EVENT_SOURCE_COLUMN] = "store"
    return gdf


@st.cache_data(show_spinner=False, max_entries=4)
def store_batches(version: str) -> pd.DataFrame:
    """The store's import batches, read once per store ``version``."""
    from dashboard.store import EventStore

    return EventStore().batches()


@st.cache_data(show_spinner=False)
def border_distances(lats: tuple[float, ...], lons: tuple[float, ...]) -> pd.DataFrame:
    """Distance to the border (km) and side per point, from analysis.distance_to_border."""
    from dashboard import analysis

    if not lats:
        return pd.DataFrame({"distance_km": [], "side": []})
    res = analysis.distance_to_border(list(lats), list(lons))
    return pd.DataFrame({"distance_km": res["distance_m"].to_numpy() / 1000.0,
                         "side": res["side"].to_numpy()})
