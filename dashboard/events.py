"""Event model: ACLED's 31 export columns plus ours, the curated events, GeoJSON/CSV output.

No Streamlit, no folium. Coordinates: ``latitude``/``longitude`` columns in degrees and a
Point geometry (lon, lat; EPSG:4326). Text from files is kept verbatim as data — escaping is
the renderer's job; only the CSV writer neutralises spreadsheet formulas.

Precision (ACLED codebook):
- ``geo_precision`` 1 = the town itself, 2 = near a town or a small area, 3 = a region,
  a "border area" or the provincial capital standing for the province. Precision-3
  locations are not meaningful for distance-to-border (:func:`distance_meaningful`).
- ``time_precision`` 1 = the exact day, 2 = the week, 3 = the month (:func:`date_window`).
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa

from dashboard import settings
from dashboard.errors import DataError

ACLED_COLUMNS: tuple[str, ...] = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
    "interaction", "civilian_targeting", "iso", "region", "country", "admin1", "admin2",
    "admin3", "location", "latitude", "longitude", "geo_precision", "source", "source_scale",
    "notes", "fatalities", "tags", "timestamp",
)
EXTRA_COLUMNS: tuple[str, ...] = ("injured", "sources", "uncertainty_km", "category", "disputed")
EVENT_COLUMNS: tuple[str, ...] = ACLED_COLUMNS + EXTRA_COLUMNS

INT_COLUMNS = ("year", "time_precision", "geo_precision", "iso", "timestamp")
COUNT_COLUMNS = ("fatalities", "injured")  # may be unknown (NaN), never negative
FLOAT_COLUMNS = ("latitude", "longitude", "uncertainty_km")
TEXT_COLUMNS = tuple(c for c in EVENT_COLUMNS if c not in INT_COLUMNS + COUNT_COLUMNS
                     + FLOAT_COLUMNS + ("event_date", "sources"))

EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "Battles": ("Armed clash", "Government regains territory",
                "Non-state actor overtakes territory"),
    "Explosions/Remote violence": ("Chemical weapon", "Air/drone strike", "Suicide bomb",
                                   "Shelling/artillery/missile attack",
                                   "Remote explosive/landmine/IED", "Grenade"),
    "Violence against civilians": ("Sexual violence", "Attack", "Abduction/forced disappearance"),
    "Protests": ("Peaceful protest", "Protest with intervention",
                 "Excessive force against protesters"),
    "Riots": ("Violent demonstration", "Mob violence"),
    "Strategic developments": ("Agreement", "Arrests", "Change to group/activity",
                               "Disrupted weapons use", "Headquarters or base established",
                               "Looting/property destruction", "Non-violent transfer of territory",
                               "Other"),
}
CATEGORIES: dict[str, str] = {
    "strike": "Missile, drone or air strike by a state",
    "retaliation": "Strike in retaliation for an earlier strike",
    "attack": "Attack by an armed group",
    "diplomatic": "Diplomatic step or statement (drawn at a capital or venue)",
    "battle": "ACLED Battles",
    "remote_violence": "ACLED Explosions/Remote violence",
    "violence_against_civilians": "ACLED Violence against civilians",
    "protest": "ACLED Protests",
    "riot": "ACLED Riots",
    "strategic_development": "ACLED Strategic developments",
    "other": "Anything else",
}
#: Category of an event that names none (an ACLED export): from its ACLED ``event_type``.
#: A fixed mapping, documented in the README, so uploaded rows are styled by what they are.
ACLED_CATEGORY: dict[str, str] = {
    "Battles": "battle",
    "Explosions/Remote violence": "remote_violence",
    "Violence against civilians": "violence_against_civilians",
    "Protests": "protest",
    "Riots": "riot",
    "Strategic developments": "strategic_development",
}
GEO_PRECISION = {1: "the town itself", 2: "near a town or a small area",
                 3: "a region, border area or provincial capital"}
TIME_PRECISION = {1: "exact day", 2: "within the week", 3: "within the month"}
# Smallest honest uncertainty radius (km) for each geo_precision when a file gives none.
PRECISION_RADIUS_KM = {1: 2.0, 2: 10.0, 3: 50.0}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Prefix the CSV export puts before a text cell that starts with a formula character or with
#: this prefix itself; the CSV importer removes exactly one again (see :func:`neutralise_formula`).
CSV_TEXT_GUARD = "'"
#: Dates the event model can hold (``event_date`` is datetime64[ns]; its range ends here).
MIN_DATE = dt.date(1677, 9, 22)
MAX_DATE = dt.date(2262, 4, 11)


def precision_radius_km(geo_precision: Any) -> float:
    """Default uncertainty radius (km) for an ACLED ``geo_precision`` (1, 2 or 3)."""
    try:
        return PRECISION_RADIUS_KM[int(geo_precision)]
    except (KeyError, TypeError, ValueError):
        return PRECISION_RADIUS_KM[3]


def distance_meaningful(geo_precision: Any) -> bool:
    """False for geo_precision 3 (region/border area/provincial capital): too coarse to measure."""
    try:
        return int(geo_precision) in (1, 2)
    except (TypeError, ValueError):
        return False


def date_window(event_date: dt.date, time_precision: Any) -> tuple[dt.date, dt.date]:
    """The days (first, last) an event may have happened on, from its ``time_precision``."""
    try:
        tp = int(time_precision)
    except (TypeError, ValueError):
        tp = 1
    if tp == 2:
        start = event_date - dt.timedelta(days=event_date.weekday())
        return start, start + dt.timedelta(days=6)
    if tp == 3:
        start = event_date.replace(day=1)
        nxt = (start + dt.timedelta(days=32)).replace(day=1)
        return start, nxt - dt.timedelta(days=1)
    return event_date, event_date


class _NoSources(list):
    """The one shared, empty ``sources`` list of every row that cites no source (a million
    rows need no million empty lists). It refuses changes, so sharing it is safe: build a new
    list to add sources."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("NO_SOURCES is shared by many rows; assign a new list instead.")

    append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse


