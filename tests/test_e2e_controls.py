"""Every control on the page, operated in Debian's Chromium as a person would.

Each test clicks, types, drags, selects, uploads through the file chooser or downloads through
the download event, then checks what a person sees (markers counted in the Leaflet map inside
streamlit-folium's iframe, text on the page, the URL for the permalink, the downloaded file)
and that neither the page (``stException``) nor the server log shows an error.

Control → test that operates it (``e2e`` = tests/test_e2e.py, otherwise this file):

==================================================  ==============================================
Sidebar "Layers" checkboxes (6)                     test_layer_checkboxes_switch_each_static_layer
Sidebar "Background" select (3 choices)             test_background_select_adds_and_removes_tiles
Sidebar "Event types" checkboxes (each type)        test_each_event_type_checkbox_hides_its_markers
                                                    (Diplomatic step also e2e::test_switching_off_…)
More filters expander + ACLED event type            test_acled_type_and_subtype_filters,
                                                    test_more_filters_stay_open_after_clearing_…
More filters: ACLED sub-event type                  test_acled_type_and_subtype_filters
More filters: Country                               test_country_filter
More filters: Actor contains                        test_actor_and_fatalities_filters_and_permalink
More filters: Minimum fatalities (typed, + button)  test_actor_and_fatalities_filters_and_permalink
Date range slider (keyboard and mouse drag)         test_date_slider_keyboard_and_drag
◀ Day                                               e2e::test_stepping_the_date_range_…,
                                                    test_day_buttons_move_a_one_day_window
Day ▶                                               test_day_forward_moves_the_end_date,
                                                    test_day_buttons_move_a_one_day_window
Fit border / Fit all events                         test_fit_buttons_show_border_and_events
Tabs Measure / Buffers / Claims / Data              test_tabs_are_kept_in_the_permalink
Measure: "Pick from lists" / "Click two points"     e2e::test_two_clicks_on_the_map_measure_…,
                                                    test_clear_clicked_points
Measure: From / To pickers                          test_measure_from_and_to_pickers
Measure: typed LAT,LON                              test_measure_typed_lat_lon,
                                                    test_typed_lat_lon_is_kept_in_the_permalink
Measure: map clicks                                 e2e::test_two_clicks_on_the_map_measure_…
Measure: Clear clicked points                       test_clear_clicked_points
Measure: distance matrix multiselect                test_distance_matrix
Buffers: target select, radii text                  test_border_buffer_counts_only_shown_events
Buffers: bad radii                                  test_bad_radii_are_one_sentence
Buffers: "Events and places inside" expander        test_border_buffer_counts_only_shown_events
Claims: Sabz Koh region checkbox                    test_claims_region_checkbox_and_notes
Claims checked (under the map): notes expander     test_claims_region_checkbox_and_notes
Tabs under the map                                  e2e_many::test_tabs_under_the_map_…
Data: upload (file chooser)                         test_upload_through_the_file_chooser_…
                                                    (set_input_files also in e2e upload tests)
Data: remove an uploaded file (×)                   test_upload_through_the_file_chooser_…
Data: upload report after leaving the tab           test_the_upload_report_stays_after_leaving_…
Data: Imported batches → Remove                     test_upload_through_the_file_chooser_…,
                                                    e2e::test_upload_goes_to_the_store_…
Data: Download shown events (GeoJSON), (CSV)        test_download_shown_events_geojson_and_csv
Data: Download this map (HTML)                      test_download_map_html
Data: Download map as PNG                           e2e::test_download_map_as_png_is_a_real_picture
Data: Download map as SVG / PDF                     test_download_map_svg_and_pdf
Map: Play / Pause, window select, All days          e2e::test_play_walks_…, e2e::test_pause_holds_…
Map: ◀ / ▶ window step buttons                      test_time_step_buttons
Map: zoom + / − buttons (and permalink c, z)        test_zoom_buttons_and_permalink_view
Map: layer control (overlay checkboxes)             test_layer_control_hides_an_overlay
Map: legend fold (summary)                          test_legend_folds_and_unfolds
Map: click a marker → popup                         test_clicking_a_marker_opens_its_popup
Events table: row select                            e2e::test_selecting_a_table_row_…,
                                                    test_sorted_table_row_select_highlights_that_row
Events table: column sort (header click)            test_sorted_table_row_select_highlights_that_row
(a row select or a site pick reruns only its parts) test_a_row_select_redraws_only_the_map_and_…
(any update: unchanged map layers are kept)         test_an_update_rebuilds_only_what_changed_…
==================================================  ==============================================
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl

import pandas as pd
import pytest
from e2e_helpers import (
    FIRST_RENDER_MS,
    MAP_IFRAME,
    STEP_MS,
    click_grid,
    map_eval,
    map_frame,
    select_row,
    start_server,
    stop_server,
    wait_map,
    wait_markers,
    wait_settled,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e
DATA = Path(__file__).parent / "data"
SHOTS = Path(tempfile.gettempdir()) / "e2e-controls-shots"  # screenshots to look at
_OFFSITE = re.compile(r"^https?://(?!127\.0\.0\.1|localhost)")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    """One app server for this module, with its own empty event store and log."""
    srv = start_server(tmp_path_factory.mktemp("controls"))
    yield srv
    stop_server(srv)


@pytest.fixture
def page(browser, app):
    context = browser.new_context(viewport={"width": 1440, "height": 1000},
                                  accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(STEP_MS)
    pg.route(_OFFSITE, lambda route: route.abort())  # online tiles fail fast, offline as CI
    pg.log_mark = len(app.log_text())
    yield pg
    context.close()


# ---------------------------------------------------------------------------------------------
# helpers

def _open(pg, app, query: str = ""):
    pg.goto(f"{app.url}/{('?' + query) if query else ''}", timeout=FIRST_RENDER_MS)
    return map_frame(pg)


def _healthy(pg, app) -> None:
    """No Streamlit exception box on the page and no traceback in the server log."""
    assert pg.locator("[data-testid=stException]").count() == 0, \
        pg.locator("[data-testid=stException]").first.inner_text()
    assert app.tracebacks(pg.log_mark) == [], app.log_text()[pg.log_mark:][-3000:]


def _curated(**kw):
    from dashboard import events, filters

    return filters.apply(events.load_curated_events(), filters.EventFilter(**kw))


def _pins(ev) -> int:
    """Events drawn as a marker (geo_precision 1–2); precision 3 is drawn as an area."""
    return int((pd.to_numeric(ev["geo_precision"], errors="coerce").fillna(1) < 3).sum())


def _types() -> list[str]:
    """Event types of the curated data in the sidebar's order."""
    from dashboard import events, mapview

    present = set(events.load_curated_events()["category"].astype(str))
    known = [t for t in mapview.EVENT_STYLES if t in present]
    return known + sorted(present - set(known))


def _label(t: str) -> str:
    from dashboard import mapview

    return mapview.event_style(t, _types()).label


