"""The page with many events, operated in Debian's Chromium: hexagons, zooming in to single
events, panning, filters on hexagons; and the tabs under the map.

Control → test:

==================================================  ==============================================
Map zoom + with many events (hexagons → events)     test_zooming_in_turns_hexagons_into_events
Map drag with many events (hexagons follow)         test_zooming_in_turns_hexagons_into_events
Event type checkbox on hexagons                     test_type_checkbox_changes_hexagon_counts
Table row select with many events                   test_selecting_a_row_among_many_events_…
Tabs under the map: Events table / Events per day   test_tabs_under_the_map_show_one_view_each
/ Claims checked (and the permalink)
Play / Pause / next / All days on hexagons          test_play_walks_the_hexagons_through_the_days
==================================================  ==============================================
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import geopandas as gpd
import pytest
from e2e_helpers import (
    FIRST_RENDER_MS,
    MAP_IFRAME,
    STEP_MS,
    map_eval,
    select_row,
    start_server,
    stop_server,
)

from dashboard import events, mapview, settings
from dashboard.store import EventStore

pytestmark = pytest.mark.e2e
_OFFSITE = re.compile(r"^https?://(?!127\.0\.0\.1|localhost)")
N_MANY = settings.PAGE_AGGREGATE_ABOVE + 3000


def _many(n: int) -> gpd.GeoDataFrame:
    """The same synthetic events as the page's AppTests (tests/test_app.py), seed 7."""
    from test_app import _many_events

    return _many_events(n, seed=7)


@pytest.fixture(scope="module")
def many_app(tmp_path_factory: pytest.TempPathFactory):
    """A server whose store holds N_MANY synthetic events around the border."""
    srv = start_server(tmp_path_factory.mktemp("many"))
    EventStore(srv.store).upsert(_many(N_MANY), origin="test", label="many")
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def plain_app(tmp_path_factory: pytest.TempPathFactory):
    srv = start_server(tmp_path_factory.mktemp("plain"))
    yield srv
    stop_server(srv)


def _page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(STEP_MS)
    pg.route(_OFFSITE, lambda route: route.abort())
    return context, pg


def _frame(pg):
    return pg.wait_for_selector(MAP_IFRAME, timeout=FIRST_RENDER_MS).content_frame()


HEX_COUNT_JS = """(m) => { let n = 0, events = 0;
    m.eachLayer(l => { const t = l.getTooltip && l.getTooltip();
        const s = t && String(t.getContent());
        if (s && s.includes('H3 cell')) { n++; events += parseInt(
            s.replace(/<[^>]*>/g, ' ').trim().split(' ')[0].replace(/,/g, ''), 10); } });
    return [n, events]; }"""


#: Start of a JS function of the map ``m`` defining ``box``: the view's bounds widened
#: outward to whole 256-px tiles (page_events.snap_bounds), plus a hair for rounding.
SNAPPED_JS = """(m) => { const b = m.getBounds(), st = 360 / Math.pow(2, m.getZoom()),
    f = (x) => Math.floor(x / st) * st - 1e-6, c = (x) => Math.ceil(x / st) * st + 1e-6;
    const box = L.latLngBounds([f(b.getSouth()), f(b.getWest())],
                               [c(b.getNorth()), c(b.getEast())]);"""


def _wait_hexes(pg, check: str, timeout: int = STEP_MS) -> list[int]:
    """Wait until the hexagon layer satisfies ``check`` (JS on [cells, events]); return it."""
    frame = _frame(pg)
    frame.wait_for_function(
        f"""() => {{ for (const v of Object.values(window)) {{
              if (v instanceof L.Map && document.body.contains(v.getContainer())) {{
                const c = ({HEX_COUNT_JS})(v); return ({check})(c); }} }}
            return false; }}""", timeout=timeout)
    return map_eval(frame, HEX_COUNT_JS)


