"""dashboard/store.py: GeoPackage event store — upsert in place (other layers, styles and user
columns kept), batches, symlinks, refusals, kill -9 at any moment, concurrent writers."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import events, filters, importers
from dashboard.errors import BadParameter, StoreError
from dashboard.store import BATCH_COLUMNS, EventStore, _register_functions

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parent.parent


def _json(gdf) -> dict:
    """The events as parsed GeoJSON (every value), without the store's batch column."""
    return json.loads(events.to_geojson(gdf.drop(columns=["batch_id"], errors="ignore")))


def _sound(path: Path) -> None:
    """The file is a valid GeoPackage: SQLite integrity, GDAL reads every layer, R-tree true."""
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        n = con.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        assert con.execute("SELECT COUNT(*) FROM rtree_events_geom").fetchone()[0] == n
        count = con.execute("SELECT feature_count FROM gpkg_ogr_contents "
                            "WHERE table_name = 'events'").fetchone()
        assert count is None or count[0] in (None, n)
    finally:
        con.close()
    for name, _ in pyogrio.list_layers(path):
        pyogrio.read_dataframe(path, layer=name)
    # a bounding-box read goes through the R-tree GDAL built and our triggers kept up to date
    everything = pyogrio.read_dataframe(path, layer="events", bbox=(-180, -90, 180, 90))
    assert len(everything) == n


def test_empty_store_reads_empty(tmp_path):
    got = EventStore(tmp_path / "none.gpkg").read()
    assert got.empty and "batch_id" in got.columns
    assert not (tmp_path / "none.gpkg").exists()


def test_upsert_inserts_then_updates_by_id(tmp_path):
    store = EventStore(tmp_path / "s.gpkg")
    ev = events.load_curated_events()
    first = store.upsert(ev)
    assert (first.inserted, first.updated) == (len(ev), 0) and first.batch_id
    changed = ev.copy()
    changed.loc[0, "notes"] = "updated note"
    second = store.upsert(changed)
    assert (second.inserted, second.updated) == (0, len(ev))
    assert second.batch_id != first.batch_id
    back = store.read()
    assert len(back) == len(ev)
    assert back.set_index("event_id_cnty").loc[ev["event_id_cnty"][0], "notes"] == "updated note"
    assert set(back["batch_id"]) == {second.batch_id}


def test_store_is_a_real_geopackage(tmp_path):
    store = EventStore(tmp_path / "s.gpkg")
    store.upsert(events.load_curated_events())
    con = sqlite3.connect(store.path)
    try:
        tables = {r[0] for r in con.execute("select table_name from gpkg_contents")}
        srs = con.execute("select srs_id from gpkg_geometry_columns").fetchone()[0]
    finally:
        con.close()
    assert tables == {"events", "event_batches"} and srs == 4326
    _sound(store.path)


def test_round_trip_keeps_every_value(tmp_path):
    store = EventStore(tmp_path / "s.gpkg")
    ev = events.load_curated_events()
    store.upsert(ev)
    assert _json(store.read()) == _json(ev)


def test_read_takes_an_event_filter(tmp_path):
    store = EventStore(tmp_path / "s.gpkg")
    store.upsert(events.load_curated_events())
    import datetime as dt

    jan = store.read(filters.EventFilter(start=dt.date(2024, 1, 15), end=dt.date(2024, 1, 16)))
    assert set(jan["event_date"].dt.day) <= {15, 16} and len(jan) >= 3
    pk = store.read(filters.EventFilter(countries=("Pakistan",)))
    assert set(pk["country"]) == {"Pakistan"} and len(pk) > 0
    assert len(store.read(filters.EventFilter())) == len(events.load_curated_events())


