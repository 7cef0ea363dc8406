"""Map builder: offline assets, palette and shapes, escaping, fitting views, standalone export."""

import re
from pathlib import Path

import pytest

from dashboard import mapview as mv

XSS = "<img src=x onerror=alert(1)> ${alert(2)} `x` \\"


def test_esc_neutralises_html_and_js_template_syntax():
    out = mv.esc(XSS)
    for bad in ("<", ">", "`", "$", "\\"):
        assert bad not in out
    assert out.startswith("&lt;img src=x onerror=alert(1)&gt;")
    assert mv.esc(None) == "" and mv.esc(float("nan")) == ""


def test_base_map_loads_leaflet_only_from_the_app():
    html = mv.base_map().get_root().render()
    srcs = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)
    assert srcs, "expected Leaflet links"
    assert all(s.startswith(("/app/static/leaflet/", "/app/static/dash/")) for s in srcs), srcs
    for name in (mv.LEAFLET_JS, mv.TIMEPLAY_JS, mv.VIEW_JS):
        assert (mv.STATIC_DIR / name).is_file()
        assert "http" not in re.sub(r"http://www\.w3\.org/2000/svg", "",
                                    (mv.STATIC_DIR / name).read_text()[3000:]) or name == \
            mv.LEAFLET_JS
    assert "cdn" not in html.lower() and "jquery" not in html.lower()


def test_static_leaflet_matches_the_xstatic_package():
    xs = pytest.importorskip("xstatic.pkg.leaflet")
    src = Path(xs.BASE_DIR)
    for name in ("leaflet.js", "leaflet.css", "images/layers.png"):
        assert (mv.STATIC_DIR / "leaflet" / name).read_bytes() == (src / name).read_bytes()
    assert "Leaflet 1.9.3" in (mv.STATIC_DIR / mv.LEAFLET_JS).read_text()[:200]


def test_every_category_has_an_okabe_ito_style_unique_by_shape_and_colour():
    from dashboard import events

    assert set(mv.EVENT_STYLES) == set(events.CATEGORIES)
    styles = [s for k, s in mv.EVENT_STYLES.items() if k != "other"]
    assert all(s.color in mv.OKABE_ITO.values() for s in styles)
    assert len({(s.color, s.shape) for s in mv.EVENT_STYLES.values()}) == len(mv.EVENT_STYLES)
    assert len({s.label for s in mv.EVENT_STYLES.values()}) == len(mv.EVENT_STYLES)
    assert all(s.shape in mv._SHAPES for s in mv.EVENT_STYLES.values())


def test_base_map_carries_the_time_control_and_no_data():
    html = mv.base_map().get_root().render()
    assert "L.control.dashTime(" in html
    assert "2024-" not in html  # the control animates whatever event layers arrive later


def test_timed_and_offset_layers_render_their_flags():
    layer = mv.GeoJsonLayer({"type": "FeatureCollection", "features": []}, point="icon",
                            icon_html="<svg/>", timed=True, focus="EV1")
    m = mv.base_map()
    layer.add_to(m)
    html = m.get_root().render()
    assert "._dashTime = true" in html and '._dashFocus = "EV1"' in html
    assert "iconAnchor: [s / 2 - dx, s / 2 - dy]" in html


def test_unknown_types_get_distinct_fallback_styles_and_escaped_labels():
    known = ["strike", "zeta", "alpha"]
    a, z = mv.event_style("alpha", known), mv.event_style("zeta", known)
    assert (a.color, a.shape) != (z.color, z.shape)
    assert a.label == "Alpha"


def test_shape_svg_differs_by_shape_and_escapes_label():
    svgs = {mv.shape_svg(s, "#000") for s in mv._SHAPES}
    assert len(svgs) == len(mv._SHAPES)
    assert "&lt;b&gt;" in mv.shape_svg("circle", "#000", label="<b>")


