/**
 * The soak's verdict (scripts/soak/verdict.mjs) on synthetic series: a leak the limit is meant
 * to catch fails, a bounded series with GC-like sawtooth and noise passes, warm-up growth in the
 * first half is not judged, a short run's noise stays under the floor, and a loop stall past
 * the bound fails while one under it passes.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module without types (shared with the npm run soak script)
import { GROWTH_LIMITS, fitSlope, judgeGrowth, judgeSoak, lowerEnvelope, percentile } from '../../scripts/soak/verdict.mjs';

const MiB = 1024 * 1024;

/** A deterministic pseudo-random sequence in [-1, 1) (no Math.random: the cases must repeat). */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

function series(durationS: number, f: (tS: number) => number): { tS: number[]; v: number[] } {
  const tS: number[] = [];
  const v: number[] = [];
  for (let t = 0; t <= durationS; t++) {
    tS.push(t);
    v.push(f(t));
  }
  return { tS, v };
}

describe('fitSlope', () => {
  it('recovers the slope of a line exactly, and of a noisy line closely', () => {
    const xs = [0, 1, 2, 3, 4, 5];
    expect(fitSlope(xs, xs.map((x) => 7 + 2.5 * x))).toBeCloseTo(2.5, 12);
    const r = noise(3);
    const { tS, v } = series(600, (t) => 100 - 0.2 * t + 5 * r());
    expect(fitSlope(tS, v)).toBeCloseTo(-0.2, 2);
  });
  it('is 0 for a flat or too-short series', () => {
    expect(fitSlope([1, 2, 3], [4, 4, 4])).toBe(0);
    expect(fitSlope([1], [4])).toBe(0);
    expect(fitSlope([2, 2, 2], [1, 2, 3])).toBe(0);
  });
});

describe('judgeGrowth', () => {
  const rss = GROWTH_LIMITS.rssBytes;
  it('fails a steady RSS leak of 200 KiB/min over an hour (above the 128 KiB/min limit)', () => {
    const r = noise(1);
    const { tS, v } = series(3600, (t) => 80 * MiB + (200 * 1024 * t) / 60 + 0.5 * MiB * r());
    const j = judgeGrowth(tS, v, rss);
    expect(j.ok).toBe(false);
    expect(j.slopePerMin).toBeGreaterThan(190 * 1024);
    expect(j.slopePerMin).toBeLessThan(210 * 1024);
    expect(j.reason).toMatch(/grows .* bytes\/min over the second half \(limit 131072\)/);
  });
  it('heap: passes a bounded 15 MiB GC sawtooth (100 s period) over an hour, whatever its phase', () => {
    const heap = GROWTH_LIMITS.heapUsedBytes;
    for (const phaseS of [0, 30, 70]) {
      const r = noise(2 + phaseS);
      const { tS, v } = series(3600, (t) => 20 * MiB + 15 * MiB * (((t + phaseS) % 100) / 100) + 0.2 * MiB * r());
      const j = judgeGrowth(tS, v, heap);
      expect(j.judged).toBe(true);
      expect(j.ok, `phase ${phaseS}: ${j.reason}`).toBe(true);
      expect(Math.abs(j.slopePerMin)).toBeLessThan(heap.perMin);
    }
  });
  it('heap: fails when the post-GC minimum rises 100 KiB/min under the same sawtooth', () => {
    const r = noise(4);
    const { tS, v } = series(3600, (t) => 20 * MiB + (100 * 1024 * t) / 60 + 15 * MiB * ((t % 100) / 100) + 0.2 * MiB * r());
    const j = judgeGrowth(tS, v, GROWTH_LIMITS.heapUsedBytes);
    expect(j.ok).toBe(false);
    expect(j.slopePerMin).toBeGreaterThan(80 * 1024);
    expect(j.slopePerMin).toBeLessThan(120 * 1024);
    expect(j.reason).toMatch(/\(minima of 120 s windows\)/);
  });
  it('a half shorter than the series\' minimum window is reported as not judged, not passed silently', () => {
    const { tS, v } = series(90, (t) => 20 * MiB + t * 100_000);
    const j = judgeGrowth(tS, v, GROWTH_LIMITS.heapUsedBytes);
    expect(j.judged).toBe(false);
    expect(j.ok).toBe(true);
    expect(j.note).toMatch(/too short to judge \(needs 10 min\)/);
    expect(judgeGrowth(tS, v, GROWTH_LIMITS.threads).judged).toBe(true);
  });
  it('lowerEnvelope takes the minimum of each whole window and drops the partial one', () => {
    const pts = [[0, 5], [1, 3], [2, 4], [3, 9], [4, 1], [5, 2], [6, 0]];
    expect(lowerEnvelope(pts, 0, 3)).toEqual([[1.5, 3], [4.5, 1]]);
  });
  it('does not judge the warm-up: growth only in the first half passes', () => {
    const { tS, v } = series(3600, (t) => 60 * MiB + Math.min(t, 1500) * 10_000);
    expect(judgeGrowth(tS, v, rss).ok).toBe(true);
  });
  it('a short run: slope over the rate limit but growth under the noise floor passes; past the floor fails', () => {
    // 90 s: 1 MiB of drift in the judged 45 s is allocator noise, 8 MiB is not.
    const small = series(90, (t) => 70 * MiB + (t > 45 ? (t - 45) / 45 : 0) * MiB);
    const short = { ...rss, minWindowMin: 0 };
    const jSmall = judgeGrowth(small.tS, small.v, short);
    expect(jSmall.slopePerMin).toBeGreaterThan(rss.perMin);
    expect(jSmall.ok).toBe(true);
    const big = series(90, (t) => 70 * MiB + (t > 45 ? (t - 45) / 45 : 0) * 8 * MiB);
    expect(judgeGrowth(big.tS, big.v, short).ok).toBe(false);
  });
  it('fails a thread leak of one detached reader thread every 10 minutes; passes a flat count', () => {
    const leak = series(3600, (t) => 15 + Math.floor(t / 600));
    expect(judgeGrowth(leak.tS, leak.v, GROWTH_LIMITS.threads).ok).toBe(false);
    const flat = series(3600, (t) => 15 + (t % 97 === 0 ? 1 : 0));
    expect(judgeGrowth(flat.tS, flat.v, GROWTH_LIMITS.threads).ok).toBe(true);
  });
  it('skips missing samples and refuses to judge too few', () => {
    const j = judgeGrowth([0, 1, 2], [1, NaN, 2], GROWTH_LIMITS.daemonFds);
    expect(j.ok).toBe(false);
    expect(j.reason).toBe('only 2 samples');
  });
});

