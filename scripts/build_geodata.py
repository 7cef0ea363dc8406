#!/usr/bin/env python3
"""Build the committed data layers in geodata/ from Natural Earth, reproducibly.

Same inputs give byte-identical outputs: features are sorted, keys are written in a
fixed order, coordinates are snapped to a 1e-6 degree grid and written with 6
decimals, exterior rings are counter-clockwise (RFC 7946), and the manifest holds
no timestamps.

Usage::

    python scripts/build_geodata.py [INPUT_DIR] [--output geodata] [--download]

INPUT_DIR defaults to ../shared/data/naturalearth (regional cuts of the Natural
Earth GeoJSON layers).  ``--download`` fetches the same layers (whole world) from
the public natural-earth-vector repository instead; the build selects and clips
them the same way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import shapely
import shapely.ops
from pyproj import Geod
from shapely.geometry import LineString, MultiLineString, Point, mapping, shape
from shapely.geometry.polygon import orient

REPO = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = REPO.parent / "shared" / "data" / "naturalearth"
PLACES_CATALOG = Path(__file__).resolve().parent / "places_catalog.json"
EVENTS_CATALOG = Path(__file__).resolve().parent / "events_catalog.json"
# ACLED's numeric ISO 3166-1 code and region for the countries events happen in.
ACLED_COUNTRY = {"Pakistan": (586, "South Asia"), "Iran": (364, "Middle East"),
                 "Iraq": (368, "Middle East"), "Syria": (760, "Middle East"),
                 "Yemen": (887, "Middle East"), "Switzerland": (756, "Europe"),
                 "China": (156, "East Asia")}
GEOD = Geod(ellps="WGS84")
GRID = 1e-6  # degrees; ~0.1 m
DISPLAY_BBOX = (24.0, 8.0, 80.0, 44.0)  # lon/lat extent of the regional cut
SWISS_BBOX = (5.9, 45.8, 10.5, 47.9)  # Davos lies outside the main extent

NE_URL = "https://raw.githubusercontent.com/nvkelso/natural-earth-vector/master/geojson/{name}"
NE_HOME = "https://www.naturalearthdata.com/"
NE_LICENCE = "Public domain (Natural Earth terms of use)"
INPUTS = {
    "admin1": "ne_10m_admin_1_states_provinces",
    "boundary_lines": "ne_10m_admin_0_boundary_lines_land",
    "land": "ne_50m_land",
    "lakes": "ne_50m_lakes",
    "rivers": "ne_50m_rivers_lake_centerlines",
    "coastline": "ne_50m_coastline",
}

# Countries drawn on the map: the two sides, their neighbours, and every country an
# event of the crisis touches (strike sites, diplomatic venues).  China is only partly
# inside the regional cut; its polygon is marked clipped.
COUNTRIES = {
    "IRN": "Iran", "PAK": "Pakistan", "AFG": "Afghanistan", "IRQ": "Iraq", "SYR": "Syria",
    "YEM": "Yemen", "ISR": "Israel", "PSX": "Palestine", "LBN": "Lebanon", "CHE": "Switzerland",
    "CHN": "China", "TUR": "Turkey", "TKM": "Turkmenistan", "OMN": "Oman",
    "ARE": "United Arab Emirates", "SAU": "Saudi Arabia", "IND": "India", "JOR": "Jordan",
    "KWT": "Kuwait", "QAT": "Qatar", "BHR": "Bahrain", "ARM": "Armenia", "AZE": "Azerbaijan",
    "EGY": "Egypt", "TJK": "Tajikistan", "UZB": "Uzbekistan",
}
# Countries whose provinces are published (event countries).
PROVINCE_COUNTRIES = ("IRN", "PAK", "AFG", "IRQ", "SYR", "YEM", "CHE")
# Local-language name column per country.
LOCAL_NAME = {"IRN": "name_fa", "AFG": "name_fa", "PAK": "name_ur",
              "IRQ": "name_ar", "SYR": "name_ar", "YEM": "name_ar", "CHE": "name"}


class BuildError(Exception):
    """An input is missing or not what the build expects."""


# ---------------------------------------------------------------- helpers
def _snap(geom: Any) -> Any:
    """Snap to the 1e-6 degree grid keeping validity; orient polygons CCW."""
    geom = shapely.set_precision(geom, GRID)
    if geom.geom_type == "Polygon":
        return orient(geom, 1.0)
    if geom.geom_type == "MultiPolygon":
        return shapely.MultiPolygon([orient(p, 1.0) for p in geom.geoms])
    return geom


def _round_coords(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 6) + 0.0  # +0.0 turns -0.0 into 0.0
    if isinstance(obj, (list, tuple)):
        return [_round_coords(x) for x in obj]
    return obj


def _geometry_json(geom: Any) -> dict[str, Any]:
    m = mapping(geom)
    return {"type": m["type"], "coordinates": _round_coords(m["coordinates"])}


def _feature(props: dict[str, Any], geom: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": _geometry_json(geom)}


def write_collection(path: Path, features: list[dict[str, Any]], name: str) -> None:
    """Write an RFC 7946 FeatureCollection, one feature per line, deterministic."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    head = json.dumps({"type": "FeatureCollection", "name": name}, separators=(",", ":"))
    text = head[:-1] + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")