# ------------------------------------------------------------------ nothing else is touched
def test_import_keeps_other_layers_styles_and_user_columns(tmp_path):
    """Old behaviour: every import rewrote the file with only the events layer."""
    from shapely.geometry import LineString

    path = tmp_path / "project.gpkg"
    store = EventStore(path)
    ev = events.load_curated_events()
    store.upsert(ev.iloc[:5])
    roads = pd.DataFrame({"name": ["N40", "N85"]})
    roads = __import__("geopandas").GeoDataFrame(
        roads, geometry=[LineString([(62.3, 28.9), (64.1, 26.9)]),
                         LineString([(64.1, 26.9), (66.1, 26.2)])], crs="EPSG:4326")
    pyogrio.write_dataframe(roads, path, layer="roads", driver="GPKG")  # a second GDAL layer
    con = sqlite3.connect(path)
    _register_functions(con)  # GDAL's triggers need ST_* functions (QGIS has them)
    with con:  # what QGIS adds: a styles table, and an analyst's own column on events
        con.execute("CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                    "f_table_name TEXT, f_geometry_column TEXT, styleName TEXT, styleQML TEXT, "
                    "useAsDefault BOOLEAN, update_time DATETIME)")
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier) "
                    "VALUES ('layer_styles', 'attributes', 'layer_styles')")
        con.execute("INSERT INTO layer_styles (f_table_name, f_geometry_column, styleName, "
                    "styleQML, useAsDefault) VALUES ('events', 'geom', 'red', '<qgis/>', 1)")
        con.execute("ALTER TABLE events ADD COLUMN analyst_note TEXT")
        con.execute("UPDATE events SET analyst_note = 'checked by R.' WHERE event_id_cnty = ?",
                    (ev["event_id_cnty"][0],))
    con.close()

    changed = ev.copy()
    changed.loc[0, "notes"] = "new note"
    result = store.upsert(changed)  # updates 5 (one of them annotated), inserts the rest
    assert (result.inserted, result.updated) == (len(ev) - 5, 5)

    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"events", "roads", "layer_styles"} <= layers
    assert list(pyogrio.read_dataframe(path, layer="roads")["name"]) == ["N40", "N85"]
    con = sqlite3.connect(path)
    try:
        assert con.execute("SELECT styleName, styleQML FROM layer_styles").fetchall() == [
            ("red", "<qgis/>")]
        notes = dict(con.execute("SELECT event_id_cnty, analyst_note FROM events"))
    finally:
        con.close()
    assert notes[ev["event_id_cnty"][0]] == "checked by R."
    assert sum(v is not None for v in notes.values()) == 1
    back = store.read()
    assert back.set_index("event_id_cnty").loc[ev["event_id_cnty"][0], "notes"] == "new note"
    assert len(back) == len(ev)
    _sound(path)


def test_symlink_store_writes_through_and_shares_the_lock(tmp_path):
    """Old behaviour: the link was replaced by a regular file and had its own lock file."""
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "events.gpkg"
    EventStore(target).upsert(events.load_curated_events().iloc[:2])
    link = tmp_path / "link.gpkg"
    link.symlink_to(target)

    lock = open(real_dir / "events.gpkg.lock", "a")  # noqa: SIM115 - the target's lock
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "events", "import",
             str(DATA / "acled_export.csv"), "--store", str(link)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        time.sleep(3.0)
        assert proc.poll() is None, "the writer through the link did not wait for the lock"
        assert len(EventStore(target).read()) == 2
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert len(EventStore(target).read()) == 2 + 3
    assert not (tmp_path / "link.gpkg.lock").exists()
    _sound(target)


def test_dangling_symlink_creates_the_target(tmp_path):
    link = tmp_path / "link.gpkg"
    target = tmp_path / "t.gpkg"
    link.symlink_to(target)
    EventStore(link).upsert(events.load_curated_events())
    assert link.is_symlink() and target.is_file()
    assert len(EventStore(target).read()) == len(events.load_curated_events())


# ---------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("content", [b"nope", b"", (DATA / "points.geojson").read_bytes()])
def test_non_geopackage_file_is_refused_and_left_untouched(tmp_path, content):
    """Old behaviour: a GeoJSON (or any file) given as the store was overwritten."""
    path = tmp_path / "events.gpkg"
    path.write_bytes(content)
    store = EventStore(path)
    with pytest.raises(StoreError, match="is not a GeoPackage") as err:
        store.upsert(events.load_curated_events())
    assert "\n" not in str(err.value)
    with pytest.raises(StoreError, match="is not a GeoPackage"):
        store.read()
    with pytest.raises(StoreError, match="is not a GeoPackage"):
        store.batches()
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.gpkg"]


def test_plain_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "db.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE events (x)")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a GeoPackage"):
        EventStore(path).upsert(events.load_curated_events())
    assert path.read_bytes() == before


