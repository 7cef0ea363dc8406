"""Streamlit page: the Iran–Pakistan border crisis of January 2024 on a map (``make run``).

Thin on purpose: widgets → one event filter (filters.EventFilter) → core calls (layers, events,
analysis, store) → layer specs (page_layers/mapview) → streamlit-folium. The base map never
changes; everything else is sent as feature groups, so toggles, dates and measurements do not
reload the map. Play runs in the browser (static/dash/timeplay.js), never as server reruns.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

import numpy as np
import streamlit as st

from dashboard import (
    mapview,
    page_data,
    page_events,
    page_io,
    page_layers,
    page_map,
    page_state,
    page_tools,
    settings,
)
from dashboard.errors import DashboardError
from dashboard.escape import md_escape

TITLE = "Iran–Pakistan border crisis, January 2024"
MAP_HEIGHT = 620
BASEMAP_LABELS = dict(zip(page_state.BASEMAPS, page_layers.TILE_CHOICES, strict=True))
_FILTER_KEYS = {"f_event_types": "event_types", "f_sub_event_types": "sub_event_types",
                "f_countries": "countries"}
#: Set once the browser has drawn this session's map (its first report, static/dash/view.js).
#: Until then a run draws the map alone: Streamlit's widgets, rendered by the browser, would
#: otherwise hold the map back by 1.5 s (measured with the curated events).
MAP_READY = "_map_ready"
CONTROLS_ANYWAY_S = 8.0  # seconds after which the controls come even without that report
#: Keys of the page's three parts (fragments): the map, the tools beside it, the tabs under it.
MAP_PART, TOOLS, BELOW = "map", "tools", "below"
_SHOWN = "_shown"  # what the map part showed last (events, layer specs, table), for the others
_MAP_REPORTS = "_map_reports_view"  # the map was last drawn reporting its view (page_map.show)


def _init_state(types: list[str], d0: dt.date, d1: dt.date) -> None:
    """First run of a session: widget values from the URL (permalink) or defaults."""
    ss = st.session_state
    if not ss.get("_initialised"):
        vs = page_state.from_query(st.query_params.to_dict(), event_types=types,
                                   min_date=d0, max_date=d1)
        for key in page_state.LAYERS:
            ss[f"layer_{key}"] = key in vs.layers
        ss["basemap"] = BASEMAP_LABELS[vs.basemap]
        for t in types:
            ss[f"type_{t}"] = vs.types is None or t in vs.types
        ss["dates"] = (vs.start or d0, vs.end or d1)
        for key, attr in _FILTER_KEYS.items():
            ss[key] = list(getattr(vs, attr))
        ss["f_actor"] = vs.actor
        ss["f_min_fat"] = int(vs.min_fatalities)
        ss["_initial"] = {"a": vs.site_a, "b": vs.site_b, "matrix": vs.matrix,
                          "buf": vs.buffer_target, "radii": vs.radii_km, "tab": vs.tab,
                          "below": vs.below}
        view = page_events.border_view()
        ss["view"] = (vs.center or view[0], vs.zoom or view[1])
        ss["_initialised"] = True
    for t in types:  # types that appear later (uploads) start switched on
        ss.setdefault(f"type_{t}", True)
    lo, hi = ss["dates"]
    ss["dates"] = (min(max(lo, d0), d1), min(max(hi, d0), d1))


def _step(days: int, d0: dt.date, d1: dt.date) -> None:
    """Move the end of the date range by ``days`` (a one-day window moves as a whole)."""
    lo, hi = st.session_state["dates"]
    if lo == hi:
        lo = hi = min(max(lo + dt.timedelta(days=days), d0), d1)
    else:
        hi = min(max(hi + dt.timedelta(days=days), lo), d1)
    st.session_state["dates"] = (lo, hi)


def _fit(kind: str, events: object) -> None:
    ss = st.session_state
    ss["view"] = page_events.border_view() if kind == "border" else page_events.events_view(events)
    ss["_view_set"] = True


def _sidebar(types: list[str], d0: dt.date, d1: dt.date, events: object) -> None:
    sb = st.sidebar
    sb.header("Layers")
    for key, label in page_state.LAYERS.items():
        sb.checkbox(label, key=f"layer_{key}")
    sb.selectbox("Background", list(BASEMAP_LABELS.values()), key="basemap",
                 help="Online backgrounds load tiles from the internet; the vector land "
                      "basemap is served by this app and works offline.")
    sb.header("Event types")
    for t in types:  # labels can come from uploaded data: plain text, never Markdown
        sb.checkbox(md_escape(page_layers.event_style(t, types).label), key=f"type_{t}")
    ss = st.session_state
    # Open at first when a permalink brings filters; afterwards the person opens and closes
    # it (a changing ``expanded`` argument would fold it while a filter is being edited).
    opened = ss.setdefault("_filters_open", any(
        ss.get(k) for k in (*_FILTER_KEYS, "f_actor", "f_min_fat")))
    with sb.expander("More filters: ACLED type, country, actor, fatalities", expanded=opened):
        st.multiselect("ACLED event type", page_events.choices(events, "event_type"),
                       key="f_event_types", placeholder="Any")
        st.multiselect("ACLED sub-event type", page_events.choices(events, "sub_event_type"),
                       key="f_sub_event_types", placeholder="Any")
        st.multiselect("Country", page_events.choices(events, "country"), key="f_countries",
                       placeholder="Any")
        st.text_input("Actor contains", key="f_actor", max_chars=100,
                      help="Matches actor 1, actor 2 and associated actors, ignoring case.")
        st.number_input("Minimum fatalities", min_value=0, max_value=1_000_000, step=1,
                        key="f_min_fat", help="0 keeps events with unknown fatalities too.")
    sb.header("Dates")
    sb.slider("Date range", min_value=d0, max_value=d1, key="dates", format="D MMM YYYY")
    c1, c2 = sb.columns(2)
    c1.button("◀ Day", key="step_back", on_click=_step, args=(-1, d0, d1), width="stretch",
              help="End date one day earlier")
    c2.button("Day ▶", key="step_fwd", on_click=_step, args=(1, d0, d1), width="stretch",
              help="End date one day later")
    sb.caption("To animate, use Play on the map: it walks a window of days through the "
               "events in this range.")
    sb.header("View")
    c1, c2 = sb.columns(2)
    c1.button("Fit border", key="fit_border", on_click=_fit, args=("border", events),
              width="stretch")
    c2.button("Fit all events", key="fit_events", on_click=_fit, args=("events", events),
              width="stretch")


def _event_filter(types: list[str]) -> page_events.filters.EventFilter:
    ss = st.session_state
    return page_events.event_filter(
        ss["dates"][0], ss["dates"][1], [t for t in types if ss.get(f"type_{t}")],
        ss.get("f_event_types") or [], ss.get("f_sub_event_types") or [],
        ss.get("f_countries") or [], ss.get("f_actor") or "", ss.get("f_min_fat") or 0)


def _map_specs(content: page_events.MapContent, types: list[str], results: list[dict],
               above: list[dict]) -> list[dict]:
    """Dynamic layer specs, bottom to top: online tiles, results (buffers, regions), events
    (markers or hexagons), legends, then the measured path and the selected event. The static
    layers live in the base map (page_map) and are only switched on and off."""
    ss = st.session_state
    specs = []
    tiles = page_layers.tiles_group(ss["basemap"])
    if tiles:
        specs.append(tiles)
    specs += results
    specs += content.specs
    specs.append(page_layers.event_legend(types, measured=bool(above),
                                          hexagons=content.legend))
    return specs + above


def _map_view(big: bool, moved: bool = False) -> tuple[tuple[float, float, float, float], int]:
    """Bounds (min_lon, min_lat, max_lon, max_lat) and zoom the person sees: the map's own
    report when it sends one (many events), else the view from the URL or the page; the
    page's view when this run moves the map (``moved``: a selected table row). Views the
    page sets are sized like the map's last report (page_data.map_size_px), so the map's
    own report that follows gives the same content and nothing is drawn twice."""
    reported = _reported_view()
    if reported is not None:  # the map's real size in pixels, for views the page sets
        page_data.map_size_px(mapview.view_size_px(*reported))
    if big and not moved and reported is not None:
        return reported
    width_px, height_px = page_data.map_size_px() or (page_events.MAP_WIDTH_PX, MAP_HEIGHT)
    center, zoom = st.session_state["view"] if moved else _url_view()
    view = mapview.view_bounds(center, zoom, width_px=width_px, height_px=height_px), zoom
    if big and moved:  # the map will not report this view (page_map.show quiet): keep it
        st.session_state["_page_view"] = (view, _value_token())
    return view


def _value_token() -> str:
    """The map component's last value, as text (to tell whether it reported since)."""
    return repr(st.session_state.get(page_tools.MAP_KEY))