#: ``sources`` of a row without sources (equal to ``[]``).
NO_SOURCES: list[str] = _NoSources()


def _as_list(value: Any) -> list[str]:
    """``sources`` as a list of non-empty stripped strings: a list, a JSON list in text, or
    text with one source per line or separated by ``;`` (older CSV exports, user files)."""
    if isinstance(value, list | tuple | np.ndarray):
        return [t for t in (str(v).strip() for v in value) if t]
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return []
    text = str(value).strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except (json.JSONDecodeError, ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, list):
            return [t for t in (str(v).strip() for v in parsed) if t]
    return [p.strip() for p in text.replace(";", "\n").splitlines() if p.strip()]


def _source_lists(values: pd.Series) -> list[list[str]]:
    """``sources`` of every row as a list (:func:`_as_list`; NO_SOURCES when there are none).
    Texts repeat a lot (an ACLED ``source`` column names few outlets), so each distinct text
    is parsed once and every row gets its own copy of the list."""
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # lists or other unhashable values: row by row
        return [(_as_list(v) or NO_SOURCES) if v is not None else NO_SOURCES
                for v in values.tolist()]
    parsed = [_as_list(u) or NO_SOURCES for u in uniques]
    return [NO_SOURCES if c < 0 or parsed[c] is NO_SOURCES else list(parsed[c])
            for c in codes.tolist()]


def arrow_text(array: pa.Array) -> pd.Series:
    """An Arrow string array as a pandas text Series (no Python objects in between)."""
    out = array.to_pandas()
    return out if pd.api.types.is_string_dtype(out.dtype) and out.dtype != object \
        else out.astype("str")


def _text(values: pd.Series) -> pd.Series:
    """Text column: missing → "", anything else ``str(value)`` (vectorised for text dtypes)."""
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        if values.dtype == "str" and not values.isna().any():
            return values  # already text without gaps: no copy
        return values.fillna("").astype("str")
    return values.map(lambda v: "" if v is None or v is pd.NA or (
        isinstance(v, float) and math.isnan(v)) else str(v)).astype("str")


def _dates(values: pd.Series) -> pd.Series:
    """datetime64[ns] dates; values that are not dates or lie outside MIN_DATE..MAX_DATE
    become NaT (the importer rejects those rows with the reason before they get here)."""
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        values = pd.to_datetime(values, errors="coerce", format="mixed")
    if values.dt.tz is not None:
        values = values.dt.tz_localize(None)
    values = values.astype("datetime64[s]")
    inside = (values >= pd.Timestamp(MIN_DATE)) & (values <= pd.Timestamp(MAX_DATE))
    return values.where(inside).astype("datetime64[ns]")


