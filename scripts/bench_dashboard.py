"""Benchmark the dashboard page against a naive folium page, in headless Chromium, side by side.

    .venv/bin/python scripts/bench_dashboard.py [--sizes 1000 10000 100000] [--timeout 180]

For each size, synthetic events (spread over the border region and the crisis dates) replace
the curated layer (via DASHBOARD_GEODATA in a temporary copy of geodata/). Both pages run
under Streamlit with the same offline Leaflet; we measure:
  - first render: from navigation until the map's Leaflet layers stop changing;
  - toggle: switching one event type off, until the map has settled again;
  - date change: moving the end date one day earlier (keyboard on the slider);
  - bytes: HTTP response bodies + WebSocket frames the browser received for first render.
Also the curated data (11 events) on our page. Targets: first render ≤ 3 s with the curated
data; ≥ 10× faster than the naive page at 100,000 events.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from dashboard import events as model  # noqa: E402
from dashboard import settings  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
CATEGORIES = ("strike", "retaliation", "attack", "diplomatic")


def synthetic_events(n: int, seed: int = 0) -> pd.DataFrame:
    """n events around the Iran–Pakistan border, 15 Dec 2023 – 27 Jan 2024, four layers."""
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2023-12-15") + pd.to_timedelta(rng.integers(0, 44, n), unit="D")
    layer = rng.choice(CATEGORIES, n)
    return pd.DataFrame({
        "event_id_cnty": [f"SYN{i}" for i in range(n)],
        "event_date": days.strftime("%Y-%m-%d"),
        "latitude": rng.uniform(25.0, 30.5, n), "longitude": rng.uniform(58.0, 66.0, n),
        "event_type": "Explosions/Remote violence", "sub_event_type": "Air/drone strike",
        "category": layer, "location": [f"Synthetic {i}" for i in range(n)],
        "notes": "synthetic benchmark event", "geo_precision": 1, "fatalities": 0,
    })


def geodata_with(events: pd.DataFrame, folder: Path) -> Path:
    """A copy of geodata/ whose events.geojson holds ``events``."""
    out = folder / "geodata"
    shutil.copytree(settings.GEODATA_DIR, out)
    (out / "events.geojson").write_text(model.to_geojson(events), encoding="utf-8")
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`streamlit run SCRIPT` on a free port with DASHBOARD_GEODATA set."""

    def __init__(self, script: Path, geodata: Path) -> None:
        self.port = _free_port()
        env = {**os.environ, "DASHBOARD_GEODATA": str(geodata),
               "DASHBOARD_STORE": str(geodata / "bench.gpkg")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.port",
             str(self.port), "--server.address", "127.0.0.1", "--server.headless", "true",
             "--server.maxMessageSize", "1000"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("streamlit did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


MAP_STATE_JS = """() => {
  const f = document.querySelector("IFRAME");
  if (!f || !f.contentWindow || !f.contentWindow.L) return "";
  const L = f.contentWindow.L;
  for (const v of Object.values(f.contentWindow)) {
    if (v instanceof L.Map) {
      let n = 0, ids = 0;
      v.eachLayer(l => { n++; ids += L.stamp(l); });
      return n > 0 ? L.stamp(v) + ":" + n + ":" + ids : "";
    }
  }
  return "";
}""".replace("IFRAME", MAP_IFRAME)


def settle(page, timeout_s: float, before: str = "") -> float:
    """Seconds until the map's layers (ids and count) differ from ``before`` and stay the same
    for 0.4 s; inf on timeout. Layers re-sent by Streamlit get new Leaflet ids, so an update
    is seen even when the number of layers does not change."""
    t0 = time.perf_counter()
    last, stable_since = None, None
    while time.perf_counter() - t0 < timeout_s:
        state = page.evaluate(MAP_STATE_JS)
        now = time.perf_counter()
        if state and state != before and state == last:
            if stable_since is not None and now - stable_since >= 0.4:
                return stable_since - t0
        else:
            stable_since = now if state and state != before else None
        last = state
        page.wait_for_timeout(50)
    return float("inf")


def summary_text(page) -> str:
    loc = page.get_by_text("Showing ", exact=False).first
    return loc.inner_text() if loc.count() else ""


def after_action(page, before_text: str, before_map: str, t_start: float,
                 timeout_s: float) -> float:
    """Seconds from ``t_start`` until the "Showing …" line changed and the map was redrawn."""
    deadline = t_start + timeout_s
    while time.perf_counter() < deadline and summary_text(page) == before_text:
        page.wait_for_timeout(30)
    if time.perf_counter() >= deadline:
        return float("inf")
    rest = settle(page, deadline - time.perf_counter(), before_map)
    return float("inf") if rest == float("inf") else time.perf_counter() - t_start - 0.4


@dataclass
class Result:
    first_s: float
    toggle_s: float
    date_s: float
    bytes_first: int


def measure(browser, url: str, timeout_s: float) -> Result:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    received = [0]

    def on_ws(ws):
        ws.on("framereceived", lambda payload: received.__setitem__(
            0, received[0] + len(payload if isinstance(payload, bytes | str) else b"")))

    def on_response(resp):
        with contextlib.suppress(Exception):  # responses without a body
            received[0] += resp.request.sizes()["responseBodySize"]

    page.on("websocket", on_ws)
    page.on("response", on_response)
    t0 = time.perf_counter()
    try:
        page.goto(url, timeout=int(timeout_s * 1000))
        page.wait_for_selector(MAP_IFRAME, timeout=int(timeout_s * 1000))
    except PlaywrightTimeout:  # the map never appeared: the page did not render in time
        bytes_so_far = received[0]
        context.close()
        return Result(float("inf"), float("inf"), float("inf"), bytes_so_far)
    t_wait = time.perf_counter()
    first_total = (t_wait - t0) + settle(page, timeout_s)  # until the layers stop changing
    page.wait_for_timeout(500)
    bytes_first = received[0]
    toggle = date = float("inf")
    if first_total != float("inf"):
        box = page.locator("[data-testid=stSidebar] label").filter(has_text="iplomatic")
        before, before_map = summary_text(page), page.evaluate(MAP_STATE_JS)
        t1 = time.perf_counter()
        box.first.click()
        toggle = after_action(page, before, before_map, t1, timeout_s)
        thumb = page.locator("[data-testid=stSidebar] [data-testid=stSlider] input").nth(1)
        thumb.focus()
        before, before_map = summary_text(page), page.evaluate(MAP_STATE_JS)
        t2 = time.perf_counter()
        page.keyboard.press("ArrowLeft")
        date = after_action(page, before, before_map, t2, timeout_s)
    context.close()
    return Result(first_total, toggle, date, bytes_first)


def fmt_s(x: float, timeout_s: float) -> str:
    return f"> {timeout_s:.0f} s" if x == float("inf") else f"{x:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"needs {CHROMIUM} (apt-get install -y chromium)")
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        naive_dir = Path(tmp) / "naive"
        naive_dir.mkdir()
        shutil.copy(REPO / "scripts" / "naive_page.py", naive_dir / "naive_page.py")
        (naive_dir / "static").symlink_to(REPO / "dashboard" / "static")
        cases = [("curated", None)] + [(f"{n:,}", n) for n in args.sizes]
        for label, n in cases:
            folder = Path(tmp) / f"case_{label.replace(',', '')}"
            folder.mkdir()
            ev = model.load_curated_events() if n is None else synthetic_events(n)
            geodata = geodata_with(ev, folder)
            results = {}
            pages = [("ours", REPO / "dashboard" / "app.py")]
            if n is not None:
                pages.append(("naive", naive_dir / "naive_page.py"))
            for name, script in pages:
                server = Server(script, geodata)
                try:
                    if name == "ours":  # warm our server's caches (the naive page has none)
                        measure(browser, server.url, args.timeout)
                    results[name] = measure(browser, server.url, args.timeout)
                finally:
                    server.stop()
                r = results[name]
                print(f"  {label:>8} {name:<6} first {fmt_s(r.first_s, args.timeout)}  "
                      f"toggle {fmt_s(r.toggle_s, args.timeout)}  date "
                      f"{fmt_s(r.date_s, args.timeout)}  {r.bytes_first / 1e6:.1f} MB",
                      flush=True)
            rows.append((label, results))
        browser.close()

    print("\nDashboard benchmark (headless Chromium; ours measured on a second load, warm caches)")
    head = (f"{'events':>9} | {'first render':^23} | {'toggle type':^23} | {'date step':^23} | "
            f"{'MB to browser':^17}")
    print(head)
    print(f"{'':>9} | {'ours':>7} {'naive':>7} {'ratio':>7} | {'ours':>7} {'naive':>7} "
          f"{'ratio':>7} | {'ours':>7} {'naive':>7} {'ratio':>7} | {'ours':>7} {'naive':>7}")

    def cell(o: float, nv: float | None) -> str:
        if nv is None:
            return f"{o:>6.2f}s {'—':>7} {'—':>7}"
        ratio = "∞" if o == 0 else (f"≥{args.timeout / o:,.0f}×" if nv == float("inf")
                                    else f"{nv / o:,.1f}×")
        nvs = f"{'>' + str(int(args.timeout)):>6}s" if nv == float("inf") else f"{nv:>6.2f}s"
        return f"{o:>6.2f}s {nvs} {ratio:>7}"

    summary = {}
    for label, res in rows:
        o, nv = res["ours"], res.get("naive")
        print(f"{label:>9} | {cell(o.first_s, nv.first_s if nv else None)} | "
              f"{cell(o.toggle_s, nv.toggle_s if nv else None)} | "
              f"{cell(o.date_s, nv.date_s if nv else None)} | {o.bytes_first / 1e6:>6.1f}  "
              f"{(nv.bytes_first / 1e6 if nv else float('nan')):>6.1f}")
        summary[label] = {"ours": o.__dict__, "naive": nv.__dict__ if nv else None}
    cur = rows[0][1]["ours"].first_s
    print(f"\ntarget first render ≤ 3 s with the curated data: {cur:.2f} s → "
          f"{'MET' if cur <= 3 else 'NOT MET'}")
    big = [r for label, r in rows if label == "100,000"]
    if big:
        o, nv = big[0]["ours"], big[0]["naive"]
        ratio = (args.timeout if nv.first_s == float("inf") else nv.first_s) / o.first_s
        print(f"target ≥ 10× the naive page at 100,000 events (first render): "
              f"{'≥' if nv.first_s == float('inf') else ''}{ratio:,.1f}× → "
              f"{'MET' if ratio >= 10 else 'NOT MET'}")
    if args.json:
        args.json.write_text(json.dumps(summary, default=str, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
