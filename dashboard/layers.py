"""Load and validate the committed geodata layers as GeoDataFrames (EPSG:4326, lon/lat).

Every loader raises :class:`dashboard.errors.LayerError` with one sentence naming the
file when a layer is missing or malformed.  Loaded layers are cached per file
(path + modification time) and callers receive copies, so they may modify them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import LineString

from dashboard import geodesy, settings
from dashboard.errors import LayerError

CRS = "EPSG:4326"
_CRS84_NAMES = {
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
}


@dataclass(frozen=True)
class BorderLine:
    """The Iran–Pakistan border: a lon/lat LineString from the Afghanistan tripoint to the coast.

    ``length_m`` is the WGS84 geodesic length in metres stored by the build (checked by tests
    against a fresh measurement); ``left_iso_a3``/``right_iso_a3`` are the countries it separates.
    """

    geometry: LineString
    length_m: float
    vertex_count: int
    left_iso_a3: str
    right_iso_a3: str
    properties: dict[str, Any] = field(default_factory=dict)


def layer_path(name: str, geodata_dir: Path | None = None) -> Path:
    """Path of a named layer file (see ``settings.LAYER_FILES``)."""
    if name not in settings.LAYER_FILES:
        known = ", ".join(sorted(settings.LAYER_FILES))
        raise LayerError(f"Unknown layer {name!r}; known layers: {known}.")
    return Path(geodata_dir or settings.GEODATA_DIR) / settings.LAYER_FILES[name]


def read_feature_collection(path: Path) -> dict[str, Any]:
    """Parse a GeoJSON FeatureCollection and check its RFC 7946 shape; raises LayerError."""
    if not path.is_file():
        raise LayerError(f"Layer file {path} is missing; run 'python scripts/build_geodata.py'.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise LayerError(f"Layer file {path} is not valid GeoJSON ({err}).") from err
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise LayerError(f"Layer file {path} is not a GeoJSON FeatureCollection.")
    feats = data.get("features")
    if not isinstance(feats, list):
        raise LayerError(f"Layer file {path} has no 'features' list.")
    crs = data.get("crs")
    if crs is not None:
        crs_name = (crs.get("properties") or {}).get("name") if isinstance(crs, dict) else None
        if crs_name not in _CRS84_NAMES:
            raise LayerError(
                f"Layer file {path} declares CRS {crs_name!r}; expected WGS84 lon/lat."
            )
    for i, feat in enumerate(feats):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            raise LayerError(f"Layer file {path}: item {i} is not a GeoJSON Feature.")
        if not isinstance(feat.get("geometry"), dict):
            raise LayerError(f"Layer file {path}: feature {i} has no geometry.")
    return data


@lru_cache(maxsize=32)
def _load_cached(path_str: str, mtime_ns: int) -> gpd.GeoDataFrame:
    path = Path(path_str)
    data = read_feature_collection(path)
    try:
        gdf = gpd.GeoDataFrame.from_features(data["features"], crs=CRS)
    except (ValueError, TypeError, KeyError, shapely.errors.GEOSException) as err:
        raise LayerError(f"Layer file {path} has a malformed geometry ({err}).") from err
    if len(gdf) == 0:
        raise LayerError(f"Layer file {path} has no features.")
    geoms = gdf.geometry.values
    if shapely.is_empty(geoms).any():
        raise LayerError(f"Layer file {path} has empty geometries.")
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        i = int(invalid.nonzero()[0][0])
        reason = shapely.is_valid_reason(geoms[i])
        raise LayerError(f"Layer file {path}: feature {i} has an invalid geometry ({reason}).")
    bounds = shapely.total_bounds(geoms)
    if not geodesy.latlon_ok(bounds[[1, 3]], bounds[[0, 2]]).all():
        raise LayerError(f"Layer file {path} has coordinates outside lon -180..180, lat -90..90.")
    return gdf


def load_layer(name: str, geodata_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Load a named layer as a validated GeoDataFrame in EPSG:4326 (a fresh copy)."""
    path = layer_path(name, geodata_dir)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = -1
    gdf = _load_cached(str(path.resolve()), mtime)
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise LayerError(f"Layer file {path} is not in EPSG:4326.")
    return gdf.copy()


