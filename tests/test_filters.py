"""Tests for dashboard/filters.py: one event filter for page, store and CLI."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard import events, filters
from dashboard.errors import BadParameter


@pytest.fixture(scope="module")
def curated():
    return events.load_curated_events()


def test_no_restriction_keeps_everything(curated):
    assert filters.mask(curated, filters.EventFilter()).all()


def test_dates_are_inclusive_days(curated):
    day = dt.date(2024, 1, 16)
    kept = filters.apply(curated, filters.EventFilter(start=day, end=day))
    assert len(kept) >= 1
    assert set(pd.to_datetime(kept["event_date"]).dt.date) == {day}


def test_start_after_end_is_one_clear_error():
    with pytest.raises(BadParameter, match="after the end date"):
        filters.EventFilter(start=dt.date(2024, 1, 20), end=dt.date(2024, 1, 10))


def test_actor_match_ignores_case_and_covers_both_actors(curated):
    kept = filters.apply(curated, filters.EventFilter(actor="jaish al-adl"))
    assert len(kept) >= 1
    text = (kept["actor1"] + " " + kept["actor2"] + " " + kept["assoc_actor_1"]
            + " " + kept["assoc_actor_2"]).str.casefold()
    assert text.str.contains("jaish al-adl", regex=False).all()


def test_min_fatalities_drops_unknown_counts(curated):
    kept = filters.apply(curated, filters.EventFilter(min_fatalities=1))
    assert (kept["fatalities"] >= 1).all()
    assert filters.apply(curated, filters.EventFilter(min_fatalities=0)).shape[0] == len(curated)


def test_types_countries_and_categories(curated):
    f = filters.EventFilter(categories=("strike",), countries=("Pakistan",))
    kept = filters.apply(curated, f)
    assert len(kept) >= 1
    assert set(kept["category"]) == {"strike"} and set(kept["country"]) == {"Pakistan"}
    none = filters.apply(curated, filters.EventFilter(event_types=("Riots",)))
    assert none.empty


def test_acled_rows_without_category_get_one_from_event_type():
    df = pd.DataFrame({"event_type": ["Explosions/Remote violence", "Protests", "Odd"],
                       "latitude": [27.0, 27.1, 27.2], "longitude": [63.0, 63.1, 63.2],
                       "event_date": ["2024-01-16"] * 3})
    out = events.normalise(df)
    assert list(out["category"]) == ["remote_violence", "protest", "other"]
