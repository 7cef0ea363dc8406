"""Enrichment (dashboard/enrich.py): each column equals the core function it comes from."""

from __future__ import annotations

from pathlib import Path

import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from dashboard import analysis, columnar, enrich, geodesy, layers, settings, sites
from dashboard import events as model
from dashboard.errors import BadParameter, DataError


@pytest.fixture(scope="module")
def spec() -> enrich.EnrichSpec:
    return enrich.make_spec(["border:45", "PK-BA:25,50"], "4,9")


@pytest.fixture(scope="module")
def points() -> pd.DataFrame:
    """Curated events plus points near the border, in the sea, far away and exactly on a
    named place."""
    curated = model.load_curated_events()
    rng = np.random.default_rng(5)
    border = np.asarray(layers.load_border().geometry.coords)
    near = border[rng.integers(0, len(border), 40)] + rng.normal(0, 0.05, (40, 2))
    place = next(s for s in sites.known_sites() if s.kind == "place")
    extra = pd.DataFrame({"event_id_cnty": [f"N{i}" for i in range(43)],
                          "event_date": "2024-01-18",
                          "longitude": [*near[:, 0], 62.0, 10.0, place.lon],
                          "latitude": [*near[:, 1], 23.0, 50.0, place.lat]})
    return model.normalise(pd.concat([pd.DataFrame(curated), extra], ignore_index=True))


def test_columns_equal_the_core_functions(points: pd.DataFrame,
                                          spec: enrich.EnrichSpec) -> None:
    out = enrich.enrich_frame(points, spec)
    assert list(out.columns[:len(points.columns)]) == list(points.columns)
    assert list(out.columns[len(points.columns):]) == enrich.enriched_columns(spec)
    lat, lon = points["latitude"].to_numpy(), points["longitude"].to_numpy()
    ref = analysis.distance_to_border(lat, lon)
    assert np.array_equal(out["border_distance_km"].to_numpy(), ref["distance_m"] / 1000.0)
    assert out["border_side"].tolist() == ref["side"].tolist()
    assert np.array_equal(out["border_nearest_lat"], ref["nearest_lat"])
    assert np.array_equal(out["border_nearest_lon"], ref["nearest_lon"])
    # admin-1 by brute force: the provinces whose polygon covers the point
    prov = layers.load_provinces(settings.GEODATA_DIR)
    for i, (la, lo) in enumerate(zip(lat, lon, strict=True)):
        hits = sorted(c for c, g in zip(prov["iso_3166_2"], prov.geometry, strict=True)
                      if g.intersects(Point(lo, la)))
        assert out["admin1_code"].iloc[i] == (hits[0] if hits else "")
        site, dist_m = sites.nearest_site(la, lo)
        assert out["nearest_site_id"].iloc[i] == site.id
        assert out["nearest_site_km"].iloc[i] == dist_m / 1000.0
        for r in spec.h3_resolutions:
            assert out[f"h3_r{r}"].iloc[i] == h3.latlng_to_cell(la, lo, r)
    for buf in spec.buffers:
        ring = analysis.buffer_target(buf.target, [buf.radius_km]).geometry.iloc[0]
        assert out[buf.column].tolist() == [ring.contains(Point(x, y)) for x, y in
                                            zip(lon, lat, strict=True)]
    assert out["nearest_site_km"].iloc[-1] == 0.0  # a point on a named place
    assert out["admin1_code"].iloc[-2] == ""  # Germany: outside every province layer row
    assert {"Iran", "Pakistan"} <= set(out["border_side"])
    assert out["within_border_45km"].any() and not out["within_border_45km"].all()