def _reported_view() -> tuple[tuple[float, float, float, float], int] | None:
    """(bounds, zoom) the map component reported last (with many events), or None. A view
    the page moved the map to counts as reported until the map reports anything else."""
    page_view = st.session_state.get("_page_view")
    if page_view is not None and page_view[1] == _value_token():
        return page_view[0]
    value = st.session_state.get(page_tools.MAP_KEY) or {}
    b, zoom = value.get("bounds") or {}, value.get("zoom")
    try:
        sw, ne = b["_southWest"], b["_northEast"]
        bounds = (float(sw["lng"]), float(sw["lat"]), float(ne["lng"]), float(ne["lat"]))
        if zoom is not None and all(map(np.isfinite, bounds)):
            return bounds, int(zoom)
    except (KeyError, TypeError, ValueError):
        pass
    return None


def _static_on() -> list[str]:
    ss = st.session_state
    return page_map.visible_static({k for k in page_state.LAYERS if ss.get(f"layer_{k}")},
                                   discs=bool(ss.get("layer_discs")))


def _current_state(types: list[str]) -> page_state.ViewState:
    ss = st.session_state
    sites = page_tools.site_options()
    targets = page_tools.buffer_targets()
    by_label = {v: k for k, v in BASEMAP_LABELS.items()}
    try:
        radii = page_state.parse_radii(ss.get("buffer_radii", ""))
    except ValueError:
        radii = ()
    listed = ss.get("measure_mode") != page_tools.CLICK_MODE
    center, zoom = _browser_view()
    return page_state.ViewState(
        layers=tuple(k for k in page_state.LAYERS if ss.get(f"layer_{k}")),
        basemap=by_label.get(ss.get("basemap"), "vector"),
        types=tuple(t for t in types if ss.get(f"type_{t}")),
        start=ss["dates"][0], end=ss["dates"][1],
        site_a=_site_param(sites, ss.get("measure_a")) if listed else "",
        site_b=_site_param(sites, ss.get("measure_b")) if listed else "",
        matrix=tuple(sites[m] for m in ss.get("matrix_sites", []) if m in sites),
        buffer_target=targets.get(ss.get("buffer_target") or "", ""),
        radii_km=radii,
        event_types=tuple(ss.get("f_event_types") or ()),
        sub_event_types=tuple(ss.get("f_sub_event_types") or ()),
        countries=tuple(ss.get("f_countries") or ()),
        actor=(ss.get("f_actor") or "").strip(), min_fatalities=int(ss.get("f_min_fat") or 0),
        tab=ss.get("tab") if ss.get("tab") in page_state.TABS else page_state.TABS[0],
        below=ss.get("below") if ss.get("below") in page_state.BELOW else page_state.BELOW[0],
        center=center, zoom=zoom,
    )


