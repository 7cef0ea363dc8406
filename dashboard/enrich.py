"""Enrichment: per-event derived columns, computed over partitions with Dask.

Per event (all from the same core functions the page and the CLI use):

- ``border_distance_km``, ``border_side``, ``border_nearest_lat``, ``border_nearest_lon``:
  :func:`dashboard.analysis.distance_to_border` (geodesic, WGS84);
- ``admin1_code``: ISO 3166-2 code of the province holding the point (spatial join with
  :func:`dashboard.layers.load_provinces`; "" outside every province);
- ``nearest_site_id``, ``nearest_site_km``: the nearest named place of
  :func:`dashboard.sites.known_sites` (``geodesy.inverse`` to every place, vectorised);
- ``h3_r<N>``: H3 cell id (hex text) at each chosen resolution (``h3`` v4);
- ``within_<target>_<R>km``: True when the point lies in the geodesic buffer of
  :func:`dashboard.analysis.buffer_target` (``shapely.contains_xy``).

Events without valid coordinates get empty values (NaN, "", False). The work runs on Dask
over partitions: synchronously in this process by default, on a ``dask.distributed``
LocalCluster (``workers=N``) or on an existing cluster (``scheduler="tcp://HOST:PORT"``).
Workers compute with their own copy of the package and geodata; a version check stops a
run whose workers hold different geodata. Results do not depend on where they ran.

No Streamlit, no folium.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import shapely

from dashboard import analysis, columnar, geodesy, layers, outputs, settings, sites
from dashboard import events as model
from dashboard.errors import BadParameter, DataError

#: H3 resolutions written when none are given, and how many may be asked for at once.
DEFAULT_H3 = (5, 7, 9)
MAX_H3 = 6
#: Rows per partition when the input is not already in pieces (CSV blocks, GeoJSON, …).
PARTITION_ROWS = 50_000
#: Most buffer flags at once (each is one target and one radius).
MAX_BUFFER_FLAGS = 16
MAX_WORKERS = 64
#: Seconds to wait for a scheduler to answer.
CONNECT_TIMEOUT_S = 15
_LAYERS_CHECKED = ("border", "countries", "provinces", "places")
_SITE_BLOCK = 20_000  # points per vectorised inverse block (memory: block × sites floats)
_SITE_CANDIDATES = 4  # places per point measured with geodesy.inverse before the bound check
#: Bound on |ellipsoidal geodesic / spherical great-circle − 1| (WGS84 vs the mean-radius
#: sphere; the true maximum is about 0.6 %, so 1 % is a safe margin).
_SPHERE_SLACK = 0.01


@dataclass(frozen=True)
class Buffer:
    """One buffer flag: the column name, the target as typed, its radius (km) and the buffer
    polygon (lon, lat) as WKB (so it travels to workers unchanged)."""

    column: str
    target: str
    radius_km: float
    wkb: bytes


@dataclass(frozen=True)
class EnrichSpec:
    """What to add: H3 resolutions, buffer flags, and the geodata versions workers must hold."""

    h3_resolutions: tuple[int, ...] = DEFAULT_H3
    buffers: tuple[Buffer, ...] = ()
    data_versions: tuple[str, ...] = field(default_factory=tuple)


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(text).casefold()).strip("_") or "target"


def parse_h3(text: Any) -> tuple[int, ...]:
    """H3 resolutions from "5,7,9" (or a list): integers 0..15, ascending, no repeats.

    Raises BadParameter (one sentence) otherwise.
    """
    if text is None:
        return DEFAULT_H3
    parts = [p for p in re.split(r"[,\s;]+", str(text).strip()) if p] if isinstance(
        text, str) else [str(v) for v in text]
    out = set()
    for p in parts:
        if not re.fullmatch(r"\d{1,2}", p) or int(p) > 15:
            raise BadParameter(f"The H3 resolution {p[:20]!r} is not a whole number from 0 "
                               "to 15; write e.g. 5,7,9.")
        out.add(int(p))
    if not out:
        raise BadParameter("Give at least one H3 resolution, e.g. 5,7,9.")
    if len(out) > MAX_H3:
        raise BadParameter(f"Give at most {MAX_H3} H3 resolutions (got {len(out)}).")
    return tuple(sorted(out))


def parse_buffer(text: str) -> list[Buffer]:
    """Buffer flags from "TARGET:R[,R…]" (TARGET: border, a province code or name, or a
    site; R in km), e.g. "border:45" or "PK-BA:25,50". Uses analysis.buffer_target."""
    raw = str(text).strip()
    if ":" not in raw:
        raise BadParameter(f"Write a buffer as TARGET:KM, e.g. border:45 (got {raw[:40]!r}).")
    target, radii = raw.rsplit(":", 1)
    if not target.strip():
        raise BadParameter(f"The buffer {raw[:40]!r} names no target; e.g. border:45.")
    rings = analysis.buffer_target(target.strip(), radii)
    out = []
    for radius, geom in zip(rings["radius_km"], rings.geometry, strict=True):
        column = f"within_{_slug(target)}_{float(radius):g}km".replace(".", "_")
        out.append(Buffer(column, target.strip(), float(radius), shapely.to_wkb(geom)))
    return out


def _data_versions() -> tuple[str, ...]:
    return tuple(layers.data_version(name) for name in _LAYERS_CHECKED)


def make_spec(buffers: Sequence[str] = (), h3: Any = None) -> EnrichSpec:
    """The enrichment spec from CLI-style texts (``buffers`` like "border:45")."""
    flags: list[Buffer] = []
    for text in buffers:
        flags.extend(parse_buffer(text))
    seen: dict[str, Buffer] = {}
    for b in flags:
        seen.setdefault(b.column, b)
    if len(seen) > MAX_BUFFER_FLAGS:
        raise BadParameter(f"Give at most {MAX_BUFFER_FLAGS} buffer radii in all "
                           f"(got {len(seen)}).")
    return EnrichSpec(parse_h3(h3), tuple(seen.values()), _data_versions())


def enriched_columns(spec: EnrichSpec) -> list[str]:
    """Names of the columns :func:`enrich_frame` adds, in order."""
    return (["border_distance_km", "border_side", "border_nearest_lat", "border_nearest_lon",
             "admin1_code", "nearest_site_id", "nearest_site_km"]
            + [f"h3_r{r}" for r in spec.h3_resolutions] + [b.column for b in spec.buffers])


def _admin1(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """ISO 3166-2 code of the province containing each point (the lowest code when a point
    lies on a shared edge; "" outside all)."""
    out = np.full(len(lats), "", dtype=object)
    if not len(lats):
        return out
    provinces = layers.load_provinces(settings.GEODATA_DIR)[["iso_3166_2", "geometry"]]
    pts = gpd.GeoDataFrame({"i": np.arange(len(lats))},
                           geometry=gpd.points_from_xy(lons, lats), crs="EPSG:4326")
    # provinces on the left: each polygon is prepared once and tested against the points in
    # its bounding box (points on the left would test unprepared polygons: far slower)
    joined = gpd.sjoin(provinces, pts, how="inner", predicate="intersects")
    if len(joined):
        first = joined.sort_values(["i", "iso_3166_2"]).drop_duplicates("i")
        out[first["i"].to_numpy()] = first["iso_3166_2"].astype(str).to_numpy()
    return out


def _unit_vectors(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lats), np.radians(lons)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def _nearest_site(lats: np.ndarray, lons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Id and geodesic distance (km) of the nearest named place to each point.

    The answer is always the smallest ``geodesy.inverse`` distance. To skip most inverses,
    places are first ranked by their angle on a unit sphere (a bound only, never a result):
    the ellipsoidal distance differs from the sphere's by under 1 %
    (:data:`_SPHERE_SLACK`), so a place whose sphere distance, less that slack, exceeds the
    best geodesic distance among the :data:`_SITE_CANDIDATES` closest cannot be nearer. Points
    where the bound does not settle it are compared with every place.
    """
    places = [s for s in sites.known_sites() if s.kind == "place"]
    ids = np.array([s.id for s in places] + [""], dtype=object)
    best = np.full(len(lats), len(places))
    dist = np.full(len(lats), np.nan)
    if not places or not len(lats):
        return ids[best], dist
    slat = np.array([s.lat for s in places])
    slon = np.array([s.lon for s in places])
    svec = _unit_vectors(slat, slon)
    k = min(_SITE_CANDIDATES, len(places))
    for a in range(0, len(lats), _SITE_BLOCK):
        la, lo = lats[a:a + _SITE_BLOCK], lons[a:a + _SITE_BLOCK]
        m = len(la)
        angle = np.arccos(np.clip(_unit_vectors(la, lo) @ svec.T, -1.0, 1.0))  # m × places
        order = np.argsort(angle, axis=1, kind="stable")
        cand = order[:, :k]
        d = geodesy.inverse(la[:, None], lo[:, None], slat[cand], slon[cand])[0]
        pick = np.argmin(d, axis=1)
        j = cand[np.arange(m), pick]
        dj = d[np.arange(m), pick]
        if k < len(places):
            next_angle = angle[np.arange(m), order[:, k]]
            unsure = next_angle * geodesy.EARTH_RADIUS_M * (1.0 - _SPHERE_SLACK) <= dj
        else:
            unsure = np.zeros(m, dtype=bool)
        if unsure.any():
            rows = np.flatnonzero(unsure)
            full = geodesy.inverse(la[rows, None], lo[rows, None], slat[None, :],
                                   slon[None, :])[0]
            jj = np.argmin(full, axis=1)
            j[rows] = jj
            dj[rows] = full[np.arange(len(rows)), jj]
        best[a:a + m] = j
        dist[a:a + m] = dj / 1000.0
    return ids[best], dist


