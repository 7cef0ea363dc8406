"""CLI ``map``: the publication map (PNG, SVG or PDF) of the curated and stored events.

    python -m dashboard map --output map.png [--from DATE --to DATE --types strike,attack
        --bbox MINLON,MINLAT,MAXLON,MAXLAT --store PATH --title TEXT --width PX
        --layers basemap,countries,provinces,border,places --no-discs]

The events are the curated ones plus the store's (the store's version wins for the same
``event_id_cnty``), kept by :class:`dashboard.filters.EventFilter`; the picture is drawn by
:func:`dashboard.staticmap.render_map` and written whole or not at all
(:func:`dashboard.outputs.write_bytes`). The format comes from the file extension.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from dashboard import events as model
from dashboard import filters, outputs, staticmap
from dashboard.cli_events import date_option
from dashboard.errors import BadParameter
from dashboard.store import EventStore

EXTENSIONS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def register(sub: Any) -> None:
    """Add the ``map`` command to the CLI's subparsers."""
    p = sub.add_parser(
        "map", help="draw the events on a map for publication (PNG, SVG or PDF)",
        description="Draw the curated and stored events, with the border, provinces, places, "
                    "a scale bar, a north arrow, a legend and the data sources, as a PNG, SVG "
                    "or PDF picture (the format follows the file extension).")
    p.add_argument("--output", "-o", required=True, help="picture file: .png, .svg or .pdf")
    p.add_argument("--from", dest="start", help="first date (YYYY-MM-DD), inclusive")
    p.add_argument("--to", dest="end", help="last date (YYYY-MM-DD), inclusive")
    p.add_argument("--types", help="event types to draw, comma-separated (e.g. strike,attack); "
                                   "default: all")
    p.add_argument("--bbox", help="map extent MIN_LON,MIN_LAT,MAX_LON,MAX_LAT in degrees "
                                  "(note: longitude first); default: the border region")
    p.add_argument("--store", type=Path, help="GeoPackage event store (default: "
                                              "$DASHBOARD_STORE or the user data folder)")
    p.add_argument("--no-store", action="store_true", help="draw the curated events only")
    p.add_argument("--title", help="title printed above the map")
    p.add_argument("--width", type=int, default=1600, help="PNG width in pixels (default 1600)")
    p.add_argument("--layers", help="static layers, comma-separated, from "
                                    f"{','.join(staticmap.LAYER_KEYS)} (default: all)")
    p.add_argument("--no-discs", action="store_true",
                   help="leave out the location-uncertainty discs")
    p.set_defaults(func=cmd_map)


def _list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    return items or None


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """"MIN_LON,MIN_LAT,MAX_LON,MAX_LAT" → a checked tuple (BadParameter with one sentence)."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4:
        raise BadParameter(f"--bbox {text!r} is not four numbers MIN_LON,MIN_LAT,MAX_LON,MAX_LAT "
                           "such as 56,24,68,32.")
    return staticmap.check_bounds(values)


def format_for(path: str) -> str:
    """The picture format from the output file's extension; BadParameter if there is none."""
    if path == "-":
        raise BadParameter("The map is a binary picture; give a file name ending in .png, .svg "
                           "or .pdf with --output.")
    ext = Path(path).suffix.lower()
    if ext not in EXTENSIONS:
        raise BadParameter(f"Cannot tell the picture format from {Path(path).name!r}; end the "
                           "file name in .png, .svg or .pdf.")
    return EXTENSIONS[ext]


def all_events(store_path: Path | None, *, use_store: bool = True) -> gpd.GeoDataFrame:
    """Curated events plus the store's (the store wins for a shared ``event_id_cnty``)."""
    curated = model.load_curated_events()
    if not use_store:
        return curated
    stored = EventStore(store_path).read()
    if len(stored) == 0:
        return curated
    stored = stored.drop(columns="batch_id", errors="ignore")
    keep = curated[~curated["event_id_cnty"].isin(set(stored["event_id_cnty"]))]
    both = pd.concat([keep, stored], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry="geometry", crs=curated.crs)


def cmd_map(args: argparse.Namespace) -> int:
    """Render the map and write it atomically; prints one summary line."""
    fmt = format_for(args.output)
    start, end = date_option(args.start, "--from"), date_option(args.end, "--to")
    base = filters.EventFilter(start=start, end=end)  # --from after --to fails here
    bounds = parse_bbox(args.bbox) if args.bbox is not None else None
    layer_keys = _list(args.layers)
    if args.layers is not None and layer_keys is None:
        raise BadParameter("--layers needs at least one of "
                           f"{', '.join(staticmap.LAYER_KEYS)}.")
    if layer_keys is not None:
        unknown = [k for k in layer_keys if k not in staticmap.LAYER_KEYS]
        if unknown:
            raise BadParameter(f"Unknown map layer {unknown[0]!r}; choose from "
                               f"{', '.join(staticmap.LAYER_KEYS)}.")
    events = all_events(args.store, use_store=not args.no_store)
    types = _list(args.types)
    if args.types is not None and types is None:
        raise BadParameter("--types needs at least one event type, such as strike.")
    categories = None
    if types is not None:
        known = {str(c).casefold(): str(c) for c in
                 [*model.CATEGORIES, *events["category"].dropna().unique()]}
        unknown = [t for t in types if t.casefold() not in known]
        if unknown:
            raise BadParameter(f"Unknown event type {unknown[0]!r}; known types: "
                               f"{', '.join(sorted(known.values()))}.")
        categories = tuple(known[t.casefold()] for t in types)
    f = filters.EventFilter(start=base.start, end=base.end, categories=categories)
    shown = filters.apply(events, f).reset_index(drop=True)
    picture = staticmap.render_map(
        shown, fmt=fmt, start=start, end=end, bounds=bounds,
        layers=set(layer_keys) if layer_keys is not None else None,
        discs=not args.no_discs, title=args.title, width_px=args.width)
    outputs.write_bytes(args.output, picture)
    print(f"{len(shown):,} of {len(events):,} events match the filters; {fmt.upper()} map → "
          f"{args.output}")
    return 0
