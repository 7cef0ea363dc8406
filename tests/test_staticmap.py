"""Tests for dashboard/staticmap.py: the publication map (PNG/SVG/PDF) drawn on the server."""

from __future__ import annotations

import datetime as dt
import io
import math
import subprocess
import sys
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image
from pyproj import Proj

from dashboard import filters, geodesy, settings, staticmap
from dashboard.errors import BadParameter
from dashboard.mapview import EVENT_STYLES, LAND_COLOUR

SVG_NS = "{http://www.w3.org/2000/svg}"


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _count(img: np.ndarray, colour: str, tol: int = 0) -> int:
    diff = np.abs(img.astype(int) - np.array(_rgb(colour))).max(axis=2)
    return int((diff <= tol).sum())


def _svg_texts(svg: bytes) -> str:
    root = ET.fromstring(svg)  # raises if the SVG is not well-formed XML
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG_NS}text"))


def sample_events() -> gpd.GeoDataFrame:
    """Six events in the event model's columns (independent of the curated catalogue): four in
    the default map extent (two of them at one place), two outside it."""
    rows = [
        ("T-1", "2023-12-15", "attack", "Rask", 26.2364, 61.3997, 3.0),
        ("T-2", "2024-01-16", "strike", "Sabz Koh", 26.3727, 63.4882, 20.0),
        ("T-3", "2024-01-18", "retaliation", "Border village near Saravan", 27.3708, 62.3342,
         25.0),
        ("T-4", "2024-01-27", "attack", "Saravan", 27.3708, 62.3342, 3.0),
        ("T-5", "2024-01-12", "strike", "Sanaa", 15.3547, 44.2066, 150.0),
        ("T-6", "2024-01-17", "diplomatic", "Beijing", 39.9042, 116.4074, 10.0),
    ]
    df = pd.DataFrame(rows, columns=["event_id_cnty", "event_date", "category", "location",
                                     "latitude", "longitude", "uncertainty_km"])
    df["event_date"] = pd.to_datetime(df["event_date"])
    df["sources"] = [[f"https://example.org/{i}", "https://example.org/shared"] for i in range(6)]
    df["event_type"] = "Explosions/Remote violence"
    df["sub_event_type"] = "Air/drone strike"
    df["country"] = "Iran"
    df["fatalities"] = 0
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["longitude"], df["latitude"]),
                            crs="EPSG:4326")


@pytest.fixture(scope="module")
def curated() -> gpd.GeoDataFrame:
    return sample_events()


@pytest.fixture(scope="module")
def full_png(curated: gpd.GeoDataFrame) -> bytes:
    return staticmap.render_map(curated, fmt="png")


def test_png_is_1600_px_wide_and_shows_land_border_and_events(full_png: bytes) -> None:
    img = _pixels(full_png)
    height, width, _ = img.shape
    assert width == 1600 and height > 900
    colours = np.unique(img.reshape(-1, 3), axis=0)
    assert len(colours) > 1000  # a drawn map, not a blank or flat picture
    assert _count(img, LAND_COLOUR) > 0.05 * width * height
    # marker interiors are drawn in the page's exact event colours
    for cat in ("strike", "retaliation", "attack"):
        assert _count(img, EVENT_STYLES[cat].color) > 40, cat


def test_svg_parses_and_carries_the_title_dates_and_sources(curated: gpd.GeoDataFrame) -> None:
    svg = staticmap.render_map(curated, fmt="svg", title="Strikes across the border")
    text = _svg_texts(svg)
    assert "Strikes across the border" in text
    assert "15 Dec 2023 – 27 Jan 2024" in text
    assert "Natural Earth" in text and "WGS84" in text
    assert "4 events on this map; 2 more outside it" in text  # Sanaa and Beijing are outside
    assert "6 records citing 7 sources" in text
    assert "State strike" in text or EVENT_STYLES["strike"].label in text


def test_pdf_is_a_pdf(curated: gpd.GeoDataFrame) -> None:
    pdf = staticmap.render_map(curated, fmt="pdf", width_px=800)
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")


def test_filters_change_the_picture(curated: gpd.GeoDataFrame, full_png: bytes) -> None:
    strikes = filters.apply(curated, filters.EventFilter(categories=("strike",)))
    png = staticmap.render_map(strikes, fmt="png")
    full, only = _pixels(full_png), _pixels(png)
    attack = EVENT_STYLES["attack"].color
    assert _count(full, attack) > 40 and _count(only, attack) == 0
    assert _count(only, EVENT_STYLES["strike"].color) > 40
    dated = filters.apply(curated, filters.EventFilter(start=dt.date(2024, 1, 20)))
    text = _svg_texts(staticmap.render_map(dated, fmt="svg", start=dt.date(2024, 1, 20),
                                           end=dt.date(2024, 1, 31), width_px=800))
    assert "20 Jan 2024 – 31 Jan 2024" in text and "1 event on this map" in text
    assert "outside" not in text and "27 Jan · Saravan" in text