def _site_param(sites: dict[str, str], value: object) -> str:
    """A picked site's id, or the text the person typed (e.g. "26.37,63.49") as it is."""
    text = str(value or "").strip()
    return sites.get(text, text)


def _browser_view() -> tuple[tuple[float, float] | None, int | None]:
    """Centre and zoom for the permalink: the browser writes them into the URL as the map
    moves (static/dash/timeplay.js), unless the page itself just moved the map."""
    ss = st.session_state
    if ss.pop("_view_set", False):
        return ss["view"]
    vs = page_state.from_query(st.query_params.to_dict())
    return vs.center, vs.zoom


def _url_view() -> tuple[tuple[float, float], int]:
    """Centre (lat, lon) and zoom of the URL the page was opened with, else the page's view.
    (The browser writes the map's moves into its URL, but once the page has written the
    query string Streamlit sends the page's own copy back with each run, not the URL.)"""
    vs = page_state.from_query(st.query_params.to_dict())
    center, zoom = st.session_state["view"]
    return (vs.center or center, vs.zoom or zoom)


def _picture_view() -> tuple[tuple[tuple[float, float], int],
                             tuple[float, float, float, float] | None]:
    """((lat, lon), zoom) the person sees and the box the map shows (min_lon, min_lat,
    max_lon, max_lat, degrees, on one world: mapview.world_box), for the Data tab's pictures
    and HTML map: from the map's last report of its view (it reports while the Data tab is
    open, and always with many events); without one, :func:`_url_view` and no box."""
    reported = _reported_view()
    if reported is None:
        return _url_view(), None
    reported_box, zoom = reported
    box = mapview.world_box(reported_box)
    west, south, east, north = box or reported_box
    center, _ = mapview.bounds_view(south, west, north, east)
    return (center, zoom), box


