"""Columnar event files: GeoParquet (one file or a partitioned folder) and streamed CSV.

GeoParquet (geopandas + pyarrow) holds the event model (:data:`dashboard.events.EVENT_COLUMNS`)
exactly: text of any Unicode, missing counts (NaN), nullable integers, dates (datetime64) and
``sources`` lists all come back unchanged. Any extra columns (e.g. the enrichment columns of
:mod:`dashboard.enrich`) are kept after the model columns. A folder of Parquet files
partitioned by ``year`` or ``country`` (hive style, ``year=2024/part-0.parquet``) is read like
one file. Large CSV files are read with pyarrow's streaming reader in blocks, so memory stays
bounded by the block size, not the file size.

No Streamlit, no folium. Coordinates: ``latitude``/``longitude`` in degrees, Point (lon, lat).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from dashboard import events as model
from dashboard import outputs
from dashboard.errors import DataError, OutputError

PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")
PARTITION_KEYS = ("year", "country")
#: Rows per Parquet row group (the unit a Dask partition or a streamed read takes at once).
ROW_GROUP_ROWS = 100_000
#: Bytes of CSV text pyarrow parses at once. Its streaming reader reads a few blocks ahead, so
#: memory while streaming grows with this (several blocks), not with the file.
CSV_BLOCK_BYTES = 4 * 1024 * 1024


def is_parquet_path(path: str | os.PathLike[str]) -> bool:
    """True for a ``.parquet``/``.geoparquet``/``.pq`` file or a folder holding such files."""
    p = Path(path)
    if p.is_dir():
        return any(f.suffix.casefold() in PARQUET_SUFFIXES for f in p.rglob("*") if f.is_file())
    return p.suffix.casefold() in PARQUET_SUFFIXES


def _model_frame(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """The event model columns (normalised) followed by any extra columns unchanged."""
    table = pd.DataFrame(frame.drop(columns=[frame.geometry.name]) if isinstance(
        frame, gpd.GeoDataFrame) else frame).reset_index(drop=True)
    if isinstance(frame, gpd.GeoDataFrame) and len(frame):
        geoms = frame.geometry.values
        for col, coord in (("longitude", geoms.x), ("latitude", geoms.y)):
            if col not in table.columns:
                table[col] = np.asarray(coord, dtype=float)
    base = model.normalise(table)
    extra = [c for c in table.columns if c not in base.columns and c != "layer"]
    for col in extra:
        base[col] = table[col].to_numpy() if table[col].dtype == object else table[col].array
    return base


def _is_model(gdf: pd.DataFrame) -> bool:
    return isinstance(gdf, gpd.GeoDataFrame) and list(gdf.columns[:len(model.EVENT_COLUMNS)]) \
        == list(model.EVENT_COLUMNS)


def _geo_table(gdf: pd.DataFrame) -> pa.Table:
    return _parquet_table(gdf if _is_model(gdf) else _model_frame(gdf))


def _parquet_table(frame: gpd.GeoDataFrame) -> pa.Table:
    """Arrow table with the ``geo`` metadata geopandas writes (GeoParquet 1.0, WKB)."""
    from geopandas.io.arrow import _geopandas_to_arrow

    table = _geopandas_to_arrow(frame, index=False, schema_version=None)
    fields = []
    for f in table.schema:  # one schema whatever the values: text is string, sources a list
        if f.name == "sources":
            f = f.with_type(pa.list_(pa.string()))
        elif pa.types.is_large_string(f.type):
            f = f.with_type(pa.string())
        fields.append(f)
    schema = pa.schema(fields, metadata=table.schema.metadata)
    return table if schema == table.schema else table.cast(schema)


def write_geoparquet(gdf: pd.DataFrame, path: str | os.PathLike[str], *,
                     row_group_rows: int = ROW_GROUP_ROWS) -> None:
    """Write events to one GeoParquet file, whole or not at all (atomic rename).

    Raises OutputError (one sentence) when the path cannot be written.
    """
    table = _geo_table(gdf)
    with outputs.atomic_output(path, binary=True) as fh:
        pq.write_table(table, fh, row_group_size=max(1, int(row_group_rows)),
                       compression="zstd")


def geoparquet_bytes(gdf: pd.DataFrame, *, row_group_rows: int = ROW_GROUP_ROWS) -> bytes:
    """The GeoParquet file :func:`write_geoparquet` writes, as bytes (for a download)."""
    sink = pa.BufferOutputStream()
    pq.write_table(_geo_table(gdf), sink, row_group_size=max(1, int(row_group_rows)),
                   compression="zstd")
    return sink.getvalue().to_pybytes()


def _foreign_entry(folder: Path) -> Path | None:
    """The first entry of ``folder`` that a GeoParquet dataset would not hold (a file that is
    not Parquet, a subfolder that is not a ``key=value`` partition), or None."""
    for p in sorted(folder.rglob("*")):
        if p.is_dir() and not p.is_symlink():
            if "=" not in p.name:
                return p
        elif p.suffix.casefold() not in PARQUET_SUFFIXES or not p.is_file():
            return p
    return None


#: Folder name part of a missing partition value (as Hive and pyarrow write it).
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def partition_folder(key: str, value: object) -> str:
    """``key=value`` with the value percent-encoded (any text, ``/`` and ``=`` included),
    as pyarrow's hive partitioning reads it back."""
    from urllib.parse import quote

    if value is None:
        return f"{key}={HIVE_NULL}"
    return f"{key}={quote(str(value), safe='')}"


