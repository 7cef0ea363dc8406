"""The map's update script (dashboard/page_map.py): each dynamic group is built in the browser
only when its content at its position changed (static/dash/view.js keeps the others)."""

from __future__ import annotations

import os
import re

from dashboard import page_layers, page_map


def _js(spec: dict, idx: int) -> str:
    return page_map._group_js(page_map._dump(spec), idx)


def _key(js: str) -> tuple[int, str]:
    m = re.match(r'var feature_group_feature_group_(\d+) = window\.__dashSlot\((\d+), "(\w+)", '
                 r"function \(\) \{\n", js)
    assert m and m.group(1) == m.group(2), js[:200]
    return int(m.group(2)), m.group(3)


def test_a_group_is_wrapped_in_its_slot_with_a_key_of_its_content_and_position():
    a = page_layers.highlight_group(26.0, 62.0, "Saravan · 2024-01-18", focus="E1")
    b = page_layers.highlight_group(27.0, 63.0, "Panjgur · 2024-01-18", focus="E2")
    pos, key = _key(_js(a, 5))
    assert pos == 5
    assert _key(_js(a, 5)) == (5, key)  # the same content at the same place: kept
    assert _key(_js(b, 5))[1] != key  # other content: built
    assert _key(_js(a, 6))[1] != key  # another position (its script names differ): built
    js = _js(a, 5)
    assert js.rstrip().endswith("return feature_group_feature_group_5;\n});")
    assert "map_div" in js and "Saravan" in js
    # streamlit-folium removes every layer listed in window.feature_group on an update, so
    # the groups the slots keep must never be listed there
    assert "window.feature_group" not in js


def test_a_label_from_data_stays_escaped_in_the_group_script():
    js = _js(page_layers.highlight_group(26.0, 62.0, "<img src=x onerror=alert(1)> · 2024",
                                         focus="E1"), 3)
    assert "<img src=x" not in js


def test_old_base_scripts_of_other_versions_are_removed_and_the_rest_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(page_map, "GEN_DIR", tmp_path)
    now = 1_800_000_000.0
    old = now - page_map.OLD_BASE_AGE_S - 60
    recent = now - 3600
    files = {"base-0123456789abcdef.js": old,  # another version, unused for long: removed
             "base-fedcba9876543210.js": recent,  # another version, served lately: kept
             "base-00000000000000aa.js": old,  # this version: kept however old
             ".base-k3j4h5.part": old,  # a write that never finished: removed
             ".base-new.part": recent,  # a write going on: kept
             "base-notahash.js": old, "notes.txt": old}  # not ours: kept
    for name, t in files.items():
        (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, (t, t))
    removed = page_map.remove_old_base_scripts(keep="base-00000000000000aa.js", now=now)
    assert sorted(removed) == [".base-k3j4h5.part", "base-0123456789abcdef.js"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        set(files) - {".base-k3j4h5.part", "base-0123456789abcdef.js"})


def test_old_base_scripts_in_a_missing_folder_is_not_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(page_map, "GEN_DIR", tmp_path / "missing")
    assert page_map.remove_old_base_scripts(keep="base-00000000000000aa.js") == []


def test_the_static_group_sets_what_the_map_reports_and_reports_the_view_when_that_starts():
    """The first group of every update says which values the map sends the page (its clicks;
    its bounds and zoom too while it tracks its view): switching needs no new map."""
    def static_js(report: list[str] | None) -> str:
        spec = {"name": "Static layers", "control": False,
                "layers": [{"visible": ["border"], "quiet": None, "report": report}]}
        return _js(spec, 0)

    view = static_js(["last_clicked", "bounds", "zoom"])
    assert "g.returned_objects = report;" in view
    assert '})(map_div, ["last_clicked", "bounds", "zoom"]);' in view
    # the view shown when reporting starts is sent at once (streamlit-folium sends on moveend)
    assert 'map.fire("moveend")' in view
    assert '})(map_div, ["last_clicked"]);' in static_js(["last_clicked"])
    assert "returned_objects" not in static_js(None)  # left as the map was mounted with
