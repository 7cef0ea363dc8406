"""The ``map`` command (dashboard/cli_map.py) as a user runs it."""

from __future__ import annotations

import io
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dashboard import cli, cli_map, importers
from dashboard.errors import BadParameter
from dashboard.mapview import EVENT_STYLES
from dashboard.store import EventStore

SVG_NS = "{http://www.w3.org/2000/svg}"
STORE_CSV = (
    "event_id_cnty,event_date,event_type,sub_event_type,actor1,country,location,latitude,"
    "longitude,geo_precision,fatalities\n"
    "MAPT1,2024-01-19,Battles,Armed clash,Test Actor,Pakistan,Qwertyville,29.2,65.6,1,0\n"
)


def _texts(svg: bytes) -> str:
    root = ET.fromstring(svg)
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG_NS}text"))


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store holding one imported event (never the user's own store)."""
    path = tmp_path / "events.gpkg"
    monkeypatch.setenv("DASHBOARD_STORE", str(path))
    result = importers.import_bytes(STORE_CSV.encode(), "test.csv")
    assert len(result.events) == 1 and not result.rejected
    EventStore(path).upsert(result.events, origin="cli", label="test.csv")
    return path


def test_png_svg_pdf_by_extension(tmp_path: Path, store: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "map.png"
    assert cli.main(["map", "--output", str(png)]) == 0
    out = capsys.readouterr()
    assert "PNG map" in out.out and out.err == ""
    img = Image.open(io.BytesIO(png.read_bytes()))
    assert img.format == "PNG" and img.size[0] == 1600
    svg = tmp_path / "map.SVG"
    assert cli.main(["map", "-o", str(svg), "--width", "800", "--title", "My map"]) == 0
    assert "My map" in _texts(svg.read_bytes())
    pdf = tmp_path / "map.pdf"
    assert cli.main(["map", "-o", str(pdf), "--width", "800"]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")


def test_store_events_are_drawn_unless_no_store(tmp_path: Path, store: Path) -> None:
    out = tmp_path / "m.svg"
    assert cli.main(["map", "-o", str(out), "--width", "800"]) == 0
    assert "19 Jan · Qwertyville" in _texts(out.read_bytes())
    assert cli.main(["map", "-o", str(out), "--width", "800", "--no-store"]) == 0
    assert "Qwertyville" not in _texts(out.read_bytes())
    assert cli.main(["map", "-o", str(out), "--width", "800", "--store",
                     str(tmp_path / "absent.gpkg")]) == 0
    assert "Qwertyville" not in _texts(out.read_bytes())


def test_filters_change_the_map(tmp_path: Path, store: Path) -> None:
    out = tmp_path / "m.svg"
    assert cli.main(["map", "-o", str(out), "--width", "800", "--types", "battle",
                     "--from", "2024-01-19", "--to", "2024-01-19"]) == 0
    text = _texts(out.read_bytes())
    assert "19 Jan 2024  ·  1 event on this map" in text and "Qwertyville" in text
    png_all, png_strike = tmp_path / "all.png", tmp_path / "strike.png"
    assert cli.main(["map", "-o", str(png_all), "--width", "800"]) == 0
    assert cli.main(["map", "-o", str(png_strike), "--width", "800", "--types", "Strike"]) == 0
    attack = np.array([int(EVENT_STYLES["attack"].color[i:i + 2], 16) for i in (1, 3, 5)])

    def attack_pixels(path: Path) -> int:
        img = np.asarray(Image.open(path).convert("RGB")).astype(int)
        return int((np.abs(img - attack).max(axis=2) == 0).sum())

    assert attack_pixels(png_all) > 40 and attack_pixels(png_strike) == 0


@pytest.mark.parametrize(("args", "words"), [
    (["--output", "map.gif"], "end the file name in .png, .svg or .pdf"),
    (["--output", "-"], "binary picture"),
    (["--output", "m.png", "--from", "2024-02-01", "--to", "2024-01-01"], "after the end date"),
    (["--output", "m.png", "--from", "yesterday"], "is not a date"),
    (["--output", "m.png", "--types", "strikes"], "Unknown event type 'strikes'"),
    (["--output", "m.png", "--types", ","], "at least one event type"),
    (["--output", "m.png", "--bbox", "56,24,68"], "four numbers"),
    (["--output", "m.png", "--bbox", "68,24,56,32"], "MIN_LON < MAX_LON"),
    (["--output", "m.png", "--layers", "tiles"], "Unknown map layer 'tiles'"),
    (["--output", "m.png", "--width", "50"], "width"),
    (["--output", "no/such/folder/m.png"], "does not exist"),
])
def test_user_errors_are_one_line_exit_2_and_write_nothing(
        tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], args: list[str], words: str) -> None:
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert cli.main(["map", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and words in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_an_existing_file_is_kept_when_the_command_fails(tmp_path: Path, store: Path) -> None:
    out = tmp_path / "map.png"
    out.write_bytes(b"old picture")
    assert cli.main(["map", "-o", str(out), "--types", "nope"]) == 2
    assert out.read_bytes() == b"old picture"


def test_as_a_process_stderr_is_clean(tmp_path: Path, store: Path) -> None:
    out = tmp_path / "map.png"
    done = subprocess.run([sys.executable, "-m", "dashboard", "map", "--output", str(out),
                           "--width", "800", "--bbox", "60,25,65,29", "--no-discs"],
                          capture_output=True, text=True, timeout=300, check=False,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0 and done.stderr == ""
    assert Image.open(out).size[0] == 800


def test_parse_bbox_and_format_for() -> None:
    assert cli_map.parse_bbox(" -10.5, 20 ,30,40") == (-10.5, 20.0, 30.0, 40.0)
    assert cli_map.format_for("a/b/Map.PDF") == "pdf"
    with pytest.raises(BadParameter):
        cli_map.parse_bbox("a,b,c,d")
    with pytest.raises(BadParameter):
        cli_map.format_for("map")
