/* View helpers for the dashboard map (our code, needs only Leaflet, works offline).
 *
 * - Declutter: the map container gets the class dash-z<zoom>, and CSS hides minor place
 *   labels below the zoom given in their class (dash-min7, dash-min8), so labels of towns
 *   and villages appear only when zoomed in.
 * - Permalink: when the map stops moving, its centre and zoom are written into the page's
 *   URL (c=lat,lon&z=zoom) without a rerun; the server keeps them in the permalink.
 * - Focus: a layer flagged _dashFocus (the event selected in the table) scrolls the map's
 *   frame into view once per selection.
 * - Slots: each update of the map sends every dynamic feature group (events, buffers, legend,
 *   selection...), each wrapped in window.__dashSlot(position, key, build). A group whose key
 *   (a hash of its script) is the one already drawn at that position is kept as it is; only
 *   changed groups are built (streamlit-folium would remove and rebuild them all; measured
 *   with the curated events and a border buffer, the map's part of a table-row select went
 *   from 85 to 47 ms). Kept paths above a rebuilt group are brought to the front again, so
 *   the drawing order stays the order of the groups. A group the reader switched off in the
 *   layer control stays off until its content changes.
 * - Drawn: the page draws its controls only after the map (the browser's rendering of
 *   Streamlit's widgets would hold the first map back), so the map tells the page once that
 *   its first drawing is done. A map that reports its view (many events) does so by itself.
 */
