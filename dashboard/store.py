"""The event store: one GeoPackage file (SQLite; opens in QGIS as layer ``events``).

Writes change only the ``events`` table (and this module's ``event_batches`` table): other
layers, QGIS's ``layer_styles`` and columns a user added to ``events`` are kept. Each import
or batch removal is one SQLite transaction inside the GeoPackage, so it is all-or-nothing: a
crash or ``kill -9`` leaves a journal that SQLite rolls back on the next open, and readers see
either the state before or the state after a write, never a partial one. Writers take one lock
file per real file (a symbolic link and its target share it; writes go through the link).

Every import is a *batch* (id, UTC time, origin, label, inserted, updated); a batch can be
removed again, which deletes the events whose latest import it was. Events are upserted by
``event_id_cnty``. A file that is not a GeoPackage is refused with one sentence and left
untouched.

GDAL's R-tree triggers call ``ST_IsEmpty``/``ST_MinX``/…; plain ``sqlite3`` lacks them, so
this module registers Python versions (geometry blobs in GeoPackage binary format).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import io
import json
import os
import re
import secrets
import sqlite3
import stat
import struct
import urllib.parse
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard import events as model
from dashboard import filters, settings
from dashboard.errors import BadParameter, StoreError

LAYER = "events"
BATCHES = "event_batches"
BATCH_COLUMNS = ("batch_id", "created_utc", "origin", "label", "inserted", "updated", "events")
BUSY_TIMEOUT_S = settings.STORE_BUSY_TIMEOUT_S
WRITER_CACHE_KIB = settings.STORE_WRITER_CACHE_KIB

_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_APPLICATION_IDS = {0x47504B47, 0x47503130, 0x47503131}  # "GPKG", "GP10", "GP11"
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_WKB_TYPES = {1: "POINT", 2: "LINESTRING", 3: "POLYGON", 4: "MULTIPOINT", 5: "MULTILINESTRING",
              6: "MULTIPOLYGON", 7: "GEOMETRYCOLLECTION"}
_INT_SQL = "INTEGER"
_REAL_SQL = "REAL"
_TEXT_SQL = "TEXT"


class UpsertResult(NamedTuple):
    """What an import did: events inserted, events updated, and the batch id ("" if none)."""

    inserted: int
    updated: int
    batch_id: str


def _sql_type(col: str) -> str:
    if col in model.INT_COLUMNS:
        return _INT_SQL
    if col in model.COUNT_COLUMNS or col in model.FLOAT_COLUMNS:
        return _REAL_SQL
    return _TEXT_SQL


def _q(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


# ------------------------------------------------------------------ GeoPackage geometry blobs
def _point_blob(lon: float, lat: float, srs_id: int = 4326) -> bytes | None:
    """GeoPackage binary point (little endian, no envelope); None for a missing coordinate."""
    if not (np.isfinite(lon) and np.isfinite(lat)):
        return None
    return b"GP\x00\x01" + struct.pack("<i", srs_id) + struct.pack("<BIdd", 1, 1, lon, lat)


def _split_blob(blob: bytes) -> tuple[int, bool, tuple[float, float, float, float] | None, bytes]:
    """(srs_id, empty, envelope (minx, maxx, miny, maxy) or None, WKB) of a GeoPackage blob."""
    if len(blob) < 8 or blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry")
    flags = blob[3]
    order = "<" if flags & 1 else ">"
    env_kind = (flags >> 1) & 7
    size = _ENVELOPE_BYTES.get(env_kind)
    if size is None:
        raise ValueError("bad envelope")
    srs_id = struct.unpack_from(order + "i", blob, 4)[0]
    env = struct.unpack_from(order + "4d", blob, 8) if size else None
    return srs_id, bool(flags & 0x10), env, bytes(blob[8 + size:])


def _wkb_xy(wkb: bytes) -> tuple[float, float] | None:
    """(x, y) of a 2-D WKB point, or None for anything else (fast path; no shapely)."""
    if len(wkb) < 21:
        return None
    order = "<" if wkb[0] == 1 else ">"
    if struct.unpack_from(order + "I", wkb, 1)[0] != 1:
        return None
    x, y = struct.unpack_from(order + "dd", wkb, 5)
    return float(x), float(y)


def _blob_bounds_uncached(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a GeoPackage blob, None when empty or unreadable."""
    if blob is None:
        return None
    try:
        _, empty, env, wkb = _split_blob(blob)
    except (ValueError, struct.error):
        return None
    if empty:
        return None
    if env is not None:
        return env
    xy = _wkb_xy(wkb)
    if xy is not None:
        return None if np.isnan(xy[0]) else (xy[0], xy[0], xy[1], xy[1])
    import shapely

    geom = shapely.from_wkb(wkb, on_invalid="ignore")
    if geom is None or geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return minx, maxx, miny, maxy


