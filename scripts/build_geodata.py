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
import os
import re
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
if str(REPO) not in sys.path:  # run as a script: the dashboard package lives beside scripts/
    sys.path.insert(0, str(REPO))
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
    _write(path, text)


def _write(path: Path, text: str) -> None:
    """Write a file whole or not at all (dashboard.outputs: temp file, fsync, rename)."""
    from dashboard import outputs

    outputs.write_text(path, text, newline="\n")


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
# Natural Earth gives Alborz (split from Tehran in 2010) Tehran's code IR-07; every other Iranian
# code in the input follows the ISO 3166-2:IR scheme in which Alborz is IR-32.
CODE_FIXES = {"IRN-5490": ("IR-32", "Natural Earth codes Alborz IR-07 (Tehran's code); ISO "
                                    "3166-2:IR (the scheme of the other Iranian codes) has IR-32")}
# Display names that must differ from Natural Earth's English name because two provinces of one
# country share it (Yemen: the capital city Amanat al-Asimah and the governorate around it).
DISPLAY_NAMES = {"YE-SA": "Sanaa (city)", "YE-SN": "Sanaa Governorate"}


def build_admin(admin1: list[dict[str, Any]]) -> tuple[list, list, dict[str, Any]]:
    """Provinces (one feature per ISO 3166-2 code, parts merged, display names unique within a
    country) and countries (dissolved from the same snapped provinces)."""
    by_country: dict[str, list] = {}
    parts: dict[str, list] = {}
    for f in admin1:
        p = dict(f["properties"])
        a3 = p["adm0_a3"]
        if a3 not in COUNTRIES:
            continue
        geom = shapely.make_valid(shape(f["geometry"]))
        geom = _snap(geom)
        by_country.setdefault(a3, []).append(geom)
        if a3 in PROVINCE_COUNTRIES:
            code, _why = CODE_FIXES.get(p["adm1_code"], (p["iso_3166_2"], ""))
            p["iso_3166_2"] = code
            parts.setdefault(code, []).append((p, geom))
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
    seen_names: dict[tuple[str, str], str] = {}
    for code in sorted(parts, key=lambda c: (parts[c][0][0]["adm0_a3"], c)):
        group = sorted(parts[code], key=lambda t: t[0]["adm1_code"])
        p, a3 = group[0][0], group[0][0]["adm0_a3"]
        wikidata = {q.get("wikidataid") for q, _ in group}
        if len(wikidata) > 1:
            raise BuildError(f"admin-1 code {code} is given to different provinces "
                             f"({', '.join(sorted(q['name'] for q, _ in group))}); add a "
                             "correction to CODE_FIXES")
        geom = _snap(shapely.union_all([g for _, g in group])) if len(group) > 1 else group[0][1]
        name_en = p.get("name_en") or p["name"]
        display = DISPLAY_NAMES.get(code, name_en)
        if (a3, display) in seen_names:
            raise BuildError(f"provinces {seen_names[(a3, display)]} and {code} would both be "
                             f"shown as {display!r}; add a display name to DISPLAY_NAMES")
        seen_names[(a3, display)] = code
        props = {
            "iso_3166_2": code,
            "adm1_code": p["adm1_code"],
            "adm1_codes": [q["adm1_code"] for q, _ in group],
            "name": display,
            "name_en": name_en,
            "name_ne": p["name"],
            "name_local": p.get(LOCAL_NAME[a3]) or p.get("name"),
            "country_iso_a3": a3,
            "country": COUNTRIES[a3],
            "type_en": p.get("type_en"),
            "parts_merged": len(group),
            "code_note": CODE_FIXES.get(p["adm1_code"], ("", ""))[1],
        }
        prov_feats.append(_feature(props, geom))
    return country_feats, prov_feats, countries_geom


def build_border(lines: list[dict[str, Any]], countries: dict[str, Any],
                 claims: list[dict[str, Any]]) -> dict[str, Any]:
    """The Iran–Pakistan border as one LineString, Afghanistan tripoint → Gulf of Oman."""
    parts = []
    featurecla = set()
    for f in lines:
        p = f["properties"]
        if {p.get("adm0_a3_l"), p.get("adm0_a3_r")} == {"IRN", "PAK"}:
            g = shape(f["geometry"])
            parts.extend(g.geoms if isinstance(g, MultiLineString) else [g])
            left, right = p["adm0_left"], p["adm0_right"]
            featurecla.add(p.get("featurecla") or "")
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
    published = {c["source"]: c["claimed"] for c in claims
                 if c["measure"]["kind"] == "border_length" and c.get("unit", "km") == "km"}
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
        "ne_featurecla": " / ".join(sorted(featurecla)),
        "published_lengths_km": dict(sorted(published.items(), key=lambda kv: kv[1])),
        "note": (
            "Natural Earth 1:10m line, generalised (few vertices), which Natural Earth itself "
            f"classes as '{' / '.join(sorted(featurecla))}'. Published lengths of the boundary "
            "differ among themselves (geodata/claims.json, each with its source); none can be "
            "tested against this line."
        ),
        "source": "Natural Earth 10m admin-0 boundary lines (land)",
    }
    return _feature(props, line)


