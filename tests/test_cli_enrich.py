"""CLI ``python -m dashboard enrich`` (dashboard/cli_enrich.py): outputs and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import cli, columnar, enrich
from dashboard import events as model

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def curated_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("in") / "events.parquet"
    columnar.write_geoparquet(model.load_curated_events(), path)
    return path


def test_enrich_writes_geoparquet_with_all_columns(curated_parquet: Path, tmp_path: Path,
                                                   capsys) -> None:
    out = tmp_path / "out.parquet"
    code = cli.main(["enrich", "--input", str(curated_parquet), "--output", str(out),
                     "--buffer", "border:45", "--h3", "5,7"])
    err = capsys.readouterr().err
    assert code == 0
    assert err.startswith("enriched 31 events") and "in process" in err
    back = columnar.read_geoparquet(out)
    spec = enrich.make_spec(["border:45"], "5,7")
    assert list(back.columns[-len(enrich.enriched_columns(spec)):]) \
        == enrich.enriched_columns(spec)
    assert back["border_distance_km"].notna().all()


def test_csv_input_and_rows_without_coordinates_exit_1(tmp_path: Path, capsys) -> None:
    frame = model.load_curated_events()
    frame = pd.DataFrame(frame)
    frame.loc[0, "latitude"] = np.nan
    src = tmp_path / "e.csv"
    src.write_text(model.to_csv(frame), encoding="utf-8", newline="")
    out = tmp_path / "o.parquet"
    assert cli.main(["enrich", "--input", str(src), "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert "1 events have no valid coordinates" in err
    back = columnar.read_geoparquet(out)
    assert len(back) == len(frame) and (back["border_side"] == "").sum() == 1


def test_importer_rejections_are_reported_and_exit_1(tmp_path: Path, capsys) -> None:
    """GeoJSON goes through the importer: rejected rows are listed, the rest enriched."""
    out = tmp_path / "o.parquet"
    geojson = tmp_path / "e.geojson"
    events = model.load_curated_events()
    bad = pd.DataFrame(events.iloc[:1]).assign(event_id_cnty="FAR1", latitude=0.0,
                                               longitude=0.0)
    geojson.write_text(model.to_geojson(pd.concat([pd.DataFrame(events.iloc[1:4]), bad])),
                       encoding="utf-8")
    code = cli.main(["enrich", "--input", str(geojson), "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "rejected: feature 4:" in err
    assert len(columnar.read_geoparquet(out)) == 3


@pytest.mark.parametrize("args, message", [
    (["--input", "{missing}", "--output", "{out}"], "does not exist"),
    (["--input", "{src}", "--output", "{out}", "--h3", "16"], "H3 resolution"),
    (["--input", "{src}", "--output", "{out}", "--buffer", "border"], "TARGET:KM"),
    (["--input", "{src}", "--output", "{out}", "--buffer", "Atlantis:5"], "Unknown site"),
    (["--input", "{src}", "--output", "{out}", "--scheduler", "localhost:8786"],
     "tcp://HOST:PORT"),
    (["--input", "{src}", "--output", "{nofolder}"], "does not exist"),
    (["--input", "{src}", "--output", "-"], "give a file name"),
    (["--input", "{notparquet}", "--output", "{out}"], "not a readable Parquet"),
])
def test_user_errors_exit_2_one_line_nothing_written(args: list[str], message: str,
                                                     curated_parquet: Path, tmp_path: Path,
                                                     capsys) -> None:
    out = tmp_path / "o.parquet"
    out.write_bytes(b"previous")
    notparquet = tmp_path / "x.parquet"
    notparquet.write_text("hello")
    names = {"missing": tmp_path / "none.parquet", "out": out, "src": curated_parquet,
             "nofolder": tmp_path / "no" / "o.parquet", "notparquet": notparquet}
    argv = ["enrich", *[a.format(**{k: str(v) for k, v in names.items()}) for a in args]]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert out.read_bytes() == b"previous"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dash-")]


def test_workers_argument_is_checked_by_the_parser(curated_parquet: Path, tmp_path: Path,
                                                   capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["enrich", "--input", str(curated_parquet), "--output",
                  str(tmp_path / "o.parquet"), "--workers", "0"])
    assert exc.value.code == 2
    assert "--workers must be from 1" in capsys.readouterr().err


@pytest.mark.slow
def test_local_cluster_equals_in_process(curated_parquet: Path, tmp_path: Path) -> None:
    """``--workers 2`` (a LocalCluster in a child process run of the CLI) writes the same file
    content as the in-process run; stderr has only our one summary line."""
    local = tmp_path / "local.parquet"
    assert cli.main(["enrich", "--input", str(curated_parquet), "--output", str(local),
                     "--partition-rows", "8"]) == 0
    dist = tmp_path / "dist.parquet"
    proc = subprocess.run([sys.executable, "-m", "dashboard", "enrich", "--input",
                           str(curated_parquet), "--output", str(dist), "--workers", "2",
                           "--partition-rows", "8"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("\n") == 1 and "local cluster of 2 worker(s)" in proc.stderr
    pd.testing.assert_frame_equal(pd.DataFrame(columnar.read_geoparquet(local)),
                                  pd.DataFrame(columnar.read_geoparquet(dist)),
                                  check_exact=True)
