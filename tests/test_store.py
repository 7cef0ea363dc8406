"""dashboard/store.py: atomic GeoPackage store — upsert, readers, kill mid-import."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dashboard import events, importers
from dashboard.store import EventStore

DATA = Path(__file__).parent / "data"


def test_empty_store_reads_empty(tmp_path):
    assert EventStore(tmp_path / "none.gpkg").read().empty


def test_upsert_inserts_then_updates_by_id(tmp_path):
    store = EventStore(tmp_path / "s.gpkg")
    ev = events.load_curated_events()
    assert store.upsert(ev) == (len(ev), 0)
    changed = ev.copy()
    changed.loc[0, "notes"] = "updated note"
    assert store.upsert(changed) == (0, len(ev))
    back = store.read()
    assert len(back) == len(ev)
    assert back.set_index("event_id_cnty").loc[ev["event_id_cnty"][0], "notes"] == "updated note"


def test_store_is_a_real_geopackage(tmp_path):
    store = EventStore(tmp_path / "s.gpkg")
    store.upsert(events.load_curated_events())
    con = sqlite3.connect(store.path)
    try:
        tables = {r[0] for r in con.execute("select table_name from gpkg_contents")}
        srs = con.execute("select srs_id from gpkg_geometry_columns").fetchone()[0]
    finally:
        con.close()
    assert tables == {"events"} and srs == 4326


def test_round_trip_keeps_every_value(tmp_path):
    store = EventStore(tmp_path / "s.gpkg")
    ev = events.load_curated_events()
    store.upsert(ev)
    assert json.loads(events.to_geojson(store.read())) == json.loads(events.to_geojson(ev))


def test_filters(tmp_path):
    store = EventStore(tmp_path / "s.gpkg")
    store.upsert(events.load_curated_events())
    jan = store.read(start="2024-01-15", end="2024-01-16")
    assert set(jan["event_date"].dt.day) <= {15, 16} and len(jan) >= 3
    assert set(store.read(country="pakistan")["country"]) == {"Pakistan"}
    assert set(store.read(event_type="Battles")["event_type"]) == {"Battles"}


def test_not_a_store_is_a_clear_error(tmp_path):
    from dashboard.errors import StoreError

    bad = tmp_path / "bad.gpkg"
    bad.write_text("nope")
    with pytest.raises(StoreError, match="cannot be read"):
        EventStore(bad).read()


def _big_csv(path: Path, n: int) -> None:
    rows = ["event_id_cnty,event_date,latitude,longitude,notes"]
    rows += [f"BIG{i},2024-01-{1 + i % 28:02d},{25 + (i % 1000) / 1000:.4f},"
             f"{62 + (i % 777) / 777:.4f},row {i}" for i in range(n)]
    path.write_text("\n".join(rows) + "\n")


def test_kill_mid_import_leaves_the_store_exactly_as_before(tmp_path):
    store_path = tmp_path / "s.gpkg"
    store = EventStore(store_path)
    store.upsert(events.load_curated_events())
    before = store_path.read_bytes()
    big = tmp_path / "big.csv"
    _big_csv(big, 150_000)
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "events", "import", str(big),
                             "--store", str(store_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    # wait until the writer has started its temporary GeoPackage, then kill it mid-write
    deadline = time.time() + 120
    while time.time() < deadline and not list(tmp_path.glob(".s.gpkg.*.part.gpkg")):
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "import finished before it could be killed; make the file bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert store_path.read_bytes() == before
    assert len(EventStore(store_path).read()) == len(events.load_curated_events())
    # the next write cleans up the killed writer's temporary file and works
    store.upsert(importers.import_file(DATA / "acled_export.csv").events)
    assert not list(tmp_path.glob(".s.gpkg.*.part.gpkg"))
    assert len(store.read()) == len(events.load_curated_events()) + 3


def test_two_readers_see_consistent_data_during_a_write(tmp_path):
    store_path = tmp_path / "s.gpkg"
    EventStore(store_path).upsert(events.load_curated_events())
    n0 = len(events.load_curated_events())
    big = tmp_path / "big.csv"
    _big_csv(big, 20_000)
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "events", "import", str(big),
                             "--store", str(store_path)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    seen = set()
    while proc.poll() is None:
        a, b = EventStore(store_path).read(), EventStore(store_path).read()
        seen.update({len(a), len(b)})
    assert proc.returncode == 0
    seen.add(len(EventStore(store_path).read()))
    assert seen <= {n0, n0 + 20_000}  # whole states only, never a partial table
    assert n0 + 20_000 in seen


def test_derived_ids_make_reimport_idempotent(tmp_path):
    store = EventStore(tmp_path / "s.gpkg")
    ev = importers.import_file(DATA / "generic_yx.csv").events
    assert store.upsert(ev) == (2, 0)
    assert store.upsert(importers.import_file(DATA / "generic_yx.csv").events) == (0, 2)
    assert isinstance(store.read(), pd.DataFrame) and len(store.read()) == 2
