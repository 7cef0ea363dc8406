"""CLI event commands: ``events import|export|list|batches|remove-batch``.

Formats: CSV, GeoJSON, GeoPackage and GeoParquet both ways; ``import`` also takes a folder
that is a partitioned GeoParquet dataset and ``export --partition-by year|country`` writes one.

The store is a GeoPackage (``--store PATH``; default from $DASHBOARD_STORE or the user's data
folder). Exit codes: 0 everything done; 1 partly done (``import`` with rejected rows: the
rest is imported and every rejected row is reported on stderr with its line and reason);
2 nothing done (a bad file or argument: one sentence on stderr, raised as DashboardError).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard import columnar, filters, importers, outputs
from dashboard import events as model
from dashboard.cli import EXIT_OK, EXIT_PARTIAL
from dashboard.errors import BadParameter, ImportRejected
from dashboard.store import EventStore, gpkg_bytes

FORMATS = ("geojson", "csv", "gpkg", "parquet")
#: Output format by the --output name's extension (when --format is not given).
FORMAT_BY_SUFFIX = {".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".gpkg": "gpkg",
                    **dict.fromkeys(columnar.PARQUET_SUFFIXES, "parquet")}
STORE_HELP = "GeoPackage event store (default: $DASHBOARD_STORE or the user data folder)"


def register(sub: Any) -> None:
    """Add the ``events`` command group to the CLI's subparsers."""
    p = sub.add_parser("events", help="import, export and list events in the store; batches")
    ev = p.add_subparsers(dest="events_command", metavar="ACTION", parser_class=type(p))
    ev.required = True

    imp = ev.add_parser("import", help="import an ACLED/CSV/GeoJSON/GeoPackage/GeoParquet "
                                       "file or a partitioned GeoParquet folder",
                        description="Valid rows are imported as one batch (exit 0, or 1 when "
                                    "some rows were rejected: each is listed on stderr with "
                                    "its line, feature or row number and the reason). FILE may "
                                    "be a folder holding a GeoParquet dataset partitioned hive "
                                    "style (year=2024/…, country=Iran/…).")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--store", type=Path, help=STORE_HELP)
    imp.set_defaults(func=cmd_import)

    exp = ev.add_parser("export", help="export events from the store")
    exp.add_argument("--store", type=Path, help=STORE_HELP)
    exp.add_argument("--format", choices=FORMATS,
                     help="output format (default: from the --output name: .geojson/.json, "
                          ".csv, .gpkg, .parquet/.geoparquet)")
    exp.add_argument("--output", required=True,
                     help="output file (a folder with --partition-by); '-' writes csv or "
                          "geojson to standard output")
    exp.add_argument("--partition-by", choices=columnar.PARTITION_KEYS, default=None,
                     help="write a GeoParquet dataset folder partitioned by this column "
                          "(hive style: year=2024/part-0.parquet); implies --format parquet")
    _add_filters(exp)
    exp.set_defaults(func=cmd_export)

    ls = ev.add_parser("list", help="list the events in the store")
    ls.add_argument("--store", type=Path, help=STORE_HELP)
    ls.add_argument("--json", action="store_true", help="GeoJSON on standard output")
    _add_filters(ls)
    ls.set_defaults(func=cmd_list)

    bt = ev.add_parser("batches", help="list the import batches in the store")
    bt.add_argument("--store", type=Path, help=STORE_HELP)
    bt.add_argument("--json", action="store_true")
    bt.set_defaults(func=cmd_batches)

    rm = ev.add_parser("remove-batch", help="remove the events of one import batch",
                       description="Deletes the events whose latest import was this batch "
                                   "(ids from 'events batches').")
    rm.add_argument("batch_id", metavar="ID")
    rm.add_argument("--store", type=Path, help=STORE_HELP)
    rm.set_defaults(func=cmd_remove_batch)


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="start", help="first date (YYYY-MM-DD), inclusive")
    p.add_argument("--to", dest="end", help="last date (YYYY-MM-DD), inclusive")
    p.add_argument("--type", dest="event_type", action="append",
                   help="ACLED event_type, e.g. Battles (repeat for several)")
    p.add_argument("--country", action="append", help="country, e.g. Pakistan (repeatable)")
    p.add_argument("--category", action="append", help="our category, e.g. strike (repeatable)")
    p.add_argument("--actor", default="", help="text in actor1/actor2/associated actors")
    p.add_argument("--min-fatalities", type=float, default=None, metavar="N")


def date_option(text: str | None, flag: str) -> dt.date | None:
    """A --from/--to value as a date (None when not given); one sentence when it is not one."""
    if text is None:
        return None
    d = importers.parse_date(text)
    if d is None:
        raise BadParameter(f"{flag} {text!r} is not a date such as 2024-01-16.")
    return d


def _canonical(values: list[str] | None, column: pd.Series) -> tuple[str, ...] | None:
    """The user's values matched case-insensitively to those in the data."""
    if not values:
        return None
    known = {str(v).casefold(): str(v) for v in column.dropna().unique()}
    return tuple(known.get(v.strip().casefold(), v.strip()) for v in values)


def _filtered(args: argparse.Namespace, store: EventStore) -> pd.DataFrame:
    """The store's events kept by the command's filter options."""
    base = filters.EventFilter(  # raises BadParameter (--from after --to) before any reading
        start=date_option(args.start, "--from"), end=date_option(args.end, "--to"),
        actor=args.actor or "", min_fatalities=args.min_fatalities)
    gdf = store.read()
    f = dataclasses.replace(base, event_types=_canonical(args.event_type, gdf["event_type"]),
                            countries=_canonical(args.country, gdf["country"]),
                            categories=_canonical(args.category, gdf["category"]))
    return filters.apply(gdf, f).reset_index(drop=True)


