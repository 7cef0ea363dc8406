"""Benchmark the dashboard page against a naive streamlit-folium page, side by side, in one run.

    .venv/bin/python scripts/bench_dashboard.py            # curated, 10,000 and 100,000 events
    .venv/bin/python scripts/bench_dashboard.py --sizes 10000 100000 1000000
    .venv/bin/python scripts/bench_dashboard.py --quick    # curated events only
    .venv/bin/python scripts/bench_dashboard.py --sizes 10000 --repeats 3 --timeout 60

Both pages run under Streamlit on this machine and are driven by headless Debian Chromium
(Playwright, /usr/bin/chromium). The naive page (scripts/naive_page.py) has the same data and
controls but builds a new folium map with every layer and one marker per event on every rerun.
Synthetic events (random points around the border, 15 Dec 2023 – 27 Jan 2024, four types) are
written to a temporary GeoPackage store that both pages read through $DASHBOARD_STORE (nothing
is committed; stores are kept in the temp folder between runs to save the import time).

Measured for each page and size:
  - first map: a new browser session on a warm server, from navigation until the map's Leaflet
    layers first show the events (.dash-icon markers, or H3 hexagons with many events) as they
    then stay: confirmed when Streamlit is idle and the map unchanged for 0.5 s (a later run
    that changes the map moves the time to that change);
  - controls: from the same navigation until the sidebar's type checkbox and the Measure tab
    are visible (our page draws the map first and its controls after it; no target);
  - each interaction (type toggle, day step, pick a site, 45/90 km border buffer, table row
    select): from the committing click (the checkbox, the button, the option picked in an
    open list, Enter after typing radii, the click on a table row) until the "Showing …" line
    and the map have both settled (the map's layers stop changing for 0.3 s and Streamlit is
    idle); opening a list, typing and finding the table on screen are not timed, for either
    page; median of --repeats;
  - bytes: WebSocket payload bytes between browser and server per interaction (both ways).
Targets (issues 8, 11): curated first map ≤ 2.5 s; every interaction ≤ 0.5 s median and ≥ 3×
faster than the naive page; ≤ 1 s at 10,000 events; 100,000: first map ≤ 4 s, ≤ 2 s;
1,000,000 (--sizes 1000000): first map ≤ 8 s, ≤ 3 s. An operation that does not
finish within --timeout is shown as "> T s". The machine's other load is not controlled:
figures vary by a few tenths of a second between runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from dashboard import events as model  # noqa: E402
from dashboard.errors import DashboardError  # noqa: E402
from dashboard.mapview import EVENT_STYLES  # noqa: E402
from dashboard.store import EventStore  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
CATEGORIES = ("strike", "retaliation", "attack", "diplomatic")
INTERACTIONS = ("type toggle", "day step", "pick a site", "buffer", "row select")
INF = float("inf")
SYNTHETIC_V = 1  # bump when synthetic_events() changes (cached stores are keyed by it)

# Visible labels of the controls; both pages use them (hooks that survive a page rewrite).
TOGGLE_TYPE = "diplomatic"  # the sidebar checkbox labelled with this type's legend label
STEP_BACK, STEP_FWD = re.compile(r"◀"), re.compile(r"▶")
MEASURE_TAB, SITE_FROM, SITE_TO = "Measure", "From", "To"
SITE_A, SITES_B = "Panjgur", ("Saravan", "Turbat")
BUFFER_TAB, BUFFER_TARGET, BUFFER_RADII = "Buffers", "Buffer around", "Radii in km"
BUFFER_TARGET_OPTION, RADII = "Iran–Pakistan border", ("45", "90")
EVENT_TABLE_COLUMN = "Location"  # the event table is the data grid with this column

#: One timed user action: a callable, or (untimed preparation, timed commit).
Action = Callable[[], None] | tuple[Callable[[], None], Callable[[], None]]

TARGETS = {"curated": {"first map": 2.5, "interaction": 0.5, "ratio": 3.0},
           "10,000": {"interaction": 1.0}, "100,000": {"first map": 4.0, "interaction": 2.0},
           "1,000,000": {"first map": 8.0, "interaction": 3.0}}

MAP_STATE_JS = """() => {
  const out = {map: "", markers: 0, caption: "", running: false, error: false};
  // both pages write the line with st.caption; look no wider (this runs every 50 ms)
  const cap = [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
      .find(e => /^Showing\\b/.test((e.textContent || "").trim()));
  out.caption = cap ? cap.textContent.trim() : "";
  const app = document.querySelector('[data-testid="stApp"]');
  const run = app ? app.getAttribute("data-test-script-state") : "initial";
  out.running = run !== "notRunning" && run !== "compilationError";
  out.error = !!document.querySelector('[data-testid="stException"]');
  const f = document.querySelector("IFRAME");
  const w = f && f.contentWindow;
  if (!w || !w.L) return out;
  if (!w.__benchToken) w.__benchToken = Math.random().toString(36).slice(2, 8);
  out.markers = w.document.querySelectorAll(".dash-icon").length;
  // the map found last time, while it still owns its container (a page may make a new one)
  const c = w.__benchMap && w.__benchMap._container;
  const live = c && c._leaflet_id === w.__benchMap._leaflet_id && w.document.body.contains(c);
  const maps = live ? [w.__benchMap] : Object.keys(w).map(k => {
    try { return w[k]; } catch (e) { return null; } });
  for (const v of maps) {
    if (v instanceof w.L.Map) {
      w.__benchMap = v;
      let n = 0, ids = 0;
      v.eachLayer(l => { n++; ids += w.L.stamp(l);
        // event hexagons (many events) count as drawn events too
        const p = l.feature && l.feature.properties;
        if (p && typeof p.tip === "string" && p.tip.indexOf("H3 cell") >= 0) out.markers++; });
      out.map = w.__benchToken + ":" + w.L.stamp(v) + ":" + n + ":" + ids + ":" + out.markers;
      break;
    }
  }
  return out;
}""".replace("IFRAME", MAP_IFRAME)


# ------------------------------------------------------------------------------ data
def synthetic_events(n: int, seed: int = 0) -> pd.DataFrame:
    """n events around the Iran–Pakistan border, 15 Dec 2023 – 27 Jan 2024, four types."""
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2023-12-15") + pd.to_timedelta(rng.integers(0, 44, n), unit="D")
    return model.normalise(pd.DataFrame({
        "event_id_cnty": [f"SYN{i}" for i in range(n)],
        "event_date": days.strftime("%Y-%m-%d"),
        "latitude": rng.uniform(25.0, 30.5, n), "longitude": rng.uniform(58.0, 66.0, n),
        "event_type": "Explosions/Remote violence", "sub_event_type": "Air/drone strike",
        "category": rng.choice(CATEGORIES, n), "country": "Pakistan",
        "location": [f"Synthetic {i}" for i in range(n)], "notes": "synthetic benchmark event",
        "geo_precision": 1, "fatalities": 0, "uncertainty_km": 2.0,
    }))


def store_with(n: int | None, folder: Path) -> Path:
    """A GeoPackage store holding n synthetic events (or none), reused between runs."""
    target = folder / f"store_{n or 0}.gpkg"
    if not n:
        return target  # an absent store reads as empty
    cache = Path(tempfile.gettempdir()) / "dashboard-bench" / f"synthetic-{n}-v{SYNTHETIC_V}.gpkg"
    if cache.exists():
        try:
            EventStore(cache).check()  # a store written by an older store format is redone
        except DashboardError:
            cache.unlink()
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        print(f"  writing {n:,} synthetic events to {cache} (once) …", flush=True)
        part = cache.with_name(cache.name + ".part.gpkg")
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        EventStore(part).upsert(synthetic_events(n), origin="bench", label="synthetic")
        part.rename(cache)
    shutil.copy(cache, target)
    return target


# ---------------------------------------------------------------------------- servers
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`streamlit run SCRIPT` on a free port with DASHBOARD_STORE set; stopped by stop()."""

    def __init__(self, script: Path, store: Path, cwd: Path) -> None:
        self.port = _free_port()
        env = {**os.environ, "DASHBOARD_STORE": str(store), "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.port",
             str(self.port), "--server.address", "127.0.0.1", "--server.headless", "true",
             "--server.maxMessageSize", "2000", "--server.fileWatcherType", "none",
             "--server.enableStaticServing", "true", "--browser.gatherUsageStats", "false"],
            cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"streamlit did not start for {script}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------------------- driving
class Session:
    """One browser context on a page, counting WebSocket payload bytes both ways."""

    def __init__(self, browser, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1440, "height": 1000})
        self.page = self.context.new_page()
        self.url = url
        self.bytes = 0
        self.errors = 0
        self.page.on("websocket", self._on_ws)

    def _on_ws(self, ws) -> None:
        def add(payload) -> None:
            self.bytes += len(payload) if isinstance(payload, bytes | str) else 0

        ws.on("framereceived", add)
        ws.on("framesent", add)

    def state(self) -> dict:
        try:
            return self.page.evaluate(MAP_STATE_JS)
        except PlaywrightError:  # a frame navigating while we look
            return {"map": "", "markers": 0, "caption": "", "running": True, "error": False}

    def first_map(self, timeout_s: float) -> float:
        """Seconds from navigation until the map first showed the markers and layers it then
        keeps: confirmed once Streamlit is idle and the map has not changed for 0.5 s (a
        later run that leaves the map as it is does not count; one that changes it does)."""
        t0 = self.t_nav = time.perf_counter()
        try:
            self.page.goto(self.url, timeout=int(timeout_s * 1000))
        except PlaywrightTimeout:
            return INF
        last, shown_at, since = None, None, None
        while time.perf_counter() - t0 < timeout_s:
            s = self.state()
            now = time.perf_counter()
            drawn = bool(s["map"]) and s["markers"] > 0
            if not drawn or s["map"] != last:
                last, shown_at = (s["map"] if drawn else None), now
            if drawn and not s["running"]:
                since = since or now
                if now - since >= 0.5:
                    return shown_at - t0
            else:
                since = None
            self.page.wait_for_timeout(50)
        return INF

    def controls(self, timeout_s: float) -> float:
        """Seconds from the navigation of first_map until the sidebar's type checkbox and
        the Measure tab are visible (the page can be operated)."""
        try:
            _sidebar_checkbox(self.page, EVENT_STYLES[TOGGLE_TYPE].label).wait_for(
                state="visible", timeout=int(timeout_s * 1000))
            self.page.get_by_role("tab", name=MEASURE_TAB).first.wait_for(
                state="visible", timeout=int(timeout_s * 1000))
        except (PlaywrightError, PlaywrightTimeout):
            return INF
        return time.perf_counter() - self.t_nav

    def settle(self, quiet_s: float = 0.3, timeout_s: float = 30.0) -> None:
        """Wait until Streamlit is idle and the map is unchanged for ``quiet_s`` (set-up steps)."""
        t0 = time.perf_counter()
        last, since = None, time.perf_counter()
        while time.perf_counter() - t0 < timeout_s:
            s = self.state()
            key = (s["map"], s["caption"], s["running"])
            if key != last or s["running"]:
                last, since = key, time.perf_counter()
            elif time.perf_counter() - since >= quiet_s:
                return
            self.page.wait_for_timeout(50)

    def timed(self, action: Action, timeout_s: float) -> tuple[float, int]:
        """(seconds, WebSocket bytes) from the committing step of ``action`` (the click, the
        option chosen, Enter) until the caption or the map changed and the page settled: the
        later of the last change and Streamlit becoming idle, with nothing changing for 0.3 s
        after it; (inf, bytes) on timeout. An action given as (prepare, commit) runs prepare
        (opening a list, typing) untimed first: the wait a person sees starts at the commit."""
        prepare, commit = action if isinstance(action, tuple) else (None, action)
        if prepare is not None:
            prepare()
        before = self.state()
        self.bytes = 0
        t0 = time.perf_counter()
        commit()
        last_map, last_cap = before["map"], before["caption"]
        changed_at = idle_at = None
        while time.perf_counter() - t0 < timeout_s:
            s = self.state()
            now = time.perf_counter()
            if s["map"] != last_map or s["caption"] != last_cap:
                last_map, last_cap, changed_at = s["map"], s["caption"], now
            if s["running"]:
                idle_at = None
            elif idle_at is None:
                idle_at = now
            if s["error"]:
                self.errors += 1
            if (changed_at is not None and idle_at is not None and s["map"]
                    and now - max(changed_at, idle_at) >= 0.3):
                return max(changed_at, idle_at) - t0, self.bytes
            self.page.wait_for_timeout(40)
        return INF, self.bytes

    def close(self) -> None:
        self.context.close()


