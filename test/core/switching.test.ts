/**
 * What a knob change costs, and what keeps the governor from flapping (docs/core.md §2–§5):
 *  - a relax waits ≥ 20 × its switch cost (model.switchCost), never an escalation;
 *  - a milder severity, and a return from cloud/pause toward local, wait for the dwell;
 *  - a slope needs 3 sensor refreshes (a cached sensor's staircase is not a ramp);
 *  - our own footprint growth that the engine applies late is not forecast as a squeeze.
 */
import { describe, expect, it } from 'vitest';
import { testPolicy } from '../helpers/policy-fixture.js';
import { phoneSample, runGovernor } from './trace-helpers.js';
import { Estimator } from '../../src/estimator/estimator.js';
import { compilePolicy, switchCostMs } from '../../src/core/compile.js';
import { severityIndex } from '../../src/core/severity.js';
import type { Policy, SwitchCosts } from '../../src/policy/types.js';
import type { Sample } from '../../src/core/signals.js';
import type { Decision } from '../../src/core/decision.js';
import { initialState, step } from '../../src/core/governor.js';

const PERIOD_MS = 500;
const COSTS: SwitchCosts = { quantMs: 10_000, contextMs: 300, batchMs: 300, threadsMs: 0, pacingMs: 0 };
/** The test phone without forecasting (the tier tests below are about values, not slopes), with switch costs `c`. */
const withCosts = (c: SwitchCosts | null): Policy => {
  const base = testPolicy();
  return testPolicy({ model: { ...base.model, ...(c ? { switchCost: c } : {}) }, control: { ...base.control, forecastHorizonMs: 0 } });
};

/** Samples every 500 ms from 0 to `endS` with SoC °C from `socAt(t s)`. */
function socRun(endS: number, socAt: (tS: number) => number, extra: (tS: number) => Parameters<typeof phoneSample>[1] = () => ({})): Sample[] {
  const out: Sample[] = [];
  for (let t = 0; t <= endS * 1000; t += PERIOD_MS) out.push(phoneSample(t, { socC: socAt(t / 1000), ...extra(t / 1000) }));
  return out;
}
const decisions = (p: Policy, s: Sample[]): Decision[] => runGovernor(p, s).map((r) => r.decision);
/** Times (s) at which the tier changed, with the new tier. */
const tierChanges = (ds: Decision[]) => ds.flatMap((d, i) => (i > 0 && d.tier !== ds[i - 1].tier ? [{ t: d.t_ms / 1000, tier: d.tier }] : []));

