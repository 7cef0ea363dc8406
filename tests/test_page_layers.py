"""Layer specs: geodesic discs, precision-3 areas, aggregation, escaping of popups and links."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon

from dashboard import page_layers as pl

XSS = "<img src=x onerror=alert(1)>"


def _events(n=3, precision=(2, 3, 1), layers=("strike", "retaliation", "strike")):
    return gpd.GeoDataFrame(
        {
            "event_id_cnty": [f"EV{i}" for i in range(n)],
            "event_date": pd.to_datetime(["2024-01-16"] * n),
            "category": list(layers)[:n],
            "location": ["Sabz Koh", XSS, "Panjgur"][:n],
            "notes": [XSS] * n,
            "geo_precision": list(precision)[:n],
            "uncertainty_km": [10.0, 40.0, 3.0][:n],
            "sources": [["https://example.org/a", "javascript:alert(1)"], [], []][:n],
            "fatalities": [2, 0, 0][:n],
        },
        geometry=[Point(63.8, 26.9), Point(62.3, 27.4), Point(64.1, 26.97)][:n],
        crs="EPSG:4326",
    )


def test_geodesic_disc_vertices_are_at_the_radius():
    geod = Geod(ellps="WGS84")
    for lat, radius_km in ((27.0, 10.0), (60.0, 250.0)):
        poly = pl.geodesic_discs([lat], [63.0], [radius_km])[0]
        lon, lat2 = np.asarray(poly.exterior.coords).T
        _, _, d = geod.inv(np.full(lon.size, 63.0), np.full(lon.size, lat), lon, lat2)
        assert np.allclose(d, radius_km * 1000, rtol=1e-3)
    assert pl.geodesic_discs([], [], []).size == 0


def test_safe_link_only_links_http_urls():
    assert pl._safe_link("https://example.org/x?a=1&b=2").startswith('<a href="https://example.org')
    assert "&amp;b=2" in pl._safe_link("https://example.org/x?a=1&b=2")
    js = pl._safe_link("javascript:alert(1)")
    assert "<a" not in js and js == "javascript:alert(1)"


def _layers_of(spec):
    return spec["layers"]


def test_precision_three_events_are_areas_and_others_are_icons():
    specs = pl.event_groups(_events(), ["strike", "retaliation"], discs=False)
    strike, retaliation = specs
    assert strike["name"].startswith("State strike (2)")
    kinds = [(layer.get("point"), layer["data"]["features"][0]["geometry"]["type"])
             for layer in _layers_of(strike)]
    assert kinds == [("icon", "Point")]
    (area,) = _layers_of(retaliation)
    assert area["data"]["features"][0]["geometry"]["type"] == "Polygon"
    assert area.get("point", "dot") != "icon"


def test_discs_option_adds_uncertainty_polygons():
    specs = pl.event_groups(_events(), ["strike"], discs=True)
    types = [layer["data"]["features"][0]["geometry"]["type"] for layer in specs[0]["layers"]]
    assert types == ["Polygon", "Point"]


def test_popups_and_tooltips_escape_untrusted_text():
    spec = pl.event_groups(_events(), ["strike", "retaliation"], discs=False)
    props = [f["properties"] for s in spec for layer in s["layers"]
             for f in layer["data"]["features"]]
    for p in props:
        assert "<img" not in p["pop"] and "<img" not in p["tip"]
        assert "&lt;img src=x onerror=alert(1)&gt;" in p["pop"]
    sabz = next(p for p in props if p["id"] == "EV0")
    assert '<a href="https://example.org/a"' in sabz["pop"]
    assert 'href="javascript' not in sabz["pop"]


def test_hexagon_aggregates_count_every_event_in_its_own_h3_cell():
    import h3

    from dashboard import enrich

    rng = np.random.default_rng(1)
    n = 5000
    lat, lon = rng.uniform(24, 32, n), rng.uniform(55, 70, n)
    cats = rng.choice(["strike", "attack", "<b>odd</b>"], n)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 30, n), unit="D")
    cells = enrich.h3_cells(lat, lon, 4, as_int=True)
    layer, legend = pl.hex_aggregates(cats, days, cells, ["strike", "attack", "<b>odd</b>"], 4)
    feats = layer["layers"][0]["data"]["features"]
    assert len(feats) == len(np.unique(cells))
    total = 0
    for f in feats:
        count = int(f["properties"]["tip"].split("</b>")[0].split("<b>")[1].split()[0]
                    .replace(",", ""))
        total += count
        ring = np.array(f["geometry"]["coordinates"][0])
        centre = shapely.Polygon(ring).representative_point()
        cell = h3.str_to_int(h3.latlng_to_cell(centre.y, centre.x, 4))
        assert count == int((cells == cell).sum())  # the polygon is the cell it counts
        assert "<b>odd</b>" not in f["properties"]["tip"]  # type labels are escaped
    assert total == n
    colours = [f["properties"]["style"]["fillColor"] for f in feats]
    assert set(colours) <= set(pl.HEX_COLOURS)
    assert all(label.endswith(" per hexagon") for _, label in legend)
    assert legend[0][1] == "1 event per hexagon" and legend[1][1].endswith("events per hexagon")
    html = pl.event_legend(["strike"], hexagons=legend)["layers"][0]["legend"]
    assert html.index("per hexagon") < html.index(pl.event_style("strike").label)


def test_hexagons_carry_their_events_per_day_for_play(monkeypatch):
    """Play on hexagons: every hexagon lists its event days and counts (what the browser adds
    up for a window); too many (hexagon, day) pairs turn Play off for the layer, not the map."""
    from dashboard import enrich, settings

    rng = np.random.default_rng(2)
    n = 3000
    lat, lon = rng.uniform(24, 32, n), rng.uniform(55, 70, n)
    cats = rng.choice(["strike", "attack"], n)
    days = pd.Series(pd.Timestamp("2023-12-20") + pd.to_timedelta(rng.integers(0, 40, n),
                                                                    unit="D"))
    days[:25] = pd.NaT  # unknown dates: in the total, never in a window
    cells = enrich.h3_cells(lat, lon, 3, as_int=True)
    layer, _ = pl.hex_aggregates(cats, days, cells, ["strike", "attack"], 3)
    spec = layer["layers"][0]
    assert spec["timed"] and spec["hexplay"]["play"] and spec["hexplay"]["res"] == 3
    assert spec["hexplay"]["breaks"] == sorted(spec["hexplay"]["breaks"])
    assert len(spec["hexplay"]["colours"]) == len(spec["hexplay"]["breaks"])
    epoch = pd.Timestamp("1970-01-01")
    seen = 0
    for f in spec["data"]["features"]:
        p = f["properties"]
        assert p["dk"] == sorted(set(p["dk"])) and len(p["dk"]) == len(p["dc"])
        ring = np.array(f["geometry"]["coordinates"][0])
        centre = shapely.Polygon(ring).representative_point()
        here = cells == enrich.h3_cells([centre.y], [centre.x], 3, as_int=True)[0]
        assert p["n"] == int(here.sum())
        want = days[here].dropna().map(lambda d: (d - epoch).days).value_counts().sort_index()
        d0 = spec["hexplay"]["d0"]
        assert [d0 + k for k in p["dk"]] == list(want.index)
        assert p["dc"] == list(want.to_numpy())
        seen += sum(p["dc"])
    assert seen == n - 25
    monkeypatch.setattr(settings, "PAGE_HEX_PLAY_PAIRS", 10)
    layer, _ = pl.hex_aggregates(cats, days, cells, ["strike", "attack"], 3)
    spec = layer["layers"][0]
    assert not spec["timed"] and not spec["hexplay"]["play"]
    assert all("dk" not in f["properties"] for f in spec["data"]["features"])


def test_hex_breaks_start_at_one_and_rise():
    assert pl.hex_breaks(1) == [1]
    b = pl.hex_breaks(5000)
    assert b[0] == 1 and b == sorted(set(b)) and b[-1] <= 5000 and len(b) <= len(pl.HEX_COLOURS)


def test_provinces_emphasise_the_two_baloch_provinces():
    prov = gpd.GeoDataFrame(
        {"iso_3166_2": ["PK-BA", "IR-13", "IR-15"], "name": ["Balochistan", "Sistan", "Kerman"],
         "country": ["Pakistan", "Iran", "Iran"], "country_iso_a3": ["PAK", "IRN", "IRN"]},
        geometry=[Polygon([(0, 0), (1, 0), (1, 1)]), Polygon([(2, 0), (3, 0), (3, 1)]),
                  Polygon([(4, 0), (5, 0), (5, 1)])], crs="EPSG:4326",
    )
    spec = pl.provinces_group(prov)
    outlines, labels = spec["layers"]
    styled = [bool(f["properties"]["style"]) for f in outlines["data"]["features"]]
    assert styled == [True, True, False]
    assert [f["properties"]["label"] for f in labels["data"]["features"]] == [
        "Balochistan (PAK)", "Sistan (IRN)"]


def test_to_group_renders_specs_without_cdn():
    import folium

    from dashboard.mapview import base_map

    m = base_map()
    for spec in [pl.border_group(LineString([(61, 29), (62, 25)]), {"length_km": 816.6}),
                 *pl.event_groups(_events(), ["strike"]), pl.event_legend(["strike"])]:
        pl.to_group(spec).add_to(m)
    folium.LayerControl().add_to(m)
    html = m.get_root().render()
    assert "816.6 km" in html
    assert "https://cdn" not in html and "jquery" not in html.lower()


def test_tiles_group_is_none_for_the_offline_basemap():
    assert pl.tiles_group("Vector land (offline)") is None
    spec = pl.tiles_group("OpenStreetMap (online)")
    assert spec["layers"][0]["tiles"].startswith("https://tile.openstreetmap.org")


@pytest.mark.parametrize("n", [0])
def test_event_groups_with_no_events(n):
    specs = pl.event_groups(_events().iloc[:n], ["strike"])
    assert specs[0]["name"].endswith("(0)") and specs[0]["layers"] == []


def test_events_at_one_place_are_spread_apart():
    ev = _events(3, precision=(1, 1, 1))
    ev.geometry = [Point(62.3342, 27.3708)] * 2 + [Point(64.1, 26.97)]
    groups = pl.event_groups(ev, ["strike", "retaliation"], discs=False)
    props = [f["properties"] for g in groups for layer in g["layers"]
             for f in layer["data"]["features"] if f["properties"].get("ev")]
    offsets = {(p["dx"], p["dy"]) for p in props if p["id"] in ("EV0", "EV1")}
    assert len(offsets) == 2 and (0, 0) not in offsets  # side by side, not on top
    alone = next(p for p in props if p["id"] == "EV2")
    assert (alone["dx"], alone["dy"]) == (0, 0)
    assert all(p["day"] == "2024-01-16" for p in props)
    assert all(layer.get("timed") for g in groups for layer in g["layers"])


def test_minor_place_labels_are_hidden_until_zoomed_in_and_kept_off_the_border():
    assert pl.label_class("capital") == "" and pl.label_class("town") == "dash-min7"
    # Zahedan lies ~25 km west of the border in Iran: its label goes left, away from the line
    assert pl.label_sides([29.4958, 30.2], [60.8628, 67.0]) == ["left", "right"]


def test_measured_path_has_its_own_style_and_legend_entry():
    spec = pl.measure_group([(26.5, 63.5, "A"), (27.0, 62.0, "B")],
                            LineString([(63.5, 26.5), (62.0, 27.0)]), "A → B")
    colours = {layer["style"].get("color") for layer in spec["layers"]}
    assert pl.MEASURE_COLOUR in colours
    legend = pl.event_legend(["strike"], measured=True)["layers"][0]["legend"]
    assert "Measured path" in legend
    assert "Measured path" not in pl.event_legend(["strike"])["layers"][0]["legend"]


def _px_box(point, text, zoom, margin=0.0):
    """The pixel box of a label centred on ``point`` at ``zoom`` (the page's geometry)."""
    from pyproj import Transformer

    merc_r = 20037508.342789244  # EPSG:3857 half-width: an independent check of the placement
    t = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    scale = 256 * 2 ** zoom / (2 * merc_r)
    mx, my = t.transform(point.x, point.y)
    cx, cy = (mx + merc_r) * scale, (merc_r - my) * scale
    lines = text.split("\n")
    w = max(pl._text_px(line) for line in lines) + 2 * margin
    h = pl._BIG_LABEL_LINE_PX * len(lines) + 2 * margin
    box = shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)

    def to_lonlat(xy):
        lon, lat = t.transform(xy[:, 0] / scale - merc_r, merc_r - xy[:, 1] / scale,
                               direction="INVERSE")
        return np.column_stack([lon, lat])

    return shapely.transform(box, to_lonlat)