def _constraint_dicts(entry: dict[str, Any], rid: str) -> list[dict[str, Any]]:
    """The record's constraints, validated and normalised (with straight-line bands)."""
    from dashboard import constraints as cons

    raw = entry.get("constraints") or []
    if not isinstance(raw, list):
        raise BuildError(f"{rid}: 'constraints' must be a list")
    try:
        return [cons.parse(c, rid).to_dict() for c in raw]
    except cons.ConstraintError as err:
        raise BuildError(str(err).rstrip(".")) from None


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
            "constraints": _constraint_dicts(entry, entry["id"]),
        }
        feats.append(_feature(props, pt))
    return feats


def resolve_admin1(name: str, country_a3: str, provinces: list[dict[str, Any]],
                   hint_codes: set[str], rid: str) -> str:
    """ISO 3166-2 code of an ACLED-style admin1 name within a country.

    The name may be the display name, Natural Earth's name or its English name; when two
    provinces of the country match, the record's ``within`` constraint codes decide, otherwise
    the build stops (never a silent pick).
    """
    key = name.casefold()
    hits = sorted({f["properties"]["iso_3166_2"] for f in provinces
                   if f["properties"]["country_iso_a3"] == country_a3
                   and key in {str(f["properties"].get(k) or "").casefold()
                               for k in ("name", "name_en", "name_ne")}})
    if len(hits) > 1:
        narrowed = [c for c in hits if c in hint_codes]
        if len(narrowed) == 1:
            return narrowed[0]
        raise BuildError(f"{rid}: admin1 {name!r} matches {', '.join(hits)} in {country_a3}; "
                         "add a 'within' constraint with the province code to say which")
    if not hits:
        raise BuildError(f"{rid}: unknown admin1 {name!r} in {country_a3}")
    return hits[0]


def build_events(provinces: list[dict[str, Any]], catalog_path: Path,
                 ctx: Any) -> list[dict[str, Any]]:
    """Curated events from the sourced catalogue, in the dashboard's event model.

    Each event's admin1 name is resolved to an ISO 3166-2 code within its country and its disc
    must reach that province (geodesic); ``year``, ``iso`` and ``region`` are filled from the
    date and the country; ``admin1_code`` and ``constraints`` are added to the properties.
    """
    from dashboard import constraints as cons
    from dashboard import events as model

    catalog = json.loads(catalog_path.read_text(encoding="utf-8"))["events"]
    a3_of = {name: a3 for a3, name in COUNTRIES.items()}
    rows, extra = [], {}
    for entry in sorted(catalog, key=lambda e: (e["event_date"], e["event_id_cnty"])):
        row = dict(entry)
        rid = row["event_id_cnty"]
        if not row.get("sources"):
            raise BuildError(f"event {rid} has no source")
        iso, region = ACLED_COUNTRY[row["country"]]
        row.update(year=int(row["event_date"][:4]), iso=iso, region=region,
                   source_scale=row.get("source_scale", "International"), timestamp=None)
        constraints = _constraint_dicts(entry, rid)
        code = None
        if row.get("admin1"):
            hints = {c["target"] for c in constraints if c["kind"] == "within"}
            code = resolve_admin1(row["admin1"], a3_of[row["country"]], provinces, hints, rid)
            implied = cons.Constraint(kind="within", target=code, source="admin1")
            out = cons.evaluate(rid, row["latitude"], row["longitude"], row["uncertainty_km"],
                                implied, ctx)
            if out.disc_miss_km > 0:
                raise BuildError(f"event {rid} lies {out.outside_km:.1f} km outside its admin1 "
                                 f"{code} ({row['admin1']}); its disc misses by "
                                 f"{out.disc_miss_km:.1f} km")
        extra[rid] = {"admin1_code": code, "constraints": constraints}
        rows.append(row)
    import pandas as pd

    feats = model.to_features(pd.DataFrame(rows))
    for f in feats:
        f["properties"].update(extra[f["properties"]["event_id_cnty"]])
    return feats


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
CLAIMS = REPO / "geodata" / "claims.json"
INPUT_ENV = "DASHBOARD_GEODATA_INPUT"
# What each output depends on: Natural Earth input keys and repository files.
LAYER_META = {
    "countries.geojson": (
        ("admin1",), (),
        "Dissolved by adm0_a3 from the admin-1 polygons (shared edges exact)."),
    "provinces.geojson": (
        ("admin1",), (),
        "Admin-1 polygons of the event countries, one feature per ISO 3166-2 code (parts "
        "merged; Alborz recoded IR-32); display names unique within a country; English and "
        "local names."),
    "border_iran_pakistan.geojson": (
        ("boundary_lines", "admin1"), (CLAIMS,),
        "Iran–Pakistan parts merged into one LineString, oriented tripoint → coast (Afghanistan "
        "from admin-1); length by pyproj.Geod (WGS84); published lengths from claims.json."),
    "places.geojson": (
        ("admin1", "boundary_lines"), (PLACES_CATALOG,),
        "Sourced place catalogue (scripts/places_catalog.json); admin-1 by point-in-polygon "
        "against provinces.geojson; location constraints checked by dashboard/constraints.py."),
    "events.geojson": (
        ("admin1", "boundary_lines"), (EVENTS_CATALOG, PLACES_CATALOG),
        "Curated events (scripts/events_catalog.json) in the ACLED-compatible model of "
        "dashboard/events.py; admin1 resolved to its ISO 3166-2 code; location constraints "
        "(against provinces, countries, the border and the places) checked by "
        "dashboard/constraints.py."),
    "basemap_land.geojson": (("land",), (), _CLIP),
    "basemap_lakes.geojson": (("lakes",), (), _CLIP),
    "basemap_rivers.geojson": (("rivers",), (), _CLIP),
    "basemap_coastline.geojson": (("coastline",), (), _CLIP),
}


