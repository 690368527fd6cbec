/**
 * Invariants of the governor core as properties (fast-check), over random phone histories.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { testPolicy } from '../helpers/policy-fixture.js';
import { noise, runGovernor } from './trace-helpers.js';
import { initialState, step } from '../../src/core/governor.js';
import { severityIndex } from '../../src/core/severity.js';
import { needBytes, weightsBytesOf, MiB } from '../../src/core/memory.js';
import type { Sample } from '../../src/core/signals.js';
import type { Decision } from '../../src/core/decision.js';
import type { Policy } from '../../src/policy/types.js';

const RUNS = 150;
const PERIOD_MS = 500;

interface Readings { soc: number; skin: number; pct: number; mem: number; psi: number; charging: number }

const startArb = fc.record({
  soc: fc.double({ min: 30, max: 100, noNaN: true }),
  skin: fc.double({ min: 25, max: 50, noNaN: true }),
  pct: fc.double({ min: 1, max: 100, noNaN: true }),
  mem: fc.double({ min: 200, max: 9000, noNaN: true }),
  psi: fc.double({ min: 0, max: 40, noNaN: true }),
  charging: fc.constantFrom(0, 1),
});
// Per-sample moves within each sensor's plausible slew at 2 Hz (so no reading is a "spike").
const moveArb = fc.record({
  soc: fc.double({ min: -6, max: 6, noNaN: true }),
  skin: fc.double({ min: -1.5, max: 1.5, noNaN: true }),
  pct: fc.double({ min: -1, max: 1, noNaN: true }),
  mem: fc.double({ min: -1500, max: 1500, noNaN: true }),
  psi: fc.double({ min: -5, max: 5, noNaN: true }),
});
const historyArb = fc.record({ start: startArb, moves: fc.array(moveArb, { minLength: 1, maxLength: 80 }) });
// Near the thresholds, short histories: where a worse last reading can actually cross a line.
const nearStartArb = fc.record({
  soc: fc.double({ min: 55, max: 100, noNaN: true }),
  skin: fc.double({ min: 35, max: 48, noNaN: true }),
  pct: fc.double({ min: 3, max: 30, noNaN: true }),
  mem: fc.double({ min: 50, max: 1500, noNaN: true }),
  psi: fc.double({ min: 0, max: 35, noNaN: true }),
  charging: fc.constantFrom(0, 1),
});
// Everything mild except the battery, which sits around the low-charge caps.
const mildStartArb = fc.record({
  soc: fc.double({ min: 40, max: 60, noNaN: true }),
  skin: fc.double({ min: 28, max: 37, noNaN: true }),
  pct: fc.double({ min: 5, max: 30, noNaN: true }),
  mem: fc.double({ min: 2000, max: 9000, noNaN: true }),
  psi: fc.double({ min: 0, max: 8, noNaN: true }),
  charging: fc.constantFrom(0, 1),
});
const nearHistoryArb = fc.oneof(
  fc.record({ start: nearStartArb, moves: fc.array(moveArb, { minLength: 1, maxLength: 30 }) }),
  fc.record({
    start: mildStartArb,
    // Slow drifts, long enough (> dwell) for the controller to settle where the battery puts it.
    moves: fc.array(fc.record({
      soc: fc.double({ min: -1, max: 1, noNaN: true }),
      skin: fc.double({ min: -0.2, max: 0.2, noNaN: true }),
      pct: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
      mem: fc.double({ min: -100, max: 100, noNaN: true }),
      psi: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
    }), { minLength: 20, maxLength: 50 }),
  }),
  historyArb,
);

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

function toSample(t: number, r: Readings): Sample {
  const k = t / PERIOD_MS;
  return {
    t_ms: t,
    'zone.cpu0': r.soc,
    'zone.gpu0': r.soc - 3 + 0.05 * noise(k),
    skin_c: r.skin,
    battery_c: 30 + 0.05 * noise(k + 1),
    battery_w: 3 + 0.1 * noise(k + 2),
    battery_pct: r.pct,
    charging: r.charging,
    mem_avail_mb: r.mem,
    psi_mem_some_avg10: r.psi,
  };
}

function buildHistory(h: { start: Readings; moves: Omit<Readings, 'charging'>[] }): { samples: Sample[]; readings: Readings[] } {
  const readings: Readings[] = [];
  let r = { ...h.start };
  readings.push(r);
  for (const m of h.moves) {
    r = {
      soc: clamp(r.soc + m.soc, 20, 110),
      skin: clamp(r.skin + m.skin, 20, 60),
      pct: clamp(r.pct + m.pct, 0, 100),
      mem: clamp(r.mem + m.mem, 0, 12000),
      psi: clamp(r.psi + m.psi, 0, 90),
      charging: r.charging,
    };
    readings.push(r);
  }
  return { samples: readings.map((x, i) => toSample(i * PERIOD_MS, x)), readings };
}

function noSlewLimit(p: Policy): Policy {
  return { ...p, sensors: p.sensors.map((s) => ({ ...s, maxSlewPerS: Infinity })) };
}

const OFFLOAD_RANK = { local: 0, cloud: 1, pause: 2 } as const;

describe('monotone in danger', () => {
  // Every other input equal — same policy, same history, same controller state — a worse
  // final sample in one signal never gets a richer tier, a milder severity or less offload.
  // (Slew limits are off here: a reading rejected as an implausible spike is by design not
  // "hotter"; plausible readings are what the invariant is about.)
  const policy = noSlewLimit(testPolicy());
  const worseArb = fc.record({
    signal: fc.constantFrom('soc', 'skin', 'pct', 'mem', 'psi', 'charging'),
    amount: fc.double({ min: 0.01, max: 15, noNaN: true }),
  });
  it('a hotter / emptier / less-memory / more-PSI / unplugged last sample never gets a richer tier', () => {
    fc.assert(
      fc.property(nearHistoryArb, worseArb, (h, w) => {
        const { samples, readings } = buildHistory(h);
        const last = readings[readings.length - 1];
        const worse: Readings = { ...last };
        switch (w.signal) {
          case 'soc': worse.soc = Math.min(129, last.soc + w.amount); break;
          case 'skin': worse.skin = Math.min(79, last.skin + w.amount); break;
          case 'pct': worse.pct = Math.max(0, last.pct - w.amount); break;
          case 'mem': worse.mem = Math.max(0, last.mem - w.amount * 60); break;
          case 'psi': worse.psi = Math.min(100, last.psi + w.amount); break;
          case 'charging': worse.charging = 0; break;
        }
        const tLast = samples[samples.length - 1].t_ms;
        const a = runGovernor(policy, [...samples.slice(0, -1), toSample(tLast, last)]).at(-1)!.decision;
        const b = runGovernor(policy, [...samples.slice(0, -1), toSample(tLast, worse)]).at(-1)!.decision;
        expect(b.tierIndex).toBeGreaterThanOrEqual(a.tierIndex);
        expect(severityIndex(b.severity)).toBeGreaterThanOrEqual(severityIndex(a.severity));
        expect(OFFLOAD_RANK[b.offload]).toBeGreaterThanOrEqual(OFFLOAD_RANK[a.offload]);
        if (b.tierIndex === a.tierIndex) expect(b.contextLength).toBeLessThanOrEqual(a.contextLength);
      }),
      { numRuns: 4 * RUNS },
    );
  });
});

describe('determinism', () => {
  it('the same inputs give a byte-identical decision stream (fresh policy objects, fresh states)', () => {
    const gappyArb = fc.array(fc.boolean(), { minLength: 81, maxLength: 81 });
    fc.assert(
      fc.property(historyArb, gappyArb, (h, gaps) => {
        const { samples } = buildHistory(h);
        // Drop some readings (missing ≠ zero paths) deterministically from the generated mask.
        const withGaps = samples.map((s, i) => (gaps[i] ? { ...s, skin_c: undefined, 'zone.gpu0': NaN } : s));
        const one = runGovernor(testPolicy(), withGaps).map((r) => JSON.stringify(r.decision)).join('\n');
        const two = runGovernor(testPolicy(), withGaps.map((s) => ({ ...s }))).map((r) => JSON.stringify(r.decision)).join('\n');
        expect(two).toBe(one);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('bounded change rate', () => {
  // One threshold with 2 °C hysteresis: enter at 65 °C, leave below 63 °C.
  const base = testPolicy();
  const policy = testPolicy({
    limits: [{ signal: 'soc_c', direction: 'rising', levels: [{ severity: 'light', setAt: 65, clearAt: 63 }] }],
    rules: { ...base.rules, severityCaps: { none: 'full', light: 'balanced' } },
  });
  it('an input oscillating ±1 °C around the threshold changes the tier at most once per dwell period', () => {
    // A square-ish wave: runs of readings at 65 ± 1 °C (with a little jitter) of random lengths.
    const oscArb = fc.array(
      fc.record({ sign: fc.constantFrom(-1, 1), samples: fc.integer({ min: 1, max: 40 }), jitter: fc.double({ min: 0, max: 0.2, noNaN: true }) }),
      { minLength: 2, maxLength: 40 },
    );
    fc.assert(
      fc.property(oscArb, fc.double({ min: 40, max: 64, noNaN: true }), (osc, warmC) => {
        const samples: Sample[] = [];
        let t = 0;
        let k = 0;
        const add = (soc: number): void => {
          samples.push(toSample(t, { soc, skin: 33 + 0.01 * noise(k + 7), pct: 80, mem: 7000, psi: 1, charging: 1 }));
          t += PERIOD_MS;
          k++;
        };
        // Arrive from below (a warm-up at warmC), then oscillate in [64, 66].
        for (let i = 0; i < 20; i++) add(warmC + 0.01 * noise(i));
        for (const run of osc) for (let i = 0; i < run.samples; i++) add(65 + run.sign * (1 - run.jitter * Math.abs(noise(k))));
        const results = runGovernor(policy, samples);
        let lastChange = -Infinity;
        for (let i = 1; i < results.length; i++) {
          if (results[i].decision.tierIndex === results[i - 1].decision.tierIndex) continue;
          expect(results[i].decision.t_ms - lastChange).toBeGreaterThanOrEqual(policy.control.dwellMs);
          lastChange = results[i].decision.t_ms;
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('escalation is never delayed by dwell', () => {
  function capIndex(p: Policy, d: Decision): number {
    let cap = 0;
    for (const s of ['none', 'light', 'moderate', 'severe', 'critical', 'emergency', 'shutdown'] as const) {
      const name = p.rules.severityCaps[s];
      if (name !== undefined) cap = Math.max(cap, p.tiers.findIndex((t) => t.name === name));
      if (s === d.severity) return cap;
    }
    return cap;
  }
  it('every decision is at least as lean as its severity demands, at once (maxEscalateStep = ∞)', () => {
    const policy = testPolicy();
    fc.assert(
      fc.property(nearHistoryArb, (h) => {
        for (const r of runGovernor(policy, buildHistory(h).samples)) {
          expect(r.decision.tierIndex).toBeGreaterThanOrEqual(capIndex(policy, r.decision));
        }
      }),
      { numRuns: RUNS },
    );
  });
  it('right after a relax, a hot sample escalates in the same step', () => {
    const policy = noSlewLimit(testPolicy()); // the hot sample jumps; it must not be taken for a glitch
    fc.assert(
      fc.property(fc.double({ min: 90, max: 110, noNaN: true }), fc.integer({ min: 0, max: 8 }), (hotC, extra) => {
        // Heat to severe, cool down until the first relax, then heat again `extra` samples later.
        const samples: Sample[] = [];
        let t = 0;
        const add = (soc: number): void => {
          samples.push(toSample(t, { soc, skin: 33 + 0.01 * noise(t), pct: 80, mem: 7000, psi: 1, charging: 1 }));
          t += PERIOD_MS;
        };
        for (let i = 0; i < 30; i++) add(88);
        for (let i = 0; i < 60; i++) add(50);
        const results = runGovernor(policy, samples);
        const relaxIdx = results.findIndex((r, i) => i > 0 && r.decision.tierIndex < results[i - 1].decision.tierIndex);
        expect(relaxIdx).toBeGreaterThan(0);
        const upTo = samples.slice(0, relaxIdx + 1 + extra);
        t = upTo[upTo.length - 1].t_ms + PERIOD_MS;
        const hot = toSample(t, { soc: hotC, skin: 33, pct: 80, mem: 7000, psi: 1, charging: 1 });
        // The hot condition persists for a few samples: every one of them must already be lean
        // enough for the severity it produces, dwell timer or not.
        const hots = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => ({ ...hot, t_ms: hot.t_ms + j * PERIOD_MS }));
        const rr = runGovernor(policy, [...upTo, ...hots]);
        let escalated = false;
        for (let j = rr.length - hots.length; j < rr.length; j++) {
          const prev = rr[j - 1].decision;
          const now = rr[j].decision;
          expect(now.tierIndex).toBeGreaterThanOrEqual(capIndex(policy, now));
          if (capIndex(policy, now) > prev.tierIndex) expect(now.tierIndex).toBeGreaterThan(prev.tierIndex);
          if (now.tierIndex > prev.tierIndex) escalated = true;
        }
        // The scenario really asked for more than the relaxed tier, within the dwell period.
        expect(escalated).toBe(true);
        expect(rr.at(-1)!.decision.t_ms - rr[relaxIdx].decision.t_ms).toBeLessThan(policy.control.dwellMs);
      }),
      { numRuns: 50 },
    );
  });
  it('with maxEscalateStep = 1 every step escalates by exactly min(need, 1) tier at once', () => {
    const base = testPolicy();
    const policy = testPolicy({ control: { ...base.control, maxEscalateStep: 1 } });
    fc.assert(
      fc.property(nearHistoryArb, (h) => {
        const results = runGovernor(policy, buildHistory(h).samples);
        for (let i = 1; i < results.length; i++) {
          const d = results[i].decision;
          const need = capIndex(policy, d);
          const prev = results[i - 1].decision.tierIndex;
          expect(d.tierIndex).toBeGreaterThanOrEqual(Math.min(need, prev + 1));
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('missing ≠ zero, and a fault does what the sensor\'s onFault says', () => {
  const policy = testPolicy();
  const safeIdx = policy.tiers.findIndex((t) => t.name === policy.control.safeTier);
  const removable = {
    soc_c: ['zone.cpu0', 'zone.gpu0'],
    skin_c: ['skin_c'],
    battery_pct: ['battery_pct'],
    mem_avail_mb: ['mem_avail_mb'],
    psi_mem_some_avg10: ['psi_mem_some_avg10'],
  } as const;
  /** Critical sensors (role default `safe`) and MemAvailable (feasibility unknown) cap at the safe tier. */
  const capsAtSafe = (signal: string): boolean =>
    signal === 'mem_avail_mb' || policy.sensors.find((s) => s.name === signal)?.critical === true;
  /** The same policy without the signal's limits: what `onFault: ignore` must amount to. */
  const withoutLimits = (signal: string): Policy => testPolicy({ limits: policy.limits.filter((l) => l.signal !== signal) });
  it('removing a critical signal (or MemAvailable) never yields a richer tier than the safe tier; a non-critical one drops out of the rules', () => {
    fc.assert(
      fc.property(historyArb, fc.constantFrom(...(Object.keys(removable) as (keyof typeof removable)[])), (h, signal) => {
        const samples = buildHistory(h).samples.map((s) => {
          const c: Record<string, number | undefined> = { ...s };
          for (const k of removable[signal]) delete c[k];
          return c as Sample;
        });
        const critical = policy.sensors.find((s) => s.name === signal)?.critical === true;
        const results = runGovernor(policy, samples);
        const dropped = capsAtSafe(signal) ? [] : runGovernor(withoutLimits(signal), samples);
        results.forEach((r, i) => {
          if (capsAtSafe(signal)) expect(r.decision.tierIndex).toBeGreaterThanOrEqual(safeIdx);
          else {
            // onFault: ignore (the non-critical default) — exactly the knobs without its limits, and said so.
            expect(r.decision.tierIndex).toBe(dropped[i].decision.tierIndex);
            expect(r.decision.severity).toBe(dropped[i].decision.severity);
            expect(r.decision.reasons.find((x) => x.signal === signal)?.message).toMatch(/limits are not applied \(onFault: ignore\)/);
          }
          if (critical) expect(r.decision.safe).toBe(true);
          expect(r.decision.reasons.some((x) => x.signal === signal)).toBe(true);
        });
      }),
      { numRuns: RUNS },
    );
  });
  it('a signal lost mid-trace is held at most holdMs; then a critical one (or MemAvailable) never looks better than the safe tier', () => {
    fc.assert(
      fc.property(historyArb, fc.constantFrom(...(Object.keys(removable) as (keyof typeof removable)[])), fc.nat(), (h, signal, cut) => {
        const base = buildHistory(h).samples;
        const from = cut % base.length;
        const samples = base.map((s, i) => {
          if (i < from) return s;
          const c: Record<string, number | undefined> = { ...s };
          for (const k of removable[signal]) c[k] = undefined;
          return c as Sample;
        });
        const lastGoodT = from > 0 ? samples[from - 1].t_ms : -Infinity;
        for (const [i, r] of runGovernor(policy, samples).entries()) {
          if (i >= from && samples[i].t_ms - lastGoodT > policy.control.holdMs) {
            if (capsAtSafe(signal)) expect(r.decision.tierIndex).toBeGreaterThanOrEqual(safeIdx);
            else expect(r.decision.reasons.some((x) => x.signal === signal && /onFault: ignore/.test(x.message))).toBe(true);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
  it('onFault: cap <tier> and hold on a non-critical sensor: the latched severity stays, and cap bounds the tier', () => {
    fc.assert(
      fc.property(historyArb, fc.nat(), fc.constantFrom('hold', 'cap') as fc.Arbitrary<'hold' | 'cap'>, (h, cut, kind) => {
        const p = testPolicy({ sensors: policy.sensors.map((s) => (s.name === 'battery_pct'
          ? { ...s, onFault: kind === 'cap' ? { kind: 'cap', tier: 'lean' } : { kind: 'hold' } } : s)) });
        const leanIdx = p.tiers.findIndex((t) => t.name === 'lean');
        const base = buildHistory(h).samples;
        const from = cut % base.length;
        const samples = base.map((s, i) => (i < from ? s : { ...s, battery_pct: undefined }) as Sample);
        const lastGoodT = from > 0 ? samples[from - 1].t_ms : -Infinity;
        for (const [i, r] of runGovernor(p, samples).entries()) {
          if (i >= from && samples[i].t_ms - lastGoodT > p.control.holdMs) {
            if (kind === 'cap') expect(r.decision.tierIndex).toBeGreaterThanOrEqual(leanIdx);
            expect(r.decision.safe).toBe(false);
            expect(r.decision.reasons.some((x) => x.signal === 'battery_pct' && x.message.includes(`onFault: ${kind === 'cap' ? 'cap lean' : 'hold'}`))).toBe(true);
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('memory never exceeds available − reserve', () => {
  it('every decided need ≤ mem_avail − reserve + what the previous knobs hold, or a memory pause', () => {
    const memArb = fc.array(fc.double({ min: 0, max: 10000, noNaN: true }), { minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(memArb, fc.constantFrom('clamp-context', 'step-quant'), fc.integer({ min: 0, max: 1200 }), (mems, mode, reserveMb) => {
        const base = testPolicy();
        const policy = testPolicy({ rules: { ...base.rules, memory: { reserveMb, onShortage: mode, minContextLength: 512 } } });
        let state = initialState(policy);
        let prev: Decision | undefined;
        mems.forEach((mem, i) => {
          const s = toSample(i * PERIOD_MS, { soc: 45 + 0.1 * noise(i), skin: 33 + 0.05 * noise(i + 3), pct: 80, mem, psi: 1, charging: 1 });
          const r = step(state, s, policy);
          state = r.state;
          const d = r.decision;
          const need = needBytes(policy.model, weightsBytesOf(policy.model, d.quant), d.contextLength, d.batchSize);
          const held = prev ? needBytes(policy.model, weightsBytesOf(policy.model, prev.quant), prev.contextLength, prev.batchSize) : 0;
          const budget = mem * MiB - reserveMb * MiB + held;
          if (need > budget) {
            expect(d.offload).toBe('pause');
            expect(d.reasons.some((x) => x.rule === 'memory')).toBe(true);
          }
          expect(d.contextLength).toBeGreaterThanOrEqual(Math.min(512, policy.tiers[d.tierIndex].contextLength));
          prev = d;
        });
      }),
      { numRuns: RUNS },
    );
  });
});
