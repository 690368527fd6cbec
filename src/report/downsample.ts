/**
 * Display downsampling: a chart of a 24 h / 10 Hz trace cannot draw 864 000 points per
 * series and stay responsive, but it must not hide a spike either. So time is cut into
 * equal buckets (about one per pixel column) and each bucket keeps its minimum and its
 * maximum, in the order they happened: the drawn envelope is exactly the data's envelope.
 *
 * Buckets are laid on time, not on sample index, so several runs (compare) land on one
 * shared x axis, which uPlot needs. Small inputs pass through untouched.
 */

export interface Grid {
  /** x values in seconds, shared by every series projected onto this grid. */
  x: number[];
  /** True when x is the samples' own times (no bucketing). */
  raw: boolean;
  /** Values of one column of one run on this grid; missing readings are null (a gap). */
  project(runIndex: number, column: ArrayLike<number>): (number | null)[];
}

export interface GridRun {
  /** Sample times, ms, non-decreasing. */
  t_ms: ArrayLike<number>;
}

/** Rounds for the page: three decimals are more than a plot can show and keep the file small. */
export function roundForDisplay(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function sameTimes(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function buildGrid(runs: readonly GridRun[], maxPoints = 4000): Grid {
  const n0 = runs[0]?.t_ms.length ?? 0;
  if (runs.length === 0 || runs.every((r) => r.t_ms.length === 0)) {
    return { x: [], raw: true, project: () => [] };
  }
  if (n0 <= maxPoints && runs.every((r) => sameTimes(r.t_ms, runs[0].t_ms))) {
    const x = Array.from(runs[0].t_ms, (t) => t / 1000);
    return {
      x,
      raw: true,
      project: (_run, col) => Array.from({ length: col.length }, (_, i) => (Number.isFinite(col[i]) ? roundForDisplay(col[i]) : null)),
    };
  }
  let tMin = Infinity;
  let tMax = -Infinity;
  for (const r of runs) {
    if (r.t_ms.length === 0) continue;
    tMin = Math.min(tMin, r.t_ms[0]);
    tMax = Math.max(tMax, r.t_ms[r.t_ms.length - 1]);
  }
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const width = tMax > tMin ? (tMax - tMin) / buckets : 1;
  const x: number[] = new Array(buckets * 2);
  for (let b = 0; b < buckets; b++) {
    x[2 * b] = roundForDisplay((tMin + (b + 0.25) * width) / 1000);
    x[2 * b + 1] = roundForDisplay((tMin + (b + 0.75) * width) / 1000);
  }
  // Per run, the first sample index of each bucket (one pass: times are sorted).
  const starts = runs.map((r) => {
    const s = new Int32Array(buckets + 1);
    let i = 0;
    for (let b = 0; b < buckets; b++) {
      s[b] = i;
      const end = b === buckets - 1 ? Infinity : tMin + (b + 1) * width;
      while (i < r.t_ms.length && r.t_ms[i] < end) i++;
    }
    s[buckets] = r.t_ms.length;
    return s;
  });
  return {
    x,
    raw: false,
    project(runIndex, col) {
      const s = starts[runIndex];
      const out: (number | null)[] = new Array(buckets * 2).fill(null);
      for (let b = 0; b < buckets; b++) {
        let min = Infinity;
        let max = -Infinity;
        let iMin = -1;
        let iMax = -1;
        for (let i = s[b]; i < s[b + 1]; i++) {
          const v = col[i];
          if (!Number.isFinite(v)) continue;
          if (v < min) { min = v; iMin = i; }
          if (v > max) { max = v; iMax = i; }
        }
        if (iMin < 0) continue; // no reading in this bucket: a gap
        const [first, second] = iMin <= iMax ? [min, max] : [max, min];
        out[2 * b] = roundForDisplay(first);
        out[2 * b + 1] = roundForDisplay(second);
      }
      return out;
    },
  };
}
