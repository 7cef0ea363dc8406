"""Page tools: measuring, distance matrix, buffers/rings and the claims panel.

Each panel draws its widgets, calls one core function from :mod:`dashboard.analysis` (the same
one the CLI calls, so the numbers are identical) and returns layer specs for the map.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import page_layers
from dashboard.errors import DashboardError
from dashboard.escape import esc, md_escape
from dashboard.page_state import parse_radii
from dashboard.settings import KM_PER_MILE, KM_PER_NMI, PAGE_TABLE_ROWS

LIST_MODE = "Pick from lists"
CLICK_MODE = "Click two points on the map"
BORDER_TARGET = "border"
Callback = Callable[[], None]  # a widget callback (the page's rerun of the parts it changes)


@st.cache_data(show_spinner=False)
def site_options() -> dict[str, str]:
    """Searchable labels → site ids for every known place and curated event."""
    from dashboard import sites

    out = {}
    for s in sites.known_sites():
        label = f"{s.name} · {s.kind}" if s.kind else s.name
        if label in out:
            label = f"{label} ({s.id})"
        out[label] = s.id
    return out


def _label_for(site_id: str, options: dict[str, str]) -> str | None:
    return next((lbl for lbl, sid in options.items() if sid == site_id), None)


def _init_select(key: str, site_id: str, options: dict[str, str], default: str) -> None:
    """First value of a site picker: the permalink's site (a known id, or text the person
    typed, e.g. "26.37,63.49", kept as typed), else the default site."""
    if key not in st.session_state:
        st.session_state[key] = (_label_for(site_id, options) or site_id.strip()
                                 or _label_for(default, options))


def _choices(options: dict[str, str], key: str) -> list[str]:
    """The picker's list: every known site, plus the typed value it holds (if any)."""
    value = st.session_state.get(key)
    return [*options, value] if value and value not in options else list(options)


MAP_KEY = "map"


def on_map_change() -> bool:
    """st_folium's change callback: keep the last two map clicks (lat, lon) for measuring;
    True when this value brought a point to measure.

    A callback runs before the script, for every click, even when a quick second click
    interrupts the rerun of the first one, so no click is lost. Only a click not seen before
    counts, so a click made while picking from lists is not taken as a point later.
    """
    ss = st.session_state
    clicked = (ss.get(MAP_KEY) or {}).get("last_clicked")
    if not clicked:
        return False
    point = (round(float(clicked["lat"]), 5), round(float(clicked["lng"]), 5))
    if ss.get("_seen_click") == point:
        return False
    ss["_seen_click"] = point
    if ss.get("measure_mode") != CLICK_MODE:
        return False
    clicks = ss.setdefault("clicks", [])
    clicks.append(point)
    del clicks[:-2]
    return True


def _clear_clicks(then: Callback | None = None) -> None:
    """Forget the clicked points (before the script draws the count), so the same spot can
    be clicked again; then ``then`` (the page's rerun of the map and tools)."""
    st.session_state["clicks"] = []
    st.session_state.pop("_seen_click", None)
    if then is not None:
        then()


def _sites_to_measure(options: dict[str, str],
                      on_change: Callback | None) -> tuple[str, str] | None:
    """Draw the site pickers (or the clicked points) and return the pair to measure."""
    ss = st.session_state
    if ss.get("measure_mode") == CLICK_MODE:
        st.button("Clear clicked points", key="clear_clicks", on_click=_clear_clicks,
                  args=(on_change,))
        clicks = ss.get("clicks", [])
        st.caption(f"{len(clicks)} of 2 points clicked. Clicking again replaces the older one.")
        if clicks:
            st.caption("Clicked (lat, lon): " + " → ".join(f"{la:.5f}, {lo:.5f}"
                                                          for la, lo in clicks))
    else:
        hint = "Pick a place or type LAT,LON (e.g. 26.37,63.49)"
        st.selectbox("From", _choices(options, "measure_a"), key="measure_a",
                     placeholder=hint, accept_new_options=True, help=hint, on_change=on_change)
        st.selectbox("To", _choices(options, "measure_b"), key="measure_b", placeholder=hint,
                     accept_new_options=True, help=hint, on_change=on_change)
    return _pair(options)