def _query(pg) -> dict[str, str]:
    return dict(parse_qsl(pg.evaluate("() => location.search").lstrip("?")))


def _wait_query(pg, check: Callable[[dict], bool], what: str = "") -> dict[str, str]:
    """Wait until the URL's query satisfies ``check`` (the permalink follows the page)."""
    for _ in range(int(STEP_MS / 250)):
        q = _query(pg)
        if check(q):
            return q
        pg.wait_for_timeout(250)
    raise AssertionError(f"the URL never showed {what or 'the expected state'}: {_query(pg)}")


def _sidebar(pg):
    return pg.locator("[data-testid=stSidebar]")


def _tab(pg, name: str) -> None:
    """Open a tab by its exact name (the tools beside the map or the views under it)."""
    pg.get_by_role("tab", name=name, exact=True).click()
    pg.get_by_role("tab", name=name, exact=True).and_(
        pg.locator("[aria-selected=true]")).wait_for()


def _pick(pg, widget, typed: str, option: str) -> None:
    """Open a select/multiselect, type to search, click the option named exactly ``option``."""
    widget.click()
    pg.keyboard.type(typed)
    pg.get_by_role("option", name=option, exact=True).click()


def _texts(frame, kind: str) -> list[str]:
    """Contents of every Leaflet layer's tooltip or popup (``kind``: Tooltip or Popup)."""
    return map_eval(frame, """(m, kind) => { const out = [];
        m.eachLayer(l => { const t = l['get' + kind] && l['get' + kind]();
                           if (t) out.push(String(t.getContent())); });
        return out; }""", kind)


def _wait_tooltip(pg, text: str, present: bool = True) -> None:
    wait_map(pg, """(m, a) => { let hit = false;
        m.eachLayer(l => { const t = l.getTooltip && l.getTooltip();
                           if (t && String(t.getContent()).includes(a)) hit = true; });
        return hit === %s; }""" % ("true" if present else "false"), text)


