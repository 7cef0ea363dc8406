"""One event filter for the page, the store and the CLI (no Streamlit, no folium).

An :class:`EventFilter` says which events to keep: a date window (inclusive days), our
categories, ACLED ``event_type``/``sub_event_type``, countries, an actor text match and a
minimum number of fatalities. ``None`` (or an empty actor text) means "no restriction".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.errors import BadParameter

ACTOR_COLUMNS = ("actor1", "actor2", "assoc_actor_1", "assoc_actor_2")


@dataclass(frozen=True)
class EventFilter:
    """Which events to keep. Dates are inclusive calendar days; text matches ignore case."""

    start: dt.date | None = None
    end: dt.date | None = None
    categories: tuple[str, ...] | None = None
    event_types: tuple[str, ...] | None = None
    sub_event_types: tuple[str, ...] | None = None
    countries: tuple[str, ...] | None = None
    actor: str = ""
    min_fatalities: float | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise BadParameter(f"The start date {self.start.isoformat()} is after the end date "
                               f"{self.end.isoformat()}.")
        if self.min_fatalities is not None and not (
                np.isfinite(self.min_fatalities) and self.min_fatalities >= 0):
            raise BadParameter("The minimum number of fatalities must be 0 or more.")


def _in(values: pd.Series, allowed: tuple[str, ...] | None) -> np.ndarray:
    if allowed is None:
        return np.ones(len(values), dtype=bool)
    return values.astype(str).isin(set(allowed)).to_numpy()


def mask(events: pd.DataFrame, f: EventFilter) -> np.ndarray:
    """Boolean array: True for the rows of ``events`` (event model columns) that ``f`` keeps."""
    n = len(events)
    keep = np.ones(n, dtype=bool)
    if n == 0:
        return keep
    if f.start or f.end:
        day = pd.to_datetime(events["event_date"], errors="coerce").dt.normalize()
        if f.start:
            keep &= (day >= pd.Timestamp(f.start)).to_numpy()
        if f.end:
            keep &= (day <= pd.Timestamp(f.end)).to_numpy()
    keep &= _in(events["category"], f.categories)
    keep &= _in(events["event_type"], f.event_types)
    keep &= _in(events["sub_event_type"], f.sub_event_types)
    keep &= _in(events["country"], f.countries)
    text = f.actor.strip().casefold()
    if text:
        hit = np.zeros(n, dtype=bool)
        for col in ACTOR_COLUMNS:
            if col in events.columns:
                hit |= events[col].fillna("").astype(str).str.casefold().str.contains(
                    text, regex=False).to_numpy()
        keep &= hit
    if f.min_fatalities:
        fat = pd.to_numeric(events["fatalities"], errors="coerce")
        keep &= (fat >= f.min_fatalities).fillna(False).to_numpy(dtype=bool)
    return keep


def apply(events: pd.DataFrame, f: EventFilter) -> pd.DataFrame:
    """The rows of ``events`` that ``f`` keeps (same type, original order and index). When
    it keeps every row this is a lazy copy (copy on write), not a copy of a million rows."""
    keep = mask(events, f)
    return events.copy(deep=False) if keep.all() else events[keep]
