"""The event store: one GeoPackage file (SQLite; opens in QGIS as layer ``events``).

Every change is all-or-nothing: the new content is written to a temporary GeoPackage beside
the store, flushed to disk, then swapped in with an atomic rename. A crash or kill mid-import
leaves the previous file untouched, and a reader (another page or CLI) always opens either the
old or the new complete file. Writers take an exclusive lock file so two imports never lose
each other's rows. Re-importing updates events by ``event_id_cnty``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from dashboard import events as model
from dashboard import settings
from dashboard.errors import StoreError

LAYER = "events"


def _to_table(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Model → GeoPackage columns: dates as ISO text, sources as a JSON list."""
    m = model.normalise(gdf)
    out = m[list(model.EVENT_COLUMNS)].copy()
    out["event_date"] = m["event_date"].dt.strftime("%Y-%m-%d")
    out["sources"] = m["sources"].map(lambda v: json.dumps(list(v), ensure_ascii=False))
    return gpd.GeoDataFrame(out, geometry=m.geometry, crs="EPSG:4326")


def _from_table(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    df = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return model.normalise(df)


class EventStore:
    """A GeoPackage of events at ``path`` (default: settings.default_store_path())."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else settings.default_store_path()

    # ------------------------------------------------------------------ reading
    def read(self, start: dt.date | str | None = None, end: dt.date | str | None = None,
             event_type: str | None = None, country: str | None = None) -> gpd.GeoDataFrame:
        """Events in the store, optionally filtered (dates inclusive; type/country exact,
        case-insensitive). An absent store reads as empty."""
        if not self.path.exists():
            return model.normalise(pd.DataFrame(columns=list(model.EVENT_COLUMNS)))
        import pyogrio

        try:
            frame = pyogrio.read_dataframe(self.path, layer=LAYER)
        except Exception as err:  # pyogrio raises several error types
            raise StoreError(f"The event store {self.path} cannot be read ({str(err)[:100]}); "
                             "it is not an events GeoPackage.") from None
        gdf = _from_table(frame)
        keep = pd.Series(True, index=gdf.index)
        if start is not None:
            keep &= gdf["event_date"] >= pd.Timestamp(start)
        if end is not None:
            keep &= gdf["event_date"] <= pd.Timestamp(end)
        if event_type:
            keep &= gdf["event_type"].str.casefold() == event_type.casefold()
        if country:
            keep &= gdf["country"].str.casefold() == country.casefold()
        return gdf[keep.to_numpy()].reset_index(drop=True)

    def count(self) -> int:
        """Number of events in the store."""
        return len(self.read())

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(self.path.with_name(self.path.name + ".lock"), "a")  # noqa: SIM115
        except OSError as err:
            raise StoreError(f"The event store folder {self.path.parent} cannot be written "
                             f"({err.strerror}).") from None
        with fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _write(self, gdf: gpd.GeoDataFrame) -> None:
        """Write the whole table to a temporary file, fsync, then rename over the store."""
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.part.gpkg")
        tmp.unlink(missing_ok=True)
        try:
            table = _to_table(gdf)
            table.to_file(tmp, layer=LAYER, driver="GPKG", engine="pyogrio")
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as err:
            raise StoreError(f"The event store {self.path} cannot be written "
                             f"({err.strerror}); it was left as it was.") from None
        finally:
            tmp.unlink(missing_ok=True)

    def upsert(self, gdf: gpd.GeoDataFrame) -> tuple[int, int]:
        """Insert new events and update existing ones (same ``event_id_cnty``) in one atomic
        step. Returns (inserted, updated)."""
        incoming = model.normalise(gdf)
        with self._lock():
            for stale in self.path.parent.glob(f".{self.path.name}.*.part.gpkg"):
                stale.unlink(missing_ok=True)  # left by a killed writer; the store is intact
            current = self.read()
            ids = set(current["event_id_cnty"])
            updated = int(incoming["event_id_cnty"].isin(ids).sum())
            inserted = len(incoming) - updated
            kept = current[~current["event_id_cnty"].isin(set(incoming["event_id_cnty"]))]
            merged = pd.concat([kept, incoming], ignore_index=True)
            merged = merged.sort_values(["event_date", "event_id_cnty"], kind="stable")
            self._write(gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326"))
        return inserted, updated


def write_gpkg(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Write events to a new GeoPackage file (export), atomically."""
    EventStore(path)._write(gdf)


def table_for_export(gdf: gpd.GeoDataFrame) -> Any:
    """The GeoPackage table form of events (ISO dates, JSON sources) — for tests and tools."""
    return _to_table(gdf)