def test_province_labels_fit_inside_their_province_and_off_the_border_at_the_default_zoom():
    from dashboard import layers, page_events

    zoom = page_events.border_view()[1]
    provinces = layers.load_provinces()
    hot = provinces[provinces["iso_3166_2"].isin(pl.EMPHASISED_PROVINCES)]
    names = [f"{n} ({c})" for n, c in zip(hot["name"], hot["country_iso_a3"], strict=True)]
    points, texts = pl.fit_area_labels(list(hot.geometry), names, zoom)
    border = layers.load_border().geometry
    for geom, point, text, name in zip(hot.geometry, points, texts, names, strict=True):
        assert text.replace("\n", " ") == name  # wrapped, never cut
        box = _px_box(point, text, zoom)
        assert geom.contains(box), name
        assert not box.intersects(border), name
    assert "\n" in texts[list(hot["iso_3166_2"]).index("IR-13")]  # too wide for one line
    spec = pl.provinces_group(provinces, label_zoom=zoom)
    labels = [f["properties"] for lyr in spec["layers"] for f in lyr["data"]["features"]
              if f["properties"].get("label")]
    assert {p["label_side"] for p in labels} == {"center"}
    assert any("<br>" in p["label"] for p in labels)


def test_an_area_too_small_for_its_label_keeps_its_point_on_surface():
    tiny = Polygon([(60, 27), (60.01, 27), (60.01, 27.01), (60, 27.01)])
    points, texts = pl.fit_area_labels([tiny], ["A very long province name"], 6)
    assert texts == ["A very long province name"]
    assert tiny.contains(points[0])


def test_label_lines_are_escaped_one_by_one():
    data = pl._labels(np.array([Point(60, 27)], dtype=object), [f"{XSS}\n(IRN)"], side="center")
    label = data["features"][0]["properties"]["label"]
    assert label == "&lt;img src=x onerror=alert(1)&gt;<br>(IRN)"
    assert data["features"][0]["properties"]["label_side"] == "center"
