"""Import analysts' event files: ACLED CSV exports, generic CSV, GeoJSON, GeoPackage,
GeoParquet (one file, or a folder that is a hive-partitioned dataset) and plain Parquet.

One entry point for the CLI and the page: :func:`import_bytes` (and :func:`import_file`).
Rows that fail validation are rejected one by one with their line (CSV), feature (GeoJSON,
GeoPackage) or row (Parquet, from 1 in file order) number and a one-sentence reason; a file
that cannot be read at all raises :class:`~dashboard.errors.ImportRejected` with one sentence,
and nothing is imported.
Text is kept verbatim as data (escaping is the renderer's job); the only change is that the
CSV importer removes the one ``'`` our CSV export puts before formula-like text
(:func:`dashboard.events.neutralise_formula`), so every CSV round trip is exact.

CSV is read as RFC 4180 (``,`` separated, ``"`` quoting, ``""`` escapes; ``.tsv``: tab). Only
when the header read that way has no coordinate or date column are ``;``, tab and ``|`` tried
as the separator (on the header alone; quoting stays RFC 4180).

Validation is vectorised over columns, so the cost per row is bounded and an import is linear
in the file size (``scripts/bench_import.py``). Large CSV files on disk (``import_file``, from
``STREAM_MIN_BYTES``) and every Parquet file are read and validated in blocks (pieces of
``STREAM_BLOCK_BYTES`` cut at record boundaries; ``PARQUET_BATCH_ROWS`` rows), so the file's
text or table is never held whole; the result is the same as one pass over the whole file.
The country plausibility check (a point more than 50 km outside its ``country`` is
rejected) tests all rows of a country at once against the country polygon and one segment
index; only points within reach of the boundary get an exact geodesic distance.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import methodcaller
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard import columnar, geodesy, layers, settings
from dashboard import events as model
from dashboard.errors import ImportRejected

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
JSON_SUFFIXES = (".geojson", ".json")
GPKG_SUFFIXES = (".gpkg",)
PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")
PARQUET_MAGIC = b"PAR1"
LAT_NAMES = ("latitude", "lat", "y")
LON_NAMES = ("longitude", "lon", "lng", "long", "x")
DATE_NAMES = ("event_date", "date")
DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%d-%B-%Y", "%d-%b-%Y", "%B %d, %Y",
                "%b %d, %Y", "%Y/%m/%d")
#: Separators tried (on the header only) when the RFC 4180 comma header has no needed column.
FALLBACK_DELIMITERS = (";", "\t", "|")
COUNTRY_TOLERANCE_KM = settings.COUNTRY_TOLERANCE_KM
MARITIME_TOLERANCE_KM = settings.MARITIME_TOLERANCE_KM
#: Integer columns hold whole numbers of magnitude below this (exact in a float64).
MAX_WHOLE = 2.0 ** 53
PRECISION_COLUMNS = ("time_precision", "geo_precision")
OTHER_INT_COLUMNS = ("iso", "timestamp")
#: Text columns checked for NUL characters (which a GeoPackage cannot store).
_STORED_TEXT = (*model.TEXT_COLUMNS, "sources")
_WANTED = frozenset(model.EVENT_COLUMNS)
_NUMERIC = frozenset((*model.INT_COLUMNS, *model.COUNT_COLUMNS, *model.FLOAT_COLUMNS))
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SKIPPED_LINE = re.compile(r"line (\d+): expected (\d+) fields, saw (\d+)")
_EARTH_RADIUS_M = 6_371_008.8
_ID_CHUNK = 65_536
#: CSV files on disk at least this large are read block by block (:func:`_stream_csv`).
STREAM_MIN_BYTES = 8 * 1024 * 1024
#: Bytes of CSV text parsed (and validated) at once when streaming.
STREAM_BLOCK_BYTES = 16 * 1024 * 1024
#: Rows of a Parquet file read (and validated) at once.
PARQUET_BATCH_ROWS = 65_536
_NEAR_CHUNK = 20_000
_BLANK = re.compile(rb"(\xef\xbb\xbf)?\s*")


@dataclass(frozen=True)
class Rejected:
    """A row that was not imported: ``row`` is the CSV line number (header = line 1; a record
    spanning several lines is numbered by its first line) or the 1-based feature number,
    ``reason`` one sentence that starts with "line N:", "feature N:" or "row N:"."""

    row: int
    reason: str


@dataclass
class ImportResult:
    """Accepted events (in the model of :mod:`dashboard.events`) and the rejected rows."""

    events: gpd.GeoDataFrame
    rejected: list[Rejected] = field(default_factory=list)
    row_label: str = "line"

    def summary(self) -> str:
        """"N imported, M rejected"."""
        return f"{len(self.events):,} imported, {len(self.rejected):,} rejected"


# --------------------------------------------------------------------------- whole-file checks
def _megabytes(n: float) -> str:
    return f"{n / 1e6:,.1f}".removesuffix(".0")


def _check_size(n: int, what: str = "The file") -> None:
    if n == 0:
        raise ImportRejected(f"{what} is empty.")
    if n > settings.MAX_IMPORT_BYTES:
        raise ImportRejected(f"{what} is {_megabytes(n)} MB ({n:,} bytes); the import limit "
                             f"is {_megabytes(settings.MAX_IMPORT_BYTES)} MB "
                             f"({settings.MAX_IMPORT_BYTES:,} bytes).")


def _looks_binary(data: bytes) -> bool:
    """A NUL byte in the first 8 KB of something that is not UTF-8 text, or in its first line
    (no CSV header or JSON opening holds one). NUL bytes inside later text are a row problem."""
    head = data[:8192]
    if b"\x00" not in head:
        return False
    if b"\x00" in head.split(b"\n", 1)[0]:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start < len(head) - 3  # not just a character cut by the 8 KB boundary
    return False


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportRejected("The file claims to be UTF-16 but is not valid UTF-16.") from None
    if _looks_binary(data):
        raise ImportRejected("This looks like a binary file, not CSV or GeoJSON text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ImportRejected(
            f"The file is not UTF-8 text (byte 0x{data[err.start]:02x} at position {err.start}); "
            "save it as UTF-8 and try again.") from None


def _json_depth_ok(text: str, limit: int) -> bool:
    """True when brackets outside strings nest at most ``limit`` deep (checked before parsing,
    vectorised, so the check is linear and fast for any size)."""
    outside = _JSON_STRING.sub("", text).encode("utf-8", "surrogatepass")
    b = np.frombuffer(outside, dtype=np.uint8)
    step = (np.isin(b, (ord("["), ord("{"))).astype(np.int32)
            - np.isin(b, (ord("]"), ord("}"))).astype(np.int32))
    return len(step) == 0 or int(np.cumsum(step).max()) <= limit


def _one_line(text: Any, limit: int = 120) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[:limit - 1] + "…"


# ------------------------------------------------------------------------------ values
def parse_date(text: Any) -> dt.date | None:
    """A date from ISO (2024-01-16), ACLED (16 January 2024) and similar styles; else None."""
    if text is None or text is pd.NaT or text is pd.NA \
            or (isinstance(text, float) and math.isnan(text)):
        return None
    if isinstance(text, np.datetime64):
        if np.isnat(text):
            return None
        day = text.astype("datetime64[D]").item()
        return day if isinstance(day, dt.date) else None
    if isinstance(text, dt.datetime | pd.Timestamp):
        return text.date()
    if isinstance(text, dt.date):
        return text
    s = str(text).strip()
    if not s:
        return None
    if len(s) > 10 and s[4] == "-" and s[10] in "T ":
        s = s[:10]
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    return None


def _shown(value: Any, limit: int = 40) -> str:
    """A value quoted for a reason: repr (so control characters are visible), shortened."""
    s = value if isinstance(value, str) else str(value)
    return repr(s if len(s) <= limit else s[:limit] + "…")


def _is_missing(v: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


_MISSING, _OK, _BAD_DATE, _OUT_OF_RANGE = 0, 1, 2, 3
_NAT = np.datetime64("NaT", "ns")


def _date_of(v: Any) -> tuple[int, np.datetime64]:
    if _is_missing(v) or (isinstance(v, str) and not v.strip()):
        return _MISSING, _NAT
    try:
        d = parse_date(v)
    except (ValueError, OverflowError):
        d = None
    if d is None:
        return _BAD_DATE, _NAT
    if not model.MIN_DATE <= d <= model.MAX_DATE:
        return _OUT_OF_RANGE, _NAT
    return _OK, np.datetime64(d, "D").astype("datetime64[ns]")


def _dates(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(status per row, datetime64[ns] per row); each distinct value is parsed once."""
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # unhashable values (a list given as a date): parse one by one
        parsed = [_date_of(v) for v in values]
        return (np.array([p[0] for p in parsed], dtype=np.int8),
                np.array([p[1] for p in parsed], dtype="datetime64[ns]"))
    parsed = [_date_of(v) for v in uniques]
    status = np.array([p[0] for p in parsed] + [_MISSING], dtype=np.int8)
    stamps = np.array([p[1] for p in parsed] + [_NAT], dtype="datetime64[ns]")
    return status[codes], stamps[codes]  # code -1 (missing) picks the appended last entry