describe('switch costs', () => {
  it('a quant swap costs the reload; context and batch share one re-create; threads and pacing add theirs', () => {
    const p = withCosts({ quantMs: 10_000, contextMs: 300, batchMs: 500, threadsMs: 7, pacingMs: 2 });
    const [full, balanced, lean] = p.tiers;
    expect(switchCostMs(full, balanced, p.model.switchCost!)).toBe(10_000);
    expect(switchCostMs(balanced, lean, p.model.switchCost!)).toBe(500 + 2); // ctx+batch → 500, pacing 2
    expect(switchCostMs(lean, lean, p.model.switchCost!)).toBe(0);
    const cp = compilePolicy(p);
    expect(cp.switchMs[0 * p.tiers.length + 1]).toBe(10_000);
  });

  it('without model.switchCost switching is free: relaxing waits for the dwell alone', () => {
    const p = withCosts(null);
    const ch = tierChanges(decisions(p, socRun(60, (t) => (t >= 2 && t < 6 ? 66 : 55))));
    expect(ch[0]).toMatchObject({ tier: 'balanced' });
    expect(ch[1]).toMatchObject({ tier: 'full' });
    expect(ch[1].t - ch[0].t).toBeGreaterThanOrEqual(p.control.dwellMs / 1000);
    expect(ch[1].t - ch[0].t).toBeLessThan(p.control.dwellMs / 1000 + 2);
  });

  it('a relax over a quant swap waits 20 × its cost, not just the dwell, and says so', () => {
    const p = withCosts(COSTS);
    const ds = decisions(p, socRun(260, (t) => (t >= 2 && t < 6 ? 66 : 55)));
    const ch = tierChanges(ds);
    expect(ch[0]).toMatchObject({ tier: 'balanced' });
    const relax = ch.find((c) => c.tier === 'full')!;
    expect(relax.t - ch[0].t).toBeGreaterThanOrEqual(20 * COSTS.quantMs / 1000);
    expect(relax.t - ch[0].t).toBeLessThan(20 * COSTS.quantMs / 1000 + 2);
    const waiting = ds.find((d) => d.t_ms === 60_000)!;
    expect(waiting.reasons.find((r) => r.rule === 'dwell')?.message).toMatch(/switch to full costs 10 s/);
  });

  it('a relax that keeps the quant (context, batch, pacing) waits only the dwell', () => {
    const p = withCosts(COSTS);
    // 66 °C: light → balanced; 76 °C: moderate → lean (same q4_k_m); back to 66 °C: relax lean → balanced.
    const ds = decisions(p, socRun(60, (t) => (t < 4 ? 66 : t < 8 ? 76 : 66)));
    const ch = tierChanges(ds);
    const toLean = ch.find((c) => c.tier === 'lean')!;
    const back = ch.find((c) => c.t > toLean.t && c.tier === 'balanced')!;
    expect(back.t - toLean.t).toBeGreaterThanOrEqual(p.control.dwellMs / 1000);
    expect(back.t - toLean.t).toBeLessThan(p.control.dwellMs / 1000 + 2);
  });

  it('escalation never waits for a switch cost: every decision is at least as lean as its severity\'s cap', () => {
    const p = withCosts({ ...COSTS, quantMs: 60_000 });
    const cap = compilePolicy(p).capBySeverity;
    // Heat, cool (a relax waiting 20 min), then heat in steps again.
    const soc = (t: number) => (t >= 2 && t < 6 ? 66 : t < 30 ? 55 : t < 31 ? 66 : t < 32 ? 76 : t < 33 ? 86 : 96);
    const ds = decisions(p, socRun(40, soc));
    expect(ds.some((d) => d.severity === 'critical')).toBe(true);
    for (const d of ds) expect(d.tierIndex, `t=${d.t_ms}`).toBeGreaterThanOrEqual(cap[severityIndex(d.severity)]);
  });

  it('with a ladder whose knobs only get leaner, the cap tier is the cheapest tier that satisfies the cap', () => {
    // Why the core needs no "cheapest escalation" search: a tier leaner than the cap differs from
    // the current one in every knob the cap tier does (and maybe more), so it never costs less.
    const p = withCosts({ quantMs: 10_000, contextMs: 300, batchMs: 300, threadsMs: 50, pacingMs: 20 });
    const n = p.tiers.length;
    for (let from = 0; from < n; from++) {
      for (let cap = from + 1; cap < n; cap++) {
        for (let j = cap; j < n; j++) {
          expect(switchCostMs(p.tiers[from], p.tiers[j], p.model.switchCost!)).toBeGreaterThanOrEqual(switchCostMs(p.tiers[from], p.tiers[cap], p.model.switchCost!));
        }
      }
    }
  });
});

describe('anti-flap holds', () => {
  it('a milder severity is published only after the dwell since the worse one was entered; worse is at once', () => {
    const p = withCosts(null);
    const ds = decisions(p, socRun(40, (t) => (t >= 2 && t < 5 ? 68 : t < 30 ? 55 : t < 31 ? 68 : 78)));
    const light = ds.find((d) => d.severity === 'light')!;
    const none = ds.find((d) => d.t_ms > light.t_ms && d.severity === 'none')!;
    expect(none.t_ms - light.t_ms).toBeGreaterThanOrEqual(p.control.dwellMs);
    const held = ds.find((d) => d.t_ms === 8_000)!;
    expect(held.severity).toBe('light');
    expect(held.reasons.find((r) => r.rule === 'dwell')?.message).toMatch(/severity light held/);
    expect(ds.find((d) => d.t_ms === 33_000)!.severity).toBe('moderate');
  });

  it('returning from the cloud toward local waits for the dwell since the offload began', () => {
    const p = testPolicy();
    // Local decode below the 5 tok/s floor for a dwell → cloud; then fast again.
    const samples = socRun(60, () => 45, (t) => ({ tokS: t < 15 ? 3 : 20 }));
    const ds = decisions(p, samples);
    const cloud = ds.find((d) => d.offload === 'cloud')!;
    const local = ds.find((d) => d.t_ms > cloud.t_ms && d.offload === 'local')!;
    expect(local.t_ms - cloud.t_ms).toBeGreaterThanOrEqual(p.control.dwellMs);
    const held = ds.find((d) => d.t_ms === 16_000)!;
    expect(held.offload).toBe('cloud');
    expect(held.reasons.find((r) => r.rule === 'offload')?.message).toMatch(/cloud held/);
  });

  it('an offload cycling with a fast hotspot changes the decision at most once per dwell', () => {
    const p = testPolicy();
    // A hotspot at `critical` (→ cloud) whenever work runs locally, which falls to 80 °C as soon as it does not.
    const out = closedLoop(p, 300, (d) => (d === undefined || d.offload === 'local' ? 97 : 80));
    const changes = out.filter((d, i) => i > 0 && d.offload !== out[i - 1].offload).length;
    expect(out.some((d) => d.offload === 'cloud')).toBe(true);
    expect(changes).toBeLessThanOrEqual(Math.ceil(300_000 / p.control.dwellMs));
  });
});