def read_input(folder: Path, key: str) -> list[dict[str, Any]]:
    """Read one Natural Earth GeoJSON input (regional cut or whole-world file)."""
    stem = INPUTS[key]
    for candidate in (folder / f"{stem}.region.geojson", folder / f"{stem}.geojson"):
        if candidate.exists():
            try:
                return json.loads(candidate.read_text(encoding="utf-8"))["features"]
            except (ValueError, KeyError) as err:
                raise BuildError(f"{candidate} is not a GeoJSON FeatureCollection: {err}") from err
    raise BuildError(f"missing input {stem}(.region).geojson in {folder}")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def download_inputs(dest: Path) -> Path:
    """Fetch the Natural Earth GeoJSON layers into dest (needs the internet)."""
    dest.mkdir(parents=True, exist_ok=True)
    for stem in INPUTS.values():
        url = NE_URL.format(name=f"{stem}.geojson")
        print(f"downloading {url}", file=sys.stderr)
        try:
            with urllib.request.urlopen(url, timeout=120) as resp:
                (dest / f"{stem}.geojson").write_bytes(resp.read())
        except OSError as err:
            raise BuildError(f"could not download {url}: {err}") from err
    return dest


# ---------------------------------------------------------------- layers
def build_admin(admin1: list[dict[str, Any]]) -> tuple[list, list, dict[str, Any]]:
    """Provinces and countries (dissolved from the same snapped provinces)."""
    by_country: dict[str, list] = {}
    provinces = []
    for f in admin1:
        p = f["properties"]
        a3 = p["adm0_a3"]
        if a3 not in COUNTRIES:
            continue
        geom = shapely.make_valid(shape(f["geometry"]))
        geom = _snap(geom)
        by_country.setdefault(a3, []).append(geom)
        if a3 in PROVINCE_COUNTRIES:
            provinces.append((a3, p, geom))
    missing = sorted(set(COUNTRIES) - set(by_country))
    if missing:
        raise BuildError(f"admin-1 input has no provinces for {', '.join(missing)}")

    countries_geom = {}
    country_feats = []
    for a3 in sorted(by_country):
        geom = _snap(shapely.union_all(by_country[a3]))
        countries_geom[a3] = geom
        clipped = a3 == "CHN"
        props = {
            "iso_a3": a3,
            "name": COUNTRIES[a3],
            "clipped_to_extent": clipped,
            "source": "Natural Earth 10m admin-1, dissolved by adm0_a3",
        }
        country_feats.append(_feature(props, geom))

    prov_feats = []
    def order(t: tuple) -> tuple:
        return (t[0], t[1]["iso_3166_2"], t[1]["adm1_code"])

    for a3, p, geom in sorted(provinces, key=order):
        local = p.get(LOCAL_NAME[a3]) or p.get("name")
        props = {
            "iso_3166_2": p["iso_3166_2"],
            "adm1_code": p["adm1_code"],
            "name": p.get("name_en") or p["name"],
            "name_ne": p["name"],
            "name_local": local,
            "country_iso_a3": a3,
            "country": COUNTRIES[a3],
            "type_en": p.get("type_en"),
        }
        prov_feats.append(_feature(props, geom))
    return country_feats, prov_feats, countries_geom