def test_folder_as_store_is_one_sentence(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        EventStore(tmp_path).read()


def test_events_table_without_geometry_is_one_sentence(tmp_path):
    """Old behaviour: a traceback (KeyError/AttributeError) from list and import."""
    path = tmp_path / "attrs.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"event_id_cnty": ["A1"], "notes": ["x"]}), path,
                            layer="events", driver="GPKG")
    before = path.read_bytes()
    for action in (lambda s: s.read(), lambda s: s.upsert(events.load_curated_events()),
                   lambda s: s.batches(), lambda s: s.check()):
        with pytest.raises(StoreError, match="has no geometry"):
            action(EventStore(path))
    assert path.read_bytes() == before


def test_geopackage_without_events_layer_is_one_sentence(tmp_path):
    from shapely.geometry import Point

    path = tmp_path / "other.gpkg"
    gdf = __import__("geopandas").GeoDataFrame({"n": [1]}, geometry=[Point(60, 25)], crs=4326)
    pyogrio.write_dataframe(gdf, path, layer="wells", driver="GPKG")
    before = path.read_bytes()
    for action in (lambda s: s.read(), lambda s: s.upsert(events.load_curated_events())):
        with pytest.raises(StoreError, match=r"has no 'events' layer \(it has wells"):
            action(EventStore(path))
    assert path.read_bytes() == before


# --------------------------------------------------------------------------------- batches
def test_batches_record_each_import_and_remove_batch_undoes_it(tmp_path):
    store = EventStore(tmp_path / "s.gpkg")
    assert list(store.batches().columns) == list(BATCH_COLUMNS) and store.batches().empty
    v0 = store.version()
    ev = events.load_curated_events()
    a = store.upsert(ev.iloc[:6], origin="cli", label="first.csv")
    v1 = store.version()
    b = store.upsert(ev.iloc[4:], origin="page", label="second.geojson")
    v2 = store.version()
    assert len({v0, v1, v2}) == 3 and store.version() == v2  # changes on writes only
    got = store.batches()
    assert list(got.columns) == list(BATCH_COLUMNS)
    assert list(got["batch_id"]) == [a.batch_id, b.batch_id]
    assert list(got["origin"]) == ["cli", "page"]
    assert list(got["label"]) == ["first.csv", "second.geojson"]
    assert list(got["inserted"]) == [6, len(ev) - 6] and list(got["updated"]) == [0, 2]
    assert list(got["events"]) == [4, len(ev) - 4]  # 2 of the first batch were re-imported
    assert all(pd.Timestamp(t).tzinfo is not None for t in got["created_utc"])

    assert store.remove_batch(b.batch_id) == len(ev) - 4
    assert store.version() != v2
    left = store.read()
    assert sorted(left["event_id_cnty"]) == sorted(ev["event_id_cnty"][:4])
    assert list(store.batches()["batch_id"]) == [a.batch_id]
    with pytest.raises(BadParameter, match="no import batch 'nope'"):
        store.remove_batch("nope")
    with pytest.raises(BadParameter, match="no import batch"):
        EventStore(tmp_path / "absent.gpkg").remove_batch(a.batch_id)
    _sound(store.path)


def test_store_written_before_batches_is_migrated(tmp_path):
    """A store made by the previous version (column 'layer', no batch column) keeps every
    value; its events become one removable batch."""
    from dashboard.store import _to_table

    path = tmp_path / "old.gpkg"
    ev = events.load_curated_events()
    table = _to_table(ev).rename(columns={"category": "layer"})
    pyogrio.write_dataframe(table, path, layer="events", driver="GPKG")
    store = EventStore(path)
    assert _json(store.read()) == _json(ev)
    store.upsert(importers.import_file(DATA / "acled_export.csv").events, label="acled")
    got = store.batches()
    assert list(got["origin"]) == ["store", "cli"] and list(got["events"]) == [len(ev), 3]
    back = store.read()
    assert _json(back[back["event_id_cnty"].isin(ev["event_id_cnty"])]) == _json(ev)
    _sound(path)