def test_nearest_site_bound_never_changes_the_answer() -> None:
    """The sphere pre-ranking picks exactly the brute-force nearest place (same distance,
    to the last bit), worldwide and next to places (where ties are close)."""
    rng = np.random.default_rng(9)
    places = [s for s in sites.known_sites() if s.kind == "place"]
    plat = np.array([s.lat for s in places])
    plon = np.array([s.lon for s in places])
    lat = np.concatenate([rng.uniform(-89.9, 89.9, 3000), rng.uniform(22, 34, 3000),
                          plat + rng.normal(0, 0.01, len(plat))])
    lon = np.concatenate([rng.uniform(-180, 180, 3000), rng.uniform(55, 72, 3000),
                          plon + rng.normal(0, 0.01, len(plon))])
    ids, km = enrich._nearest_site(lat, lon)
    full = geodesy.inverse(lat[:, None], lon[:, None], plat[None, :], plon[None, :])[0]
    j = np.argmin(full, axis=1)
    assert ids.tolist() == [places[i].id for i in j]
    assert np.array_equal(km, full[np.arange(len(lat)), j] / 1000.0)


def test_rows_without_coordinates_get_empty_values(spec: enrich.EnrichSpec) -> None:
    frame = model.normalise(pd.DataFrame({"event_id_cnty": ["a", "b"],
                                          "event_date": ["2024-01-16", "2024-01-17"],
                                          "latitude": [np.nan, 26.0],
                                          "longitude": [62.0, 62.5]}))
    out = enrich.enrich_frame(frame, spec)
    assert np.isnan(out.loc[0, "border_distance_km"]) and out.loc[0, "border_side"] == ""
    assert out.loc[0, "h3_r9"] == "" and not out.loc[0, "within_border_45km"]
    assert out.loc[1, "border_side"] in ("Iran", "Pakistan")
    empty = enrich.enrich_frame(frame.iloc[:0], spec)
    assert list(empty.columns) == list(out.columns) and len(empty) == 0


def test_partitioning_does_not_change_the_result(tmp_path: Path) -> None:
    """One partition or many, file or partitioned folder: the same output."""
    events = model.load_curated_events()
    src = tmp_path / "e.parquet"
    columnar.write_geoparquet(events, src)
    folder = tmp_path / "by-country"
    columnar.write_dataset(events, folder, partition_by="country")
    spec = enrich.make_spec(["border:45"], "5")
    outs = []
    for inp, rows in ((src, 1000), (src, 3), (folder, 4)):
        out = tmp_path / f"out-{len(outs)}.parquet"
        report = enrich.run(inp, out, spec=spec, partition_rows=rows)
        assert report.rows == len(events) and report.no_coordinates == 0
        outs.append(columnar.read_geoparquet(out).sort_values("event_id_cnty")
                    .reset_index(drop=True))
    assert enrich.run(src, tmp_path / "p.parquet", spec=spec, partition_rows=3).partitions \
        == -(-len(events) // 3)
    for other in outs[1:]:
        pd.testing.assert_frame_equal(pd.DataFrame(outs[0]), pd.DataFrame(other),
                                      check_exact=True)


def test_parsers_reject_bad_input_in_one_sentence() -> None:
    assert enrich.parse_h3("9, 5,5") == (5, 9)
    for bad in ("16", "x", "", "1,2,3,4,5,6,7", "-1"):
        with pytest.raises(BadParameter):
            enrich.parse_h3(bad)
    for bad in ("border", ":45", "border:0", "border:abc"):
        with pytest.raises(BadParameter):
            enrich.parse_buffer(bad)
    flags = enrich.parse_buffer("Sistan and Baluchestan:10,20.5")
    assert [f.column for f in flags] == ["within_sistan_and_baluchestan_10km",
                                         "within_sistan_and_baluchestan_20_5km"]


def test_worker_with_other_geodata_is_refused(points: pd.DataFrame) -> None:
    """A spec made with other geodata (as on a mismatched worker) stops with one sentence."""
    other = enrich.EnrichSpec((5,), (), ("border sha256:000000000000",) * 4)
    with pytest.raises(DataError, match="different geodata"):
        enrich.enrich_frame(points.iloc[:2], other)


def test_buffer_flag_uses_contains_xy_on_the_geodesic_buffer() -> None:
    """The flag polygon is the very buffer analysis.buffer_target returns."""
    (flag,) = enrich.parse_buffer("border:45")
    ring = analysis.buffer_target("border", [45]).geometry.iloc[0]
    assert shapely.equals_exact(shapely.from_wkb(flag.wkb), ring, tolerance=0)
