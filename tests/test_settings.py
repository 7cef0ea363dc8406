"""Tests for dashboard.settings and dashboard.errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import errors, settings


def test_store_path_honours_the_environment(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("DASHBOARD_STORE", str(tmp_path / "x.gpkg"))
    assert settings.default_store_path() == tmp_path / "x.gpkg"


def test_default_store_lives_in_the_user_data_directory(monkeypatch):
    monkeypatch.delenv("DASHBOARD_STORE", raising=False)
    path = settings.default_store_path()
    assert path.name == "events.gpkg"
    assert "iran-pakistan-dashboard" in str(path)


def test_every_layer_file_is_geojson():
    assert all(f.endswith(".geojson") for f in settings.LAYER_FILES.values())
    assert "WGS84" in settings.METHOD


def test_unknown_site_suggests_names_in_one_sentence():
    err = errors.UnknownSite("Panjgor", ["Panjgur"])
    assert str(err) == "Unknown site 'Panjgor'; did you mean 'Panjgur'?"
    assert isinstance(err, LookupError) and isinstance(err, errors.DashboardError)
    bare = errors.UnknownSite("zzz")
    assert "python -m dashboard sites" in str(bare)


@pytest.mark.parametrize(
    "cls", [errors.DataError, errors.LayerError, errors.ImportRejected, errors.BadCoordinate,
            errors.BadParameter],
)
def test_value_errors_are_value_errors(cls):
    assert issubclass(cls, ValueError) and issubclass(cls, errors.DashboardError)


def test_limits_and_units_live_in_settings():
    from dashboard import geodesy

    assert settings.MAX_RADII == 8 and settings.MAX_RADIUS_KM == 5000.0
    assert geodesy.MAX_BUFFER_M == settings.MAX_RADIUS_KM * 1000.0
    assert settings.KM_PER_MILE == 1.609344 and settings.KM_PER_NMI == 1.852
    assert geodesy.METHOD == settings.METHOD


def test_output_error_is_a_dashboard_error_and_an_os_error():
    err = errors.OutputError("The output path is empty; give a file name such as out.csv.")
    assert isinstance(err, errors.DashboardError) and isinstance(err, OSError)
    assert str(err).endswith(".")