def _numbers_from_text(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    t = text.astype("str").str.strip().str.replace("\u2212", "-", regex=False)
    given = (t.notna() & (t != "")).to_numpy(bool)
    t = t.where(given)  # empty → missing
    try:  # Arrow's parser: fast, and the same numbers as pandas for any valid text
        import pyarrow as pa
        import pyarrow.compute as pc

        cast = pc.cast(pa.array(t.array), pa.float64())
        return np.asarray(cast.to_numpy(zero_copy_only=False), dtype=float), given
    except Exception:  # some text is not a number (or no Arrow): pandas marks each one NaN
        return np.asarray(pd.to_numeric(t, errors="coerce"), dtype=float), given


def _floats(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float64 per row, given per row). Missing → NaN with given False; a value that is not
    a number → NaN with given True; overflowing numbers → ±inf (rejected by the checks)."""
    n = len(values)
    if pd.api.types.is_bool_dtype(values.dtype):
        return np.full(n, np.nan), np.ones(n, bool)
    if pd.api.types.is_numeric_dtype(values.dtype):
        out = values.to_numpy(dtype=float, na_value=np.nan)
        return out, ~np.isnan(out)
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return _numbers_from_text(values)
    out = np.full(n, np.nan)
    given = np.zeros(n, bool)
    texts: list[int] = []
    for i, v in enumerate(values.to_numpy(dtype=object)):
        if _is_missing(v):
            continue
        if isinstance(v, str):
            texts.append(i)
            continue
        given[i] = True
        if isinstance(v, bool | np.bool_):
            continue
        if isinstance(v, int | float | np.integer | np.floating):
            try:
                out[i] = float(v)
            except OverflowError:
                out[i] = math.inf if v > 0 else -math.inf
    if texts:
        idx = np.asarray(texts)
        out[idx], given[idx] = _numbers_from_text(pd.Series(values.to_numpy(object)[idx]))
    return out, given


def _text_guard_removed(values: pd.Series) -> pd.Series:
    """CSV text with the one ``'`` of our export's formula guard removed (vectorised
    :func:`dashboard.events.unneutralise_formula`)."""
    text = values.astype("str")
    guarded = text.str.match(r"'[=+\-@\t\r']").fillna(False)
    return text.where(~guarded, text.str.slice(1)) if guarded.any() else text


# ------------------------------------------------------------------------------ countries
@dataclass
class _Country:
    geom: Any
    tree: shapely.STRtree
    transformer: Any
    extent_m: float

    @classmethod
    def build(cls, geom: Any) -> _Country:
        shapely.prepare(geom)
        centre = geom.centroid
        tr = geodesy.aeqd_transformer(centre.y, centre.x)
        rings = shapely.get_parts(shapely.get_parts(shapely.boundary(geom)))
        segs = []
        for ring in rings:
            xy = shapely.get_coordinates(ring)
            x, y = tr.transform(xy[:, 0], xy[:, 1])
            pts = np.column_stack([x, y])
            segs.append(np.stack([pts[:-1], pts[1:]], axis=1))
        allsegs = np.concatenate(segs)
        tree = shapely.STRtree(shapely.linestrings(allsegs))
        extent = float(np.max(np.hypot(allsegs[..., 0], allsegs[..., 1])))
        return cls(geom, tree, tr, extent)

    def far(self, lats: np.ndarray, lons: np.ndarray, tolerance_m: float | np.ndarray
            ) -> np.ndarray:
        """True where a point lies more than ``tolerance_m`` (geodesic; one value or one per
        point) outside the polygon.

        Points inside are found with one vectorised containment test. For the others, one
        nearest-segment query of the boundary's index in an azimuthal equidistant projection
        (with its scale error allowed for) finds the points that may be within reach; only
        those get the exact geodesic distance (:func:`dashboard.geodesy.nearest_on_geometry`,
        in chunks of ``_NEAR_CHUNK`` points so memory stays bounded).
        """
        far = np.zeros(len(lats), bool)
        outside = np.flatnonzero(~shapely.contains_xy(self.geom, lons, lats))
        if len(outside) == 0:
            return far
        with np.errstate(all="ignore"):
            px, py = self.transformer.transform(lons[outside], lats[outside])
            px, py = np.asarray(px, float), np.asarray(py, float)
            theta = np.minimum((np.hypot(px, py) + self.extent_m) / _EARTH_RADIUS_M, 3.0)
            scale = np.where(theta > 1e-9, theta / np.sin(theta), 1.0) * 1.002
        tol_m = np.broadcast_to(np.asarray(tolerance_m, float), lats.shape)
        reach = np.nan_to_num(tol_m[outside] * scale + 1000.0, nan=0.0, posinf=0.0)
        finite = np.isfinite(px) & np.isfinite(py)
        pts = shapely.points(np.where(finite, px, 0.0), np.where(finite, py, 0.0))
        (which, _seg), gap_m = self.tree.query_nearest(pts, return_distance=True,
                                                       all_matches=False)
        projected = np.full(len(outside), np.inf)
        projected[which] = gap_m
        hit = finite & (projected <= reach)
        far[outside[~hit]] = True
        near = outside[hit]
        for start in range(0, len(near), _NEAR_CHUNK):  # bounded memory per exact pass
            part = near[start:start + _NEAR_CHUNK]
            gap = geodesy.nearest_on_geometry(lats[part], lons[part], self.geom)["distance_m"]
            far[part[gap.to_numpy() > tol_m[part]]] = True
        return far


_COUNTRY_CACHE: dict[tuple[str, str], _Country | None] = {}
_LAND_CACHE: dict[str, Any] = {}


def _at_sea(lats: np.ndarray, lons: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """True for the ``rows`` whose point lies off the land of the basemap layer (within its
    extent; outside it, or without the layer, a point counts as on land: the strict check)."""
    key = str(settings.GEODATA_DIR)
    if key not in _LAND_CACHE:
        try:
            land = layers.load_layer("basemap_land")
            geom = shapely.union_all(land.geometry.values)
            shapely.prepare(geom)
            _LAND_CACHE[key] = (geom, shapely.total_bounds(land.geometry.values))
        except Exception:  # a missing layer must not block an import: no sea allowance
            _LAND_CACHE[key] = None
    cached = _LAND_CACHE[key]
    sea = np.zeros(len(lats), bool)
    if cached is None:
        return sea
    geom, (x0, y0, x1, y1) = cached
    with np.errstate(invalid="ignore"):
        idx = np.flatnonzero(rows & (lons >= x0) & (lons <= x1) & (lats >= y0) & (lats <= y1))
    sea[idx] = ~shapely.contains_xy(geom, lons[idx], lats[idx])
    return sea


def _country(name: str) -> _Country | None:
    """The check geometry for a country name (casefolded), or None if unknown or cut off."""
    key = (str(settings.GEODATA_DIR), name)
    if key not in _COUNTRY_CACHE:
        try:
            c = layers.load_countries()
        except Exception:  # a missing or broken layer must not block an import: skip the check
            _COUNTRY_CACHE[key] = None
            return None
        whole = ~c["clipped_to_extent"].fillna(False).astype(bool)  # e.g. China is cut off
        hits = [g for n, g in zip(c.loc[whole, "name"], c.loc[whole].geometry, strict=True)
                if str(n).casefold() == name]
        _COUNTRY_CACHE[key] = _Country.build(hits[0]) if hits else None
    return _COUNTRY_CACHE[key]


# ------------------------------------------------------------------------------ validation
def _float_text(values: np.ndarray) -> Any:
    """Python's ``repr`` of each float as an Arrow string array (vectorised; the few values
    Arrow writes differently — whole numbers, exponents — go through ``repr``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.cast(pa.array(values, pa.float64()), pa.string())
    with np.errstate(invalid="ignore"):
        mag = np.abs(values)
        odd = ~np.isfinite(values) | (values == np.floor(values)) | (mag < 1e-4) | (mag >= 1e16)
    if odd.any():
        fixed = text.to_numpy(zero_copy_only=False).astype(object)
        fixed[odd] = [repr(float(v)) for v in values[odd]]
        text = pa.array(fixed, pa.string())
    return text


def _derived_ids(frame: pd.DataFrame, idx: np.ndarray, dates: np.ndarray, lats: np.ndarray,
                 lons: np.ndarray) -> Any:
    """Stable ids (an Arrow string array) for rows without one: "USR-" and 12 hex digits of
    the SHA-256 of date, coordinates (Python's float text), event type, actor and notes
    joined by "|"."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(name: str) -> Any:
        if name not in frame.columns:
            return pa.array([""] * len(idx), pa.string())
        values = frame[name].iloc[idx].reset_index(drop=True)
        if values.dtype == object:
            values = values.map(lambda v: "" if _is_missing(v) else str(v))
        return pa.array(values.fillna("").astype("str").to_numpy(object), pa.string()) \
            if values.dtype == object else pa.array(values.fillna("").array, pa.string())

    days = pc.cast(pa.array(dates[idx]).cast(pa.date32()), pa.string())
    keys = pc.binary_join_element_wise(days, _float_text(lats[idx]), _float_text(lons[idx]),
                                       text("event_type"), text("actor1"), text("notes"), "|")
    digest = methodcaller("hexdigest")
    encode = methodcaller("encode", "utf-8", "surrogatepass")
    chunks = []
    for start in range(0, len(keys), _ID_CHUNK):  # few Python strings alive at a time
        part = keys.slice(start, _ID_CHUNK).to_pylist()
        hexes = pa.array(map(digest, map(hashlib.sha256, map(encode, part))), pa.string(),
                         size=len(part))
        chunks.append(pc.binary_join_element_wise("USR-", pc.utf8_slice_codeunits(hexes, 0, 12),
                                                  ""))
    return pa.concat_arrays(chunks) if chunks else pa.array([], pa.string())


def _release_free_memory() -> None:
    """Give memory freed by the checks back to the system before the model is built (glibc
    keeps freed small blocks otherwise, and they count towards the peak). No-op elsewhere."""
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except (ImportError, AttributeError):
        pass
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class _Lazy:
    """A column's raw values for reasons, turned into an array only when a row is rejected."""

    def __init__(self, frame: pd.DataFrame, column: str) -> None:
        self.frame, self.column, self.array, self.reads = frame, column, None, 0

    def __getitem__(self, i: int) -> Any:
        if self.column not in self.frame.columns:
            return None
        self.reads += 1
        if self.array is None and self.reads > 20_000:  # many rejections: convert once
            self.array = self.frame[self.column].to_numpy(object)
        return self.frame[self.column].iloc[i] if self.array is None else self.array[i]


class _Checker:
    """Collects the first reason per row; later checks see only rows still alive."""

    def __init__(self, rows: np.ndarray, label: str) -> None:
        self.rows, self.label = rows, label
        self.alive = np.ones(len(rows), bool)
        self.reasons: dict[int, str] = {}

    def reject(self, mask: np.ndarray, reason: Callable[[int], str]) -> None:
        for i in np.flatnonzero(mask & self.alive):
            self.reasons[int(i)] = f"{self.label} {self.rows[i]}: {reason(int(i))}"
        self.alive &= ~mask

    def rejected(self) -> list[Rejected]:
        return [Rejected(int(self.rows[i]), r) for i, r in self.reasons.items()]


def _validate(frame: pd.DataFrame, rows: np.ndarray, label: str,
              csv_text: bool = False) -> tuple[gpd.GeoDataFrame, list[Rejected]]:
    """Check every row of a raw table of model columns (any dtype), vectorised.

    ``rows`` are the line or feature numbers for the reasons. With ``csv_text`` the text
    columns are CSV cells: the export's one-``'`` formula guard is removed.
    """
    frame.reset_index(drop=True, inplace=True)
    n = len(frame)
    chk = _Checker(np.asarray(rows), label)

    def raw(col: str) -> _Lazy:
        return _Lazy(frame, col)

    if csv_text:
        for col in _STORED_TEXT:
            if col in frame.columns:
                frame[col] = _text_guard_removed(frame[col])
    for col in _STORED_TEXT:
        if col in frame.columns and pd.api.types.is_string_dtype(frame[col].dtype) \
                and frame[col].dtype != object:
            has_nul = frame[col].str.contains("\x00", regex=False).fillna(False).to_numpy(bool)
            chk.reject(has_nul, lambda _i, c=col: f"{c} contains a NUL character (\\x00), which "
                       "cannot be stored; remove it and import again")

    # dates
    status, stamps = (_dates(frame["event_date"]) if "event_date" in frame.columns
                      else (np.full(n, _MISSING, np.int8), np.full(n, _NAT)))
    date_raw = raw("event_date")
    chk.reject(status == _MISSING, lambda _i: "the date is missing")
    chk.reject(status == _BAD_DATE, lambda i: f"the date {_shown(date_raw[i])} is not a date "
               "such as 2024-01-16 or 16 January 2024")
    chk.reject(status == _OUT_OF_RANGE, lambda i: f"the date {_shown(date_raw[i])} is outside "
               f"the dates this tool can hold ({model.MIN_DATE} to {model.MAX_DATE})")

    # coordinates
    lat, lat_given = _floats(frame["latitude"]) if "latitude" in frame.columns \
        else (np.full(n, np.nan), np.zeros(n, bool))
    lon, lon_given = _floats(frame["longitude"]) if "longitude" in frame.columns \
        else (np.full(n, np.nan), np.zeros(n, bool))
    lat_raw, lon_raw = raw("latitude"), raw("longitude")
    numbers: dict[str, np.ndarray] = {"latitude": lat, "longitude": lon}
    with np.errstate(invalid="ignore"):
        not_number = (lat_given & np.isnan(lat)) | (lon_given & np.isnan(lon))
        chk.reject(not_number, lambda i: f"latitude/longitude {_shown(lat_raw[i], 20)}, "
                   f"{_shown(lon_raw[i], 20)} are not numbers")
        chk.reject(~lat_given | ~lon_given, lambda _i: "the coordinates are missing")
        chk.reject(~np.isfinite(lat) | ~np.isfinite(lon),
                   lambda i: f"latitude/longitude {_shown(lat_raw[i], 20)}, "
                   f"{_shown(lon_raw[i], 20)} are not finite numbers")
        chk.reject(~((lat >= -90) & (lat <= 90)),
                   lambda i: f"latitude {lat[i]:g} is outside -90..90")
        chk.reject(~((lon >= -180) & (lon <= 180)),
                   lambda i: f"longitude {lon[i]:g} is outside -180..180")

    # counts, integers, uncertainty
    for col in model.COUNT_COLUMNS:
        if col not in frame.columns:
            continue
        v, given = _floats(frame[col])
        values = raw(col)
        numbers[col] = v
        with np.errstate(invalid="ignore"):
            bad = given & ~(np.isfinite(v) & (v >= 0) & (np.mod(v, 1) == 0))
        chk.reject(bad, lambda i, c=col, vs=values: f"{c} {_shown(vs[i], 20)} is not a count "
                   "of people (a whole number, 0 or more)")
    for col in PRECISION_COLUMNS:
        if col not in frame.columns:
            continue
        v, given = _floats(frame[col])
        values = raw(col)
        numbers[col] = v
        chk.reject(given & ~np.isin(v, (1.0, 2.0, 3.0)),
                   lambda i, c=col, vs=values: f"{c} {_shown(vs[i], 20)} is not 1, 2 or 3")
    for col in OTHER_INT_COLUMNS:
        if col not in frame.columns:
            continue
        v, given = _floats(frame[col])
        values = raw(col)
        numbers[col] = v
        with np.errstate(invalid="ignore"):
            bad = given & ~(np.isfinite(v) & (np.abs(v) < MAX_WHOLE) & (np.mod(v, 1) == 0))
        chk.reject(bad, lambda i, c=col, vs=values: f"{c} {_shown(vs[i], 20)} is not a whole "
                   f"number between -{MAX_WHOLE:,.0f} and {MAX_WHOLE:,.0f}")
    if "uncertainty_km" in frame.columns:
        v, given = _floats(frame["uncertainty_km"])
        values = raw("uncertainty_km")
        numbers["uncertainty_km"] = v
        with np.errstate(invalid="ignore"):
            bad = given & ~(np.isfinite(v) & (v >= 0))
        chk.reject(bad, lambda i: f"uncertainty_km {_shown(values[i], 20)} is not a distance "
                   "in km (a finite number, 0 or more)")

    # plausibility: the point lies in (or within 50 km of) its country; an event whose stated
    # uncertainty is larger (a ship attack at sea, a region) may lie that much further out
    if "country" in frame.columns:
        unc = numbers.get("uncertainty_km")
        with np.errstate(invalid="ignore"):
            extra_m = (np.where(np.isfinite(unc) & (unc > 0), unc, 0.0) * 1000.0
                       if unc is not None else np.zeros(n))
        # at sea (ship attacks are coded to a coastal country): up to its 200 nmi zone
        sea = _at_sea(lat, lon, chk.alive)
        extra_m = np.where(sea, np.maximum(extra_m, (MARITIME_TOLERANCE_KM
                                                     - COUNTRY_TOLERANCE_KM) * 1000.0), extra_m)
        stripped = frame["country"].fillna("").astype("str").str.strip()
        codes, shown = pd.factorize(stripped)
        codes = np.asarray(codes)
        del stripped
        tol = COUNTRY_TOLERANCE_KM * 1000.0 + extra_m
        present = np.unique(codes[chk.alive & (codes >= 0)])
        for code in present:
            key = str(shown[code]).casefold()
            shape = _country(key) if key else None
            if shape is None:
                continue
            idx = np.flatnonzero(chk.alive & (codes == code))
            far = np.zeros(n, bool)
            far[idx] = shape.far(lat[idx], lon[idx], tol[idx])

            def why(i: int, s: _Country = shape) -> str:
                swapped = abs(lon[i]) <= 90 and bool(shapely.contains_xy(s.geom, lat[i], lon[i]))
                hint = ("latitude and longitude look swapped" if swapped
                        else "check the coordinates or the country")
                reach = COUNTRY_TOLERANCE_KM + extra_m[i] / 1000.0
                return (f"{lat[i]:g},{lon[i]:g} is more than {reach:g} km outside "
                        f"{shown[codes[i]]}; {hint}")
            chk.reject(far, why)

    # ids: given (verbatim; blank → derived); each id once per file
    ids = (frame["event_id_cnty"].fillna("").astype("str") if "event_id_cnty" in frame.columns
           else pd.Series([""] * n, dtype="str"))
    blank_id = (ids.str.strip() == "").to_numpy(bool)
    todo = np.flatnonzero(chk.alive & blank_id)
    if len(todo):
        import pyarrow as pa
        import pyarrow.compute as pc

        mask = np.zeros(n, bool)
        mask[todo] = True
        derived = _derived_ids(frame, todo, stamps, lat, lon)
        ids = model.arrow_text(pc.replace_with_mask(pa.array(ids.array, pa.string()),
                                                    pa.array(mask), derived))
        del derived
    alive_idx = np.flatnonzero(chk.alive)
    alive_ids = ids.iloc[alive_idx].reset_index(drop=True)
    id_codes = np.asarray(pd.factorize(alive_ids)[0])  # Arrow hashing, no Python strings
    dup = pd.Series(id_codes).duplicated(keep="first").to_numpy(bool)
    if dup.any():
        firsts = alive_ids[~dup]
        first_row = dict(zip(firsts.tolist(), chk.rows[alive_idx[~dup]].tolist(), strict=True))
        mask = np.zeros(n, bool)
        mask[alive_idx[dup]] = True
        chk.reject(mask, lambda i, ids=ids: f"event id {_shown(ids.iloc[i])} repeats "
                   f"{label} {first_row[ids.iloc[i]]}")

    keep = np.flatnonzero(chk.alive)
    columns: dict[str, Any] = {
        col: frame[col].take(keep).reset_index(drop=True) for col in frame.columns
        if col not in numbers and col not in ("event_date", "event_id_cnty")}
    columns["event_date"] = pd.Series(stamps[keep], dtype="datetime64[ns]")
    columns["event_id_cnty"] = ids.take(keep).reset_index(drop=True)
    for col, values in numbers.items():
        columns[col] = values[keep]
    del ids, stamps, numbers
    lat = lon = status = None  # the full-length arrays are not needed any more
    frame.drop(columns=list(frame.columns), inplace=True)  # the raw table is no longer needed
    _release_free_memory()
    return model.normalise(pd.DataFrame(columns, copy=False)), chk.rejected()


def _result(frame: pd.DataFrame, rows: np.ndarray, bad: list[Rejected], label: str,
            csv_text: bool = False) -> ImportResult:
    events, more_bad = _validate(frame, rows, label, csv_text)
    return ImportResult(events=events, rejected=sorted(bad + more_bad, key=lambda r: r.row),
                        row_label=label)


# ------------------------------------------------------------------------------------ CSV
def _canonical(header: list[str]) -> dict[int, str]:
    """Map CSV header positions to model columns (coordinates and date by common names)."""
    lowered = [str(h).strip().casefold() for h in header]
    out: dict[int, str] = {}
    for i, h in enumerate(lowered):
        if h in _WANTED and h not in out.values():
            out[i] = h
    for names, target in ((LAT_NAMES, "latitude"), (LON_NAMES, "longitude"),
                          (DATE_NAMES, "event_date"), (("layer",), "category")):
        if target not in out.values():
            for name in names:
                if name in lowered and lowered.index(name) not in out:
                    out[lowered.index(name)] = target
                    break
    return out


_NEEDED = (("latitude (lat/latitude/Y)", "latitude"), ("longitude (lon/longitude/X)", "longitude"),
           ("date (event_date/date)", "event_date"))


def _missing(cols: dict[int, str]) -> list[str]:
    return [what for what, col in _NEEDED if col not in cols.values()]


def _header(text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"',
                               doublequote=True, strict=False))
    except (StopIteration, csv.Error):
        return []


