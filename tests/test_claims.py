"""Tests for dashboard/claims.py: the article's claims against measured values."""

from __future__ import annotations

import pytest

from dashboard import claims, layers


def test_claims_check_reports_measured_values_and_border_caveat():
    results = {r.id: r for r in claims.check_claims()}
    assert {"sabz-koh-border", "sabz-koh-panjgur", "border-length-km",
            "border-length-miles"} <= set(results)
    border = results["border-length-km"]
    assert border.measured == pytest.approx(layers.load_border().length_m / 1000, abs=1e-3)
    assert border.verdict == "shorter than claimed"
    assert "generalised" in border.note
    miles = results["border-length-miles"]
    assert miles.measured == pytest.approx(border.measured / 1.609344, abs=1e-3)
    sabz = results["sabz-koh-panjgur"]
    assert sabz.verdict == "consistent" and "inferred" in sabz.note
    assert abs(sabz.difference) <= sabz.tolerance
    for r in results.values():
        assert "WGS84" in r.method and r.source
