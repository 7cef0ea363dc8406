"""GeoParquet files and folders, and the streamed CSV reader (dashboard/columnar.py)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings

from dashboard import columnar
from dashboard import events as model
from dashboard.errors import DataError, OutputError

TEXT = st.text(max_size=12)
COUNT = st.one_of(st.just(math.nan), st.integers(0, 10_000).map(float))
DATE = st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31))


@st.composite
def event_rows(draw: st.DrawFn, max_rows: int = 8) -> pd.DataFrame:
    """A table of events: any Unicode text, unknown (NaN) counts, dates over three centuries,
    missing integers, lists of sources, coordinates anywhere."""
    n = draw(st.integers(1, max_rows))
    rows = []
    for i in range(n):
        rows.append({
            "event_id_cnty": f"E{i}-" + draw(TEXT),
            "event_date": draw(DATE).isoformat(),
            "event_type": draw(st.sampled_from([*model.EVENT_TYPES, "", "Other thing"])),
            "sub_event_type": draw(TEXT), "actor1": draw(TEXT), "notes": draw(TEXT),
            "country": draw(st.sampled_from(["Iran", "Pakistan", "Côte d'Ivoire", "ایران"])),
            "location": draw(TEXT), "tags": draw(TEXT), "category": draw(st.sampled_from(
                ["", *model.CATEGORIES])),
            "latitude": draw(st.floats(-90, 90)), "longitude": draw(st.floats(-180, 180)),
            "fatalities": draw(COUNT), "injured": draw(COUNT),
            "geo_precision": draw(st.sampled_from([1, 2, 3, None])),
            "time_precision": draw(st.sampled_from([1, 2, 3])),
            "iso": draw(st.one_of(st.none(), st.integers(0, 999))),
            "timestamp": draw(st.one_of(st.none(), st.integers(0, 2**40))),
            "uncertainty_km": draw(st.one_of(st.just(math.nan), st.floats(0, 500))),
            "sources": draw(st.lists(TEXT.filter(lambda t: t.strip() == t and t), max_size=3)),
            "disputed": draw(TEXT),
        })
    return model.normalise(pd.DataFrame(rows))


def _same(a: pd.DataFrame, b: pd.DataFrame, key: str | None = None) -> None:
    if key:
        a = a.sort_values(key, kind="stable").reset_index(drop=True)
        b = b.sort_values(key, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_exact=True)


SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(events=event_rows())
def test_geoparquet_round_trip_is_exact(events: pd.DataFrame, tmp_path: Path) -> None:
    """Every model column (text of any Unicode, NaN counts, dates, lists) comes back equal."""
    path = tmp_path / "e.parquet"
    columnar.write_geoparquet(events, path)
    back = columnar.read_geoparquet(path)
    _same(back, events)
    assert b"geo" in pq.read_schema(path).metadata  # a GeoParquet file, not plain Parquet


@SETTINGS
@given(events=event_rows(), key=st.sampled_from(columnar.PARTITION_KEYS))
def test_partitioned_dataset_round_trip_is_exact(events: pd.DataFrame, key: str,
                                                 tmp_path: Path) -> None:
    """A folder partitioned by year or by country (non-ASCII names too) reads back equal."""
    folder = tmp_path / f"ds-{key}"
    columnar.write_dataset(events, folder, partition_by=key)
    assert {p.name.split("=")[0] for p in folder.iterdir()} == {key}
    _same(columnar.read_geoparquet(folder), events, "event_id_cnty")
    pieces = columnar.fragments(folder, max_rows=3)
    parts = [columnar.read_piece(str(folder), *piece) for piece in pieces]
    _same(pd.concat(parts, ignore_index=True), events, "event_id_cnty")


@SETTINGS
@given(events=event_rows(max_rows=30))
def test_csv_stream_round_trip_is_exact(events: pd.DataFrame, tmp_path: Path) -> None:
    """events.to_csv → streamed in small blocks → the same events (formula guards removed)."""
    path = tmp_path / "e.csv"
    path.write_text(model.to_csv(events), encoding="utf-8", newline="")
    parts = list(columnar.iter_csv_events(path, block_bytes=1 << 16))
    _same(pd.concat(parts, ignore_index=True), events)


def test_csv_streams_in_blocks_and_converts_to_geoparquet(tmp_path: Path) -> None:
    """A file many times the block size is read block by block (no block holds the file),
    and csv_to_geoparquet writes every row once, in order."""
    rng = np.random.default_rng(3)
    n = 20_000
    frame = pd.DataFrame({"event_id_cnty": [f"X{i}" for i in range(n)],
                          "event_date": "2024-01-16", "event_type": "Battles",
                          "latitude": rng.uniform(24, 32, n).round(5),
                          "longitude": rng.uniform(56, 70, n).round(5),
                          "notes": ["=cmd|' /C calc'!A0" if i % 7 == 0 else "note"
                                    for i in range(n)]})
    src = tmp_path / "big.csv"
    src.write_text(model.to_csv(frame), encoding="utf-8", newline="")
    block = 1 << 16
    tables = list(columnar.iter_csv_tables(src, block_bytes=block))
    assert len(tables) >= src.stat().st_size // block
    assert max(t.num_rows for t in tables) < n / 5
    dst = tmp_path / "big.parquet"
    assert columnar.csv_to_geoparquet(src, dst, block_bytes=block) == n
    back = columnar.read_geoparquet(dst)
    _same(back, model.normalise(frame))
    assert back.loc[0, "notes"] == "=cmd|' /C calc'!A0"


def test_enriched_extra_columns_survive(tmp_path: Path) -> None:
    """Columns beyond the model (e.g. enrichment) are kept, after the model columns."""
    events = model.load_curated_events()
    events["h3_r5"] = "85" + events["event_id_cnty"]
    events["within_border_45km"] = np.arange(len(events)) % 2 == 0
    path = tmp_path / "x.parquet"
    columnar.write_geoparquet(events, path)
    back = columnar.read_geoparquet(path)
    assert list(back.columns[-2:]) == ["h3_r5", "within_border_45km"]
    assert back["within_border_45km"].tolist() == events["within_border_45km"].tolist()
    assert back["h3_r5"].tolist() == events["h3_r5"].tolist()


def test_write_dataset_replaces_whole_folder(tmp_path: Path) -> None:
    """Writing a dataset over an older one leaves only the new partitions."""
    events = model.load_curated_events()
    folder = tmp_path / "ds"
    columnar.write_dataset(events, folder, partition_by="country")
    columnar.write_dataset(events.iloc[:2], folder, partition_by="year")
    assert {p.name.split("=")[0] for p in folder.iterdir()} == {"year"}
    assert len(columnar.read_geoparquet(folder)) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dash-")]


def test_errors_are_one_sentence(tmp_path: Path) -> None:
    events = model.load_curated_events()
    with pytest.raises(DataError, match="does not exist"):
        columnar.read_geoparquet(tmp_path / "missing.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="not a readable Parquet"):
        columnar.read_geoparquet(bad)
    with pytest.raises(DataError, match="Partition by one of year, country"):
        columnar.write_dataset(events, tmp_path / "d", partition_by="actor1")
    with pytest.raises(OutputError):
        columnar.write_geoparquet(events, tmp_path / "no" / "such" / "x.parquet")
    existing = tmp_path / "keep.parquet"
    existing.write_bytes(b"old")
    with pytest.raises(OutputError):
        columnar.write_dataset(events, existing)
    assert existing.read_bytes() == b"old"
    with pytest.raises(DataError, match="does not exist"):
        list(columnar.iter_csv_events(tmp_path / "none.csv"))


def test_geoparquet_bytes_are_the_file_write_geoparquet_writes(tmp_path: Path) -> None:
    """The page's download bytes equal the CLI's file and read back to the same events."""
    events = model.load_curated_events()
    path = tmp_path / "e.parquet"
    columnar.write_geoparquet(events, path)
    data = columnar.geoparquet_bytes(events)
    assert data == path.read_bytes()
    _same(columnar.read_geoparquet(path), events)


def test_write_dataset_never_replaces_a_folder_holding_other_files(tmp_path: Path) -> None:
    """An earlier dataset or an empty folder is replaced; a folder with anything else (a
    file that is not Parquet, a subfolder that is not a partition) is refused untouched."""
    events = model.load_curated_events()
    empty = tmp_path / "empty"
    empty.mkdir()
    columnar.write_dataset(events, empty, partition_by="year")
    assert len(columnar.read_geoparquet(empty)) == len(events)
    for name, make in (("notes", lambda d: (d / "notes.txt").write_text("mine")),
                       ("sub", lambda d: (d / "photos").mkdir())):
        folder = tmp_path / name
        folder.mkdir()
        make(folder)
        before = sorted(p.name for p in folder.rglob("*"))
        with pytest.raises(OutputError, match="not part of a GeoParquet dataset"):
            columnar.write_dataset(events, folder, partition_by="year")
        assert sorted(p.name for p in folder.rglob("*")) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dash-")]


def test_a_failed_dataset_write_leaves_the_earlier_dataset(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """A write that fails half way (here: the disk fills after one partition) leaves the
    earlier dataset as it was and no temporary folder."""
    import errno

    events = model.load_curated_events()
    folder = tmp_path / "ds"
    columnar.write_dataset(events, folder, partition_by="country")
    before = {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*.parquet")}
    real = pq.write_table
    calls = []

    def fill_up(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)
    monkeypatch.setattr(pq, "write_table", fill_up)
    with pytest.raises(OutputError, match="No space left on device"):
        columnar.write_dataset(events, folder, partition_by="year")
    after = {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*.parquet")}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


def test_partition_folders_encode_any_value_and_read_back(tmp_path: Path) -> None:
    rows = [{"event_id_cnty": f"K{i}", "event_date": "2024-01-16", "latitude": 1.0,
             "longitude": 2.0, "country": c}
            for i, c in enumerate(["a/b", "x=y", "", "100%", "ایران", "2024"])]
    events = model.normalise(pd.DataFrame(rows))
    columnar.write_dataset(events, tmp_path / "ds", partition_by="country")
    assert columnar.partition_folder("country", "a/b") == "country=a%2Fb"
    assert columnar.partition_folder("country", None) == "country=__HIVE_DEFAULT_PARTITION__"
    _same(columnar.read_geoparquet(tmp_path / "ds"), events, "event_id_cnty")


def test_a_quoted_cr_lf_at_a_block_boundary_keeps_its_line_feed(tmp_path: Path) -> None:
    """Arrow's streaming CSV reader dropped the LF of a quoted CR LF straddling its block
    boundary; the stream is now cut at record boundaries, so the text comes back whole."""
    block = 1 << 16
    rows = [f"E{i:07d},2024-01-16,26.5,63.5,row {i:07d}\n" for i in range(block // 16)]
    body = "event_id_cnty,event_date,latitude,longitude,notes\n" + "".join(
        rows[:(block - 200) // len(rows[0])])
    start = 'X1,2024-01-16,26.5,63.5,"cr'
    special = start + "p" * (block - 1 - len(body.encode()) - len(start)) + '\r\nlf"\n'
    data = (body + special + "".join(rows[-10:])).encode()
    assert data[block - 1:block + 1] == b"\r\n"
    path = tmp_path / "crlf.csv"
    path.write_bytes(data)
    got = pd.concat(list(columnar.iter_csv_events(path, block_bytes=block)), ignore_index=True)
    assert len(got) == data.count(b"\n") - 2  # header and the one line break inside a value
    assert got.loc[got["event_id_cnty"] == "X1", "notes"].iloc[0].endswith("p\r\nlf")
    pieces = list(columnar.record_pieces(path, block))
    assert b"".join(pieces) == data and len(pieces) >= 2
    assert all(piece.count(b'"') % 2 == 0 and piece.endswith(b"\n") for piece in pieces)
