"""Page logic with Streamlit's AppTest (no browser): dashboard/app.py and its sections.

Every test runs the page on its own empty event store ($DASHBOARD_STORE in a temp folder).
Expected counts come from the curated data through the shared filter, never hard-coded.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import analysis, events, filters, sites
from dashboard.escape import md_escape
from dashboard.store import EventStore

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
CURATED = events.load_curated_events()
MAP_READY = "_map_ready"  # app.MAP_READY (importing the app module would run the page)


@pytest.fixture(autouse=True)
def _own_store(tmp_path, monkeypatch):
    monkeypatch.setenv("DASHBOARD_STORE", str(tmp_path / "events.gpkg"))


def _run(query: dict[str, str] | None = None, *, drawn: bool = True) -> AppTest:
    """The page after its first run. ``drawn``: as in a browser, whose map reports its first
    drawing and so brings the controls (AppTest runs no component frontend)."""
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if drawn:
        at.session_state[MAP_READY] = True
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _summary(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Showing "))


def _kept(**kw) -> pd.DataFrame:
    return filters.apply(CURATED, filters.EventFilter(**kw))


def _store_event(event_id: str, **fields) -> gpd.GeoDataFrame:
    row = {"event_id_cnty": event_id, "event_date": "2024-01-20", "country": "Pakistan",
           "location": "Test place", "event_type": "Protests", "sub_event_type":
           "Peaceful protest", "latitude": 26.9, "longitude": 64.1, "fatalities": None,
           **fields}
    df = pd.DataFrame([row])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["longitude"], df["latitude"]),
                           crs="EPSG:4326")
    return events.normalise(gdf)


def test_page_renders_with_all_curated_events():
    at = _run()
    assert at.title[0].value == "Iran–Pakistan border crisis, January 2024"
    assert _summary(at).startswith(f"Showing {len(CURATED)} of {len(CURATED)} events")
    assert not at.error


def test_a_new_session_draws_the_map_first_and_the_controls_when_it_is_drawn():
    query = {"types": "strike", "a": "panjgur", "b": "saravan", "tab": "Buffers"}
    at = _run(query, drawn=False)
    kept = _kept(categories=("strike",))
    assert _summary(at).startswith(f"Showing {len(kept)} of {len(CURATED)} events")
    captions = [c.value for c in at.caption] + [c.value for c in at.sidebar.caption]
    assert "Loading the controls…" in captions and "Loading the tools…" in captions
    assert not at.sidebar.checkbox and not at.tabs and not at.metric
    assert {k: at.query_params[k] for k in query} == query
    at.session_state[MAP_READY] = True  # what the map's first report does in a browser
    at.run()
    assert not at.exception
    assert _summary(at).startswith(f"Showing {len(kept)} of {len(CURATED)} events")
    assert [c.label for c in at.sidebar.checkbox if c.key.startswith("type_") and c.value] \
        == [next(c.label for c in at.sidebar.checkbox if c.key == "type_strike")]
    assert "Loading the controls…" not in [c.value for c in at.sidebar.caption]
    assert at.tabs and at.query_params["a"] == "panjgur" and at.query_params["tab"] == "Buffers"


def test_the_controls_come_anyway_when_the_map_never_reports():
    import time

    at = _run(drawn=False)
    assert not at.sidebar.checkbox
    at.run()  # a run soon after: still waiting for the map
    assert not at.sidebar.checkbox
    at.session_state["_map_first_at"] = time.monotonic() - 60  # the map never reported
    at.run()
    assert not at.exception
    assert at.sidebar.checkbox and at.tabs and at.session_state[MAP_READY]


def test_default_measurement_is_the_core_value():
    at = _run()
    metric = next(m for m in at.metric if m.label == "Distance")
    core = sites.measure_distance(sites.resolve_site("Sabz Koh"), sites.resolve_site("Panjgur"))
    assert metric.value == f"{core.distance_m / 1000:,.1f} km"


def test_switching_an_event_type_off_hides_its_events():
    at = _run()
    boxes = [c for c in at.sidebar.checkbox if c.key and c.key.startswith("type_")]
    diplomatic = next(c for c in boxes if "Diplomatic" in c.label)
    diplomatic.uncheck().run()
    rest = _kept(categories=tuple(c for c in events.CATEGORIES if c != "diplomatic"))
    assert _summary(at).startswith(f"Showing {len(rest)} of {len(CURATED)} events")
    assert "diplomatic" not in str(at.query_params["types"]).casefold()


def test_date_filter_narrows_the_table():
    at = _run()
    lo, hi = dt.date(2024, 1, 16), dt.date(2024, 1, 18)
    at.sidebar.slider(key="dates").set_value((lo, hi)).run()
    assert _summary(at).startswith(f"Showing {len(_kept(start=lo, end=hi))} of")
    table = at.dataframe(key="event_table").value
    assert set(table["Date"].astype(str).str[:10]) <= {"2024-01-16", "2024-01-17", "2024-01-18"}


def test_acled_country_actor_and_fatality_filters_use_the_shared_filter():
    at = _run()
    at.multiselect(key="f_countries").set_value(["Iran"]).run()
    assert _summary(at).startswith(f"Showing {len(_kept(countries=('Iran',)))} of")
    at.number_input(key="f_min_fat").set_value(5).run()
    both = _kept(countries=("Iran",), min_fatalities=5)
    assert _summary(at).startswith(f"Showing {len(both)} of")
    assert at.query_params["country"] == "Iran" and at.query_params["minfat"] == "5"
    at.multiselect(key="f_countries").set_value([]).run()
    at.number_input(key="f_min_fat").set_value(0).run()
    actor = str(CURATED["actor1"].dropna().iloc[0])[:6]
    at.text_input(key="f_actor").set_value(actor).run()
    assert _summary(at).startswith(f"Showing {len(_kept(actor=actor))} of")
    etype = "Strategic developments"
    at.text_input(key="f_actor").set_value("").run()
    at.multiselect(key="f_event_types").set_value([etype]).run()
    assert _summary(at).startswith(f"Showing {len(_kept(event_types=(etype,)))} of")


def test_step_buttons_walk_the_days():
    at = _run()
    at.sidebar.slider(key="dates").set_value((dt.date(2024, 1, 10), dt.date(2024, 1, 15))).run()
    at.button(key="step_fwd").click().run()
    assert at.sidebar.slider(key="dates").value == (dt.date(2024, 1, 10), dt.date(2024, 1, 16))


def test_no_server_side_play_button_remains():
    at = _run()
    assert all(b.key != "play" for b in at.button)


def test_event_table_shows_border_distance_side_and_dash_for_unknown_counts():
    at = _run()
    table = at.dataframe(key="event_table").value
    row = table[table["Location"].str.contains("Sabz Koh")].iloc[0]
    geom = CURATED[CURATED["location"].str.contains("Sabz Koh")].geometry.iloc[0]
    core = analysis.distance_to_border([geom.y], [geom.x]).iloc[0]
    assert row["Border distance (km)"] == pytest.approx(core["distance_m"] / 1000, abs=0.05)
    assert "Pakistan" in str(row.to_dict().values())
    cells = set(table["Killed"]) | set(table["Injured"])
    assert "None" not in cells and "nan" not in cells
    unknown = CURATED["fatalities"].isna().sum() + CURATED["injured"].isna().sum()
    assert (unknown == 0) or ("—" in cells)


def _open_tab(at: AppTest, name: str) -> AppTest:
    """Open a tool tab as a click on it does (only the open tab's widgets are drawn)."""
    at.session_state["tab"] = name
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _buffer(at: AppTest, label_part: str, radii: str) -> pd.DataFrame:
    _open_tab(at, "Buffers")
    label = next(o for o in at.selectbox(key="buffer_target").options if label_part in o)
    at.selectbox(key="buffer_target").set_value(label)
    at.text_input(key="buffer_radii").set_value(radii).run()
    assert not at.exception
    return next(d.value for d in at.dataframe
                if list(d.value.columns) == ["radius_km", "events", "places"])


def test_buffers_list_what_is_inside():
    at = _run()
    counts = _buffer(at, "Site: Panjgur", "30, 100")
    assert list(counts["radius_km"]) == [30, 100]
    assert counts.set_index("radius_km").loc[100, "places"] >= 2


def test_buffer_counts_follow_the_filters():
    at = _run()
    lo, hi = dt.date(2024, 1, 10), dt.date(2024, 1, 20)
    at.sidebar.slider(key="dates").set_value((lo, hi)).run()
    counts = _buffer(at, "Iran–Pakistan border", "45")
    shown = _kept(start=lo, end=hi)
    rings = analysis.buffer_target("border", [45])
    places = events.load_curated_events().iloc[:0]  # events only: compare the event count
    inside = analysis.points_within(rings, shown, places)
    assert int(counts["events"].iloc[0]) == int(inside.summary["events"].iloc[0])
    everything = analysis.points_within(rings, CURATED, places)
    assert int(everything.summary["events"].iloc[0]) > int(counts["events"].iloc[0])


def test_bad_radii_are_one_message_not_a_traceback():
    at = _open_tab(_run(), "Buffers")
    at.selectbox(key="buffer_target").set_value(at.selectbox(key="buffer_target").options[0])
    at.text_input(key="buffer_radii").set_value("ten").run()
    assert not at.exception
    assert at.error and "ten" in at.error[0].value


def test_claims_table_is_full_width_with_verdict_first():
    at = _run({"below": "Claims checked"})
    table = next(d.value for d in at.dataframe if "Claim" in d.value.columns)
    assert list(table.columns[:3]) == ["Claimed", "Measured", "Verdict"]
    from dashboard import claims

    core = claims.check_claims()
    assert list(table["Verdict"]) == [c.verdict for c in core]
    assert list(table["Claim"]) == [c.claim for c in core]


def test_permalink_restores_the_view():
    at = _run({"a": "saravan", "b": "panjgur", "from": "2024-01-15", "to": "2024-01-17",
               "tab": "Claims", "country": "Iran", "c": "27.0000,62.0000", "z": "8"})
    assert at.checkbox(key="show_region").value  # the Claims tab is open
    assert not at.metric  # the Measure tab is closed, its path is still on the map
    q = at.query_params
    assert (q["tab"], q["country"], q["c"], q["z"]) == ("Claims", "Iran", "27.0000,62.0000", "8")
    _open_tab(at, "Measure")
    metric = next(m for m in at.metric if m.label == "Distance")
    core = sites.measure_distance(sites.resolve_site("Saravan"), sites.resolve_site("Panjgur"))
    assert metric.value == f"{core.distance_m / 1000:,.1f} km"
    assert at.sidebar.slider(key="dates").value == (dt.date(2024, 1, 15), dt.date(2024, 1, 17))
    assert at.multiselect(key="f_countries").value == ["Iran"]
    kept = _kept(start=dt.date(2024, 1, 15), end=dt.date(2024, 1, 17), countries=("Iran",))
    assert _summary(at).startswith(f"Showing {len(kept)} of")
    assert at.session_state["view"] == ((27.0, 62.0), 8)


def test_closed_tool_tabs_still_draw_their_layers_and_keep_their_values(monkeypatch):
    """Only the open tool tab is drawn; the measured path, the buffers and the Sabz Koh region
    stay on the map from the closed tabs, and their values come back when a tab is opened."""
    from dashboard import page_map

    drawn: list[list[str]] = []
    show = page_map.show

    def spy(specs, *args, **kwargs):
        drawn.append([s["name"] for s in specs])
        return show(specs, *args, **kwargs)

    monkeypatch.setattr(page_map, "show", spy)
    at = _run({"a": "saravan", "b": "panjgur", "buf": "border", "radii": "45", "tab": "Data"})
    assert not at.metric and not [s for s in at.selectbox if s.key == "buffer_target"]
    names = drawn[-1]
    assert "Measurement" in names and "Buffers" in names, names
    assert any(n.startswith("Sabz Koh candidate region") for n in names), names
    _open_tab(at, "Buffers")
    assert at.text_input(key="buffer_radii").value == "45"
    at.text_input(key="buffer_radii").set_value("45, 90").run()
    _open_tab(at, "Measure")  # Buffers closed again: its new radii are kept
    assert at.selectbox(key="measure_a").value == "Saravan" or "Saravan" in str(
        at.selectbox(key="measure_a").value)
    _open_tab(at, "Buffers")
    assert at.text_input(key="buffer_radii").value == "45, 90"
    assert at.query_params["radii"] == "45,90"


def test_store_events_are_shown_and_a_batch_can_be_removed():
    store = EventStore()
    done = store.upsert(_store_event("TST-1"), origin="cli", label="cli-file.csv")
    at = _run({"tab": "Data"})
    assert _summary(at).startswith(f"Showing {len(CURATED) + 1} of {len(CURATED) + 1} events")
    assert any(md_escape("cli-file.csv") in m.value for m in at.markdown)
    at.button(key=f"rm_batch_{done.batch_id}").click().run()
    assert not at.exception
    assert _summary(at).startswith(f"Showing {len(CURATED)} of {len(CURATED)} events")
    assert len(store.read()) == 0


def test_a_store_that_changes_on_every_look_does_not_keep_the_page_from_drawing(monkeypatch):
    """A writer in a loop (or a store whose version flips) redraws the whole page at most
    twice in a row; then the map, the tools and the table are drawn all the same."""
    from dashboard import page_data

    looks = iter(range(1_000_000))
    monkeypatch.setattr(page_data, "store_version", lambda: f"v{next(looks)}")
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[MAP_READY] = True
    at.run()
    assert not at.exception
    assert _summary(at).startswith(f"Showing {len(CURATED)} of {len(CURATED)} events")
    assert at.sidebar.checkbox and at.tabs
    assert at.dataframe(key="event_table").value is not None
    assert next(looks) < 20  # a few looks, not a loop


def test_an_unexpected_error_shows_under_the_page_title(monkeypatch):
    """The title is written after the page's body (main()); an error nobody foresaw still
    gets it above Streamlit's error box."""
    from dashboard import page_events

    def broken(*_a, **_k):
        raise RuntimeError("an error nobody foresaw")

    monkeypatch.setattr(page_events, "map_content", broken)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[MAP_READY] = True
    at.run()
    assert at.exception  # its details are kept for the server log (showErrorDetails off)
    assert [t.value for t in at.title] == ["Iran–Pakistan border crisis, January 2024"]


def test_untrusted_category_and_names_are_plain_text():
    EventStore().upsert(_store_event("TST-2", category="![x](http://198.51.100.7/t.png)",
                                     location="[update](https://evil.example/login)"),
                        origin="page", label="[update](https://evil.example/login).csv")
    at = _run({"tab": "Data"})
    labels = [c.label for c in at.sidebar.checkbox if c.key and c.key.startswith("type_")]
    hostile = next(lbl for lbl in labels if "198" in lbl)
    assert "![" not in hostile and "](" not in hostile  # every Markdown character escaped
    batch = next(m.value for m in at.markdown if "evil" in m.value)
    assert "[update](" not in batch


def test_timeline_is_on_a_date_axis_coloured_like_the_map():
    from dashboard import mapview, page_events

    at = _run()
    table = at.dataframe(key="event_table").value
    types = sorted(CURATED["category"].unique())
    spec = page_events.timeline_chart(table, types).to_dict()
    assert spec["encoding"]["x"]["type"] == "temporal"  # days without events are gaps
    assert spec["height"] >= 200
    assert spec["encoding"]["color"]["scale"]["range"] == [
        mapview.event_style(t, types).color for t in types]
    assert len(at.get("vega_lite_chart")) == 0  # only the open tab below the map is drawn
    chart = _run({"below": "Events per day"})
    assert len(chart.get("vega_lite_chart")) == 1
    assert not [d for d in chart.dataframe  # neither the event table nor the claims table
                if d.key == "event_table" or "Tolerance" in d.value.columns]


def test_below_map_tabs_draw_only_the_open_one_and_go_in_the_permalink():
    at = _run({"below": "Claims checked"})
    assert [d for d in at.dataframe if "Tolerance" in d.value.columns]
    assert not [d for d in at.dataframe if d.key == "event_table"]
    assert at.query_params.get("below") in ("Claims checked", ["Claims checked"])
    plain = _run()
    assert plain.dataframe(key="event_table").value is not None
    assert "below" not in plain.query_params


def _many_events(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    import numpy as np

    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(25.0, 30.5, n), rng.uniform(58.0, 66.0, n)
    df = pd.DataFrame({
        "event_id_cnty": [f"MANY{i}" for i in range(n)],
        "event_date": (pd.Timestamp("2024-01-01") + pd.to_timedelta(
            rng.integers(0, 20, n), unit="D")).strftime("%Y-%m-%d"),
        "country": "Pakistan", "location": [f"Place {i}" for i in range(n)],
        "event_type": "Explosions/Remote violence", "sub_event_type": "Air/drone strike",
        "category": rng.choice(["strike", "attack"], n), "latitude": lat, "longitude": lon,
        "geo_precision": 1, "fatalities": 0})
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    return events.normalise(gdf)


def test_many_events_are_hexagons_with_a_limited_table_then_single_events_zoomed_in():
    import os

    from dashboard import mapview, page_events, settings

    n = settings.PAGE_AGGREGATE_ABOVE + 3000
    many = _many_events(n)
    EventStore(os.environ["DASHBOARD_STORE"]).upsert(many, origin="test", label="many")
    at = _run()
    notes = [c.value for c in at.caption if "drawn as hexagons" in c.value]
    assert notes and "H3 resolution" in notes[0]
    table = at.dataframe(key="event_table").value
    assert len(table) == settings.PAGE_TABLE_ROWS  # never every row
    # the table lists the latest events in view: no row is older than the rows left out
    in_table = set(table["ID"])
    dates = pd.to_datetime(many.set_index("event_id_cnty")["event_date"])
    left_out = dates[~dates.index.isin(in_table)]
    listed = dates[dates.index.isin(in_table)]
    assert listed.min() >= left_out.max()
    # zoomed in on a small area: the events in view are drawn one by one
    zoom = 11
    bounds = mapview.view_bounds((27.5, 62.0), zoom, width_px=page_events.MAP_WIDTH_PX,
                                 height_px=620)
    at2 = _run({"c": "27.5000,62.0000", "z": str(zoom)})
    assert not [c.value for c in at2.caption if "drawn as hexagons" in c.value]
    assert [c.value for c in at2.caption if "drawn one by one" in c.value]
    table2 = at2.dataframe(key="event_table").value
    w, s, e, n_ = bounds
    inside = many[(many.geometry.x >= w) & (many.geometry.x <= e) & (many.geometry.y >= s)
                  & (many.geometry.y <= n_)]
    assert set(table2["ID"]) == set(inside["event_id_cnty"])


def test_filters_work_on_hexagons_too():
    import os

    from dashboard import settings

    many = _many_events(settings.PAGE_AGGREGATE_ABOVE + 3000, seed=2)
    EventStore(os.environ["DASHBOARD_STORE"]).upsert(many, origin="test", label="many")
    at = _run({"from": "2024-01-05", "to": "2024-01-05"})
    kept = many[pd.to_datetime(many["event_date"]) == pd.Timestamp("2024-01-05")]
    assert len(kept) <= settings.PAGE_AGGREGATE_ABOVE  # one day: few enough for markers
    assert not [c.value for c in at.caption if "drawn as hexagons" in c.value]
    assert set(at.dataframe(key="event_table").value["ID"]) >= set(kept["event_id_cnty"])


def test_buffer_member_list_is_capped_but_counts_are_not():
    import os

    from dashboard import settings

    many = _many_events(settings.PAGE_TABLE_ROWS + 2000, seed=3)
    EventStore(os.environ["DASHBOARD_STORE"]).upsert(many, origin="test", label="many")
    at = _run()
    counts = _buffer(at, "Iran–Pakistan border", "500")
    members = [d.value for d in at.dataframe if "kind" in d.value.columns]
    assert members and len(members[0]) == settings.PAGE_TABLE_ROWS
    assert int(counts["events"].iloc[0]) > settings.PAGE_TABLE_ROWS
    assert [c.value for c in at.caption if "are listed" in c.value]


def test_snapped_bounds_hold_the_view_on_whole_tiles():
    """The box the map draws events in: the view widened to whole 256-px tiles, so a small
    pan or the page's own estimate of a view gives the same box (and the same layer)."""
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    from dashboard.page_events import snap_bounds

    @settings(max_examples=200, deadline=None)
    @example(w=0.0, s=-5e-324, dw=0.001, dh=0.001, zoom=2, nudge=0.0)  # -5e-324 / 90 == -0.0
    @given(w=st.floats(-180, 170), s=st.floats(-85, 75), dw=st.floats(0.001, 10),
           dh=st.floats(0.001, 10), zoom=st.integers(2, 16), nudge=st.floats(-0.2, 0.2))
    def check(w, s, dw, dh, zoom, nudge):
        box = snap_bounds((w, s, w + dw, s + dh), zoom)
        step = 360 / 2 ** zoom
        assert box[0] <= w and box[1] <= s and box[2] >= w + dw and box[3] >= s + dh
        for v in box:
            assert abs(v / step - round(v / step)) < 1e-6
        assert box[2] - box[0] < dw + 2 * step + 1e-9
        assert snap_bounds(box, zoom) == box
        # a pan that takes no edge across a tile line keeps the box
        gap = min(abs(v / step - round(v / step)) * step for v in (w, w + dw))
        shift = nudge * gap * 0.99
        assert snap_bounds((w + shift, s, w + dw + shift, s + dh), zoom)[0::2] == box[0::2]

    check()


def test_selecting_a_row_again_moves_the_map_back_to_it(monkeypatch):
    """A row selected, the map panned away, the row unselected and selected again: the view
    given to the map must differ from the last one (else streamlit-folium does not move the
    map back), and by no more than a millimetre."""
    from types import SimpleNamespace

    from dashboard import page_events

    ss: dict = {"view": ((29.0, 64.0), 6), "_table_ids": list(CURATED["event_id_cnty"])}
    monkeypatch.setattr(page_events, "st", SimpleNamespace(session_state=ss))
    pick = lambda rows: ss.__setitem__(  # noqa: E731
        "event_table", SimpleNamespace(selection=SimpleNamespace(rows=rows)))
    pick([0])
    assert page_events.apply_selection(CURATED)
    first = ss["view"]
    event = CURATED.geometry.iloc[0]
    assert first == ((event.y, event.x), 8)
    pick([])
    assert not page_events.apply_selection(CURATED)
    pick([0])
    assert page_events.apply_selection(CURATED)
    again = ss["view"]
    assert again != first and again[1] == 8
    assert abs(again[0][0] - event.y) < 1e-8 and again[0][1] == event.x


def test_the_events_table_is_kept_while_the_shown_events_are_the_same(monkeypatch):
    """A rerun that leaves the filters alone (a row, a site, a buffer) reuses the table; other
    events or other type labels build it again, with the same content as event_table."""
    from types import SimpleNamespace

    from dashboard import page_events

    ss: dict = {}
    monkeypatch.setattr(page_events, "st", SimpleNamespace(session_state=ss))
    types = page_events.event_types(CURATED)
    first = page_events.session_event_table(CURATED, types)
    assert page_events.session_event_table(CURATED, types) is first
    pd.testing.assert_frame_equal(first, page_events.event_table(CURATED, types))
    other = CURATED.iloc[:5]
    fewer = page_events.session_event_table(other, types)
    assert fewer is not first and len(fewer) == 5
    assert page_events.session_event_table(CURATED.copy(), types) is not fewer
    relabelled = page_events.session_event_table(CURATED, [*types, "new type"])
    assert relabelled is not first and len(relabelled) == len(CURATED)


def test_the_data_tab_pictures_are_of_the_view_the_map_reports(monkeypatch):
    """While the Data tab is open the map reports its view (page_map.show report_view); its
    picture caption and files then follow the map's own report, not the view the page was
    opened with (Streamlit does not send the browser's URL back once the page has written it)."""
    from dashboard import mapview, page_io, page_map

    flags: list[bool] = []
    boxes: list[object] = []
    show, downloads = page_map.show, page_io.download_section

    def spy(*args, **kwargs):
        flags.append(kwargs.get("report_view", False))
        return show(*args, **kwargs)

    def spy_downloads(*args, **kwargs):
        boxes.append(kwargs.get("bounds"))
        return downloads(*args, **kwargs)

    monkeypatch.setattr(page_map, "show", spy)
    monkeypatch.setattr(page_io, "download_section", spy_downloads)
    at = _run({"tab": "Data", "c": "27.0000,62.0000", "z": "8"})
    assert flags[-1] is True
    assert any("centre 27.00,62.00 · zoom 8" in c.value for c in at.caption)
    # the map's report after a pan (Leaflet's bounds and zoom, as streamlit-folium sends them)
    bounds = mapview.view_bounds((29.5, 60.25), 7, width_px=684, height_px=620)
    at.session_state["map"] = {"last_clicked": None, "zoom": 7, "bounds": {
        "_southWest": {"lat": bounds[1], "lng": bounds[0]},
        "_northEast": {"lat": bounds[3], "lng": bounds[2]}}}
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("centre 29.50,60.25 · zoom 7" in c.value for c in at.caption), \
        [c.value for c in at.caption]
    assert boxes[-1] == pytest.approx(bounds)  # the pictures cover what the map shows
    _open_tab(at, "Measure")
    assert flags[-1] is False  # with another tab the map reports its clicks only
