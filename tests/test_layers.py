"""Tests for dashboard.layers: every committed layer loads, is valid RFC 7946 and sourced."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point

from dashboard import layers, settings
from dashboard.errors import LayerError

GEOD = Geod(ellps="WGS84")
GEODATA = settings.GEODATA_DIR
REQUIRED_PLACES = {
    "sabz-koh", "panjgur", "saravan", "rask", "zahedan", "quetta", "islamabad", "tehran",
    "kerman", "erbil", "idlib", "davos", "sanaa", "hodeidah", "gwadar", "turbat", "chabahar",
    "mand", "taftan",
}


def _geodesic_distance_to(point: Point, geom) -> float:
    """Metres from a lon/lat point to the outline of geom, taken as the geodesic distance to the
    nearest vertex after sampling the outline every 0.002 degrees (a few metres of slack)."""
    ring = geom.boundary if geom.geom_type.endswith("Polygon") else geom
    ring = shapely.segmentize(ring, 0.002)
    coords = np.vstack([np.asarray(g.coords) for g in getattr(ring, "geoms", [ring])])
    n = len(coords)
    _, _, d = GEOD.inv(np.full(n, point.x), np.full(n, point.y), coords[:, 0], coords[:, 1])
    return float(d.min())


def _ring_is_ccw(coords: list) -> bool:
    xy = np.asarray(coords)
    return float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1])) > 0


@pytest.mark.parametrize("name", sorted(settings.LAYER_FILES))
def test_every_layer_loads_valid_in_epsg4326(name):
    gdf = layers.load_layer(name)
    assert len(gdf) > 0
    assert gdf.crs.to_epsg() == 4326
    assert shapely.is_valid(gdf.geometry.values).all()
    minx, miny, maxx, maxy = gdf.total_bounds
    assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


BUILT_FILES = [f for f in settings.LAYER_FILES.values() if f != "events.geojson"]


@pytest.mark.parametrize("fname", BUILT_FILES)
def test_layer_files_follow_rfc7946(fname):
    data = json.loads((GEODATA / fname).read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    assert "crs" not in data  # RFC 7946: WGS84 lon/lat implied
    for feat in data["features"]:
        geom = feat["geometry"]
        polys = []
        if geom["type"] == "Polygon":
            polys = [geom["coordinates"]]
        elif geom["type"] == "MultiPolygon":
            polys = geom["coordinates"]
        for rings in polys:
            assert _ring_is_ccw(rings[0]), f"{fname}: exterior ring must be counter-clockwise"
            for hole in rings[1:]:
                assert not _ring_is_ccw(hole), f"{fname}: holes must be clockwise"
        flat = np.asarray(shapely.get_coordinates(shapely.from_geojson(json.dumps(geom))))
        assert np.allclose(flat, np.round(flat, 6), atol=0, rtol=0)


def test_countries_include_both_sides_and_every_event_country():
    iso = set(layers.load_countries()["iso_a3"])
    assert {"IRN", "PAK", "AFG", "IRQ", "SYR", "YEM", "ISR", "PSX", "LBN", "CHE"} <= iso


def test_countries_and_provinces_share_edges_exactly():
    countries = layers.load_countries().set_index("iso_a3")
    provinces = layers.load_provinces()
    pak = shapely.union_all(provinces[provinces.country_iso_a3 == "PAK"].geometry.values)
    assert shapely.equals(pak, countries.loc["PAK"].geometry)


def test_provinces_named_in_the_issue_with_local_names():
    prov = layers.load_provinces().set_index("iso_3166_2")
    expected = {"PK-BA": "Balochistan", "IR-13": "Sistan and Baluchestan", "IR-15": "Kerman",
                "IR-10": "Khuzestan", "IQ-AR": "Erbil", "SY-ID": "Idlib"}
    for code, name in expected.items():
        row = prov.loc[code]
        assert row["name"] == name
        assert isinstance(row["name_local"], str) and row["name_local"].strip()
    assert prov.loc["PK-BA"]["name_local"] == "بلوچستان"


def test_places_required_are_present_with_sources():
    places = layers.load_places().set_index("id")
    assert set(places.index) >= REQUIRED_PLACES
    for pid, row in places.iterrows():
        assert row["source"], pid
        assert row["uncertainty_km"] > 0, pid
        assert (row.geometry.x, row.geometry.y) == (row["lon"], row["lat"]), pid
    assert "Koh-e-Sabz" in places.loc["sabz-koh"]["alt_names"]
    assert "Arbil" in places.loc["erbil"]["alt_names"]
    assert "INFERRED" in places.loc["sabz-koh"]["note"]


def test_every_place_lies_in_its_stated_province_allowing_uncertainty():
    places = layers.load_places()
    prov = layers.load_provinces().set_index("iso_3166_2")
    checked = 0
    for _, row in places[places["admin1"].notna()].iterrows():
        poly = prov.loc[[row["admin1"]]].geometry.union_all()
        pt = row.geometry
        if not poly.covers(pt):
            assert _geodesic_distance_to(pt, poly) <= row["uncertainty_km"] * 1000, row["id"]
        checked += 1
    assert checked >= len(REQUIRED_PLACES)


def test_border_is_one_line_from_the_afghan_tripoint_to_the_coast():
    border = layers.load_border()
    countries = layers.load_countries().set_index("iso_a3")
    line = border.geometry
    start, end = Point(line.coords[0]), Point(line.coords[-1])
    # start: the Afghanistan–Iran–Pakistan tripoint (on all three outlines, within 10 m)
    for iso in ("AFG", "IRN", "PAK"):
        assert _geodesic_distance_to(start, countries.loc[iso].geometry) < 10, iso
    # end: on the Gulf of Oman coast, far from Afghanistan, and near the 1:50m coastline
    assert _geodesic_distance_to(end, countries.loc["AFG"].geometry) > 300_000
    coast = layers.load_layer("basemap_coast").geometry.union_all()
    assert _geodesic_distance_to(end, coast) < 5_000
    assert end.y < start.y
    # the line runs along both countries' outlines (every vertex within 10 m of each)
    for iso in ("IRN", "PAK"):
        outline = countries.loc[iso].geometry
        worst = max(_geodesic_distance_to(Point(xy), outline) for xy in line.coords)
        assert worst < 10, iso
    assert {border.left_iso_a3, border.right_iso_a3} == {"IRN", "PAK"}


def test_stored_border_length_equals_a_fresh_geodesic_measurement():
    border = layers.load_border()
    fresh = GEOD.geometry_length(border.geometry)
    assert abs(fresh - border.length_m) < 0.1
    assert border.vertex_count == len(border.geometry.coords) == 224
    # the generalised Natural Earth line is shorter than the published 909 km
    assert 800_000 < border.length_m < 909_000


def test_manifest_hashes_match_the_files():
    manifest = layers.load_manifest()
    assert set(manifest["layers"]) >= set(settings.LAYER_FILES.values())
    for fname, meta in manifest["layers"].items():
        data = (GEODATA / fname).read_bytes()
        assert hashlib.sha256(data).hexdigest() == meta["sha256"], fname
        assert meta["licence"] and meta["source"] and meta["url"]
        assert meta["feature_count"] == len(json.loads(data)["features"]), fname


def test_manifest_covers_every_file_under_geodata():
    manifest = layers.load_manifest()
    entries = {**manifest["layers"], **manifest["files"]}
    on_disk = {p.name for p in GEODATA.iterdir() if p.is_file() and p.name != "manifest.json"}
    assert on_disk == set(entries)
    for fname, meta in entries.items():
        assert hashlib.sha256((GEODATA / fname).read_bytes()).hexdigest() == meta["sha256"]
        assert meta["version"] and meta["source"] and meta["licence"], fname


def test_manifest_pins_inputs_and_layer_dependencies():
    manifest = layers.load_manifest()
    ne = manifest["natural_earth"]
    assert ne["release"].startswith("Natural Earth") and ne["release_evidence"]
    assert len(ne["inputs"]) == 6 and all(len(h) == 64 for h in ne["inputs"].values())
    repo = settings.REPO_ROOT
    for fname, meta in manifest["layers"].items():
        assert meta["inputs"], fname
        for name, sha in meta["inputs"].items():
            if name.startswith("naturalearth/"):
                assert ne["inputs"][name] == sha, (fname, name)
            else:  # repository files: the manifest is current only if they are unchanged
                assert hashlib.sha256((repo / name).read_bytes()).hexdigest() == sha, (fname, name)
        assert "regional cut" not in meta["version"], fname
    events = manifest["layers"]["events.geojson"]["inputs"]
    assert {"scripts/events_catalog.json", "scripts/places_catalog.json"} <= set(events)
    assert "geodata/claims.json" in manifest["layers"]["border_iran_pakistan.geojson"]["inputs"]
    if settings.SHARED_NATURALEARTH_DIR.is_dir():  # the pinned hashes are those of ../shared
        for name, sha in ne["inputs"].items():
            path = settings.SHARED_NATURALEARTH_DIR / name.removeprefix("naturalearth/")
            assert hashlib.sha256(path.read_bytes()).hexdigest() == sha, name


def test_provinces_are_keyed_by_code_with_unique_display_names():
    prov = layers.load_provinces()
    assert prov["iso_3166_2"].is_unique
    assert not prov.duplicated(["country_iso_a3", "name"]).any()
    by_code = prov.set_index("iso_3166_2")
    assert by_code.loc["YE-SA", "name"] == "Sanaa (city)"
    assert by_code.loc["YE-SN", "name"] == "Sanaa Governorate"
    assert by_code.loc["IR-32", "name"] == "Alborz" and by_code.loc["IR-07", "name"] == "Tehran"
    # merged parts: one polygon per code, the same area as the parts together
    assert by_code.loc["AF-PAR", "parts_merged"] == 2


def test_border_carries_natural_earth_class_and_sourced_lengths():
    props = layers.load_border().properties
    assert props["ne_featurecla"] == "International boundary (verify)"
    published = props["published_lengths_km"]
    assert len(published) >= 5 and min(published.values()) < 800 < 950 < max(published.values())


def test_missing_layer_names_the_file(tmp_path: Path):
    with pytest.raises(LayerError, match=r"border_iran_pakistan\.geojson"):
        layers.load_border(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid GeoJSON"),
        ('{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "no features"),
        ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},'
         ' "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}]}',
         "invalid geometry"),
        ('{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name":'
         ' "EPSG:3857"}}, "features": []}', "declares CRS"),
    ],
)
def test_malformed_layer_gives_one_clear_error(tmp_path: Path, content: str, message: str):
    (tmp_path / "countries.geojson").write_text(content, encoding="utf-8")
    with pytest.raises(LayerError, match=message) as info:
        layers.load_countries(tmp_path)
    assert "countries.geojson" in str(info.value)
    assert "\n" not in str(info.value)


def test_loaded_layers_are_copies():
    a = layers.load_places()
    a.loc[:, "name"] = "changed"
    assert "changed" not in set(layers.load_places()["name"])


def test_core_import_leaves_streamlit_and_folium_out():
    import subprocess
    import sys

    code = (
        "import sys, dashboard.layers, dashboard.settings, dashboard.errors;"
        "print(any(m.split('.')[0] in ('streamlit','folium') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_province_lookup_by_code_only():
    row = layers.province("pk-ba")
    assert row["iso_3166_2"] == "PK-BA" and row["name"] == "Balochistan"
    assert row.geometry.contains(Point(64.1, 26.9667))  # Panjgur
    assert layers.province("YE-SN")["name"] == "Sanaa Governorate"
    with pytest.raises(LayerError, match=r"'YE-XX'.*YE-SA") as info:
        layers.province("YE-XX")
    assert "\n" not in str(info.value)
    with pytest.raises(LayerError, match="Sanaa"):
        layers.province("Sanaa")  # a name is not a code


def test_duplicate_province_codes_are_refused(tmp_path: Path):
    feats = [{"type": "Feature", "properties": {"iso_3166_2": "XX-01", "name": n,
                                                "name_local": "x", "country_iso_a3": "XXX"},
              "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}
             for n in ("A", "B")]
    (tmp_path / "provinces.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    with pytest.raises(LayerError, match="XX-01 twice"):
        layers.load_provinces(tmp_path)
