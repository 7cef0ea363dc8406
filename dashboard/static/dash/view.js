/* View helpers for the dashboard map (our code, needs only Leaflet, works offline).
 *
 * - Declutter: the map container gets the class dash-z<zoom>, and CSS hides minor place
 *   labels below the zoom given in their class (dash-min7, dash-min8), so labels of towns
 *   and villages appear only when zoomed in.
 * - Permalink: when the map stops moving, its centre and zoom are written into the page's
 *   URL (c=lat,lon&z=zoom) without a rerun; the server keeps them in the permalink.
 * - Focus: a layer flagged _dashFocus (the event selected in the table) scrolls the map's
 *   frame into view once per selection.
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
  // the map was moved to; put the map's view back whenever it has gone missing.
  function keepUrlView() {
    try {
      var top = window.parent, v = window.__dashView;
      if (!v || !top || top === window || !top.history) { return; }
      var url = new URL(top.location.href);
      if (url.searchParams.get("c") && url.searchParams.get("z")) { return; }
      url.searchParams.set("c", v.c);
      url.searchParams.set("z", v.z);
      top.history.replaceState(top.history.state, "", url.toString());
    } catch (e) { /* another origin */ }
  }
  if (!window.__dashKeepView) { window.__dashKeepView = setInterval(keepUrlView, 300); }

  // Permanent labels placed left of their point are measured when created, possibly before
  // the stylesheets arrive; place them again once the styles apply.
  function replaceLabels(map) {
    map.eachLayer(function (l) {
      var t = l.getTooltip && l.getTooltip();
      if (t && t.options.permanent && t.isOpen && t.isOpen() && t.update) { t.update(); }
    });
  }

  L.Map.addInitHook(function () {
    var map = this;
    map.whenReady(function () {
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
