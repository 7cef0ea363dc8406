"""CLI ``enrich``: add border distance and side, province, nearest site, H3 cells and buffer
flags to every event, on Dask (in process, a local cluster, or an existing cluster).

Exit codes: 0 every event enriched; 1 written, but some events had no valid coordinates
(their enrichment columns are empty; the count is on stderr) or some rows of a GeoJSON or
GeoPackage input were rejected by the importer (each reason on stderr, up to 20); 2 nothing
written (a bad argument or file: one sentence on stderr).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from dashboard import enrich, outputs

EXIT_OK = 0
EXIT_PARTLY = 1


def _workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--workers takes a whole number, not {text[:20]!r}") from None
    if not 1 <= n <= enrich.MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"--workers must be from 1 to {enrich.MAX_WORKERS}")
    return n


def register(sub: Any) -> None:
    """Add the ``enrich`` command to the CLI's subparsers."""
    p = sub.add_parser(
        "enrich", help="add border distance, province, nearest site, H3 cells, buffer flags",
        description="Reads events (GeoParquet file or partitioned folder, CSV, GeoJSON, "
                    "GeoPackage) and writes one GeoParquet file with the event columns plus "
                    "border_distance_km, border_side, border_nearest_lat/lon, admin1_code, "
                    "nearest_site_id, nearest_site_km, h3_r<N> and within_<target>_<R>km. "
                    "Runs in this process by default; --workers N starts a local Dask "
                    "cluster; --scheduler tcp://HOST:PORT uses a running one (its workers "
                    "need this package, the same geodata and access to the input path).")
    p.add_argument("--input", required=True, type=Path, help="events file or folder")
    p.add_argument("--output", required=True, help="GeoParquet file to write (.parquet)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_workers, metavar="N",
                       help="start a local Dask cluster of N worker processes")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="address of a running Dask scheduler")
    p.add_argument("--buffer", action="append", default=[], metavar="TARGET:KM",
                   help="flag events within KM of border, a province or a site, e.g. "
                        "border:45 or PK-BA:25,50 (repeatable)")
    p.add_argument("--h3", default=",".join(map(str, enrich.DEFAULT_H3)), metavar="R,R",
                   help="H3 resolutions (0-15), default %(default)s")
    p.add_argument("--partition-rows", type=int, default=enrich.PARTITION_ROWS,
                   metavar="N", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_enrich)


def cmd_enrich(args: argparse.Namespace) -> int:
    """Run ``enrich``; report on stderr."""
    if str(args.output) == "-":
        from dashboard.errors import OutputError

        raise OutputError("enrich writes GeoParquet; give a file name for --output.")
    spec = enrich.make_spec(args.buffer, args.h3)
    start = time.perf_counter()
    report = enrich.run(args.input, args.output, spec=spec, workers=args.workers,
                        scheduler=args.scheduler, partition_rows=args.partition_rows)
    took = time.perf_counter() - start
    print(f"enriched {report.rows:,} events in {report.partitions} partition(s) "
          f"({report.where}, {took:.1f} s); wrote {outputs.display_path(args.output)}",
          file=sys.stderr)
    for bad in report.rejected[:20]:
        print(f"rejected: {bad.reason}", file=sys.stderr)
    if len(report.rejected) > 20:
        print(f"… and {len(report.rejected) - 20:,} more rejected rows.", file=sys.stderr)
    if report.no_coordinates or report.rejected:
        if report.no_coordinates:
            print(f"warning: {report.no_coordinates:,} events have no valid coordinates; "
                  "their enrichment columns are empty.", file=sys.stderr)
        return EXIT_PARTLY
    return EXIT_OK
