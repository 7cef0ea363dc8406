"""Import analysts' event files: ACLED CSV exports, generic CSV, GeoJSON, GeoPackage.

One entry point for the CLI and the page: :func:`import_bytes` (and :func:`import_file`).
Rows that fail validation are rejected one by one with their line (CSV) or feature (GeoJSON,
GeoPackage) number and a reason; a file that cannot be read at all raises
:class:`~dashboard.errors.ImportRejected` with one sentence, and nothing is imported.
Text is kept verbatim as data (escaping is the renderer's job).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard import events as model
from dashboard import geodesy, layers, settings
from dashboard.errors import ImportRejected

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
JSON_SUFFIXES = (".geojson", ".json")
GPKG_SUFFIXES = (".gpkg",)
LAT_NAMES = ("latitude", "lat", "y")
LON_NAMES = ("longitude", "lon", "lng", "long", "x")
DATE_NAMES = ("event_date", "date")
DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%d-%B-%Y", "%d-%b-%Y", "%B %d, %Y",
                "%b %d, %Y", "%Y/%m/%d")
COUNTRY_TOLERANCE_KM = 50.0
MAX_REASONS = 10_000


@dataclass(frozen=True)
class Rejected:
    """A row that was not imported: ``row`` is the CSV line number (header = line 1) or the
    1-based feature number, ``reason`` one sentence."""

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
def _check_size(n: int) -> None:
    if n == 0:
        raise ImportRejected("The file is empty.")
    if n > settings.MAX_IMPORT_BYTES:
        raise ImportRejected(f"The file is {n / 2**20:.1f} MB; the import limit is "
                             f"{settings.MAX_IMPORT_BYTES // 2**20} MB.")


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportRejected("The file claims to be UTF-16 but is not valid UTF-16.") from None
    if b"\x00" in data[:8192]:
        raise ImportRejected("This looks like a binary file, not CSV or GeoJSON text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ImportRejected(
            f"The file is not UTF-8 text (byte 0x{data[err.start]:02x} at position {err.start}); "
            "save it as UTF-8 and try again.") from None


def _json_depth_ok(text: str, limit: int) -> bool:
    """True when brackets nest at most ``limit`` deep (checked before parsing)."""
    depth = 0
    in_str = False
    escape = False
    for ch in text:
        if in_str:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return False
        elif ch in "]}":
            depth -= 1
    return True


# ------------------------------------------------------------------------------ row checks
def parse_date(text: Any) -> dt.date | None:
    """A date from ISO (2024-01-16), ACLED (16 January 2024) and similar styles; else None."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
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


