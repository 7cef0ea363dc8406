"""``enrich`` against a real Dask cluster: a scheduler and two workers started as separate
processes on 127.0.0.1 (as the README tells a user to), compared with the in-process run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dashboard import cli, columnar

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")
N_EVENTS = 20_000
START_TIMEOUT_S = 60

pytestmark = pytest.mark.slow


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM to all at once, then wait (bounded); SIGKILL whatever is still running."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """A scheduler and two single-thread workers, each its own process; always stopped."""
    exe = DASK if DASK.exists() else shutil.which("dask")
    if exe is None:
        pytest.skip("the 'dask' executable (package distributed) is not installed")
    tmp = tmp_path_factory.mktemp("cluster")
    sched_file = tmp / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs: list[subprocess.Popen] = []
    log = open(tmp / "cluster.log", "wb")  # noqa: SIM115 - closed in the finaliser below
    try:
        procs.append(subprocess.Popen(
            [str(exe), "scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(sched_file)],
            cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + START_TIMEOUT_S
        while not sched_file.exists() or not sched_file.read_text().strip():
            if time.monotonic() > deadline or procs[0].poll() is not None:
                pytest.fail("the Dask scheduler did not start: "
                            + (tmp / "cluster.log").read_text(errors="replace")[-800:])
            time.sleep(0.2)
        for i in range(2):
            procs.append(subprocess.Popen(
                [str(exe), "worker", "--scheduler-file", str(sched_file), "--nworkers", "1",
                 "--nthreads", "1", "--no-nanny", "--death-timeout", "60", "--no-dashboard",
                 "--name", f"w{i}"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        address = json.loads(sched_file.read_text())["address"]
        from distributed import Client

        with Client(address, timeout=START_TIMEOUT_S, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)
            pids = client.run(os.getpid)
        yield {"address": address, "worker_pids": set(pids.values())}
    finally:
        _stop(procs[::-1])
        log.close()


def test_enrich_on_two_worker_cluster_equals_in_process(cluster, tmp_path: Path) -> None:
    """Two separate worker processes (not this one) do the work, and the file they produce
    equals the in-process result exactly, row for row and column for column."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_events
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    src = tmp_path / "events.parquet"
    make_events.write(make_events.synthetic_events(N_EVENTS, seed=11), str(src))
    assert os.getpid() not in cluster["worker_pids"] and len(cluster["worker_pids"]) == 2
    args = ["--buffer", "border:45", "--h3", "5,8", "--partition-rows", "2500"]
    out_cluster = tmp_path / "cluster.parquet"
    out_local = tmp_path / "local.parquet"
    assert cli.main(["enrich", "--input", str(src), "--output", str(out_cluster),
                     "--scheduler", cluster["address"], *args]) == 0
    assert cli.main(["enrich", "--input", str(src), "--output", str(out_local), *args]) == 0
    a = columnar.read_geoparquet(out_cluster)
    b = columnar.read_geoparquet(out_local)
    assert len(a) == len(b) == N_EVENTS
    assert a["event_id_cnty"].is_unique
    a = a.sort_values("event_id_cnty").reset_index(drop=True)
    b = b.sort_values("event_id_cnty").reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_exact=True)
    assert a["border_distance_km"].notna().all()
    assert set(a["border_side"]) >= {"Iran", "Pakistan"}
    assert a["within_border_45km"].any() and not a["within_border_45km"].all()


def test_unreachable_scheduler_is_one_sentence(tmp_path: Path, capsys, monkeypatch) -> None:
    """A scheduler address nobody listens on: exit 2, one line, no file written."""
    from dashboard import enrich

    monkeypatch.setattr(enrich, "CONNECT_TIMEOUT_S", 3)
    src = tmp_path / "e.parquet"
    from dashboard import events as model

    columnar.write_geoparquet(model.load_curated_events(), src)
    out = tmp_path / "o.parquet"
    code = cli.main(["enrich", "--input", str(src), "--output", str(out),
                     "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: Cannot reach the Dask scheduler") and err.count("\n") == 1
    assert not out.exists()