def _pair(options: dict[str, str]) -> tuple[str, str] | None:
    """The two sites to measure from the panel's state: the clicked points ("LAT,LON") or
    the picked/typed values (a typed value, not in the list, goes to the core's resolver:
    "LAT,LON" or a site name); None until there are two."""
    ss = st.session_state
    if ss.get("measure_mode") == CLICK_MODE:
        clicks = ss.get("clicks", [])
        if len(clicks) < 2:
            return None
        return tuple(f"{lat},{lon}" for lat, lon in clicks[-2:])  # type: ignore[return-value]
    a, b = ss.get("measure_a"), ss.get("measure_b")
    if not a or not b:
        return None
    return options.get(a, a), options.get(b, b)


def measure_panel(initial: dict, *, draw: bool = True,
                  on_change: Callback | None = None) -> list[dict]:
    """Two sites → geodesic distance (km, mi, nmi), bearings and the path; plus a matrix.
    ``draw=False``: only the map's layer (the path), from the panel's state, no widgets.
    ``on_change``: called when a value that changes the map's path changes."""
    from dashboard import sites

    options = site_options()
    _init_select("measure_a", initial.get("a", ""), options, "sabz-koh")
    _init_select("measure_b", initial.get("b", ""), options, "panjgur")
    if draw:
        st.radio("Sites", [LIST_MODE, CLICK_MODE], key="measure_mode", horizontal=True,
                 label_visibility="collapsed", on_change=on_change)
    pair = _sites_to_measure(options, on_change) if draw else _pair(options)
    specs = []
    if pair:
        try:
            a, b = sites.resolve_site(pair[0]), sites.resolve_site(pair[1])
            res = sites.measure_distance(a, b)
        except DashboardError as err:
            if draw:
                st.error(md_escape(err))
        else:
            km = res.distance_m / 1000.0
            if draw:
                _show_measurement(a, b, res)
            label = f"{esc(a.name)} → {esc(b.name)}: {km:,.1f} km"
            specs.append(page_layers.measure_group(
                [(a.lat, a.lon, a.name), (b.lat, b.lon, b.name)], res.path, label))
    if draw:
        _matrix(options, initial)
    return specs


def _show_measurement(a: object, b: object, res: object) -> None:
    """The distance (km, mi, nmi), the bearings and the exact value in metres."""
    km = res.distance_m / 1000.0
    st.metric("Distance", f"{km:,.1f} km", border=True)
    bearing = (f"**{res.initial_bearing_deg:.1f}°** (arrives on "
               f"{res.final_bearing_deg:.1f}°)" if res.bearing_defined
               else "none (the two positions are the same point)")
    st.markdown(
        f"**{km / KM_PER_MILE:,.1f} mi** · **{km / KM_PER_NMI:,.1f} nmi**  \n"
        f"Bearing {md_escape(a.name)} → {md_escape(b.name)}: {bearing}"
    )
    st.caption(f"Exact: {res.distance_m:,.0f} m. {md_escape(res.method)}")
    unc = (a.uncertainty_km or 0) + (b.uncertainty_km or 0)
    if unc:
        st.caption(f"Location uncertainty of the two sites adds up to ± {unc:g} km.")


def _matrix(options: dict[str, str], initial: dict) -> None:
    from dashboard import sites

    if "matrix_sites" not in st.session_state:
        labels = [_label_for(s, options) for s in initial.get("matrix", ())]
        st.session_state["matrix_sites"] = [lbl for lbl in labels if lbl]
    chosen = st.multiselect("Distance matrix (km) of chosen sites", list(options),
                            key="matrix_sites", max_selections=12)
    if len(chosen) < 2:
        return
    chosen_sites = [sites.resolve_site(options[c]) for c in chosen]
    km = sites.distance_matrix(chosen_sites) / 1000.0  # metres → km, indexed by site name
    st.dataframe(km.round(1), width="stretch")