describe('judgeSoak', () => {
  const flat = (n: number, loopMaxMs: (t: number) => number) =>
    Array.from({ length: n }, (_, t) => ({ tS: t, rssBytes: 80 * MiB, heapUsedBytes: 20 * MiB, daemonFds: 110, threads: 15, loopP99Ms: loopMaxMs(t) / 2, loopMaxMs: loopMaxMs(t) }));

  it('passes flat series with loop delays under the bound, and reports the loop figures', () => {
    const v = judgeSoak(flat(600, (t) => (t === 300 ? 900 : 2 + (t % 5))), { stallBoundMs: 2000 });
    expect(v.failures).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.loop.maxMs).toBe(900);
    expect(v.loop.p99Ms).toBe(3); // p99 of the per-second p99s: the one spike is above the 99th
  });
  it('fails a single stall past the bound, naming when it happened', () => {
    const v = judgeSoak(flat(600, (t) => (t === 421 ? 2500 : 3)), { stallBoundMs: 2000 });
    expect(v.ok).toBe(false);
    expect(v.failures).toEqual(['loop: stalled 2500 ms at t=421s (bound 2000 ms)']);
  });
  it('fails an fd leak while the rest is flat', () => {
    const s = flat(3600, () => 1).map((x) => ({ ...x, daemonFds: 110 + Math.floor(x.tS / 300) }));
    const v = judgeSoak(s, { stallBoundMs: 2000 });
    expect(v.ok).toBe(false);
    expect(v.failures).toHaveLength(1);
    expect(v.failures[0]).toMatch(/^daemonFds: grows 0\.\d+ fds\/min over the second half \(minima of 10 s windows\) \(limit 0\.05\)/);
    expect(v.series.daemonFds.slopePerMin).toBeGreaterThan(0.15); // one fd every 5 min = 0.2/min
    expect(v.series.daemonFds.slopePerMin).toBeLessThan(0.25);
  });
});

describe('percentile', () => {
  it('is nearest-rank over the finite values', () => {
    expect(percentile([5, 1, 3, NaN, 2, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(percentile([], 99)).toBeUndefined();
  });
});