def test_hostile_names_are_drawn_literally(curated: gpd.GeoDataFrame) -> None:
    ev = curated[curated["event_id_cnty"] == "T-2"].copy()
    hostile = "$\\alpha$ <script>alert(1)</script> & $x"
    ev["location"] = hostile
    ev["category"] = "$\\beta$ <img src=x>"  # an unknown category names a legend entry
    svg = staticmap.render_map(ev, fmt="svg", title="<b>$5 & $6</b>", width_px=800)
    root = ET.fromstring(svg)
    assert not list(root.iter(f"{SVG_NS}script")) and not list(root.iter("script"))
    text = _svg_texts(svg)
    assert "16 Jan · $\\alpha$ <script>alert(1)</" in text  # the label, shortened, verbatim
    assert "<b>$5 & $6</b>" in text
    assert "$\\beta$ <img src=x>" in text
    png = staticmap.render_map(ev, fmt="png", title="unbalanced $ sign", width_px=800)
    assert png.startswith(b"\x89PNG")


def test_events_at_one_place_are_both_visible(curated: gpd.GeoDataFrame) -> None:
    saravan = curated[curated["event_id_cnty"].isin(["T-3", "T-4"])]
    assert saravan[["latitude", "longitude"]].drop_duplicates().shape[0] == 1
    img = _pixels(staticmap.render_map(saravan, fmt="png", discs=False))
    assert _count(img, EVENT_STYLES["retaliation"].color) > 40
    assert _count(img, EVENT_STYLES["attack"].color) > 40


def test_no_events_still_draws_the_map_and_says_so() -> None:
    empty = sample_events().iloc[0:0]
    svg = staticmap.render_map(empty, fmt="svg", start=dt.date(2030, 1, 1),
                               end=dt.date(2030, 1, 2), width_px=800)
    assert "no events match the filters" in _svg_texts(svg)
    img = _pixels(staticmap.render_map(None, fmt="png", width_px=800))
    assert _count(img, LAND_COLOUR) > 0.05 * img.shape[0] * img.shape[1]


def test_layers_can_be_left_out(curated: gpd.GeoDataFrame) -> None:
    img = _pixels(staticmap.render_map(curated, fmt="png", layers={"border", "countries"},
                                       width_px=800))
    assert _count(img, LAND_COLOUR) == 0
    text = _svg_texts(staticmap.render_map(curated, fmt="svg", layers={"border"}, width_px=800))
    assert "Iran–Pakistan border" in text and "Place" not in text.split("Sources")[0]


def test_many_events_render_without_discs_and_say_so() -> None:
    n = settings.STATIC_MAP_MAX_DISCS + 100
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(25, 30, n), rng.uniform(58, 66, n)
    ev = gpd.GeoDataFrame({"latitude": lat, "longitude": lon, "category": "attack",
                           "event_date": pd.Timestamp("2024-01-10"), "location": "x",
                           "uncertainty_km": 5.0}, geometry=gpd.points_from_xy(lon, lat),
                          crs="EPSG:4326")
    text = _svg_texts(staticmap.render_map(ev, fmt="svg", width_px=800))
    assert f"{n:,} events on this map" in text
    assert "Uncertainty discs are drawn for up to" in text


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"fmt": "gif"}, "format"),
    ({"width_px": 100}, "width"),
    ({"bounds": (68, 24, 56, 32)}, "MIN_LON < MAX_LON"),
    ({"bounds": (56, 32, 68, 24)}, "MIN_LAT < MAX_LAT"),
    ({"bounds": (56, 24, 68)}, "four numbers"),
    ({"bounds": (56, 24, 68, float("nan"))}, "four numbers"),
    ({"layers": {"tiles"}}, "Unknown map layer"),
    ({"start": dt.date(2024, 2, 1), "end": dt.date(2024, 1, 1)}, "after the end date"),
])
def test_bad_options_are_one_sentence(kwargs: dict, words: str) -> None:
    with pytest.raises(BadParameter, match=words.replace("(", r"\(")) as err:
        staticmap.render_map(None, **kwargs)
    assert "\n" not in str(err.value)


