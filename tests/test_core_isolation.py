"""Core modules never import Streamlit or folium (only the page and the map view may).

The list of core modules is computed from the files in dashboard/, so a new module is
covered without editing this test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dashboard"
UI_ONLY = ("streamlit", "folium", "streamlit_folium", "branca")


def _is_page_module(name: str) -> bool:
    return name in ("app", "mapview") or name.startswith("page_")


def core_modules() -> list[str]:
    """Every dashboard/*.py except the page (app.py, page_*.py) and the map view."""
    return sorted(f"dashboard.{p.stem}" if p.stem != "__init__" else "dashboard"
                  for p in PACKAGE.glob("*.py") if not _is_page_module(p.stem))


def test_the_list_is_computed_and_covers_the_known_core():
    mods = core_modules()
    for name in ("geodesy", "analysis", "sites", "claims", "locate", "events", "importers",
                 "store", "layers", "filters", "settings", "errors", "outputs", "cli",
                 "cli_measure", "cli_events", "__main__"):
        assert f"dashboard.{name}" in mods
    assert not any(m.split(".")[-1].startswith("page_") for m in mods)
    assert "dashboard.app" not in mods and "dashboard.mapview" not in mods


@pytest.mark.parametrize("module", core_modules())
def test_core_module_imports_neither_streamlit_nor_folium(module):
    code = textwrap.dedent(f"""
        import importlib, json, sys
        try:
            importlib.import_module({module!r})
        except SystemExit:  # dashboard.__main__ runs the CLI (usage error without args)
            pass
        print(json.dumps(sorted(m for m in sys.modules
                                if m.split(".")[0] in {list(UI_ONLY)!r})))
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, proc.stderr
    leaked = json.loads(proc.stdout.strip().splitlines()[-1])
    assert leaked == [], f"{module} imports {leaked}"