def _sidebar_checkbox(page, text: str):
    return page.locator("[data-testid=stSidebar] label").filter(has_text=text).first


def _button(page, pattern: re.Pattern):
    return page.locator("[data-testid=stSidebar]").get_by_role("button", name=pattern).first


def _choose_steps(page, label: str, option: str) -> Action:
    """(open the select box and type, click the option): choosing an option."""
    box = page.locator("[data-testid=stSelectbox]").filter(
        has=page.get_by_text(label, exact=True)).first

    def prepare() -> None:
        box.locator("input").click()
        box.locator("input").fill(option)

    def commit() -> None:
        page.get_by_role("option", name=re.compile(rf"^{re.escape(option)}\b")).first.click()

    return prepare, commit


def _choose(page, label: str, option: str) -> None:
    prepare, commit = _choose_steps(page, label, option)
    prepare()
    commit()


def _radii_steps(page, text: str) -> Action:
    """(type the radii, press Enter)."""
    box = page.get_by_label(re.compile(re.escape(BUFFER_RADII))).first
    return (lambda: box.fill(text)), (lambda: box.press("Enter"))


def _row_steps(page, row: int) -> Action:
    """(find the event table on screen, click its row ``row``): selecting a table row."""
    where = {}

    def prepare() -> None:
        grid = page.locator("[data-testid=stDataFrame]").filter(
            has=page.locator("[role=columnheader]", has_text=re.compile(
                rf"^{re.escape(EVENT_TABLE_COLUMN)}$"))).first
        grid.scroll_into_view_if_needed()
        where["box"] = grid.bounding_box()

    def commit() -> None:
        box = where["box"]
        page.mouse.click(box["x"] + 18, box["y"] + 35 * (row + 1) + 17)

    return prepare, commit


