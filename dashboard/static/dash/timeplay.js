/* Time-window player for the dashboard map: our own code, needs only Leaflet, works offline.
 *
 * Event features carry properties.day ("YYYY-MM-DD"); the GeoJSON layers holding them are
 * flagged with layer._dashTime = true (see dashboard/mapview.py). The control collects those
 * layers when they are added to the map and, while a window is active, keeps on the map only
 * the sub-layers whose day lies inside [start, start + window - 1]. Play moves the window one
 * day per step at a steady pace and stops when the window reaches the last day. The server is
 * never asked for frames: filtering by the sidebar still happens there, animation happens here.
 *
 * Event hexagons (many events) carry their events per day instead (properties.dk: days after
 * the layer's first day d0, itself in days since 1970-01-01; properties.dc: events on each)
 * and their layer has layer._dashHex = {breaks, colours, res, play, d0}: the control adds up
 * each hexagon's events in the window, hides empty ones and recolours the rest with the same
 * count classes as the legend.
 */
(function () {
  "use strict";
  var DAY = 86400000;
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                "Dec"];
  var ICONS = {
    play: '<svg viewBox="0 0 12 12" width="11" height="11" aria-hidden="true">' +
          '<path d="M2.5 1 L11 6 L2.5 11 Z" fill="currentColor"/></svg>',
    pause: '<svg viewBox="0 0 12 12" width="11" height="11" aria-hidden="true">' +
           '<rect x="2" y="1" width="3" height="10" fill="currentColor"/>' +
           '<rect x="7" y="1" width="3" height="10" fill="currentColor"/></svg>',
    prev: '<svg viewBox="0 0 12 12" width="10" height="10" aria-hidden="true">' +
          '<path d="M9.5 1 L1 6 L9.5 11 Z" fill="currentColor"/></svg>',
    next: '<svg viewBox="0 0 12 12" width="10" height="10" aria-hidden="true">' +
          '<path d="M2.5 1 L11 6 L2.5 11 Z" fill="currentColor"/></svg>'
  };

  function parseDay(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(text || ""));
    return m ? Date.UTC(+m[1], +m[2] - 1, +m[3]) : null;
  }
  function fmt(t, withYear) {
    var d = new Date(t);
    return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] +
      (withYear ? " " + d.getUTCFullYear() : "");
  }
  function dayOf(layer) {
    var p = layer.feature && layer.feature.properties;
    return p && p.day ? parseDay(p.day) : null;
  }
  function hexOf(layer) {
    var p = layer.feature && layer.feature.properties;
    return p && p.dk ? p : null;
  }
  /** Events of a hexagon in [lo, hi] (ms UTC); all of them when lo is null. */
  function hexCount(p, d0, lo, hi) {
    if (lo === null) { return p.n; }
    var n = 0;
    for (var i = 0; i < p.dk.length; i++) {
      var t = (d0 + p.dk[i]) * DAY;
      if (t >= lo && t <= hi) { n += p.dc[i]; }
    }
    return n;
  }
  /** Colour and tooltip of a hexagon for ``n`` events in the window [lo, hi]. */
  function hexRestyle(layer, hex, p, n, lo, hi) {
    var key = n + ":" + lo + ":" + hi;
    if (layer._dashKey === key) { return; }
    layer._dashKey = key;
    var k = 0;
    while (k + 1 < hex.breaks.length && hex.breaks[k + 1] <= n) { k++; }
    layer.setStyle({fillColor: hex.colours[k]});
    if (!layer.getTooltip()) { return; }
    layer.setTooltipContent(lo === null ? p.tip :
      "<b>" + n.toLocaleString("en") + (n === 1 ? " event" : " events") + "</b> in " +
      (lo === hi ? fmt(lo, true) : fmt(lo, false) + " – " + fmt(hi, true)) +
      "<br>H3 cell, resolution " + hex.res);
  }

  L.Control.DashTime = L.Control.extend({
    options: {position: "topright", stepMs: 900, windows: [1, 2, 3, 7, 14]},

    onAdd: function (map) {
      this._groups = [];
      this._timer = null;
      this._start = null;   // null: no window, every day shown
      this._win = this.options.windows[0];
      var box = L.DomUtil.create("div", "dash-time leaflet-bar");
      box.setAttribute("data-testid", "time-control");
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      var row = L.DomUtil.create("div", "dash-time-row", box);
      this._prev = this._button(row, "time-prev", ICONS.prev, "Previous window", this.prev);
      this._play = this._button(row, "time-play", "", "Play the events day by day", this.toggle);
      this._next = this._button(row, "time-next", ICONS.next, "Next window", this.next);
      var sel = L.DomUtil.create("select", "dash-time-win", row);
      sel.setAttribute("data-testid", "time-window");
      sel.setAttribute("aria-label", "Window length");
      sel.title = "Window length";
      this.options.windows.forEach(function (n) {
        var o = document.createElement("option");
        o.value = String(n);
        o.textContent = n === 1 ? "1 day" : n + " days";
        sel.appendChild(o);
      });
      L.DomEvent.on(sel, "change", function () { this.setWindow(+sel.value); }, this);
      this._sel = sel;
      this._all = this._button(row, "time-all", "All days", "Show every day again", this.showAll);
      this._label = L.DomUtil.create("div", "dash-time-label", box);
      this._label.setAttribute("data-testid", "time-label");
      this._label.setAttribute("aria-live", "polite");
      map.on("layeradd", this._onLayerAdd, this);
      map._dashTime = this;
      window.__dashTime = this;
      this._render(null);
      return box;
    },

    onRemove: function (map) {
      map.off("layeradd", this._onLayerAdd, this);
      this._stopTimer();
    },

    _button: function (parent, testid, html, title, fn) {
      var b = L.DomUtil.create("button", "dash-time-btn " + testid, parent);
      b.type = "button";
      b.innerHTML = html;
      b.title = title;
      b.setAttribute("aria-label", title);
      b.setAttribute("data-testid", testid);
      L.DomEvent.on(b, "click", function (e) { L.DomEvent.stop(e); fn.call(this); }, this);
      return b;
    },

    _onLayerAdd: function (e) {
      var g = e.layer;
      if (g && g._dashHex && !g._dashHex.play) { this._noPlay = g; }
      if (!g || !g._dashTime) { return; }
      if (!g._dashAll) { g._dashAll = g.getLayers(); }
      if (this._groups.indexOf(g) < 0) { this._groups.push(g); }
      var self = this;
      if (!this._pending) {
        this._pending = setTimeout(function () { self._pending = null; self._apply(); }, 0);
      }
    },

    _live: function () {
      this._groups = this._groups.filter(function (g) { return !!g._map; });
      return this._groups;
    },

    /** [first day, last day] (ms UTC) of the events on the map, or null when there are none. */
    range: function () {
      var lo = null, hi = null;
      this._live().forEach(function (g) {
        g._dashAll.forEach(function (l) {
          var h = g._dashHex && hexOf(l);
          if (h) {
            if (!h.dk.length) { return; }
            var d0 = g._dashHex.d0;
            var a = (d0 + h.dk[0]) * DAY, b = (d0 + h.dk[h.dk.length - 1]) * DAY;
            if (lo === null || a < lo) { lo = a; }
            if (hi === null || b > hi) { hi = b; }
            return;
          }
          var t = dayOf(l);
          if (t === null) { return; }
          if (lo === null || t < lo) { lo = t; }
          if (hi === null || t > hi) { hi = t; }
        });
      });
      return lo === null ? null : [lo, hi];
    },

    _atEnd: function (r) {
      return this._start !== null && this._start + (this._win - 1) * DAY >= r[1];
    },

    _apply: function () {
      var r = this.range();
      if (r === null) { this._start = null; }
      if (this._start !== null) {
        // Keep the window inside the (possibly new) range of filtered events.
        var last = Math.max(r[0], r[1] - (this._win - 1) * DAY);
        this._start = Math.min(Math.max(this._start, r[0]), last);
      }
      var lo = this._start, hi = lo === null ? null : lo + (this._win - 1) * DAY;
      var shown = 0;
      this._live().forEach(function (g) {
        g._dashAll.forEach(function (l) {
          var h = g._dashHex && hexOf(l);
          if (h) {
            var n = hexCount(h, g._dashHex.d0, lo, hi);
            if (n > 0 && !g.hasLayer(l)) { g.addLayer(l); }
            if (n <= 0 && g.hasLayer(l)) { g.removeLayer(l); }
            if (n > 0) { hexRestyle(l, g._dashHex, h, n, lo, hi); shown += n; }
            return;
          }
          var t = dayOf(l);
          var show = lo === null || t === null || (t >= lo && t <= hi);
          if (show && !g.hasLayer(l)) { g.addLayer(l); }
          if (!show && g.hasLayer(l)) { g.removeLayer(l); }
          if (show && t !== null && l.feature.properties.ev) { shown += 1; }
        });
      });
      this._render(r, shown);
      if (this._timer && (r === null || this._atEnd(r))) { this._stopTimer(); this._render(r, shown); }
    },

    _render: function (r, shown) {
      var playing = !!this._timer;
      this._play.innerHTML = (playing ? ICONS.pause : ICONS.play) +
        "<span>" + (playing ? "Pause" : "Play") + "</span>";
      this._play.title = playing ? "Pause" : "Play the events day by day";
      this._play.setAttribute("aria-label", playing ? "Pause" : "Play");
      this._play.setAttribute("aria-pressed", playing ? "true" : "false");
      var text;
      if (!r) {
        text = this._noPlay && this._noPlay._map
          ? "Too many hexagon-days to play: zoom in or narrow the dates"
          : "No events to play";
      } else if (this._start === null) {
        text = "All days: " + fmt(r[0], true) + " – " + fmt(r[1], true);
      } else {
        var end = this._start + (this._win - 1) * DAY;
        text = (this._win === 1 ? fmt(this._start, true)
                : fmt(this._start, false) + " – " + fmt(end, true)) +
          " · " + shown + (shown === 1 ? " event" : " events");
      }
      this._label.textContent = text;
      this._all.disabled = this._start === null;
    },

    _stopTimer: function () {
      if (this._timer) { clearInterval(this._timer); this._timer = null; }
    },

    /** Start (or resume) walking the window; from the first day if not started or at the end. */
    play: function () {
      var r = this.range();
      if (!r) { return; }
      if (this._start === null || this._atEnd(r)) { this._start = r[0]; }
      var self = this;
      this._stopTimer();
      this._timer = setInterval(function () { self._tick(); }, this.options.stepMs);
      this._apply();
    },

    pause: function () { this._stopTimer(); this._apply(); },

    toggle: function () { if (this._timer) { this.pause(); } else { this.play(); } },

    _tick: function () {
      var r = this.range();
      if (!r || this._atEnd(r)) { this._stopTimer(); this._apply(); return; }
      this._start += DAY;
      this._apply();
    },

    next: function () {
      var r = this.range();
      if (!r) { return; }
      this._start = this._start === null ? r[0] : this._start + DAY;
      this._apply();
    },

    prev: function () {
      var r = this.range();
      if (!r) { return; }
      this._start = this._start === null ? r[0] : this._start - DAY;
      this._apply();
    },

    setWindow: function (days) {
      this._win = Math.max(1, Math.round(days) || 1);
      this._sel.value = String(this._win);
      this._apply();
    },

    showAll: function () { this._stopTimer(); this._start = null; this._apply(); },

    /** Test hook: {playing, start, end, window} with dates as "YYYY-MM-DD" (null: all days). */
    state: function () {
      var iso = function (t) { return t === null ? null : new Date(t).toISOString().slice(0, 10); };
      var end = this._start === null ? null : this._start + (this._win - 1) * DAY;
      return {playing: !!this._timer, start: iso(this._start), end: iso(end), window: this._win};
    }
  });

  L.control.dashTime = function (opts) { return new L.Control.DashTime(opts); };
}());