def _on_map_value() -> None:
    """The map component sent a value (a click, its view, or its first drawing): the map
    part reruns, with the tools when the click is a point to measure, and with the table
    when there are many events (it lists the events in the map's view). With few events and
    the Data tab open, a view or a click that measures nothing reruns the tools alone (the
    tab's pictures are of the view). Its first drawing reruns the whole page (the controls
    come after the map, see _page)."""
    ss = st.session_state
    ready = ss.get(MAP_READY)
    ss[MAP_READY] = True
    measured = page_tools.on_map_change()
    if not ready:
        return
    if not measured and not (ss.get(_SHOWN) or {}).get("big") and _data_tab_open():
        # a pan or zoom (or a click that measures nothing) with few events changes nothing
        # on the map; the Data tab's pictures follow the view
        st.rerun(scope=[TOOLS])
    else:
        st.rerun(scope=_with_view_followers([MAP_PART] + ([TOOLS] if measured else [])))


def _data_tab_open() -> bool:
    """The tool column shows the Data tab (once the page has its controls; before the tabs
    are first drawn, the tab the page was opened with)."""
    ss = st.session_state
    tab = ss.get("tab") or (ss.get("_initial") or {}).get("tab")
    return bool(ss.get(MAP_READY)) and tab == page_state.TABS[3]


def _on_tool_tab() -> None:
    """Another tool tab was opened: rerun the tools, and the map too when it must start or
    stop reporting its view (the Data tab's pictures follow the view)."""
    ss = st.session_state
    if _data_tab_open() != bool(ss.get(_MAP_REPORTS)):
        st.rerun(scope=[MAP_PART, TOOLS])


def _with_view_followers(scope: list[str]) -> list[str]:
    """``scope`` plus the parts that follow the map's view: the table with many events (it
    lists the events in view) and the Data tab when open (its pictures are of the view)."""
    ss = st.session_state
    if ss.get("tab") == page_state.TABS[3] and TOOLS not in scope:
        scope = [*scope, TOOLS]
    if (ss.get(_SHOWN) or {}).get("big"):
        scope = [*scope, BELOW]
    return scope


def _page() -> None:
    """Full run: data, session state and the sidebar; then the page's three parts, each a
    fragment that reruns on its own: the map, the tools beside it, the tabs under them. A
    control reruns the parts it changes and no others (a table row: the map alone; a site or
    a buffer: the map and the tools; the sidebar: the whole page). A new session's first run
    draws the map only; the controls follow when the browser has drawn it (its first report
    reruns the page)."""
    ss = st.session_state
    version = page_data.store_version()
    events = page_events.all_events(version)
    types = page_events.event_types(events)
    d0, d1 = page_events.date_bounds(events)
    _init_state(types, d0, d1)
    if ss.get(MAP_READY):
        _sidebar(types, d0, d1, events)
        ss["_sidebar_data"] = version
    map_col, tool_col = st.columns([5, 2], gap="medium")
    with map_col:
        _map_part()
    with tool_col:
        _tools_part()
    _below_part()
    if not ss.get(MAP_READY):
        st.sidebar.caption("Loading the controls…")  # after the map: see main()
        _controls_anyway()


@st.fragment(run_every=CONTROLS_ANYWAY_S)
def _controls_anyway() -> None:
    """Safety net of the map-first start: if the map never reports its first drawing (a
    script blocked, an error in the browser), the controls come anyway. The timer ticks
    only while the controls are missing (a full run with them does not call this)."""
    ss = st.session_state
    started = ss.setdefault("_map_first_at", time.monotonic())  # the page's own run
    # 0.9: the browser's timer starts a little after this run did, so its first tick may
    # come slightly under CONTROLS_ANYWAY_S later; a full wait more is not wanted.
    if not ss.get(MAP_READY) and time.monotonic() - started >= CONTROLS_ANYWAY_S * 0.9:
        ss[MAP_READY] = True
        st.rerun(scope="app")