def _shot(pg, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"))


def _grid_text(pg, scope) -> str:
    """Text of Streamlit's data grids in ``scope`` (their accessible table twin)."""
    return " | ".join(t.inner_text() for t in scope.locator("[data-testid=stDataFrame] table")
                      .all())


# ---------------------------------------------------------------------------------------------
# sidebar: layers, background, event types

def test_layer_checkboxes_switch_each_static_layer(page, app):
    from dashboard import page_state

    _open(page, app)
    frame = map_frame(page)
    dashed = """(m) => { let n = 0; m.eachLayer(l => {
        const p = l.feature && l.feature.properties;
        if (l instanceof L.Path && p && p.day && !p.ev) n++; }); return n; }"""
    assert map_eval(frame, dashed) > 0  # the events' uncertainty discs are drawn
    for key, label in page_state.LAYERS.items():
        static = "places_discs" if key == "discs" else key
        assert map_eval(frame, "(m, k) => m.hasLayer(window.__dashStatic[k])", static), key
        _sidebar(page).get_by_text(label, exact=True).click()
        wait_map(page, "(m, k) => !m.hasLayer(window.__dashStatic[k])", static)
        _wait_query(page, lambda q, k=key: "layers" in q and k not in q["layers"].split(","),
                    f"layers without {key}")
        if key == "discs":  # the events' discs go too, not only the places'
            wait_map(page, dashed.replace("return n;", "return n === 0;"))
        _sidebar(page).get_by_text(label, exact=True).click()
        wait_map(page, "(m, k) => m.hasLayer(window.__dashStatic[k])", static)
        _wait_query(page, lambda q: "layers" not in q, "every layer on")
    _healthy(page, app)


def test_background_select_adds_and_removes_tiles(page, app):
    _open(page, app)
    tiles = """(m, part) => { let n = 0; m.eachLayer(l => {
        if (l instanceof L.TileLayer && (!part || l._url.includes(part))) n++; });
        return n; }"""
    box = _sidebar(page).locator("[data-testid=stSelectbox]", has_text="Background")
    for option, part, base in (("OpenStreetMap (online)", "openstreetmap", "osm"),
                               ("Satellite, Esri World Imagery (online)", "arcgisonline",
                                "satellite")):
        box.click()
        page.get_by_role("option", name=option, exact=True).click()
        wait_map(page, f"(m, p) => ({tiles})(m, p) === 1 && ({tiles})(m, '') === 1", part)
        _wait_query(page, lambda q, b=base: q.get("base") == b, f"base={base}")
    box.click()
    page.get_by_role("option", name="Vector land (offline)", exact=True).click()
    wait_map(page, f"(m) => ({tiles})(m, '') === 0")
    _wait_query(page, lambda q: "base" not in q, "no base")
    _healthy(page, app)


def test_each_event_type_checkbox_hides_its_markers(page, app):
    types = _types()
    everything = _pins(_curated())
    _open(page, app)
    assert wait_markers(page, everything) == everything
    for t in types:
        rest = _pins(_curated(categories=tuple(x for x in types if x != t)))
        assert rest < everything, t
        _sidebar(page).get_by_text(_label(t), exact=True).click()
        assert wait_markers(page, rest) == rest, t
        _wait_query(page, lambda q, t=t: "types" in q and t not in q["types"].split(","), t)
        _sidebar(page).get_by_text(_label(t), exact=True).click()
        assert wait_markers(page, everything) == everything, t
    _healthy(page, app)


# ---------------------------------------------------------------------------------------------
# sidebar: more filters

def _more_filters(pg):
    _sidebar(pg).get_by_text("More filters: ACLED type, country, actor, fatalities").click()
    box = _sidebar(pg).locator("[data-testid=stExpanderDetails]")
    box.locator("[data-testid=stMultiSelect]").first.wait_for(state="visible")
    return box


def _summary(pg, n: int, total: int) -> None:
    pg.get_by_text(f"Showing {n:,} of {total:,} events").wait_for()


def test_acled_type_and_subtype_filters(page, app):
    total = len(_curated())
    _open(page, app)
    box = _more_filters(page)
    etype = box.locator("[data-testid=stMultiSelect]").nth(0)
    _pick(page, etype, "Battl", "Battles")
    kept = _curated(event_types=("Battles",))
    assert 0 < len(kept) < total
    assert wait_markers(page, _pins(kept)) == _pins(kept)
    _summary(page, len(kept), total)
    _wait_query(page, lambda q: q.get("etype") == "Battles", "etype=Battles")
    page.keyboard.press("Escape")
    etype.locator("input").click()
    page.keyboard.press("Backspace")  # removes the chosen type again
    assert wait_markers(page, _pins(_curated())) == _pins(_curated())
    _wait_query(page, lambda q: "etype" not in q, "no etype")
    if not box.locator("[data-testid=stMultiSelect]").nth(1).is_visible():
        _more_filters(page)  # it folds when no filter is active (see the next test)

    sub = box.locator("[data-testid=stMultiSelect]").nth(1)
    _pick(page, sub, "Suicide", "Suicide bomb")
    kept = _curated(sub_event_types=("Suicide bomb",))
    assert len(kept) == 1
    assert wait_markers(page, _pins(kept)) == _pins(kept)
    _summary(page, 1, total)
    _wait_query(page, lambda q: q.get("subtype") == "Suicide bomb", "subtype")
    _healthy(page, app)


def test_more_filters_stay_open_after_clearing_a_filter(page, app):
    _open(page, app)
    box = _more_filters(page)
    etype = box.locator("[data-testid=stMultiSelect]").nth(0)
    _pick(page, etype, "Battl", "Battles")
    _wait_query(page, lambda q: q.get("etype") == "Battles", "etype=Battles")
    page.keyboard.press("Escape")
    etype.locator("input").click()
    page.keyboard.press("Backspace")
    _wait_query(page, lambda q: "etype" not in q, "no etype")
    assert wait_markers(page, _pins(_curated())) == _pins(_curated())
    page.wait_for_timeout(1000)
    # the person is still working in the panel: it must not fold under them
    assert box.locator("[data-testid=stMultiSelect]").nth(1).is_visible()
    _healthy(page, app)


def test_country_filter(page, app):
    total = len(_curated())
    _open(page, app)
    box = _more_filters(page)
    country = box.locator("[data-testid=stMultiSelect]").nth(2)
    _pick(page, country, "Yem", "Yemen")
    page.keyboard.press("Escape")
    _pick(page, country, "Switz", "Switzerland")
    kept = _curated(countries=("Yemen", "Switzerland"))
    assert wait_markers(page, _pins(kept)) == _pins(kept)
    _summary(page, len(kept), total)
    q = _wait_query(page, lambda q: "country" in q, "country")
    assert set(q["country"].split(",")) == {"Yemen", "Switzerland"}
    _healthy(page, app)


def test_actor_and_fatalities_filters_and_permalink(page, app, browser):
    total = len(_curated())
    _open(page, app)
    box = _more_filters(page)
    actor = box.locator("[data-testid=stTextInput] input")
    actor.fill("iran")
    actor.press("Enter")
    kept = _curated(actor="iran")
    assert 0 < len(kept) < total
    assert wait_markers(page, _pins(kept)) == _pins(kept)
    _wait_query(page, lambda q: q.get("actor") == "iran", "actor=iran")

    fat = box.locator("[data-testid=stNumberInput] input")
    fat.fill("")
    fat.type("1")
    fat.press("Enter")
    kept = _curated(actor="iran", min_fatalities=1.0)
    _summary(page, len(kept), total)
    assert wait_markers(page, _pins(kept)) == _pins(kept)
    box.locator("[data-testid=stNumberInputStepUp]").click()  # 1 → 2
    kept = _curated(actor="iran", min_fatalities=2.0)
    _summary(page, len(kept), total)
    assert wait_markers(page, _pins(kept)) == _pins(kept)
    q = _wait_query(page, lambda q: q.get("minfat") == "2", "minfat=2")
    url = page.url
    _healthy(page, app)

    # the copied link reopens the same filters, in the widgets and on the map
    other = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    try:
        other.route(_OFFSITE, lambda route: route.abort())
        other.goto(url, timeout=FIRST_RENDER_MS)
        map_frame(other)
        assert wait_markers(other, _pins(kept)) == _pins(kept)
        _summary(other, len(kept), total)
        # the controls come after the map (app.MAP_READY): wait for them
        expect(_sidebar(other).locator("[data-testid=stTextInput] input")).to_have_value(
            "iran", timeout=STEP_MS)
        expect(_sidebar(other).locator("[data-testid=stNumberInput] input")).to_have_value(
            "2", timeout=STEP_MS)
        assert _query(other)["actor"] == q["actor"]
    finally:
        other.context.close()


# ---------------------------------------------------------------------------------------------
# sidebar: dates, day buttons, fit buttons

def _date_text(text: str) -> dt.date:
    return dt.datetime.strptime(text.strip(), "%d %b %Y").date()


def test_date_slider_keyboard_and_drag(page, app):
    every = _curated()
    first = pd.to_datetime(every["event_date"]).min().date()
    _open(page, app)
    thumbs = _sidebar(page).locator("[data-testid=stSlider] input[type=range]")
    thumbs.nth(0).focus()
    page.keyboard.press("ArrowRight")
    start = first + dt.timedelta(days=1)
    _wait_query(page, lambda q: q.get("from") == start.isoformat(), f"from={start}")
    kept = _curated(start=start)
    assert wait_markers(page, _pins(kept)) == _pins(kept)
    _summary(page, len(kept), len(every))

    # drag the end handle to the middle of the track
    wait_settled(page)  # nothing above the slider still loading: it stays where it is measured
    track = _sidebar(page).locator("[data-testid=stSlider]").bounding_box()
    end = thumbs.nth(1).locator("xpath=..").bounding_box()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] * 0.6, end["y"] + end["height"] / 2, steps=8)
    page.mouse.up()
    shown_end = _date_text(_sidebar(page).locator("[data-testid=stSliderThumbValue]").nth(1)
                           .inner_text())
    assert start < shown_end < pd.to_datetime(every["event_date"]).max().date()
    _wait_query(page, lambda q: q.get("to") == shown_end.isoformat(), f"to={shown_end}")
    kept = _curated(start=start, end=shown_end)
    assert wait_markers(page, _pins(kept)) == _pins(kept)
    _summary(page, len(kept), len(every))
    _healthy(page, app)


def test_day_forward_moves_the_end_date(page, app):
    total = len(_curated())
    _open(page, app, "to=2024-01-16")
    kept = _curated(end=dt.date(2024, 1, 16))
    assert wait_markers(page, _pins(kept)) == _pins(kept)
    page.get_by_role("button", name="Day ▶").click()
    kept = _curated(end=dt.date(2024, 1, 17))
    _wait_query(page, lambda q: q.get("to") == "2024-01-17", "to=2024-01-17")
    assert wait_markers(page, _pins(kept)) == _pins(kept)
    _summary(page, len(kept), total)
    _healthy(page, app)


def test_day_buttons_move_a_one_day_window(page, app):
    _open(page, app, "from=2024-01-16&to=2024-01-16")
    day = dt.date(2024, 1, 16)
    assert wait_markers(page, _pins(_curated(start=day, end=day))) == \
        _pins(_curated(start=day, end=day))
    page.get_by_role("button", name="Day ▶").click()
    day = dt.date(2024, 1, 17)
    _wait_query(page, lambda q: q.get("from") == q.get("to") == day.isoformat(), str(day))
    kept = _curated(start=day, end=day)
    assert wait_markers(page, _pins(kept)) == _pins(kept)
    page.get_by_role("button", name="◀ Day").click()
    page.get_by_role("button", name="◀ Day").click()
    day = dt.date(2024, 1, 15)
    _wait_query(page, lambda q: q.get("from") == q.get("to") == day.isoformat(), str(day))
    kept = _curated(start=day, end=day)
    assert wait_markers(page, _pins(kept)) == _pins(kept)
    _healthy(page, app)


