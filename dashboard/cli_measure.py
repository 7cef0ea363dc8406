"""CLI measuring commands: sites, distance, distance-to, buffer, claims, locate.

Same core functions as the page (dashboard.analysis, dashboard.sites). User errors raise
DashboardError subclasses; ``dashboard.cli.main`` prints them as one line and exits with
code 2. Every output file goes through ``dashboard.outputs.atomic_output`` (whole or not at
all; ``-`` is standard output).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from dashboard import analysis, claims, geodesy, locate, outputs, settings, sites
from dashboard.errors import BadCoordinate, BadParameter, DataError

CHUNK_ROWS = 50_000
LAT_NAMES = ("lat", "latitude", "y")
LON_NAMES = ("lon", "lng", "long", "longitude", "x")


def register(sub: Any) -> None:
    """Add the measuring subcommands to the CLI's subparsers."""
    p = sub.add_parser("sites", help="list the known sites (places and events)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_sites)

    p = sub.add_parser("distance", help="geodesic distance and bearings between two sites",
                       description="A and B are a site name or id (see 'sites') or LAT,LON.")
    p.add_argument("a", metavar="A", help="site or LAT,LON (e.g. Panjgur, -33.86,151.21)")
    p.add_argument("b", metavar="B", help="site or LAT,LON")
    p.add_argument("--json", action="store_true",
                   help="print JSON (bearings are null for a zero distance)")
    p.set_defaults(func=cmd_distance)

    p = sub.add_parser("distance-to", help="distance of every point in a CSV to the border",
                       description="Reads a CSV with lat,lon (or latitude,longitude) columns and "
                                   "writes it back with distance_m, nearest_lat, nearest_lon "
                                   "and side. Streams in chunks: any number of rows. The output "
                                   "is written whole or not at all.")
    p.add_argument("target", choices=["border"])
    p.add_argument("--input", required=True, help="CSV file, or - for standard input")
    p.add_argument("--output", required=True, help="CSV file, or - for standard output")
    p.set_defaults(func=cmd_distance_to)

    p = sub.add_parser("buffer", help="geodesic buffer or range rings as GeoJSON",
                       description="TARGET is 'border', a province (ISO 3166-2 code such as "
                                   "PK-BA, or its name such as 'Sistan and Baluchestan') or a "
                                   "site. Every boundary vertex lies at the radius within "
                                   "0.01 %.")
    p.add_argument("target", metavar="TARGET")
    p.add_argument("--km", required=True, nargs="+",
                   help=f"radius or radii in km (at most {settings.MAX_RADII}, each at most "
                        f"{settings.MAX_RADIUS_KM:,.0f} km)")
    p.add_argument("--output", help="GeoJSON file (default or -: standard output)")
    p.set_defaults(func=cmd_buffer)

    p = sub.add_parser("claims", help="the article's claims against measured values")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_claims)

    p = sub.add_parser(
        "locate", help="candidate region from distance constraints",
        description="Constraints (repeatable): --from SITE:KM:TOL (e.g. Panjgur:90:15), "
                    "--border KM:TOL (e.g. 45:10), --within ISO (e.g. PK-BA). Prints the "
                    "candidate region's area and centroid; --output writes it as GeoJSON.")
    p.add_argument("--from", dest="from_site", action="append", default=[],
                   metavar="SITE:KM:TOL[:road]",
                   help="KM ± TOL from SITE in a straight line; add ':road' when the figure "
                        "may be a road distance (then it only caps the straight line: 0 … KM+TOL)")
    p.add_argument("--border", action="append", default=[], metavar="KM:TOL")
    p.add_argument("--within", action="append", default=[], metavar="ISO")
    p.add_argument("--output", help="GeoJSON file for the region (- for standard output)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_locate)


# ------------------------------------------------------------------------------ helpers
def _to_stdout(path: str | None) -> bool:
    return path is None or str(path) == "-"


def _number(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}"


def _feature_collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _geometry_json(geom: Any) -> dict[str, Any]:
    import shapely

    return json.loads(shapely.to_geojson(shapely.set_precision(geom, 1e-7)))


# ----------------------------------------------------------------------------- commands
def cmd_sites(args: argparse.Namespace) -> int:
    """Print the known sites: id, name, lat, lon (and kind, uncertainty)."""
    known = sites.known_sites()
    if args.json:
        json.dump([{"id": s.id, "name": s.name, "lat": s.lat, "lon": s.lon, "kind": s.kind,
                    "uncertainty_km": s.uncertainty_km, "aliases": list(s.aliases)}
                   for s in known], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    w = max(len(s.id) for s in known)
    print(f"{'id':<{w}}  {'lat':>10} {'lon':>11}  {'±km':>5}  name")
    for s in known:
        print(f"{s.id:<{w}}  {s.lat:>10.5f} {s.lon:>11.5f}  {s.uncertainty_km:>5g}  {s.name}")
    return 0


def cmd_distance(args: argparse.Namespace) -> int:
    """Geodesic distance A → B in km, miles, nautical miles, with bearings."""
    a, b = sites.resolve_site(args.a), sites.resolve_site(args.b)
    res = sites.measure_distance(a, b)
    if args.json:
        print(json.dumps(res.to_dict(), ensure_ascii=False))
        return 0
    km = res.distance_m / 1000.0
    print(f"{a.name} ({a.lat:.5f},{a.lon:.5f}) → {b.name} ({b.lat:.5f},{b.lon:.5f})")
    print(f"  distance         {km:,.3f} km | {km / settings.KM_PER_MILE:,.3f} mi | "
          f"{km / settings.KM_PER_NMI:,.3f} nmi")
    if res.bearing_defined:
        print(f"  initial bearing  {res.initial_bearing_deg:.2f}°  "
              f"(final {res.final_bearing_deg:.2f}°)")
    else:
        print("  bearing          none: the two positions are the same point (zero distance)")
    unc = a.uncertainty_km + b.uncertainty_km
    if unc:
        print(f"  uncertainty      the two positions are known to ±{a.uncertainty_km:g} km and "
              f"±{b.uncertainty_km:g} km")
    print(f"  method           {res.method}")
    return 0


def _column(header: list[str], names: tuple[str, ...], what: str) -> int:
    lowered = [h.strip().casefold() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    raise DataError(f"The CSV has no {what} column (expected one of: {', '.join(names)}).")


def _chunks(reader: Iterator[list[str]], size: int) -> Iterator[list[list[str]]]:
    chunk: list[list[str]] = []
    for row in reader:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _coords(rows: list[list[str]], ilat: int, ilon: int,
            first_line: int) -> tuple[np.ndarray, np.ndarray]:
    lat = np.empty(len(rows))
    lon = np.empty(len(rows))
    for k, row in enumerate(rows):
        try:
            lat[k] = float(row[ilat])
            lon[k] = float(row[ilon])
        except (IndexError, ValueError, OverflowError):
            raise DataError(f"CSV line {first_line + k}: latitude/longitude are missing or not "
                            f"numbers ({','.join(row)[:60]!r}); nothing was written.") from None
    ok = geodesy.latlon_ok(lat, lon)
    if not ok.all():
        k = int(np.argmin(ok))
        problem = geodesy.latlon_problem(float(lat[k]), float(lon[k]))
        raise BadCoordinate(f"CSV line {first_line + k}: {problem}; nothing was written.")
    return lat, lon


@contextlib.contextmanager
def _open_input(path: str) -> Iterator[IO[str]]:
    if path == "-":
        sys.stdin.reconfigure(encoding="utf-8-sig", newline="")  # type: ignore[attr-defined]
        yield sys.stdin
        return
    src = Path(path)
    if not src.is_file():
        raise DataError(f"Input file {path} does not exist or is not a file.")
    try:
        fh = src.open(encoding="utf-8-sig", newline="")
    except OSError as err:
        raise DataError(f"Input file {path} cannot be read ({err.strerror}).") from None
    with fh:
        yield fh


def _plain_lines(block: list[str]) -> list[str] | None:
    """The rows of a block of raw lines when plain splitting on commas reads them exactly as
    the csv module does (no quote, carriage return, NUL or blank line), without line ends;
    None otherwise."""
    text = "".join(block)
    if '"' in text or "\r" in text or "\0" in text:
        return None
    if text.endswith("\n"):
        text = text[:-1]
    rows = text.split("\n")
    if "" in rows:
        return None
    return rows


def _plain_coords(texts: list[str], ilat: int, ilon: int,
                  first_line: int) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of plain rows, parsed by pyarrow (one thread); any doubt (a
    short row, an empty or odd value) goes to :func:`_coords`, whose errors name the line."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    cols = [f"f{ilat}", f"f{ilon}"]
    try:
        table = pacsv.read_csv(
            io.BytesIO("\n".join(texts).encode("utf-8")),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, use_threads=False),
            parse_options=pacsv.ParseOptions(quote_char=False, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=cols, column_types={c: pa.float64() for c in cols},
                null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
        table = None
    if table is None or table.num_rows != len(texts):
        return _coords([t.split(",") for t in texts], ilat, ilon, first_line)
    lat = table.column(0).to_numpy()
    lon = table.column(1).to_numpy()
    if not geodesy.latlon_ok(lat, lon).all():
        return _coords([t.split(",") for t in texts], ilat, ilon, first_line)
    return lat, lon


def _write_measured(out: IO[str], texts: list[str], lat: np.ndarray, lon: np.ndarray) -> None:
    """Append distance_m, nearest_lat, nearest_lon and side to each row text (already CSV)."""
    res = analysis.distance_to_border(lat, lon)
    out.write("".join([
        f"{row},{d:.3f},{nla:.7f},{nlo:.7f},{side}\n" for row, d, nla, nlo, side in zip(
            texts, res["distance_m"].to_numpy().tolist(),
            res["nearest_lat"].to_numpy().tolist(), res["nearest_lon"].to_numpy().tolist(),
            res["side"].tolist(), strict=True)]))


def cmd_distance_to(args: argparse.Namespace) -> int:
    """Stream a CSV of points and add the distance to the border, nearest point and side.

    Blocks of plain rows (no quoting) are split on commas and their text is written back as
    read — byte for byte what the csv module writes for them; a block with quotes (or CR
    line ends) switches to the csv module for the rest of the file.
    """
    name = "standard input" if args.input == "-" else args.input
    with _open_input(args.input) as fh, outputs.atomic_output(args.output, newline="") as out:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise DataError(f"{name} is empty; nothing was written.") from None
        except (UnicodeDecodeError, csv.Error) as err:
            raise DataError(f"{name} is not a readable UTF-8 CSV file ({err}).") from None
        ilat = _column(header, LAT_NAMES, "latitude")
        ilon = _column(header, LON_NAMES, "longitude")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*header, "distance_m", "nearest_lat", "nearest_lon", "side"])
        line = 2
        try:
            while True:
                block = list(itertools.islice(fh, CHUNK_ROWS))
                if not block:
                    break
                texts = _plain_lines(block)
                if texts is None:  # the csv module from here on (quoted fields may span lines)
                    for rows in _chunks(csv.reader(itertools.chain(block, fh)), CHUNK_ROWS):
                        lat, lon = _coords(rows, ilat, ilon, line)
                        res = analysis.distance_to_border(lat, lon)
                        for row, d, nla, nlo, side in zip(rows, res["distance_m"],
                                                          res["nearest_lat"],
                                                          res["nearest_lon"], res["side"],
                                                          strict=True):
                            writer.writerow([*row, f"{d:.3f}", f"{nla:.7f}", f"{nlo:.7f}",
                                             side])
                        line += len(rows)
                    break
                lat, lon = _plain_coords(texts, ilat, ilon, line)
                _write_measured(out, texts, lat, lon)
                line += len(texts)
        except (UnicodeDecodeError, csv.Error) as err:
            raise DataError(f"CSV line {line}+: the file cannot be read ({err}); "
                            "nothing was written.") from None
    return 0


def cmd_buffer(args: argparse.Namespace) -> int:
    """Write geodesic buffers (one feature per radius) as an RFC 7946 FeatureCollection."""
    radii = analysis.parse_radii_km(" ".join(args.km))
    gdf = analysis.buffer_target(args.target, radii)
    feats = [{"type": "Feature",
              "properties": {"target": r.target, "radius_km": r.radius_km,
                             "area_km2": round(r.area_km2, 3), "method": r.method},
              "geometry": _geometry_json(r.geometry)} for r in gdf.itertuples()]
    fc = _feature_collection(feats)
    outputs.write_text("-" if _to_stdout(args.output) else args.output,
                       json.dumps(fc, ensure_ascii=False) + "\n")
    if not _to_stdout(args.output):
        for r in gdf.itertuples():
            print(f"{r.target}: {r.radius_km:g} km buffer, {r.area_km2:,.0f} km² → {args.output}")
    return 0


def cmd_claims(args: argparse.Namespace) -> int:
    """Print the claims table (or JSON)."""
    results = claims.check_claims()
    if args.json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=1))
        return 0
    print(f"{'claim':<24} {'claimed':>10} {'measured':>10} {'diff':>9}  verdict")
    for r in results:
        print(f"{r.id:<24} {r.claimed:>7g} {r.unit:<2} {r.measured:>10.1f} "
              f"{r.difference:>+9.1f}  {r.verdict} (±{r.tolerance:g} {r.unit})")
    notes = list(dict.fromkeys(r.note for r in results if r.note))
    for n in notes:
        print(f"note: {n}")
    print(f"method: {geodesy.METHOD}")
    return 0