def h3_cells(lats: np.ndarray, lons: np.ndarray, res: int, *, as_int: bool = False) -> np.ndarray:
    """H3 cell of each point (lat, lon in degrees) at resolution ``res`` (``h3`` v4): hex text
    ids (object array), or 64-bit integers with ``as_int`` (the page groups by these)."""
    if as_int:
        from h3.api import basic_int

        cell = basic_int.latlng_to_cell
        return np.fromiter((cell(a, o, res) for a, o in zip(
            np.asarray(lats, dtype=float).tolist(), np.asarray(lons, dtype=float).tolist(),
            strict=True)), dtype=np.uint64, count=len(lats))
    import h3

    cell = h3.latlng_to_cell
    return np.array([cell(a, o, res) for a, o in zip(np.asarray(lats).tolist(),
                                                     np.asarray(lons).tolist(), strict=True)],
                    dtype=object)


def _h3_cells(lats: np.ndarray, lons: np.ndarray, res: int) -> np.ndarray:
    return h3_cells(lats, lons, res)


def _check_versions(spec: EnrichSpec) -> None:
    if spec.data_versions and _data_versions() != spec.data_versions:
        raise DataError("A Dask worker holds different geodata than this machine; install "
                        "the same version of the dashboard and geodata on every worker.")


def enrich_frame(events: pd.DataFrame, spec: EnrichSpec) -> gpd.GeoDataFrame:
    """The events in the model with the enrichment columns added (see the module docstring).

    Distances in km; coordinates in degrees. Rows without valid coordinates get NaN, "" and
    False.
    """
    _check_versions(spec)
    gdf = events if columnar._is_model(events) else columnar._model_frame(events)
    gdf = gdf.reset_index(drop=True)
    n = len(gdf)
    lat = gdf["latitude"].to_numpy(dtype=float, na_value=np.nan)
    lon = gdf["longitude"].to_numpy(dtype=float, na_value=np.nan)
    ok = geodesy.latlon_ok(lat, lon) if n else np.zeros(0, dtype=bool)
    ok = np.asarray(ok, dtype=bool).reshape(n)
    la, lo = lat[ok], lon[ok]

    def spread(values: np.ndarray, empty: Any, dtype: Any) -> np.ndarray:
        out = np.full(n, empty, dtype=dtype)
        out[ok] = values
        return out

    if len(la):
        border = analysis.distance_to_border(la, lo)
        b_dist = border["distance_m"].to_numpy() / 1000.0
        b_side = border["side"].to_numpy(dtype=object)
        b_lat = border["nearest_lat"].to_numpy()
        b_lon = border["nearest_lon"].to_numpy()
    else:
        b_dist = b_lat = b_lon = np.zeros(0)
        b_side = np.zeros(0, dtype=object)
    site_id, site_km = _nearest_site(la, lo)
    added: dict[str, Any] = {
        "border_distance_km": spread(b_dist, np.nan, float),
        "border_side": pd.array(spread(b_side, "", object), dtype="str"),
        "border_nearest_lat": spread(b_lat, np.nan, float),
        "border_nearest_lon": spread(b_lon, np.nan, float),
        "admin1_code": pd.array(spread(_admin1(la, lo), "", object), dtype="str"),
        "nearest_site_id": pd.array(spread(site_id, "", object), dtype="str"),
        "nearest_site_km": spread(site_km, np.nan, float),
    }
    for res in spec.h3_resolutions:
        added[f"h3_r{res}"] = pd.array(spread(_h3_cells(la, lo, res), "", object), dtype="str")
    for buf in spec.buffers:
        geom = shapely.from_wkb(buf.wkb)
        shapely.prepare(geom)
        added[buf.column] = spread(shapely.contains_xy(geom, lo, la), False, bool)
    out = gdf.copy()
    for name, values in added.items():
        out[name] = values
    return out