@dataclass
class PageResult:
    first_s: float = INF
    controls_s: float = INF
    times: dict[str, list[float]] = field(default_factory=dict)
    bytes: dict[str, list[int]] = field(default_factory=dict)
    note: str = ""
    ran: bool = True

    def median(self, name: str) -> float | None:
        """Median seconds (inf: timed out), or None when the interaction was not measured."""
        vals = self.times.get(name)
        return statistics.median(vals) if vals else None

    def median_bytes(self, name: str) -> float:
        vals = self.bytes.get(name) or []
        return statistics.median(vals) if vals else float("nan")


def measure_page(browser, url: str, *, repeats: int, timeout_s: float, slow_s: float,
                 label: str) -> PageResult:
    """First map and controls (medians over up to ``repeats`` new sessions) and each
    interaction on one page (a warm-up visit first)."""
    res = PageResult()
    warm = Session(browser, url)
    warm_first = warm.first_map(timeout_s * 2)
    warm.close()
    if warm_first == INF:
        res.note = f"the map never appeared within {timeout_s * 2:.0f} s (warm-up visit)"
        return res
    firsts, controls = [], []
    for i in range(repeats):  # new sessions; the last one goes on to the interactions
        s = Session(browser, url)
        firsts.append(s.first_map(timeout_s))
        controls.append(s.controls(timeout_s) if firsts[-1] != INF else INF)
        if i == repeats - 1 or firsts[-1] == INF or firsts[-1] > slow_s:
            break
        s.close()
    res.first_s, res.controls_s = statistics.median(firsts), statistics.median(controls)
    print(f"    {label:<6} first map    " + ", ".join(fmt_s(t, timeout_s) for t in firsts)
          + "; controls " + ", ".join(fmt_s(t, timeout_s) for t in controls), flush=True)
    try:
        if firsts[-1] == INF:
            res.note = f"the map never appeared within {timeout_s:.0f} s"
            return res
        s.settle()
        page = s.page
        toggle = EVENT_STYLES[TOGGLE_TYPE].label

        def run(name: str, actions: list[Action],
                setup: Callable[[], None] | None = None) -> None:
            try:
                if setup:
                    setup()
                    s.settle()
                for i in range(repeats):
                    t, b = s.timed(actions[i % len(actions)], timeout_s)
                    res.times.setdefault(name, []).append(t)
                    res.bytes.setdefault(name, []).append(b)
                    s.settle()
                    if t == INF or t > slow_s:  # a slow page: one sample is enough
                        break
            except (PlaywrightError, PlaywrightTimeout, TypeError) as err:
                res.times.setdefault(name, [])
                res.note += f"{name}: control not found ({str(err).splitlines()[0][:80]}); "
            print(f"    {label:<6} {name:<12} " + ", ".join(fmt_s(t, timeout_s) for t in
                                                         res.times.get(name, [])), flush=True)

        run("type toggle", [lambda: _sidebar_checkbox(page, toggle).click()])
        run("day step", [lambda: _button(page, STEP_BACK).click(),
                         lambda: _button(page, STEP_FWD).click()])

        def site_setup() -> None:
            page.get_by_role("tab", name=MEASURE_TAB).first.click()
            _choose(page, SITE_FROM, SITE_A)

        run("pick a site", [_choose_steps(page, SITE_TO, o) for o in SITES_B],
            setup=site_setup)

        def buffer_setup() -> None:
            page.get_by_role("tab", name=BUFFER_TAB).first.click()
            _choose(page, BUFFER_TARGET, BUFFER_TARGET_OPTION)

        run("buffer", [_radii_steps(page, r) for r in RADII], setup=buffer_setup)
        run("row select", [_row_steps(page, 0), _row_steps(page, 1)])
        if s.errors:
            res.note += f"Streamlit showed an exception box {s.errors} time(s); "
    finally:
        s.close()
    return res