/** A closed loop: each sample is `sampleFor(t, last decision)`, through one governor. */
function closedLoop(p: Policy, endS: number, socFor: (d: Decision | undefined) => number,
  memFor: (tMs: number, d: Decision | undefined) => number = () => 7000): Decision[] {
  let state = initialState(p);
  let last: Decision | undefined;
  const out: Decision[] = [];
  for (let t = 0; t <= endS * 1000; t += PERIOD_MS) {
    const r = step(state, phoneSample(t, { socC: socFor(last), memAvailMb: memFor(t, last) }), p);
    state = r.state;
    last = r.decision;
    out.push(last);
  }
  return out;
}

describe('slope from refreshes only', () => {
  const p = testPolicy();
  it('a cached sensor refreshed every 7 s gives no slope in a 10 s window (a step is not a ramp)', () => {
    const est = new Estimator(p);
    // skin_c refreshed every 7 s, each refresh 0.6 °C warmer; held between refreshes.
    for (let t = 0; t <= 60_000; t += PERIOD_MS) {
      const skin = 36 + 0.6 * Math.floor(t / 7000);
      est.update({ t_ms: t, skin_c: skin, soc_c: 45 + (t % 1000 === 0 ? 0.1 : 0) });
      const e = est.estimate('skin_c')!;
      expect(e.forecast, `t=${t}`).toBeUndefined();
    }
  });
  it('a sensor that refreshes every sample still gives a slope and a forecast at once', () => {
    const est = new Estimator(p);
    for (let t = 0; t <= 10_000; t += PERIOD_MS) est.update({ t_ms: t, skin_c: 36 + 0.1 * (t / 1000), soc_c: 45 });
    const e = est.estimate('skin_c')!;
    expect(e.slopePerS).toBeCloseTo(0.1, 2);
    expect(e.forecast).toBeGreaterThan(e.value!);
  });
  it('a flat reading that starts to fall is forecast after 3 refreshes, the flat past spanning the window', () => {
    const est = new Estimator(p);
    for (let t = 0; t <= 20_000; t += PERIOD_MS) est.update({ t_ms: t, mem_avail_mb: t < 18_500 ? 4000 : 4000 - 100 * ((t - 18_000) / 500), soc_c: 45 });
    const e = est.estimate('mem_avail_mb')!;
    expect(e.forecast).toBeDefined();
    expect(e.forecast!).toBeLessThan(e.value!);
  });
});

describe('our own footprint growth lands late', () => {
  it('a reload the engine applies a minute after the relax is not forecast as an outside squeeze', () => {
    const p = testPolicy();
    // light (balanced) for a moment, then cool: relax to full after the dwell. The engine applies
    // the bigger footprint 60 s later (end of a long answer): MemAvailable drops then, in one step.
    let relaxT = Infinity;
    let t = 0;
    const out = closedLoop(p, 120, () => (t >= 1000 && t < 3000 ? 70 : 45), (tMs, d) => {
      t = tMs;
      if (relaxT === Infinity && d?.tier === 'full' && tMs > 3000) relaxT = tMs;
      return tMs >= relaxT + 60_000 ? 7000 - 1600 : 7000;
    });
    expect(relaxT).toBeLessThan(30_000);
    const after = out.filter((d) => d.t_ms >= relaxT + 60_000);
    expect(after.length).toBeGreaterThan(60);
    expect(after.every((d) => d.tier === 'full')).toBe(true);
    expect(after.some((d) => d.reasons.some((r) => r.signal === 'mem_avail_mb' && r.rule === 'forecast'))).toBe(false);
  });
});
