"""Paths, limits and constants in one place (no I/O at import time)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent

#: Committed data layers; override with DASHBOARD_GEODATA for tests or other data.
GEODATA_DIR = Path(os.environ.get("DASHBOARD_GEODATA", REPO_ROOT / "geodata"))

#: Raw Natural Earth inputs for scripts/build_geodata.py.
SHARED_NATURALEARTH_DIR = REPO_ROOT.parent / "shared" / "data" / "naturalearth"

#: Ellipsoid used for every measurement (pyproj.Geod(ellps=...)).
ELLIPSOID = "WGS84"
METHOD = ("WGS84 ellipsoid; geodesics by pyproj.Geod (GeographicLib algorithms, "
          "C. F. F. Karney, J. Geodesy 87, 2013)")

#: Kilometres per statute mile and per nautical mile (exact, international definitions).
KM_PER_MILE = 1.609344
KM_PER_NMI = 1.852

#: Buffers and range rings: at most this many radii at once, each at most this many km.
MAX_RADII = 8
MAX_RADIUS_KM = 5000.0

#: Largest uploaded/imported file accepted, in decimal megabytes and in bytes: the one limit
#: for the page and the CLI (dashboard.importers enforces it). Decimal because Streamlit's
#: browser uploader counts server.maxUploadSize (.streamlit/config.toml) in units of 1,000,000
#: bytes on Linux and macOS; a 1,048,576-byte "MB" would let the CLI take files the page refuses.
MAX_IMPORT_MB = 50
MAX_IMPORT_BYTES = MAX_IMPORT_MB * 1_000_000
#: Deepest JSON nesting accepted in an imported GeoJSON file.
MAX_JSON_DEPTH = 64

#: How long an event-store reader or writer waits for another process's SQLite lock (seconds).
STORE_BUSY_TIMEOUT_S = 120.0
#: Page cache of a store-writing connection (KiB): large, so an import holds SQLite's
#: exclusive lock (which blocks readers) only while committing.
STORE_WRITER_CACHE_KIB = 512 * 1024

#: Import plausibility: a point further than this outside the polygon of its ``country`` is
#: rejected (plus the row's own uncertainty_km) ...
COUNTRY_TOLERANCE_KM = 50.0
#: ... unless it lies at sea, where up to 200 nautical miles (a coastal state's exclusive
#: economic zone; ACLED codes maritime events to the coastal country) is accepted.
MARITIME_TOLERANCE_KM = 200 * 1.852

#: Layer name -> file name in GEODATA_DIR.
LAYER_FILES: dict[str, str] = {
    "countries": "countries.geojson",
    "provinces": "provinces.geojson",
    "border": "border_iran_pakistan.geojson",
    "places": "places.geojson",
    "events": "events.geojson",
    "basemap_land": "basemap_land.geojson",
    "basemap_lakes": "basemap_lakes.geojson",
    "basemap_rivers": "basemap_rivers.geojson",
    "basemap_coast": "basemap_coastline.geojson",
}


def default_store_path() -> Path:
    """Default GeoPackage event store: $DASHBOARD_STORE or the user's data directory."""
    env = os.environ.get("DASHBOARD_STORE")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("iran-pakistan-dashboard", appauthor=False)) / "events.gpkg"


#: Publication map (dashboard/staticmap.py): PNG width range in pixels; uncertainty discs and
#: event labels are drawn up to these numbers of events on the map; smallest extent in degrees.
STATIC_MAP_WIDTH_PX = (800, 6000)
STATIC_MAP_MAX_DISCS = 500
STATIC_MAP_MAX_LABELLED_EVENTS = 40
STATIC_MAP_MIN_SPAN_DEG = 0.05

# The page with many events (app.py): above PAGE_AGGREGATE_ABOVE filtered events the map shows
# H3 hexagons with counts, unless the current view holds at most PAGE_DETAIL_CAP of them (then
# those events are drawn one by one); the event table lists at most PAGE_TABLE_ROWS rows (the
# latest events in view). H3 resolution by map zoom: PAGE_HEX_RES[zoom], clamped.
PAGE_AGGREGATE_ABOVE = 1_500
PAGE_DETAIL_CAP = 1_000
# Uncertainty discs of those single events (up to PAGE_DETAIL_CAP of them) are drawn with this
# many vertices (each exactly on the radius) instead of 64: a third of the bytes to send.
PAGE_DETAIL_DISC_VERTICES = 24
PAGE_TABLE_ROWS = 1_000
PAGE_HEX_RES = {2: 1, 3: 2, 4: 2, 5: 3, 6: 4, 7: 4, 8: 4, 9: 5, 10: 6, 11: 6, 12: 7}
# Play on hexagons: each hexagon carries its events per day (sent to the browser, which adds up
# the window); above this many (hexagon, day) pairs Play asks for fewer days or a closer view.
PAGE_HEX_PLAY_PAIRS = 60_000