def measure_floor(browser, tmp: Path, args: argparse.Namespace) -> float:
    """Median first-map seconds of scripts/floor_page.py over --repeats new sessions."""
    folder = tmp / "floor"
    folder.mkdir()
    shutil.copy(REPO / "scripts" / "floor_page.py", folder / "floor_page.py")
    (folder / "static").symlink_to(REPO / "dashboard" / "static")
    print("  floor page …", flush=True)
    server = Server(folder / "floor_page.py", tmp / "no-store.gpkg", REPO)
    try:
        warm = Session(browser, server.url)
        warm.first_map(args.timeout)
        warm.close()
        times = []
        for _ in range(args.repeats):
            s = Session(browser, server.url)
            try:
                times.append(s.first_map(args.timeout))
            finally:
                s.close()
    finally:
        server.stop()
    print(f"    floor  first map    {', '.join(fmt_s(t, args.timeout) for t in times)}",
          flush=True)
    return statistics.median(times)


# ---------------------------------------------------------------------------- report
def fmt_s(x: float | None, timeout_s: float) -> str:
    if x is None:
        return "n/a"
    return f"> {timeout_s:.0f} s" if x == INF else f"{x:.2f} s"


def fmt_bytes(b: float) -> str:
    if b != b:  # NaN
        return "—"
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if b >= size:
            return f"{b / size:,.1f} {unit}"
    return f"{b:,.0f} B"


