"""Generate N synthetic ACLED-style events around the Iran–Pakistan border (2017–2024).

    .venv/bin/python scripts/make_events.py --n 1000000 --output /tmp/events_1m.parquet
    .venv/bin/python scripts/make_events.py --n 20000 --output /tmp/events.csv --seed 7

Deterministic for a given ``--seed``. The output is CSV (``.csv``, ACLED column order) or
GeoParquet (``.parquet``); both are read by ``python -m dashboard enrich``. The events are
made up: they are for load tests and benchmarks, never for analysis.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard import columnar, layers, outputs
from dashboard import events as model

#: Region sampled (degrees): lon 56..70 E, lat 24..32 N — Sistan-Baluchestan, Balochistan,
#: Kerman, Sindh and southern Afghanistan.
BOUNDS = (56.0, 24.0, 70.0, 32.0)
FIRST_DAY = pd.Timestamp("2017-01-01")
LAST_DAY = pd.Timestamp("2024-12-31")
ACTORS = ("Military Forces of Pakistan (2018-)", "Military Forces of Iran (1989-)",
          "Jaish al-Adl", "BLA: Baloch Liberation Army", "Protesters (Pakistan)",
          "Rioters (Iran)", "Unidentified Armed Group (Pakistan)", "Civilians (Pakistan)")
INTER = {0: 1, 1: 1, 2: 2, 3: 2, 4: 6, 5: 5, 6: 3, 7: 7}
PLACES = ("Panjgur", "Turbat", "Gwadar", "Saravan", "Zahedan", "Chabahar", "Quetta",
          "Mashkel", "Pishin", "Iranshahr", "Khash", "Taftan")


def synthetic_events(n: int, seed: int = 2024) -> pd.DataFrame:
    """``n`` synthetic events (ACLED columns, text/number values as an export has them):
    locations clustered around a dozen towns plus a uniform background, dates uniform over
    2017–2024, all six ACLED event types. Same ``seed`` → same rows."""
    rng = np.random.default_rng(seed)
    min_lon, min_lat, max_lon, max_lat = BOUNDS
    centres = rng.uniform((min_lon, min_lat), (max_lon, max_lat), size=(len(PLACES), 2))
    town = rng.integers(0, len(PLACES), n)
    clustered = rng.random(n) < 0.7
    lon = np.where(clustered, centres[town, 0] + rng.normal(0, 0.3, n),
                   rng.uniform(min_lon, max_lon, n))
    lat = np.where(clustered, centres[town, 1] + rng.normal(0, 0.3, n),
                   rng.uniform(min_lat, max_lat, n))
    lon = np.clip(lon, min_lon, max_lon).round(4)
    lat = np.clip(lat, min_lat, max_lat).round(4)
    span = (LAST_DAY - FIRST_DAY).days + 1
    days = FIRST_DAY + pd.to_timedelta(rng.integers(0, span, n), unit="D")
    types = list(model.EVENT_TYPES)
    t = rng.integers(0, len(types), n)
    sub_choice = rng.integers(0, 8, n)
    sub = np.array([model.EVENT_TYPES[types[i]][j % len(model.EVENT_TYPES[types[i]])]
                    for i in range(len(types)) for j in range(8)], dtype=object)
    sub_event = sub[t * 8 + sub_choice]
    a1 = rng.integers(0, len(ACTORS), n)
    a2 = rng.integers(0, len(ACTORS), n)
    country = np.full(n, "Pakistan", dtype=object)
    iso = np.full(n, 586)
    countries = layers.load_countries()
    for name, code, num in (("Iran", "IRN", 364), ("Afghanistan", "AFG", 4)):
        rows = countries.loc[countries["iso_a3"] == code, "geometry"]
        if len(rows):
            inside = shapely.contains_xy(rows.iloc[0], lon, lat)
            country[inside] = name
            iso[inside] = num
    prefix = np.where(country == "Iran", "IRN", np.where(country == "Afghanistan", "AFG", "PAK"))
    ids = np.char.add(prefix.astype(str), np.char.zfill(np.arange(1, n + 1).astype(str), 8))
    fat = rng.poisson(0.8, n).astype(float)
    fat[rng.random(n) < 0.02] = np.nan
    actors = np.array(ACTORS, dtype=object)
    type_arr = np.array(types, dtype=object)
    frame = pd.DataFrame({
        "event_id_cnty": ids.astype(object),
        "event_date": days.strftime("%Y-%m-%d"),
        "year": days.year,
        "time_precision": rng.choice([1, 1, 1, 2, 3], n),
        "disorder_type": np.where(t == 3, "Demonstrations", "Political violence"),
        "event_type": type_arr[t],
        "sub_event_type": sub_event,
        "actor1": actors[a1],
        "assoc_actor_1": "",
        "inter1": np.array([INTER[i] for i in range(len(ACTORS))])[a1],
        "actor2": actors[a2],
        "assoc_actor_2": "",
        "inter2": np.array([INTER[i] for i in range(len(ACTORS))])[a2],
        "interaction": np.array([INTER[i] for i in range(len(ACTORS))])[a1] * 10
        + np.array([INTER[i] for i in range(len(ACTORS))])[a2],
        "civilian_targeting": np.where(t == 2, "Civilian targeting", ""),
        "iso": iso,
        "region": np.where(country == "Iran", "Middle East", "Caucasus and Central Asia"),
        "country": country,
        "admin1": "",
        "admin2": "",
        "admin3": "",
        "location": np.array(PLACES, dtype=object)[town],
        "latitude": lat,
        "longitude": lon,
        "geo_precision": rng.choice([1, 1, 2, 2, 3], n),
        "source": "Synthetic",
        "source_scale": "Other",
        "notes": "Synthetic event for load tests.",
        "fatalities": fat,
        "tags": "",
        "timestamp": 1_700_000_000 + np.arange(n),
    })
    return frame


def write(frame: pd.DataFrame, output: str) -> None:
    """CSV (ACLED column order) or GeoParquet (event model) by the output's extension."""
    suffix = Path(output).suffix.casefold()
    if suffix == ".csv":
        table = pa.Table.from_pandas(frame, preserve_index=False)
        sink = pa.BufferOutputStream()
        pacsv.write_csv(table, sink)
        outputs.write_bytes(output, sink.getvalue().to_pybytes())
    elif suffix in columnar.PARQUET_SUFFIXES:
        columnar.write_geoparquet(model.normalise(frame), output)
    else:
        raise SystemExit(f"error: give an output ending in .csv or .parquet (got {output!r}).")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, required=True, help="number of events")
    p.add_argument("--output", required=True, help=".csv or .parquet file")
    p.add_argument("--seed", type=int, default=2024)
    args = p.parse_args(argv)
    if args.n < 0:
        p.error("--n must be 0 or more")
    write(synthetic_events(args.n, args.seed), args.output)
    print(f"wrote {args.n:,} synthetic events to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