def _write_partitions(table: pa.Table, folder: Path, key: str) -> None:
    """One ``key=value/part-0.parquet`` per distinct value (rows in their order; the key
    column is in the folder name only). Written by pyarrow's Parquet writer in this thread,
    not by its dataset writer, whose worker threads can abort the process at exit
    (apache/arrow#36980)."""
    codes = pc.dictionary_encode(table.column(key).combine_chunks())
    idx = codes.indices.to_numpy(zero_copy_only=False) if codes.null_count == 0 else \
        codes.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    order = np.argsort(idx, kind="stable")
    starts = np.flatnonzero(np.r_[True, idx[order][1:] != idx[order][:-1]]) if len(idx) \
        else np.array([], int)
    ends = np.r_[starts[1:], len(idx)]
    rest = table.drop_columns([key])
    labels = codes.dictionary.to_pylist()
    for a, b in zip(starts, ends, strict=True):
        code = int(idx[order[a]])
        sub = folder / partition_folder(key, labels[code] if code >= 0 else None)
        sub.mkdir()
        pq.write_table(rest.take(pa.array(order[a:b])), sub / "part-0.parquet",
                       row_group_size=ROW_GROUP_ROWS, compression="zstd")


def write_dataset(gdf: pd.DataFrame, folder: str | os.PathLike[str], *,
                  partition_by: str = "year") -> None:
    """Write events to a folder of GeoParquet files partitioned by ``year`` or ``country``
    (hive style, e.g. ``year=2024/part-0.parquet``), whole or not at all: the folder is built
    beside the target (a hidden temporary folder) and renamed into place.

    Like an output file, an existing dataset there (only Parquet files in ``key=value``
    folders) or an empty folder is replaced; a folder holding anything else is refused with
    one sentence (OutputError) and left untouched.
    """
    if partition_by not in PARTITION_KEYS:
        raise DataError(f"Partition by one of {', '.join(PARTITION_KEYS)} "
                        f"(got {partition_by!r}).")
    target = Path(folder)
    if str(folder) in ("", "-"):
        raise OutputError("Give a folder name for a partitioned dataset.")
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target} is a file; give a folder for a partitioned dataset.")
    if target.is_dir():
        foreign = _foreign_entry(target)
        if foreign is not None:
            raise OutputError(f"The folder {target} holds {foreign.relative_to(target)}, which "
                              "is not part of a GeoParquet dataset; give a new or empty folder "
                              "(nothing was written).")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"The folder {parent} does not exist.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"Cannot write the dataset folder {target}: the folder {parent} is "
                          "not writable.")
    table = _geo_table(gdf)
    tmp = parent / f".dash-ds-{os.getpid()}-{secrets.token_hex(4)}"
    old = parent / f".dash-old-{os.getpid()}-{secrets.token_hex(4)}"
    moved = False
    try:
        tmp.mkdir()
        _write_partitions(table, tmp, partition_by)
        if target.exists():
            os.replace(target, old)
            moved = True
        os.replace(tmp, target)
        moved = False
    except (OSError, pa.ArrowException) as err:
        if moved:  # put the earlier dataset back: never no folder, never half a folder
            with contextlib.suppress(OSError):
                os.replace(old, target)
        text = getattr(err, "strerror", None) or str(err).splitlines()[0][:120]
        raise OutputError(f"Cannot write the dataset folder {target} ({text}).") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if target.is_dir():  # the old dataset is removed only once the new one is in place
            shutil.rmtree(old, ignore_errors=True)