def _drag(pg, dx: float, dy: float, start: tuple[float, float] = (0, 0)) -> None:
    """Drag the map by (dx, dy) pixels from ``start`` pixels off its centre, as a mouse
    does."""
    box = pg.locator(MAP_IFRAME).bounding_box()
    x = box["x"] + box["width"] / 2 + start[0]
    y = box["y"] + box["height"] / 2 + start[1]
    pg.mouse.move(x, y)
    pg.mouse.down()
    pg.mouse.move(x + dx, y + dy, steps=8)
    pg.mouse.up()


def _healthy(pg, srv, mark: int) -> None:
    assert pg.locator("[data-testid=stException]").count() == 0
    assert srv.tracebacks(mark) == [], srv.log_text()[mark:][-3000:]


def test_zooming_in_turns_hexagons_into_events(browser, many_app):
    context, pg = _page(browser)
    mark = len(many_app.log_text())
    try:
        pg.goto(many_app.url, timeout=FIRST_RENDER_MS)
        _cells, counted = _wait_hexes(pg, "(c) => c[0] > 0")
        frame = _frame(pg)
        assert frame.locator(".dash-icon").count() == 0  # no single markers for 5,000 events
        assert pg.get_by_text(re.compile(r"drawn as hexagons \(H3 resolution \d\)")).count()
        total = N_MANY + len(events.load_curated_events())
        assert 0 < counted <= total
        rows = pg.locator("[data-testid=stDataFrame]").first
        rows.wait_for(state="attached", timeout=STEP_MS)  # it comes after the map (MAP_READY)
        assert pg.get_by_text(re.compile(r"The table lists the latest 1,000 of")).count()
        # three steps of +: the view now holds fewer than the cap, drawn one by one
        zoom = map_eval(frame, "(m) => m.getZoom()")
        for z in (zoom + 1, zoom + 2, zoom + 3):
            frame.locator(".leaflet-control-zoom-in").click()
            frame.wait_for_function("(z) => { for (const v of Object.values(window)) if (v "
                                    "instanceof L.Map) return v.getZoom() === z; }", arg=z)
            pg.wait_for_timeout(400)
        pg.get_by_text(re.compile(r"events in view are drawn one by one")).wait_for(
            timeout=STEP_MS)
        frame = _frame(pg)
        frame.locator(".dash-icon").first.wait_for(timeout=STEP_MS)
        shown = map_eval(frame, SNAPPED_JS + """ let inb = 0, out = 0;
            m.eachLayer(l => { if (l.getLatLng && l.options && l.options.icon &&
                                  l.options.icon.options.className === 'dash-icon')
                                 { if (box.contains(l.getLatLng())) inb++; else out++; } });
            return [inb, out]; }""")
        # only the events in (and just around) the view are sent: the view snapped outward
        # to whole tiles (page_events.snap_bounds)
        assert shown[0] > 0 and shown[1] == 0, shown
        # drag the map away: the markers follow the new view
        before = frame.locator(".dash-icon").count()
        _drag(pg, -300, -200)
        frame.wait_for_function(_IN_VIEW_JS, timeout=STEP_MS)
        assert before > 0
        _healthy(pg, many_app, mark)
    finally:
        context.close()


def test_type_checkbox_changes_hexagon_counts(browser, many_app):
    context, pg = _page(browser)
    mark = len(many_app.log_text())
    try:
        pg.goto(many_app.url, timeout=FIRST_RENDER_MS)
        _, before = _wait_hexes(pg, "(c) => c[0] > 0")
        label = mapview.event_style("strike").label
        pg.locator("[data-testid=stSidebar] label").filter(has_text=label).first.click()
        _, after = _wait_hexes(pg, f"(c) => c[1] > 0 && c[1] < {before}")
        assert after < before
        pg.get_by_text(re.compile(r"^Showing [\d,]+ of")).first.wait_for()
        _healthy(pg, many_app, mark)
    finally:
        context.close()