def _drag_map(pg, frame, dx: float, dy: float) -> None:
    box = pg.locator(MAP_IFRAME).bounding_box()
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6
    pg.mouse.move(x, y)
    pg.mouse.down()
    pg.mouse.move(x + dx, y + dy, steps=10)
    pg.mouse.up()


def _contains(bounds: tuple[float, float, float, float]) -> str:
    west, south, east, north = bounds
    return (f"(m) => m.getBounds().contains(L.latLngBounds([{south}, {west}], "
            f"[{north}, {east}]))")


def _settled(page):
    """The map frame once its view has stopped changing (zoom and centre equal twice in a row,
    400 ms apart); at most ~12 s."""
    last = None
    for _ in range(30):
        frame = map_frame(page)
        view = map_eval(frame, "(m) => [m.getZoom(), m.getCenter().lat, m.getCenter().lng]")
        if view == last:
            return frame
        last = view
        page.wait_for_timeout(400)
    return map_frame(page)


def test_fit_buttons_show_border_and_events(page, app):
    from dashboard import events, layers

    border = tuple(layers.load_border().geometry.bounds)
    every = tuple(events.load_curated_events().total_bounds)
    frame = _open(page, app)
    for button, bounds in (("Fit all events", every), ("Fit border", border),
                           ("Fit all events", every), ("Fit border", border)):
        frame = map_frame(page)
        for _ in range(20):  # zoom in well past both fits
            frame = map_frame(page)
            zoom = map_eval(frame, "(m) => m.getZoom()")
            if zoom >= 7:
                break
            frame.locator(".leaflet-control-zoom-in").click()
            try:  # a click made while the map redraws after the previous fit is lost: again
                wait_map(page, "(m, z) => m.getZoom() > z", zoom, timeout=5_000)
            except PlaywrightTimeout:
                continue
        assert map_eval(frame, "(m) => m.getZoom()") >= 7
        _drag_map(page, frame, 250, -150)
        page.wait_for_timeout(800)
        view = map_eval(frame, "(m) => [m.getZoom(), m.getBounds().toBBoxString()]")
        assert not map_eval(frame, _contains(bounds)), (button, view, bounds)
        page.get_by_role("button", name=button).click()
        wait_map(page, _contains(bounds))
        frame = _settled(page)  # the fit may still be flying: let it end before zooming again
    zoom = map_eval(frame, "(m) => m.getZoom()")
    assert zoom >= 5  # the border fills the map, not a world view
    _healthy(page, app)


# ---------------------------------------------------------------------------------------------
# tabs and the Measure tab

def test_tabs_are_kept_in_the_permalink(page, app, browser):
    _open(page, app)
    for name in ("Buffers", "Claims", "Data"):
        _tab(page, name)
        _wait_query(page, lambda q, n=name: q.get("tab") == n, f"tab={name}")
    _tab(page, "Measure")
    _wait_query(page, lambda q: "tab" not in q, "no tab")
    _tab(page, "Claims")
    url = _wait_query(page, lambda q: q.get("tab") == "Claims") and page.url
    _healthy(page, app)
    page.goto(url, timeout=FIRST_RENDER_MS)
    map_frame(page)
    page.get_by_role("tab", name="Claims", exact=True).and_(
        page.locator("[aria-selected=true]")).wait_for()
    page.get_by_text("Show the Sabz Koh candidate region on the map").wait_for()


def _expect_distance(pg, a_id: str, b_id: str) -> float:
    from dashboard import sites

    a, b = sites.resolve_site(a_id), sites.resolve_site(b_id)
    metres = sites.measure_distance(a, b).distance_m
    pg.get_by_text(f"Exact: {metres:,.0f} m.").wait_for()
    pg.get_by_text(f"{metres / 1000:,.1f} km", exact=True).first.wait_for()
    return metres


def test_measure_from_and_to_pickers(page, app):
    _open(page, app)
    _expect_distance(page, "sabz-koh", "panjgur")
    from_box = page.locator("[data-testid=stSelectbox]", has_text="From")
    _pick(page, from_box, "Zahed", "Zahedan · place")
    metres = _expect_distance(page, "zahedan", "panjgur")
    _wait_query(page, lambda q: q.get("a") == "zahedan" and q.get("b") == "panjgur", "a, b")
    _wait_tooltip(page, f"Zahedan → Panjgur: {metres / 1000:,.1f} km")
    to_box = page.locator("[data-testid=stSelectbox]", has_text="To")
    _pick(page, to_box, "Kerman", "Kerman · place")
    metres = _expect_distance(page, "zahedan", "kerman")
    _wait_tooltip(page, f"Zahedan → Kerman: {metres / 1000:,.1f} km")
    _healthy(page, app)


def _type_new_option(pg, box, text: str) -> None:
    box.click()
    pg.keyboard.type(text)
    pg.keyboard.press("Enter")


def test_measure_typed_lat_lon(page, app):
    _open(page, app)
    to_box = page.locator("[data-testid=stSelectbox]", has_text="To")
    _type_new_option(page, to_box, "26.37,63.49")
    _expect_distance(page, "sabz-koh", "26.37,63.49")
    frame = map_frame(page)
    # the measured path ends at the typed point
    ends = map_eval(frame, """(m) => { const out = []; m.eachLayer(l => {
        if (l instanceof L.CircleMarker && l.getTooltip && l.getTooltip() &&
            l.options.fillColor === '#F0E442') out.push([l.getLatLng().lat, l.getLatLng().lng]);
        }); return out; }""")
    assert any(abs(lat - 26.37) < 1e-6 and abs(lon - 63.49) < 1e-6 for lat, lon in ends), ends
    _healthy(page, app)


def test_typed_lat_lon_is_kept_in_the_permalink(page, app):
    _open(page, app)
    to_box = page.locator("[data-testid=stSelectbox]", has_text="To")
    _type_new_option(page, to_box, "26.37,63.49")
    _expect_distance(page, "sabz-koh", "26.37,63.49")
    q = _wait_query(page, lambda q: q.get("b", "").startswith("26.37"), "b=26.37,63.49")
    assert q["b"].replace(" ", "") == "26.37,63.49"
    url = page.url
    page.goto(url, timeout=FIRST_RENDER_MS)
    map_frame(page)
    _expect_distance(page, "sabz-koh", "26.37,63.49")
    _healthy(page, app)


