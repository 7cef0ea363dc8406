"""Shared fixtures: a real Streamlit server and a headless Chromium for the browser tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
_SERVER_LOGS: list[Path] = []  # the browser tests' server log, shown when one of them fails


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The event store (GeoPackage) the browser tests' server uses ($DASHBOARD_STORE)."""
    return tmp_path_factory.mktemp("store") / "e.gpkg"


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory, store_path: Path) -> Iterator[str]:
    """Start `streamlit run dashboard/app.py` on a free port; yield its URL; stop it."""
    port = _free_port()
    env = {**os.environ, "DASHBOARD_STORE": str(store_path)}
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    _SERVER_LOGS.append(log_path)
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("the Streamlit server did not start within 90 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install -y chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def default_signals() -> None:
    """``preexec_fn`` for a child that must react to SIGTERM/SIGINT/SIGHUP: start it with
    their default handling even when the tests run under ``nohup`` or in a background job
    (which ignore SIGHUP or SIGINT, and a child inherits that; the product then rightly
    keeps ignoring them)."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failed browser test's report ends with the last lines of the server's log (a CI run
    that fails only there can then be read without the machine)."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and "app_url" in getattr(item, "fixturenames", ()) and _SERVER_LOGS:
        try:
            lines = _SERVER_LOGS[-1].read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        report.sections.append(("Streamlit server log (last 80 lines)",
                                "\n".join(lines[-80:]) or "(empty)"))