def _partition_values(table: pa.Table) -> pa.Table:
    """Hive partition columns come back as dictionaries; turn them into plain values."""
    cols = []
    for field, col in zip(table.schema, table.columns, strict=True):
        if pa.types.is_dictionary(field.type):
            col = col.cast(field.type.value_type)
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def dataset(path: str | os.PathLike[str]) -> pads.Dataset:
    """A pyarrow dataset over one Parquet file or a (hive-partitioned) folder of them."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p} does not exist.")
    try:
        if p.is_dir():
            return pads.dataset(str(p), format="parquet", partitioning="hive",
                                exclude_invalid_files=True)
        return pads.dataset(str(p), format="parquet")
    except (pa.ArrowInvalid, OSError) as err:
        raise DataError(f"{p} is not a readable Parquet file or folder "
                        f"({str(err).splitlines()[0][:120]}).") from None


def _table_to_events(table: pa.Table, geo_meta: bytes | None) -> gpd.GeoDataFrame:
    table = _partition_values(table)
    if geo_meta is not None and b"geo" not in (table.schema.metadata or {}):
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               b"geo": geo_meta})
    if b"geo" in (table.schema.metadata or {}):
        from geopandas.io.arrow import _arrow_to_geopandas

        frame = _arrow_to_geopandas(table)
    else:
        frame = table.to_pandas()
    return _model_frame(frame)


def _geo_metadata(ds: pads.Dataset) -> bytes | None:
    meta = ds.schema.metadata or {}
    return meta.get(b"geo")


def read_geoparquet(path: str | os.PathLike[str], *,
                    columns: list[str] | None = None) -> gpd.GeoDataFrame:
    """Read a GeoParquet file or partitioned folder into the event model (extra columns
    kept after the model columns). A folder's rows come in the order of its files.

    Raises DataError (one sentence) for a missing or unreadable file.
    """
    ds = dataset(path)
    try:
        table = ds.to_table(columns=columns)
    except (pa.ArrowInvalid, OSError) as err:
        raise DataError(f"{path} cannot be read as Parquet "
                        f"({str(err).splitlines()[0][:120]}).") from None
    return _table_to_events(table, _geo_metadata(ds))


def iter_geoparquet(path: str | os.PathLike[str], *,
                    batch_rows: int = ROW_GROUP_ROWS) -> Iterator[gpd.GeoDataFrame]:
    """The events of a GeoParquet file or folder in pieces of at most ``batch_rows`` rows
    (bounded memory), each in the event model."""
    ds = dataset(path)
    geo = _geo_metadata(ds)
    for batch in ds.to_batches(batch_size=max(1, int(batch_rows))):
        if batch.num_rows:
            yield _table_to_events(pa.Table.from_batches([batch]), geo)


def fragments(path: str | os.PathLike[str], *,
              max_rows: int | None = None) -> list[tuple[str, int, int, int]]:
    """Pieces ``(file, row group, first row, end row)`` of a Parquet file or folder, in a fixed
    order (files by path, then row groups), each at most ``max_rows`` rows: the units a Dask
    partition reads with :func:`read_piece`."""
    ds = dataset(path)
    out = []
    for frag in sorted(ds.get_fragments(), key=lambda f: f.path):
        meta = frag.metadata
        for rg in range(meta.num_row_groups):
            n = meta.row_group(rg).num_rows
            step = max(1, int(max_rows)) if max_rows else max(1, n)
            out.extend((frag.path, rg, a, min(n, a + step)) for a in range(0, n, step))
    return out


def read_piece(root: str, file: str, row_group: int, start: int = 0,
               stop: int | None = None) -> gpd.GeoDataFrame:
    """Rows ``start:stop`` of one row group of a Parquet file (below ``root``, a file or a
    partitioned folder) in the event model; hive partition values from the file's path are
    added as columns."""
    from urllib.parse import unquote

    pf = pq.ParquetFile(file)
    table = pf.read_row_group(row_group)
    if start or stop is not None:
        table = table.slice(start, (stop if stop is not None else table.num_rows) - start)
    rootp = Path(root)
    if rootp.is_dir():
        rel = Path(file).relative_to(rootp)
        for part in rel.parts[:-1]:
            if "=" in part:
                key, value = part.split("=", 1)
                if key not in table.column_names:
                    table = table.append_column(key, pa.array([unquote(value)] * table.num_rows))
    meta = pf.schema_arrow.metadata or {}
    return _table_to_events(table, meta.get(b"geo"))


# ------------------------------------------------------------------------------ CSV streaming
def iter_csv_tables(path: str | os.PathLike[str], *,
                    block_bytes: int = CSV_BLOCK_BYTES) -> Iterator[pa.Table]:
    """Stream a CSV file as Arrow tables of text columns (every cell verbatim as text,
    empty cells empty), one per piece of about ``block_bytes`` cut at a record boundary
    (:func:`record_pieces`): memory is bounded by a few blocks.

    Raises DataError (one sentence) for a missing or malformed file.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p} does not exist or is not a file.")
    try:
        with open(p, "rb") as fh:
            header = fh.readline().decode("utf-8-sig", errors="replace")
    except OSError as err:
        raise DataError(f"{p} cannot be read ({err.strerror}).") from None
    import csv as _csv

    names = next(_csv.reader([header]), [])
    if not names:
        raise DataError(f"{p} has no header row.")
    parse = pacsv.ParseOptions(newlines_in_values=True)
    convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    first = True
    try:
        for piece in record_pieces(p, max(1 << 16, int(block_bytes))):
            # each piece is one Arrow block: Arrow's own chunker drops the LF of a quoted
            # CR LF that straddles its block boundary
            read = pacsv.ReadOptions(column_names=names, skip_rows=1 if first else 0,
                                     block_size=min(len(piece) + 1, 2**31 - 1))
            first = False
            table = pacsv.read_csv(pa.BufferReader(piece), read_options=read,
                                   parse_options=parse, convert_options=convert)
            if table.num_rows:
                yield table
    except (pa.ArrowInvalid, OSError) as err:
        raise DataError(f"{p} is not a readable CSV file "
                        f"({str(err).splitlines()[0][:120]}).") from None