@st.cache_data(show_spinner=False)
def buffer_targets() -> dict[str, str]:
    """Labels → buffer target strings: the border, the two Baloch provinces, every site."""
    from dashboard import layers

    out = {"Iran–Pakistan border": BORDER_TARGET}
    prov = layers.load_provinces()
    for code in page_layers.EMPHASISED_PROVINCES:
        name = prov.loc[prov["iso_3166_2"] == code, "name"]
        if len(name):
            out[f"Province: {name.iloc[0]} ({code})"] = code
    for label, sid in site_options().items():
        out[f"Site: {label}"] = sid
    return out


def buffer_panel(events: gpd.GeoDataFrame, places: gpd.GeoDataFrame, initial: dict,
                 lonlat: tuple[np.ndarray, np.ndarray] | None = None, *,
                 draw: bool = True, on_change: Callback | None = None) -> list[dict]:
    """Target + radii → geodesic buffers drawn, with the events and places inside listed
    (the first settings.PAGE_TABLE_ROWS of them). ``lonlat``: the events' (lon, lat) in
    degrees when the page has them cached. ``draw=False``: only the map's layer (the
    buffers), from the panel's state, no widgets and no counting. ``on_change``: called
    when the target or the radii change."""
    from dashboard import analysis

    targets = buffer_targets()
    if "buffer_target" not in st.session_state:
        st.session_state["buffer_target"] = next(
            (lbl for lbl, t in targets.items() if t == initial.get("buf")), None)
    if "buffer_radii" not in st.session_state:
        st.session_state["buffer_radii"] = ", ".join(f"{r:g}" for r in initial.get("radii", ()))
    if draw:
        st.selectbox("Buffer around", list(targets), key="buffer_target", index=None,
                     placeholder="Choose the border, a province or a site…",
                     on_change=on_change)
        st.text_input("Radii in km (comma-separated)", key="buffer_radii",
                      placeholder="e.g. 25, 50, 100", on_change=on_change)
    label, text = st.session_state["buffer_target"], st.session_state["buffer_radii"] or ""
    if label not in targets or not text.strip():
        if draw:
            st.caption("Choose a target and one or more radii to draw geodesic buffers.")
        return []
    try:
        radii = parse_radii(text)
        rings = _buffers(targets[label], tuple(radii))
        if draw:
            inside = analysis.points_within(rings, events, places, event_lonlat=lonlat,
                                            limit=PAGE_TABLE_ROWS)
    except (DashboardError, ValueError) as err:
        if draw:
            st.error(md_escape(err))
        return []
    tips = [f"{esc(label)}: within {r:g} km ({a:,.0f} km²)"
            for r, a in zip(rings["radius_km"], rings["area_km2"], strict=True)]
    if not draw:
        return [page_layers.polygons_group("Buffers", rings, tips, color="#0072B2")]
    st.dataframe(inside.summary, hide_index=True, width="stretch")
    with st.expander("Events and places inside the largest buffer"):
        listed = inside.members  # the counts above include every one
        if len(listed) < inside.total:
            st.caption(f"The first {len(listed):,} of {inside.total:,} are listed (nearest "
                       "band first, latest events first); the counts above include all.")
        st.dataframe(listed, hide_index=True, width="stretch")
    return [page_layers.polygons_group("Buffers", rings, tips, color="#0072B2")]


@st.cache_data(show_spinner=False, max_entries=64)
def _buffers(target: str, radii_km: tuple[float, ...]) -> gpd.GeoDataFrame:
    """Geodesic buffers of a target (cached: moving the map or dates does not recompute)."""
    from dashboard import analysis

    return analysis.buffer_target(target, list(radii_km))