def test_clear_clicked_points(page, app):
    frame = _open(page, app)
    page.get_by_text("Click two points on the map").click()
    try:
        page.get_by_text("0 of 2 points clicked").wait_for()
    finally:
        _shot(page, "click-mode")
    box = frame.locator(".leaflet-container").bounding_box()
    frame.locator(".leaflet-container").click(
        position={"x": box["width"] * 0.15, "y": box["height"] * 0.85})
    page.get_by_text("1 of 2 points clicked").wait_for()
    page.get_by_role("button", name="Clear clicked points").click()
    page.get_by_text("0 of 2 points clicked").wait_for()
    frame.locator(".leaflet-container").click(
        position={"x": box["width"] * 0.3, "y": box["height"] * 0.9})
    page.get_by_text("1 of 2 points clicked").wait_for()
    frame.locator(".leaflet-container").click(
        position={"x": box["width"] * 0.15, "y": box["height"] * 0.85})
    page.get_by_text("2 of 2 points clicked").wait_for()
    page.get_by_text("Exact: ").wait_for()
    _shot(page, "click-measure")
    _healthy(page, app)


def test_distance_matrix(page, app):
    from dashboard import sites

    _open(page, app)
    matrix = page.locator("[data-testid=stMultiSelect]", has_text="Distance matrix")
    _pick(page, matrix, "Zahed", "Zahedan · place")
    page.keyboard.press("Escape")
    _pick(page, matrix, "Panjg", "Panjgur · place")
    page.keyboard.press("Escape")
    _pick(page, matrix, "Kerm", "Kerman · place")
    page.keyboard.press("Escape")
    _wait_query(page, lambda q: q.get("matrix") == "zahedan,panjgur,kerman", "matrix")
    chosen = [sites.resolve_site(s) for s in ("zahedan", "panjgur", "kerman")]
    km = sites.distance_matrix(chosen) / 1000.0
    tab = page.locator(".st-key-tab")  # the tools' tabs (the table under the map has Kerman)
    tab.locator("[data-testid=stDataFrame]").first.wait_for()
    page.wait_for_function("""(want) => [...document.querySelectorAll(
        '.st-key-tab [data-testid=stDataFrame] table')]
        .some(t => want.every(w => t.innerText.includes(w)))""",
                           arg=[f"{km.iloc[0, 1]:.1f}", f"{km.iloc[0, 2]:.1f}",
                                f"{km.iloc[1, 2]:.1f}"])
    matrix.locator("input").click()
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    _wait_query(page, lambda q: q.get("matrix") == "zahedan", "matrix=zahedan")
    page.wait_for_function("() => ![...document.querySelectorAll("
                           "'.st-key-tab [data-testid=stDataFrame] table')]"
                           ".some(t => t.innerText.includes('Kerman'))")
    _healthy(page, app)


# ---------------------------------------------------------------------------------------------
# Buffers and Claims tabs

def _border_buffer(pg, radii_km: str) -> None:
    """Buffers tab: a buffer of ``radii_km`` around the Iran–Pakistan border, drawn and in the
    permalink."""
    _tab(pg, "Buffers")
    target = pg.locator("[data-testid=stSelectbox]", has_text="Buffer around")
    if "Iran–Pakistan border" not in target.inner_text():
        _pick(pg, target, "Iran–Pak", "Iran–Pakistan border")
    radii = pg.locator("[data-testid=stTextInput]", has_text="Radii in km").locator("input")
    radii.fill(radii_km)
    radii.press("Enter")
    _wait_tooltip(pg, f"Iran–Pakistan border: within {radii_km} km")
    _wait_query(pg, lambda q: q.get("buf") == "border" and q.get("radii") == radii_km, "buf")


def test_border_buffer_counts_only_shown_events(page, app):
    from dashboard import analysis, layers

    start, end = dt.date(2024, 1, 10), dt.date(2024, 1, 20)
    _open(page, app, f"from={start}&to={end}")
    _border_buffer(page, "45")
    rings = analysis.buffer_target("border", [45.0])
    shown = _curated(start=start, end=end)
    inside = analysis.points_within(rings, shown, layers.load_places())
    n_events = int(inside.summary["events"].iloc[0])
    n_places = int(inside.summary["places"].iloc[0])
    panel = page.locator(".st-key-tab")
    page.wait_for_function("""() => [...document.querySelectorAll(
        '.st-key-tab [data-testid=stDataFrame] table')]
        .some(t => t.innerText.includes('radius_km'))""")
    rows = page.evaluate("""() => [...document.querySelectorAll(
        '.st-key-tab [data-testid=stDataFrame] table')]
        .filter(t => t.innerText.includes('radius_km'))
        .flatMap(t => [...t.querySelectorAll('tr')].map(
            r => [...r.querySelectorAll('td, th')].map(c => c.innerText.trim())))""")
    cells = [[c for c in r if c] for r in rows]
    assert any(r[-3:] in (["45", str(n_events), str(n_places)],
                          ["45.0", str(n_events), str(n_places)]) for r in cells), cells
    panel.get_by_text("Events and places inside the largest buffer").click()
    members = inside.members
    ev_names = list(members.loc[members["kind"] == "event", "name"])
    page.wait_for_function("""(names) => [...document.querySelectorAll(
        '.st-key-tab [data-testid=stDataFrame] table')]
        .some(t => names.every(n => t.innerText.includes(n)))""", arg=ev_names)
    text = _grid_text(page, panel)
    assert "2023-12-15" not in text and "2024-01-27" not in text  # outside the dates
    _healthy(page, app)


_DRAW_ORDER_JS = """(m) => { const out = [];  // shapes in the canvas renderer's drawing order
    m.eachLayer(r => { if (!(r instanceof L.Canvas)) return;
      for (let d = r._drawFirst; d; d = d.next) { const o = d.layer.options;
        out.push([o.color, o.fillColor, o.weight, o.opacity, o.fillOpacity, o.dashArray]
                 .join('|')); } });
    return out; }"""


def test_an_update_rebuilds_only_what_changed_and_keeps_the_drawing_order(page, app):
    """The map keeps the layers an update leaves unchanged (static/dash/view.js, slots): a
    buffer drawn after the events lies under them exactly as on a freshly drawn map, and a
    table row adds its highlight without rebuilding the event markers."""
    _open(page, app)
    _border_buffer(page, "45")
    _border_buffer(page, "90")  # the buffer's group changes in place, the events' stay
    updated = map_eval(map_frame(page), _DRAW_ORDER_JS)
    assert len(set(updated)) > 3, updated
    fresh = page.context.new_page()
    fresh.goto(page.url, timeout=FIRST_RENDER_MS)  # the permalink: the same map, drawn anew
    _wait_tooltip(fresh, "Iran–Pakistan border: within 90 km")
    assert map_eval(map_frame(fresh), _DRAW_ORDER_JS) == updated
    fresh.close()

    frame = map_frame(page)
    icons = frame.evaluate("""() => { const icons = [...document.querySelectorAll('.dash-icon')];
        icons.forEach(e => e.setAttribute('data-kept', '1')); return icons.length; }""")
    grid = page.locator(".st-key-event_table").first
    select_row(page, grid, 1)
    frame.wait_for_function("""() => [...document.querySelectorAll('.dash-label')]
        .some(e => e.textContent.includes('·'))""")
    assert frame.evaluate("""() => [...document.querySelectorAll('.dash-icon[data-kept]')]
        .filter(e => e.isConnected).length""") == icons
    _healthy(page, app)


