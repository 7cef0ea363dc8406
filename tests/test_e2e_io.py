"""Browser tests of the Data tab's GeoParquet in/out (dashboard/page_io.py) on the real page:
upload a .parquet through the uploader, see its events in the events table, download the shown
events as GeoParquet and read the file back with geopandas.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from e2e_helpers import FIRST_RENDER_MS, STEP_MS, map_frame, start_server, stop_server

pytestmark = pytest.mark.e2e
DAY = "2024-01-24"  # no curated event on this day: the table then shows only the upload
EVENTS = [  # inside Pakistan (the importer's country check), with names found nowhere else
    {"event_id_cnty": "PQ1", "event_date": DAY, "location": "Parquetabad", "country": "Pakistan",
     "latitude": 26.97, "longitude": 64.09, "event_type": "Battles", "fatalities": 2.0,
     "notes": "<b>not bold</b>", "sources": ["Dawn", "Reuters"]},
    {"event_id_cnty": "PQ2", "event_date": DAY, "location": "Arrowpur", "country": "Pakistan",
     "latitude": 26.01, "longitude": 63.05, "event_type": "Protests", "fatalities": 0.0,
     "notes": "plain", "sources": []},
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    """One app server for this module, with its own empty event store and log."""
    srv = start_server(tmp_path_factory.mktemp("io"))
    yield srv
    stop_server(srv)


@pytest.fixture
def page(browser, app):
    context = browser.new_context(viewport={"width": 1440, "height": 1000},
                                  accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(STEP_MS)
    pg.route(r"^https?://(?!127\.0\.0\.1|localhost).*", lambda route: route.abort())
    pg.log_mark = len(app.log_text())
    yield pg
    context.close()


def _healthy(pg, app) -> None:
    """No Streamlit exception box on the page and no traceback in the server log."""
    assert pg.locator("[data-testid=stException]").count() == 0, \
        pg.locator("[data-testid=stException]").first.inner_text()
    assert app.tracebacks(pg.log_mark) == [], app.log_text()[pg.log_mark:][-3000:]


def _open(pg, app, query: str) -> None:
    pg.goto(f"{app.url}/?{query}", timeout=FIRST_RENDER_MS)
    map_frame(pg)


def test_upload_geoparquet_shows_its_events_and_download_reads_back(page, app, tmp_path):
    from dashboard import columnar, events
    from dashboard.store import EventStore

    written = events.normalise(pd.DataFrame(EVENTS))
    upload = tmp_path / "pq_events.parquet"
    columnar.write_geoparquet(written, upload)
    try:
        _open(page, app, "tab=Data")
        page.locator("input[type=file]").set_input_files(str(upload))
        page.get_by_text(f"Imported 2 events from {upload.name}").wait_for(
            timeout=FIRST_RENDER_MS)
        _healthy(page, app)

        # the events table (under the map) lists the uploaded events for their day
        _open(page, app, f"from={DAY}&to={DAY}")
        page.locator("[data-testid=stDataFrame]").filter(
            has=page.locator("table", has_text="Border distance")).first \
            .scroll_into_view_if_needed(timeout=FIRST_RENDER_MS)
        page.wait_for_function("""() => [...document.querySelectorAll(
            '[data-testid=stDataFrame] table')].some(t => t.innerText.includes('Border distance')
            && t.innerText.includes('Parquetabad') && t.innerText.includes('Arrowpur'))""",
                               timeout=FIRST_RENDER_MS)
        _healthy(page, app)

        # the GeoParquet download holds the shown events, readable by geopandas
        _open(page, app, f"from={DAY}&to={DAY}&tab=Data")
        with page.expect_download(timeout=180_000) as dl:
            page.get_by_role("button", name="Download shown events (GeoParquet)").click()
        assert dl.value.suggested_filename == "events.parquet"
        got = gpd.read_parquet(Path(dl.value.path()))
        assert got.crs is not None and got.crs.to_epsg() == 4326
        got = got.set_index("event_id_cnty").loc[["PQ1", "PQ2"]]
        assert len(got) == 2
        assert got["location"].tolist() == ["Parquetabad", "Arrowpur"]
        assert got["notes"].tolist() == ["<b>not bold</b>", "plain"]
        assert [list(s) for s in got["sources"]] == [["Dawn", "Reuters"], []]
        assert got.geometry.x.tolist() == [64.09, 63.05]
        assert got.geometry.y.tolist() == [26.97, 26.01]
        assert [str(d.date()) for d in got["event_date"]] == [DAY, DAY]
        _healthy(page, app)
    finally:  # never leave events behind for other tests on this server
        store = EventStore(app.store)
        for batch_id in store.batches()["batch_id"]:
            store.remove_batch(batch_id)