def test_derived_ids_make_reimport_idempotent(tmp_path):
    store = EventStore(tmp_path / "s.gpkg")
    ev = importers.import_file(DATA / "generic_yx.csv").events
    assert store.upsert(ev)[:2] == (2, 0)
    assert store.upsert(importers.import_file(DATA / "generic_yx.csv").events)[:2] == (0, 2)
    assert isinstance(store.read(), pd.DataFrame) and len(store.read()) == 2


def test_empty_upsert_writes_nothing(tmp_path):
    store = EventStore(tmp_path / "s.gpkg")
    assert store.upsert(events.load_curated_events().iloc[:0]) == (0, 0, "")
    assert not store.path.exists()


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(notes=st.lists(_text, min_size=1, max_size=4), fatal=st.one_of(
    st.none(), st.integers(0, 10**6)), lat=st.floats(-90, 90), lon=st.floats(-180, 180))
def test_any_text_and_number_survive_the_store(tmp_path_factory, notes, fatal, lat, lon):
    store = EventStore(tmp_path_factory.mktemp("h") / "s.gpkg")
    base = events.load_curated_events().iloc[:1]
    rows = pd.concat([base] * len(notes), ignore_index=True)
    rows["event_id_cnty"] = [f"H{i}" for i in range(len(notes))]
    rows["notes"] = notes
    rows["location"] = notes[::-1]
    rows["fatalities"] = fatal
    rows["latitude"], rows["longitude"] = lat, lon
    rows["geometry"] = None
    ev = events.normalise(rows)
    store.upsert(ev)
    back = store.read().set_index("event_id_cnty").loc[list(ev["event_id_cnty"])]
    assert list(back["notes"]) == notes and list(back["location"]) == notes[::-1]
    assert list(back["latitude"]) == [lat] * len(notes)
    assert list(back["longitude"]) == [lon] * len(notes)
    assert back["fatalities"].isna().all() if fatal is None else set(back["fatalities"]) == {
        fatal}


# ------------------------------------------------------------------ crashes and concurrency
def _big_csv(path: Path, n: int, prefix: str = "BIG") -> None:
    rows = ["event_id_cnty,event_date,latitude,longitude,notes"]
    rows += [f"{prefix}{i},2024-01-{1 + i % 28:02d},{25 + (i % 1000) / 1000:.4f},"
             f"{62 + (i % 777) / 777:.4f},row {i}" for i in range(n)]
    path.write_text("\n".join(rows) + "\n")


@pytest.mark.parametrize("delay_s", [0.0, 0.05, 0.3, 1.0])
def test_kill_mid_import_leaves_the_store_as_before(tmp_path, delay_s):
    store_path = tmp_path / "s.gpkg"
    store = EventStore(store_path)
    curated = events.load_curated_events()
    store.upsert(curated)
    before = _json(store.read())
    big = tmp_path / "big.csv"
    _big_csv(big, 60_000)
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "events", "import", str(big),
                             "--store", str(store_path)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    journal = tmp_path / "s.gpkg-journal"
    deadline = time.time() + 120
    while time.time() < deadline and not journal.exists() and proc.poll() is None:
        time.sleep(0.002)  # the writer's transaction has begun once its journal exists
    time.sleep(delay_s)
    if proc.poll() is not None:
        pytest.skip("the import finished before it could be killed")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    hot = journal.exists()  # the commit point is the journal's deletion: none happened
    assert hot or delay_s > 0
    after = EventStore(store_path).read()  # a reader rolls a hot journal back
    if hot:
        assert _json(after) == before
    else:  # killed between the commit and the end of the process
        assert len(after) in (len(curated), len(curated) + 60_000)
    _sound(store_path)
    # the next write works and leaves no journal behind
    store.upsert(importers.import_file(DATA / "acled_export.csv").events)
    assert not journal.exists()
    assert len(store.read()) == len(after) + 3
    _sound(store_path)