def _choose_delimiter(text: str, suffix: str) -> tuple[str, list[str]]:
    """RFC 4180 comma (tab for .tsv); other separators only when that header lacks columns."""
    standard = "\t" if suffix == ".tsv" else ","
    header = _header(text, standard)
    if not header:
        raise ImportRejected("The CSV file has no header row.")
    missing = _missing(_canonical(header))
    if not missing:
        return standard, header
    for delimiter in FALLBACK_DELIMITERS:
        other = _header(text, delimiter)
        if len(other) > 1 and not _missing(_canonical(other)):
            return delimiter, other
    listed = ", ".join(missing[:-1]) + " or " + missing[-1] if len(missing) > 1 else missing[0]
    raise ImportRejected(f"The CSV file has no {listed} column.")


def _parse_csv(text: str, delimiter: str, names: int | None = None) -> tuple[pd.DataFrame, list]:
    """All records (header first) as text columns, and pandas' notes on over-long records."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pd.read_csv(
                io.StringIO(text), sep=delimiter, header=None, dtype="str", na_filter=False,
                skip_blank_lines=False, on_bad_lines="warn", engine="c", quotechar='"',
                doublequote=True, escapechar=None, quoting=csv.QUOTE_MINIMAL, comment=None,
                skipinitialspace=False, index_col=False,
                names=None if names is None else list(range(names)))
        except pd.errors.EmptyDataError:
            raise ImportRejected("The CSV file has no header row.") from None
        except (pd.errors.ParserError, ValueError, OverflowError, MemoryError) as err:
            raise ImportRejected(f"The CSV file cannot be parsed ({_one_line(err, 100)}).") \
                from None
    skipped = []
    for w in caught:
        skipped.extend(_SKIPPED_LINE.findall(str(w.message)))
    return frame, skipped


def _parse_csv_arrow(data: bytes, delimiter: str, width: int) -> pd.DataFrame | None:
    """The same records as :func:`_parse_csv`, read by Arrow's multi-threaded RFC 4180 parser;
    None when this fast path does not apply (a record with another number of fields, an odd
    number of quote characters, a field longer than a parse block) — the caller then uses
    pandas' parser, which handles those cases record by record."""
    if data.count(b'"') % 2:
        return None
    try:
        import pyarrow as pa
        import pyarrow.csv as pcsv
    except ImportError:
        return None
    odd: list[Any] = []

    def invalid(row: Any) -> str:
        odd.append(row)
        return "error"  # stop at once: pandas' parser reads such files record by record

    names = [f"f{i}" for i in range(width)]
    try:
        table = pcsv.read_csv(
            pa.BufferReader(data),
            # one block: Arrow's chunker drops the LF of a quoted CR LF that straddles a
            # block boundary (a silent change of the text), so the text is not split
            read_options=pcsv.ReadOptions(column_names=names,
                                          block_size=min(len(data) + 1, 2**31 - 1)),
            parse_options=pcsv.ParseOptions(
                delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=invalid),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except Exception:  # e.g. a field longer than a block: pandas' parser has no such limit
        return None
    if odd:
        return None
    frame = table.to_pandas()
    frame.columns = list(range(width))
    return frame


def _field_counts(text: str, delimiter: str) -> np.ndarray:
    """Number of fields of every record (header first), by Python's RFC 4180 reader."""
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                            doublequote=True, strict=False)
        return np.fromiter((len(rec) for rec in reader), dtype=np.int64)
    except csv.Error as err:
        raise ImportRejected(f"The CSV file cannot be parsed ({_one_line(err, 100)}).") from None


