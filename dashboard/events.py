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
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

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
CSV_LIST_SEPARATOR = " ; "
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple | np.ndarray):
        return [str(v).strip() for v in value if str(v).strip()]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    text = str(value).strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            return [str(v).strip() for v in parsed if str(v).strip()]
    return [p.strip() for p in text.replace(";", "\n").splitlines() if p.strip()]


def normalise(df: pd.DataFrame) -> gpd.GeoDataFrame:
    """Coerce a table into the event model: all columns, dtypes, Point geometry (lon, lat).

    Missing columns are added empty; ``event_date`` becomes datetime64; ``sources`` a list
    of strings; ``year`` follows the date; ``uncertainty_km`` defaults from geo_precision.
    Values are assumed already validated (see :mod:`dashboard.importers`).
    """
    out = pd.DataFrame(index=range(len(df)))
    src = df.reset_index(drop=True)
    if "category" not in src.columns and "layer" in src.columns:  # files written before 0.2
        src = src.rename(columns={"layer": "category"})
    for col in EVENT_COLUMNS:
        out[col] = src[col] if col in src.columns else None
    out["event_date"] = pd.to_datetime(out["event_date"], errors="coerce").astype("datetime64[ns]")
    out["latitude"] = pd.to_numeric(out["latitude"], errors="coerce").astype(float)
    out["longitude"] = pd.to_numeric(out["longitude"], errors="coerce").astype(float)
    out["year"] = out["event_date"].dt.year.astype("Int64")
    for col in ("time_precision", "geo_precision", "iso", "timestamp"):
        out[col] = pd.to_numeric(out[col], errors="coerce").round().astype("Int64")
    out["time_precision"] = out["time_precision"].fillna(1)
    out["geo_precision"] = out["geo_precision"].fillna(1)
    for col in COUNT_COLUMNS:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    unc = pd.to_numeric(out["uncertainty_km"], errors="coerce").astype(float)
    default = out["geo_precision"].map(precision_radius_km).astype(float)
    out["uncertainty_km"] = unc.where(unc.notna() & (unc >= 0), default)
    for col in TEXT_COLUMNS:
        out[col] = out[col].map(lambda v: "" if v is None or (isinstance(v, float)
                                                               and math.isnan(v)) else str(v))
    derived = out["event_type"].map(ACLED_CATEGORY).fillna("other")
    out["category"] = out["category"].where(out["category"] != "", derived)
    out["sources"] = out["sources"].map(_as_list)
    geometry = [Point(lon, lat) for lat, lon in zip(out["latitude"], out["longitude"],
                                                   strict=True)]
    return gpd.GeoDataFrame(out, geometry=geometry, crs="EPSG:4326")


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
    if col == "sources":
        return list(value) if isinstance(value, list | tuple | np.ndarray) else _as_list(value)
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if col == "event_date":
        return pd.Timestamp(value).date().isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if col in COUNT_COLUMNS and float(value).is_integer():
        return int(value)
    return value


def to_features(gdf: pd.DataFrame) -> list[dict[str, Any]]:
    """RFC 7946 Point features (lon, lat) with every model column as a property."""
    model = normalise(gdf)
    feats = []
    for rec in model[list(EVENT_COLUMNS)].to_dict("records"):
        props = {c: _json_value(c, rec[c]) for c in EVENT_COLUMNS}
        feats.append({"type": "Feature", "properties": props,
                      "geometry": {"type": "Point", "coordinates": [
                          round(props["longitude"], 6), round(props["latitude"], 6)]}})
    return feats


def to_geojson(gdf: pd.DataFrame) -> str:
    """The events as an RFC 7946 FeatureCollection (text kept verbatim; dates ISO 8601)."""
    fc = {"type": "FeatureCollection", "features": to_features(gdf)}
    return json.dumps(fc, ensure_ascii=False, indent=None) + "\n"


def neutralise_formula(text: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with ``'``; else unchanged."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def to_csv(gdf: pd.DataFrame) -> str:
    """CSV in ACLED's column order, then ours; ``sources`` joined by " ; ".

    Text cells starting with =, +, -, @, tab or CR are prefixed with ``'`` so spreadsheets show
    them as text (formula injection); numbers (e.g. a negative longitude) are written as numbers.
    """
    model = normalise(gdf)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # RFC 4180; quotes any CR or LF
    writer.writerow(EVENT_COLUMNS)
    for rec in model[list(EVENT_COLUMNS)].to_dict("records"):
        row = []
        for col in EVENT_COLUMNS:
            value = _json_value(col, rec[col])
            if col == "sources":
                value = CSV_LIST_SEPARATOR.join(value)
            if value is None:
                row.append("")
            elif isinstance(value, str):
                row.append(neutralise_formula(value) if col in (*TEXT_COLUMNS, "sources")
                           else value)
            else:
                row.append(repr(value) if isinstance(value, float) else str(value))
        writer.writerow(row)
    return buf.getvalue()