def record_pieces(path: str | os.PathLike[str], block_bytes: int) -> Iterator[bytes]:
    """The bytes of a CSV file in pieces of about ``block_bytes`` that each end at a record
    boundary: a line feed with an even number of quote characters before it (RFC 4180
    quoting), found vectorised. A record longer than a block makes its piece longer.
    Memory: about two blocks."""
    carry = b""
    with open(path, "rb") as fh:
        while True:
            block = fh.read(max(1, int(block_bytes)))
            buf = carry + block if carry else block
            if not block:
                if buf:
                    yield buf
                return
            arr = np.frombuffer(buf, np.uint8)
            feeds = np.flatnonzero(arr == 10)
            quotes = np.flatnonzero(arr == 34)
            ends = feeds[np.searchsorted(quotes, feeds) % 2 == 0]  # pieces start outside quotes
            del arr, feeds, quotes
            if len(ends) == 0:
                carry = buf
                continue
            cut = int(ends[-1]) + 1
            yield buf[:cut]
            carry = buf[cut:]


def csv_table_to_events(table: pa.Table) -> gpd.GeoDataFrame:
    """A block of CSV text columns (from :func:`iter_csv_tables`) in the event model.

    The one ``'`` that :func:`dashboard.events.to_csv` puts before formula-like text is
    removed again, so ``events.to_csv`` → stream → this is an exact round trip. Values are
    coerced, not validated (rows the importer would reject get missing values).
    """
    frame = pd.DataFrame({name: model.arrow_text(col.combine_chunks() if isinstance(
        col, pa.ChunkedArray) else col) for name, col in zip(table.column_names, table.columns,
                                                              strict=True)})
    if "category" not in frame.columns and "layer" in frame.columns:
        frame = frame.rename(columns={"layer": "category"})
    text_cols = set(model.TEXT_COLUMNS)
    for col in frame.columns:
        if col in text_cols:
            guarded = frame[col].str.startswith(model.CSV_TEXT_GUARD)
            if guarded.any():
                frame.loc[guarded, col] = frame.loc[guarded, col].map(model.unneutralise_formula)
    for col in frame.columns:
        if col not in text_cols and col not in ("sources", "event_date"):
            frame[col] = frame[col].where(frame[col] != "")
    return model.normalise(frame)


