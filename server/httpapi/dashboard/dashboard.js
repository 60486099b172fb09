// Weir's live dashboard. Every 2 s it reads /v1/sources, /v1/views and /metrics for the
// side lists (ingest rates are computed here from weir_ingest_events_total over the last
// 10 s); the view chosen by the URL hash (#view=name) is followed over its SSE
// subscription: the snapshot replaces the rows, each diff adds (+n) or removes (-n) copies
// of rows. A ?token= on the page's URL is sent as a bearer token, and to the stream as
// access_token (EventSource cannot set headers).
"use strict";
(() => {
  const token = new URLSearchParams(location.search).get("token") || "";
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const $ = (sel) => document.querySelector(sel);
  const SVG = "http://www.w3.org/2000/svg";
  const NUMERIC = new Set(["smallint", "integer", "bigint", "real", "double precision", "numeric"]);
  const COLORS = ["#1f6feb", "#d1495b", "#2a9d8f", "#e9a03b", "#7b61ff", "#8d6e63", "#00838f", "#6d9a2b"];
  const MAX_ROWS = 200, MAX_BARS = 10, MAX_SERIES = 8, RATE_WINDOW = 10;

  let views = new Map(); // name → {name, columns, query, depends_on}
  const history = new Map(); // source → [{t, n}] over the last RATE_WINDOW seconds
  let current = null; // the followed view

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const k of kids) e.append(k);
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function status(text, bad) {
    const s = $("#status");
    s.textContent = text;
    s.className = bad ? "bad" : "";
  }
  const isNumeric = (type) => NUMERIC.has(type.replace(/\(.*$/, ""));
  const isWindow = (name) => name === "window_start" || name === "window_end";
  const fmt = (v) => (v === null || v === undefined ? "NULL" : typeof v === "object" ? JSON.stringify(v) : String(v));
  function fmtNum(x) {
    if (x === undefined || Number.isNaN(x)) return "–";
    if (Math.abs(x) >= 1e6) return (x / 1e6).toFixed(2) + "M";
    if (Math.abs(x) >= 1e4) return (x / 1e3).toFixed(1) + "k";
    return Number.isInteger(x) ? String(x) : x.toFixed(1);
  }
  function fmtAge(s) {
    if (s === undefined) return "–";
    if (s < 60) return s.toFixed(1) + " s ago";
    if (s < 3600) return (s / 60).toFixed(0) + " min ago";
    return (s / 3600).toFixed(1) + " h ago";
  }

  async function getJSON(path) {
    const r = await fetch(path, { headers });
    if (!r.ok) throw new Error(path + ": HTTP " + r.status);
    return r.json();
  }

  // parseMetrics reads the Prometheus text format into name → [{labels, value}].
  function parseMetrics(text) {
    const out = new Map();
    for (const line of text.split("\n")) {
      if (!line || line[0] === "#") continue;
      const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      const labels = {};
      for (const l of (m[2] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
      if (!out.has(m[1])) out.set(m[1], []);
      out.get(m[1]).push({ labels, value: parseFloat(m[3]) });
    }
    return out;
  }
  function metric(ms, name, labels) {
    const s = (ms.get(name) || []).find((s) => Object.entries(labels || {}).every(([k, v]) => s.labels[k] === v));
    return s ? s.value : undefined;
  }

  // rate is source's events per second over the samples of the last RATE_WINDOW seconds.
  function rate(source, n, t) {
    if (n === undefined) return undefined;
    const h = history.get(source) || [];
    h.push({ t, n });
    while (h.length > 2 && t - h[0].t > RATE_WINDOW) h.shift();
    history.set(source, h);
    const first = h[0], last = h[h.length - 1];
    return last.t > first.t ? Math.max(0, (last.n - first.n) / (last.t - first.t)) : undefined;
  }

  async function refresh() {
    try {
      const [sources, vs, text] = await Promise.all([
        getJSON("v1/sources"),
        getJSON("v1/views"),
        fetch("metrics").then((r) => r.text()),
      ]);
      const ms = parseMetrics(text);
      const t = performance.now() / 1000;
      const srcBody = $("#sources tbody");
      srcBody.replaceChildren(...sources.map((s) => {
        const n = metric(ms, "weir_ingest_events_total", { source: s.name });
        const wm = s.watermark;
        return el("tr", { "data-source": s.name },
          el("td", {}, s.name + (s.kind === "source" ? "" : " (" + s.kind + ")")),
          el("td", { class: "num" }, fmtNum(n === undefined ? 0 : n)),
          el("td", { class: "num" }, fmtNum(rate(s.name, n === undefined ? 0 : n, t))),
          el("td", { title: wm && wm.watermark ? wm.watermark : "" }, wm && wm.watermark ? wm.watermark.slice(11, 19) : "–"),
          el("td", { class: "num" }, wm ? fmtNum(wm.late_events) : "–"));
      }));
      views = new Map(vs.map((v) => [v.name, v]));
      const viewBody = $("#views tbody");
      viewBody.replaceChildren(...vs.map((v) => {
        const row = el("tr", { "data-view": v.name, class: current && current.name === v.name ? "selected" : "" },
          el("td", {}, el("a", { href: "#view=" + encodeURIComponent(v.name) }, v.name)),
          el("td", { class: "num" }, fmtAge(metric(ms, "weir_view_freshness_seconds", { view: v.name }))),
          el("td", { class: "num" }, fmtNum(metric(ms, "weir_subscribers", { view: v.name, transport: "sse" }) || 0)));
        row.addEventListener("click", () => { location.hash = "view=" + encodeURIComponent(v.name); });
        return row;
      }));
      const tick = metric(ms, "weir_tick");
      $("#tick").textContent = tick === undefined ? "" : "tick " + tick;
      if (!current || current.live) status(current ? "live" : "connected");
      if (!current) follow(wantedView());
    } catch (e) {
      status("cannot reach the server: " + e.message, true);
    }
    setTimeout(refresh, 2000);
  }

  const wantedView = () => new URLSearchParams(location.hash.slice(1)).get("view");

  // follow subscribes to view name (closing any other): the table and chart follow it.
  function follow(name) {
    if (current && current.name === name) return;
    if (current) current.es.close();
    current = null;
    $("#chart").replaceChildren();
    $("#rows thead").replaceChildren();
    $("#rows tbody").replaceChildren();
    $("#rows-note").textContent = "";
    $("#view-meta").textContent = "";
    $("#view-name").textContent = name ? name : "Choose a view";
    for (const tr of document.querySelectorAll("#views tbody tr")) tr.classList.toggle("selected", tr.dataset.view === name);
    if (!name) return;
    const info = views.get(name);
    if (!info) {
      $("#view-meta").textContent = views.size ? "no view named " + name : "loading…";
      return;
    }
    let url = "v1/views/" + encodeURIComponent(name) + "/subscribe";
    if (token) url += "?access_token=" + encodeURIComponent(token);
    const cur = { name, info, es: new EventSource(url), rows: new Map(), tick: 0, snapshotTick: 0, diffs: 0, live: false, fresh: new Set() };
    current = cur;
    $("#view-meta").textContent = "subscribing…";
    const add = (row, n) => {
      const key = JSON.stringify(row);
      const have = cur.rows.get(key);
      const left = (have ? have.n : 0) + n;
      if (left > 0) cur.rows.set(key, { row, n: left });
      else cur.rows.delete(key);
      if (n > 0) cur.fresh.add(key);
    };
    cur.es.addEventListener("snapshot", (e) => {
      const d = JSON.parse(e.data);
      cur.rows.clear();
      cur.fresh.clear();
      for (const row of d.rows) add(row, 1);
      cur.fresh.clear();
      cur.tick = cur.snapshotTick = d.tick;
      cur.live = true;
      status("live");
      render(cur);
    });
    cur.es.addEventListener("diff", (e) => {
      const d = JSON.parse(e.data);
      cur.fresh.clear();
      for (const c of d.changes) add(c.row, c.diff);
      cur.tick = d.tick;
      cur.diffs++;
      render(cur);
    });
    cur.es.addEventListener("error", (e) => {
      if (current !== cur) return;
      cur.live = false;
      if (e.data) { // the server's own error event: the stream is over
        let msg = e.data;
        try { const p = JSON.parse(e.data); msg = p.detail || p.title || msg; } catch (_) { /* keep the text */ }
        cur.es.close();
        status(name + ": " + msg, true);
      } else if (cur.es.readyState === EventSource.CLOSED) {
        status("the stream of " + name + " ended; reload to follow it again", true);
      } else {
        status("reconnecting to " + name + "…", true); // EventSource resumes with Last-Event-ID
      }
    });
  }

  // chartSpec picks what to draw: the label is the first column unless it is a window
  // bound, the value the first numeric column after it; with a window_start (or
  // window_end) column, a line per label over time, else bars of the top labels.
  function chartSpec(cols) {
    let label = cols.length > 1 && !isWindow(cols[0].name) ? cols[0] : null;
    let value = cols.find((c) => c !== label && !isWindow(c.name) && isNumeric(c.type));
    if (!value && label && isNumeric(label.type)) [value, label] = [label, null];
    if (!value) return null;
    const x = cols.find((c) => c.name === "window_start") || cols.find((c) => c.name === "window_end");
    return { label: label && label.name, value: value.name, x: x && x.name };
  }

  function render(cur) {
    const cols = cur.info.columns;
    const spec = chartSpec(cols);
    const entries = [...cur.rows.entries()].map(([key, { row, n }]) => ({ key, row, n }));
    const num = (r) => (spec ? parseFloat(r.row[spec.value]) : 0);
    if (spec && spec.x) {
      entries.sort((a, b) => String(b.row[spec.x]).localeCompare(String(a.row[spec.x])) || num(b) - num(a));
    } else if (spec) {
      entries.sort((a, b) => num(b) - num(a));
    } else {
      entries.sort((a, b) => a.key.localeCompare(b.key));
    }
    const main = $("#view");
    main.dataset.view = cur.name;
    main.dataset.tick = cur.tick;
    main.dataset.snapshotTick = cur.snapshotTick;
    main.dataset.diffs = cur.diffs;
    const total = entries.reduce((s, e) => s + e.n, 0);
    $("#view-meta").textContent = `${total} rows · tick ${cur.tick} · ${cur.diffs} diffs since the snapshot at tick ${cur.snapshotTick}`;

    const head = el("tr", {}, ...cols.map((c) => el("th", { class: isNumeric(c.type) ? "num" : "", title: c.type }, c.name)));
    $("#rows thead").replaceChildren(head);
    const trs = [];
    for (const e of entries) {
      for (let i = 0; i < e.n && trs.length < MAX_ROWS; i++) {
        trs.push(el("tr", { class: cur.fresh.has(e.key) ? "new" : "" },
          ...cols.map((c) => el("td", { class: isNumeric(c.type) ? "num" : "" }, fmt(e.row[c.name])))));
      }
    }
    $("#rows tbody").replaceChildren(...trs);
    $("#rows-note").textContent = total > trs.length ? `showing ${trs.length} of ${total} rows` : "";

    const chart = $("#chart");
    if (!spec || !entries.length) chart.replaceChildren();
    else chart.replaceChildren(spec.x ? lineChart(spec, entries) : barChart(spec, entries));
  }

  function barChart(spec, entries) {
    const top = entries.filter((e) => !Number.isNaN(parseFloat(e.row[spec.value]))).slice(0, MAX_BARS);
    const W = 800, bar = 24, gap = 6, left = 150, right = 70;
    const H = top.length * (bar + gap) + 34;
    const max = Math.max(...top.map((e) => parseFloat(e.row[spec.value])), 0) || 1;
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "bar-chart",
      "aria-label": `top ${top.length} by ${spec.value}` });
    s.append(svg("text", { x: 0, y: 14, class: "muted" }, `top ${top.length} ${spec.label || "rows"} by ${spec.value}`));
    top.forEach((e, i) => {
      const v = parseFloat(e.row[spec.value]);
      const y = 26 + i * (bar + gap);
      const w = Math.max(1, ((W - left - right) * Math.max(v, 0)) / max);
      s.append(svg("text", { x: left - 8, y: y + bar * 0.7, "text-anchor": "end" }, spec.label ? fmt(e.row[spec.label]) : "#" + (i + 1)));
      s.append(svg("rect", { x: left, y, width: w, height: bar, rx: 3, fill: COLORS[0] }));
      s.append(svg("text", { x: left + w + 6, y: y + bar * 0.7 }, fmtNum(v)));
    });
    return s;
  }

  function lineChart(spec, entries) {
    const series = new Map(); // label → [{x, y}]
    for (const e of entries) {
      const x = Date.parse(e.row[spec.x]), y = parseFloat(e.row[spec.value]);
      if (Number.isNaN(x) || Number.isNaN(y)) continue;
      const k = spec.label ? fmt(e.row[spec.label]) : spec.value;
      if (!series.has(k)) series.set(k, []);
      series.get(k).push({ x, y });
    }
    const sum = (pts) => pts.reduce((s, p) => s + p.y, 0);
    const shown = [...series.entries()].sort((a, b) => sum(b[1]) - sum(a[1])).slice(0, MAX_SERIES);
    const pts = shown.flatMap(([, p]) => p);
    const W = 800, H = 300, L = 56, R = 130, T = 24, B = 28;
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "line-chart",
      "aria-label": `${spec.value} per ${spec.x}` });
    if (!pts.length) return s;
    const x0 = Math.min(...pts.map((p) => p.x)), x1 = Math.max(...pts.map((p) => p.x));
    const y1 = Math.max(...pts.map((p) => p.y), 0) || 1, y0 = Math.min(0, ...pts.map((p) => p.y));
    const sx = (x) => L + (x1 > x0 ? ((x - x0) * (W - L - R)) / (x1 - x0) : (W - L - R) / 2);
    const sy = (y) => H - B - ((y - y0) * (H - T - B)) / (y1 - y0);
    const time = (ms) => new Date(ms).toISOString().slice(11, 16);
    s.append(svg("text", { x: 0, y: 14, class: "muted" },
      `${spec.value} per ${spec.x}` + (spec.label ? `, top ${shown.length} ${spec.label}` : "")));
    s.append(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }));
    s.append(svg("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
    s.append(svg("text", { x: L - 6, y: T + 4, "text-anchor": "end", class: "muted" }, fmtNum(y1)));
    s.append(svg("text", { x: L - 6, y: H - B, "text-anchor": "end", class: "muted" }, fmtNum(y0)));
    s.append(svg("text", { x: L, y: H - 8, class: "muted" }, time(x0)));
    if (x1 > x0) s.append(svg("text", { x: W - R, y: H - 8, "text-anchor": "end", class: "muted" }, time(x1)));
    shown.forEach(([name, p], i) => {
      const color = COLORS[i % COLORS.length];
      p.sort((a, b) => a.x - b.x);
      s.append(svg("polyline", { points: p.map((q) => `${sx(q.x)},${sy(q.y)}`).join(" "), fill: "none", stroke: color, "stroke-width": 2 }));
      for (const q of p) s.append(svg("circle", { cx: sx(q.x), cy: sy(q.y), r: 3, fill: color }));
      s.append(svg("rect", { x: W - R + 12, y: T + i * 18, width: 10, height: 10, fill: color }));
      s.append(svg("text", { x: W - R + 28, y: T + i * 18 + 9 }, name));
    });
    return s;
  }

  window.addEventListener("hashchange", () => follow(wantedView()));
  refresh();
})();