def build_border(lines: list[dict[str, Any]], countries: dict[str, Any]) -> dict[str, Any]:
    """The Iran–Pakistan border as one LineString, Afghanistan tripoint → Gulf of Oman."""
    parts = []
    for f in lines:
        p = f["properties"]
        if {p.get("adm0_a3_l"), p.get("adm0_a3_r")} == {"IRN", "PAK"}:
            g = shape(f["geometry"])
            parts.extend(g.geoms if isinstance(g, MultiLineString) else [g])
            left, right = p["adm0_left"], p["adm0_right"]
    if not parts:
        raise BuildError("boundary lines input has no Iran–Pakistan line")
    merged = shapely.line_merge(MultiLineString(parts))
    if merged.geom_type != "LineString":
        raise BuildError(f"Iran–Pakistan border does not merge into one line ({merged.geom_type})")
    line = shapely.set_precision(merged, GRID)
    afg = countries["AFG"]
    start, end = Point(line.coords[0]), Point(line.coords[-1])
    if end.distance(afg) < start.distance(afg):
        line = LineString(line.coords[::-1])
    length_m = GEOD.geometry_length(line)
    coords = list(line.coords)
    props = {
        "name": "Iran–Pakistan border",
        "countries": [left, right],
        "iso_a3": ["IRN", "PAK"] if left == "Iran" else ["PAK", "IRN"],
        "direction": "from the Afghanistan–Iran–Pakistan tripoint to the Gulf of Oman coast",
        "start_lonlat": _round_coords(list(coords[0])),
        "end_lonlat": _round_coords(list(coords[-1])),
        "vertex_count": len(coords),
        "length_m": round(length_m, 1),
        "length_km": round(length_m / 1000.0, 3),
        "length_method": "WGS84 geodesic length of the vertices (pyproj.Geod.geometry_length)",
        "published_lengths_km": {
            "CIA World Factbook": 909,
            "Pakistan Ministry of Interior": 928,
            "Iranian reporting": 959,
            "article (approximate)": 900,
        },
        "note": (
            "Natural Earth 1:10m line, generalised (few vertices): it measures shorter "
            "than the published lengths of the surveyed boundary."
        ),
        "source": "Natural Earth 10m admin-0 boundary lines (land)",
    }
    return _feature(props, line)


def build_places(provinces: list[dict[str, Any]], catalog_path: Path) -> list[dict[str, Any]]:
    """Named places from the sourced catalogue; admin-1 assigned by point-in-polygon."""
    catalog = json.loads(catalog_path.read_text(encoding="utf-8"))["places"]
    polys = [(f["properties"], shape(f["geometry"])) for f in provinces]
    feats = []
    ids = set()
    for entry in sorted(catalog, key=lambda e: e["id"]):
        if entry["id"] in ids:
            raise BuildError(f"duplicate place id {entry['id']}")
        ids.add(entry["id"])
        pt = Point(entry["lon"], entry["lat"])
        inside = [p for p, g in polys if g.covers(pt)]
        if entry.get("admin1") and not any(p["iso_3166_2"] == entry["admin1"] for p in inside):
            raise BuildError(
                f"place {entry['id']} at {entry['lat']},{entry['lon']} is not inside "
                f"{entry['admin1']} as its catalogue entry says (found "
                f"{[p['iso_3166_2'] for p in inside]})"
            )
        prov = next((p for p in inside if p["iso_3166_2"] == entry.get("admin1")), None)
        if prov is None and inside:
            prov = inside[0]
        props = {
            "id": entry["id"],
            "name": entry["name"],
            "alt_names": entry.get("alt_names", []),
            "kind": entry["kind"],
            "lat": round(entry["lat"], 6),
            "lon": round(entry["lon"], 6),
            "uncertainty_km": float(entry["uncertainty_km"]),
            "admin1": prov["iso_3166_2"] if prov else None,
            "admin1_name": prov["name"] if prov else None,
            "country_iso_a3": prov["country_iso_a3"] if prov else entry.get("country_iso_a3"),
            "source": entry["source"],
            "note": entry.get("note", ""),
        }
        feats.append(_feature(props, pt))
    return feats