def _stream_csv(path: Path, suffix: str) -> ImportResult | None:
    """A CSV file on disk read piece by piece (pieces of about ``STREAM_BLOCK_BYTES`` cut at
    record boundaries, each parsed by the same Arrow parser as the one-pass reader and
    validated by :func:`_validate` as it comes), so the file's text is never held whole:
    memory grows with the accepted events, not with the file.

    Gives exactly what :func:`_read_csv` gives (the same events, line numbers and reasons; an
    id repeated in a later piece is rejected as it would be in one pass). Returns None when
    this path does not apply — UTF-16, a record whose field count differs from the header's,
    an unbalanced quote, text that is not UTF-8, no usable header — and the caller then reads
    the whole file, which handles (or explains) those cases.
    """
    try:
        with open(path, "rb") as fh:
            head_bytes = fh.read(1 << 20)
            quotes = head_bytes.count(b'"')
            while block := fh.read(STREAM_BLOCK_BYTES):
                quotes += block.count(b'"')
    except OSError:
        return None
    if quotes % 2 or head_bytes.startswith((b"\xff\xfe", b"\xfe\xff")) \
            or _looks_binary(head_bytes) or _BLANK.fullmatch(head_bytes):
        return None
    try:
        delimiter, header = _choose_delimiter(head_bytes.decode("utf-8-sig", "ignore"), suffix)
    except ImportRejected:
        return None
    width = len(header)
    cols = _canonical(header)
    parts: list[gpd.GeoDataFrame] = []
    part_lines: list[np.ndarray] = []
    bad: list[Rejected] = []
    line = 1  # physical line where the next piece starts
    first = True
    try:
        for piece in columnar.record_pieces(path, STREAM_BLOCK_BYTES):
            if not first and piece.startswith(b"\xef\xbb\xbf"):
                return None  # Arrow would drop a BOM-like text at a piece's start
            try:
                piece.decode("utf-8-sig" if first else "utf-8")
            except UnicodeDecodeError:
                return None  # the one-pass reader says where the bad byte is
            frame = _parse_csv_arrow(piece, delimiter, width)
            if frame is None:
                return None
            nrec = len(frame)
            feeds = piece.count(b"\n")
            inner = np.zeros(nrec, np.int64)
            if feeds != (nrec if piece.endswith(b"\n") else nrec - 1):
                for col in frame.columns:
                    inner += frame[col].str.count("\n").fillna(0).to_numpy(np.int64)
            lines = line + np.arange(nrec) + np.concatenate([[0], np.cumsum(inner)[:-1]])
            line += feeds
            del piece
            if first:
                frame, lines, first = frame.iloc[1:].reset_index(drop=True), lines[1:], False
            blank = np.ones(len(frame), bool)
            for col in frame.columns:
                idx = np.flatnonzero(blank)
                if len(idx) == 0:
                    break
                blank[idx] = (frame[col].iloc[idx].str.strip() == "").fillna(True).to_numpy(bool)
            keep = np.flatnonzero(~blank)
            if len(keep) == 0:
                continue
            raw = pd.DataFrame({target: frame[pos].iloc[keep].reset_index(drop=True)
                                for pos, target in cols.items() if pos in frame.columns})
            del frame
            events, rejected = _validate(raw, lines[keep], "line", csv_text=True)
            del raw
            gone = np.fromiter((r.row for r in rejected), np.int64, len(rejected))
            part_lines.append(lines[keep][~np.isin(lines[keep], gone)])
            parts.append(events)
            bad += rejected
    except OSError:
        return None
    if first:
        return None
    if not parts:  # only a header (and blank rows): what the one-pass reader gives
        empty = pd.DataFrame({target: pd.Series([], dtype="str") for target in cols.values()})
        return _result(empty, np.zeros(0, np.int64), bad, "line", csv_text=True)
    return _combine(parts, part_lines, bad, "line")