# ------------------------------------------------------------------------------------ running
@dataclass
class EnrichReport:
    """What a run did: rows written, rows without valid coordinates, input rows the importer
    rejected (left out), partitions, where it ran."""

    rows: int = 0
    rejected: list[Any] = field(default_factory=list)
    no_coordinates: int = 0
    partitions: int = 0
    where: str = "in process"


def _partition_source(path: Path, partition_rows: int,
                      rejected: list[Any]) -> tuple[Iterator[Any], str]:
    """Dask delayed partitions of the input (not yet computed) and a label of the input kind.

    GeoParquet files and folders are read by the workers themselves, a slice of a row group
    per partition (dask-geopandas over delayed pieces); CSV is streamed here in blocks;
    GeoJSON and GeoPackage go through the importer (rows it rejects are added to
    ``rejected`` and left out).
    """
    import dask
    import dask.dataframe as dd
    import dask_geopandas

    if columnar.is_parquet_path(path):
        pieces = columnar.fragments(path, max_rows=partition_rows)
        if not pieces:
            raise DataError(f"{path} holds no Parquet data.")
        meta = columnar.read_piece(str(path), *pieces[0][:2], 0, 0)
        parts = [dask.delayed(columnar.read_piece)(str(path), *piece) for piece in pieces]
        ddf = dask_geopandas.from_dask_dataframe(dd.from_delayed(parts, meta=meta,
                                                                 verify_meta=False))
        return iter([ddf]), "parquet"
    if path.suffix.casefold() in (".csv", ".txt"):
        frames: Iterator[gpd.GeoDataFrame] = columnar.iter_csv_events(path)
        kind = "csv"
    else:
        from dashboard import importers

        result = importers.import_file(path)
        if not len(result.events) and result.rejected:
            raise DataError(f"No row of {path.name} can be read (first: "
                            f"{result.rejected[0].reason}).")
        frames = iter([result.events])
        kind = "import"
        rejected.extend(result.rejected)

    def pieces() -> Iterator[Any]:  # lazy: a CSV block is read only when its turn comes
        for frame in frames:
            for a in range(0, len(frame), partition_rows):
                piece = frame.iloc[a:a + partition_rows].reset_index(drop=True)
                yield dask_geopandas.from_geopandas(piece, npartitions=1, sort=False)
    return pieces(), kind