def test_tabs_under_the_map_show_one_view_each(browser, plain_app):
    context, pg = _page(browser)
    mark = len(plain_app.log_text())
    try:
        pg.goto(plain_app.url, timeout=FIRST_RENDER_MS)
        _frame(pg).wait_for_selector(".dash-icon", timeout=FIRST_RENDER_MS)
        grid = pg.locator("[data-testid=stDataFrame] table", has_text="Border distance")
        grid.first.wait_for(state="attached")
        pg.get_by_role("tab", name="Events per day").click()
        pg.locator("[data-testid=stVegaLiteChart]").first.wait_for()
        pg.wait_for_function("""() => !([...document.querySelectorAll(
            '[data-testid=stDataFrame] table')].some(t => t.innerText.includes('Border dist')))""")
        q = dict(parse_qsl(pg.evaluate("() => location.search").lstrip("?")))
        assert q.get("below") == "Events per day", q
        pg.get_by_role("tab", name="Claims checked").click()
        pg.locator("[data-testid=stDataFrame] table", has_text="Tolerance").first.wait_for(
            state="attached")
        assert pg.locator("[data-testid=stVegaLiteChart]").count() == 0
        pg.goto(pg.url, timeout=FIRST_RENDER_MS)  # the permalink reopens that tab
        pg.locator("[data-testid=stDataFrame] table", has_text="Tolerance").first.wait_for(
            state="attached")
        pg.get_by_role("tab", name="Events table").click()
        grid.first.wait_for(state="attached")
        _healthy(pg, plain_app, mark)
    finally:
        context.close()


_IN_VIEW_JS = """() => { for (const m of Object.values(window))
    if (m instanceof L.Map) { """ + SNAPPED_JS.split("=> {", 1)[1] + """
      let ok = 0, bad = 0;
      m.eachLayer(l => { if (l.getLatLng && l.options && l.options.icon &&
                            l.options.icon.options.className === 'dash-icon')
                           { if (box.contains(l.getLatLng())) ok++; else bad++; }});
      return ok > 0 && bad === 0; } }"""


_HEX_IDS_JS = """(m) => { const ids = []; m.eachLayer(l => { const p = l.feature &&
    l.feature.properties; if (p && typeof p.tip === 'string' && p.tip.indexOf('H3 cell') >= 0)
    ids.push(p.tip.slice(0, 40)); }); return ids.sort(); }"""


def test_selecting_a_row_among_many_events_highlights_it_and_settles(browser, many_app):
    """With hexagons, selecting a table row zooms to the event; the table then lists the
    events in the new view, and the highlight must stay on the event clicked (no loop of
    reruns re-reading the row number against a changed table). The page draws the new view
    itself, so the map does not report it back (one run, not two); a drag after it is
    reported and the events follow it."""
    context, pg = _page(browser)
    mark = len(many_app.log_text())
    runs: list[int] = []  # messages that ask for a run (widget values: ~2 kB each)
    pg.on("websocket", lambda ws: ws.on(
        "framesent", lambda f: runs.append(1) if len(f) > 500 else None))
    try:
        pg.goto(many_app.url, timeout=FIRST_RENDER_MS)
        _wait_hexes(pg, "(c) => c[0] > 0")
        grid = pg.locator("[data-testid=stDataFrame]").filter(
            has=pg.locator("table", has_text="Border distance")).first
        grid.scroll_into_view_if_needed()
        location = pg.evaluate("""() => { const t = [...document.querySelectorAll(
            '[data-testid=stDataFrame] table')].find(t => t.innerText.includes('Border dist'));
            const head = [...t.querySelectorAll('thead th')].map(h => h.innerText.trim());
            const cells = [...t.querySelectorAll('tbody tr')[0].querySelectorAll('td, th')];
            return cells[head.indexOf('Location')].innerText.trim(); }""")
        assert location
        pg.wait_for_timeout(1500)  # the page's own first runs are over
        before = len(runs)
        select_row(pg, grid, 1)
        frame = _frame(pg)
        frame.wait_for_function("""(w) => [...document.querySelectorAll('.dash-label')]
            .some(e => e.textContent.includes(w))""", arg=location, timeout=STEP_MS)
        assert map_eval(frame, "(m) => m.getZoom()") >= 8
        pg.wait_for_timeout(3000)  # later reruns (the table follows the view) keep it
        labels = map_eval(frame, """() => [...document.querySelectorAll('.dash-label')]
            .map(e => e.textContent)""")
        assert any(location in t for t in labels), labels
        state = pg.evaluate("""() => document.querySelector('[data-testid=stApp]')
            .getAttribute('data-test-script-state')""")
        assert state == "notRunning"
        assert len(runs) - before == 1, "the map reported the view the page had drawn"
        cells = map_eval(frame, _HEX_IDS_JS)
        assert cells  # zoom 8 over the border: still hexagons, for the view the page drew
        # a drag is the person's own view: reported, and the hexagons follow it (started
        # away from the centre, where the selected event's marker and label are; with
        # Leaflet's inertia the new view may hold other cells, single events or nothing)
        _drag(pg, -300, -200, start=(200, 150))
        frame.wait_for_function("(before) => { for (const m of Object.values(window)) if (m "
                                "instanceof L.Map) { const now = (" + _HEX_IDS_JS + ")(m); "
                                "return now.join() !== before.join(); } }",
                                arg=cells, timeout=STEP_MS)
        assert len(runs) - before >= 2
        _healthy(pg, many_app, mark)
    finally:
        context.close()


