"""Cached data for the page: layers, events, per-event distance to the border, layer specs.

Two cache levels (``st.cache_data``): raw layers are loaded once; derived, picklable slices
(layer specs, the event table) are cached per argument. All numbers come from the core
modules (layers, events, analysis) -- the page never measures on its own.
"""

from __future__ import annotations

import dataclasses
import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import filters, layers, page_layers

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
        from dashboard import page_events

        return page_layers.provinces_group(layer("provinces"),
                                           label_zoom=page_events.border_view()[1])
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


def event_specs(view_events: gpd.GeoDataFrame, types_on: list[str], *, discs: bool,
                version: str, disc_vertices: int = 64) -> list[page_layers.LayerSpec]:
    """Event layer specs for the shown events (cached by the events' ids and the data
    ``version`` they were read at; shared, never copied: callers must not modify them).
    ``disc_vertices``: vertices of each uncertainty disc."""
    key = (tuple(view_events["event_id_cnty"].astype(str)), version, tuple(types_on),
           bool(discs), int(disc_vertices))
    return _event_specs(key, view_events, tuple(types_on), bool(discs), int(disc_vertices))


@st.cache_resource(show_spinner=False, max_entries=32)
def _event_specs(key: tuple, _events: gpd.GeoDataFrame, types_on: tuple[str, ...],
                 discs: bool, disc_vertices: int) -> list[page_layers.LayerSpec]:
    return page_layers.event_groups(_events, list(types_on), discs=discs,
                                    disc_vertices=disc_vertices)


def store_path() -> str:
    """Where the event store lives (``$DASHBOARD_STORE`` or the user data folder)."""
    from dashboard import settings

    return str(settings.default_store_path())


def store_version() -> str:
    """The event store's version token (changes after every write, by the page or the CLI)."""
    from dashboard.store import EventStore

    return EventStore().version()


@st.cache_resource(show_spinner=False, max_entries=2)
def events_frame(version: str) -> gpd.GeoDataFrame:
    """The curated events (built in, read-only) and then every event in the store (the same
    GeoPackage as the CLI's), read once per store ``version`` and shared by all sessions
    without copying (a million events are not copied on every rerun): callers must not
    modify it. A curated event keeps its id: a store event with the same id is left out.
    The index is the row position (0..n-1), which :func:`coords` and :func:`h3_cells`
    follow."""
    from dashboard.store import EventStore

    curated = curated_events()
    stored = EventStore().read()
    if not len(stored):
        return curated.reset_index(drop=True)
    stored[EVENT_SOURCE_COLUMN] = "store"
    stored = stored[~stored["event_id_cnty"].isin(curated["event_id_cnty"]).to_numpy()]
    both = pd.concat([curated, stored.drop(columns="batch_id", errors="ignore")],
                     ignore_index=True)
    return gpd.GeoDataFrame(both, geometry="geometry", crs=curated.crs)


def filtered(version: str, f: filters.EventFilter) -> gpd.GeoDataFrame:
    """The rows of :func:`events_frame` that ``f`` keeps (index: row positions), shared and
    read-only like it: the body's reruns (a site, a buffer, a row, a pan) reuse the current
    filter's rows instead of copying up to a million rows again each time."""
    return _filtered(version, dataclasses.astuple(f), f)


@st.cache_resource(show_spinner=False, max_entries=2)
def _filtered(version: str, key: tuple, _f: filters.EventFilter) -> gpd.GeoDataFrame:
    return filters.apply(events_frame(version), _f)


@st.cache_resource(show_spinner=False)
def _map_size() -> dict[str, tuple[int, int]]:
    return {}


def map_size_px(size: tuple[int, int] | None = None) -> tuple[int, int] | None:
    """The map's (width, height) in pixels as a browser last reported it (None before any
    report); with ``size``, remember that one. Server-wide: a new session's first view is
    sized like the last one seen (most people keep their window), so the map's first report
    of its view usually changes nothing."""
    store = _map_size()
    if size is not None and size[0] > 0 and size[1] > 0:
        store["px"] = (int(size[0]), int(size[1]))
    return store.get("px")


def in_box(lon: np.ndarray, lat: np.ndarray, box: tuple[float, float, float, float]
           ) -> np.ndarray:
    """Mask of the points (degrees) inside ``box`` (min_lon, min_lat, max_lon, max_lat),
    edges included."""
    w, s, e, n = box
    return (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)


def hex_layer(version: str, view_events: gpd.GeoDataFrame, types: list[str], res: int,
              box: tuple[float, float, float, float],
              lonlat: tuple[np.ndarray, np.ndarray]
              ) -> tuple[page_layers.LayerSpec, list[tuple[str, str]]]:
    """Hexagons (page_layers.hex_aggregates) of the ``view_events`` (rows of
    :func:`events_frame`, index = row position; ``lonlat`` their lon, lat in degrees) inside
    ``box`` (min_lon, min_lat, max_lon, max_lat) at H3 resolution ``res``; cached by the
    rows, so the rerun that follows a move the page made itself, or a pan inside the same
    box, costs a lookup. Shared: never modify the result."""
    pos = view_events.index.to_numpy()
    key = hashlib.blake2b(np.ascontiguousarray(pos, dtype=np.int64).tobytes(),
                          digest_size=16).hexdigest()
    return _hex_layer(version, key, tuple(types), int(res), tuple(map(float, box)),
                      view_events, lonlat)


@st.cache_resource(show_spinner=False, max_entries=8)
def _hex_layer(version: str, rows_key: str, types: tuple[str, ...], res: int,
               box: tuple[float, float, float, float], _view_events: gpd.GeoDataFrame,
               _lonlat: tuple[np.ndarray, np.ndarray]
               ) -> tuple[page_layers.LayerSpec, list[tuple[str, str]]]:
    pos = _view_events.index.to_numpy()
    near = in_box(*_lonlat, box)
    return page_layers.hex_aggregates(
        _view_events["category"].to_numpy()[near], _view_events["event_date"].to_numpy()[near],
        h3_cells(version, res)[pos[near]], list(types), res)


@st.cache_resource(show_spinner=False, max_entries=2)
def coords(version: str) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) arrays of :func:`events_frame` rows, in degrees."""
    frame = events_frame(version)
    return frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()


@st.cache_resource(show_spinner=False, max_entries=2)
def latest_first(version: str) -> np.ndarray:
    """Row positions of :func:`events_frame` from the latest event to the earliest (events of
    one day in file order; unknown dates last)."""
    day = pd.to_datetime(events_frame(version)["event_date"], errors="coerce")
    key = day.to_numpy(dtype="datetime64[ns]").astype("int64")
    key = np.where(day.isna().to_numpy(), np.iinfo(np.int64).min, key)
    return np.argsort(-key.astype(float), kind="stable")


@st.cache_resource(show_spinner=False, max_entries=8)
def h3_cells(version: str, res: int) -> np.ndarray:
    """H3 cell (64-bit integer) of every :func:`events_frame` row at resolution ``res``,
    computed once per data version and resolution (enrich.h3_cells, the CLI's function)."""
    from dashboard import enrich

    lon, lat = coords(version)
    return enrich.h3_cells(lat, lon, res, as_int=True)


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