def test_bounds_view_fits_the_box():
    (lat, lon), zoom = mv.bounds_view(25.0, 60.8, 29.9, 63.4, width_px=900, height_px=620)
    assert 25 < lat < 30 and 60.8 < lon < 63.4
    assert 6 <= zoom <= 8
    (_, _), world = mv.bounds_view(-60, -180, 80, 180)
    assert world < zoom


def test_standalone_html_inlines_leaflet_and_works_without_the_server():
    html = mv.standalone_html([], center=(28.0, 62.0), zoom=6)
    assert "/app/static" not in html
    assert "Leaflet 1.9.3" in html and ".leaflet-container" in html
    assert not re.search(r'<script[^>]+src="http', html)


def test_legend_escapes_labels():
    body = mv.legend_html([("<svg></svg>", "<script>x</script>")], title="T&T")
    assert "<script>" not in body and "&lt;script&gt;" in body and "T&amp;T" in body


def test_view_size_px_inverts_view_bounds():
    """The page sizes a view it moves to like the view the map reported last."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=200, deadline=None)
    @given(lat=st.floats(-60, 60), lon=st.floats(-150, 150), zoom=st.integers(3, 14),
           w=st.integers(200, 1600), h=st.integers(200, 1200))
    def check(lat, lon, zoom, w, h):
        bounds = mv.view_bounds((lat, lon), zoom, width_px=w, height_px=h)
        if bounds[0] <= -180 or bounds[2] >= 180 or bounds[1] <= -85 or bounds[3] >= 85:
            return  # clipped at the edge of the world: no longer the map's size
        assert mv.view_size_px(bounds, zoom) == (w, h)

    check()


def test_world_pixels_are_web_mercator_and_invert():
    import numpy as np
    from pyproj import Transformer

    from dashboard.mapview import world_lonlat, world_px

    lon = np.array([-180.0, -12.5, 0.0, 62.58, 179.9])
    lat = np.array([-80.0, 0.0, 27.6, 33.7, 85.0])
    x, y = world_px(lon, lat, 6)
    r = 20037508.342789244
    mx, my = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(lon, lat)
    size = 256 * 2 ** 6
    assert np.allclose(x, (mx + r) / (2 * r) * size, atol=1e-6)
    assert np.allclose(y, (r - my) / (2 * r) * size, atol=1e-6)
    back = world_lonlat(x, y, 6)
    assert np.allclose(back[0], lon, atol=1e-9) and np.allclose(back[1], lat, atol=1e-9)


def test_world_box_keeps_a_view_on_one_world():
    """A view box as Leaflet reports it, for the server-side pictures: unchanged inside the
    world, shifted back after a pan across the antimeridian, cut at ±180°/±85°."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    assert mv.world_box((58.0, 23.0, 66.0, 31.0)) == (58.0, 23.0, 66.0, 31.0)
    assert mv.world_box((420.0, 23.0, 428.0, 31.0)) == (60.0, 23.0, 68.0, 31.0)  # one turn east
    assert mv.world_box((-250.0, -89.0, 250.0, 89.0)) == (-180.0, -85.0, 180.0, 85.0)
    assert mv.world_box((10.0, 86.0, 20.0, 88.0)) is None  # wholly beyond 85°N
    assert mv.world_box((float("nan"), 0.0, 1.0, 1.0)) is None

    @settings(max_examples=300, deadline=None)
    @given(lon=st.floats(-1000, 1000), lat=st.floats(-84, 84),
           span=st.floats(0.01, 400), height=st.floats(0.01, 60))
    def check(lon, lat, span, height):
        box = mv.world_box((lon, lat, lon + span, lat + height))
        if box is None:
            return
        w, s, e, n = box
        assert -180 <= w < e <= 180 and -85 <= s < n <= 85
        assert e - w <= span + 1e-6  # cut, never widened
        # the middle lies where the view's middle was, give or take whole turns
        turns = ((lon + span / 2) - (w + e) / 2) / 360
        assert abs(turns - round(turns)) < 1e-6 or span > 360 - 1e-6 or w == -180 or e == 180

    check()