def iter_csv_events(path: str | os.PathLike[str], *,
                    block_bytes: int = CSV_BLOCK_BYTES) -> Iterator[gpd.GeoDataFrame]:
    """Stream a CSV file of events (ACLED export or ``events.to_csv``) block by block, each
    block in the event model; memory stays bounded by ``block_bytes``."""
    for table in iter_csv_tables(path, block_bytes=block_bytes):
        if table.num_rows:
            yield csv_table_to_events(table)


def csv_to_geoparquet(src: str | os.PathLike[str], dst: str | os.PathLike[str], *,
                      block_bytes: int = CSV_BLOCK_BYTES) -> int:
    """Convert a CSV file of events to one GeoParquet file in bounded memory (block by block,
    written whole or not at all). Returns the number of rows written."""
    rows = 0
    writer: pq.ParquetWriter | None = None
    with outputs.atomic_output(dst, binary=True) as fh:
        try:
            for gdf in iter_csv_events(src, block_bytes=block_bytes):
                table = _parquet_table(gdf)
                if writer is None:
                    writer = pq.ParquetWriter(fh, table.schema, compression="zstd")
                elif table.schema != writer.schema:
                    table = table.cast(writer.schema)
                writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
                rows += table.num_rows
            if writer is None:
                table = _parquet_table(model.normalise(pd.DataFrame(columns=list(
                    model.EVENT_COLUMNS))))
                writer = pq.ParquetWriter(fh, table.schema, compression="zstd")
        finally:
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.close()
    return rows


def read_events(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Events from a GeoParquet file or folder, or a CSV file (streamed), in the event model.

    Other formats (GeoJSON, GeoPackage) go through :mod:`dashboard.importers`.
    """
    p = Path(path)
    if is_parquet_path(p):
        return read_geoparquet(p)
    if p.suffix.casefold() in (".csv", ".txt"):
        parts = list(iter_csv_events(p))
        if not parts:
            return model.normalise(pd.DataFrame(columns=list(model.EVENT_COLUMNS)))
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")
    raise DataError(f"{p} is not a Parquet file or folder nor a CSV file.")