_last_bounds: list[Any] = [None, None]  # the triggers ask for 5 values of one blob in a row


def _blob_bounds(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a GeoPackage blob, None when empty or unreadable."""
    if blob is not None and blob == _last_bounds[0]:
        return _last_bounds[1]
    b = _blob_bounds_uncached(blob)
    _last_bounds[0], _last_bounds[1] = blob, b
    return b


def _blob_lonlat(blob: bytes | None) -> tuple[float, float] | None:
    """lon, lat of a point blob (a representative point for other geometries)."""
    if blob is None:
        return None
    try:
        _, empty, _, wkb = _split_blob(blob)
    except (ValueError, struct.error):
        return None
    if empty:
        return None
    xy = _wkb_xy(wkb)
    if xy is not None:
        return None if np.isnan(xy[0]) else xy
    import shapely

    geom = shapely.from_wkb(wkb, on_invalid="ignore")
    if geom is None or geom.is_empty:
        return None
    p = geom.representative_point()
    return float(p.x), float(p.y)


def _st_is_empty(blob: Any) -> int | None:
    if blob is None:
        return None
    return 0 if _blob_bounds(bytes(blob)) is not None else 1


def _st_bound(i: int) -> Any:
    def f(blob: Any) -> float | None:
        b = _blob_bounds(None if blob is None else bytes(blob))
        return None if b is None else b[i]
    return f


def _st_geometry_type(blob: Any) -> str | None:
    if blob is None:
        return None
    try:
        _, _, _, wkb = _split_blob(bytes(blob))
        order = "<" if wkb[0] == 1 else ">"
        code = struct.unpack_from(order + "I", wkb, 1)[0]
    except (ValueError, struct.error, IndexError):
        return None
    return _WKB_TYPES.get(code % 1000 & 0xFF)


def _st_srid(blob: Any) -> int | None:
    if blob is None:
        return None
    try:
        return _split_blob(bytes(blob))[0]
    except (ValueError, struct.error):
        return None


def _gpkg_is_assignable(expected: Any, actual: Any) -> int:
    e, a = str(expected or "").upper(), str(actual or "").upper()
    return int(e == a or e == "GEOMETRY" or (e == "MULTIPOINT" and a == "POINT"))


def _register_functions(con: sqlite3.Connection) -> None:
    """The spatial SQL functions GDAL's GeoPackage triggers call."""
    con.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        con.create_function(name, 1, _st_bound(i), deterministic=True)
    con.create_function("ST_GeometryType", 1, _st_geometry_type, deterministic=True)
    con.create_function("ST_SRID", 1, _st_srid, deterministic=True)
    con.create_function("GPKG_IsAssignable", 2, _gpkg_is_assignable, deterministic=True)


# ------------------------------------------------------------------------- table conversion
def _empty_model() -> gpd.GeoDataFrame:
    gdf = model.normalise(pd.DataFrame(columns=list(model.EVENT_COLUMNS)))
    gdf["batch_id"] = pd.Series([], dtype="str")
    return gdf


def _to_table(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Model → GeoPackage columns: dates as ISO text, sources as a JSON list."""
    m = model.normalise(gdf)
    out = m[list(model.EVENT_COLUMNS)].copy()
    out["event_date"] = m["event_date"].dt.strftime("%Y-%m-%d")
    out["sources"] = m["sources"].map(lambda v: json.dumps(list(v), ensure_ascii=False))
    return gpd.GeoDataFrame(out, geometry=m.geometry, crs="EPSG:4326")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _safe_text(value: str) -> str:
    """Text SQLite can store (UTF-8): a lone surrogate becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", value)


def _texts(values: list[Any]) -> list[Any]:
    """Strings SQLite can store; checks the whole column at once (lone surrogates are rare)."""
    try:
        "".join(v for v in values if isinstance(v, str)).encode("utf-8")
    except UnicodeEncodeError:
        return [_safe_text(v) if isinstance(v, str) else v for v in values]
    return values


def _sql_values(m: gpd.GeoDataFrame) -> list[list[Any]]:
    """Per model column, the SQLite values (None for missing), in EVENT_COLUMNS order."""
    cols: list[list[Any]] = []
    for col in model.EVENT_COLUMNS:
        s = m[col]
        if col == "event_date":
            vals = s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), None).tolist()
        elif col == "sources":
            vals = _texts([json.dumps(list(v), ensure_ascii=False) for v in s.tolist()])
        elif col in model.INT_COLUMNS:
            vals = [None if pd.isna(v) else int(v) for v in s.astype(object).tolist()]
        elif col in model.COUNT_COLUMNS or col in model.FLOAT_COLUMNS:
            vals = [None if v != v else float(v) for v in s.astype(float).tolist()]
        else:
            vals = _texts(["" if v is None else str(v) for v in s.astype(object).tolist()])
        cols.append(vals)
    return cols