def _whole(values: pd.Series) -> pd.Series:
    """Nullable integers; values that are not whole numbers within ±2**53 become missing."""
    num = pd.to_numeric(values, errors="coerce")
    if not isinstance(num, pd.Series):
        num = pd.Series(num, index=values.index)
    num = num.astype(float)
    ok = np.isfinite(num) & (num.abs() < 2.0 ** 53)
    return num.where(ok).round().astype("Int64")


def normalise(df: pd.DataFrame) -> gpd.GeoDataFrame:
    """Coerce a table into the event model: all columns, dtypes, Point geometry (lon, lat).

    Missing columns are added empty; ``event_date`` becomes datetime64; ``sources`` a list
    of strings; ``year`` follows the date; ``uncertainty_km`` defaults from geo_precision.
    Values are assumed already validated (see :mod:`dashboard.importers`).
    """
    n = len(df)
    src = df.reset_index(drop=True)
    if "category" not in src.columns and "layer" in src.columns:  # files written before 0.2
        src = src.rename(columns={"layer": "category"})
    out: dict[str, Any] = {}
    empty_text = arrow_text(pa.nulls(n, pa.string()).fill_null(""))  # shared (copy on write)
    no_numbers = pd.Series(np.full(n, np.nan))  # shared too: every use makes a new column
    for col in EVENT_COLUMNS:
        if col in src.columns:
            out[col] = src[col]
        elif col in TEXT_COLUMNS:
            out[col] = empty_text
        elif col in ("event_date", "sources"):
            out[col] = pd.Series([None] * n, dtype=object)
        else:
            out[col] = no_numbers
    out["event_date"] = _dates(out["event_date"])
    for col in ("latitude", "longitude"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    out["year"] = out["event_date"].dt.year.astype("Int64")
    for col in ("time_precision", "geo_precision", "iso", "timestamp"):
        out[col] = _whole(out[col])
    out["time_precision"] = out["time_precision"].fillna(1)
    out["geo_precision"] = out["geo_precision"].fillna(1)
    for col in COUNT_COLUMNS:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    unc = pd.to_numeric(out["uncertainty_km"], errors="coerce").astype(float)
    geo = out["geo_precision"].to_numpy(dtype=float, na_value=np.nan)
    default = pd.Series(np.select([geo == k for k in PRECISION_RADIUS_KM],
                                  list(PRECISION_RADIUS_KM.values()), PRECISION_RADIUS_KM[3]))
    out["uncertainty_km"] = unc.where(np.isfinite(unc) & (unc >= 0), default)
    for col in TEXT_COLUMNS:
        out[col] = _text(out[col])
    codes, kinds = pd.factorize(out["event_type"])
    lookup = pa.array([ACLED_CATEGORY.get(str(k), "other") for k in kinds] + ["other"])
    derived = arrow_text(lookup.take(pa.array(np.where(codes < 0, len(kinds), codes))))
    out["category"] = out["category"].where(out["category"] != "", derived)
    collect = gc.isenabled()
    gc.disable()  # a million new lists would trigger many full collections
    try:
        has = "sources" in src.columns
        lists = _source_lists(out["sources"]) if has else [NO_SOURCES] * n
        out["sources"] = pd.Series(lists, dtype=object)
    finally:
        if collect:
            gc.enable()
    frame = pd.DataFrame({col: out[col].reset_index(drop=True) for col in EVENT_COLUMNS},
                         copy=False)
    geometry = gpd.points_from_xy(frame["longitude"], frame["latitude"], crs="EPSG:4326")
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326", copy=False)


def curated_path() -> Path:
    """Path of the committed curated events layer."""
    return settings.GEODATA_DIR / settings.LAYER_FILES["events"]


def from_features(features: Iterable[dict[str, Any]]) -> gpd.GeoDataFrame:
    """Event table from GeoJSON Point features; coordinates from the geometry (lon, lat)."""
    rows = []
    for feat in features:
        props = dict(feat.get("properties") or {})
        lon, lat = feat["geometry"]["coordinates"][:2]
        props["longitude"], props["latitude"] = lon, lat
        rows.append(props)
    return normalise(pd.DataFrame(rows, columns=list(EVENT_COLUMNS) if not rows else None))


def load_curated_events(path: Path | None = None) -> gpd.GeoDataFrame:
    """The curated, sourced events of the crisis (``geodata/events.geojson``) in the model."""
    from dashboard.layers import read_feature_collection

    data = read_feature_collection(path or curated_path())
    gdf = from_features(data["features"])
    if gdf["event_id_cnty"].duplicated().any():
        dup = gdf.loc[gdf["event_id_cnty"].duplicated(), "event_id_cnty"].iloc[0]
        raise DataError(f"Curated events file has the event id {dup!r} twice.")
    return gdf.sort_values(["event_date", "event_id_cnty"], kind="stable").reset_index(drop=True)


def _json_value(col: str, value: Any) -> Any:
    """A model value as JSON: None for missing or non-finite numbers, ISO dates, ints."""
    if col == "sources":
        return list(value) if isinstance(value, list | tuple | np.ndarray) else _as_list(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if col == "event_date":
        return pd.Timestamp(value).date().isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        if not math.isfinite(value):
            return None
        if col in COUNT_COLUMNS and value.is_integer():
            return int(value)
    return value


def to_features(gdf: pd.DataFrame) -> list[dict[str, Any]]:
    """RFC 7946 Point features (lon, lat) with every model column as a property.

    Coordinates are written with full precision (the same numbers as the ``latitude`` and
    ``longitude`` properties), so a GeoJSON round trip keeps them exactly.
    """
    model = normalise(gdf)
    feats = []
    for rec in model[list(EVENT_COLUMNS)].to_dict("records"):
        props = {c: _json_value(c, rec[c]) for c in EVENT_COLUMNS}
        lon, lat = props["longitude"], props["latitude"]
        geometry = (None if lon is None or lat is None
                    else {"type": "Point", "coordinates": [lon, lat]})
        feats.append({"type": "Feature", "properties": props, "geometry": geometry})
    return feats


def to_geojson(gdf: pd.DataFrame) -> str:
    """The events as an RFC 7946 FeatureCollection (text kept verbatim; dates ISO 8601).

    Always valid RFC 8259 JSON: a missing or non-finite number is written as ``null``, never
    as ``NaN`` or ``Infinity``.
    """
    fc = {"type": "FeatureCollection", "features": to_features(gdf)}
    return json.dumps(fc, ensure_ascii=False, indent=None, allow_nan=False) + "\n"


def neutralise_formula(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula (=, +, -, @, tab, CR) and to
    text that already starts with ``'``; else unchanged. :func:`unneutralise_formula` undoes
    it exactly, so every text survives a CSV round trip."""
    return CSV_TEXT_GUARD + text if text.startswith((*FORMULA_PREFIXES, CSV_TEXT_GUARD)) \
        else text


def unneutralise_formula(text: str) -> str:
    """Remove the one ``'`` that :func:`neutralise_formula` adds; any other text unchanged."""
    if len(text) > 1 and text[0] == CSV_TEXT_GUARD \
            and text[1] in (*FORMULA_PREFIXES, CSV_TEXT_GUARD):
        return text[1:]
    return text


def to_csv(gdf: pd.DataFrame) -> str:
    """RFC 4180 CSV (CRLF, ``"`` quoting, ``""`` escapes) in ACLED's column order, then ours.

    Text cells starting with =, +, -, @, tab, CR or ``'`` get one ``'`` in front so spreadsheets
    show them as text (formula injection); the importer removes exactly that one again. Numbers
    (e.g. a negative longitude) are written as numbers, with every digit a float needs.
    ``sources`` is a JSON list of strings (empty when there are none), so sources containing
    ``;``, quotes or newlines come back unchanged.
    """
    model = normalise(gdf)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # RFC 4180; quotes any CR or LF
    writer.writerow(EVENT_COLUMNS)
    text_cols = set(TEXT_COLUMNS)
    for rec in model[list(EVENT_COLUMNS)].to_dict("records"):
        row = []
        for col in EVENT_COLUMNS:
            value = _json_value(col, rec[col])
            if col == "sources":
                row.append(json.dumps(value, ensure_ascii=False) if value else "")
            elif value is None:
                row.append("")
            elif col in text_cols:
                row.append(neutralise_formula(str(value)))
            elif isinstance(value, float):
                row.append(repr(value))
            else:
                row.append(str(value))
        writer.writerow(row)
    return buf.getvalue()
