/**
 * The self-contained HTML page: uPlot's script and stylesheet inlined from node_modules,
 * the data as JSON, and a small script that draws one uPlot chart per ChartSpec with
 * synchronised cursor and zoom, values on hover, the decision in force at the cursor with
 * its reasons, and the tables. No network access of any kind: a report opens from a mail
 * attachment on a lab machine.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EnvError } from '../util/errors.js';
import type { ReportData } from './build.js';

let assets: { js: string; css: string } | undefined;

/** uPlot's IIFE build and CSS, read once from the installed package. */
export function uplotAssets(): { js: string; css: string } {
  if (assets) return assets;
  try {
    const dir = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
    assets = { js: readFileSync(join(dir, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dir, 'uPlot.min.css'), 'utf8') };
    return assets;
  } catch (err) {
    throw new EnvError(`cannot read uPlot from node_modules/uplot/dist (is the package installed?): ${(err as Error).message}`);
  }
}

/** JSON that is safe inside <script>: no `</script>`, no `<!--`, no U+2028/2029 surprises. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A script body must not contain `</script` (it would end the element early). */
function scriptSafe(js: string): string {
  return js.replace(/<\/script/gi, '<\\/script');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const STYLE = `
:root { --fg: #1d1d1f; --muted: #6e6e73; --line: #e3e3e8; --bg: #fff; --panel: #f6f7f9; }
* { box-sizing: border-box; }
body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header { padding: 14px 20px 8px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0 0 2px; }
header .sub { color: var(--muted); }
main { display: grid; grid-template-columns: minmax(0, 1fr) 340px; gap: 0 16px; padding: 8px 20px 40px; }
#charts { min-width: 0; }
.chart { margin: 10px 0 4px; }
.chart h3 { font-size: 13px; margin: 0 0 2px; font-weight: 600; }
aside { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow: auto; padding-top: 10px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; margin-bottom: 12px; }
.panel h2 { font-size: 13px; margin: 0 0 6px; }
#reasons .when { color: var(--muted); margin-bottom: 4px; }
#reasons ul { margin: 4px 0 8px; padding-left: 18px; }
#reasons li { margin: 2px 0; }
#reasons .rule { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 11px; background: #e8eaf0; padding: 0 4px; border-radius: 3px; }
.pinned { outline: 2px solid #1f77b4; }
table { border-collapse: collapse; margin: 6px 0 14px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
th { font-weight: 600; }
td.num { text-align: right; }
section.tables { grid-column: 1 / -1; }
section.tables h2 { font-size: 15px; margin: 22px 0 4px; }
h2.section { font-size: 15px; margin: 26px 0 0; padding-top: 8px; border-top: 2px solid var(--line); }
.note { color: var(--muted); margin: 4px 0; }
.sev { display: inline-block; width: 9px; height: 9px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
details summary { cursor: pointer; }
.hint { color: var(--muted); font-size: 12px; }
`;

/**
 * The browser side. Written as plain ES5-ish JS in a string (no template literals inside)
 * so that it needs no bundler and runs as is from the file.
 */
const CLIENT = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('edgegov-data').textContent);
  var SEV_COLORS = { none: '#2ca02c', light: '#9acd32', moderate: '#e6c300', severe: '#ff7f0e', critical: '#d62728', emergency: '#8b0000', shutdown: '#000000' };
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmtNum(v, digits) {
    if (v === null || v === undefined || typeof v !== 'number' || !isFinite(v)) return '—';
    var d = digits === undefined ? (Math.abs(v) >= 100 ? 1 : 2) : digits;
    return String(Math.round(v * Math.pow(10, d)) / Math.pow(10, d));
  }
  function fmtTime(s) {
    if (s === null || s === undefined || !isFinite(s)) return '—';
    var neg = s < 0; s = Math.abs(s);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var ss = (sec < 10 ? '0' : '') + (Math.round(sec * 10) / 10).toFixed(sec % 1 ? 1 : 0);
    return (neg ? '-' : '') + (h ? h + ':' + (m < 10 ? '0' : '') + m : String(m)) + ':' + ss;
  }

  // ── decisions: the one in force at a time ──
  function decisionAt(run, tS) {
    var ds = D.runs[run].decisions, lo = 0, hi = ds.length - 1, best = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (ds[mid].t_ms / 1000 <= tS) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return best;
  }
  var reasonsEl = document.getElementById('reasons');
  var pinned = null;
  function renderReasons(tS, runIds) {
    reasonsEl.innerHTML = '';
    reasonsEl.appendChild(el('h2', null, pinned === null ? 'Decision at the cursor' : 'Decision (pinned — click a chart to unpin)'));
    reasonsEl.appendChild(el('div', { 'class': 'when' }, 't = ' + fmtTime(tS)));
    runIds.forEach(function (ri) {
      var run = D.runs[ri];
      var i = decisionAt(ri, tS);
      var box = el('div', { 'class': 'decision', 'data-run': String(ri) });
      if (runIds.length > 1 || D.runs.length > 1) box.appendChild(el('strong', null, run.label));
      if (i < 0) { box.appendChild(el('div', null, 'no decision yet')); reasonsEl.appendChild(box); return; }
      var d = run.decisions[i], prev = i > 0 ? run.decisions[i - 1] : null;
      var head = el('div');
      var sw = el('span', { 'class': 'sev' }); sw.style.background = SEV_COLORS[d.severity] || '#999';
      head.appendChild(sw);
      head.appendChild(document.createTextNode(
        (prev && prev.tier !== d.tier ? prev.tier + ' → ' : '') + d.tier + ' · ' + d.severity + ' · ' + d.offload +
        ' · ' + d.quant + ', ctx ' + d.contextLength + ', batch ' + d.batchSize + (d.threads ? ', ' + d.threads + ' threads' : '') +
        (d.pacingMs ? ', pacing ' + d.pacingMs + ' ms' : '') + (d.safe ? ' · SAFE TIER' : '')));
      box.appendChild(head);
      box.appendChild(el('div', { 'class': 'when' }, 'since ' + fmtTime(d.t_ms / 1000) + ' (change ' + (i + 1) + ' of ' + run.decisions.length + ')'));
      var ul = el('ul', { 'class': 'reason-list' });
      d.reasons.forEach(function (r) {
        var li = el('li');
        li.appendChild(el('span', { 'class': 'rule' }, r.rule));
        li.appendChild(document.createTextNode(' ' + r.message));
        var extra = [];
        if (r.value !== undefined) extra.push('value ' + fmtNum(r.value));
        if (r.threshold !== undefined) extra.push('threshold ' + fmtNum(r.threshold));
        if (r.forecast !== undefined) extra.push('forecast ' + fmtNum(r.forecast));
        if (r.timeToLimitS !== undefined) extra.push(fmtNum(r.timeToLimitS, 0) + ' s to limit');
        if (extra.length) li.appendChild(el('div', { 'class': 'hint' }, extra.join(' · ')));
        ul.appendChild(li);
      });
      if (!d.reasons.length) ul.appendChild(el('li', null, 'no reasons recorded'));
      box.appendChild(ul);
      reasonsEl.appendChild(box);
    });
  }

  // ── charts ──
  var charts = document.getElementById('charts');
  var plots = [];
  var syncKey = 'edgegov';
  var zooming = false;
  function width() { return Math.max(320, charts.clientWidth - 4); }
  function offloadSpans(section) {
    if (section.runs.length !== 1) return [];
    var ds = D.runs[section.runs[0]].decisions, spans = [], start = null, end = section.x.length ? section.x[section.x.length - 1] : 0;
    for (var i = 0; i < ds.length; i++) {
      var t = ds[i].t_ms / 1000;
      if (ds[i].offload !== 'local' && start === null) start = { t: t, kind: ds[i].offload };
      else if (ds[i].offload === 'local' && start !== null) { spans.push([start.t, t, start.kind]); start = null; }
      else if (start !== null && ds[i].offload !== start.kind) { spans.push([start.t, t, start.kind]); start = { t: t, kind: ds[i].offload }; }
    }
    if (start !== null) spans.push([start.t, end, start.kind]);
    return spans;
  }

  // Round steps of elapsed time for the x axis (s): 1 s … 1 day.
  var TIME_INCRS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800];
  function drawSpans(u, spans) {
    var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
    ctx.save();
    spans.forEach(function (s) {
      var x0 = u.valToPos(s[0], 'x', true), x1 = u.valToPos(s[1], 'x', true);
      x0 = Math.max(x0, u.bbox.left); x1 = Math.min(x1, u.bbox.left + u.bbox.width);
      if (x1 <= x0) return;
      ctx.fillStyle = s[2] === 'pause' ? 'rgba(120,120,120,0.13)' : 'rgba(31,119,180,0.09)';
      ctx.fillRect(x0, top, x1 - x0, h);
    });
    ctx.restore();
  }
  function drawLines(u, spec) {
    if (!spec.lines.length) return;
    var ctx = u.ctx, left = u.bbox.left, right = u.bbox.left + u.bbox.width;
    ctx.save();
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1 * devicePixelRatio;
    ctx.font = (10 * devicePixelRatio) + 'px system-ui, sans-serif';
    ctx.textAlign = 'right';
    var labelled = [];
    spec.lines.forEach(function (l) {
      var sc = u.scales[l.scale];
      if (!sc || sc.min === undefined || l.value < sc.min || l.value > sc.max) return;
      var y = Math.round(u.valToPos(l.value, l.scale, true)) + 0.5;
      ctx.strokeStyle = l.color;
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(right, y); ctx.stroke();
      // Label only where it does not overprint another label; the line is still drawn.
      var gap = 11 * devicePixelRatio;
      if (labelled.some(function (ly) { return Math.abs(ly - y) < gap; })) return;
      labelled.push(y);
      ctx.fillStyle = l.color;
      ctx.fillText(l.label, right - 4, y - 3);
    });
    ctx.restore();
  }
  // Short ticks along the top of the tier chart: where each decision change happened.
  function drawDecisionTicks(u, section) {
    var ctx = u.ctx, top = u.bbox.top, left = u.bbox.left, right = left + u.bbox.width;
    ctx.save();
    ctx.lineWidth = 1 * devicePixelRatio;
    section.runs.forEach(function (ri, k) {
      ctx.strokeStyle = section.runs.length > 1 ? PALETTE[k % PALETTE.length] : '#555';
      var last = -1;
      D.runs[ri].decisions.forEach(function (d) {
        var x = Math.round(u.valToPos(d.t_ms / 1000, 'x', true)) + 0.5;
        if (x < left || x > right || x === last) return;
        last = x;
        ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + 6 * devicePixelRatio); ctx.stroke();
      });
    });
    ctx.restore();
  }
  var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
  function categoryAxis(ax) {
    var cats = ax.categories;
    return {
      scale: ax.scale, label: ax.label, side: ax.side === 'right' ? 1 : 3, size: 80,
      splits: function () { var s = []; for (var i = 0; i < cats.length; i++) s.push(i); return s; },
      values: function (u, splits) { return splits.map(function (v) { return cats[v] === undefined ? '' : cats[v]; }); },
      grid: { stroke: '#eee' }
    };
  }
  function makeChart(spec, section, spans, group) {
    var wrap = el('div', { 'class': 'chart', id: 'chart-' + spec.id, 'data-chart': spec.id });
    wrap.appendChild(el('h3', null, spec.title));
    charts.appendChild(wrap);
    var scales = { x: { time: false } };
    var axes = [{ scale: 'x', space: 70, incrs: TIME_INCRS, values: function (u, splits) { return splits.map(fmtTime); }, grid: { stroke: '#eee' } }];
    spec.axes.forEach(function (ax) {
      if (ax.categories) {
        scales[ax.scale] = { auto: false, range: [-0.4, ax.categories.length - 0.6] };
        axes.push(categoryAxis(ax));
      } else {
        var lines = spec.lines.filter(function (l) { return l.scale === ax.scale; });
        scales[ax.scale] = { auto: true, range: function (u, min, max) {
          // Keep the nearest limit lines in view so the headroom shows.
          if (min === null || max === null) return [0, 1];
          lines.forEach(function (l) { if (l.value > max && l.value - max < (max - min + 1) * 0.6) max = l.value; });
          var pad = (max - min) * 0.05 || Math.abs(max) * 0.05 || 1;
          return [min - pad, max + pad];
        } };
        axes.push({ scale: ax.scale, label: ax.label, side: ax.side === 'right' ? 1 : 3, size: 60, grid: { show: ax.side !== 'right', stroke: '#eee' } });
      }
    });
    var catsByScale = {};
    spec.axes.forEach(function (ax) { if (ax.categories) catsByScale[ax.scale] = ax.categories; });
    var series = [{ label: 't', value: function (u, v) { return fmtTime(v); } }];
    spec.series.forEach(function (s) {
      var cats = catsByScale[s.scale];
      series.push({
        label: s.label, scale: s.scale, stroke: s.color, width: 1.5, fill: s.fill, dash: s.dash,
        paths: s.step ? uPlot.paths.stepped({ align: 1 }) : undefined,
        points: { show: false },
        value: function (u, v) { return v === null || v === undefined ? '—' : cats ? (cats[Math.round(v)] || String(v)) : fmtNum(v); }
      });
    });
    var opts = {
      width: width(), height: spec.height, scales: scales, axes: axes, series: series,
      legend: { live: true },
      cursor: { sync: { key: syncKey + '-' + section.index }, drag: { x: true, y: false, setScale: true }, points: { show: false } },
      hooks: {
        drawClear: [function (u) { drawSpans(u, spans); }],
        draw: [function (u) { drawLines(u, spec); if (/(^|-)tier$/.test(spec.id)) drawDecisionTicks(u, section); }],
        setCursor: [function (u) {
          if (pinned !== null) return;
          var i = u.cursor.idx;
          if (i === null || i === undefined) return;
          renderReasons(u.data[0][i], section.runs);
        }],
        setScale: [function (u, key) {
          if (key !== 'x' || zooming) return;
          zooming = true;
          var min = u.scales.x.min, max = u.scales.x.max;
          group.forEach(function (p) { if (p !== u) p.setScale('x', { min: min, max: max }); });
          zooming = false;
        }]
      }
    };
    var data = [section.x].concat(spec.series.map(function (s) { return s.values; }));
    var u = new uPlot(opts, data, wrap);
    u.over.addEventListener('click', function () {
      if (pinned !== null) {
        pinned = null;
        reasonsEl.classList.remove('pinned');
        if (u.cursor.idx !== null && u.cursor.idx !== undefined) renderReasons(u.data[0][u.cursor.idx], section.runs);
        return;
      }
      var i = u.cursor.idx;
      if (i === null || i === undefined) return;
      pinned = u.data[0][i];
      renderReasons(pinned, section.runs);
      reasonsEl.classList.add('pinned');
    });
    plots.push(u);
    group.push(u);
  }
  D.sections.forEach(function (section, k) {
    section.index = k;
    if (section.title) charts.appendChild(el('h2', { 'class': 'section' }, section.title));
    var spans = offloadSpans(section), group = [];
    section.charts.forEach(function (spec) { makeChart(spec, section, spans, group); });
  });
  window.addEventListener('resize', function () { var w = width(); plots.forEach(function (p) { p.setSize({ width: w, height: p.height }); }); });
  if (D.sections.length && D.sections[0].x.length) renderReasons(D.sections[0].x[0], D.sections[0].runs);
  window.__edgegovPlots = plots;

  // ── tables: every number here comes from every sample, not from the plots ──
  var tables = document.getElementById('tables');
  function table(head, rows, numericFrom) {
    var t = el('table'), tr = el('tr');
    head.forEach(function (h) { tr.appendChild(el('th', null, h)); });
    t.appendChild(tr);
    rows.forEach(function (r) {
      var row = el('tr');
      r.forEach(function (c, i) { row.appendChild(el('td', i >= (numericFrom || 1) ? { 'class': 'num' } : null, c)); });
      t.appendChild(row);
    });
    return t;
  }
  function flat(v) {
    if (v === null || v === undefined) return '—';
    if (typeof v === 'number') return fmtNum(v, 3);
    if (typeof v === 'object') return Object.keys(v).map(function (k) { return k + ': ' + (typeof v[k] === 'object' ? JSON.stringify(v[k]) : flat(v[k])); }).join(', ');
    return String(v);
  }
  if (D.scoreTable) {
    tables.appendChild(el('h2', null, 'Scores'));
    tables.appendChild(table(D.scoreTable.columns, D.scoreTable.rows.map(function (r) { return r.map(function (c) { return typeof c === 'number' ? fmtNum(c, 3) : c === null ? '—' : c; }); }), 1));
  }
  D.runs.forEach(function (run) {
    tables.appendChild(el('h2', null, (D.runs.length > 1 ? run.label + ': ' : '') + 'summary'));
    tables.appendChild(el('p', { 'class': 'note' }, run.samples + ' samples over ' + fmtTime(run.durationS) + ', ' + run.decisions.length + ' decisions listed'));
    if (run.summary) {
      tables.appendChild(table(['field', 'value'], Object.keys(run.summary).map(function (k) { return [k, flat(run.summary[k])]; }), 9));
    }
    // The run's own tiers, richest first by the index its decisions carry (a compare mixes
    // device policies, so the header's tier list is not this run's ladder).
    var rank = {};
    run.decisions.forEach(function (d) { if (rank[d.tier] === undefined) rank[d.tier] = d.tierIndex; });
    D.policy.tiers.forEach(function (t, i) { if (rank[t] === undefined) rank[t] = 1000 + i; });
    var tiers = Object.keys(run.timeInTierS).sort(function (a, b) { return rank[a] - rank[b]; });
    tables.appendChild(table(['tier', 'time (s)'], tiers.map(function (t) { return [t, fmtNum(run.timeInTierS[t], 1)]; })));
    var sev = D.severities.filter(function (s) { return run.timeInSeverityS[s] !== undefined; });
    tables.appendChild(table(['severity', 'time (s)'], sev.map(function (s) { return [s, fmtNum(run.timeInSeverityS[s], 1)]; })));
    var sig = Object.keys(run.stats).sort();
    tables.appendChild(table(['signal', 'min', 'mean', 'max', 'samples without a reading'], sig.map(function (k) {
      var s = run.stats[k]; return [k, fmtNum(s.min), fmtNum(s.mean), fmtNum(s.max), String(s.missing)];
    })));
    var det = el('details'); det.appendChild(el('summary', null, 'All decision changes (' + run.decisions.length + ')'));
    var shown = run.decisions.slice(0, 2000);
    det.appendChild(table(['t', 'tier', 'severity', 'offload', 'first reason'], shown.map(function (d) {
      return [fmtTime(d.t_ms / 1000), d.tier, d.severity, d.offload, d.reasons.length ? d.reasons[0].message : ''];
    }), 9));
    if (run.decisions.length > shown.length) det.appendChild(el('p', { 'class': 'note' }, (run.decisions.length - shown.length) + ' more not shown'));
    tables.appendChild(det);
  });
  D.notes.forEach(function (n) { tables.appendChild(el('p', { 'class': 'note' }, n)); });
  document.body.setAttribute('data-ready', '1');
})();
`;

export function renderReportHtml(data: ReportData): string {
  const { js, css } = uplotAssets();
  const title = escapeHtml(data.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="edgegov">
<title>${title}</title>
<style>${css}</style>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${title}</h1>
<div class="sub">${escapeHtml(data.subtitle)} · policy ${escapeHtml(data.policy.name)} (${escapeHtml(data.policy.file)}) · generated ${escapeHtml(data.generatedAt)}</div>
<div class="hint">Drag on a chart to zoom (all charts follow), double-click to zoom out. Hover for values and the decision in force; click to pin it.</div>
</header>
<main>
<div id="charts"></div>
<aside><div id="reasons" class="panel"><h2>Decision at the cursor</h2><div class="hint">Hover a chart.</div></div></aside>
<section class="tables" id="tables"></section>
</main>
<script type="application/json" id="edgegov-data">${jsonForScript(data)}</script>
<script>${scriptSafe(js)}</script>
<script>${scriptSafe(CLIENT)}</script>
</body>
</html>
`;
}