def _record_replies(pg) -> list[bytes]:
    """Every WebSocket message the server sends the page from now on (raw ForwardMsg bytes)."""
    got: list[bytes] = []
    pg.on("websocket", lambda ws: ws.on(
        "framereceived", lambda data: got.append(data) if isinstance(data, bytes) else None))
    return got


def _elements(replies: list[bytes]) -> list[tuple[str, str]]:
    """(element kind, element id or text) of each element the server (re)drew in ``replies``."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    out = []
    for data in replies:
        msg = ForwardMsg()
        msg.ParseFromString(data)
        if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
            continue
        kind = msg.delta.new_element.WhichOneof("type")
        body = getattr(msg.delta.new_element, kind)
        out.append((kind, getattr(body, "id", "") or getattr(body, "body", "")))
    return out


def _idle(pg) -> None:
    """Wait until Streamlit has finished its run and nothing more comes for a moment."""
    pg.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()
    pg.wait_for_timeout(500)
    pg.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()


def test_a_row_select_redraws_only_the_map_and_a_site_pick_leaves_the_table(page, app):
    """The page's parts rerun apart (app.py: the map, the tools, the tabs under the map): a
    table row sends back the map's part alone, not the table (the browser would redraw the
    grid) nor the tools; picking a site sends the map and the tools, not the table."""
    replies = _record_replies(page)
    frame = _open(page, app)
    grid = page.locator(".st-key-event_table").first
    grid.wait_for()
    _idle(page)
    del replies[:]
    select_row(page, grid, 1)
    frame.wait_for_function("""() => [...document.querySelectorAll('.dash-label')]
        .some(e => e.textContent.includes('·'))""", polling=100)
    _idle(page)
    kinds = _elements(replies)
    assert any(k == "markdown" and t.startswith("Showing") for k, t in kinds), kinds
    assert {k for k, _ in kinds} <= {"markdown", "component_instance"}, kinds

    del replies[:]
    to_box = page.locator("[data-testid=stSelectbox]", has_text="To")
    to_box.scroll_into_view_if_needed()
    _pick(page, to_box, "Kerman", "Kerman · place")
    _wait_tooltip(page, "Sabz Koh → Kerman")
    _idle(page)
    kinds = _elements(replies)
    assert any(k == "metric" for k, _ in kinds), kinds  # the tools: the new distance
    assert any(k == "markdown" and t.startswith("Showing") for k, t in kinds), kinds
    assert not [t for k, t in kinds if "event_table" in t], kinds

    # with the Data tab open, its map pictures are of the view, so a row redraws it too
    _tab(page, "Data")
    _idle(page)
    del replies[:]
    select_row(page, grid, 2)
    frame.wait_for_function("""() => [...document.querySelectorAll('.dash-label')]
        .some(e => e.textContent.includes('·') && !e.textContent.startsWith('Rask'))""",
                            polling=100)
    _idle(page)
    kinds = _elements(replies)
    assert any(k == "download_button" for k, _ in kinds), kinds
    assert not [t for k, t in kinds if "event_table" in t], kinds
    _healthy(page, app)


def test_bad_radii_are_one_sentence(page, app):
    from dashboard import analysis
    from dashboard.errors import DashboardError

    _open(page, app, "tab=Buffers")
    target = page.locator("[data-testid=stSelectbox]", has_text="Buffer around")
    _pick(page, target, "Iran–Pak", "Iran–Pakistan border")
    radii = page.locator("[data-testid=stTextInput]", has_text="Radii in km").locator("input")
    radii.fill("ten, -5")
    radii.press("Enter")
    with pytest.raises(DashboardError) as err:
        analysis.parse_radii_km("ten, -5")
    page.locator("[data-testid=stAlert]", has_text=str(err.value)[:40]).wait_for()
    _healthy(page, app)


def test_claims_region_checkbox_and_notes(page, app):
    from dashboard import claims

    _open(page, app, "tab=Claims")
    tip = "Sabz Koh: constraint-geolocation candidate region"
    _wait_tooltip(page, tip)
    for reading in ("straight-line reading", "road reading"):  # both readings of the 90 km
        _wait_tooltip(page, reading)
    page.get_by_text("Show the Sabz Koh candidate region on the map").click()
    _wait_tooltip(page, tip, present=False)
    page.get_by_text("Show the Sabz Koh candidate region on the map").click()
    _wait_tooltip(page, tip)
    _tab(page, "Claims checked")  # the claims table and its notes are a tab under the map
    page.get_by_text("How each value was measured").click()
    first = claims.check_claims()[0]
    page.locator("[data-testid=stExpanderDetails]", has_text=first.id).wait_for()
    _healthy(page, app)


# ---------------------------------------------------------------------------------------------
# Data tab: upload, batches, downloads

def test_upload_through_the_file_chooser_then_remove_the_batch(page, app):
    from dashboard import importers

    path = DATA / "acled_export.csv"
    expected = importers.import_bytes(path.read_bytes(), path.name).events
    assert len(expected) == 3
    pins = _pins(_curated())
    try:
        _upload_and_remove(page, app, path, expected, pins)
    finally:  # never leave events behind for the next tests, even when this one fails
        from dashboard.store import EventStore

        store = EventStore(app.store)
        for batch_id in store.batches()["batch_id"]:
            store.remove_batch(batch_id)


def test_the_upload_report_stays_after_leaving_the_data_tab(page, app):
    from dashboard.store import EventStore

    path = DATA / "acled_export.csv"
    try:
        _open(page, app, "tab=Data")
        page.locator("[data-testid=stFileUploaderDropzone] input[type=file]").set_input_files(
            str(path))
        report = page.get_by_text(f"Imported 3 events from {path.name}")
        report.wait_for(timeout=FIRST_RENDER_MS)
        _tab(page, "Measure")
        report.wait_for(state="detached")
        _tab(page, "Data")  # the uploader is empty again (Streamlit forgets it), the report not
        report.wait_for()
        _tab(page, "Measure")
        _tab(page, "Data")
        report.wait_for()
        _healthy(page, app)
    finally:
        store = EventStore(app.store)
        for batch_id in store.batches()["batch_id"]:
            store.remove_batch(batch_id)


def _upload_and_remove(page, app, path, expected, pins) -> None:
    _open(page, app, "tab=Data")
    with page.expect_file_chooser() as chooser:
        page.locator("[data-testid=stFileUploaderDropzone]").get_by_role(
            "button", name="Upload", exact=True).click()
    chooser.value.set_files(str(path))
    page.get_by_text(f"Imported {len(expected)} events from {path.name}").wait_for(
        timeout=FIRST_RENDER_MS)
    assert wait_markers(page, pins + _pins(expected)) == pins + _pins(expected)
    # ACLED types keep their own style: never lumped into "Other"
    for label in ("Explosion/remote violence (ACLED)", "Strategic development (ACLED)"):
        _sidebar(page).get_by_text(label, exact=True).wait_for()
    frame = map_frame(page)
    tips = _texts(frame, "Tooltip")
    assert any("Test village" in t for t in tips)
    # the file's × clears the upload, not the imported events
    page.locator("[data-testid=stFileChipDeleteBtn]").first.click()
    page.get_by_text(f"Imported {len(expected)} events").wait_for(state="detached")
    assert wait_markers(page, pins + _pins(expected)) == pins + _pins(expected)
    batch = page.get_by_text(path.name).first
    batch.wait_for()
    # the one Remove button a person sees (Streamlit may keep a hidden copy in the DOM)
    # (a stale copy from before a rerun may show until the rerun has finished)
    page.wait_for_function("""() => [...document.querySelectorAll('button')].filter(
        b => b.offsetParent !== null && /^\\s*Remove\\s*$/.test(b.innerText)).length === 1""")
    visible = page.locator("button:visible").filter(has_text=re.compile(r"^\s*Remove\s*$"))
    assert visible.count() == 1
    visible.click()
    page.get_by_text("Removed 3 events of that import.").wait_for()
    assert wait_markers(page, pins) == pins
    _healthy(page, app)


def _download(pg, name: str, timeout: int = 180_000) -> bytes:
    with pg.expect_download(timeout=timeout) as dl:
        pg.get_by_role("button", name=name).click()
    return Path(dl.value.path()).read_bytes()


def test_download_shown_events_geojson_and_csv(page, app):
    day = dt.date(2024, 1, 16)
    shown = _curated(start=day, end=day)
    ids = set(shown["event_id_cnty"].astype(str))
    _open(page, app, f"from={day}&to={day}&tab=Data")
    gj = json.loads(_download(page, "Download shown events (GeoJSON)"))
    assert {str(f["properties"]["event_id_cnty"]) for f in gj["features"]} == ids
    for f in gj["features"]:
        lon, lat = f["geometry"]["coordinates"]
        row = shown[shown["event_id_cnty"].astype(str) == str(f["properties"]["event_id_cnty"])]
        assert abs(lon - row.geometry.x.iloc[0]) < 1e-6 and abs(lat - row.geometry.y.iloc[0]) < 1e-6
    csv = pd.read_csv(io.BytesIO(_download(page, "Download shown events (CSV)")))
    assert set(csv["event_id_cnty"].astype(str)) == ids
    assert set(pd.to_datetime(csv["event_date"]).dt.date) == {day}
    _healthy(page, app)


def test_download_map_html(page, app):
    day = dt.date(2024, 1, 16)
    shown = _curated(start=day, end=day)
    _open(page, app, f"from={day}&to={day}&tab=Data")
    html = _download(page, "Download this map (HTML, works offline)").decode("utf-8")
    assert re.search(r"<script[^>]+src=[\"']https?:", html) is None  # works offline
    assert "L.map(" in html or "L.map (" in html
    assert len(re.findall(r'"ev":\s*1', html)) == len(shown)
    for loc in shown["location"]:
        assert loc.split(" (")[0] in html
    _healthy(page, app)


def test_download_map_svg_and_pdf(page, app):
    _open(page, app, "tab=Data")
    for fmt in ("PNG", "SVG", "PDF"):  # each label is shown whole, not cut to "Downl…"
        label = page.get_by_role("button", name=f"Download map as {fmt}").locator("p").first
        # the label's box clips with an ellipsis when the text is wider than the button
        assert label.evaluate(
            "e => e.parentElement.scrollWidth <= e.parentElement.clientWidth"), fmt
    svg = _download(page, "Download map as SVG")
    assert b"<svg" in svg[:2000] and svg.rstrip().endswith(b"</svg>")
    pdf = _download(page, "Download map as PDF")
    assert pdf.startswith(b"%PDF") and b"%%EOF" in pdf[-1024:]
    _healthy(page, app)


def test_data_tab_pictures_follow_a_pan(page, app):
    """The Data tab's pictures and HTML map are of the view the person sees: a pan made
    before the tab is opened, and one made while it is open (the map reports its view while
    the tab is open, page_map.show report_view); with another tab it reports clicks only."""
    frame = _open(page, app)
    reported = "() => window.__GLOBAL_DATA__.returned_objects.join(',')"

    def pan_and_see(dx: float, dy: float, open_tab: bool) -> tuple[float, float]:
        before = _query(page).get("c")
        _drag_map(page, frame, dx, dy)
        q = _wait_query(page, lambda q: q.get("c") not in (None, before), "a new centre")
        if open_tab:
            _tab(page, "Data")
        lat, lon = (float(v) for v in q["c"].split(","))
        page.get_by_text(f"centre {lat:.2f},{lon:.2f} · zoom {q['z']}").wait_for()
        return lat, lon

    pan_and_see(-120, 60, open_tab=True)  # the map does not report pans yet: then the tab
    frame.wait_for_function(f"() => ({reported})() === 'last_clicked,bounds,zoom'")
    lat, lon = pan_and_see(150, 80, open_tab=False)
    html = _download(page, "Download this map (HTML, works offline)").decode("utf-8")
    centre = re.search(r"center:\s*\[\s*([-\d.]+),\s*([-\d.]+)\s*\]", html)
    assert centre, html[:2000]
    assert abs(float(centre[1]) - lat) < 1e-3 and abs(float(centre[2]) - lon) < 1e-3, centre[0]
    _tab(page, "Measure")  # the map stops reporting its view
    frame.wait_for_function(f"() => ({reported})() === 'last_clicked'")
    _healthy(page, app)


# ---------------------------------------------------------------------------------------------
# controls inside the map

def test_time_step_buttons(page, app):
    frame = _open(page, app, "from=2024-01-15&to=2024-01-18")
    assert wait_markers(page, _pins(_curated(start=dt.date(2024, 1, 15),
                                             end=dt.date(2024, 1, 18))))
    label = frame.locator("[data-testid=time-label]")
    for button, day in (("time-next", 15), ("time-next", 16), ("time-next", 17),
                        ("time-prev", 16)):
        frame.locator(f"[data-testid={button}]").click()
        d = dt.date(2024, 1, day)
        ev = _curated(start=d, end=d)
        want = f"{day} Jan 2024 · {len(ev)} event{'' if len(ev) == 1 else 's'}"
        frame.wait_for_function("(w) => document.querySelector('[data-testid=time-label]')"
                                ".textContent === w", arg=want)
        assert label.inner_text() == want
        assert frame.locator(".dash-icon").count() == _pins(ev)
    frame.locator("[data-testid=time-all]").click()
    assert wait_markers(page, _pins(_curated(start=dt.date(2024, 1, 15),
                                             end=dt.date(2024, 1, 18))))
    _healthy(page, app)


def test_a_pan_after_opening_a_shared_view_stays_in_the_permalink(page, app):
    """A link with a view (c, z) opens there; after a pan, a rerun must not put the link's
    old view back into the URL (Streamlit sends the server the query it wrote, so the server
    writes the opened view again; static/dash/view.js keeps the map's own)."""
    frame = _open(page, app, "c=27.0000,62.0000&z=7")
    wait_map(page, "(m) => m.getZoom() === 7 && Math.abs(m.getCenter().lng - 62) < 0.01")
    _drag_map(page, frame, 150, 80)
    q = _wait_query(page, lambda q: q.get("c") not in (None, "27.0000,62.0000"), "the pan")
    _sidebar(page).get_by_text("Countries", exact=True).click()  # a rerun of the whole page
    _wait_query(page, lambda q: "layers" in q, "the rerun's permalink")
    page.wait_for_timeout(1000)  # the browser's check runs every 0.3 s
    assert _query(page)["c"] == q["c"] and _query(page)["z"] == "7", _query(page)
    _healthy(page, app)


def test_zoom_buttons_and_permalink_view(page, app):
    frame = _open(page, app)
    zoom = map_eval(frame, "(m) => m.getZoom()")
    frame.locator(".leaflet-control-zoom-in").click()
    wait_map(page, "(m, z) => m.getZoom() === z", zoom + 1)
    q = _wait_query(page, lambda q: q.get("z") == str(zoom + 1), f"z={zoom + 1}")
    for target in (zoom, zoom - 1):  # one step at a time: a click during the animation is lost
        for _ in range(3):  # a click that lands while the map redraws is lost: click again
            if map_eval(frame, "(m) => m.getZoom()") > target:
                frame.locator(".leaflet-control-zoom-out").click()
            try:
                wait_map(page, "(m, z) => m.getZoom() === z", target, timeout=8000)
                break
            except PlaywrightTimeout:
                continue
        wait_map(page, "(m, z) => m.getZoom() === z", target)
    q = _wait_query(page, lambda q: q.get("z") == str(zoom - 1), f"z={zoom - 1}")
    _drag_map(page, frame, 120, 60)
    q = _wait_query(page, lambda q, c=q["c"]: q.get("c") != c, "a new centre")
    lat, lon = (float(v) for v in q["c"].split(","))
    # Streamlit writes its own query string on the next rerun: the view must survive it
    _sidebar(page).get_by_text("Countries", exact=True).click()
    # the map puts its view back into the URL within a moment of the rerun rewriting it
    q2 = _wait_query(page, lambda q: q.get("layers", "").count(",") == 4
                     and q.get("z") == str(zoom - 1), "a rerun that keeps the map's view")
    assert q2.get("z") == str(zoom - 1) and q2.get("c") == q["c"], q2
    page.goto(page.url, timeout=FIRST_RENDER_MS)
    frame = map_frame(page)
    wait_map(page, "(m, a) => m.getZoom() === a[0] && Math.abs(m.getCenter().lat - a[1]) < 0.01"
                   " && Math.abs(m.getCenter().lng - a[2]) < 0.01", [zoom - 1, lat, lon])
    _healthy(page, app)


def test_layer_control_hides_an_overlay(page, app):
    everything = _pins(_curated())
    frame = _open(page, app)
    assert wait_markers(page, everything) == everything
    frame.locator(".leaflet-control-layers").hover()
    n = len(_curated(categories=("strike",)))
    item = frame.locator(".leaflet-control-layers-overlays label",
                         has_text=f"State strike ({n})")
    item.locator("input").click()
    rest = _pins(_curated(categories=tuple(t for t in _types() if t != "strike")))
    assert wait_markers(page, rest) == rest
    item.locator("input").click()
    assert wait_markers(page, everything) == everything
    frame.locator(".leaflet-control-layers-overlays label", has_text="Measurement") \
        .locator("input").click()
    wait_map(page, """(m) => { let n = 0; m.eachLayer(l => {
        if (l instanceof L.Path && l.options.color === '#F0E442') n++; }); return n === 0; }""")
    _healthy(page, app)


def test_legend_folds_and_unfolds(page, app):
    frame = _open(page, app)
    details = frame.locator("[data-testid=map-legend] details")
    assert details.get_attribute("open") is not None
    frame.locator("[data-testid=map-legend] summary").click()
    frame.wait_for_function("() => !document.querySelector('[data-testid=map-legend] details')"
                            ".open")
    assert not frame.locator("[data-testid=map-legend]").get_by_text("State strike").is_visible()
    frame.locator("[data-testid=map-legend] summary").click()
    frame.locator("[data-testid=map-legend]").get_by_text("State strike").wait_for()
    _healthy(page, app)


def test_clicking_a_marker_opens_its_popup(page, app):
    ev = _curated()
    row = ev[ev["location"].str.startswith("Kerman")].iloc[0]
    frame = _open(page, app)
    found = map_eval(frame, """(m, id) => { let ok = false; m.eachLayer(l => {
        if (l.feature && l.feature.properties && l.feature.properties.id === id && l._icon) {
          l._icon.setAttribute('data-test-event', id); ok = true; } }); return ok; }""",
                     str(row["event_id_cnty"]))
    assert found
    frame.locator(f"[data-test-event='{row['event_id_cnty']}']").click()
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Kerman" in popup.inner_text()
    assert str(row["event_date"])[:4] in popup.inner_text() or "2024" in popup.inner_text()
    _healthy(page, app)


def test_sorted_table_row_select_highlights_that_row(page, app):
    ev = _curated()
    last = ev.sort_values("event_date").iloc[-1]
    frame = _open(page, app)
    page.get_by_role("tab", name="Events table").scroll_into_view_if_needed()
    grid = page.locator("[data-testid=stDataFrame]").filter(
        has=page.locator("table", has_text="Border distance")).first
    click_grid(page, grid, 80, 18)  # the Date header: sort by date, ascending
    page.wait_for_timeout(300)
    click_grid(page, grid, 80, 18)  # and descending: the last event comes first
    _shot(page, "table-sorted")
    page.wait_for_function("""(d) => { const t = [...document.querySelectorAll(
        '[data-testid=stDataFrame] table')].find(t => t.innerText.includes('Border distance'));
        const r = t && t.querySelectorAll('tbody tr')[0];
        return r && r.innerText.includes(d); }""",
                           arg=str(pd.to_datetime(last["event_date"]).date()))
    first_row = page.evaluate("""() => { const t = [...document.querySelectorAll(
        '[data-testid=stDataFrame] table')].find(t => t.innerText.includes('Border distance'));
        return t.querySelectorAll('tbody tr')[0].innerText; }""")
    assert str(pd.to_datetime(last["event_date"]).date()) in first_row, first_row
    select_row(page, grid, 1)
    want = f"{last['location']} · {pd.to_datetime(last['event_date']).date()}"
    frame.wait_for_function("""(w) => [...document.querySelectorAll('.dash-label')]
        .some(e => e.textContent.includes(w))""", arg=want)
    _healthy(page, app)