def test_scale_bar_length_is_geodesic() -> None:
    frame = staticmap.map_frame(staticmap.DEFAULT_BOUNDS)
    x, y = frame.x0 + frame.width * 0.035, frame.y0 + frame.height * 0.05
    length_km, map_len, lat = staticmap.scale_bar_geometry(frame, x, y)
    assert length_km in (100.0, 200.0, 500.0)
    lon1, lat1 = frame.lonlat(x, y)
    lon2, lat2 = frame.lonlat(x + map_len, y)
    measured_km = float(geodesy.inverse(lat1, lon1, lat2, lon2)[0]) / 1000
    assert measured_km == pytest.approx(length_km, rel=2e-3)
    # a bar sized in degrees of longitude at the equator would be ~10 % off at this latitude
    assert abs(math.cos(math.radians(lat)) - 1) > 0.08


@pytest.mark.parametrize(("max_km", "nice"), [(0.7, 0.5), (1, 1), (1.9, 1), (2, 2), (4.99, 2),
                                              (5, 5), (9.9, 5), (10, 10), (237, 200),
                                              (999, 500), (1200, 1000)])
def test_nice_length(max_km: float, nice: float) -> None:
    assert staticmap.nice_length_km(max_km) == nice


@given(st.floats(min_value=1e-3, max_value=1e5, allow_nan=False, allow_infinity=False))
def test_nice_length_is_a_round_number_close_below(max_km: float) -> None:
    nice = staticmap.nice_length_km(max_km)
    assert nice <= max_km * (1 + 1e-9) and max_km < 2.5 * nice * (1 + 1e-9)
    mantissa = nice / 10 ** math.floor(math.log10(nice))
    assert round(mantissa, 9) in (1.0, 2.0, 5.0)


_FRAME = staticmap.map_frame(staticmap.DEFAULT_BOUNDS)


@hypothesis_settings(deadline=None)
@given(st.floats(min_value=56.5, max_value=67.5), st.floats(min_value=24.5, max_value=31.5))
def test_map_projection_round_trips(lon: float, lat: float) -> None:
    frame = _FRAME
    x, y = frame.project(lon, lat)
    back = frame.lonlat(float(x), float(y))
    assert back == pytest.approx((lon, lat), abs=1e-9)
    assert frame.x0 <= x <= frame.x1 and frame.y0 <= y <= frame.y1


def test_north_arrow_follows_meridian_convergence() -> None:
    bounds = (56.0, 24.0, 68.0, 32.0)
    frame = staticmap.map_frame(bounds)
    proj = Proj(frame.crs)
    for lon, lat in ((62.0, 28.0), (67.0, 31.0), (56.5, 25.0)):
        x, y = frame.project(lon, lat)
        angle = staticmap.north_angle_deg(frame, float(x), float(y))
        expected = proj.get_factors(lon, lat).meridian_convergence
        assert angle == pytest.approx(expected, abs=0.02)
    x, y = frame.project(67.0, 31.0)
    assert staticmap.north_angle_deg(frame, float(x), float(y)) > 1.0  # meridians converge


def test_uncertainty_discs_are_geodesic_circles() -> None:
    lons, lats, radii = np.array([62.3342, 44.2]), np.array([27.3708, 15.35]), np.array([25, 150])
    circles = staticmap.geodesic_circles(lons, lats, radii)
    for circle, lon, lat, r in zip(circles, lons, lats, radii, strict=True):
        ring = np.asarray(circle.exterior.coords)
        d = geodesy.inverse(np.full(len(ring), lat), np.full(len(ring), lon), ring[:, 1],
                            ring[:, 0])[0]
        assert np.allclose(d, r * 1000, atol=1e-3)  # every vertex exactly r from the centre
        # a true circle, not a degree ellipse: ~π r² within 0.2 % (the 512-gon is inscribed)
        assert geodesy.area_m2(circle) == pytest.approx(math.pi * (r * 1000) ** 2, rel=2e-3)
    across = staticmap.geodesic_circles([179.9], [0.0], [50])
    assert across[0] is None and shapely.is_valid(circles).all()


def test_output_is_reproducible(curated: gpd.GeoDataFrame) -> None:
    a = staticmap.render_map(curated, fmt="svg", width_px=800)
    b = staticmap.render_map(curated, fmt="svg", width_px=800)
    assert a == b


def test_importing_the_module_pulls_in_neither_streamlit_nor_folium() -> None:
    code = ("import sys, dashboard.staticmap; "
            "print(sorted(m for m in ('streamlit', 'folium') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
