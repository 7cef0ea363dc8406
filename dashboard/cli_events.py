"""CLI event commands: ``events import``, ``events export``, ``events list``.

The store is a GeoPackage (``--store PATH``; default from DASHBOARD_STORE or the user's data
folder). User errors raise DashboardError subclasses → one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from dashboard import events as model
from dashboard import importers
from dashboard.errors import BadParameter
from dashboard.store import EventStore, write_gpkg

MAX_REASON_LINES = 50


def register(sub: Any) -> None:
    """Add the ``events`` command group to the CLI's subparsers."""
    p = sub.add_parser("events", help="import, export and list events in the store")
    ev = p.add_subparsers(dest="events_command", metavar="ACTION", parser_class=type(p))
    ev.required = True

    store_help = "GeoPackage event store (default: $DASHBOARD_STORE or the user data folder)"
    imp = ev.add_parser("import", help="import an ACLED/CSV/GeoJSON/GeoPackage file",
                        description="Valid rows are imported; every rejected row is listed "
                                    "with its line or feature number and the reason.")
    imp.add_argument("file", type=Path)
    imp.add_argument("--store", type=Path, help=store_help)
    imp.set_defaults(func=cmd_import)

    exp = ev.add_parser("export", help="export events from the store")
    exp.add_argument("--store", type=Path, help=store_help)
    exp.add_argument("--format", required=True, choices=["geojson", "csv", "gpkg"])
    exp.add_argument("--output", required=True, type=Path)
    exp.add_argument("--from", dest="start", help="first date (YYYY-MM-DD)")
    exp.add_argument("--to", dest="end", help="last date (YYYY-MM-DD)")
    exp.add_argument("--type", dest="event_type", help="ACLED event_type, e.g. Battles")
    exp.add_argument("--country", help="country name, e.g. Pakistan")
    exp.set_defaults(func=cmd_export)

    ls = ev.add_parser("list", help="list the events in the store")
    ls.add_argument("--store", type=Path, help=store_help)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)


def _date(text: str | None, flag: str) -> str | None:
    if text is None:
        return None
    d = importers.parse_date(text)
    if d is None:
        raise BadParameter(f"{flag} {text!r} is not a date such as 2024-01-16.")
    return d.isoformat()


def cmd_import(args: argparse.Namespace) -> int:
    """Import a file into the store; print counts and every rejected row's reason."""
    result = importers.import_file(args.file)
    store = EventStore(args.store)
    inserted, updated = store.upsert(result.events) if len(result.events) else (0, 0)
    print(f"{len(result.events):,} imported ({inserted:,} new, {updated:,} updated), "
          f"{len(result.rejected):,} rejected → {store.path}")
    for r in result.rejected[:MAX_REASON_LINES]:
        print(f"  rejected {r.reason}")
    if len(result.rejected) > MAX_REASON_LINES:
        print(f"  … and {len(result.rejected) - MAX_REASON_LINES:,} more")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export (filtered) events as GeoJSON, CSV (formula-safe) or GeoPackage."""
    store = EventStore(args.store)
    gdf = store.read(start=_date(args.start, "--from"), end=_date(args.end, "--to"),
                     event_type=args.event_type, country=args.country)
    out: Path = args.output
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise BadParameter(f"The folder {out.parent} does not exist.")
    if args.format == "gpkg":
        write_gpkg(gdf, out)
    else:
        text = model.to_geojson(gdf) if args.format == "geojson" else model.to_csv(gdf)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part",
                                   dir=out.parent if str(out.parent) else ".")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            os.replace(tmp, out)
        finally:
            Path(tmp).unlink(missing_ok=True)
    print(f"{len(gdf):,} events exported as {args.format} → {out}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Print the events in the store (date, id, type, place, fatalities)."""
    gdf = EventStore(args.store).read()
    if args.json:
        sys.stdout.write(model.to_geojson(gdf))
        return 0
    if gdf.empty:
        print("The store is empty; add events with 'python -m dashboard events import FILE'.")
        return 0
    for r in gdf.itertuples():
        deaths = "" if r.fatalities != r.fatalities else f"{int(r.fatalities)} killed"
        print(f"{r.event_date.date()}  {r.event_id_cnty:<18} {r.event_type[:28]:<28} "
              f"{r.location[:40]:<40} {deaths}")
    print(f"{len(gdf):,} events in {EventStore(args.store).path}")
    return 0