def input_path(input_dir: Path, key: str) -> Path:
    """The file read for a Natural Earth input key (regional cut or whole-world file)."""
    stem = INPUTS[key]
    for candidate in (input_dir / f"{stem}.region.geojson", input_dir / f"{stem}.geojson"):
        if candidate.exists():
            return candidate
    raise BuildError(f"missing input {stem}(.region).geojson in {input_dir}")


def natural_earth_release(input_dir: Path, admin1: list[dict[str, Any]]) -> tuple[str, str]:
    """(short label, how it is known) of the inputs' Natural Earth release: as their README
    states it, else inferred from the columns of the admin-1 layer."""
    readme = input_dir / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    stated = re.search(r"(?:version|release)\D{0,12}(v?\d+\.\d+(?:\.\d+)?)", text, re.I)
    if stated:
        return f"Natural Earth {stated.group(1)}", f"as stated in the inputs' {readme.name}"
    if any("FCLASS_TLC" in f["properties"] for f in admin1[:1]):
        return ("Natural Earth v5.1.0 or later",
                "the inputs' README states no release; their admin-1 layer has the FCLASS_TLC "
                "point-of-view column that v5.1.0 added; the exact files are pinned by sha256")
    return ("Natural Earth (release unknown)",
            "the inputs state no release; the exact files are pinned by sha256")


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return path.name


def check_constraints(ctx: Any) -> None:
    """Stop the build with one line per violated location constraint."""
    from dashboard import constraints as cons

    events = json.loads(EVENTS_CATALOG.read_text(encoding="utf-8"))["events"]
    places = json.loads(PLACES_CATALOG.read_text(encoding="utf-8"))["places"]
    lines = cons.check_all(events, places, ctx)
    if lines:
        raise BuildError(f"{len(lines)} location constraint(s) violated:\n  "
                         + "\n  ".join(lines))


