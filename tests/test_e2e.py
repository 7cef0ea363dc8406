"""End-to-end: the page in headless Chromium, as an analyst uses it (offline, safe, measured)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.e2e
DATA = Path(__file__).parent / "data"
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    pg = context.new_page()
    pg.requests = []  # every URL the browser asks for, page and iframes
    pg.dialogs = []
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.goto(app_url)
    yield pg
    context.close()


def _map(pg):
    """The Leaflet document inside streamlit-folium's iframe, once markers are drawn."""
    handle = pg.wait_for_selector(MAP_IFRAME, timeout=60_000)
    frame = handle.content_frame()
    frame.wait_for_selector(".leaflet-container .dash-icon", timeout=60_000)
    return frame


def _markers(pg, expected=None):
    """Number of event markers; waits until it equals ``expected`` (the map updates in place)."""
    if expected is not None:
        pg.wait_for_function(
            f"""() => {{
              const f = document.querySelector("{MAP_IFRAME}");
              return f && f.contentDocument &&
                f.contentDocument.querySelectorAll('.dash-icon').length === {expected};
            }}""", timeout=30_000)
    return _map(pg).locator(".dash-icon").count()


def _layer_texts(frame, kind: str) -> list[str]:
    """Contents of every Leaflet layer's tooltip or popup (``kind``: "Tooltip" or "Popup")."""
    return frame.evaluate("""(kind) => {
      const out = [];
      for (const v of Object.values(window)) {
        if (v instanceof L.Map) v.eachLayer(l => {
          const item = l['get' + kind] && l['get' + kind]();
          if (item) out.push(String(item.getContent()));
        });
      }
      return out;
    }""", kind)


def test_map_shows_the_border_and_the_curated_events_without_leaving_localhost(page, app_url):
    frame = _map(page)
    tips = _layer_texts(frame, "Tooltip")
    assert any("Iran–Pakistan border" in t for t in tips)
    assert any("Sabz Koh" in t for t in tips)
    # 11 curated events; the two precision-3 ones (Idlib province, Yemen) are areas, not pins
    assert _markers(page) == 9
    page.wait_for_timeout(1500)
    hosts = {urlparse(u).hostname for u in page.requests if u.startswith("http")}
    assert hosts <= {"127.0.0.1", "localhost"}, hosts


def test_switching_off_an_event_type_removes_its_markers(page):
    assert _markers(page) == 9
    page.locator("[data-testid=stSidebar]").get_by_text("Diplomatic step", exact=True).click()
    assert _markers(page, expected=6) == 6


def test_stepping_the_date_range_filters_events(page):
    assert _markers(page) == 9
    page.get_by_role("button", name="◀ Day").click()  # end 27 Jan → 26 Jan drops one event
    assert _markers(page, expected=8) == 8
    page.get_by_text("Showing 10 of 11 events").wait_for(timeout=30_000)


def test_measured_distance_is_the_cli_number(page):
    cli = subprocess.run([sys.executable, "-m", "dashboard", "distance", "Sabz Koh", "Panjgur",
                          "--json"], capture_output=True, text=True, check=True, timeout=120)
    metres = json.loads(cli.stdout)["distance_m"]
    _map(page)
    page.get_by_text(f"Exact: {metres:,.0f} m.").wait_for(timeout=30_000)
    page.get_by_text(f"{metres / 1000:,.1f} km", exact=True).first.wait_for(timeout=30_000)


def test_upload_with_xss_payload_shows_text_and_runs_nothing(page):
    _map(page)
    page.get_by_role("tab", name="Data").click()
    page.locator("input[type=file]").set_input_files(str(DATA / "xss_events.csv"))
    page.get_by_text("Imported 1 event from xss_events.csv").wait_for(timeout=60_000)
    page.get_by_text("1 row was rejected").wait_for(timeout=30_000)
    assert _markers(page, expected=10) == 10
    frame = _map(page)
    popups = _layer_texts(frame, "Popup")
    hit = [p for p in popups if "onerror" in p]
    assert hit and all("<img" not in p for p in hit)
    assert any("&lt;img src=x onerror=alert(1)&gt;" in p for p in hit)
    page.wait_for_timeout(1000)
    assert page.dialogs == []
    assert frame.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
    assert page.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