def ratio(ours: float | None, naive: float | None, timeout_s: float) -> str:
    if ours is None or naive is None or ours == INF:
        return "—"
    if naive == INF:
        return f"≥ {timeout_s / max(ours, 1e-3):,.0f}×"
    return f"{naive / max(ours, 1e-3):,.1f}×"


def verdict(size: str, name: str, ours: float | None, naive: float | None) -> str:
    t = TARGETS.get(size, {})
    if name == "controls":
        return "no target"
    limit = t.get("first map") if name == "first map" else t.get("interaction")
    if limit is None:
        return ""
    ok = ours is not None and ours <= limit
    text = f"≤ {limit:g} s"
    if name != "first map" and "ratio" in t:
        ok = ok and naive is not None and (naive == INF or naive >= t["ratio"] * ours)
        text += f", ≥ {t['ratio']:g}× naive"
    return f"{text}: {'met' if ok else 'NOT met'}"


def print_table(rows: list[tuple[str, PageResult, PageResult]], repeats: int,
                timeout_s: float) -> None:
    print("\nDashboard benchmark: ours vs a naive streamlit-folium page, headless Chromium, "
          "same machine, one run")
    print(f"(medians of up to {repeats} samples per interaction, n = samples ours/naive: one "
          "sample when an operation takes over 5 s;\n bytes = WebSocket payload per interaction, "
          "both ways, median)\n")
    head = (f"{'events':<9} {'measure':<12} {'ours':>9} {'naive':>9} {'ratio':>8} {'n':>5} "
            f"{'bytes ours':>11} {'bytes naive':>12}  target")
    print(head)
    print("-" * (len(head) + 28))
    for size, ours, naive in rows:
        names = ["first map", "controls", *INTERACTIONS]
        once = {"first map": "first_s", "controls": "controls_s"}
        for name in names:
            o = (getattr(ours, once[name]) if ours.ran else None) if name in once \
                else ours.median(name)
            nv = (getattr(naive, once[name]) if naive.ran else None) if name in once \
                else naive.median(name)
            ob = "" if name in once else fmt_bytes(ours.median_bytes(name))
            nb = "" if name in once else fmt_bytes(naive.median_bytes(name))
            n = "" if name in once else \
                f"{len(ours.times.get(name, []))}/{len(naive.times.get(name, []))}"
            print(f"{size:<9} {name:<12} {fmt_s(o, timeout_s):>9} {fmt_s(nv, timeout_s):>9} "
                  f"{ratio(o, nv, timeout_s):>8} {n:>5} {ob:>11} {nb:>12}  "
                  f"{verdict(size, name, o, nv)}")
        for who, r in (("ours", ours), ("naive", naive)):
            if r.note:
                print(f"{'':<9} note ({who}): {r.note}")
    print("\nTargets (issues 8 and 11): curated first map ≤ 2.5 s; each interaction ≤ 0.5 s "
          "median and ≥ 3× faster than naive;\n10,000 events ≤ 1 s per interaction; 100,000 "
          "events first map ≤ 4 s, ≤ 2 s per interaction;\n1,000,000 events first map ≤ 8 s, "
          "≤ 3 s per interaction.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="curated events only")
    parser.add_argument("--naive-up-to", type=int, default=None, metavar="N",
                        help="run the naive page only for sizes up to N events (it needs about "
                             "a minute per interaction at 10,000)")
    parser.add_argument("--no-curated", action="store_true",
                        help="only the synthetic --sizes (skip the curated case)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5, help="samples per interaction")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per operation")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"needs {CHROMIUM} (apt-get install -y chromium)", file=sys.stderr)
        return 2
    cases: list[tuple[str, int | None]] = [] if args.no_curated else [("curated", None)]
    if not args.quick:
        cases += [(f"{n:,}", n) for n in args.sizes]
    rows = []
    load_before = os.getloadavg()
    t_start = time.time()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        naive_dir = Path(tmp) / "naive"
        naive_dir.mkdir()
        shutil.copy(REPO / "scripts" / "naive_page.py", naive_dir / "naive_page.py")
        (naive_dir / "static").symlink_to(REPO / "dashboard" / "static")
        naive_failed_at = None
        floor = None if args.no_curated else measure_floor(browser, Path(tmp), args)
        for size, n in cases:
            store = store_with(n, Path(tmp))
            results = {}
            for who, script, cwd in (("ours", REPO / "dashboard" / "app.py", REPO),
                                     ("naive", naive_dir / "naive_page.py", REPO)):
                if who == "naive" and n and args.naive_up_to is not None \
                        and n > args.naive_up_to:
                    results[who] = PageResult(ran=False, note=f"not run: --naive-up-to "
                                              f"{args.naive_up_to:,}")
                    continue
                if who == "naive" and naive_failed_at is not None:
                    results[who] = PageResult(ran=False, note="not run: the naive page never "
                                              f"drew its map with {naive_failed_at} events")
                    continue
                print(f"  {size} events, {who} page …", flush=True)
                server = Server(script, store, cwd)
                try:
                    results[who] = measure_page(browser, server.url, repeats=args.repeats,
                                                timeout_s=args.timeout, slow_s=5.0, label=who)
                finally:
                    server.stop()
                print(f"    {who:<6} first map    {fmt_s(results[who].first_s, args.timeout)}",
                      flush=True)
            if results["naive"].first_s == INF and naive_failed_at is None:
                naive_failed_at = size
            rows.append((size, results["ours"], results["naive"]))
        browser.close()
    print_table(rows, args.repeats, args.timeout)
    if floor is not None:
        print(f"\nFloor: a page with only a title, a caption and a streamlit-folium map with one "
              f"marker shows its first map in {fmt_s(floor, args.timeout)} (median of "
              f"{args.repeats} new sessions,\nscripts/floor_page.py): Streamlit's and the map "
              "component's own start-up, below which no page can go on this machine.")
    load_after = os.getloadavg()
    print(f"\nMachine: {os.cpu_count()} CPU cores; 1-minute load average {load_before[0]:.1f} "
          f"before and {load_after[0]:.1f} after this run ({(time.time() - t_start) / 60:.0f} "
          "min): other work shared the CPU, so these are not quiet-machine figures.")
    if args.json:
        out = {size: {who: {"first_s": r.first_s, "times": r.times, "bytes": r.bytes,
                            "note": r.note} for who, r in (("ours", o), ("naive", nv))}
               for size, o, nv in rows}
        args.json.write_text(json.dumps(out, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
