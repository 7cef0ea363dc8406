"""Tests for scripts/build_geodata.py: the build is deterministic and reproduces geodata/."""

from __future__ import annotations

import filecmp
import importlib.util
import json
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
    "events.geojson", "basemap_land.geojson", "basemap_lakes.geojson", "basemap_rivers.geojson",
    "basemap_coastline.geojson", "claims.json", "manifest.json",
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
    assert "--input DIR" in err and build.INPUT_ENV in err
    assert not (tmp_path / "out").exists()


def test_clone_not_beside_shared_says_where_inputs_are_and_how_to_pass_them(tmp_path: Path):
    """A copy of the script in a folder with no ../shared: one sentence, exit 2, no traceback;
    then --input and the environment variable both reach the inputs."""
    import os
    import shutil
    import subprocess

    clone = tmp_path / "elsewhere" / "repo"
    (clone / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, clone / "scripts" / "build_geodata.py")
    env = {k: v for k, v in os.environ.items() if k != "DASHBOARD_GEODATA_INPUT"}
    proc = subprocess.run([sys.executable, str(clone / "scripts" / "build_geodata.py")],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "shared/data/naturalearth" in proc.stderr and "--input DIR" in proc.stderr
    assert "DASHBOARD_GEODATA_INPUT" in proc.stderr


@needs_shared
def test_input_option_and_environment_variable_name_the_inputs(tmp_path: Path, monkeypatch):
    build = _load_build_module()
    seen = []
    monkeypatch.setattr(build, "build", lambda d, out, label: seen.append(d) or {"layers": {}})
    assert build.main(["--input", str(SHARED), "--output", str(tmp_path)]) == 0
    monkeypatch.setenv(build.INPUT_ENV, str(SHARED))
    assert build.main(["--output", str(tmp_path)]) == 0
    assert seen == [SHARED, SHARED]


def _patched_catalogs(build, tmp_path: Path, events=None, places=None):
    """Point the build at edited copies of the catalogues."""
    ev = json.loads(build.EVENTS_CATALOG.read_text(encoding="utf-8"))
    pl = json.loads(build.PLACES_CATALOG.read_text(encoding="utf-8"))
    if events:
        events(ev["events"])
    if places:
        places(pl["places"])
    (tmp_path / "ev.json").write_text(json.dumps(ev), encoding="utf-8")
    (tmp_path / "pl.json").write_text(json.dumps(pl), encoding="utf-8")
    build.EVENTS_CATALOG = tmp_path / "ev.json"
    build.PLACES_CATALOG = tmp_path / "pl.json"
    build.LAYER_META["events.geojson"] = (("admin1",), (build.EVENTS_CATALOG,), "test")
    build.LAYER_META["places.geojson"] = (("admin1",), (build.PLACES_CATALOG,), "test")


@needs_shared
def test_build_fails_with_the_violation_lines_and_writes_nothing(tmp_path: Path, capsys):
    build = _load_build_module()

    def wrong_province(places):
        for p in places:
            if p["id"] == "panjgur":
                p["constraints"] = [{"kind": "within", "target": "IR-13", "source": "test",
                                     "quote": "wrong on purpose"}]

    _patched_catalogs(build, tmp_path, places=wrong_province)
    out = tmp_path / "out"
    assert build.main([str(SHARED), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "location constraint(s) violated" in err
    assert "panjgur: within IR-13 — point is " in err and "disc misses by" in err
    assert not out.exists()


@needs_shared
def test_ambiguous_admin1_name_stops_the_build_unless_a_code_decides(tmp_path: Path):
    build = _load_build_module()
    provinces = build.build_admin(build.read_input(SHARED, "admin1"))[1]
    with pytest.raises(build.BuildError, match="matches YE-SA, YE-SN"):
        build.resolve_admin1("Sanaa", "YEM", provinces, set(), "EV")
    assert build.resolve_admin1("Sanaa", "YEM", provinces, {"YE-SN"}, "EV") == "YE-SN"
    assert build.resolve_admin1("Sanaa (city)", "YEM", provinces, set(), "EV") == "YE-SA"
    assert build.resolve_admin1("Amanat Al Asimah", "YEM", provinces, set(), "EV") == "YE-SA"
    with pytest.raises(build.BuildError, match="unknown admin1"):
        build.resolve_admin1("Atlantis", "YEM", provinces, set(), "EV")


@needs_shared
def test_provinces_one_feature_per_code_with_unique_display_names():
    build = _load_build_module()
    provinces = build.build_admin(build.read_input(SHARED, "admin1"))[1]
    codes = [f["properties"]["iso_3166_2"] for f in provinces]
    assert len(codes) == len(set(codes))
    names = [(f["properties"]["country_iso_a3"], f["properties"]["name"]) for f in provinces]
    assert len(names) == len(set(names))
    by_code = {f["properties"]["iso_3166_2"]: f["properties"] for f in provinces}
    assert by_code["AF-PAR"]["parts_merged"] == 2 and by_code["AF-URU"]["parts_merged"] == 2
    assert by_code["IR-07"]["name"] == "Tehran" and by_code["IR-32"]["name"] == "Alborz"
    assert by_code["YE-SA"]["name"] == "Sanaa (city)"
    assert by_code["YE-SN"]["name"] == "Sanaa Governorate"


def test_input_folder_without_layers_names_the_missing_file(tmp_path: Path, capsys):
    build = _load_build_module()
    assert build.main([str(tmp_path), "--output", str(tmp_path / "out")]) == 2
    assert "ne_10m_admin_1_states_provinces" in capsys.readouterr().err


@needs_shared
def test_output_that_is_a_file_is_one_line_exit_2(tmp_path: Path, capsys):
    build = _load_build_module()
    blocker = tmp_path / "out"
    blocker.write_text("not a folder", encoding="utf-8")
    assert build.main([str(SHARED), "--output", str(blocker)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot create the output folder") and err.count("\n") == 1
    assert blocker.read_text(encoding="utf-8") == "not a folder"
