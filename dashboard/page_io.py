"""Page data in/out: upload events (with per-row rejections), download events and the map.

Uploaded files go through the same importer as ``python -m dashboard events import``; every
problem is shown as escaped text (file errors as one sentence, rejected rows in a table).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard import mapview, page_layers
from dashboard.errors import DashboardError
from dashboard.page_events import md_escape
from dashboard.settings import MAX_IMPORT_BYTES


def upload_section() -> None:
    """File uploader → importer → session events; shows accepted count and rejected rows."""
    from dashboard import importers

    st.file_uploader(
        f"Upload events (ACLED CSV, CSV with lat/lon, GeoJSON or GeoPackage; up to "
        f"{MAX_IMPORT_BYTES // 2**20} MB)",
        type=["csv", "geojson", "json", "gpkg"], key="upload",
        help="Rows that fail validation are listed with the reason; nothing else is changed.",
    )
    upload = st.session_state.get("upload")
    if upload is None:
        return
    token = (upload.file_id, upload.name, upload.size)
    if st.session_state.get("_upload_token") != token:
        st.session_state["_upload_token"] = token
        st.session_state["upload_report"] = _import(importers, upload)
        if st.session_state["upload_report"].get("accepted"):
            st.rerun()  # the map and table above were drawn before the import: redraw them
    report = st.session_state.get("upload_report") or {}
    if report.get("error"):
        st.error(md_escape(report["error"]))
    if report.get("accepted") is not None:
        n = report["accepted"]
        st.success(f"Imported {n:,} event{'' if n == 1 else 's'} from {md_escape(upload.name)}; "
                   "they are on the map and in the table for this session.")
    if report.get("rejected") is not None and len(report["rejected"]):
        k = len(report["rejected"])
        st.warning(f"{k:,} row{' was' if k == 1 else 's were'} rejected:")
        st.dataframe(report["rejected"], hide_index=True, width="stretch", key="rejected_rows")


def _import(importers: object, upload: object) -> dict:
    data = upload.getvalue()  # type: ignore[attr-defined]
    if len(data) > MAX_IMPORT_BYTES:
        return {"error": f"The file is {len(data) / 2**20:.1f} MB; the limit is "
                         f"{MAX_IMPORT_BYTES // 2**20} MB."}
    try:
        result = importers.import_bytes(data, upload.name)  # type: ignore[attr-defined]
    except DashboardError as err:
        return {"error": str(err)}
    accepted = result.events
    accepted["_origin"] = "upload"
    previous = st.session_state.get("uploaded_events")
    if previous is not None and len(previous):
        keep = ~previous["event_id_cnty"].isin(accepted["event_id_cnty"])
        accepted = pd.concat([previous[keep.to_numpy()], accepted], ignore_index=True)
    st.session_state["uploaded_events"] = gpd.GeoDataFrame(accepted, geometry="geometry",
                                                           crs="EPSG:4326")
    rejected = pd.DataFrame([{"Row": r.row, "Reason": r.reason} for r in result.rejected],
                            columns=["Row", "Reason"])
    return {"accepted": len(result.events), "rejected": rejected}


def download_section(view_events: gpd.GeoDataFrame, specs: Sequence[dict],
                     view: tuple[tuple[float, float], int]) -> None:
    """Download the events shown (GeoJSON, CSV) and the current map as offline HTML.

    The files are generated only when a button is clicked (deferred callables).
    """
    from dashboard import events

    shown = view_events.drop(columns=["_origin"], errors="ignore")
    specs = list(specs)

    def map_html() -> str:
        groups = [page_layers.to_group(s) for s in specs]
        return mapview.standalone_html(groups, center=view[0], zoom=view[1])

    st.download_button("Download shown events (GeoJSON)", key="dl_geojson",
                       data=lambda: events.to_geojson(shown), file_name="events.geojson",
                       mime="application/geo+json", width="stretch", on_click="ignore")
    st.download_button("Download shown events (CSV)", key="dl_csv",
                       data=lambda: events.to_csv(shown), file_name="events.csv",
                       mime="text/csv", width="stretch", on_click="ignore")
    st.download_button("Download this map (HTML, works offline)", key="dl_html",
                       data=map_html, file_name="iran-pakistan-map.html", mime="text/html",
                       width="stretch", on_click="ignore")