def _floats(text: str, n: int, flag: str, example: str) -> list[float]:
    parts = text.split(":")
    if len(parts) != n:
        raise BadParameter(f"{flag} {text!r}: expected {example}.")
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        raise BadParameter(f"{flag} {text!r}: expected {example}.") from None
    if any(v < 0 or not np.isfinite(v) for v in vals):
        raise BadParameter(f"{flag} {text!r}: distances must not be negative.")
    return vals


def cmd_locate(args: argparse.Namespace) -> int:
    """Intersect the constraints and report the candidate region."""
    constraints: list[Any] = []
    for text in args.from_site:
        site, _, rest = text.partition(":")
        measure = "straight"
        head, _, last = rest.rpartition(":")
        if last.strip().casefold() in ("road", "straight"):
            rest, measure = head, last.strip().casefold()
        km, tol = _floats(rest, 2, "--from", "SITE:KM:TOL[:road] such as Panjgur:90:15")
        constraints.append(locate.FromSite(site, km, tol, measure))
    for text in args.border:
        km, tol = _floats(text, 2, "--border", "KM:TOL such as 45:10")
        constraints.append(locate.FromBorder(km, tol))
    constraints += [locate.Within(code) for code in args.within]
    if not constraints:
        raise BadParameter("Give at least one constraint: --from, --border or --within.")
    res = locate.locate(constraints)
    if args.output is not None:
        feat = {"type": "Feature", "properties": res.to_dict(),
                "geometry": _geometry_json(res.region)}
        outputs.write_text(args.output,
                           json.dumps(_feature_collection([feat]), ensure_ascii=False) + "\n")
        if args.output == "-":
            return 0  # standard output carries the GeoJSON only
    if args.json:
        print(json.dumps(res.to_dict(), ensure_ascii=False))
    else:
        print(res.summary)
        if args.output is not None:
            print(f"region written to {args.output}")
    return 0