def _store_changed(version: str) -> None:
    """When the store changed since the sidebar was drawn (an upload, a removed batch, a CLI
    import) or the map has just reported its first drawing, redraw the whole page so the
    type list and date range follow. At most twice in a row: a store that changes on every
    look (a writer in a loop) must not keep the page from ever drawing its parts."""
    ss = st.session_state
    if ss.get(MAP_READY) and ss.get("_sidebar_data") != version:
        tries = ss.get("_whole_page_tries", 0)
        if tries < 2:
            ss["_whole_page_tries"] = tries + 1
            st.rerun(scope="app")
        return  # given up until a run sees the store as the sidebar did
    ss["_whole_page_tries"] = 0


@st.fragment(key=MAP_PART)
def _map_part() -> None:
    """The "Showing …" line and the map. Reruns alone for a table row or a map report, with
    the tools for a tool's change (_on_tool, _on_map_value), and with the whole page for the
    sidebar's controls. The tools' layers (measured path, buffers, region) come from their
    kept state, whether their tab is open or not."""
    ss = st.session_state
    version = page_data.store_version()  # one version for the whole run (a CLI may write)
    _store_changed(version)
    events = page_events.all_events(version)
    types = page_events.event_types(events)
    types_on = [t for t in types if ss.get(f"type_{t}")]
    view_events = page_events.filtered(events, version, _event_filter(types))
    big = len(view_events) > settings.PAGE_AGGREGATE_ABOVE
    moved = page_events.apply_selection(view_events)  # a table row centres the map on it
    bounds, zoom = _map_view(big, moved)
    content = page_events.map_content(view_events, types_on, types,
                                      discs=bool(ss.get("layer_discs")), bounds=bounds,
                                      zoom=zoom, version=version)
    initial = ss["_initial"]
    results = page_tools.buffer_panel(view_events, page_data.layer("places"), initial,
                                      draw=False) + page_tools.claims_panel(draw=False)
    measured = page_tools.measure_panel(initial, draw=False)
    table = None  # a new session's first run draws the map alone: no table yet
    if ss.get(MAP_READY):
        table = page_events.session_event_table(content.table_events, types)
        measured += page_events.selected_event(table, view_events)
    specs = _map_specs(content, types, results, measured)
    # what the tools and the tabs under the map show (drawn after this part, or alone)
    ss[_SHOWN] = {"view_events": view_events, "lonlat": content.lonlat, "specs": specs,
                  "types": types, "table": table, "big": big}
    _show_map(view_events, events, content, specs, big, quiet=moved)
    if ss.get(MAP_READY):  # before, the URL stays as it came (the tools are not drawn yet)
        _write_permalink(types)


def _on_tool() -> None:
    """A tool's value changed (a site, the mode, a buffer, the region switch): redraw the
    map with the tools (the tabs under the map stay as they are)."""
    st.rerun(scope=[MAP_PART, TOOLS])


@st.fragment(key=TOOLS)
def _tools_part() -> None:
    """The tool tabs (Measure, Buffers, Claims, Data). Only the open tab is drawn (a rerun
    sends and renders a quarter of the tools); the closed ones keep their values for the
    map. Switching tabs, the distance matrix, downloads and uploads rerun this part alone
    (an import then redraws the whole page)."""
    ss = st.session_state
    shown = ss.get(_SHOWN)
    if not ss.get(MAP_READY) or shown is None:
        st.caption("Loading the tools…")
        return
    _store_changed(page_data.store_version())
    view_events = shown["view_events"]
    tabs = st.tabs(list(page_state.TABS), key="tab", on_change=_on_tool_tab,
                   default=ss["_initial"].get("tab") or page_state.TABS[0])
    _keep_closed_tools(tabs)
    if tabs[0].open:
        with tabs[0]:
            page_tools.measure_panel(ss["_initial"], on_change=_on_tool)
    if tabs[1].open:
        with tabs[1]:
            # many events: the coordinates the map part took from the cache
            page_tools.buffer_panel(view_events, page_data.layer("places"), ss["_initial"],
                                    lonlat=shown["lonlat"], on_change=_on_tool)
    if tabs[2].open:
        with tabs[2]:
            page_tools.claims_panel(on_change=_on_tool)
    if tabs[3].open:
        with tabs[3]:
            page_io.upload_section()
            static_on, specs = _static_on(), shown["specs"]
            view, box = _picture_view()
            # Built only when "Download this map" is clicked: unpickling the static layers'
            # specs on every rerun cost ~0.1 s.
            page_io.download_section(view_events, lambda: [
                page_map.static_spec(k) for k in static_on] + specs, view,
                picture={"start": ss["dates"][0], "end": ss["dates"][1],
                         "discs": ss["layer_discs"],
                         "layers": {k for k in ("basemap", "countries", "provinces", "border",
                                                "places") if ss.get(f"layer_{k}")}},
                bounds=box)
            page_io.batches_section()
    elif ss.get("upload_report"):
        ss[page_io.UPLOAD_REPORT_KEPT] = True
    _write_permalink(shown["types"])