def _unneutralise(value: Any) -> Any:
    """Undo the CSV export's formula guard ('=… → =…) so round trips keep the text."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" \
            and value[1] in model.FORMULA_PREFIXES:
        return value[1:]
    return value


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float | np.number):
        return None if math.isnan(float(value)) else float(value)
    s = str(value).strip().replace("\u2212", "-")
    if not s:
        return None
    return float(s)


@dataclass
class _Countries:
    by_name: dict[str, Any]

    @classmethod
    def load(cls) -> _Countries:
        try:
            c = layers.load_countries()
        except Exception:  # a missing layer must not block an import; skip this check
            return cls({})
        whole = ~c["clipped_to_extent"].fillna(False).astype(bool)  # e.g. China is cut off
        return cls({str(n).casefold(): g for n, g in zip(c.loc[whole, "name"],
                                                        c.loc[whole].geometry, strict=True)})

    def distance_km(self, country: str, lat: float, lon: float) -> float | None:
        geom = self.by_name.get(str(country).strip().casefold())
        if geom is None:
            return None
        if shapely.contains_xy(geom, lon, lat):
            return 0.0
        res = geodesy.nearest_on_geometry([lat], [lon], geom)
        return float(res["distance_m"].iloc[0]) / 1000.0


def _derived_id(row: dict[str, Any]) -> str:
    key = "|".join(str(row.get(k, "")) for k in ("event_date", "latitude", "longitude",
                                                   "event_type", "actor1", "notes"))
    return "USR-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def _validate(rows: list[tuple[int, dict[str, Any]]],
              label: str) -> tuple[list[dict[str, Any]], list[Rejected]]:
    countries = _Countries.load()
    ok: list[dict[str, Any]] = []
    bad: list[Rejected] = []
    seen: dict[str, int] = {}
    for num, raw in rows:
        row = {k: _unneutralise(v) for k, v in raw.items()}
        date = parse_date(row.get("event_date"))
        if date is None:
            shown = str(row.get("event_date") or "").strip()
            bad.append(Rejected(num, f"{label} {num}: the date is missing" if not shown else
                                f"{label} {num}: the date {shown[:40]!r} is not a date such as "
                                "2024-01-16 or 16 January 2024"))
            continue
        try:
            lat, lon = _number(row.get("latitude")), _number(row.get("longitude"))
        except ValueError:
            bad.append(Rejected(num, f"{label} {num}: latitude/longitude "
                                f"{str(row.get('latitude'))[:20]!r}, "
                                f"{str(row.get('longitude'))[:20]!r} are not numbers"))
            continue
        if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
            bad.append(Rejected(num, f"{label} {num}: the coordinates are missing"))
            continue
        if not -90 <= lat <= 90:
            bad.append(Rejected(num, f"{label} {num}: latitude {lat:g} is outside -90..90"))
            continue
        if not -180 <= lon <= 180:
            bad.append(Rejected(num, f"{label} {num}: longitude {lon:g} is outside -180..180"))
            continue
        country = str(row.get("country") or "").strip()
        if country:
            gap = countries.distance_km(country, lat, lon)
            if gap is not None and gap > COUNTRY_TOLERANCE_KM:
                swapped = (abs(lon) <= 90 and countries.distance_km(country, lon, lat) == 0.0)
                hint = ("; latitude and longitude look swapped" if swapped
                        else "; check the coordinates or the country")
                bad.append(Rejected(num, f"{label} {num}: {lat:g},{lon:g} is {gap:,.0f} km "
                                    f"outside {country}{hint}"))
                continue
        counts_ok = True
        for col in model.COUNT_COLUMNS:
            try:
                v = _number(row.get(col))
            except ValueError:
                v = -1.0
            if v is not None and (v < 0 or not math.isfinite(v)):
                bad.append(Rejected(num, f"{label} {num}: {col} {str(row.get(col))[:20]!r} "
                                    "is not a count of people"))
                counts_ok = False
                break
        if not counts_ok:
            continue
        row["event_date"] = date.isoformat()
        row["latitude"], row["longitude"] = lat, lon
        eid = str(row.get("event_id_cnty") or "").strip()
        row["event_id_cnty"] = eid or _derived_id(row)
        if row["event_id_cnty"] in seen:
            bad.append(Rejected(num, f"{label} {num}: event id {row['event_id_cnty']!r} repeats "
                                f"{label} {seen[row['event_id_cnty']]}"))
            continue
        seen[row["event_id_cnty"]] = num
        ok.append(row)
    return ok, bad


def _result(ok: list[dict[str, Any]], bad: list[Rejected], label: str) -> ImportResult:
    frame = pd.DataFrame(ok) if ok else pd.DataFrame(columns=list(model.EVENT_COLUMNS))
    return ImportResult(events=model.normalise(frame), rejected=bad, row_label=label)


# ------------------------------------------------------------------------------- formats
def _canonical(header: list[str]) -> dict[int, str]:
    """Map CSV header positions to model columns (coordinates and date by common names)."""
    lowered = [h.strip().casefold() for h in header]
    out: dict[int, str] = {}
    for i, h in enumerate(lowered):
        if h in model.EVENT_COLUMNS:
            out[i] = h
    for names, target in ((LAT_NAMES, "latitude"), (LON_NAMES, "longitude"),
                          (DATE_NAMES, "event_date")):
        if target not in out.values():
            for name in names:
                if name in lowered:
                    out[lowered.index(name)] = target
                    break
    return out


def _read_csv(text: str) -> ImportResult:
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ImportRejected("The CSV file has no header row.") from None
    cols = _canonical(header)
    missing = [what for what, col in (("latitude (lat/latitude/Y)", "latitude"),
                                      ("longitude (lon/longitude/X)", "longitude"),
                                      ("date (event_date/date)", "event_date"))
               if col not in cols.values()]
    if missing:
        listed = ", ".join(missing[:-1]) + " or " + missing[-1] if len(missing) > 1 else missing[0]
        raise ImportRejected(f"The CSV file has no {listed} column.")
    rows: list[tuple[int, dict[str, Any]]] = []
    line = 1
    try:
        for rec in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in rec):
                continue
            rows.append((line, {col: rec[i] if i < len(rec) else "" for i, col in cols.items()}))
    except csv.Error as err:
        raise ImportRejected(f"The CSV file cannot be parsed near line {line + 1}: "
                             f"{err}.") from None
    ok, bad = _validate(rows, "line")
    return _result(ok, bad, "line")


def _read_geojson(text: str) -> ImportResult:
    if not _json_depth_ok(text, settings.MAX_JSON_DEPTH):
        raise ImportRejected(f"The JSON nests deeper than {settings.MAX_JSON_DEPTH} levels; "
                             "it is not a GeoJSON file of events.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ImportRejected(f"JSON syntax error at line {err.lineno}, column {err.colno}: "
                             f"{err.msg}.") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" \
            or not isinstance(data.get("features"), list):
        raise ImportRejected("The JSON is not a GeoJSON FeatureCollection.")
    rows: list[tuple[int, dict[str, Any]]] = []
    bad: list[Rejected] = []
    for n, feat in enumerate(data["features"], start=1):
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        props = feat.get("properties") if isinstance(feat, dict) else None
        if not isinstance(geom, dict) or not geom.get("coordinates"):
            bad.append(Rejected(n, f"feature {n}: the geometry is empty"))
            continue
        if geom.get("type") != "Point":
            bad.append(Rejected(n, f"feature {n}: the geometry is a {geom.get('type')}, "
                                "not a Point"))
            continue
        coords = geom["coordinates"]
        if not isinstance(coords, list) or len(coords) < 2:
            bad.append(Rejected(n, f"feature {n}: the Point has no lon,lat pair"))
            continue
        row = {k: v for k, v in (props or {}).items() if k in model.EVENT_COLUMNS}
        if "event_date" not in row and isinstance(props, dict) and "date" in props:
            row["event_date"] = props["date"]
        row["longitude"], row["latitude"] = coords[0], coords[1]
        rows.append((n, row))
    ok, more_bad = _validate(rows, "feature")
    return _result(ok, sorted(bad + more_bad, key=lambda r: r.row), "feature")


def _read_gpkg(data: bytes) -> ImportResult:
    import pyogrio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.gpkg"
        path.write_bytes(data)
        try:
            frame = pyogrio.read_dataframe(path)
        except Exception as err:  # pyogrio raises several error types for unreadable files
            raise ImportRejected(f"The GeoPackage cannot be read ({str(err)[:120]}).") from None
    rows: list[tuple[int, dict[str, Any]]] = []
    bad: list[Rejected] = []
    geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else None
    if geoms is None:
        raise ImportRejected("The GeoPackage has no geometry layer.")
    records = pd.DataFrame(frame.drop(columns=frame.geometry.name)).to_dict("records")
    for n, (rec, geom) in enumerate(zip(records, geoms, strict=True), start=1):
        if geom is None or geom.is_empty:
            bad.append(Rejected(n, f"feature {n}: the geometry is empty"))
            continue
        if geom.geom_type != "Point":
            bad.append(Rejected(n, f"feature {n}: the geometry is a {geom.geom_type}, "
                                "not a Point"))
            continue
        row = {k: v for k, v in rec.items() if k in model.EVENT_COLUMNS}
        row["longitude"], row["latitude"] = geom.x, geom.y
        rows.append((n, row))
    ok, more_bad = _validate(rows, "feature")
    return _result(ok, sorted(bad + more_bad, key=lambda r: r.row), "feature")


def import_bytes(data: bytes, filename: str) -> ImportResult:
    """Read an uploaded file by its name's extension; see the module docstring."""
    _check_size(len(data))
    suffix = Path(str(filename)).suffix.casefold()
    if suffix in GPKG_SUFFIXES:
        if not data.startswith(b"SQLite format 3\x00"):
            raise ImportRejected("The file is named .gpkg but is not a GeoPackage (SQLite) file.")
        return _read_gpkg(data)
    if suffix in JSON_SUFFIXES:
        return _read_geojson(_decode(data))
    if suffix in CSV_SUFFIXES:
        text = _decode(data)
        if not text.strip():
            raise ImportRejected("The file is empty.")
        return _read_csv(text)
    raise ImportRejected(f"Unknown file type {suffix or '(no extension)'!r}; use .csv, "
                         ".geojson/.json or .gpkg.")


def import_file(path: Path) -> ImportResult:
    """:func:`import_bytes` for a file on disk (size checked before reading)."""
    path = Path(path)
    if not path.is_file():
        raise ImportRejected(f"{path} does not exist or is not a file.")
    _check_size(path.stat().st_size)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ImportRejected(f"{path} cannot be read ({err.strerror}).") from None
    return import_bytes(data, path.name)
