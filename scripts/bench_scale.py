"""Scale benchmark for ``enrich`` (issue 11): single process vs a Dask LocalCluster.

    .venv/bin/python scripts/bench_scale.py                      # 1M events
    .venv/bin/python scripts/bench_scale.py --sizes 100000,1000000,10000000
    .venv/bin/python scripts/bench_scale.py --sizes 100000 --csv-peak 1000000
    .venv/bin/python scripts/bench_scale.py --sizes 1000000 --configs 0,2

For each size, synthetic events (scripts/make_events.py, not committed) are written to a
temporary GeoParquet file, then ``python -m dashboard enrich`` runs as a child process in
each configuration: in process (the baseline), ``--workers 1`` and ``--workers 2``. Printed:
wall time, events/s, peak resident memory of the driver and of the largest worker process
(sampled every 0.1 s over the whole process tree), and scaling efficiency (speed-up over the
in-process run divided by the number of workers). With several sizes it prints how time
grows with size (1.00 = linear). ``--csv-peak N`` measures the peak memory of converting an
N-row CSV to GeoParquet with the streamed reader vs reading the whole file with pandas, each
in its own child process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
CONFIGS = (("in process", []), ("LocalCluster 1 worker", ["--workers", "1"]),
           ("LocalCluster 2 workers", ["--workers", "2"]))


def _watch(proc: subprocess.Popen, peaks: dict[int, tuple[str, int]],
           stop: threading.Event) -> None:
    """Record the peak RSS of the process and every descendant (workers, nannies)."""
    try:
        root = psutil.Process(proc.pid)
    except psutil.NoSuchProcess:
        return
    while not stop.is_set():
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for p in procs:
            try:
                rss = p.memory_info().rss
                cmd = " ".join(p.cmdline())[-80:]
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            old = peaks.get(p.pid, ("", 0))
            if rss > old[1]:
                peaks[p.pid] = (cmd, rss)
        stop.wait(0.1)


def run_measured(cmd: list[str]) -> tuple[float, int, int, str]:
    """Wall time (s), driver peak RSS, largest other process peak RSS (bytes), stderr."""
    peaks: dict[int, tuple[str, int]] = {}
    stop = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    watcher = threading.Thread(target=_watch, args=(proc, peaks, stop), daemon=True)
    watcher.start()
    _out, err = proc.communicate()
    wall = time.perf_counter() - start
    stop.set()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    driver = peaks.get(proc.pid, ("", 0))[1]
    # worker processes (not the nanny, the resource tracker or the driver)
    workers = [rss for pid, (cmd_, rss) in peaks.items() if pid != proc.pid
               and "resource_tracker" not in cmd_]
    return wall, driver, max(workers, default=0), err.strip()


def mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB" if n else "—"


def bench_sizes(sizes: list[int], tmp: Path, extra: list[str],
                configs: tuple[tuple[str, list[str]], ...] = CONFIGS) -> None:
    rows = []
    for n in sizes:
        src = tmp / f"events_{n}.parquet"
        t = time.perf_counter()
        subprocess.run([PY, "scripts/make_events.py", "--n", str(n), "--output", str(src)],
                       cwd=ROOT, check=True, capture_output=True)
        print(f"# generated {n:,} events in {time.perf_counter() - t:.1f} s "
              f"({src.stat().st_size / 2**20:,.1f} MB GeoParquet)", flush=True)
        base = None
        for label, args in configs:
            out = tmp / f"out_{n}.parquet"
            wall, driver, worker, _ = run_measured(
                [PY, "-m", "dashboard", "enrich", "--input", str(src), "--output", str(out),
                 *args, *extra])
            workers = int(args[1]) if args else 1
            base = wall if base is None else base  # the first configuration is the baseline
            eff = base / wall / workers
            rows.append((n, label, wall, n / wall, driver, worker, eff))
            print(f"{n:>11,}  {label:<24} {wall:9.1f} s {n / wall:12,.0f} ev/s  driver "
                  f"{mb(driver):>9}  worker {mb(worker):>9}  efficiency {eff:5.2f}",
                  flush=True)
            out.unlink(missing_ok=True)
        src.unlink(missing_ok=True)
    print()
    print("| events | configuration | wall (s) | events/s | peak driver | peak worker | "
          "scaling efficiency |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for n, label, wall, rate, driver, worker, eff in rows:
        print(f"| {n:,} | {label} | {wall:.1f} | {rate:,.0f} | {mb(driver)} | {mb(worker)} | "
              f"{eff:.2f} |")
    if len(sizes) > 1:
        print()
        print("Growth with size (time ratio / size ratio; 1.00 = linear):")
        for label, _ in configs:
            t = {n: w for n, lab, w, *_ in rows if lab == label}
            a, b = sizes[0], sizes[-1]
            print(f"  {label:<24} {a:,} → {b:,}: time ×{t[b] / t[a]:.2f} for size ×"
                  f"{b / a:.0f} → {t[b] / t[a] / (b / a):.2f}")


CSV_STREAM = """
import resource, sys
from dashboard import columnar
n = columnar.csv_to_geoparquet(sys.argv[1], sys.argv[2])
print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""
CSV_WHOLE = """
import resource, sys
import pandas as pd
from dashboard import events
frame = events.normalise(pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False))
frame.to_parquet(sys.argv[2])
print(len(frame), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def bench_csv(n: int, tmp: Path) -> None:
    src = tmp / f"events_{n}.csv"
    subprocess.run([PY, "scripts/make_events.py", "--n", str(n), "--output", str(src)],
                   cwd=ROOT, check=True, capture_output=True)
    size = src.stat().st_size
    print(f"\nCSV → GeoParquet, {n:,} rows ({size / 2**20:,.0f} MB), peak RSS of the child "
          "process:")
    for label, code in (("streamed (columnar.csv_to_geoparquet)", CSV_STREAM),
                        ("whole file (pandas.read_csv + normalise)", CSV_WHOLE)):
        t = time.perf_counter()
        proc = subprocess.run([PY, "-c", code, str(src), str(tmp / "csv.parquet")], cwd=ROOT,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"  {label:<44} failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        rows, peak = proc.stdout.split()
        print(f"  {label:<44} {mb(int(peak)):>9}  {time.perf_counter() - t:6.1f} s  "
              f"({int(rows):,} rows)")
    src.unlink(missing_ok=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000000", help="comma-separated event counts")
    p.add_argument("--csv-peak", type=int, default=0, metavar="N",
                   help="also measure streamed-CSV peak memory on an N-row file")
    p.add_argument("--buffer", default="border:45", help="buffer flag passed to enrich")
    p.add_argument("--configs", default="0,1,2",
                   help="0 = in process (the baseline, keep it first), N = LocalCluster of N "
                        "workers; default %(default)s")
    args = p.parse_args()
    sizes = sorted(n for n in (int(s.replace("_", "")) for s in args.sizes.split(",")
                               if s.strip()) if n > 0)
    print(f"# {os.cpu_count()} CPU(s); enrich --buffer {args.buffer} --h3 5,7,9; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_scale-") as d:
        tmp = Path(d)
        if sizes:
            configs = tuple(("in process", []) if int(c) == 0 else
                            (f"LocalCluster {c} worker{'s' if int(c) > 1 else ''}",
                             ["--workers", str(int(c))])
                            for c in args.configs.split(",") if c.strip())
            bench_sizes(sizes, tmp, ["--buffer", args.buffer], configs)
        if args.csv_peak:
            bench_csv(args.csv_peak, tmp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