def build_events(provinces: list[dict[str, Any]], catalog_path: Path) -> list[dict[str, Any]]:
    """Curated events from the sourced catalogue, in the dashboard's event model.

    Each event must lie inside (or within its uncertainty of) the province it names; ``year``,
    ``iso`` and ``region`` are filled from the date and the country.
    """
    sys.path.insert(0, str(REPO))
    from dashboard import events as model

    catalog = json.loads(catalog_path.read_text(encoding="utf-8"))["events"]
    polys = {f["properties"]["name"]: shape(f["geometry"]) for f in provinces}
    rows = []
    for entry in sorted(catalog, key=lambda e: (e["event_date"], e["event_id_cnty"])):
        row = dict(entry)
        if not row.get("sources"):
            raise BuildError(f"event {row['event_id_cnty']} has no source")
        iso, region = ACLED_COUNTRY[row["country"]]
        row.update(year=int(row["event_date"][:4]), iso=iso, region=region,
                   source_scale=row.get("source_scale", "International"), timestamp=None)
        if row.get("admin1"):
            poly = polys.get(row["admin1"])
            if poly is None:
                raise BuildError(f"event {row['event_id_cnty']}: unknown admin1 {row['admin1']}")
            pt = Point(row["longitude"], row["latitude"])
            if not poly.covers(pt):
                lon, lat = shapely.ops.nearest_points(poly, pt)[0].coords[0]
                gap_m = GEOD.inv(row["longitude"], row["latitude"], lon, lat)[2]
                if gap_m > row["uncertainty_km"] * 1000:
                    raise BuildError(f"event {row['event_id_cnty']} lies {gap_m / 1000:.1f} km "
                                     f"outside {row['admin1']}")
        rows.append(row)
    import pandas as pd

    return model.to_features(pd.DataFrame(rows))


def build_basemap(features: list[dict[str, Any]], with_props: tuple[str, ...]) -> list:
    """Clip a physical layer to the display extent (plus Switzerland) and snap it."""
    boxes = [shapely.box(*DISPLAY_BBOX), shapely.box(*SWISS_BBOX)]
    out = []
    for f in features:
        g = shape(f["geometry"])
        for box in boxes:
            part = shapely.intersection(g, box)
            if part.is_empty:
                continue
            if part.geom_type == "GeometryCollection":
                keep = [x for x in part.geoms if x.geom_type == g.geom_type.replace("Multi", "")]
                if not keep:
                    continue
                part = shapely.union_all(keep)
            part = _snap(part)
            if part.is_empty:
                continue
            props = {k: f["properties"].get(k) for k in with_props}
            out.append(_feature(props, part))
    out.sort(key=lambda f: json.dumps(f["geometry"]["coordinates"][:1])[:200])
    return out


# ---------------------------------------------------------------- main
_CLIP = "Clipped to lon 24..80, lat 8..44 and Switzerland."
LAYER_META = {
    "countries.geojson": (
        "admin1", "Dissolved by adm0_a3 from the admin-1 polygons (shared edges exact)."),
    "provinces.geojson": (
        "admin1", "Admin-1 polygons of the event countries; English and local names."),
    "border_iran_pakistan.geojson": (
        "boundary_lines",
        "Iran–Pakistan parts merged into one LineString, oriented tripoint → coast; "
        "length by pyproj.Geod (WGS84)."),
    "places.geojson": (
        "catalog",
        "Sourced place catalogue (scripts/places_catalog.json); admin-1 by point-in-polygon "
        "against provinces.geojson."),
    "events.geojson": (
        "events",
        "Curated events (scripts/events_catalog.json) in the ACLED-compatible model of "
        "dashboard/events.py; each event checked against its admin-1 polygon."),
    "basemap_land.geojson": ("land", _CLIP),
    "basemap_lakes.geojson": ("lakes", _CLIP),
    "basemap_rivers.geojson": ("rivers", _CLIP),
    "basemap_coastline.geojson": ("coastline", _CLIP),
}