def _combine(parts: list[gpd.GeoDataFrame], part_rows: list[np.ndarray],
             bad: list[Rejected], label: str) -> ImportResult:
    """One result from blocks validated one by one (``part_rows``: the line or row numbers
    of each block's accepted events). An id accepted in one block and given again in a later
    one is rejected there, as the one-pass check rejects every repeat after the first."""
    events = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    parts.clear()
    accepted = np.concatenate(part_rows)
    ids = events["event_id_cnty"]
    dup = ids.duplicated(keep="first").to_numpy(bool)
    if dup.any():
        first_row = dict(zip(ids[~dup].tolist(), accepted[~dup].tolist(), strict=True))
        for i in np.flatnonzero(dup):
            row = int(accepted[i])
            bad.append(Rejected(row, f"{label} {row}: event id {_shown(ids.iloc[i])} repeats "
                                f"{label} {first_row[ids.iloc[i]]}"))
        events = events.iloc[np.flatnonzero(~dup)].reset_index(drop=True)
    gdf = gpd.GeoDataFrame(events, geometry="geometry", crs="EPSG:4326", copy=False)
    _release_free_memory()
    return ImportResult(events=gdf, rejected=sorted(bad, key=lambda r: r.row), row_label=label)


def _read_csv(source: bytes | list[bytes], suffix: str = ".csv") -> ImportResult:
    """CSV from UTF-8 bytes (validated; a BOM is allowed). The whole text is decoded to a
    Python string only when the fast Arrow parse does not apply. Given a one-item list, the
    bytes are taken out of it, so they are freed once parsed (no caller keeps them)."""
    data = source.pop() if isinstance(source, list) else source
    csv.field_size_limit(max(csv.field_size_limit(), settings.MAX_IMPORT_BYTES + 1))
    head = data[:1 << 20].decode("utf-8-sig", "ignore")  # ignore: a character cut at the end
    try:
        delimiter, header = _choose_delimiter(head, suffix)
    except ImportRejected:
        if len(data) <= len(head):
            raise
        delimiter, header = _choose_delimiter(data.decode("utf-8-sig"), suffix)
    fast = _parse_csv_arrow(data, delimiter, len(header))
    _release_free_memory()  # the parser's buffers
    text = data.decode("utf-8-sig") if fast is None else ""
    width = len(header)
    too_long: dict[int, int] = {}
    if fast is not None:
        frame = fast
    else:  # count every record's fields first (linear), then read wide enough for all
        sizes = _field_counts(text, delimiter)
        most = int(sizes.max()) if len(sizes) else width
        frame, _ = _parse_csv(text, delimiter, names=max(most, width))
        if len(sizes) == len(frame):
            too_long = {int(i): int(sizes[i]) for i in np.flatnonzero(sizes > width)}
    # physical line of each record: 1 + records before it + line breaks inside earlier records
    nrec = len(frame)
    breaks = data.count(b"\n")
    if breaks == (nrec if data.endswith(b"\n") else nrec - 1):
        inner = np.zeros(nrec, np.int64)
    else:
        inner = np.zeros(nrec, np.int64)
        for col in frame.columns:
            inner += frame[col].str.count("\n").fillna(0).to_numpy(np.int64)
    lines = 1 + np.arange(nrec) + np.concatenate([[0], np.cumsum(inner)[:-1]])
    data = frame.iloc[1:].reset_index(drop=True)
    lines = lines[1:]
    blank = np.ones(len(data), bool)
    for col in data.columns:
        idx = np.flatnonzero(blank)
        if len(idx) == 0:
            break
        blank[idx] = (data[col].iloc[idx].str.strip() == "").fillna(True).to_numpy(bool)
    bad: list[Rejected] = []
    if too_long:
        filled = np.zeros(len(data), bool)  # something in a field beyond the header's
        for col in data.columns[width:]:
            filled |= (data[col].fillna("").str.strip() != "").to_numpy(bool)
        extra = np.zeros(len(data), bool)
        for record, saw in too_long.items():
            i = record - 1  # data rows start after the header record
            if 0 <= i < len(data) and filled[i]:
                extra[i] = True
                bad.append(Rejected(int(lines[i]), f"line {lines[i]}: the row has {saw} fields "
                                    f"but the header has {len(header)}"))
        blank |= extra
    keep = np.flatnonzero(~blank)
    cols = _canonical(header)
    raw = pd.DataFrame({target: data[pos].iloc[keep].reset_index(drop=True)
                        for pos, target in cols.items() if pos in data.columns})
    del frame, data
    return _result(raw, lines[keep], bad, "line", csv_text=True)