(function () {
  "use strict";

  function zoomClass(map) {
    var el = map.getContainer();
    el.className = el.className.replace(/\bdash-z\d+\b/g, "").trim() +
      " dash-z" + Math.round(map.getZoom());
  }

  function writeUrl(map) {
    try {
      var top = window.parent;
      if (!top || top === window || !top.history) { return; }
      var url = new URL(top.location.href);
      var c = map.getCenter();
      url.searchParams.set("c", c.lat.toFixed(4) + "," + c.lng.toFixed(4));
      url.searchParams.set("z", String(Math.round(map.getZoom())));
      window.__dashView = {c: url.searchParams.get("c"), z: url.searchParams.get("z")};
      top.history.replaceState(top.history.state, "", url.toString());
    } catch (e) { /* another origin: no permalink view, nothing breaks */ }
  }

  // A rerun of the page rewrites the URL from the server's state, which does not know where
  // the map was moved to: it drops the view, or writes back the one the page was opened
  // with (Streamlit sends the server its own copy of the query, not the URL). Put the map's
  // view back whenever the URL's differs; a view the page sets moves the map, whose
  // moveend writes it.
  function keepUrlView() {
    try {
      var top = window.parent, v = window.__dashView;
      if (!v || !top || top === window || !top.history) { return; }
      var url = new URL(top.location.href);
      if (url.searchParams.get("c") === v.c && url.searchParams.get("z") === v.z) { return; }
      url.searchParams.set("c", v.c);
      url.searchParams.set("z", v.z);
      top.history.replaceState(top.history.state, "", url.toString());
    } catch (e) { /* another origin */ }
  }
  if (!window.__dashKeepView) { window.__dashKeepView = setInterval(keepUrlView, 300); }

  // Leaflet measures a label each time it places it, and each placement moves a label, so
  // labels placed one after another force one page layout each (0.14 s for the base map's
  // 53 labels). Labels are placed together at the end of the current task instead: all are
  // measured first (one layout), then placed with the sizes just read.
  var labelQueue = [], setPosition = L.Tooltip.prototype._setPosition;
  function placeLabels() {
    var queue = labelQueue.filter(function (e) { return e[0]._map && e[0]._container; });
    labelQueue = [];
    var sizes = queue.map(function (e) {
      return [e[0]._container.offsetWidth, e[0]._container.offsetHeight];
    });
    queue.forEach(function (e, i) {
      var el = e[0]._container;
      Object.defineProperty(el, "offsetWidth", {value: sizes[i][0], configurable: true});
      Object.defineProperty(el, "offsetHeight", {value: sizes[i][1], configurable: true});
      try { setPosition.call(e[0], e[1]); } finally {
        delete el.offsetWidth;
        delete el.offsetHeight;
      }
    });
  }
  L.Tooltip.prototype._setPosition = function (pos) {
    if (!this.options.permanent) { return setPosition.call(this, pos); }
    if (!labelQueue.length) { Promise.resolve().then(placeLabels); }
    labelQueue.push([this, pos]);
  };

  // Permanent labels placed left of their point are measured when created, possibly before
  // the stylesheets arrive; place them again once the styles apply.
  function replaceLabels(map) {
    map.eachLayer(function (l) {
      var t = l.getTooltip && l.getTooltip();
      if (t && t.options.permanent && t.isOpen && t.isOpen() && t.update) { t.update(); }
    });
  }

  function signalDrawn() {
    var g = window.__GLOBAL_DATA__, S = window.Streamlit;
    if (window.__dashDrawn || !g || !S || !S.setComponentValue) { return; }
    window.__dashDrawn = true;
    if ((g.returned_objects || []).indexOf("bounds") >= 0) { return; }
    var value = {}, prev = g.previous_data || {};
    Object.keys(prev).forEach(function (k) { value[k] = prev[k]; });
    value.drawn = true;
    S.setComponentValue(value);
  }

  // With many events the map reports its view, and each report reruns the page. When the
  // page itself moved the map (a selected table row) it has drawn that view's content
  // already and says so (window.__dashQuietView = [lat, lon, zoom], set by the update):
  // reports of that view are dropped (Leaflet pans by whole pixels, so within 2 px, and a
  // pan may report more than once). Clicks and any other view are reported, and end it.
  function quietReports(map) {
    var S = window.Streamlit;
    if (!S || !S.setComponentValue || S.__dashQuiet) { return; }
    var send = S.setComponentValue, last = null;
    S.__dashQuiet = true;
    S.setComponentValue = function (value) {
      var q = window.__dashQuietView;
      if (q && value && value.zoom !== undefined && !value.drawn && last &&
          JSON.stringify(value.last_clicked) === JSON.stringify(last.last_clicked)) {
        var z = map.getZoom();
        if (z === q[2] && map.project(map.getCenter(), z)
            .distanceTo(map.project(L.latLng(q[0], q[1]), z)) <= 2) {
          return undefined;
        }
      }
      window.__dashQuietView = null;
      last = value;
      return send.apply(this, arguments);
    };
  }

  var slots = [], rebuiltBelow = false;
  function toFront(layer) {
    if (layer instanceof L.LayerGroup) { layer.eachLayer(toFront); return; }
    if (layer._map && layer.bringToFront) { layer.bringToFront(); }
  }
  /** The dynamic group at ``pos`` for this update: the one drawn there if its ``key`` is the
   * same, else ``build()`` (which adds the new group to the map) after the old one is removed. */
  window.__dashSlot = function (pos, key, build) {
    if (pos === 0) { rebuiltBelow = false; }
    var old = slots[pos];
    if (old && old.key === key) {
      if (rebuiltBelow && old.layer._map) { toFront(old.layer); }
      return old.layer;
    }
    if (old && old.layer._map) { old.layer._map.removeLayer(old.layer); }
    var layer = build();
    slots[pos] = {key: key, layer: layer};
    rebuiltBelow = true;
    return layer;
  };
  /** End of an update with ``count`` groups: groups at later positions are removed. */
  window.__dashSlotsEnd = function (count) {
    slots.slice(count).forEach(function (s) {
      if (s && s.layer._map) { s.layer._map.removeLayer(s.layer); }
    });
    slots.length = Math.min(slots.length, count);
  };

  L.Map.addInitHook(function () {
    var map = this;
    map.whenReady(function () {
      quietReports(map);
      setTimeout(signalDrawn, 0);  // after the feature groups of this render are added
      zoomClass(map);
      [200, 800, 2000].forEach(function (ms) { setTimeout(function () { replaceLabels(map); }, ms); });
      map.on("zoomend", function () { zoomClass(map); replaceLabels(map); });
      var first = true;
      map.on("moveend", function () {
        if (first) { first = false; return; }  // the initial view is the server's
        writeUrl(map);
      });
      map.on("layeradd", function (e) {
        var id = e.layer && e.layer._dashFocus;
        if (!id || window.__dashFocused === id) { return; }
        window.__dashFocused = id;
        try {
          if (window.frameElement) {
            window.frameElement.scrollIntoView({block: "center", behavior: "smooth"});
          }
        } catch (err) { /* not framed */ }
      });
    });
  });
}());