CATALOG_SOURCES = {"events": ("Curated events from public reporting", EVENTS_CATALOG),
                   "catalog": ("Place catalogue", PLACES_CATALOG)}


def build(input_dir: Path, output_dir: Path, source_label: str) -> dict[str, Any]:
    """Build every layer into output_dir and write manifest.json; returns the manifest."""
    output_dir.mkdir(parents=True, exist_ok=True)
    raw = {key: read_input(input_dir, key) for key in INPUTS}
    countries, provinces, countries_geom = build_admin(raw["admin1"])
    layers = {
        "countries.geojson": countries,
        "provinces.geojson": provinces,
        "border_iran_pakistan.geojson": [build_border(raw["boundary_lines"], countries_geom)],
        "places.geojson": build_places(provinces, PLACES_CATALOG),
        "events.geojson": build_events(provinces, EVENTS_CATALOG),
        "basemap_land.geojson": build_basemap(raw["land"], ("featurecla",)),
        "basemap_lakes.geojson": build_basemap(raw["lakes"], ("name",)),
        "basemap_rivers.geojson": build_basemap(raw["rivers"], ("name",)),
        "basemap_coastline.geojson": build_basemap(raw["coastline"], ("featurecla",)),
    }
    manifest_layers = {}
    for fname, feats in layers.items():
        path = output_dir / fname
        write_collection(path, feats, fname.removesuffix(".geojson"))
        key, how = LAYER_META[fname]
        if key in CATALOG_SOURCES:
            what, catalog = CATALOG_SOURCES[key]
            src = {
                "source": f"{what} (each feature's sources) + Natural Earth admin-1 checks",
                "url": "see each feature's source URLs",
                "licence": "Facts and coordinates from the cited sources; catalogue MIT",
                "inputs": {catalog.name: sha256_file(catalog)},
            }
        else:
            stem = INPUTS[key]
            in_path = next(p for p in (input_dir / f"{stem}.region.geojson",
                                       input_dir / f"{stem}.geojson") if p.exists())
            src = {
                "source": f"Natural Earth {stem}",
                "url": NE_HOME,
                "licence": NE_LICENCE,
                "inputs": {in_path.name: sha256_file(in_path)},
            }
        manifest_layers[fname] = {
            **src,
            "version": source_label,
            "derivation": how,
            "feature_count": len(feats),
            "sha256": sha256_file(path),
        }
    manifest = {
        "generator": "scripts/build_geodata.py",
        "crs": "EPSG:4326 (WGS84 lon/lat, RFC 7946)",
        "coordinate_precision": "6 decimals (1e-6 degree grid)",
        "layers": manifest_layers,
    }
    (output_dir / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input_dir", nargs="?", type=Path, default=DEFAULT_INPUT,
                        help="folder with the Natural Earth GeoJSON inputs")
    parser.add_argument("--output", type=Path, default=REPO / "geodata", help="output folder")
    parser.add_argument("--download", action="store_true",
                        help="fetch the Natural Earth layers from their public home first")
    args = parser.parse_args(argv)
    try:
        if args.download:
            with tempfile.TemporaryDirectory() as tmp:
                manifest = build(download_inputs(Path(tmp)), args.output,
                                 "natural-earth-vector master (downloaded)")
        else:
            if not args.input_dir.is_dir():
                raise BuildError(f"input folder {args.input_dir} does not exist")
            manifest = build(args.input_dir, args.output,
                             "Natural Earth regional cut from shared/data/naturalearth")
    except BuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for name, meta in manifest["layers"].items():
        print(f"{name:32s} {meta['feature_count']:5d} features  sha256 {meta['sha256'][:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