# -------------------------------------------------------------------------------- GeoJSON
def _json_int(digits: str) -> int | str:
    """JSON integers; beyond Python's digit limit kept as their text (rejected as a number)."""
    return int(digits) if len(digits) <= 4000 else digits


def _json_type(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


def _bad_text(row: dict[str, Any]) -> str | None:
    """Reason for text the store cannot hold: a NUL or an unpaired surrogate (any value)."""
    for key, value in row.items():
        for text in (value if isinstance(value, list) else [value]):
            if not isinstance(text, str):
                continue
            if _SURROGATE.search(text):
                return (f"{key} contains an unpaired UTF-16 surrogate (such as \\ud800), which "
                        "is not valid Unicode text")
            if "\x00" in text and key in _STORED_TEXT:
                return (f"{key} contains a NUL character (\\x00), which cannot be stored; "
                        "remove it and import again")
    return None


def _read_geojson(text: str) -> ImportResult:
    if not _json_depth_ok(text, settings.MAX_JSON_DEPTH):
        raise ImportRejected(f"The JSON nests deeper than {settings.MAX_JSON_DEPTH} levels; "
                             "it is not a GeoJSON file of events.")
    try:
        data = json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as err:
        raise ImportRejected(f"JSON syntax error at line {err.lineno}, column {err.colno}: "
                             f"{err.msg}.") from None
    except (ValueError, RecursionError) as err:
        raise ImportRejected(f"The JSON cannot be read ({_one_line(err, 100)}).") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" \
            or not isinstance(data.get("features"), list):
        raise ImportRejected("The JSON is not a GeoJSON FeatureCollection.")
    rows: list[dict[str, Any]] = []
    nums: list[int] = []
    bad: list[Rejected] = []
    for n, feat in enumerate(data["features"], start=1):
        if not isinstance(feat, dict):
            bad.append(Rejected(n, f"feature {n}: it is {_json_type(feat)}, not a GeoJSON "
                                "Feature object"))
            continue
        props = feat.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            bad.append(Rejected(n, f"feature {n}: its properties are {_json_type(props)}, not "
                                "an object of names and values"))
            continue
        geom = feat.get("geometry")
        if not isinstance(geom, dict) or not geom.get("coordinates"):
            bad.append(Rejected(n, f"feature {n}: the geometry is empty"))
            continue
        if geom.get("type") != "Point":
            bad.append(Rejected(n, f"feature {n}: the geometry is a "
                                f"{_one_line(geom.get('type'), 40)}, not a Point"))
            continue
        coords = geom["coordinates"]
        if not isinstance(coords, list) or len(coords) < 2:
            bad.append(Rejected(n, f"feature {n}: the Point has no lon,lat pair"))
            continue
        row = {k: v for k, v in props.items() if k in _WANTED}
        if "event_date" not in row and "date" in props:
            row["event_date"] = props["date"]
        if "category" not in row and "layer" in props:
            row["category"] = props["layer"]
        row["longitude"], row["latitude"] = coords[0], coords[1]
        for key in _NUMERIC.intersection(row):
            if isinstance(row[key], float) and math.isnan(row[key]):
                row[key] = "NaN"  # given explicitly (JSON NaN): rejected like the text "NaN"
        problem = _bad_text(row)
        if problem:
            bad.append(Rejected(n, f"feature {n}: {problem}"))
            continue
        rows.append(row)
        nums.append(n)
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    return _result(frame, np.asarray(nums, dtype=np.int64), bad, "feature")


# ----------------------------------------------------------------------------- GeoPackage
def _choose_layer(listing: np.ndarray) -> str:
    names = [str(row[0]) for row in listing]
    if "events" in names:
        return "events"
    spatial = [(str(row[0]), str(row[1])) for row in listing if row[1] is not None]
    points = [name for name, gtype in spatial if "point" in gtype.casefold()]
    if len(points) == 1:
        return points[0]
    if len(points) > 1:
        shown = _one_line(", ".join(points), 120)
        raise ImportRejected(f"The GeoPackage has several point layers ({shown}) and none is "
                             "named 'events'; name the events layer 'events'.")
    if len(spatial) == 1:
        return spatial[0][0]
    shown = ", ".join(names) if names else "none"
    raise ImportRejected(f"The GeoPackage has no point layer and no layer named 'events' "
                         f"(layers: {_one_line(shown, 100)}).")


def _to_wgs84(frame: gpd.GeoDataFrame, layer: str, what: str | None = None
              ) -> gpd.GeoDataFrame:
    """Points in longitude/latitude (EPSG:4326): a GeoPackage layer's or GeoParquet file's
    own CRS is transformed; without a CRS the coordinates must already be degrees.
    ``what`` names the source in messages (default: the GeoPackage layer)."""
    what = what or f"The GeoPackage layer {layer!r}"
    if frame.crs is None:
        x, y = shapely.get_x(frame.geometry.values), shapely.get_y(frame.geometry.values)
        with np.errstate(invalid="ignore"):
            wild = np.isfinite(x) & np.isfinite(y) & ((np.abs(x) > 180) | (np.abs(y) > 90))
        if wild.any():
            i = int(np.flatnonzero(wild)[0])
            raise ImportRejected(
                f"{what} has no coordinate reference system and its "
                f"coordinates (e.g. {x[i]:,.0f}, {y[i]:,.0f}) are not longitude/latitude; save "
                "it with its CRS or in EPSG:4326.")
        return frame.set_crs("EPSG:4326")
    if frame.crs.equals("EPSG:4326", ignore_axis_order=True):
        return frame
    try:
        return frame.to_crs("EPSG:4326")
    except Exception as err:  # pyproj raises several types for CRSs it cannot transform
        raise ImportRejected(f"{what} is in {frame.crs.name}, which "
                             f"cannot be converted to longitude/latitude "
                             f"({_one_line(err, 80)}).") from None


def _read_gpkg(data: bytes) -> ImportResult:
    import pyogrio

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(tmp) / "upload.gpkg"
        path.write_bytes(data)
        try:
            layer = _choose_layer(pyogrio.list_layers(path))
            frame = pyogrio.read_dataframe(path, layer=layer)
        except ImportRejected:
            raise
        except Exception as err:  # pyogrio raises several error types for unreadable files
            raise ImportRejected(f"The GeoPackage cannot be read ({_one_line(err, 120)}).") \
                from None
        if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
            raise ImportRejected(f"The GeoPackage layer {layer!r} has no geometry column.")
        frame = _to_wgs84(frame, layer)
    geoms = frame.geometry.values
    nums = np.arange(1, len(frame) + 1)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = shapely.get_type_id(geoms)
    bad = [Rejected(int(n), f"feature {n}: the geometry is empty") for n in nums[empty]]
    not_point = ~empty & (kinds != 0)
    names = {1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
             5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}
    bad += [Rejected(int(n), f"feature {n}: the geometry is a {names.get(int(t), 'geometry')}, "
                     "not a Point") for n, t in zip(nums[not_point], kinds[not_point],
                                                    strict=True)]
    ok = ~empty & ~not_point
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    table.columns = [str(c) for c in table.columns]
    if "category" not in table.columns and "layer" in table.columns:
        table = table.rename(columns={"layer": "category"})
    if "event_date" not in table.columns and "date" in table.columns:
        table = table.rename(columns={"date": "event_date"})
    table = table[[c for c in table.columns if c in _WANTED]].iloc[np.flatnonzero(ok)]
    table = table.reset_index(drop=True)
    table["longitude"] = shapely.get_x(geoms[ok])
    table["latitude"] = shapely.get_y(geoms[ok])
    return _result(table, nums[ok], bad, "feature")


# ------------------------------------------------------------------------------ GeoParquet
def _parquet_sentence(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return _one_line(lines[0] if lines else type(err).__name__, 100)


def _check_parquet_file(path: Path, shown: str) -> None:
    """One sentence unless ``path`` starts and ends with the Parquet magic ``PAR1`` (a file
    cut short loses its footer, so this catches truncation before any reading)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(4)
            fh.seek(max(0, size - 4))
            tail = fh.read(4)
    except OSError as err:
        raise ImportRejected(f"{shown} cannot be read ({err.strerror}).") from None
    if size == 0:
        raise ImportRejected(f"{shown} is empty.")
    if head != PARQUET_MAGIC:
        raise ImportRejected(f"{shown} is not a Parquet file (it does not start with the "
                             "Parquet signature).")
    if size < 12 or tail != PARQUET_MAGIC:
        raise ImportRejected(f"{shown} is a damaged or truncated Parquet file (its footer is "
                             "missing).")


def _dataset_files(folder: Path) -> list[Path]:
    """The Parquet files of a dataset folder (hive partitions such as ``year=2024/``; names
    starting with ``.`` or ``_`` are skipped, as pyarrow does), or one sentence why the folder
    is not a GeoParquet dataset."""
    files: list[Path] = []
    try:
        entries = sorted(folder.rglob("*"))
    except OSError as err:
        raise ImportRejected(f"The folder {folder.name} cannot be read ({err.strerror}).") \
            from None
    for p in entries:
        rel = p.relative_to(folder)
        if any(part.startswith((".", "_")) for part in rel.parts):
            continue
        if p.is_dir():
            if "=" not in p.name:
                raise ImportRejected(
                    f"The folder {folder.name} is not a GeoParquet dataset: its subfolder "
                    f"{_one_line(str(rel), 60)!r} is not a partition such as year=2024.")
            continue
        if p.suffix.casefold() not in PARQUET_SUFFIXES:
            raise ImportRejected(
                f"The folder {folder.name} is not a GeoParquet dataset: it holds "
                f"{_one_line(str(rel), 60)!r}, which is not a .parquet file.")
        files.append(p)
    if not files:
        raise ImportRejected(f"The folder {folder.name} holds no .parquet files; it is not a "
                             "GeoParquet dataset.")
    return files


def _geo_meta(schema: Any, shown: str) -> dict[str, Any] | None:
    """The GeoParquet ``geo`` metadata (checked), or None for a plain Parquet table."""
    raw = (schema.metadata or {}).get(b"geo")
    if raw is None:
        return None
    try:
        meta = json.loads(raw)
        primary = meta["primary_column"]
        column = meta["columns"][primary]
        if not isinstance(primary, str) or not isinstance(column, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ImportRejected(f"{shown} has GeoParquet metadata that cannot be read (no "
                             "valid primary geometry column).") from None
    return {"primary": primary, "encoding": str(column.get("encoding", "WKB")),
            "crs": column.get("crs", "OGC:CRS84"), "has_crs": "crs" in column}


def _parquet_crs(meta: dict[str, Any], shown: str) -> Any:
    from pyproj import CRS

    if meta["has_crs"] and meta["crs"] is None:
        return None  # "unknown" in the GeoParquet specification
    try:
        return CRS.from_user_input(meta["crs"])
    except Exception:  # pyproj raises several types for a CRS it cannot read
        raise ImportRejected(f"{shown} has a coordinate reference system in its GeoParquet "
                             "metadata that cannot be read.") from None


def _geometries(column: Any, encoding: str, shown: str) -> tuple[np.ndarray, np.ndarray]:
    """(shapely geometries or None, True where a value is present but not valid WKB)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if encoding.casefold() == "wkb" and (pa.types.is_binary(col.type)
                                         or pa.types.is_large_binary(col.type)):
        blobs = col.to_numpy(zero_copy_only=False)
        geoms = shapely.from_wkb(blobs, on_invalid="ignore")
        return geoms, np.asarray(shapely.is_missing(geoms), bool) & ~np.asarray(
            pc.is_null(col).to_numpy(zero_copy_only=False), bool)
    if encoding.casefold() == "point" and pa.types.is_struct(col.type) \
            and {"x", "y"} <= {col.type.field(i).name for i in range(col.type.num_fields)}:
        x = pc.struct_field(col, "x").to_numpy(zero_copy_only=False).astype(float)
        y = pc.struct_field(col, "y").to_numpy(zero_copy_only=False).astype(float)
        geoms = shapely.points(x, y)
        null = np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False), bool)
        geoms[null] = None
        return geoms, np.zeros(len(col), bool)
    raise ImportRejected(f"{shown} stores its geometry as {_one_line(encoding, 30)!r} "
                         f"({col.type}); write it as WKB points (GeoParquet 1.0).")


