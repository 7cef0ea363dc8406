"""The map on the page: streamlit-folium's frontend fed with cached scripts (fast reruns).

Why not ``st_folium(...)`` directly: it re-renders the whole folium map and every feature
group to JavaScript on every rerun (about 1.5 s for our layers on this machine) and sends the
static layers again each time. Here

- the base map *with the static layers* (basemap, provinces, countries, border, places and
  their discs) is rendered once per server; the browser builds it once per session (the
  component is never re-mounted because this script never changes);
- switching a static layer on or off sends a one-line visibility list, not the layer;
- each dynamic group (events, results, legend, measurement, selection) is rendered to
  JavaScript once per content and cached, so an unchanged group costs a dictionary lookup;
- the browser builds only the groups whose content changed since its last update and keeps
  the others on the map as they are (window.__dashSlot in static/dash/view.js).

The DOM is the same as st_folium's (iframe ``streamlit_folium.st_folium``, Leaflet inside).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from textwrap import dedent
from typing import Any

import folium
import streamlit as st
import streamlit_folium as sf

from dashboard import mapview, page_data, page_layers

#: Static layers in the base map, in drawing order (bottom first), each switchable.
STATIC_KEYS = ("basemap", "provinces", "countries", "border", "places_discs", "places")


def static_spec(key: str) -> page_layers.LayerSpec:
    """Layer spec of one static layer; "places_discs" is the places' uncertainty discs alone."""
    if key == "places":
        return page_data.static_spec("places", discs=False)
    if key == "places_discs":
        spec = page_data.static_spec("places", discs=True)
        plain = page_data.static_spec("places", discs=False)
        return {**spec, "name": "Places: uncertainty discs",
                "layers": spec["layers"][: len(spec["layers"]) - len(plain["layers"])]}
    return page_data.static_spec(key)


def visible_static(layers_on: set[str], discs: bool) -> list[str]:
    """Static keys to show for the sidebar's layer switches."""
    keys = [k for k in ("basemap", "provinces", "countries", "border", "places")
            if k in layers_on]
    if "places" in layers_on and discs:
        keys.append("places_discs")
    return keys


@st.cache_resource(show_spinner=False)
def _base_parts() -> dict[str, Any]:
    """The base map with every static layer, rendered to the component's arguments once. It
    opens on the page's default view (the border), so the view the map reports first is the
    one the page drew for (with many events, no second drawing of the first map)."""
    from dashboard import page_events

    center, zoom = page_events.border_view()
    m = mapview.base_map(center=center, zoom=zoom)
    for key in STATIC_KEYS:
        fg = page_layers.to_group({**static_spec(key), "control": False})
        mapview.StaticRegistry(key).add_to(fg)
        fg.add_to(m)
    m.get_root().render()
    leaflet = sf._get_map_string(m)
    js_links = [src for _, src in m.default_js]
    served = _serve_base_script(leaflet)
    if served:  # the browser fetches Leaflet, our helpers and the static layers as one file
        js_links = [served]
        leaflet = f"var {_MAP_VAR} = window.{_BUILDER}();\n"
    return {
        "html": sf._get_html(m), "header": sf._get_header(m), "leaflet": leaflet,
        "id": sf.get_full_id(m), "js_links": js_links,
        "css_links": [href for _, href in m.default_css],
    }


_MAP_VAR = "map_div"  # the name streamlit-folium gives the map in its scripts
_BUILDER = "__dashBuildBaseMap"
#: Generated files under the app's static folder (served at /app/static/dash/gen/).
GEN_DIR = Path(__file__).resolve().parent / "static" / "dash" / "gen"


def _serve_base_script(leaflet: str) -> str | None:
    """Write Leaflet, our map helpers (mapview.MAP_SCRIPTS, in that order) and the base map's
    script (static layers included, ~0.65 MB) as one static file named by its content hash
    and return its URL: component updates carry a one-line script instead of the whole base
    map, and a new session fetches one file instead of four one after the other (the
    component loads its scripts in sequence; ~0.1 s saved). None (separate files and the
    base map inline) when the folder is read-only."""
    parts = [(mapview.STATIC_DIR / name).read_bytes() for name in mapview.MAP_SCRIPTS]
    body = b";\n".join([*parts, (f"window.{_BUILDER} = function () {{\n{leaflet}\n"
                                  f"return {_MAP_VAR};\n}};\n").encode()])
    name = f"base-{hashlib.sha256(body).hexdigest()[:16]}.js"
    target = GEN_DIR / name
    try:
        if not (target.is_file() and target.read_bytes() == body):
            GEN_DIR.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=GEN_DIR, prefix=".base-", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(body)
                os.chmod(tmp, 0o644)
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
    except OSError:
        return None
    remove_old_base_scripts(keep=name)
    return f"{mapview.STATIC_URL}/dash/gen/{name}"


#: A generated base script of another version is removed once unused for this long (seconds):
#: a server started before an upgrade may still serve it to its sessions for a while.
OLD_BASE_AGE_S = 2 * 24 * 3600.0


