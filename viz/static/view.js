/* dealgraph network view.
 *
 * Mounts every element with a data-dealgraph-view attribute; its value is the
 * id of a <script type="application/json"> block holding the view data built
 * by dealgraph/viz/html.py (nodes and edges from pyvis, cycles, legend, notes).
 *
 * Safety: every piece of user text (names, notes, sources) reaches the page
 * through textContent or a canvas label, never innerHTML. Tooltips are DOM
 * elements (vis-network shows an Element as is, a string as innerText).
 *
 * Exposes window.dealgraph.views[i] = {network, nodes, edges, nodesView,
 * edgesView, data, selectCycle(i|null), applyFilters(), state, timings, ready}
 * so tests and notebooks can inspect what is drawn.
 */
(function () {
  "use strict";
  var DG = (window.dealgraph = window.dealgraph || { views: [] });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // The same text as queries.common.money (Python), so the page and the tables agree:
  // $20.0bn, $1.2tn, $650m, $6.5m, $12k, $750 (tests/test_viz_browser.py compares them).
  function money(usd) {
    if (usd === null || usd === undefined || isNaN(usd)) return "undisclosed";
    if (!isFinite(usd)) return usd > 0 ? "$inf" : "-$inf";
    var a = Math.abs(usd), s = usd < 0 ? "-" : "";
    var units = [[1e12, "tn", true], [1e9, "bn", true], [1e6, "m", false], [1e3, "k", false]];
    var grouped = function (v, digits) {
      return v.toLocaleString("en-US", {minimumFractionDigits: digits, maximumFractionDigits: digits});
    };
    for (var i = 0; i < units.length; i++) {
      if (parseFloat((a / units[i][0]).toFixed(1)) >= 1) {  // toFixed rounds the exact value, as Python does
        var v = a / units[i][0];
        var text = (units[i][2] || v < 99.95) ? grouped(v, 1) : grouped(v, 0);
        if (!units[i][2]) text = text.replace(/\.0$/, "");
        return s + "$" + text + units[i][1];
      }
    }
    return s + "$" + grouped(a, 0);
  }
  DG.money = money;

  function tipElement(tip) {
    var box = el("div", "dg-tip");
    box.appendChild(el("div", "dg-tip-head", tip.head));
    var t = el("table");
    tip.rows.forEach(function (r) {
      var tr = el("tr");
      tr.appendChild(el("th", null, r[0]));
      tr.appendChild(el("td", null, r[1]));
      t.appendChild(tr);
    });
    box.appendChild(t);
    return box;
  }

  /* Partial dates: key yyyymmdd with zeros, precision 1/2/3; compare at the
   * common precision (same rule as dealgraph.graph.dates). */
  var DIV = { 1: 10000, 2: 100, 3: 1 };
  function parseDate(text) {
    var m = /^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*$/.exec(text || "");
    if (!m) return null;
    var y = +m[1], mo = m[2] ? +m[2] : 0, d = m[3] ? +m[3] : 0;
    return { key: y * 10000 + mo * 100 + d, prec: m[3] ? 3 : m[2] ? 2 : 1 };
  }
  function cmpDate(key, prec, other) {
    var p = Math.min(prec, other.prec), div = DIV[p];
    var a = Math.floor(key / div), b = Math.floor(other.key / div);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function withAlpha(hex, alpha) {
    var h = hex.replace("#", "");
    if (h.length === 3) h = h[0] + h[0] + h[1] + h[1] + h[2] + h[2];
    var n = parseInt(h, 16);
    return "rgba(" + ((n >> 16) & 255) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  function mount(root, data) {
    var t0 = performance.now();
    var view = { data: data, state: { cycle: null }, timings: { parse: data.parseMs }, ready: false };
    DG.views.push(view);
    root.classList.add("dg-view");
    root.style.setProperty("--dg-highlight", data.legend.cycle_colour);

    // ---- layout: side panel + canvas --------------------------------------
    var side = el("div", "dg-side");
    var stage = el("div", "dg-stage");
    var canvasBox = el("div", "dg-canvas");
    stage.appendChild(canvasBox);
    root.appendChild(side);
    root.appendChild(stage);

    var head = el("div", "dg-head");
    head.appendChild(el("div", "dg-title", data.title));
    var counts = el("div", "dg-counts");
    head.appendChild(counts);
    (data.notes || []).forEach(function (n) { head.appendChild(el("div", "dg-note", n)); });
    side.appendChild(head);

    // ---- data --------------------------------------------------------------
    var baseNodes = {}, baseEdges = {};
    var hasCycles = data.cycles.length > 0;
    data.nodes.forEach(function (n) { baseNodes[n.id] = n; });
    data.edges.forEach(function (e) { baseEdges[e.id] = e; });
    var nodes, edges; // vis DataSets, created below with the initial style applied

    // ---- styling: all cycles highlighted, or one chosen cycle ----------------
    // Fading is global (network options: the default edge/node opacity), and
    // only items on some cycle carry their own style. Choosing a cycle then
    // touches the cycle items alone, not every edge of a 20,000-deal view.
    var FADE_ONE = 0.08, NODE_FADE_ONE = 0.15, GLOW_LIMIT = 400;
    var cycleEdgeCount = data.edges.reduce(function (k, e) { return k + (e.cycles.length > 0); }, 0);
    var FADE_ALL = !hasCycles ? 1 : cycleEdgeCount <= GLOW_LIMIT ? 0.45 : 0.25;
    var cycleEdges = data.edges.filter(function (e) { return e.cycles.length > 0; });
    var cycleNodes = data.nodes.filter(function (n) { return n.on_cycle; });
    // In a big view a chosen cycle hides the other deals instead of fading them:
    // thousands of faint long edges across a zoomed-in canvas take seconds to
    // rasterise, hidden ones cost nothing.
    var HIDE_OTHERS = data.edges.length > 3000;
    var LABEL = "#222222", FADED_LABEL = "#c8c8c8", FONT = Object.assign({}, data.options.nodes.font);
    function globalStyle() {
      var one = view.state.cycle !== null;
      return { edges: { hidden: one && HIDE_OTHERS, color: { opacity: one ? FADE_ONE : FADE_ALL } },
               // the whole font (setOptions would drop the size and face given at first)
               nodes: { opacity: one ? NODE_FADE_ONE : 1,
                        font: Object.assign({}, FONT, { color: one ? FADED_LABEL : LABEL }) } };
    }
    var labelled = {};
    function edgeStyle(e) {
      var c = view.state.cycle, sel = c === null ? null : data.cycles[c];
      if (!e.cycles.length) {  // never on a cycle: colour by type, opacity from the global default
        // (an object without "opacity": a colour string would pin opacity to 1)
        return { id: e.id, width: e.width, color: { color: e.color, highlight: e.color, hover: e.color },
                 shadow: { enabled: false }, dg_highlight: "none" };
      }
      var on = c === null || e.cycles.indexOf(c) >= 0;
      var s = { id: e.id, width: e.width, shadow: { enabled: false }, dg_highlight: "none",
                hidden: !on && HIDE_OTHERS,
                color: { color: e.color, highlight: e.color, hover: e.color, opacity: on ? 1 : FADE_ONE } };
      if (on) {
        s.dg_highlight = "cycle";
        s.width = e.width + (c === null ? 1.5 : 3);
        // the glow is a canvas shadow blur, costly per edge: with very many
        // cycle edges the highlight is width + full opacity over faded others
        if (c !== null || cycleEdges.length <= GLOW_LIMIT) {
          s.shadow = { enabled: true, color: data.legend.cycle_colour, size: c === null ? 10 : 16, x: 0, y: 0 };
        }
      }
      if (sel && on) {
        var parts = [];
        var w = sel.witness.indexOf(e.id);
        if (w >= 0) parts.push("#" + (w + 1));
        var bh = sel.bottleneck_hop;
        if (bh !== null && sel.hops[bh].deal_ids.indexOf(e.id) >= 0) {
          // label the hop once (on its first deal), however many deals it has
          if (sel.hops[bh].deal_ids[0] === e.id) parts.push("bottleneck " + money(sel.hops[bh].amount_usd));
          s.dg_highlight = "bottleneck";
        }
        if (parts.length) {
          s.label = parts.join(" ");
          s.font = { size: 14, strokeWidth: 4, strokeColor: "#fff", color: "#b00020" };
        }
      }
      // vis-network keeps an edge's old label when given "" or null: clear a
      // label we set earlier with a single space (and never touch the others)
      if (s.label) labelled[e.id] = true;
      else if (labelled[e.id]) { s.label = " "; delete labelled[e.id]; }
      return s;
    }
    function nodeStyle(n) {
      var c = view.state.cycle;
      var s = { id: n.id, borderWidth: 1,
                color: { background: n.color, border: "#333", highlight: { background: n.color, border: "#000" },
                         hover: { background: n.color, border: "#000" } } };
      if (!n.on_cycle) return s;  // opacity from the global default
      var inSel = c !== null && data.cycles[c].nodes.indexOf(n.id) >= 0;
      s.opacity = c === null || inSel ? 1 : NODE_FADE_ONE;
      s.borderWidth = inSel ? 5 : c === null ? 4 : 1;
      s.color.border = data.legend.cycle_colour;
      s.font = Object.assign({}, FONT, { color: s.opacity === 1 ? LABEL : FADED_LABEL });
      return s;
    }
    // vis-network redraws synchronously after setOptions and after each
    // DataSet update; on a 20,000-deal view one redraw costs a good fraction of
    // a second, so a restyle collects them into one redraw on the next frame.
    function batched(fn) {
      var r = network.renderer, orig = r && r._redraw;
      if (typeof orig !== "function" || typeof r._requestRedraw !== "function") { fn(); return; }
      var wanted = false;
      r._redraw = function () { wanted = true; };
      try { fn(); } finally { r._redraw = orig; }
      if (wanted) r._requestRedraw();
    }
    function restyle() {
      batched(function () {
        network.setOptions(globalStyle());
        edges.update(cycleEdges.map(edgeStyle));
        nodes.update(cycleNodes.map(nodeStyle));
      });
    }
    // First load: one pass builds each item with its style and its tooltip
    // element, so the DataSets are filled once (no update round on 10k+ items).
    // Tooltips are filled lazily: each item gets an empty element as its title
    // and the table is built the first time the item is hovered (building 10k+
    // tables up front would dominate the load time of a big view).
    function initialItems(base, styleOf) {
      return base.map(function (b) {
        var o = Object.assign({}, b, styleOf(b));
        o.title = el("div", "dg-tip");
        delete o.tip;
        return o;
      });
    }
    function fillTip(ds, base, id) {
      var item = ds.get(id), b = base[id];
      if (!item || !b || !(item.title instanceof Element) || item.title.childNodes.length) return;
      var full = tipElement(b.tip);
      while (full.firstChild) item.title.appendChild(full.firstChild);
    }
    view.timings.beforeData = performance.now() - t0;
    nodes = new vis.DataSet(initialItems(data.nodes, nodeStyle));
    edges = new vis.DataSet(initialItems(data.edges, edgeStyle));
    view.timings.datasets = performance.now() - t0;
    view.nodes = nodes;
    view.edges = edges;

    // ---- filters ------------------------------------------------------------
    var filt = { types: {}, statuses: {}, from: null, to: null, minUsd: 0, undisclosed: true };
    data.legend.types.forEach(function (t) { filt.types[t[0]] = true; });
    data.legend.statuses.forEach(function (s) { filt.statuses[s] = true; });
    var visibleDegree = null; // null = no filter active
    function edgePasses(e) {
      if (e.aggregate) return true;  // a link to a "+ N more" node sums many deals: not filtered
      if (!filt.types[e.deal_type] && e.deal_type in filt.types) return false;
      if (!filt.statuses[e.status] && e.status in filt.statuses) return false;
      if (filt.from && cmpDate(e.date_key, e.date_precision, filt.from) < 0) return false;
      if (filt.to && cmpDate(e.date_key, e.date_precision, filt.to) > 0) return false;
      if (e.amount_usd === null) return filt.undisclosed;
      return e.amount_usd >= filt.minUsd;
    }
    function filterActive() {
      for (var k in filt.types) if (!filt.types[k]) return true;
      for (var s in filt.statuses) if (!filt.statuses[s]) return true;
      return !!(filt.from || filt.to || filt.minUsd > 0 || !filt.undisclosed);
    }
    var degree = {};
    data.edges.forEach(function (e) {
      degree[e.from] = (degree[e.from] || 0) + 1;
      degree[e.to] = (degree[e.to] || 0) + 1;
    });
    var edgesView = new vis.DataView(edges, { filter: function (e) { return edgePasses(baseEdges[e.id]); } });
    // an entity disappears only when filters removed all of its deals
    var nodesView = new vis.DataView(nodes, {
      filter: function (n) { return visibleDegree === null || !degree[n.id] || (visibleDegree[n.id] || 0) > 0; }
    });
    view.edgesView = edgesView;
    view.nodesView = nodesView;
    function applyFilters() {
      if (filterActive()) {
        visibleDegree = {};
        data.edges.forEach(function (e) {
          if (edgePasses(e)) {
            visibleDegree[e.from] = (visibleDegree[e.from] || 0) + 1;
            visibleDegree[e.to] = (visibleDegree[e.to] || 0) + 1;
          }
        });
      } else {
        visibleDegree = null;
      }
      if (network) batched(function () { edgesView.refresh(); nodesView.refresh(); });
      else { edgesView.refresh(); nodesView.refresh(); }
      counts.textContent = countsText(nodesView.length, edgesView.length);
    }
    // in an aggregated view a node may be a "+ N more" group and an edge a link of many deals
    var AGG_NOTE = data.legend.aggregated ? " (nodes and edges, grey ones standing for many; " +
      data.full_counts[0].toLocaleString("en-US") + " entities and " + data.full_counts[1].toLocaleString("en-US") +
      " deals in all)" : "";
    function countsText(n, m) {
      return n + " of " + data.nodes.length + " entities, " + m + " of " + data.edges.length + " deals shown" +
        AGG_NOTE;
    }
    view.applyFilters = applyFilters;
    view.filters = filt;

    // ---- controls -----------------------------------------------------------
    function section(title, open) {
      var d = el("details", "dg-section");
      if (open) d.open = true;
      d.appendChild(el("summary", null, title));
      side.appendChild(d);
      return d;
    }
    function checkbox(parent, label, checked, onchange, swatch) {
      var l = el("label", "dg-check");
      var c = el("input");
      c.type = "checkbox";
      c.checked = checked;
      c.addEventListener("change", function () { onchange(c.checked); applyFilters(); });
      l.appendChild(c);
      if (swatch) {
        var sw = el("span", "dg-swatch");
        sw.style.background = swatch;
        l.appendChild(sw);
      }
      l.appendChild(document.createTextNode(label));
      parent.appendChild(l);
      return c;
    }

    // cycles
    var cyc = section("Circular flows (" + data.cycles.length + ")" + (data.temporal ? " — time-ordered only" : ""), true);
    var info = el("div", "dg-cycle-info");
    var list = el("div", "dg-cycles");
    var allBtn = el("button", "dg-cycle dg-all", hasCycles ? "Show all cycles" : "No circular flows in this view");
    allBtn.type = "button";
    allBtn.disabled = !hasCycles;
    allBtn.addEventListener("click", function () { selectCycle(null); });
    cyc.appendChild(allBtn);
    cyc.appendChild(list);
    cyc.appendChild(info);
    var buttons = data.cycles.map(function (c, i) {
      var b = el("button", "dg-cycle");
      b.type = "button";
      b.appendChild(el("span", "dg-cycle-path", c.names.concat([c.names[0]]).join(" → ")));
      var flags = "bottleneck " + money(c.bottleneck_usd);
      if (c.time_ordered) flags += " · time-ordered";
      if (c.tentative) flags += " · tentative";
      if (c.undisclosed_hops) flags += " · " + c.undisclosed_hops + " undisclosed hop(s)";
      b.appendChild(el("span", "dg-cycle-meta", flags));
      b.addEventListener("click", function () { selectCycle(i); });
      list.appendChild(b);
      return b;
    });
    /* Picking a cycle lays its members out as a ring (in cycle order, clockwise
     * from the top, round their centroid), wide enough that neighbours and their
     * labels keep clear of one another; unpicking puts every moved node back
     * where the layout had it. */
    var moved = [];
    function restoreRing() {
      moved.forEach(function (id) { network.moveNode(id, baseNodes[id].x, baseNodes[id].y); });
      moved = [];
    }
    function extent(id) {
      var n = network.body.nodes[id], w = 0;
      if (n && n.labelModule && n.labelModule.size && n.labelModule.size.width) w = n.labelModule.size.width;
      else if (baseNodes[id].label) w = baseNodes[id].label.length * 0.62 * (data.options.nodes.font.size || 18);
      return Math.max(baseNodes[id].size || 10, w / 2);
    }
    function ringLayout(c) {
      var ids = c.nodes, L = ids.length, cx = 0, cy = 0;
      ids.forEach(function (id) { cx += baseNodes[id].x; cy += baseNodes[id].y; });
      cx /= L; cy /= L;
      var need = 0;
      for (var k = 0; k < L; k++) need = Math.max(need, extent(ids[k]) + extent(ids[(k + 1) % L]) + 40);
      var R = Math.max(120, need / (2 * Math.sin(Math.PI / L)));
      ids.forEach(function (id, k) {
        var a = -Math.PI / 2 + 2 * Math.PI * k / L;
        network.moveNode(id, cx + R * Math.cos(a), cy + R * Math.sin(a));
      });
      moved = ids.slice();
      view.state.ring = { centre: [cx, cy], radius: R };
    }
    function selectCycle(i) {
      view.state.cycle = i === undefined ? null : i;
      view.state.ring = null;
      buttons.forEach(function (b, j) { b.classList.toggle("dg-selected", j === i); });
      info.textContent = "";
      restoreRing();
      restyle();
      if (i === null || i === undefined) { batched(function () { network.fit({ animation: false }); }); return; }
      var c = data.cycles[i];
      ringLayout(c);
      info.appendChild(el("div", "dg-info-head", "Bottleneck " + money(c.bottleneck_usd) +
        " · total " + money(c.total_usd) + " · " + c.length + " hops"));
      var ol = el("ol");
      c.hops.forEach(function (h, j) {
        var li = el("li", j === c.bottleneck_hop ? "dg-bottleneck" : null,
          c.names[j] + " → " + c.names[(j + 1) % c.names.length] + ": " +
          (h.amount_usd === null ? "undisclosed" : money(h.amount_usd) + (h.undisclosed ? " + undisclosed" : "")) +
          " (" + h.deal_ids.join(", ") + ")");
        ol.appendChild(li);
      });
      info.appendChild(ol);
      if (c.witness.length) info.appendChild(el("div", "dg-witness", "In time order: " + c.witness.join(" → ")));
      batched(function () { network.fit({ nodes: c.nodes, animation: false }); });
    }
    view.selectCycle = function (i) { selectCycle(i); };

    // filters
    var f = section("Filters", true);
    var ft = el("div", "dg-group");
    ft.appendChild(el("div", "dg-label", "Deal type"));
    data.legend.types.forEach(function (t) {
      checkbox(ft, t[1], true, function (v) { filt.types[t[0]] = v; }, t[2]);
    });
    f.appendChild(ft);
    var fs = el("div", "dg-group");
    fs.appendChild(el("div", "dg-label", "Status"));
    data.legend.statuses.forEach(function (s) {
      checkbox(fs, s.replace("_", " "), true, function (v) { filt.statuses[s] = v; });
    });
    f.appendChild(fs);
    var fd = el("div", "dg-group");
    fd.appendChild(el("div", "dg-label", "Date from / to (YYYY[-MM[-DD]])"));
    function dateInput(key, ph) {
      var i = el("input", "dg-date");
      i.type = "text";
      i.placeholder = ph;
      i.addEventListener("input", function () {
        var p = parseDate(i.value);
        i.classList.toggle("dg-bad", !!i.value && !p);
        filt[key] = p;
        applyFilters();
      });
      fd.appendChild(i);
      return i;
    }
    dateInput("from", data.date_range[0] || "from");
    dateInput("to", data.date_range[1] || "to");
    f.appendChild(fd);
    var fa = el("div", "dg-group");
    fa.appendChild(el("div", "dg-label", "Minimum amount (US$ millions)"));
    var amt = el("input", "dg-amount");
    amt.type = "number";
    amt.min = "0";
    amt.step = "any";
    amt.value = "0";
    amt.addEventListener("input", function () { filt.minUsd = (parseFloat(amt.value) || 0) * 1e6; applyFilters(); });
    fa.appendChild(amt);
    checkbox(fa, "include undisclosed amounts", true, function (v) { filt.undisclosed = v; });
    f.appendChild(fa);

    // legend: one row per entry, a swatch (its class and style) and its text
    var lg = section("Legend", true);
    function legendRow(group, swatchClass, style, text, rowClass) {
      var row = el("div", "dg-legend-row" + (rowClass ? " " + rowClass : ""));
      var swatch = el("span", swatchClass);
      Object.keys(style).forEach(function (k) { swatch.style[k] = style[k]; });
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(text));
      group.appendChild(row);
    }
    var lk = el("div", "dg-group");
    lk.appendChild(el("div", "dg-label", "Entity kind (node colour; size = money through it, largest " +
      data.legend.max_flow + ")"));
    data.legend.kinds.forEach(function (k) { legendRow(lk, "dg-dot", {background: k[1]}, k[0]); });
    lg.appendChild(lk);
    var le = el("div", "dg-group");
    le.appendChild(el("div", "dg-label", "Deal type (edge colour; arrow = money from payer to payee)"));
    data.legend.types.forEach(function (t) { legendRow(le, "dg-line", {borderTopColor: t[2]}, t[1]); });
    lg.appendChild(le);
    var lw = el("div", "dg-group");
    lw.appendChild(el("div", "dg-label", "Edge width (log scale of US$ amount)"));
    data.legend.widths.forEach(function (w) {
      legendRow(lw, "dg-line", {borderTopWidth: Math.max(1, w[1]) + "px"}, w[0]);
    });
    legendRow(lw, "dg-line dg-dashed", {}, "undisclosed amount");
    (data.legend.undirected || []).forEach(function (t) {  // partnerships: no money, no direction
      legendRow(lw, "dg-line dg-dotted", {borderTopColor: t[2]},
                t[1] + ": undirected link, no arrow (no money flows)", "dg-undirected");
    });
    legendRow(lw, "dg-line dg-glow", {boxShadow: "0 0 6px 2px " + data.legend.cycle_colour}, "deal on a circular flow");
    legendRow(lw, "dg-dot dg-ring", {borderColor: data.legend.cycle_colour}, "entity on a circular flow");
    if (data.legend.aggregated) {
      legendRow(lw, "dg-dot", {background: data.legend.aggregate_colour},
                "+ N more: entities folded beside the one they deal with most");
      legendRow(lw, "dg-line", {borderTopColor: data.legend.aggregate_colour},
                "their deals with it, summed (not filtered)");
    }
    lg.appendChild(lw);

    // ---- the network ----------------------------------------------------------
    view.timings.controls = performance.now() - t0;
    var opts = data.options, g0 = globalStyle();
    opts.edges = Object.assign({}, opts.edges, { hidden: g0.edges.hidden,
                                                 color: Object.assign({}, (opts.edges || {}).color, g0.edges.color) });
    opts.nodes = Object.assign({}, opts.nodes, g0.nodes);
    var network = new vis.Network(canvasBox, { nodes: nodesView, edges: edgesView }, opts);
    view.network = network;
    network.on("hoverNode", function (p) { fillTip(nodes, baseNodes, p.node); });
    network.on("hoverEdge", function (p) { fillTip(edges, baseEdges, p.edge); });
    // big views run without hover highlighting (each hover would redraw every
    // edge), so the tooltip may be filled only here: fill it, then let the
    // popup place itself again now that it has its size
    network.on("showPopup", function (id) {
      var p = network.interactionHandler && network.interactionHandler.popup;
      var target = p && p.popupTargetType === "edge" ? [edges, baseEdges] : [nodes, baseNodes];
      var before = p && p.frame ? p.frame.textContent.length : 0;
      fillTip(target[0], target[1], id);
      if (p && p.frame && p.frame.textContent.length !== before) p.show();
    });
    view.timings.constructed = performance.now() - t0;
    counts.textContent = countsText(data.nodes.length, data.edges.length);
    network.once("afterDrawing", function () {
      view.timings.firstDraw = performance.now() - t0;
      view.timings.sinceNavigation = performance.now();
      view.ready = true;
      root.setAttribute("data-ready", "1");
    });
    network.fit({ animation: false });
  }

  function mountAll() {
    var roots = document.querySelectorAll("[data-dealgraph-view]");
    for (var i = 0; i < roots.length; i++) {
      var src = document.getElementById(roots[i].getAttribute("data-dealgraph-view"));
      if (src && !roots[i].hasAttribute("data-mounted")) {
        roots[i].setAttribute("data-mounted", "1");
        var tp = performance.now();
        var data = JSON.parse(src.textContent);
        data.parseMs = performance.now() - tp;
        mount(roots[i], data);
      }
    }
  }
  DG.mountAll = mountAll;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