def _text_column(col: Any) -> tuple[Any, np.ndarray]:
    """A string/binary Arrow column as a UTF-8 string column and a mask of values that are
    not valid UTF-8 (those become empty; their rows are rejected)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(col)
    bad = np.zeros(n, bool)
    as_bytes = col.cast(pa.large_binary())
    try:
        return pc.cast(as_bytes, pa.large_string()).cast(pa.string()), bad
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    values: list[str | None] = []
    for i, blob in enumerate(as_bytes.to_pylist()):
        if blob is None:
            values.append(None)
            continue
        try:
            values.append(blob.decode("utf-8"))
        except UnicodeDecodeError:
            bad[i] = True
            values.append("")
    return pa.array(values, pa.string()), bad


def _arrow_to_raw(table: Any, shown: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The model columns of an Arrow table as a raw frame for :func:`_validate` (names
    matched as in a CSV header), and per row the first reason found here ("" when none):
    text that is not UTF-8, a NUL in a list of sources."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    reasons = np.full(n, "", dtype=object)
    cols = _canonical(list(table.column_names))
    out: dict[str, Any] = {}
    for pos, target in cols.items():
        col = table.column(pos).combine_chunks()
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        kind = col.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind) \
                or pa.types.is_binary(kind) or pa.types.is_large_binary(kind) \
                or pa.types.is_string_view(kind) or pa.types.is_binary_view(kind):
            col, bad = _text_column(col)
            reasons[bad & (reasons == "")] = f"{target} is not valid UTF-8 text"
            out[target] = model.arrow_text(col)
            continue
        if target == "sources" and (pa.types.is_list(kind) or pa.types.is_large_list(kind)):
            values = pc.list_flatten(col)
            if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
                nul = pc.match_substring(values, "\x00").fill_null(False)
                rows = pc.list_parent_indices(col).to_numpy(zero_copy_only=False)
                hit = np.zeros(n, bool)
                hit[rows[np.asarray(nul.to_numpy(zero_copy_only=False), bool)]] = True
                reasons[hit & (reasons == "")] = ("sources contains a NUL character (\\x00), "
                                                  "which cannot be stored; remove it and "
                                                  "import again")
        try:
            series = col.to_pandas()
        except (pa.ArrowException, ValueError, OverflowError):  # e.g. timestamps beyond ns
            series = pd.Series(col.to_pylist(), dtype=object)
        out[target] = pd.Series(series).reset_index(drop=True)
    return pd.DataFrame(out, index=pd.RangeIndex(n)), reasons


def _parquet_block(table: Any, geo: dict[str, Any] | None, crs: Any, shown: str,
                   first: int) -> tuple[pd.DataFrame, np.ndarray, list[Rejected]]:
    """One block of a Parquet file (rows numbered from ``first``): the raw model columns of
    the rows that pass the Parquet-level checks (geometry, UTF-8, NULs in lists) for
    :func:`_validate`, their row numbers, and the rows rejected here."""
    n = table.num_rows
    nums = np.arange(first, first + n)
    if geo is None:
        raw, reasons = _arrow_to_raw(table, shown)
    else:
        geoms, invalid = _geometries(table.column(geo["primary"]), geo["encoding"], shown)
        rest = table.drop_columns([c for c in table.column_names
                                   if c in (geo["primary"], "bbox")
                                   or c.strip().casefold() in (*LAT_NAMES, *LON_NAMES)])
        raw, reasons = _arrow_to_raw(rest, shown)
        del rest
        empty = ~invalid & (shapely.is_missing(geoms) | shapely.is_empty(geoms))
        kinds = shapely.get_type_id(geoms)
        names = {1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
                 5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}
        for mask, why in ((invalid, lambda _k: "the geometry is not valid WKB"),
                          (empty, lambda _k: "the geometry is empty"),
                          (~invalid & ~empty & (kinds != 0),
                           lambda k: f"the geometry is a {names.get(int(k), 'geometry')}, "
                                     "not a Point")):
            for i in np.flatnonzero(mask & (reasons == "")):
                reasons[i] = why(kinds[i])
    ok = np.flatnonzero(reasons == "")
    bad = [Rejected(int(nums[i]), f"row {nums[i]}: {reasons[i]}")
           for i in np.flatnonzero(reasons != "")]
    if len(ok) < n:
        raw = raw.iloc[ok].reset_index(drop=True)
    if geo is not None:
        points = gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms[ok]), crs=crs)
        points = _to_wgs84(points, "", what=shown)
        raw["longitude"] = shapely.get_x(points.geometry.values)
        raw["latitude"] = shapely.get_y(points.geometry.values)
    return raw, nums[ok], bad


def _partition_values(path: Path, base: Path | None) -> list[tuple[str, str | None]]:
    """Hive partition values of a file below ``base`` from its folder names (``year=2024``,
    percent-encoded; ``__HIVE_DEFAULT_PARTITION__`` is missing)."""
    from urllib.parse import unquote

    if base is None:
        return []
    out = []
    for part in path.relative_to(base).parts[:-1]:
        key, _, value = part.partition("=")
        out.append((key, None if value == "__HIVE_DEFAULT_PARTITION__" else unquote(value)))
    return out


def _read_parquet(files: list[Path], base: Path | None, shown: str) -> ImportResult:
    """Events from one Parquet file (``base`` None) or the files of a hive-partitioned
    dataset folder ``base`` (partition values from the folder names become text columns).
    GeoParquet geometry (WKB or GeoArrow points, any CRS: transformed to longitude/latitude)
    gives the coordinates; a plain Parquet table needs latitude/longitude columns like a CSV
    file. Rows are numbered from 1 in file order.

    Read in blocks of ``PARQUET_BATCH_ROWS`` rows by pyarrow's Parquet reader (not its
    dataset scanner, whose threads can abort the process at exit, apache/arrow#34314), each
    validated as it comes: memory grows with the accepted events, not with the file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    for f in files:
        _check_parquet_file(f, shown if base is None else f"{shown}/{f.relative_to(base)}")
    parts: list[gpd.GeoDataFrame] = []
    part_rows: list[np.ndarray] = []
    bad: list[Rejected] = []
    done = 0
    for f in files:
        name = shown if base is None else f"{shown}/{f.relative_to(base)}"
        keys = _partition_values(f, base)
        try:
            pf = pq.ParquetFile(f)
            schema = pf.schema_arrow
            geo = _geo_meta(schema, name)
            if geo is not None and geo["primary"] not in schema.names:
                raise ImportRejected(f"{name} names the geometry column "
                                     f"{_one_line(geo['primary'], 40)!r} in its GeoParquet "
                                     "metadata but has no such column.")
            if geo is None:
                missing = _missing(_canonical([*schema.names, *(k for k, _ in keys)]))
                if missing:
                    listed = ", ".join(missing[:-1]) + " or " + missing[-1] \
                        if len(missing) > 1 else missing[0]
                    raise ImportRejected(f"{name} has no GeoParquet geometry and no {listed} "
                                         "column.")
            crs = _parquet_crs(geo, name) if geo is not None else None
            for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                table = pa.Table.from_batches([batch])
                for key, value in keys:
                    if key not in table.column_names:
                        table = table.append_column(key, pa.repeat(pa.scalar(value, pa.string()),
                                                                   table.num_rows))
                raw, nums, rejected = _parquet_block(table, geo, crs, name, done + 1)
                done += table.num_rows
                del table, batch
                events, more = _validate(raw, nums, "row")
                del raw
                gone = np.fromiter((r.row for r in more), np.int64, len(more))
                part_rows.append(nums[~np.isin(nums, gone)])
                parts.append(events)
                bad += rejected + more
        except ImportRejected:
            raise
        except (pa.ArrowException, OSError, ValueError, TypeError, IndexError) as err:
            raise ImportRejected(f"{name} cannot be read as Parquet "
                                 f"({_parquet_sentence(err)}).") from None
    if not parts:
        return _result(pd.DataFrame(), np.zeros(0, np.int64), bad, "row")
    return _combine(parts, part_rows, bad, "row")


