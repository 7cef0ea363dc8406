"""Helpers for the browser tests of every page control (tests/test_e2e_controls.py).

One Streamlit server per test module, with its own empty event store and a server log the
tests read for tracebacks; the browser itself is conftest's session ``browser`` fixture.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
FIRST_RENDER_MS = 90_000
STEP_MS = 45_000


@dataclass
class Server:
    """A running ``streamlit run dashboard/app.py``: its URL, log file and event store."""

    url: str
    log: Path
    store: Path
    proc: subprocess.Popen

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def tracebacks(self, since: int = 0) -> list[str]:
        """Lines of the server log (from byte ``since``) that show an error or traceback."""
        text = self.log_text()[since:]
        bad = re.compile(r"Traceback \(most recent call last\)|Error:|Exception:|"
                         r"StreamlitAPIException|Uncaught app exception")
        return [ln for ln in text.splitlines() if bad.search(ln)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(workdir: Path) -> Server:
    """Start the app on a free port with an empty store in ``workdir``; wait for health."""
    port = _free_port()
    store = workdir / "events.gpkg"
    log_path = workdir / "server.log"
    env = {**os.environ, "DASHBOARD_STORE": str(store)}
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the Streamlit server exited: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return Server(url, log_path, store, proc)
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail("the Streamlit server did not start within 120 s")


def stop_server(server: Server) -> None:
    """Stop the server this module started (by its own process handle)."""
    server.proc.terminate()
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(timeout=15)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One app server for the whole test module (its own store and log)."""
    srv = start_server(tmp_path_factory.mktemp("controls"))
    yield srv
    stop_server(srv)


def map_frame(pg):
    """The Leaflet document inside streamlit-folium's iframe, once event markers are drawn."""
    handle = pg.wait_for_selector(MAP_IFRAME, timeout=FIRST_RENDER_MS)
    frame = handle.content_frame()
    frame.wait_for_selector(".leaflet-container .dash-icon", timeout=FIRST_RENDER_MS)
    return frame


def wait_markers(pg, expected: int) -> int:
    """Wait until exactly ``expected`` event markers are drawn in the map; return the count."""
    pg.wait_for_function(
        f"""() => {{
          const f = document.querySelector("{MAP_IFRAME}");
          return f && f.contentDocument &&
            f.contentDocument.querySelectorAll('.dash-icon').length === {expected};
        }}""", timeout=STEP_MS)
    frame = pg.wait_for_selector(MAP_IFRAME, timeout=FIRST_RENDER_MS).content_frame()
    return frame.locator(".dash-icon").count()


def wait_map(pg, js_condition: str, arg=None, timeout: int = STEP_MS):
    """Wait until ``js_condition`` (a JS function of (map, arg)) is true inside the map frame,
    with ``map`` the Leaflet map; returns the frame."""
    frame = map_frame(pg)
    frame.wait_for_function(
        f"""(arg) => {{
          for (const v of Object.values(window)) {{
            if (v instanceof L.Map && document.body.contains(v.getContainer()))
              return ({js_condition})(v, arg);
          }}
          return false;
        }}""", arg=arg, timeout=timeout)
    return frame


def map_eval(frame, js_function: str, arg=None):
    """Evaluate ``js_function`` (a JS function of (map, arg)) on the Leaflet map."""
    return frame.evaluate(
        f"""(arg) => {{
          for (const v of Object.values(window)) {{
            if (v instanceof L.Map && document.body.contains(v.getContainer()))
              return ({js_function})(v, arg);
          }}
          throw new Error('no Leaflet map in the frame');
        }}""", arg)


# Streamlit draws a widget whose code is still loading as a grey skeleton of another height;
# when the code arrives the widget replaces it and everything under it moves. On a loaded CI
# machine that can happen after the script run has ended, so a click aimed at a spot measured
# before lands elsewhere (a row select that selected nothing, CI of stop 19).
PAGE_SETTLED_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  return ![...document.querySelectorAll('[data-testid=stSkeleton]')]
    .some(e => e.getBoundingClientRect().height > 0); }"""


def wait_settled(pg, timeout: int = STEP_MS) -> None:
    """Wait until no script run is going on and no widget on the page is still a skeleton."""
    pg.wait_for_function(PAGE_SETTLED_JS, timeout=timeout, polling=100)


def wait_grid(pg, grid, timeout: int = STEP_MS) -> None:
    """Wait until the st.dataframe ``grid`` is drawn (its canvas, not a skeleton) and the
    page has stopped moving (wait_settled)."""
    grid.locator("canvas[data-testid=data-grid-canvas]").first.wait_for(timeout=timeout)
    wait_settled(pg, timeout)


def click_grid(pg, grid, x: float, y: float, timeout: int = STEP_MS) -> None:
    """Click the st.dataframe ``grid`` at (x, y) pixels from its top left corner, as a person
    does once the table is drawn and the page has stopped moving (wait_grid).
    Rows are 35 px high under a 35 px header: the first row's selection cell is (15, 53)."""
    wait_grid(pg, grid, timeout)
    top = grid.locator(".dvn-scroller").first  # the grid's layer that takes the pointer
    top.scroll_into_view_if_needed(timeout=timeout)
    outer, inner = grid.bounding_box(), top.bounding_box()
    top.click(position={"x": x - (inner["x"] - outer["x"]), "y": y - (inner["y"] - outer["y"])},
              timeout=timeout)


def select_row(pg, grid, row: int = 1, timeout: int = STEP_MS) -> None:
    """Select the table's ``row``-th visible row (1 = first) with its selection cell."""
    click_grid(pg, grid, 15, 35 * row + 18, timeout)