def build(input_dir: Path, output_dir: Path, source_label: str) -> dict[str, Any]:
    """Build every layer into output_dir and write manifest.json; returns the manifest.

    Nothing is written when an input is missing or a record violates its constraints.
    """
    from dashboard import constraints as cons

    raw = {key: read_input(input_dir, key) for key in INPUTS}
    claims = json.loads(CLAIMS.read_text(encoding="utf-8"))["claims"]
    countries, provinces, countries_geom = build_admin(raw["admin1"])
    border = build_border(raw["boundary_lines"], countries_geom, claims)
    places = build_places(provinces, PLACES_CATALOG)
    ctx = cons.Context.from_features(provinces, countries, border,
                                     [f["properties"] for f in places])
    layers = {
        "countries.geojson": countries,
        "provinces.geojson": provinces,
        "border_iran_pakistan.geojson": [border],
        "places.geojson": places,
        "events.geojson": build_events(provinces, EVENTS_CATALOG, ctx),
        "basemap_land.geojson": build_basemap(raw["land"], ("featurecla",)),
        "basemap_lakes.geojson": build_basemap(raw["lakes"], ("name",)),
        "basemap_rivers.geojson": build_basemap(raw["rivers"], ("name",)),
        "basemap_coastline.geojson": build_basemap(raw["coastline"], ("featurecla",)),
    }
    check_constraints(ctx)
    release, release_how = natural_earth_release(input_dir, raw["admin1"])
    ne_files = {key: input_path(input_dir, key) for key in INPUTS}
    ne_sha = {key: sha256_file(path) for key, path in ne_files.items()}
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BuildError(f"cannot create the output folder {output_dir} ({err.strerror})") from None
    manifest_layers = {}
    for fname, feats in layers.items():
        path = output_dir / fname
        write_collection(path, feats, fname.removesuffix(".geojson"))
        ne_keys, repo_files, how = LAYER_META[fname]
        inputs = {f"naturalearth/{ne_files[k].name}": ne_sha[k] for k in ne_keys}
        inputs.update({_rel(f): sha256_file(f) for f in repo_files})
        if repo_files and fname != "border_iran_pakistan.geojson":
            catalogs = " + ".join(f"{f.name} sha256:{sha256_file(f)[:12]}" for f in repo_files)
            src = {
                "source": "Sourced catalogue (each feature's sources) + Natural Earth checks",
                "url": "see each feature's source URLs",
                "licence": "Facts and coordinates from the cited sources; catalogue MIT",
                "version": f"{catalogs}; checked against {release} admin-1 and border",
            }
        else:
            stem = INPUTS[ne_keys[0]]
            src = {
                "source": f"Natural Earth {stem}",
                "url": NE_HOME,
                "licence": NE_LICENCE,
                "version": f"{release}, {ne_files[ne_keys[0]].name} sha256:"
                           f"{ne_sha[ne_keys[0]][:12]}",
            }
        manifest_layers[fname] = {
            **src,
            "derivation": how,
            "inputs": inputs,
            "feature_count": len(feats),
            "sha256": sha256_file(path),
        }
    claims_out = output_dir / "claims.json"
    if claims_out.resolve() != CLAIMS.resolve():
        _write(claims_out, CLAIMS.read_text(encoding="utf-8"))
    claims_sha = sha256_file(claims_out)
    manifest = {
        "generator": "scripts/build_geodata.py",
        "crs": "EPSG:4326 (WGS84 lon/lat, RFC 7946)",
        "coordinate_precision": "6 decimals (1e-6 degree grid)",
        "natural_earth": {
            "release": release,
            "release_evidence": release_how,
            "source": source_label,
            "url": NE_HOME,
            "licence": NE_LICENCE,
            "inputs": {f"naturalearth/{p.name}": ne_sha[k] for k, p in ne_files.items()},
        },
        "layers": manifest_layers,
        "files": {
            "claims.json": {
                "source": "Quantitative claims from the article and reporting, each with its "
                          "source (hand-curated; read by dashboard/claims.py)",
                "licence": "Facts from the cited sources; file MIT",
                "version": f"hand-curated, sha256:{claims_sha[:12]} (history in git)",
                "inputs": {},
                "sha256": claims_sha,
            },
        },
    }
    _write(output_dir / "manifest.json",
           json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input_dir", nargs="?", type=Path, default=None,
                        help="folder with the Natural Earth GeoJSON inputs (same as --input)")
    parser.add_argument("--input", type=Path, default=None, dest="input_opt", metavar="DIR",
                        help=f"folder with the Natural Earth GeoJSON inputs (default: ${INPUT_ENV} "
                             f"or {DEFAULT_INPUT})")
    parser.add_argument("--output", type=Path, default=REPO / "geodata", help="output folder")
    parser.add_argument("--download", action="store_true",
                        help="fetch the Natural Earth layers from their public home first")
    args = parser.parse_args(argv)
    env = os.environ.get(INPUT_ENV)
    input_dir = args.input_opt or args.input_dir or (Path(env) if env else DEFAULT_INPUT)
    try:
        if args.download:
            with tempfile.TemporaryDirectory() as tmp:
                manifest = build(download_inputs(Path(tmp)), args.output,
                                 "natural-earth-vector master (downloaded)")
        else:
            if not input_dir.is_dir():
                raise BuildError(
                    f"input folder {input_dir} does not exist: the Natural Earth inputs ship in "
                    "shared/data/naturalearth beside this repository, so pass that folder with "
                    f"--input DIR (or set {INPUT_ENV}=DIR), or fetch them with --download")
            regional = input_path(input_dir, "admin1").name.endswith(".region.geojson")
            manifest = build(input_dir, args.output,
                             "regional cut of lon 24..80, lat 8..44 + Switzerland "
                             "(as shipped in shared/data/naturalearth)" if regional
                             else "whole-world Natural Earth GeoJSON files")
    except BuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ImportError as err:
        print(f"error: the build needs the dashboard package beside scripts/ and its "
              f"dependencies installed ({err})", file=sys.stderr)
        return 2
    except Exception as err:  # a dashboard error (e.g. an unwritable output folder)
        from dashboard.errors import DashboardError

        if not isinstance(err, DashboardError):
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    for name, meta in manifest["layers"].items():
        print(f"{name:32s} {meta['feature_count']:5d} features  sha256 {meta['sha256'][:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