@contextlib.contextmanager
def _client(workers: int | None, scheduler: str | None) -> Iterator[tuple[Any, str]]:
    """A dask.distributed Client (or None for in-process) and a description of where."""
    if workers is None and scheduler is None:
        yield None, "in process"
        return
    for name in ("distributed", "tornado", "asyncio", "bokeh"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    from distributed import Client, LocalCluster

    if scheduler is not None:
        if not re.fullmatch(r"(tcp|tls|inproc|ucx|ws|wss)://\S+", scheduler.strip()):
            raise BadParameter(f"Give the scheduler as tcp://HOST:PORT (got {scheduler[:60]!r}).")
        try:
            client = Client(scheduler.strip(), timeout=CONNECT_TIMEOUT_S,
                            set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            raise DataError(f"Cannot reach the Dask scheduler at {scheduler.strip()[:60]} "
                            f"({type(err).__name__}).") from None
        try:
            yield client, f"scheduler {scheduler.strip()}"
        finally:
            client.close()
        return
    assert workers is not None
    if not 1 <= workers <= MAX_WORKERS:
        raise BadParameter(f"--workers must be from 1 to {MAX_WORKERS} (got {workers}).")
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.CRITICAL)
    client = Client(cluster, set_as_default=False)
    try:
        yield client, f"local cluster of {workers} worker(s)"
    finally:
        client.close()
        cluster.close()


def _strip_bbox(table: Any) -> Any:
    """Drop the per-column ``bbox`` from the GeoParquet metadata (the first piece's bbox
    would be wrong for a file written piece by piece; the field is optional)."""
    import json

    meta = dict(table.schema.metadata or {})
    if b"geo" in meta:
        geo = json.loads(meta[b"geo"])
        for col in geo.get("columns", {}).values():
            col.pop("bbox", None)
        meta[b"geo"] = json.dumps(geo).encode()
    return table.replace_schema_metadata(meta)


def run(input_path: str | Path, output_path: str | Path, *, spec: EnrichSpec | None = None,
        workers: int | None = None, scheduler: str | None = None,
        partition_rows: int = PARTITION_ROWS) -> EnrichReport:
    """Enrich the events of ``input_path`` (GeoParquet file or folder, CSV, GeoJSON,
    GeoPackage) and write one GeoParquet file at ``output_path``, whole or not at all.

    Partitions are computed in order, a few at a time, and appended to the file as they
    arrive, so this process holds only a window of partitions (bounded memory; a CSV input
    is read block by block as partitions are needed; GeoJSON and GeoPackage inputs are read
    whole by the importer first).
    """
    spec = spec or make_spec()
    path = Path(input_path)
    if not path.exists():
        raise DataError(f"{path} does not exist.")
    if workers is not None and scheduler is not None:
        raise BadParameter("Give --workers or --scheduler, not both.")
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise BadParameter(f"--workers must be from 1 to {MAX_WORKERS} (got {workers}).")
    report = EnrichReport()
    import dask

    with dask.config.set({"dataframe.convert-string": False}):  # keep lists (sources) as lists
        return _run(path, output_path, spec, workers, scheduler, partition_rows, report)


def _run(path: Path, output_path: str | Path, spec: EnrichSpec, workers: int | None,
         scheduler: str | None, partition_rows: int, report: EnrichReport) -> EnrichReport:
    sources, _kind = _partition_source(path, max(1, int(partition_rows)), report.rejected)

    def delayed_parts() -> Iterator[Any]:
        meta = None
        for ddf in sources:
            if meta is None:
                meta = enrich_frame(ddf._meta, spec)
            for part in ddf.map_partitions(enrich_frame, spec, meta=meta).to_delayed():
                report.partitions += 1
                yield part

    with _client(workers, scheduler) as (client, where):
        report.where = where
        window = 2 * (sum(client.nthreads().values()) if client is not None else 1) + 1
        with outputs.atomic_output(output_path, binary=True) as fh:
            writer: pq.ParquetWriter | None = None
            try:
                for part in _ordered(delayed_parts(), client, window):
                    table = _strip_bbox(columnar._parquet_table(part))
                    if writer is None:
                        writer = pq.ParquetWriter(fh, table.schema, compression="zstd")
                    elif table.schema != writer.schema:
                        table = table.cast(writer.schema)
                    writer.write_table(table, row_group_size=columnar.ROW_GROUP_ROWS)
                    report.rows += len(part)
                    report.no_coordinates += int(part["border_side"].eq("").sum())
                if writer is None:  # no rows at all: an empty file with the full schema
                    empty = enrich_frame(model.normalise(pd.DataFrame(
                        columns=list(model.EVENT_COLUMNS))), spec)
                    table = _strip_bbox(columnar._parquet_table(empty))
                    writer = pq.ParquetWriter(fh, table.schema, compression="zstd")
            finally:
                if writer is not None:
                    writer.close()
    return report


def _ordered(parts: Iterator[Any], client: Any, window: int) -> Iterator[pd.DataFrame]:
    """Compute delayed partitions in order, at most ``window`` in flight at once."""
    if client is None:
        for part in parts:
            yield part.compute(scheduler="sync")
        return
    pending: collections.deque[Any] = collections.deque()
    it = iter(parts)
    for part in it:
        pending.append(client.compute(part))
        if len(pending) >= window:
            break
    while pending:
        fut = pending.popleft()
        result = fut.result()
        fut.release()
        nxt = next(it, None)
        if nxt is not None:
            pending.append(client.compute(nxt))
        yield result