def _has_nul(con: sqlite3.Connection, table: str, columns: list[str]) -> bool:
    """True if any value of ``columns`` holds a NUL character (one scan, stops at the first)."""
    if not columns:
        return False
    test = " OR ".join(f"instr(CAST({_q(c)} AS BLOB), x'00') > 0" for c in columns)
    return con.execute(f"SELECT 1 FROM {_q(table)} WHERE {test} LIMIT 1").fetchone() is not None


def _read_columns(real: Path, table: str, columns: list[str]
                  ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray] | None:
    """``columns`` of the events table and each row's lon, lat (degrees; NaN without a
    usable geometry; a representative point for other than points), read by GDAL into Arrow
    in one go: about 10x faster than fetching SQLite rows. None when GDAL cannot read the
    file; the caller then reads it through SQLite (same result, slower)."""
    import pyarrow as pa
    import pyogrio
    import shapely

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta, arrow = pyogrio.read_arrow(real, layer=table, columns=columns)
        if [n for n in arrow.column_names if n in columns] != columns:
            return None
        wkb = arrow.column(meta.get("geometry_name") or "wkb_geometry").to_numpy(
            zero_copy_only=False)
        geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    except Exception:  # any GDAL or Arrow failure: the SQLite path decides
        return None
    geoms = np.where(shapely.is_empty(geoms), None, geoms)  # empty: no position (NaN)
    other = shapely.get_type_id(geoms) > 0
    if other.any():
        geoms[other] = shapely.point_on_surface(geoms[other])
    lon = np.asarray(shapely.get_x(geoms), dtype=float)
    lat = np.asarray(shapely.get_y(geoms), dtype=float)
    frame = pa.table({c: arrow.column(c) for c in columns}).to_pandas()
    return frame, lon, lat


# ------------------------------------------------------------------------------ table info
@dataclass(frozen=True)
class _Info:
    table: str
    fid: str | None
    geom: str
    srs_id: int
    columns: tuple[str, ...]