def test_next_write_cleans_what_killed_writers_left(tmp_path):
    """Old behaviour: only '.NAME.*.part.gpkg' was removed; journals and GDAL's R-tree temp
    files of killed writers stayed forever."""
    store = EventStore(tmp_path / "s.gpkg")
    store.upsert(events.load_curated_events().iloc[:2])
    leftovers = [".s.gpkg.4242.part.gpkg", ".s.gpkg.4242.part.gpkg-journal",
                 ".s.gpkg.4242.part.gpkg.tmp_rtree_events.db", ".s.gpkg.4242.ab12cd.new.gpkg",
                 ".s.gpkg.4242.ab12cd.new.gpkg-journal", ".s.gpkg.4242.ab12cd.new.gpkg-wal",
                 ".s.gpkg.4242.ab12cd.new.gpkg-shm", "s.gpkg.tmp_rtree_events.db"]
    for name in leftovers:
        (tmp_path / name).write_bytes(b"x" * 10)
    keep = tmp_path / "s.gpkg.backup"  # not ours: never touched
    keep.write_bytes(b"mine")
    store.upsert(importers.import_file(DATA / "acled_export.csv").events)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.gpkg", "s.gpkg.backup",
                                                          "s.gpkg.lock"]
    assert len(store.read()) == 5


def test_two_readers_see_consistent_data_during_a_write(tmp_path):
    store_path = tmp_path / "s.gpkg"
    EventStore(store_path).upsert(events.load_curated_events())
    n0 = len(events.load_curated_events())
    big = tmp_path / "big.csv"
    _big_csv(big, 20_000)
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "events", "import", str(big),
                             "--store", str(store_path)], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    seen = set()
    while proc.poll() is None:
        a, b = EventStore(store_path).read(), EventStore(store_path).read()
        seen.update({len(a), len(b)})
    assert proc.returncode == 0
    seen.add(len(EventStore(store_path).read()))
    assert seen <= {n0, n0 + 20_000}  # whole states only, never a partial table
    assert n0 + 20_000 in seen


_WRITER = """
import sys
from dashboard import importers
from dashboard.store import EventStore
ev = importers.import_file(sys.argv[2]).events
print(EventStore(sys.argv[1]).upsert(ev, origin="page", label=sys.argv[3]).batch_id)
"""


