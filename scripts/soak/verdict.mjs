// The soak's verdict: does a resource series grow without bound, and did the loop stall?
// Pure functions over the sampled series, so the judgement itself is unit-tested with
// synthetic series (test/reliability/soak-verdict.test.ts).

/**
 * Growth limits, per series, judged on the second half of the run (the first half is warm-up:
 * JIT, heap sizing, the kernel's socket buffers). A series fails when its least-squares slope
 * is above `perMin` AND the growth that slope implies over the judged window is above
 * `floor`: the floor is the noise a bounded series shows anyway (allocator arenas, an fd or
 * thread open for a moment when sampled), so a short run is not failed for noise, while a long
 * run is judged by the rate.
 *
 * `envelopeS`: the series is judged on its lower envelope, the minimum of each window of that
 * many seconds, not on the raw samples. The V8 heap is a sawtooth (at 100 Hz with 50 clients
 * and --max-semi-space-size=1 it climbs ~15 MiB between mark-compacts ~100 s apart): what a
 * leak raises is the live set a full GC leaves, i.e. the minima.
 *
 * `daemonFds` is the daemon's open fds less its connected clients' sockets (a client churning
 * in or out at the sampled instant is not the daemon's growth); the driver's FIFO and vanishing
 * zones move the sensor reader's files by up to 2 at each 30 s rescan, hence its floor of 4.
 *
 * `minWindowMin`: a judged half shorter than this is reported `judged: false`, not passed or
 * failed: a fit over less than a few GC periods measures the sawtooth's phase, not a trend.
 */
export const GROWTH_LIMITS = {
  rssBytes: { perMin: 128 * 1024, floor: 4 * 1024 * 1024, unit: 'bytes', minWindowMin: 5 },
  heapUsedBytes: { perMin: 64 * 1024, floor: 2 * 1024 * 1024, unit: 'bytes', envelopeS: 120, minWindowMin: 10 },
  daemonFds: { perMin: 0.05, floor: 4, unit: 'fds', envelopeS: 10, minWindowMin: 0.5 },
  threads: { perMin: 0.05, floor: 1.5, unit: 'threads', minWindowMin: 0.5 },
};

/** Least-squares slope of ys over xs (units of y per unit of x); 0 for fewer than 2 points. */
export function fitSlope(xs, ys) {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - mx;
    sxy += dx * (ys[i] - my);
    sxx += dx * dx;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

/** Nearest-rank percentile (p in 0..100) of the finite values; undefined when there are none. */
export function percentile(values, p) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * v.length));
  return v[Math.min(v.length, rank) - 1];
}

/**
 * The minimum of each whole `windowS` window from `fromS` on, placed at the window's centre.
 * A trailing partial window is dropped (its minimum would be biased high).
 */
export function lowerEnvelope(pts, fromS, windowS) {
  const out = [];
  let k = 0;
  const tEnd = pts.length ? pts[pts.length - 1][0] : fromS;
  for (let w0 = fromS; w0 + windowS <= tEnd + 1e-9; w0 += windowS) {
    let min = Infinity;
    for (; k < pts.length && pts[k][0] < w0 + windowS; k++) if (pts[k][0] >= w0 && pts[k][1] < min) min = pts[k][1];
    if (min < Infinity) out.push([w0 + windowS / 2, min]);
  }
  return out;
}

/**
 * Judges one series given as parallel arrays of times (s) and values: the slope per minute
 * over the second half (of the raw samples, or of their lower envelope), the growth it implies
 * over that half, and whether both pass the limit.
 */
export function judgeGrowth(tS, values, limit) {
  const pts = [];
  for (let i = 0; i < tS.length; i++) if (Number.isFinite(values[i])) pts.push([tS[i], values[i]]);
  if (pts.length < 4) return { judged: false, ok: false, reason: `only ${pts.length} samples`, samples: pts.length };
  const t0 = pts[0][0];
  const tEnd = pts[pts.length - 1][0];
  const mid = t0 + (tEnd - t0) / 2;
  const half = pts.filter(([t]) => t >= mid);
  const windowMin = (half[half.length - 1][0] - half[0][0]) / 60;
  const base = { windowMin, samples: half.length, first: half[0][1], last: half[half.length - 1][1], limitPerMin: limit.perMin, floor: limit.floor, unit: limit.unit, envelopeS: limit.envelopeS };
  const fitted = limit.envelopeS ? lowerEnvelope(half, mid, limit.envelopeS) : half;
  if (windowMin < (limit.minWindowMin ?? 0) || fitted.length < 3) {
    return { ...base, judged: false, ok: true, points: fitted.length, note: `second half ${windowMin.toFixed(2)} min (${fitted.length} points): too short to judge (needs ${limit.minWindowMin} min)` };
  }
  const slopePerMin = fitSlope(fitted.map((p) => p[0]), fitted.map((p) => p[1])) * 60;
  const growthOverWindow = slopePerMin * windowMin;
  // The fitted line, through the mean of the fitted points, for the plot.
  const mt = fitted.reduce((a, p) => a + p[0], 0) / fitted.length;
  const my = fitted.reduce((a, p) => a + p[1], 0) / fitted.length;
  const line = { t0S: mid, y0: my - (slopePerMin / 60) * (mt - mid), slopePerS: slopePerMin / 60 };
  const ok = !(slopePerMin > limit.perMin && growthOverWindow > limit.floor);
  return {
    ...base,
    judged: true,
    ok,
    slopePerMin,
    growthOverWindow,
    points: fitted.length,
    line,
    ...(ok ? {} : { reason: `grows ${fmt(slopePerMin)} ${limit.unit}/min over the second half${limit.envelopeS ? ` (minima of ${limit.envelopeS} s windows)` : ''} (limit ${fmt(limit.perMin)}), ${fmt(growthOverWindow)} ${limit.unit} in ${windowMin.toFixed(1)} min (noise floor ${fmt(limit.floor)})` }),
  };
}

function fmt(x) {
  return Math.abs(x) >= 100 ? String(Math.round(x)) : String(Number(x.toPrecision(3)));
}

/**
 * The whole verdict over the samples ({ tS, rssBytes, heapUsedBytes, daemonFds, threads,
 * loopMaxMs, loopP99Ms }[]): every growth series judged (or marked too short to judge), and
 * the loop's worst delay against `stallBoundMs`. Returns { ok, failures[], series{}, loop{} }.
 */
export function judgeSoak(samples, { stallBoundMs, limits = GROWTH_LIMITS } = {}) {
  const failures = [];
  const tS = samples.map((s) => s.tS);
  const series = {};
  for (const [name, limit] of Object.entries(limits)) {
    const j = judgeGrowth(tS, samples.map((s) => s[name]), limit);
    series[name] = j;
    if (!j.ok) failures.push(`${name}: ${j.reason}`);
  }
  const maxes = samples.map((s) => s.loopMaxMs).filter(Number.isFinite);
  const loop = {
    p99Ms: percentile(samples.map((s) => s.loopP99Ms), 99),
    p50Ms: percentile(samples.map((s) => s.loopP99Ms), 50),
    maxMs: maxes.length ? Math.max(...maxes) : undefined,
    stallBoundMs,
    samples: maxes.length,
  };
  if (!maxes.length) failures.push('loop: no event-loop delay samples');
  else if (loop.maxMs > stallBoundMs) {
    const at = samples.find((s) => s.loopMaxMs === loop.maxMs)?.tS;
    failures.push(`loop: stalled ${Math.round(loop.maxMs)} ms at t=${at}s (bound ${stallBoundMs} ms)`);
  }
  return { ok: failures.length === 0, failures, series, loop };
}