def cmd_import(args: argparse.Namespace) -> int:
    """Import a file into the store as one batch; report rejected rows on stderr."""
    store = EventStore(args.store)
    store.check()  # refuse a bad store before reading a large file
    result = importers.import_file(args.file)
    rejected = result.rejected
    if len(result.events) == 0:
        if rejected:
            more = f" (and {len(rejected) - 1:,} more rejected)" if len(rejected) > 1 else ""
            raise ImportRejected(f"No row of {args.file.name} could be imported; "
                                 f"{rejected[0].reason}{more}; nothing was written.")
        raise ImportRejected(f"{args.file.name} holds no events; nothing was written.")
    res = store.upsert(result.events, origin="cli", label=args.file.name)
    print(f"{len(result.events):,} imported ({res.inserted:,} new, {res.updated:,} updated), "
          f"{len(rejected):,} rejected → {store.path} (batch {res.batch_id})")
    if not rejected:
        return EXIT_OK
    for r in rejected:
        print(f"  rejected {r.reason}", file=sys.stderr)
    return EXIT_PARTIAL


def export_format(fmt: str | None, output: str, partition_by: str | None) -> str:
    """The export format: --format, else from the output name (a partitioned dataset is
    always GeoParquet). One sentence (BadParameter) when it cannot be decided or does not
    fit the output."""
    if fmt is None:
        suffix = Path(output).suffix.casefold()
        fmt = "parquet" if partition_by else FORMAT_BY_SUFFIX.get(suffix)
        if fmt is None:
            raise BadParameter(f"Cannot tell the format from the output name {output!r}; give "
                               "--format geojson, csv, gpkg or parquet.")
    if partition_by and fmt != "parquet":
        raise BadParameter(f"--partition-by writes a GeoParquet dataset folder; it does not go "
                           f"with --format {fmt}.")
    if fmt in ("gpkg", "parquet") and output == "-":
        what = "A GeoPackage" if fmt == "gpkg" else "GeoParquet"
        raise BadParameter(f"{what} cannot be written to standard output; give a "
                           f"{'folder' if partition_by else 'file'} name with --output.")
    return fmt


def cmd_export(args: argparse.Namespace) -> int:
    """Export (filtered) events as GeoJSON, CSV (formula-safe), GeoPackage or GeoParquet (one
    file, or with --partition-by a dataset folder written whole or not at all)."""
    fmt = export_format(args.format, args.output, args.partition_by)
    gdf = _filtered(args, EventStore(args.store)).drop(columns="batch_id")
    if fmt == "gpkg":
        outputs.write_bytes(args.output, gpkg_bytes(gdf))
    elif fmt == "parquet" and args.partition_by:
        columnar.write_dataset(gdf, args.output, partition_by=args.partition_by)
    elif fmt == "parquet":
        columnar.write_geoparquet(gdf, args.output)
    else:
        text = model.to_geojson(gdf) if fmt == "geojson" else model.to_csv(gdf)
        outputs.write_text(args.output, text, newline="")
    if args.output != "-":
        by = f" partitioned by {args.partition_by}" if args.partition_by else ""
        print(f"{len(gdf):,} events exported as {fmt}{by} → {args.output}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """Print the events in the store (date, id, type, place, fatalities)."""
    store = EventStore(args.store)
    gdf = _filtered(args, store)
    if args.json:
        sys.stdout.write(model.to_geojson(gdf.drop(columns="batch_id")))
        return EXIT_OK
    if gdf.empty:
        print("No events; add events with 'python -m dashboard events import FILE'.")
        return EXIT_OK
    for r in gdf.itertuples():
        deaths = "" if r.fatalities != r.fatalities else f"{int(r.fatalities)} killed"
        day = r.event_date.date() if pd.notna(r.event_date) else "????-??-??"
        print(f"{day}  {_plain(r.event_id_cnty):<18} {_plain(r.event_type)[:28]:<28} "
              f"{_plain(r.location)[:40]:<40} {deaths}".rstrip())
    print(f"{len(gdf):,} events in {store.path}")
    return EXIT_OK


def _plain(text: Any) -> str:
    """One line of text for the terminal: control characters shown as spaces."""
    return "".join(c if c.isprintable() else " " for c in str(text))


def cmd_batches(args: argparse.Namespace) -> int:
    """Print the import batches (id, UTC time, origin, counts, label)."""
    store = EventStore(args.store)
    df = store.batches()
    if args.json:
        sys.stdout.write(json.dumps(df.to_dict(orient="records"), ensure_ascii=False,
                                    indent=1) + "\n")
        return EXIT_OK
    if df.empty:
        print("No import batches; add events with 'python -m dashboard events import FILE'.")
        return EXIT_OK
    print(f"{'batch':<10}{'created (UTC)':<22}{'origin':<8}{'new':>8}{'updated':>9}"
          f"{'events':>8}  label")
    for r in df.itertuples():
        print(f"{r.batch_id:<10}{r.created_utc:<22}{_plain(r.origin):<8}{r.inserted:>8,}"
              f"{r.updated:>9,}{r.events:>8,}  {_plain(r.label)}")
    return EXIT_OK


def cmd_remove_batch(args: argparse.Namespace) -> int:
    """Remove one import batch and the events whose latest import it was."""
    store = EventStore(args.store)
    n = store.remove_batch(args.batch_id)
    print(f"Removed batch {args.batch_id}: {n:,} events deleted from {store.path}.")
    return EXIT_OK