def _label_count(text: str) -> int:
    """The number of events in a time-control label such as "3 Jan 2024 · 1,234 events"."""
    return int(text.rsplit("·", 1)[1].split()[0].replace(",", ""))


def test_play_walks_the_hexagons_through_the_days(browser, many_app):
    """Play, the step button, Pause and All days on hexagons: each hexagon shows its events of
    the window (the label's count), and those are exactly the events of that day in the
    hexagons' area; All days brings back every count."""
    import pandas as pd

    context, pg = _page(browser)
    mark = len(many_app.log_text())
    try:
        pg.goto(f"{many_app.url}/?from=2024-01-01&to=2024-01-20", timeout=FIRST_RENDER_MS)
        cells_all, ev_all = _wait_hexes(pg, "(c) => c[0] > 0")
        frame = _frame(pg)
        west, south, east, north = map_eval(frame, """(m) => { const b = m.getBounds().pad(0.5);
            return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }""")
        data = pd.concat([_many(N_MANY), events.load_curated_events()], ignore_index=True)
        lon, lat = data.geometry.x, data.geometry.y
        near = data[(lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)]
        day = pd.to_datetime(near["event_date"]).dt.date
        label = frame.locator("[data-testid=time-label]")

        def check() -> int:
            text = label.inner_text()
            state = frame.evaluate("() => window.__dashTime.state()")
            lo, hi = (pd.Timestamp(state[k]).date() for k in ("start", "end"))
            n = _label_count(text)
            _, drawn = _wait_hexes(pg, f"(c) => c[1] === {n}")
            assert drawn == n == int(((day >= lo) & (day <= hi)).sum()), (text, state)
            return n

        frame.locator("[data-testid=time-next]").click()  # the first day
        label.filter(has_text="·").wait_for()
        first = check()
        assert 0 < first < ev_all
        before = label.inner_text()
        frame.locator("[data-testid=time-next]").click()  # the next day
        frame.wait_for_function("(t) => document.querySelector("
                                "'[data-testid=time-label]').textContent !== t", arg=before)
        check()
        frame.locator("[data-testid=time-window]").select_option("7")
        frame.wait_for_function("() => window.__dashTime.state().window === 7")
        assert check() > first
        frame.locator("[data-testid=time-play]").click()
        assert "Pause" in frame.locator("[data-testid=time-play]").inner_text()
        seen = label.inner_text()
        frame.wait_for_function("(t) => document.querySelector("
                                "'[data-testid=time-label]').textContent !== t", arg=seen,
                                timeout=STEP_MS)
        frame.locator("[data-testid=time-play]").click()  # Pause
        assert "Play" in frame.locator("[data-testid=time-play]").inner_text()
        check()
        frame.locator("[data-testid=time-all]").click()
        assert _wait_hexes(pg, f"(c) => c[1] === {ev_all}") == [cells_all, ev_all]
        _healthy(pg, many_app, mark)
    finally:
        context.close()