def _require_columns(gdf: gpd.GeoDataFrame, name: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise LayerError(f"Layer {name!r} lacks the column(s) {', '.join(missing)}.")


def load_countries(geodata_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Countries: ``iso_a3``, ``name``, ``clipped_to_extent``, geometry (lon/lat polygons)."""
    gdf = load_layer("countries", geodata_dir)
    _require_columns(gdf, "countries", ["iso_a3", "name"])
    return gdf


def load_provinces(geodata_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Provinces, one row per ISO 3166-2 code: ``iso_3166_2``, ``name`` (display name, unique
    within a country, e.g. "Sanaa (city)" / "Sanaa Governorate"), ``name_en`` and ``name_ne``
    (Natural Earth's names), ``name_local``, ``country_iso_a3``, ``country``."""
    gdf = load_layer("provinces", geodata_dir)
    _require_columns(gdf, "provinces", ["iso_3166_2", "name", "name_local", "country_iso_a3"])
    if gdf["iso_3166_2"].duplicated().any():
        dup = gdf.loc[gdf["iso_3166_2"].duplicated(), "iso_3166_2"].iloc[0]
        raise LayerError(f"Layer 'provinces' has the code {dup} twice; rebuild with "
                         "scripts/build_geodata.py.")
    return gdf


def province(code: str, geodata_dir: Path | None = None) -> pd.Series:
    """The province row (with its geometry) for an ISO 3166-2 code such as ``PK-BA``
    (case-insensitive); LayerError naming close codes when there is none."""
    prov = load_provinces(geodata_dir)
    key = str(code).strip().upper()
    hit = prov.loc[prov["iso_3166_2"].str.upper() == key]
    if hit.empty:
        prefix = key.split("-")[0]
        near = sorted(c for c in prov["iso_3166_2"] if c.startswith(prefix + "-"))
        hint = f" (codes of that country: {', '.join(near)})" if near else ""
        raise LayerError(f"No province has the ISO 3166-2 code {code!r}{hint}.")
    return hit.iloc[0]


def load_places(geodata_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Named places: ``id``, ``name``, ``alt_names`` (list), ``lat``, ``lon`` (degrees),
    ``uncertainty_km``, ``admin1`` (ISO 3166-2), ``admin1_name``, ``country_iso_a3``, ``kind``,
    ``source``, ``note``, ``constraints`` (list of location-constraint dicts, see
    dashboard/constraints.py) and a Point geometry (lon, lat)."""
    gdf = load_layer("places", geodata_dir)
    _require_columns(
        gdf, "places", ["id", "name", "alt_names", "lat", "lon", "uncertainty_km", "source"]
    )
    gdf["alt_names"] = [list(v) if isinstance(v, (list, tuple)) else [] for v in gdf["alt_names"]]
    return gdf


def load_border(geodata_dir: Path | None = None) -> BorderLine:
    """The Iran–Pakistan border line with its stored geodesic length (metres)."""
    gdf = load_layer("border", geodata_dir)
    path = layer_path("border", geodata_dir)
    if len(gdf) != 1 or gdf.geometry.iloc[0].geom_type != "LineString":
        raise LayerError(f"Layer file {path} must hold exactly one LineString.")
    props = {k: v for k, v in gdf.iloc[0].items() if k != "geometry"}
    try:
        iso = list(props["iso_a3"])
        return BorderLine(
            geometry=gdf.geometry.iloc[0],
            length_m=float(props["length_m"]),
            vertex_count=int(props["vertex_count"]),
            left_iso_a3=str(iso[0]),
            right_iso_a3=str(iso[1]),
            properties=props,
        )
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise LayerError(f"Layer file {path} lacks border properties ({err}).") from err


def load_manifest(geodata_dir: Path | None = None) -> dict[str, Any]:
    """The build manifest (source, licence, sha256 per layer)."""
    path = Path(geodata_dir or settings.GEODATA_DIR) / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise LayerError(f"Manifest {path} is missing.") from err
    except ValueError as err:
        raise LayerError(f"Manifest {path} is not valid JSON ({err}).") from err


def data_version(name: str, geodata_dir: Path | None = None) -> str:
    """Short citation of a layer's data version: file name and sha256 prefix from the manifest."""
    fname = settings.LAYER_FILES[name]
    try:
        sha = load_manifest(geodata_dir)["layers"][fname]["sha256"]
    except (LayerError, KeyError):
        return f"{fname} (no manifest entry)"
    return f"{fname} sha256:{sha[:12]}"
