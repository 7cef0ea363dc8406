"""Save the dashboard's default view as docs/screenshot.png (headless Debian Chromium).

    .venv/bin/python scripts/screenshot.py [--url URL] [--output docs/screenshot.png]

Without --url the page is started on a free port with an empty event store (so the picture
shows the curated events only, never the events in your own store) and stopped afterwards.
The picture is taken once the map shows its event markers and its Leaflet layers have stopped
changing, and Streamlit is idle.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
STATE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const idle = !!app && app.getAttribute("data-test-script-state") === "notRunning";
  const f = document.querySelector("IFRAME");
  const w = f && f.contentWindow;
  if (!w || !w.L) return "";
  const markers = w.document.querySelectorAll(".dash-icon").length;
  let layers = 0;
  for (const k of Object.keys(w)) {
    let v; try { v = w[k]; } catch (e) { continue; }
    if (v instanceof w.L.Map) { v.eachLayer(l => { layers += w.L.stamp(l); }); break; }
  }
  return idle && markers > 0 ? markers + ":" + layers : "";
}""".replace("IFRAME", MAP_IFRAME)


def _start(store: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DASHBOARD_STORE": str(store)}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--server.headless", "true", "--server.fileWatcherType", "none"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the page did not start within 120 s")


def wait_until_drawn(page, timeout_s: float = 120.0, quiet_s: float = 1.5) -> None:
    """Until the map shows markers and nothing changed for ``quiet_s`` while Streamlit idles."""
    t0 = time.time()
    last, since = None, time.time()
    while time.time() - t0 < timeout_s:
        state = page.evaluate(STATE_JS)
        if not state or state != last:
            last, since = state, time.time()
        elif time.time() - since >= quiet_s:
            return
        page.wait_for_timeout(100)
    raise SystemExit(f"the map was not drawn within {timeout_s:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running page (default: start one)")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "screenshot.png")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        proc, url = (None, args.url) if args.url else _start(Path(tmp) / "empty.gpkg")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1440, "height": 900},
                                        device_scale_factor=1)
                page.goto(url, timeout=120_000)
                page.wait_for_selector(MAP_IFRAME, timeout=120_000)
                wait_until_drawn(page)
                page.screenshot(path=str(args.output))
                browser.close()
        finally:
            if proc:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
    print(f"saved {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
