"""Page data in/out: upload events into the store (with per-row rejections), the store's
import batches, downloads of the shown events and of the map.

Uploaded files go through the same importer and the same store as ``python -m dashboard events
import``; every problem is shown as escaped text (file errors as one sentence, rejected rows in
a table).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard import mapview, page_data, page_layers
from dashboard.errors import DashboardError
from dashboard.escape import md_escape
from dashboard.settings import MAX_IMPORT_MB

#: Set while the Data tab is closed after an upload (app._tools_part): its report is shown again.
UPLOAD_REPORT_KEPT = "_upload_report_kept"


def upload_section() -> None:
    """File uploader → importer → event store (the CLI's GeoPackage, one batch per file);
    shows what was imported and the rejected rows. Imported events survive a reload and
    appear in ``python -m dashboard events list``."""
    from dashboard import importers

    st.file_uploader(
        f"Upload events (ACLED CSV, CSV with lat/lon, GeoJSON, GeoPackage or GeoParquet; up "
        f"to {MAX_IMPORT_MB:g} MB)",
        type=["csv", "geojson", "json", "gpkg", "parquet", "geoparquet"], key="upload",
        help="Valid rows are added to the event store (the same file as the CLI's); rows "
             "that fail validation are listed with the reason.",
    )
    ss = st.session_state
    upload = ss.get("upload")
    if upload is None:
        # The uploader is empty: after the file's × the report goes with it; after the Data
        # tab was closed (Streamlit forgets an undrawn uploader) the last report stays.
        if not ss.get(UPLOAD_REPORT_KEPT):
            ss.pop("upload_report", None)
            return
    else:
        ss[UPLOAD_REPORT_KEPT] = False
        token = (upload.file_id, upload.name, upload.size)
        if ss.get("_upload_token") != token:
            ss["_upload_token"] = token
            ss["upload_report"] = {**_import(importers, upload), "name": str(upload.name)}
            if ss["upload_report"].get("accepted"):
                st.rerun()  # the map and table above were drawn before the import: redraw
    report = ss.get("upload_report") or {}
    if report.get("error"):
        st.error(md_escape(report["error"]))
    if report.get("accepted") is not None:
        n = report["accepted"]
        st.success(f"Imported {n:,} event{'' if n == 1 else 's'} from {md_escape(report['name'])} "
                   f"into the event store ({report.get('inserted', 0):,} new, "
                   f"{report.get('updated', 0):,} updated).")
    if report.get("rejected") is not None and len(report["rejected"]):
        k = len(report["rejected"])
        st.warning(f"{k:,} row{' was' if k == 1 else 's were'} rejected:")
        st.dataframe(report["rejected"], hide_index=True, width="stretch", key="rejected_rows")


def _import(importers: object, upload: object) -> dict:
    from dashboard.store import EventStore

    data = upload.getvalue()  # type: ignore[attr-defined]
    try:
        result = importers.import_bytes(data, upload.name)  # type: ignore[attr-defined]
        rejected = pd.DataFrame([{"Row": r.row, "Reason": r.reason} for r in result.rejected],
                                columns=["Row", "Reason"])
        if not len(result.events):
            return {"accepted": 0, "rejected": rejected}
        done = EventStore().upsert(result.events, origin="page",
                                   label=str(upload.name))  # type: ignore[attr-defined]
    except DashboardError as err:
        return {"error": str(err)}
    return {"accepted": len(result.events), "inserted": done.inserted, "updated": done.updated,
            "batch_id": done.batch_id, "rejected": rejected}


def _remove_batch(batch_id: str) -> None:
    from dashboard.store import EventStore

    try:
        n = EventStore().remove_batch(batch_id)
    except DashboardError as err:
        st.session_state["batch_message"] = ("error", str(err))
    else:
        st.session_state["batch_message"] = (
            "ok", f"Removed {n:,} event{'' if n == 1 else 's'} of that import.")


def batches_section() -> None:
    """The store's import batches (page uploads and CLI imports), each with a Remove button."""
    st.subheader("Imported batches")
    message = st.session_state.pop("batch_message", None)
    if message:
        (st.error if message[0] == "error" else st.success)(md_escape(message[1]))
    try:
        batches = page_data.store_batches(page_data.store_version())
    except DashboardError as err:
        st.error(md_escape(err))
        return
    st.caption(f"Event store: {md_escape(page_data.store_path())}")
    if not len(batches):
        st.caption("Nothing imported yet: upload a file above or run "
                   "python -m dashboard events import FILE.")
        return
    for b in batches.iloc[::-1].itertuples(index=False):
        text, button = st.columns([4, 1], vertical_alignment="center")
        text.markdown(f"**{md_escape(b.label or b.batch_id)}**  \n"
                      f"{md_escape(b.origin)} · {md_escape(b.created_utc[:16])} · "
                      f"{b.events:,} event{'' if b.events == 1 else 's'} "
                      f"({b.inserted:,} new, {b.updated:,} updated)")
        button.button("Remove", key=f"rm_batch_{b.batch_id}", on_click=_remove_batch,
                      args=(b.batch_id,), help="Delete this import's events from the store")


def download_section(view_events: gpd.GeoDataFrame,
                     specs: Callable[[], Sequence[dict]],
                     view: tuple[tuple[float, float], int],
                     picture: dict | None = None,
                     bounds: tuple[float, float, float, float] | None = None) -> None:
    """Download the events shown (GeoJSON, CSV, GeoParquet), the current map as offline HTML
    and as a picture for publication (PNG/SVG/PDF from staticmap.render_map: same events, dates,
    layers and view). ``specs`` gives the map's layer specs (static ones included) when the
    HTML is asked for; ``picture`` holds render_map's start, end, layers and discs; ``view``
    is the centre (lat, lon) and zoom, ``bounds`` the box the map shows (min_lon, min_lat,
    max_lon, max_lat, degrees) when it reported one, else the pictures take a 700×620 px view.

    The files are generated only when a button is clicked (deferred callables).
    """
    from dashboard import columnar, events

    def shown() -> gpd.GeoDataFrame:  # dropped only when a download is asked for
        return view_events.drop(columns=["_origin", "batch_id"], errors="ignore")
    def map_html() -> str:
        groups = [page_layers.to_group(s) for s in specs()]
        return mapview.standalone_html(groups, center=view[0], zoom=view[1])

    st.download_button("Download shown events (GeoJSON)", key="dl_geojson",
                       data=lambda: events.to_geojson(shown()), file_name="events.geojson",
                       mime="application/geo+json", width="stretch", on_click="ignore")
    st.download_button("Download shown events (CSV)", key="dl_csv",
                       data=lambda: events.to_csv(shown()), file_name="events.csv",
                       mime="text/csv", width="stretch", on_click="ignore")
    st.download_button("Download shown events (GeoParquet)", key="dl_parquet",
                       data=lambda: columnar.geoparquet_bytes(shown()),
                       file_name="events.parquet",
                       mime="application/vnd.apache.parquet", width="stretch",
                       on_click="ignore")
    st.download_button("Download this map (HTML, works offline)", key="dl_html",
                       data=map_html, file_name="iran-pakistan-map.html", mime="text/html",
                       width="stretch", on_click="ignore")
    _picture_buttons(shown, view, picture or {}, bounds)


_PICTURE_MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


def _picture_buttons(shown: Callable[[], gpd.GeoDataFrame],
                     view: tuple[tuple[float, float], int], picture: dict,
                     box: tuple[float, float, float, float] | None = None) -> None:
    """Download map as PNG/SVG/PDF: rendered on the server (matplotlib, no browser, no tiles)
    from the shown events (``shown()``), the date range, the switched-on layers and the
    current view (``box`` when given, else a 700×620 px view at ``view``)."""
    from dashboard import staticmap

    bounds = box or mapview.view_bounds(view[0], view[1])

    def render(fmt: str) -> bytes:
        try:
            return staticmap.render_map(shown(), fmt=fmt, bounds=bounds, **picture)
        except DashboardError as err:  # shown in place of the file: one sentence
            return str(err).encode()

    (lat, lon), zoom = view
    st.caption("Map for publication (title, dates, legend, scale bar, north arrow, sources), "
               f"rendered on the server for the filters and the map's view (centre "
               f"{lat:.2f},{lon:.2f} · zoom {zoom}):")
    # one under the other: side by side in the tool column their labels were cut ("Downl…")
    for fmt in ("png", "svg", "pdf"):
        st.download_button(f"Download map as {fmt.upper()}", key=f"dl_map_{fmt}",
                           data=lambda fmt=fmt: render(fmt), file_name=f"iran-pakistan-map.{fmt}",
                           mime=_PICTURE_MIME[fmt], width="stretch", on_click="ignore")