def _import_parquet_path(path: Path) -> ImportResult:
    """A Parquet file or a dataset folder on disk, size-checked like any import."""
    if path.is_dir():
        files = _dataset_files(path)
        total = sum(f.stat().st_size for f in files)
        _check_size(total, f"The dataset folder {path.name}")
        base: Path | None = path
    else:
        files = [path]
        _check_size(path.stat().st_size)
        base = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _read_parquet(files, base, path.name)


# ------------------------------------------------------------------------------ entry points
def import_bytes(data: bytes, filename: str) -> ImportResult:
    """Read an uploaded file by its name's extension; see the module docstring."""
    return _import([data], filename)


def _import(holder: list[bytes], filename: str) -> ImportResult:
    """:func:`import_bytes` on the bytes in ``holder``, which the CSV reader takes out (and
    frees after parsing) when nobody else holds them."""
    data = holder[0]
    _check_size(len(data))
    suffix = Path(str(filename)).suffix.casefold()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # library warnings never reach the user
        if suffix in PARQUET_SUFFIXES:
            if not data.startswith(PARQUET_MAGIC):
                raise ImportRejected(f"The file is named {suffix} but is not a Parquet file.")
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"upload{suffix}"
                path.write_bytes(data)
                del data
                holder.clear()
                return _read_parquet([path], None, Path(str(filename)).name or "The file")
        if suffix in GPKG_SUFFIXES:
            if not data.startswith(b"SQLite format 3\x00"):
                raise ImportRejected("The file is named .gpkg but is not a GeoPackage (SQLite) "
                                     "file.")
            return _read_gpkg(data)
        if suffix in JSON_SUFFIXES:
            return _read_geojson(_decode(data))
        if suffix in CSV_SUFFIXES:
            if data.startswith((b"\xff\xfe", b"\xfe\xff")):
                data = holder[0] = _decode(data).encode("utf-8")
            else:
                _decode(data)  # checks: not binary, valid UTF-8 (the text itself is not kept)
            if _BLANK.fullmatch(data):
                raise ImportRejected("The file is empty.")
            del data  # the reader takes the only reference out of ``holder``
            return _read_csv(holder, suffix)
    raise ImportRejected(f"Unknown file type {suffix or '(no extension)'!r}; use .csv, "
                         ".geojson/.json, .gpkg or .parquet.")


def import_file(path: Path) -> ImportResult:
    """:func:`import_bytes` for a file on disk (size checked before reading); also a folder
    that is a (hive-partitioned) GeoParquet dataset, whose files together count against the
    size limit. A Parquet file is read in place (not copied into memory first)."""
    path = Path(path)
    if path.is_dir():
        return _import_parquet_path(path)
    if not path.is_file():
        raise ImportRejected(f"{path} does not exist or is not a file.")
    if path.suffix.casefold() in PARQUET_SUFFIXES:
        return _import_parquet_path(path)
    suffix = path.suffix.casefold()
    if suffix in CSV_SUFFIXES and path.stat().st_size >= STREAM_MIN_BYTES:
        _check_size(path.stat().st_size)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            streamed = _stream_csv(path, suffix)
        if streamed is not None:
            return streamed
    _check_size(path.stat().st_size)
    try:
        holder = [path.read_bytes()]
    except OSError as err:
        raise ImportRejected(f"{path} cannot be read ({err.strerror}).") from None
    return _import(holder, path.name)