def claims_table() -> None:
    """Full-width claims table: claimed, measured and verdict first, then the claim and its
    source; below it how each value was measured."""
    claims = _claims()
    st.caption("The article's and officials' figures checked against exact WGS84 measurements.")
    table = pd.DataFrame([{
        "Claimed": f"{c.claimed:,.0f} {c.unit}", "Measured": f"{c.measured:,.1f} {c.unit}",
        "Verdict": c.verdict, "Difference": f"{c.difference:+,.1f} {c.unit}",
        "Tolerance": f"±{c.tolerance:g} {c.unit}", "Claim": c.claim, "Source": c.source,
        "Link": c.url or None} for c in claims])
    st.dataframe(table, hide_index=True, width="stretch", key="claims_table",
                 column_config={"Claim": st.column_config.TextColumn(width="large"),
                                "Link": st.column_config.LinkColumn(display_text="open")})
    with st.expander("How each value was measured"):
        for c in claims:
            note = f" {c.note}" if c.note else ""
            st.markdown(f"- **{md_escape(c.id)}**: {md_escape(c.data)}.{md_escape(note)}")


@st.cache_data(show_spinner=False)
def _claims() -> list:
    """The claims check (fixed data: computed once per server)."""
    from dashboard import claims

    return claims.check_claims()


@st.cache_data(show_spinner=False)
def _sabz_koh_readings() -> list:
    """Sabz Koh's candidate regions under both readings of "90 km from Panjgur" (straight
    line, and road distance, which only caps the straight line), from the place's catalogue
    constraints — the facts the build checks (computed once)."""
    from dashboard import locate

    return locate.readings("sabz-koh")


def claims_panel(*, draw: bool = True, on_change: Callback | None = None) -> list[dict]:
    """The article's claims vs measured values, and the Sabz Koh candidate region.
    ``draw=False``: only the map's layers (the region), from the panel's state, no widgets.
    ``on_change``: called when the region is switched on or off."""
    if not draw:
        if not st.session_state.get("show_region", True):
            return []
        return [spec for _, spec in _region_groups() if spec is not None]
    st.caption("Claims from the article and reporting, measured on the WGS84 ellipsoid. Our "
               "border is the Natural Earth 1:10m line (generalised, 224 vertices, classed "
               "'International boundary (verify)'); published lengths of the boundary run from "
               "750 to 959 km, so no border-length claim can be tested against it. Sabz Koh "
               "has no published coordinate: its position is inferred from the reported "
               "distances, read both as straight-line and as road distances.")
    claims = _claims()
    st.dataframe(pd.DataFrame([{"Claimed": f"{c.claimed:,.0f} {c.unit}",
                                "Measured": f"{c.measured:,.1f} {c.unit}",
                                "Verdict": c.verdict} for c in claims]),
                 hide_index=True, width="stretch", key="claims_short")
    st.caption("The full table, with each claim, its source and how it was measured, is "
               "below the map.")
    show = st.checkbox("Show the Sabz Koh candidate region on the map", key="show_region",
                       value=True, on_change=on_change)
    if not show:
        return []
    groups = []
    for summary, spec in _region_groups():
        st.caption(md_escape(summary))
        if spec is not None:
            groups.append(spec)
    return groups


@st.cache_data(show_spinner=False)
def _region_groups() -> list[tuple[str, dict | None]]:
    """(summary sentence, map layer spec or None when the region is empty) per reading of
    Sabz Koh's candidate region (fixed data: built once, not on every rerun)."""
    out = []
    styles = {"straight-line": ("#D55E00", "2 4"), "road": ("#CC79A7", "8 4")}
    for reading in _sabz_koh_readings():
        if reading.result.area_km2 <= 0:
            out.append((reading.summary(), None))
            continue
        color, dash = styles.get(reading.name, ("#D55E00", "2 4"))
        region = gpd.GeoDataFrame(geometry=[reading.result.region], crs="EPSG:4326")
        tip = (f"Sabz Koh: constraint-geolocation candidate region, {esc(reading.name)} "
               f"reading of the 90 km from Panjgur ({reading.result.area_km2:,.0f} km²)")
        out.append((reading.summary(), page_layers.polygons_group(
            f"Sabz Koh candidate region ({reading.name} reading)", region, [tip],
            color=color, dash=dash)))
    return out
