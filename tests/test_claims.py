"""Tests for dashboard/claims.py: the article's claims against measured values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard import claims, layers, settings


@pytest.fixture(scope="module")
def results() -> dict[str, claims.ClaimResult]:
    return {r.id: r for r in claims.check_claims()}


def test_border_lengths_are_not_testable_and_show_the_sourced_spread(results):
    border_rows = [r for r in results.values() if r.id.startswith("border-length")]
    assert len(border_rows) >= 8
    km = layers.load_border().length_m / 1000
    for r in border_rows:
        assert r.verdict == claims.NOT_TESTABLE, r.id
        assert "shorter" not in r.verdict and "longer" not in r.verdict
        assert r.source
        assert "International boundary (verify)" in r.data
        assert "from 750 to 959 km" in r.note and "generalised" in r.note
    assert results["border-length-km"].measured == pytest.approx(km, abs=1e-3)
    miles = results["border-length-miles"]
    assert miles.measured == pytest.approx(km / 1.609344, abs=1e-3)
    claimed = {r.claimed for r in border_rows if r.unit == "km"}
    assert {750, 830.6, 909, 928, 959} <= claimed
    # every published figure but the seed article's carries a link to its source
    assert all(r.url.startswith("http") for r in border_rows
               if "Seed article" not in r.source)


def test_sabz_koh_claims_use_the_constraint_check_and_show_both_readings(results):
    straight, road = results["sabz-koh-panjgur"], results["sabz-koh-panjgur-road"]
    assert "(straight)" in straight.constraint and "(road)" in road.constraint
    assert "straight-line ≤ 105 km" in road.constraint
    assert straight.constraint_check.startswith("sabz-koh: ")
    for r in (straight, road, results["sabz-koh-border"]):
        assert r.verdict in ("consistent", "consistent within the site's uncertainty"), r.id
        names = [x["reading"] for x in r.readings]
        assert names == ["straight-line", "road"]
        for x in r.readings:
            assert 0.0 <= x["disc_share"] <= 1.0 and x["area_km2"] > 100
        assert "Both readings" in r.note and "inferred" in r.note
    road_area = road.readings[1]["area_km2"]
    assert road_area > road.readings[0]["area_km2"]  # the road reading allows more ground


def test_constraint_verdict_follows_the_mechanism(tmp_path: Path, results):
    """A claim whose constraint the place's disc cannot reach is 'inconsistent'."""
    src = json.loads((settings.GEODATA_DIR / "claims.json").read_text(encoding="utf-8"))
    bad = {"id": "bad", "claim": "Panjgur is 500 km from the border", "source": "test", "url": "",
           "measure": {"kind": "distance_to_border", "site": "panjgur"}, "claimed": 500,
           "unit": "km", "tolerance": 10,
           "constraint": {"place": "panjgur", "kind": "distance_to", "target": "border",
                          "km": [490, 510], "measure": "straight"}}
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"claims": [bad, src["claims"][-1]]}), encoding="utf-8")
    out = {r.id: r for r in claims.check_claims(path)}
    assert out["bad"].verdict == "inconsistent"
    assert "disc misses by" in out["bad"].constraint_check
    assert out["rask-tehran"].verdict == "consistent"  # plain distance claims still work


def test_claim_results_keep_the_cli_fields(results):
    for r in results.values():
        d = r.to_dict()
        assert {"id", "claim", "source", "url", "claimed", "unit", "measured", "tolerance",
                "difference", "verdict", "method", "data", "note"} <= set(d)
        assert "WGS84" in r.method and r.source
        json.dumps(d)  # --json must serialise
