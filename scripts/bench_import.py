"""Import speed and memory: our CSV importer vs plain pandas + geopandas on the same file.

    .venv/bin/python scripts/bench_import.py            # 1,000,000 rows
    .venv/bin/python scripts/bench_import.py --rows 100000

Generates a CSV in a temporary folder (deleted afterwards, never committed): date, lat, lon,
country, fatalities and notes; two date styles, about 10 % quoted notes with ``""`` escapes,
about 1 % of points far outside their country, 0.2 % near its border (exact distance path),
0.1 % bad dates. Each contender runs in its own child process; the table gives the rows, the
seconds for the read (interpreter start and module imports excluded), rows per second, the
child's peak resident memory (``os.wait4`` rusage, whole process) and our overhead as ratios.

- ours: ``dashboard.importers.import_file`` (RFC 4180 read, every per-row check, ids,
  country plausibility, the event model);
- baseline: ``pandas.read_csv`` + ``geopandas.GeoDataFrame(points_from_xy(lon, lat))``,
  no checks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
from pathlib import Path
mode, path = sys.argv[1], Path(sys.argv[2])
if mode == "ours":
    from dashboard import importers, settings
    settings.MAX_IMPORT_BYTES = max(settings.MAX_IMPORT_BYTES, path.stat().st_size)
    t = time.perf_counter()
    res = importers.import_file(path)
    secs = time.perf_counter() - t
    out = {"seconds": secs, "accepted": len(res.events), "rejected": len(res.rejected)}
else:
    import geopandas as gpd
    import pandas as pd
    t = time.perf_counter()
    df = pd.read_csv(path)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    secs = time.perf_counter() - t
    out = {"seconds": secs, "accepted": len(gdf), "rejected": 0}
print(json.dumps(out))
"""


def make_csv(path: Path, rows: int, seed: int = 7) -> None:
    """Write the benchmark CSV (see the module docstring) in chunks."""
    rng = np.random.default_rng(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("date,lat,lon,country,fatalities,notes\r\n")
        chunk = 100_000
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            pak = rng.random(n) < 0.6
            lat = np.where(pak, rng.uniform(25.5, 29.5, n), rng.uniform(27.0, 31.0, n))
            lon = np.where(pak, rng.uniform(64.5, 68.5, n), rng.uniform(55.0, 59.0, n))
            far = rng.random(n) < 0.01
            lon = np.where(far, lon + 30.0, lon)
            near = rng.random(n) < 0.002
            lat = np.where(near & pak, 24.9, lat)  # in the Arabian Sea off Pakistan's coast
            day = rng.integers(1, 29, n)
            iso = rng.random(n) < 0.7
            bad = rng.random(n) < 0.001
            note = rng.random(n) < 0.1
            deaths = rng.integers(0, 12, n)
            lines = []
            for i in range(n):
                date = (f"2024-01-{day[i]:02d}" if iso[i] else f"{day[i]} January 2024")
                if bad[i]:
                    date = "2024-13-45"
                country = "Pakistan" if pak[i] else "Iran"
                notes = f'"strike, ""report"" {i % 97}"' if note[i] else ""
                lines.append(f"{date},{lat[i]:.5f},{lon[i]:.5f},{country},{deaths[i]},{notes}")
            fh.write("\r\n".join(lines) + "\r\n")


def run(mode: str, path: Path) -> dict:
    """Run one contender in a child process; its JSON result plus peak RSS in MB."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(path)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed ({proc.returncode}): {err.strip()[-500:]}")
    result = json.loads(out)
    result["peak_mb"] = usage.ru_maxrss / 1024.0  # Linux: kilobytes
    result["stderr"] = err.strip()
    return result


def main(argv: list[str] | None = None) -> int:
    """Generate the file, run both contenders, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_events.csv"
        make_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        base = run("baseline", path)
        ours = run("ours", path)
    print(f"file: {args.rows:,} rows, {size_mb:,.1f} MB")
    print(f"{'contender':<34} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'peak MB':>8}")
    for name, r in (("pandas.read_csv + GeoDataFrame", base), ("ours (import_file)", ours)):
        print(f"{name:<34} {args.rows:>10,} {r['seconds']:>8.2f} "
              f"{args.rows / r['seconds']:>10,.0f} {r['peak_mb']:>8,.0f}")
    print(f"ours: {ours['accepted']:,} accepted, {ours['rejected']:,} rejected; overhead "
          f"{ours['seconds'] / base['seconds']:.1f}x time, "
          f"{ours['peak_mb'] / base['peak_mb']:.1f}x peak memory")
    for name, r in (("baseline", base), ("ours", ours)):
        if r["stderr"]:
            print(f"{name} wrote to stderr: {r['stderr'][:300]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