def test_concurrent_writers_lose_nothing_and_readers_see_whole_states(tmp_path):
    store_path = tmp_path / "s.gpkg"
    sizes = {"A": 4000, "B": 3000, "C": 2000}
    for prefix, n in sizes.items():
        _big_csv(tmp_path / f"{prefix}.csv", n, prefix)
    procs = [subprocess.Popen([sys.executable, "-m", "dashboard", "events", "import",
                               str(tmp_path / "A.csv"), "--store", str(store_path)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)]
    procs += [subprocess.Popen([sys.executable, "-c", _WRITER, str(store_path),
                                str(tmp_path / f"{p}.csv"), f"{p}.csv"], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE) for p in "BC"]
    whole = {a + b + c for a in (0, 4000) for b in (0, 3000) for c in (0, 2000)}
    seen = set()
    while any(p.poll() is None for p in procs):
        if store_path.exists():
            seen.add(len(EventStore(store_path).read()))
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    got = EventStore(store_path).read()
    seen.add(len(got))
    assert seen <= whole and 9000 in seen
    for prefix, n in sizes.items():
        assert (got["event_id_cnty"].str.startswith(prefix)).sum() == n
    batches = EventStore(store_path).batches()
    assert sorted(batches["label"]) == ["A.csv", "B.csv", "C.csv"]
    assert sorted(batches["events"]) == [2000, 3000, 4000]
    _sound(store_path)


# ------------------------------------------------------------------ the fast (Arrow) read
def _read_both(store: EventStore, monkeypatch) -> tuple:
    """The store read through GDAL/Arrow (the default) and row by row through SQLite."""
    import dashboard.store as store_module

    fast = store.read()
    with monkeypatch.context() as m:
        m.setattr(store_module, "_read_columns", lambda *a, **k: None)
        slow = store.read()
    return fast, slow


def _assert_same(fast, slow) -> None:
    assert list(fast.columns) == list(slow.columns)
    assert fast.dtypes.equals(slow.dtypes)
    pd.testing.assert_frame_equal(fast.drop(columns="geometry"), slow.drop(columns="geometry"))
    assert fast.geometry.geom_equals_exact(slow.geometry, 0).all()
    assert (fast.geometry.is_empty == slow.geometry.is_empty).all()


def test_fast_read_is_used_and_equals_the_row_by_row_read(tmp_path, monkeypatch):
    import dashboard.store as store_module

    store = EventStore(tmp_path / "s.gpkg")
    store.upsert(events.load_curated_events())
    real = store_module._read_columns
    calls = []
    monkeypatch.setattr(store_module, "_read_columns",
                        lambda *a, **k: calls.append(real(*a, **k)) or calls[-1])
    store.read()
    assert calls and calls[0] is not None  # the curated store is read through Arrow
    monkeypatch.undo()
    _assert_same(*_read_both(store, monkeypatch))


def test_text_with_a_nul_character_is_read_whole(tmp_path, monkeypatch):
    """GDAL cuts text at NUL; such a store is read through SQLite rows, as before."""
    store = EventStore(tmp_path / "s.gpkg")
    ev = events.load_curated_events().iloc[:2].copy()
    ev["notes"] = ["a\x00b", "plain"]
    store.upsert(ev)
    back = store.read().set_index("event_id_cnty")
    assert list(back.loc[list(ev["event_id_cnty"]), "notes"]) == ["a\x00b", "plain"]
    _assert_same(*_read_both(store, monkeypatch))


def test_fast_read_of_an_emptied_store(tmp_path, monkeypatch):
    store = EventStore(tmp_path / "s.gpkg")
    result = store.upsert(events.load_curated_events().iloc[:3])
    store.remove_batch(result.batch_id)
    fast, slow = _read_both(store, monkeypatch)
    assert len(fast) == 0
    _assert_same(fast, slow)


def test_fast_read_of_geometries_a_user_edited(tmp_path, monkeypatch):
    """A polygon (its representative point), an empty point, a NULL and a damaged blob
    (the latitude/longitude columns) read the same both ways."""
    from shapely.geometry import Polygon

    path = tmp_path / "s.gpkg"
    store = EventStore(path)
    ev = events.load_curated_events().iloc[:5]
    store.upsert(ev)
    poly = Polygon([(62, 26), (63, 26), (63, 27), (62, 27)])
    blob = b"GP\x00\x01" + (4326).to_bytes(4, "little") + poly.wkb
    empty = b"GP\x00\x11" + (4326).to_bytes(4, "little") + bytes.fromhex(
        "0101000000000000000000f87f000000000000f87f")
    con = sqlite3.connect(path)
    _register_functions(con)
    ids = list(ev["event_id_cnty"])
    with con:
        for value, eid in [(blob, ids[0]), (empty, ids[1]), (None, ids[2]),
                           (b"GP\x00\x01\x00", ids[3])]:
            con.execute("UPDATE events SET geom = ? WHERE event_id_cnty = ?", (value, eid))
    con.close()
    fast, slow = _read_both(store, monkeypatch)
    _assert_same(fast, slow)
    row = fast.set_index("event_id_cnty")
    point = poly.representative_point()
    assert (row.loc[ids[0], "longitude"], row.loc[ids[0], "latitude"]) == (point.x, point.y)
    for eid in ids[1:4]:  # no usable geometry: the stored columns
        src = ev.set_index("event_id_cnty").loc[eid]
        assert (row.loc[eid, "latitude"], row.loc[eid, "longitude"]) == (
            src["latitude"], src["longitude"])


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(notes=st.lists(_text, min_size=1, max_size=4),
       sources=st.lists(st.lists(_text, max_size=3), min_size=1, max_size=4),
       fatal=st.one_of(st.none(), st.integers(0, 10**6)),
       lat=st.floats(-90, 90), lon=st.floats(-180, 180))
def test_fast_read_equals_row_by_row_read_for_any_values(tmp_path_factory, monkeypatch, notes,
                                                          sources, fatal, lat, lon):
    store = EventStore(tmp_path_factory.mktemp("f") / "s.gpkg")
    base = events.load_curated_events().iloc[:1]
    rows = pd.concat([base] * len(notes), ignore_index=True)
    rows["event_id_cnty"] = [f"F{i}" for i in range(len(notes))]
    rows["notes"] = notes
    rows["sources"] = [sources[i % len(sources)] for i in range(len(notes))]
    rows["fatalities"] = fatal
    rows["latitude"], rows["longitude"] = lat, lon
    rows["geometry"] = None
    store.upsert(events.normalise(rows))
    _assert_same(*_read_both(store, monkeypatch))
