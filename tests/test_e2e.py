"""End-to-end: the page in headless Chromium, as an analyst uses it (offline, safe, measured).

Controls operated here (control → test):
- map load, offline requests → test_map_shows_the_border_and_the_curated_events_without_…
- map first, controls after it → test_a_new_session_shows_the_whole_map_first_and_then_…,
  test_the_controls_come_even_if_the_map_never_reports_its_drawing
- event-type checkbox → test_switching_off_an_event_type_removes_its_markers
- ◀ Day step → test_stepping_the_date_range_filters_events
- Measure (lists) → test_measured_distance_is_the_cli_number
- Measure (two clicks) → test_two_clicks_on_the_map_measure_the_core_distance
- Play / Pause / window length / All days → test_play_walks_one_day_windows_…,
  test_pause_holds_the_window_…, test_play_control_labels_are_not_clipped
- upload + Remove batch → test_upload_with_xss_payload_…,
  test_upload_goes_to_the_store_survives_reload_…, test_markdown_in_uploaded_values_…
- co-located events → test_events_at_one_place_are_drawn_side_by_side
- labels at the default view → test_labels_neither_overlap_nor_sit_on_the_border_…
- Download map as PNG → test_download_map_as_png_is_a_real_picture
- table row select → test_selecting_a_table_row_highlights_the_event_and_scrolls_…
Every other control (layer checkboxes, Background, More filters, Day ▶, Fit buttons, Buffers,
distance matrix, Claims, the other downloads) is operated in tests/test_e2e_controls.py,
whose docstring has the whole table; GeoParquet in/out in tests/test_e2e_io.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from e2e_helpers import select_row, wait_grid

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


def _curated(start=None, end=None, categories=None):
    """Curated events kept by the shared filter (what the page must show for that filter)."""
    from dashboard import events, filters

    f = filters.EventFilter(start=start, end=end, categories=categories)
    return filters.apply(events.load_curated_events(), f)


def _pins(ev) -> int:
    """Events drawn as a marker (geo_precision 1–2); precision-3 events are drawn as areas."""
    import pandas as pd

    return int((pd.to_numeric(ev["geo_precision"], errors="coerce").fillna(1) < 3).sum())


def _map(pg, settled: bool = True):
    """The Leaflet document inside streamlit-folium's iframe, once markers are drawn and (with
    ``settled``) the controls have come and the page is idle, as a person waits for it."""
    handle = pg.wait_for_selector(MAP_IFRAME, timeout=60_000)
    frame = handle.content_frame()
    frame.wait_for_selector(".leaflet-container .dash-icon", timeout=60_000)
    if settled:
        _settled(pg)
    return frame


_IDLE_JS = """() => {
  const sidebar = document.querySelector('[data-testid=stSidebar]');
  const running = document.querySelector('[data-testid=stStatusWidgetRunningIcon], ' +
                                         '[data-testid=stStatusWidgetRunningManIcon]');
  return !!(sidebar && sidebar.querySelector('[data-testid=stCheckbox]')) && !running;
}"""


def _settled(pg) -> None:
    """Wait until the controls are on the page and no run is going on (twice, 0.3 s apart:
    the map's first report starts one more run right after the first one)."""
    for _ in range(2):
        pg.wait_for_function(_IDLE_JS, timeout=60_000)
        pg.wait_for_timeout(300)
    pg.wait_for_function(_IDLE_JS, timeout=60_000)


def _markers(pg, expected=None):
    """Number of event markers; waits until it equals ``expected`` (the map updates in place)."""
    if expected is not None:
        _map(pg)
        pg.wait_for_function(
            f"""() => {{
              const f = document.querySelector("{MAP_IFRAME}");
              return f && f.contentDocument &&
                f.contentDocument.querySelectorAll('.dash-icon').length === {expected};
            }}""", timeout=60_000)
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
    assert _markers(page, expected=_pins(_curated())) == _pins(_curated())
    page.wait_for_timeout(1500)
    hosts = {urlparse(u).hostname for u in page.requests if u.startswith("http")}
    assert hosts <= {"127.0.0.1", "localhost"}, hosts


_LABEL_CLASH_JS = """(m) => {
  // Text boxes of the labels a person sees (tight around the glyphs), in map pixels.
  const c = m.getContainer().getBoundingClientRect();
  const boxes = [...document.querySelectorAll('.leaflet-tooltip.dash-label')].filter(e => {
      const s = getComputedStyle(e);
      return s.display !== 'none' && s.visibility !== 'hidden' && e.textContent.trim(); })
    .map(e => { const r = document.createRange(); r.selectNodeContents(e);
      const b = r.getBoundingClientRect();
      return {t: e.textContent.trim(), x0: b.left - c.left, y0: b.top - c.top,
              x1: b.right - c.left, y1: b.bottom - c.top}; })
    .filter(b => b.x1 > 0 && b.y1 > 0 && b.x0 < c.width && b.y0 < c.height);
  // The border line as pixel segments.
  const segs = [];
  (function walk(l) {
    if (l.eachLayer) { l.eachLayer(walk); return; }
    if (!l.getLatLngs) return;
    const lls = l.getLatLngs(), lines = L.LineUtil.isFlat(lls) ? [lls] : lls;
    lines.forEach(line => line.map(ll => m.latLngToContainerPoint(ll)).forEach((p, i, a) => {
      if (i) segs.push([a[i - 1], p]); }));
  })(window.__dashStatic.border);
  // Does segment p-q cross box b (Liang–Barsky)?
  const hits = (p, q, b) => { let t0 = 0, t1 = 1; const dx = q.x - p.x, dy = q.y - p.y;
    for (const [pp, qq] of [[-dx, p.x - b.x0], [dx, b.x1 - p.x], [-dy, p.y - b.y0],
                            [dy, b.y1 - p.y]]) {
      if (pp === 0) { if (qq < 0) return false; continue; }
      const r = qq / pp;
      if (pp < 0) { if (r > t1) return false; if (r > t0) t0 = r; }
      else { if (r < t0) return false; if (r < t1) t1 = r; } }
    return true; };
  const overlaps = [], onBorder = [];
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
    if (a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1) overlaps.push([a.t, b.t]); }));
  boxes.forEach(b => { if (segs.some(([p, q]) => hits(p, q, b))) onBorder.push(b.t); });
  return {labels: boxes.map(b => b.t), segments: segs.length, overlaps, onBorder};
}"""


def test_labels_neither_overlap_nor_sit_on_the_border_at_the_default_view(page):
    frame = _map(page)
    page.wait_for_timeout(2500)  # labels are placed again once the styles apply (view.js)
    clash = frame.evaluate(f"""() => {{ for (const v of Object.values(window))
        if (v instanceof L.Map) return ({_LABEL_CLASH_JS})(v); }}""")
    assert clash["segments"] > 50 and len(clash["labels"]) >= 8, clash
    assert clash["overlaps"] == [], clash
    assert clash["onBorder"] == [], clash


_MAP_LAYERS_JS = """() => {
  for (const v of Object.values(window)) {
    if (v instanceof L.Map) { const ids = []; v.eachLayer(l => ids.push(L.stamp(l)));
                              return ids.sort((a, b) => a - b).join(","); }
  }
  return "";
}"""


def test_a_new_session_shows_the_whole_map_first_and_then_the_controls(browser, app_url):
    """The map comes first (with the default measurement and the Sabz Koh region on it);
    the sidebar and the tools follow without redrawing or changing the map."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    pg = context.new_page()
    try:
        pg.goto(app_url)
        frame = _map(pg, settled=False)
        before = frame.evaluate(_MAP_LAYERS_JS)
        tips = _layer_texts(frame, "Tooltip")
        assert any("Sabz Koh → Panjgur" in t for t in tips)  # the measured path
        assert any("candidate region" in t for t in tips)
        sidebar = pg.locator("[data-testid=stSidebar]")
        sidebar.get_by_text("Diplomatic step", exact=True).wait_for(timeout=60_000)
        pg.get_by_role("tab", name="Measure").first.wait_for(timeout=60_000)
        pg.get_by_text("Exact: ", exact=False).first.wait_for(timeout=60_000)
        assert pg.get_by_text("Loading the controls…").count() == 0
        assert pg.get_by_text("Loading the tools…").count() == 0
        assert frame.evaluate(_MAP_LAYERS_JS) == before  # the same layers: nothing redrawn
        assert _markers(pg) == _pins(_curated())
        _no_exception(pg)
    finally:
        context.close()


def test_the_controls_come_even_if_the_map_never_reports_its_drawing(browser, app_url):
    """The safety net of the map-first start: with the map's report taken out of its script
    (as a blocked or failing script would), the controls still come, after ~8 s."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})

    def no_report(route):
        body = route.fetch().text()
        assert "S.setComponentValue(value);" in body
        route.fulfill(body=body.replace("S.setComponentValue(value);", ""),
                      content_type="application/javascript")

    context.route("**/dash/gen/base-*.js", no_report)
    pg = context.new_page()
    try:
        pg.goto(app_url)
        _map(pg, settled=False)
        pg.wait_for_timeout(2000)
        assert pg.get_by_text("Loading the controls…").count() == 1
        pg.locator("[data-testid=stSidebar]").get_by_text("Diplomatic step", exact=True) \
            .wait_for(timeout=30_000)
        assert _markers(pg) == _pins(_curated())
        _no_exception(pg)
    finally:
        context.close()


def test_switching_off_an_event_type_removes_its_markers(page):
    from dashboard import events

    everything = _pins(_curated())
    assert _markers(page, expected=everything) == everything
    page.locator("[data-testid=stSidebar]").get_by_text("Diplomatic step", exact=True).click()
    rest = _pins(_curated(categories=tuple(c for c in events.CATEGORIES if c != "diplomatic")))
    assert rest < everything
    assert _markers(page, expected=rest) == rest
    _no_exception(page)


def test_stepping_the_date_range_filters_events(page):
    import datetime as dt

    import pandas as pd

    every = _curated()
    assert _markers(page, expected=_pins(every)) == _pins(every)
    last = pd.to_datetime(every["event_date"]).max().date()
    page.get_by_role("button", name="◀ Day").click()  # the end date moves one day earlier
    kept = _curated(end=last - dt.timedelta(days=1))
    assert len(kept) < len(every)
    assert _markers(page, expected=_pins(kept)) == _pins(kept)
    page.get_by_text(f"Showing {len(kept)} of {len(every)} events").wait_for(timeout=30_000)
    _no_exception(page)


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
    pins = _pins(_curated()) + 1
    assert _markers(page, expected=pins) == pins
    frame = _map(page)
    popups = _layer_texts(frame, "Popup")
    hit = [p for p in popups if "onerror" in p]
    assert hit and all("<img" not in p for p in hit)
    assert any("&lt;img src=x onerror=alert(1)&gt;" in p for p in hit)
    page.wait_for_timeout(1000)
    assert page.dialogs == []
    assert frame.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
    assert page.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
    _remove_batches(page, expected_pins=pins - 1)


def _remove_batches(pg, expected_pins: int) -> None:
    """Remove every imported batch with its button on the Data tab (leaves the store empty)."""
    pg.get_by_role("tab", name="Data").click()
    while pg.get_by_role("button", name="Remove", exact=True).count():
        pg.get_by_role("button", name="Remove", exact=True).first.click()
        pg.get_by_text("Removed").first.wait_for(timeout=30_000)
    assert _markers(pg, expected=expected_pins) == expected_pins
    _no_exception(pg)


def _no_exception(pg) -> None:
    assert pg.locator("[data-testid=stException]").count() == 0


def _rerun_frames(pg) -> list[float]:
    """Times of every websocket frame the page sends to the server (reruns, widget values)."""
    sent: list[float] = []
    pg.on("websocket", lambda ws: ws.on("framesent", lambda _f: sent.append(1.0)))
    return sent


def test_play_walks_one_day_windows_in_the_browser_and_stops_at_the_end(browser, app_url):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    pg = context.new_page()
    sent = _rerun_frames(pg)
    import datetime as dt

    days = [dt.date(2024, 1, d) for d in (15, 16, 17, 18)]
    shown = _curated(days[0], days[-1])
    pg.goto(f"{app_url}/?from=2024-01-15&to=2024-01-18")
    frame = _map(pg)
    _markers(pg, expected=_pins(shown))
    label = frame.locator("[data-testid=time-label]")
    assert label.inner_text() == "All days: 15 Jan 2024 – 18 Jan 2024"
    # Record every window the control shows with the number of event markers then visible.
    frame.evaluate("""() => {
      window.__seen = [];
      const lab = document.querySelector('[data-testid=time-label]');
      new MutationObserver(() => window.__seen.push(
          [lab.textContent, document.querySelectorAll('.dash-icon').length])
      ).observe(lab, {childList: true, characterData: true, subtree: true});
    }""")
    before = len(sent)
    frame.locator("[data-testid=time-play]").click()
    assert "Pause" in frame.locator("[data-testid=time-play]").inner_text()
    frame.wait_for_function("() => !window.__dashTime.state().playing", timeout=30_000)
    seen = frame.evaluate("() => window.__seen")
    windows = list(dict.fromkeys(tuple(s) for s in seen))
    expected = []
    for day in days:
        ev = _curated(day, day)
        expected.append((f"{day.day} Jan 2024 · {len(ev)} event{'' if len(ev) == 1 else 's'}",
                         _pins(ev)))
    assert windows == expected
    assert "Play" in frame.locator("[data-testid=time-play]").inner_text()
    assert frame.locator(".dash-icon").count() == expected[-1][1]
    assert len(sent) == before  # the browser animates: not one message to the server
    frame.locator("[data-testid=time-all]").click()
    assert _markers(pg, expected=_pins(shown)) == _pins(shown)
    _no_exception(pg)
    context.close()


def test_pause_holds_the_window_and_the_window_length_is_choosable(page):
    import datetime as dt

    frame = _map(page)
    _markers(page, expected=_pins(_curated()))
    frame.locator("[data-testid=time-window]").select_option("7")
    frame.evaluate("() => { window.__dashTime.options.stepMs = 1500; }")
    frame.locator("[data-testid=time-play]").click()
    frame.wait_for_function("() => window.__dashTime.state().start === '2023-12-16'",
                            timeout=20_000)
    frame.locator("[data-testid=time-play]").click()  # Pause (a slow machine may be a step on)
    state = frame.evaluate("() => window.__dashTime.state()")
    page.wait_for_timeout(2000)  # longer than a step: nothing moves
    assert frame.evaluate("() => window.__dashTime.state()") == state
    assert state["playing"] is False and state["window"] == 7
    start = dt.date.fromisoformat(state["start"])
    assert dt.date(2023, 12, 16) <= start <= dt.date(2023, 12, 17)
    end = start + dt.timedelta(days=6)
    label = frame.locator("[data-testid=time-label]").inner_text()
    assert label.startswith(f"{start.day} {start:%b} – {end.day} {end:%b %Y}")
    in_window = _curated(start, end)
    assert frame.locator(".dash-icon").count() == _pins(in_window)
    _no_exception(page)


def test_play_control_labels_are_not_clipped(page):
    frame = _map(page)
    for testid in ("time-play", "time-all", "time-window"):
        fits = frame.evaluate("""(id) => {
          const el = document.querySelector(`[data-testid=${id}]`);
          return el.scrollWidth <= el.clientWidth + 1 && el.offsetWidth > 20; }""", testid)
        assert fits, testid
    frame.locator("[data-testid=time-play]").click()
    assert frame.locator("[data-testid=time-play]").inner_text().strip() == "Pause"
    # the glyph is an inline SVG, so it never depends on the fonts installed
    assert frame.locator("[data-testid=time-play] svg").count() == 1


def test_two_clicks_on_the_map_measure_the_core_distance(page):
    from dashboard import sites

    frame = _map(page)
    page.get_by_text("Click two points on the map").click()
    page.get_by_text("0 of 2 points clicked").wait_for(timeout=30_000)
    box = frame.locator(".leaflet-container").bounding_box()
    spots = [(box["width"] * 0.12, box["height"] * 0.85),
             (box["width"] * 0.35, box["height"] * 0.9)]
    for x, y in spots:
        frame.locator(".leaflet-container").click(position={"x": x, "y": y})
        page.wait_for_timeout(300)
    page.get_by_text("2 of 2 points clicked").wait_for(timeout=30_000)
    expected = [frame.evaluate("""([x, y]) => {
        for (const v of Object.values(window)) if (v instanceof L.Map) {
          const ll = v.containerPointToLatLng([x, y]); return [ll.lat, ll.lng]; } }""", [x, y])
        for x, y in spots]
    shown = page.get_by_text("Clicked (lat, lon):").inner_text()
    points = [tuple(float(v) for v in part.split(",")) for part in
              shown.split(":", 1)[1].split("→")]
    for (lat, lon), (elat, elon) in zip(points, expected, strict=True):
        # where the person clicked, to a pixel or two (about 0.02° at this zoom)
        assert abs(lat - elat) < 0.06 and abs(lon - elon) < 0.06
    a, b = (sites.resolve_site(f"{lat},{lon}") for lat, lon in points)
    metres = sites.measure_distance(a, b).distance_m
    page.get_by_text(f"Exact: {metres:,.0f} m.").wait_for(timeout=30_000)
    _no_exception(page)


def test_upload_goes_to_the_store_survives_reload_and_is_listed_by_the_cli(page, store_path):
    from dashboard.store import EventStore

    _map(page)
    pins = _pins(_curated())
    page.get_by_role("tab", name="Data").click()
    page.locator("input[type=file]").set_input_files(str(DATA / "points.geojson"))
    page.get_by_text("from points.geojson into the event store").wait_for(timeout=60_000)
    listed = subprocess.run([sys.executable, "-m", "dashboard", "events", "list", "--store",
                             str(store_path), "--json"], capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0, listed.stderr
    stored = EventStore(store_path).read()
    assert len(stored) > 0
    assert all(str(i) in listed.stdout for i in stored["event_id_cnty"])
    page.reload()
    _map(page)
    new_pins = pins + _pins(stored)
    assert _markers(page, expected=new_pins) == new_pins
    page.get_by_role("tab", name="Data").click()
    page.get_by_text("points.geojson").first.wait_for(timeout=30_000)  # the batch list
    _remove_batches(page, expected_pins=pins)
    assert len(EventStore(store_path).read()) == 0


def test_markdown_in_uploaded_values_is_shown_literally_and_fetches_nothing(page, tmp_path):
    _map(page)
    hostile = tmp_path / "hostile.csv"
    hostile.write_text(
        "event_id_cnty,event_date,latitude,longitude,country,location,event_type,"
        "sub_event_type,category\n"
        "MD-1,2024-01-19,26.5,63.8,Pakistan,[update](https://evil.example/login),Protests,"
        "Peaceful protest,![x](http://198.51.100.7/t.png)\n", encoding="utf-8")
    page.get_by_role("tab", name="Data").click()
    page.locator("input[type=file]").set_input_files(str(hostile))
    page.get_by_text("Imported 1 event from hostile.csv").wait_for(timeout=60_000)
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.get_by_text("![x](http://198.51.100.7/t.png)", exact=False).first.wait_for(
        timeout=30_000)
    page.wait_for_timeout(1500)
    hosts = {urlparse(u).hostname for u in page.requests if u.startswith("http")}
    assert hosts <= {"127.0.0.1", "localhost"}, hosts
    assert page.locator("a[href*='evil.example']").count() == 0
    assert page.locator("img[src*='198.51.100.7']").count() == 0
    _remove_batches(page, expected_pins=_pins(_curated()))


def test_events_at_one_place_are_drawn_side_by_side(page, tmp_path):
    import pandas as pd

    ev = _curated()
    ev = ev[pd.to_numeric(ev["geo_precision"], errors="coerce").fillna(1) < 3]
    at = ev.geometry.apply(lambda g: (round(g.y, 3), round(g.x, 3))).value_counts()
    (lat, lon), n = at.index[0], int(at.iloc[0])
    assert n >= 2, "the curated data should have a place with several events"
    frame = _map(page)
    _markers(page, expected=_pins(_curated()))
    frame.evaluate("""([lat, lon]) => { for (const v of Object.values(window))
        if (v instanceof L.Map) { v.setView([lat, lon], 11, {animate: false}); } }""",
                   [lat, lon])
    page.wait_for_timeout(800)
    centre = frame.evaluate("""([lat, lon]) => { for (const v of Object.values(window))
        if (v instanceof L.Map) { const p = v.latLngToContainerPoint([lat, lon]);
          const r = v.getContainer().getBoundingClientRect();
          return [p.x + r.x, p.y + r.y]; } }""", [lat, lon])
    boxes = frame.evaluate("""() => [...document.querySelectorAll('.dash-icon')].map(e => {
        const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })""")
    here = [b for b in boxes if abs(b[0] - centre[0]) < 40 and abs(b[1] - centre[1]) < 40]
    assert len(here) == n  # every event at that place has its own icon …
    assert len({(round(x), round(y)) for x, y in here}) == n  # … each at its own position
    for i, a in enumerate(here):
        for b in here[i + 1:]:
            assert ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5 >= 18, (a, b)
    page.screenshot(path=str(tmp_path / "co-located.png"))  # looked at by hand when changed
    print("screenshot:", tmp_path / "co-located.png")
    _no_exception(page)


def test_download_map_as_png_is_a_real_picture(page):
    _map(page)
    page.get_by_role("tab", name="Data").click()
    with page.expect_download(timeout=180_000) as dl:
        page.get_by_role("button", name="Download map as PNG").click()
    from PIL import Image

    with Image.open(dl.value.path()) as img:
        assert img.format == "PNG" and img.width >= 1000
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is None or len(colours) > 50  # not blank
    _no_exception(page)


def test_selecting_a_table_row_highlights_the_event_and_scrolls_the_map_into_view(page):
    frame = _map(page)
    grid = page.locator(".st-key-event_table").first
    wait_grid(page, grid)
    page.set_viewport_size({"width": 1440, "height": 500})  # a laptop window, half full
    grid.evaluate("e => e.scrollIntoView({block: 'start'})")  # the map above the window
    page.wait_for_timeout(300)
    out_of_view = f"""() => document.querySelector("{MAP_IFRAME}").getBoundingClientRect()
        .bottom <= 0"""
    assert page.evaluate(out_of_view)  # so the row select must bring the map back
    select_row(page, grid, 1)
    frame.wait_for_function("""() => [...document.querySelectorAll('.dash-label')]
        .some(e => e.textContent.includes('·'))""", timeout=30_000)
    page.wait_for_function(f"""() => {{
        const r = document.querySelector("{MAP_IFRAME}").getBoundingClientRect();
        return r.top < window.innerHeight && r.bottom > 0; }}""", timeout=15_000)
    _no_exception(page)
