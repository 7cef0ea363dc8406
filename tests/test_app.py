"""Page logic with Streamlit's AppTest (no browser): dashboard/app.py and its sections."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import analysis, sites

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


def _run(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _summary(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Showing "))


@pytest.fixture(scope="module")
def app() -> AppTest:
    return _run()


def test_page_renders_with_all_curated_events(app):
    assert app.title[0].value == "Iran–Pakistan border crisis, January 2024"
    assert _summary(app).startswith("Showing 11 of 11 events")
    assert not app.error


def test_default_measurement_is_the_core_value(app):
    metric = next(m for m in app.metric if m.label == "Distance")
    core = sites.measure_distance(sites.resolve_site("Sabz Koh"),
                                     sites.resolve_site("Panjgur"))
    assert metric.value == f"{core.distance_m / 1000:,.1f} km"


def test_switching_an_event_type_off_hides_its_events():
    at = _run()
    boxes = [c for c in at.sidebar.checkbox if c.key and c.key.startswith("type_")]
    diplomatic = next(c for c in boxes if "Diplomatic" in c.label)
    diplomatic.uncheck().run()
    assert _summary(at).startswith("Showing 8 of 11 events")
    assert "diplomatic" not in str(at.query_params["types"]).casefold()


def test_date_filter_narrows_the_table():
    at = _run()
    at.sidebar.slider(key="dates").set_value((dt.date(2024, 1, 16), dt.date(2024, 1, 18))).run()
    assert _summary(at).startswith("Showing 5 of 11 events")
    table = at.dataframe(key="event_table").value
    assert set(table["Date"].astype(str).str[:10]) <= {"2024-01-16", "2024-01-17", "2024-01-18"}


def test_step_buttons_walk_the_days():
    at = _run()
    at.sidebar.slider(key="dates").set_value((dt.date(2024, 1, 10), dt.date(2024, 1, 15))).run()
    at.button(key="step_fwd").click().run()
    assert at.sidebar.slider(key="dates").value == (dt.date(2024, 1, 10), dt.date(2024, 1, 16))


def test_event_table_shows_border_distance_and_side(app):
    table = app.dataframe(key="event_table").value
    row = table[table["Location"].str.contains("Sabz Koh")].iloc[0]
    core = analysis.distance_to_border([26.3727], [63.4882]).iloc[0]
    assert row["Border distance (km)"] == pytest.approx(core["distance_m"] / 1000, abs=0.05)
    assert "Pakistan" in str(row.to_dict().values())


def test_buffers_list_what_is_inside():
    at = _run()
    label = next(o for o in at.selectbox(key="buffer_target").options if "Panjgur" in o
                 and o.startswith("Site"))
    at.selectbox(key="buffer_target").set_value(label)
    at.text_input(key="buffer_radii").set_value("30, 100").run()
    assert not at.exception
    frames = [d.value for d in at.dataframe]
    counts = next(f for f in frames if list(f.columns) == ["radius_km", "events", "places"])
    assert list(counts["radius_km"]) == [30, 100]
    assert counts.set_index("radius_km").loc[100, "places"] >= 2


def test_bad_radii_are_one_message_not_a_traceback():
    at = _run()
    at.selectbox(key="buffer_target").set_value(at.selectbox(key="buffer_target").options[0])
    at.text_input(key="buffer_radii").set_value("ten").run()
    assert not at.exception
    assert at.error and "ten" in at.error[0].value


def test_claims_table_shows_the_border_gap(app):
    table = next(d.value for d in app.dataframe if "Verdict" in d.value.columns)
    border = table[table["Claim"].str.contains("900 km")].iloc[0]
    assert border["Verdict"] == "shorter than claimed"
    assert border["Measured"].startswith("816.6")


def test_permalink_restores_the_view():
    at = _run({"a": "saravan", "b": "panjgur", "from": "2024-01-15", "to": "2024-01-17"})
    metric = next(m for m in at.metric if m.label == "Distance")
    core = sites.measure_distance(sites.resolve_site("Saravan"),
                                     sites.resolve_site("Panjgur"))
    assert metric.value == f"{core.distance_m / 1000:,.1f} km"
    assert at.sidebar.slider(key="dates").value == (dt.date(2024, 1, 15), dt.date(2024, 1, 17))
