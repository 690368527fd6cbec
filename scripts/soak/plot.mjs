// The soak's plot: one SVG, a panel per series over time, each scaled to its own range, with
// the second half's fitted line drawn over it. Written by hand: a few polylines need no library.

const W = 900;
const PANEL_H = 120;
const PAD_L = 90;
const PAD_R = 20;
const GAP = 34;

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

function label(v, unit) {
  if (unit === 'bytes') return `${(v / 1024 / 1024).toFixed(1)} MiB`;
  if (unit === 'ms') return `${v.toFixed(v < 10 ? 1 : 0)} ms`;
  return String(Math.round(v * 10) / 10);
}

/**
 * At most ~2 × MAX_BUCKETS points: each bucket of samples keeps its minimum and its maximum, in
 * time order, so an hour at 1 Hz stays a small file and a one-second spike still shows.
 */
const MAX_BUCKETS = 600;
function thin(tS, values) {
  const pts = [];
  for (let k = 0; k < tS.length; k++) if (Number.isFinite(values[k])) pts.push([tS[k], values[k]]);
  if (pts.length <= 2 * MAX_BUCKETS) return pts;
  const out = [];
  const size = Math.ceil(pts.length / MAX_BUCKETS);
  for (let i = 0; i < pts.length; i += size) {
    const bucket = pts.slice(i, i + size);
    let lo = bucket[0];
    let hi = bucket[0];
    for (const q of bucket) {
      if (q[1] < lo[1]) lo = q;
      if (q[1] > hi[1]) hi = q;
    }
    if (lo === hi) out.push(lo);
    else out.push(...(lo[0] < hi[0] ? [lo, hi] : [hi, lo]));
  }
  return out;
}

/**
 * panels: { title, unit, values: number[], fit?: { slopePerS, t0S, y0 } }[] over the shared
 * times tS (s). Returns the SVG text.
 */
export function renderSvg({ title, tS, panels }) {
  const h = 40 + panels.length * (PANEL_H + GAP);
  const x0 = tS[0] ?? 0;
  const x1 = Math.max(tS[tS.length - 1] ?? 1, x0 + 1);
  const sx = (t) => PAD_L + ((t - x0) / (x1 - x0)) * (W - PAD_L - PAD_R);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif" font-size="11">`, `<rect width="100%" height="100%" fill="white"/>`, `<text x="${PAD_L}" y="20" font-size="14">${esc(title)}</text>`];
  panels.forEach((p, i) => {
    const top = 40 + i * (PANEL_H + GAP);
    const finite = p.values.filter(Number.isFinite);
    let lo = finite.length ? Math.min(...finite) : 0;
    let hi = finite.length ? Math.max(...finite) : 1;
    if (p.fromZero) lo = Math.min(0, lo);
    if (hi - lo < 1e-9) { hi += 1; lo -= p.fromZero ? 0 : 1; }
    const sy = (v) => top + PANEL_H - ((v - lo) / (hi - lo)) * PANEL_H;
    parts.push(`<rect x="${PAD_L}" y="${top}" width="${W - PAD_L - PAD_R}" height="${PANEL_H}" fill="none" stroke="#ccc"/>`);
    // A fitted line may leave the panel's range (it is fitted to the minima, say): clip it.
    parts.push(`<clipPath id="panel${i}"><rect x="${PAD_L}" y="${top}" width="${W - PAD_L - PAD_R}" height="${PANEL_H}"/></clipPath>`);
    parts.push(`<text x="${PAD_L}" y="${top - 6}" font-weight="bold">${esc(p.title)}</text>`);
    parts.push(`<text x="${PAD_L - 6}" y="${top + 10}" text-anchor="end">${esc(label(hi, p.unit))}</text>`);
    parts.push(`<text x="${PAD_L - 6}" y="${top + PANEL_H}" text-anchor="end">${esc(label(lo, p.unit))}</text>`);
    let d = '';
    for (const [t, v] of thin(tS, p.values)) d += `${d ? ' ' : ''}${sx(t).toFixed(1)},${sy(v).toFixed(1)}`;
    parts.push(`<polyline fill="none" stroke="#1f5fbf" stroke-width="1" points="${d}"/>`);
    if (p.fit) {
      const a = p.fit.t0S;
      const b = x1;
      const ya = p.fit.y0;
      const yb = p.fit.y0 + p.fit.slopePerS * (b - a);
      parts.push(`<line x1="${sx(a).toFixed(1)}" y1="${sy(ya).toFixed(1)}" x2="${sx(b).toFixed(1)}" y2="${sy(yb).toFixed(1)}" stroke="#d0342c" stroke-width="1.5" stroke-dasharray="5,3" clip-path="url(#panel${i})"/>`);
    }
    if (p.bound !== undefined && p.bound <= hi) {
      parts.push(`<line x1="${PAD_L}" y1="${sy(p.bound).toFixed(1)}" x2="${W - PAD_R}" y2="${sy(p.bound).toFixed(1)}" stroke="#d0342c" stroke-width="1"/>`);
    }
    if (p.note) parts.push(`<text x="${W - PAD_R}" y="${top - 6}" text-anchor="end" fill="#555">${esc(p.note)}</text>`);
  });
  const bottom = 40 + panels.length * (PANEL_H + GAP) - GAP + 16;
  parts.push(`<text x="${PAD_L}" y="${bottom}">0 s</text><text x="${W - PAD_R}" y="${bottom}" text-anchor="end">${Math.round(x1 - x0)} s</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
