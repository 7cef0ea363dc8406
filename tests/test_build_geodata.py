"""Tests for scripts/build_geodata.py: the build is deterministic and reproduces geodata/."""

from __future__ import annotations

import filecmp
import importlib.util
import sys
from pathlib import Path

import pytest

from dashboard import settings

SCRIPT = settings.REPO_ROOT / "scripts" / "build_geodata.py"
SHARED = settings.SHARED_NATURALEARTH_DIR
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(),
    reason=f"raw Natural Earth inputs not found at {SHARED} (../shared is not beside this clone)",
)


def _load_build_module():
    spec = importlib.util.spec_from_file_location("build_geodata", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_geodata"] = module
    spec.loader.exec_module(module)
    return module


BUILT = [
    "countries.geojson", "provinces.geojson", "border_iran_pakistan.geojson", "places.geojson",
    "basemap_land.geojson", "basemap_lakes.geojson", "basemap_rivers.geojson",
    "basemap_coastline.geojson", "manifest.json",
]


@needs_shared
def test_rebuild_reproduces_committed_geodata_byte_for_byte(tmp_path: Path):
    build = _load_build_module()
    out1, out2 = tmp_path / "a", tmp_path / "b"
    assert build.main([str(SHARED), "--output", str(out1)]) == 0
    assert build.main([str(SHARED), "--output", str(out2)]) == 0
    for name in BUILT:
        assert filecmp.cmp(out1 / name, out2 / name, shallow=False), f"{name} differs between runs"
        assert filecmp.cmp(out1 / name, settings.GEODATA_DIR / name, shallow=False), (
            f"{name} differs from the committed geodata/{name}; rerun scripts/build_geodata.py"
        )


def test_missing_input_folder_is_one_clear_error(tmp_path: Path, capsys):
    build = _load_build_module()
    assert build.main([str(tmp_path / "nope"), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: input folder") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_input_folder_without_layers_names_the_missing_file(tmp_path: Path, capsys):
    build = _load_build_module()
    assert build.main([str(tmp_path), "--output", str(tmp_path / "out")]) == 2
    assert "ne_10m_admin_1_states_provinces" in capsys.readouterr().err