def _write_permalink(types: list[str]) -> None:
    st.query_params.from_dict(page_state.to_query(_current_state(types), all_types=types))


# The value widgets of each tool tab (buttons, the uploader and downloads hold no value).
_TOOL_KEYS = (("measure_mode", "measure_a", "measure_b", "matrix_sites"),
              ("buffer_target", "buffer_radii"), ("show_region",), ())


def _keep_closed_tools(tabs: Sequence[object]) -> None:
    """Streamlit forgets a widget's value when a run does not draw it; the closed tabs' values
    are written back as plain state so they still shape the map and come back when their tab
    is opened again."""
    ss = st.session_state
    for tab, keys in zip(tabs, _TOOL_KEYS, strict=True):
        if not tab.open:  # type: ignore[attr-defined]
            for key in keys:
                if key in ss:
                    ss[key] = ss[key]


def _show_map(view_events: object, events: object, content: page_events.MapContent,
              specs: list[dict], big: bool, quiet: bool = False) -> None:
    """The "Showing …" line, the content note and the map, in the current container.
    ``quiet``: this run moved the map and drew the content of its new view (many events)."""
    ss = st.session_state
    head = st.container()  # above the map, filled after it (see main())
    center, zoom = ss["view"]
    # Clicks are always returned: streamlit-folium reads returned_objects only when the map
    # is first drawn, so they must be on from the start (see page_map.show). With many
    # events the map also reports its view, so hexagons follow pans and zooms; with the
    # Data tab open it does too, so the tab's pictures are of the view the person sees.
    report = _data_tab_open()
    ss[_MAP_REPORTS] = report
    page_map.show(specs, _static_on(), key=page_tools.MAP_KEY, center=center, zoom=zoom,
                  height=MAP_HEIGHT, on_change=_on_map_value, track_view=big, quiet=quiet,
                  report_view=report)
    with head:
        st.caption(page_events.summary_line(view_events, events, ss["dates"]))
        if content.note:
            st.caption(md_escape(content.note))


def _on_row() -> None:
    """A table row was selected: rerun the map alone (the table shows the selection already;
    drawing it and the tools again cost the browser ~0.1 s), and the parts that follow the
    map's view (the table with many events, the open Data tab)."""
    st.rerun(scope=_with_view_followers([MAP_PART]))


@st.fragment(key=BELOW)
def _below_part() -> None:
    """Tabs under the map: the event table (select a row to find it on the map), the events
    per day, the claims table. Only the open tab is drawn, so a rerun redraws one of them;
    leaving the table clears its row selection. Drawn once the page has its controls."""
    ss = st.session_state
    shown = ss.get(_SHOWN)
    if not ss.get(MAP_READY) or shown is None:
        return
    table, types = shown["table"], shown["types"]
    tabs = st.tabs(list(page_state.BELOW), key="below", on_change="rerun",
                   default=ss["_initial"].get("below") or page_state.BELOW[0])
    if tabs[0].open:
        with tabs[0]:
            page_events.events_table(table, on_select=_on_row)
    if tabs[1].open:
        with tabs[1]:
            page_events.timeline_section(table, types)
    if tabs[2].open:
        with tabs[2]:
            page_tools.claims_table()
    _write_permalink(types)


def main() -> None:
    """Render the page; user errors become one sentence, never a traceback."""
    st.set_page_config(page_title=TITLE, layout="wide", initial_sidebar_state="expanded")
    # The title, the captions and the "Loading…" notes are written after the map into places
    # kept for them above it: the browser renders each element as it arrives, and the map's
    # frame starts loading only once its element is rendered (a new session's map came
    # 0.07 s earlier, medians of 10 interleaved sessions; the page looks the same).
    top = st.container()
    try:
        _page()
    except DashboardError as err:
        st.error(md_escape(err))
    finally:  # also above Streamlit's box for an unexpected error
        with top:
            st.title(TITLE)
            st.caption("Strikes, retaliation and diplomacy around the Iran–Pakistan border. "
                       "Click a symbol for details and sources; every distance is an exact "
                       "WGS84 geodesic.")


main()