class EventStore:
    """A GeoPackage of events at ``path`` (default: settings.default_store_path())."""

    def __init__(self, path: Path | str | None = None) -> None:
        if path is None or str(path) == "":
            from dashboard import settings

            path = settings.default_store_path()
        self.path = Path(path)

    # ------------------------------------------------------------------ file checks
    @property
    def real_path(self) -> Path:
        """The file the store really is (symbolic links resolved, also dangling ones)."""
        return Path(os.path.realpath(self.path))

    def _check_file(self, real: Path) -> bool:
        """True if ``real`` is a GeoPackage, False if absent; StoreError if it is anything else."""
        try:
            st = os.stat(real)
        except FileNotFoundError:
            return False
        except NotADirectoryError:
            raise StoreError(f"The event store path {self.path} runs through a file, "
                             "not a folder.") from None
        except OSError as err:
            raise StoreError(f"The event store {self.path} cannot be opened "
                             f"({err.strerror}).") from None
        if stat.S_ISDIR(st.st_mode):
            raise StoreError(f"The event store {self.path} is a folder; give a .gpkg file name.")
        if not stat.S_ISREG(st.st_mode):
            raise StoreError(f"The event store {self.path} is not a regular file.")
        try:
            with open(real, "rb") as fh:
                head = fh.read(100)
        except OSError as err:
            raise StoreError(f"The event store {self.path} cannot be read "
                             f"({err.strerror}).") from None
        if len(head) < 100 or not head.startswith(_SQLITE_MAGIC):
            raise StoreError(f"{self.path} is not a GeoPackage, so it cannot be the event "
                             "store; it was left untouched.")
        if struct.unpack_from(">I", head, 68)[0] not in _GPKG_APPLICATION_IDS:
            raise StoreError(f"{self.path} is an SQLite database but not a GeoPackage, so it "
                             "cannot be the event store; it was left untouched.")
        return True

    def _connect(self, real: Path, *, write: bool) -> sqlite3.Connection:
        mode = "rw" if write or os.access(real, os.W_OK) else "ro"
        uri = f"file:{urllib.parse.quote(str(real))}?mode={mode}"
        try:
            con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                  check_same_thread=False)
        except sqlite3.Error as err:
            raise StoreError(f"The event store {self.path} cannot be opened ({err}).") from None
        _register_functions(con)
        if write:
            con.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
        return con

    def _info(self, con: sqlite3.Connection) -> _Info:
        """Where the events are: table, fid and geometry columns; StoreError if not a store."""
        try:
            names = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
            table = next((n for n in names if n.lower() == LAYER), None)
            if table is None:
                others = sorted(r[0] for r in con.execute("SELECT table_name FROM gpkg_contents"))
                have = f" (it has {', '.join(others[:5])})" if others else ""
                raise StoreError(f"The GeoPackage {self.path} has no '{LAYER}' layer{have}; "
                                 "give another --store path.")
            geo = con.execute("SELECT column_name, srs_id, geometry_type_name FROM "
                              "gpkg_geometry_columns WHERE lower(table_name) = ?",
                              (LAYER,)).fetchone()
            if geo is None:
                raise StoreError(f"The '{LAYER}' table in {self.path} has no geometry, so it is "
                                 "not an events layer; give another --store path.")
            info = con.execute(f"PRAGMA table_info({_q(table)})").fetchall()
            srs = con.execute("SELECT organization, organization_coordsys_id FROM "
                              "gpkg_spatial_ref_sys WHERE srs_id = ?", (geo[1],)).fetchone()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"The event store {self.path} cannot be read ({err}).") from None
        if geo[1] != 4326 and not (srs and str(srs[0]).upper() == "EPSG" and srs[1] == 4326):
            raise StoreError(f"The '{LAYER}' layer in {self.path} is not in WGS84 longitude/"
                             f"latitude (EPSG:4326) but in SRS {geo[1]}; give another --store.")
        fid = next((r[1] for r in info if r[5] == 1 and str(r[2]).upper() == "INTEGER"), None)
        return _Info(table, fid, geo[0], int(geo[1]), tuple(r[1] for r in info))

    # ------------------------------------------------------------------------ reading
    def check(self) -> None:
        """Raise StoreError (one sentence) unless the store is absent or a GeoPackage with an
        ``events`` point layer in EPSG:4326. Changes nothing."""
        real = self.real_path
        if self._check_file(real):
            con = self._connect(real, write=False)
            try:
                self._info(con)
            finally:
                con.close()

    def read(self, f: filters.EventFilter | None = None) -> gpd.GeoDataFrame:
        """Events in the store (event model columns + ``batch_id``), ordered by date and id,
        kept by the filter ``f`` (None: all). An absent store reads as empty."""
        real = self.real_path
        if not self._check_file(real):
            return _empty_model()
        con = self._connect(real, write=False)
        try:
            info = self._info(con)
            present = set(info.columns)
            wanted = [c for c in model.EVENT_COLUMNS if c in present]
            if "category" not in present and "layer" in present:
                wanted.append("layer")
            extra = ["batch_id"] if "batch_id" in present else []
            # GDAL cuts text at a NUL character; the SQLite rows keep it
            fast = None if _has_nul(con, info.table, wanted + extra) else \
                _read_columns(real, info.table, wanted + extra)
            if fast is None:  # GDAL could not read it: row by row through SQLite
                sql = (f"SELECT {', '.join(_q(c) for c in wanted + extra + [info.geom])} "
                       f"FROM {_q(info.table)}")
                rows = con.execute(sql).fetchall()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"The event store {self.path} cannot be read ({err}).") from None
        finally:
            con.close()
        if fast is not None:
            frame, lon, lat = fast
        else:
            frame = pd.DataFrame.from_records(rows, columns=[*wanted, *extra, "__geom"])
            lonlat = [_blob_lonlat(b) for b in frame.pop("__geom")]
            lon = np.array([p[0] if p else np.nan for p in lonlat], dtype=float)
            lat = np.array([p[1] if p else np.nan for p in lonlat], dtype=float)
        has = np.isfinite(lon) & np.isfinite(lat)
        if has.any():
            old_lat = pd.to_numeric(frame.get("latitude"), errors="coerce") \
                if "latitude" in frame else pd.Series(np.nan, index=frame.index)
            old_lon = pd.to_numeric(frame.get("longitude"), errors="coerce") \
                if "longitude" in frame else pd.Series(np.nan, index=frame.index)
            frame["latitude"] = np.where(has, lat, old_lat.to_numpy(dtype=float))
            frame["longitude"] = np.where(has, lon, old_lon.to_numpy(dtype=float))
        gdf = model.normalise(frame)
        batch = frame["batch_id"] if extra else pd.Series([None] * len(frame), dtype=object)
        if pd.api.types.is_string_dtype(batch.dtype) and batch.dtype != object:
            ids = batch.fillna("").to_numpy()  # text, vectorised
        else:
            ids = [b if isinstance(b, str) else "" for b in batch]
        gdf["batch_id"] = pd.Series(ids, dtype="str", index=gdf.index)
        gdf = gdf.sort_values(["event_date", "event_id_cnty"], kind="stable", na_position="last")
        if f is not None:
            gdf = filters.apply(gdf, f)
        return gdf.reset_index(drop=True)

    def batches(self) -> pd.DataFrame:
        """The import batches, oldest first: batch_id, created_utc (ISO 8601, UTC), origin
        ("cli"/"page"), label, inserted, updated, events (how many are still from it)."""
        real = self.real_path
        empty = pd.DataFrame({c: pd.Series([], dtype=object if c in BATCH_COLUMNS[:4]
                                           else "int64") for c in BATCH_COLUMNS})
        if not self._check_file(real):
            return empty
        con = self._connect(real, write=False)
        try:
            info = self._info(con)
            if not con.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                               (BATCHES,)).fetchone():
                return empty
            count = "COUNT(e.batch_id)" if "batch_id" in info.columns else "0"
            join = (f"LEFT JOIN {_q(info.table)} e ON e.batch_id = b.batch_id"
                    if "batch_id" in info.columns else "")
            rows = con.execute(
                f"SELECT b.batch_id, b.created_utc, b.origin, b.label, b.inserted, b.updated, "
                f"{count} FROM {BATCHES} b {join} GROUP BY b.batch_id "
                "ORDER BY b.created_utc, b.fid").fetchall()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"The event store {self.path} cannot be read ({err}).") from None
        finally:
            con.close()
        if not rows:
            return empty
        out = pd.DataFrame.from_records(rows, columns=list(BATCH_COLUMNS))
        for c in ("inserted", "updated", "events"):
            out[c] = pd.to_numeric(out[c], errors="coerce").fillna(0).astype("int64")
        for c in ("batch_id", "created_utc", "origin", "label"):
            out[c] = out[c].map(lambda v: "" if v is None else str(v))
        return out

    def version(self) -> str:
        """A token that changes after every write to the store (for caches); "absent" when
        there is no store file. Cheap: reads file metadata and the SQLite header only."""
        real = self.real_path
        try:
            st = os.stat(real)
            with open(real, "rb") as fh:
                head = fh.read(100)
        except OSError:
            return "absent"
        counter = struct.unpack_from(">I", head, 24)[0] if len(head) >= 28 else 0
        parts = [st.st_ino, st.st_size, st.st_mtime_ns, counter]
        with contextlib.suppress(OSError):
            wal = os.stat(f"{real}-wal")
            parts += [wal.st_size, wal.st_mtime_ns]
        return "-".join(f"{p:x}" for p in parts)

    # ------------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def _lock(self, real: Path) -> Iterator[None]:
        """One exclusive writer per real file (``<real file>.lock``)."""
        try:
            real.parent.mkdir(parents=True, exist_ok=True)
            fh = open(real.with_name(real.name + ".lock"), "a")  # noqa: SIM115
        except OSError as err:
            raise StoreError(f"The event store folder {real.parent} cannot be written "
                             f"({err.strerror}).") from None
        with fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _temp_prefix(self, real: Path) -> str:
        return f".{real.name}."

    def _clean_leftovers(self, real: Path) -> None:
        """Remove what killed writers left: our temporary GeoPackages (and their journals),
        GDAL's ``.tmp_rtree_*`` files. Called with the lock held, so none is in use. The
        store's own ``-journal``/``-wal`` are never deleted: SQLite rolls them back or in."""
        prefix = self._temp_prefix(real)
        rtree = f"{real.name}.tmp_rtree_"
        try:
            entries = list(os.scandir(real.parent))
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith(prefix) or entry.name.startswith(rtree):
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False):
                        os.unlink(entry.path)

    def _create(self, real: Path) -> None:
        """Create an empty events GeoPackage at ``real`` (temp file, fsync, link into place)."""
        import pyogrio

        tmp = real.with_name(f"{self._temp_prefix(real)}{os.getpid()}.{secrets.token_hex(3)}"
                             ".new.gpkg")
        cols: dict[str, pd.Series] = {}
        for c in model.EVENT_COLUMNS:
            t = _sql_type(c)
            cols[c] = pd.Series([], dtype="int64" if t == _INT_SQL else
                                "float64" if t == _REAL_SQL else object)
        cols["batch_id"] = pd.Series([], dtype=object)
        frame = gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pyogrio.write_dataframe(frame, tmp, layer=LAYER, driver="GPKG",
                                        geometry_type="Point")
            con = self._connect(tmp, write=True)
            try:
                con.execute("BEGIN IMMEDIATE")
                self._prepare(con, self._info(con))
                con.execute("COMMIT")
            finally:
                con.close()
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):  # made meanwhile by a non-locking tool
                os.link(tmp, real)
            _fsync_folder(real.parent)
        except OSError as err:
            raise StoreError(f"The event store {self.path} cannot be created "
                             f"({err.strerror}).") from None
        except Exception as err:  # pyogrio/GDAL raise several types
            raise StoreError(f"The event store {self.path} cannot be created "
                             f"({str(err)[:120]}).") from None
        finally:
            for p in (tmp, Path(f"{tmp}-journal")):
                p.unlink(missing_ok=True)

    def _prepare(self, con: sqlite3.Connection, info: _Info) -> _Info:
        """Inside a write transaction: add missing model columns, ``batch_id``, the batches
        table and the indexes (older stores); never drops or changes the user's columns."""
        cols = list(info.columns)
        if "category" not in cols and "layer" in cols:
            con.execute(f"ALTER TABLE {_q(info.table)} RENAME COLUMN layer TO category")
            cols[cols.index("layer")] = "category"
        for c in (*model.EVENT_COLUMNS, "batch_id"):
            if c not in cols:
                con.execute(f"ALTER TABLE {_q(info.table)} ADD COLUMN {_q(c)} {_sql_type(c)}")
                cols.append(c)
        new_batches = not con.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                                      (BATCHES,)).fetchone()
        if new_batches:
            con.execute(f"CREATE TABLE {BATCHES} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT "
                        "NULL, batch_id TEXT NOT NULL UNIQUE, created_utc TEXT NOT NULL, "
                        "origin TEXT NOT NULL, label TEXT, inserted INTEGER, updated INTEGER)")
            con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier,"
                        " description) VALUES (?, 'attributes', ?, ?)",
                        (BATCHES, BATCHES, "Import batches of the events layer"))
            old = con.execute(f"SELECT COUNT(*) FROM {_q(info.table)} "
                              "WHERE batch_id IS NULL").fetchone()[0]
            if old:  # events stored before batches existed become one removable batch
                bid = self._new_batch_id(con)
                con.execute(f"UPDATE {_q(info.table)} SET batch_id = ? WHERE batch_id IS NULL",
                            (bid,))
                self._record_batch(con, bid, "store", "events stored before import batches",
                                   old, 0)
        con.execute(f'CREATE INDEX IF NOT EXISTS "{info.table}_event_id_cnty_idx" '
                    f"ON {_q(info.table)} (event_id_cnty)")
        con.execute(f'CREATE INDEX IF NOT EXISTS "{info.table}_batch_id_idx" '
                    f"ON {_q(info.table)} (batch_id)")
        return _Info(info.table, info.fid, info.geom, info.srs_id, tuple(cols))

    @staticmethod
    def _new_batch_id(con: sqlite3.Connection) -> str:
        while True:
            bid = secrets.token_hex(4)
            if not con.execute(f"SELECT 1 FROM {BATCHES} WHERE batch_id = ?",
                               (bid,)).fetchone():
                return bid

    @staticmethod
    def _record_batch(con: sqlite3.Connection, bid: str, origin: str, label: str,
                      inserted: int, updated: int) -> None:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        con.execute(f"INSERT INTO {BATCHES} (batch_id, created_utc, origin, label, inserted, "
                    "updated) VALUES (?, ?, ?, ?, ?, ?)",
                    (bid, now, origin, _safe_text(label), inserted, updated))

    def _finish(self, con: sqlite3.Connection, info: _Info) -> None:
        """Keep GeoPackage metadata true: last change, extent, feature count."""
        t = _q(info.table)
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        rtree = f"rtree_{info.table}_{info.geom}"
        if con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (rtree,)).fetchone():
            ext = con.execute(f"SELECT MIN(minx), MIN(miny), MAX(maxx), MAX(maxy) "
                              f"FROM {_q(rtree)}").fetchone()
            con.execute("UPDATE gpkg_contents SET last_change = ?, min_x = ?, min_y = ?, "
                        "max_x = ?, max_y = ? WHERE lower(table_name) = ?", (now, *ext, LAYER))
        else:
            con.execute("UPDATE gpkg_contents SET last_change = ? WHERE lower(table_name) = ?",
                        (now, LAYER))
        con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?",
                    (now, BATCHES))
        if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_ogr_contents'").fetchone():
            con.execute(f"UPDATE gpkg_ogr_contents SET feature_count = (SELECT COUNT(*) FROM {t})"
                        " WHERE lower(table_name) = ?", (LAYER,))

    @contextlib.contextmanager
    def _writing(self) -> Iterator[tuple[sqlite3.Connection, _Info]]:
        """Lock, clean leftovers, create the store if absent, open one transaction; commit
        when the block succeeds, roll back on any error (the store stays as it was)."""
        real = self.real_path
        self._check_file(real)  # refuse a foreign file before making a lock file beside it
        with self._lock(real):
            exists = self._check_file(real)
            self._clean_leftovers(real)
            if not exists:
                self._create(real)
                self._check_file(real)
            con = self._connect(real, write=True)
            try:
                con.execute("BEGIN IMMEDIATE")
                info = self._prepare(con, self._info(con))
                yield con, info
                self._finish(con, info)
                con.execute("COMMIT")
            except sqlite3.Error as err:
                raise StoreError(f"The event store {self.path} cannot be written ({err}); it "
                                 "was left as it was.") from None
            finally:
                with contextlib.suppress(sqlite3.Error):
                    if con.in_transaction:
                        con.execute("ROLLBACK")
                con.close()

    def upsert(self, gdf: gpd.GeoDataFrame, *, origin: str = "cli",
               label: str = "") -> UpsertResult:
        """Insert new events and update existing ones (same ``event_id_cnty``) as one batch,
        in one transaction. Columns a user added to the table keep their values. Returns
        UpsertResult(inserted, updated, batch_id); nothing is written for no events."""
        incoming = model.normalise(gdf)
        if incoming.empty:
            return UpsertResult(0, 0, "")
        incoming = incoming.drop_duplicates("event_id_cnty", keep="last").reset_index(drop=True)
        values = _sql_values(incoming)
        ids = values[model.EVENT_COLUMNS.index("event_id_cnty")]
        blobs = [_point_blob(lon, lat) for lon, lat in
                 zip(incoming["longitude"], incoming["latitude"], strict=True)]
        with self._writing() as (con, info):
            t = _q(info.table)
            existing = {r[0] for r in con.execute(f"SELECT event_id_cnty FROM {t}")}
            bid = self._new_batch_id(con)
            rows = [[*(v[i] for v in values), bid, blobs[i]] for i in range(len(ids))]
            cols = [*model.EVENT_COLUMNS, "batch_id", info.geom]
            new = [r for r, i in zip(rows, ids, strict=True) if i not in existing]
            old = [[*r, i] for r, i in zip(rows, ids, strict=True) if i in existing]
            if new:
                con.executemany(f"INSERT INTO {t} ({', '.join(_q(c) for c in cols)}) VALUES "
                                f"({', '.join('?' * len(cols))})", new)
            if old:
                sets = ", ".join(f"{_q(c)} = ?" for c in cols)
                con.executemany(f"UPDATE {t} SET {sets} WHERE event_id_cnty = ?", old)
            self._record_batch(con, bid, origin, label, len(new), len(old))
        return UpsertResult(len(new), len(old), bid)

    def remove_batch(self, batch_id: str) -> int:
        """Delete the events whose latest import was batch ``batch_id``, and the batch;
        returns how many events were deleted. BadParameter for an unknown batch."""
        unknown = BadParameter(f"There is no import batch {batch_id!r} in {self.path}; "
                               "'events batches' lists them.")
        if not self._check_file(self.real_path):
            raise unknown
        with self._writing() as (con, info):
            if not con.execute(f"SELECT 1 FROM {BATCHES} WHERE batch_id = ?",
                               (batch_id,)).fetchone():
                raise unknown
            n = con.execute(f"DELETE FROM {_q(info.table)} WHERE batch_id = ?",
                            (batch_id,)).rowcount
            con.execute(f"DELETE FROM {BATCHES} WHERE batch_id = ?", (batch_id,))
        return int(n)


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def gpkg_bytes(gdf: gpd.GeoDataFrame) -> bytes:
    """Events as a standalone GeoPackage file (layer ``events``), in memory."""
    import pyogrio

    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pyogrio.write_dataframe(_to_table(gdf), buf, layer=LAYER, driver="GPKG",
                                geometry_type="Point")
    return buf.getvalue()


def write_gpkg(gdf: gpd.GeoDataFrame, path: Path | str) -> None:
    """Write events to a new GeoPackage file (export), atomically (whole or not at all)."""
    from dashboard import outputs

    outputs.write_bytes(path, gpkg_bytes(gdf))