def remove_old_base_scripts(keep: str, now: float | None = None) -> list[str]:
    """Remove base scripts (``base-*.js``) of other versions of the layers or helpers that were
    last written or read more than OLD_BASE_AGE_S ago, and leftover temporary files of the
    same age; return the names removed. Each change of the static layers or of the map
    scripts writes a new ~0.8 MB file, so without this they would pile up."""
    now = time.time() if now is None else now
    removed: list[str] = []
    try:
        entries = list(os.scandir(GEN_DIR))
    except OSError:
        return removed
    for entry in entries:
        old_part = entry.name.startswith(".base-") and entry.name.endswith(".part")
        if entry.name == keep or not (old_part or re.fullmatch(r"base-[0-9a-f]{16}\.js",
                                                                entry.name)):
            continue
        try:
            st_ = entry.stat(follow_symlinks=False)
            if now - max(st_.st_mtime, st_.st_atime) > OLD_BASE_AGE_S:
                os.unlink(entry.path)
                removed.append(entry.name)
        except OSError:
            continue
    return removed


def _dump(spec: page_layers.LayerSpec) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"),
                      default=lambda o: o.item() if hasattr(o, "item") else str(o))


@functools.lru_cache(maxsize=256)
def _group_js(spec_json: str, idx: int) -> str:
    """JavaScript of one dynamic feature group at position ``idx`` (cached by its content and
    position, shared by all sessions: a plain LRU, since Streamlit's data cache would hash
    and copy the large scripts on every rerun). The browser builds it only when the group
    drawn at that position had other content (window.__dashSlot, static/dash/view.js); an
    unchanged group is kept."""
    spec = json.loads(spec_json)
    m = folium.Map(tiles=None)
    fg = page_layers.to_group(spec)
    fg._id = f"feature_group_{idx}"  # the name the layer control refers to
    fg.add_to(m)
    fg.render()
    body = dedent(sf.generate_leaflet_string(fg, base_id=fg._id)).replace(
        sf.get_full_id(m), _MAP_VAR)
    name = f"feature_group_{fg._id}"
    key = hashlib.sha256(body.encode()).hexdigest()[:20]
    return (f"var {name} = window.__dashSlot({idx}, {json.dumps(key)}, function () {{\n"
            f"{body}\nreturn {name};\n}});\n")


def _control_js(names: Sequence[tuple[int, str]]) -> str:
    """Leaflet layer control listing the dynamic groups (names are pre-escaped HTML)."""
    overlays = ",".join(f"{json.dumps(name)}: feature_group_feature_group_{i}"
                        for i, name in names)
    return ("var layer_control_layer_control = L.control.layers({}, {" + overlays + "}, "
            "{collapsed: true, autoZIndex: true}).addTo(map_div);\n"
            "window.layer_control = layer_control_layer_control;\n")


def show(specs: Sequence[page_layers.LayerSpec], static_on: Sequence[str], *, key: str,
         center: tuple[float, float], zoom: int, height: int,
         on_change: Callable[[], None], track_view: bool = False,
         quiet: bool = False, report_view: bool = False) -> Any:
    """Draw the map: the cached base map, ``static_on`` static layers visible, and ``specs``
    (dynamic layer specs, bottom first). Returns the map's value: its last click and, with
    ``track_view``, its bounds and zoom (each pan or zoom then reruns the caller). The two
    kinds are separate components (streamlit-folium fixes what it returns when it mounts),
    so switching ``track_view`` redraws the map once. ``report_view``: the map without
    ``track_view`` reports its bounds and zoom too, from this update on, without being drawn
    again (the update sets what it returns). ``quiet``: the page moves the map to
    ``center``/``zoom`` and has drawn its content already, so the map does not report that
    view back (one rerun less)."""
    base = _base_parts()
    clicks, view = ["last_clicked"], ["last_clicked", "bounds", "zoom"]
    returned = view if track_view else clicks  # fixed when the map mounts
    visibility = {"name": "Static layers", "control": False,
                  "layers": [{"visible": list(static_on),
                              "quiet": [*center, zoom] if quiet and track_view else None,
                              "report": view if track_view or report_view else clicks}]}
    groups = [visibility, *specs]
    feature_group = "".join(_group_js(_dump(s), i) for i, s in enumerate(groups))
    feature_group += f"window.__dashSlotsEnd({len(groups)});\n"
    control = _control_js([(i, s["name"]) for i, s in enumerate(groups)
                           if s.get("control", True)])
    hash_key = sf.generate_js_hash(base["leaflet"], key + (":view" if track_view else ""),
                                   False)

    def _changed() -> None:
        st.session_state[key] = st.session_state.get(hash_key, {})
        on_change()

    return sf._component_func(
        script=base["leaflet"], header=base["header"], html=base["html"], id=base["id"],
        key=hash_key, height=height, width=None, returned_objects=returned,
        default={k: None for k in returned}, zoom=zoom, center=list(center),
        feature_group=feature_group, return_on_hover=False, layer_control=control,
        pixelated=False, css_links=base["css_links"], js_links=base["js_links"],
        on_change=_changed, wrap_longitude=False,
    )
