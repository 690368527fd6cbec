/**
 * Flat but healthy: real sensors sit still for minutes (battery temperature in 0.1 °C steps at
 * rest, a whole-degree board thermistor, a full battery on a charger, zero memory pressure). Such
 * a signal must never be declared stuck, never give a fault reason, and never change a decision.
 * Real `step`, the in-memory test policy, a 30-minute heat-and-recover trace at 1–100 Hz.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { testPolicy } from '../helpers/policy-fixture.js';
import { noise, runGovernor } from './trace-helpers.js';
import { initialState, signalEstimates, step } from '../../src/core/governor.js';
import type { Sample } from '../../src/core/signals.js';
import type { StepResult } from '../../src/core/governor.js';
import type { Policy } from '../../src/policy/types.js';

const RATES_HZ = [1, 2, 5, 10, 100];
const MINUTES = 30;

/** SoC 45 → 80 °C over 10 min under a 2 → 6 W load, back to 45 °C by 20 min, then idle; on battery. */
function heatAndRecover(hz: number, minutes = MINUTES, flat: Record<string, number> = {}): Sample[] {
  const out: Sample[] = [];
  const n = minutes * 60 * hz;
  for (let k = 0; k <= n; k++) {
    const s = k / hz;
    const load = s < 600 ? s / 600 : s < 1200 ? 1 - (s - 600) / 600 : 0;
    const soc = 45 + 35 * load;
    const j = Math.floor(s * 2); // sensor noise refreshes at 2 Hz
    out.push({
      t_ms: Math.round(k * (1000 / hz)),
      'zone.cpu0': Math.round((soc + 0.3 * noise(j)) * 10) / 10,
      'zone.gpu0': Math.round((soc - 2 + 0.3 * noise(j + 1)) * 10) / 10,
      skin_c: Math.round((33 + 6 * load + 0.1 * noise(j + 2)) * 10) / 10,
      battery_w: Math.round((2 + 4 * load + 0.2 * noise(j + 3)) * 100) / 100,
      charging: 0,
      mem_avail_mb: 7000 + Math.round(10 * noise(j + 4)),
      ...flat,
    });
  }
  return out;
}

/** What an engine applies, per decision. */
const knobs = (rs: StepResult[]): string[] =>
  rs.map((r) => `${r.decision.tier}|${r.decision.severity}|${r.decision.contextLength}|${r.decision.offload}|${r.decision.safe}`);

/** Non-critical signals that legitimately sit still: the value each holds for the whole trace. */
const FLAT = { battery_c: 31.0, battery_pct: 100, psi_mem_some_avg10: 0 } as const;
type FlatName = keyof typeof FLAT;
const SETS: FlatName[][] = [['battery_c'], ['battery_pct'], ['psi_mem_some_avg10'], ['battery_c', 'battery_pct', 'psi_mem_some_avg10']];

function runWithStates(policy: Policy, samples: Sample[]): { results: StepResult[]; stuckSeen: string[] } {
  let state = initialState(policy);
  const results: StepResult[] = [];
  const stuckSeen = new Set<string>();
  samples.forEach((s, i) => {
    const r = step(state, s, policy);
    state = r.state;
    results.push(r);
    // Health of every signal, every few seconds (the snapshot allocates).
    if (i % 50 === 0) for (const e of signalEstimates(state)) if (e.health === 'stuck') stuckSeen.add(e.signal);
  });
  for (const e of signalEstimates(state)) if (e.health === 'stuck') stuckSeen.add(e.signal);
  return { results, stuckSeen: [...stuckSeen] };
}

describe('flat-but-healthy signals, 30 minutes, 1–100 Hz', () => {
  const policy = testPolicy();
  for (const hz of RATES_HZ) {
    it(`${hz} Hz: no stuck verdict, no fault reason, the same decisions as with the flat columns removed`, () => {
      for (const set of SETS) {
        const flat = Object.fromEntries(set.map((k) => [k, FLAT[k]]));
        const { results, stuckSeen } = runWithStates(policy, heatAndRecover(hz, MINUTES, flat));
        expect(stuckSeen, `${set.join('+')}`).toEqual([]);
        const faults = results.flatMap((r) => r.decision.reasons.filter((x) => x.rule === 'sensor-fault' && set.includes(x.signal as FlatName)));
        expect(faults, `${set.join('+')}`).toEqual([]);
        const removed = runGovernor(policy, heatAndRecover(hz));
        expect(knobs(results), `${set.join('+')}`).toEqual(knobs(removed));
        // The trace itself does something: it heats past the SoC limits and recovers to the richest tier.
        expect(results.some((r) => r.decision.severity !== 'none')).toBe(true);
        expect(results[results.length - 1].decision.tier).toBe('full');
      }
    });
  }

  it('a critical skin sensor read in whole °C and flat at 33 °C for 30 min while the SoC heats 35 °C is not stuck', () => {
    for (const hz of RATES_HZ) {
      const { results, stuckSeen } = runWithStates(policy, heatAndRecover(hz, MINUTES, { skin_c: 33 }));
      expect(stuckSeen).toEqual([]);
      expect(results.some((r) => r.decision.safe || r.decision.reasons.some((x) => x.signal === 'skin_c' && x.rule === 'sensor-fault'))).toBe(false);
    }
  });
});

describe('property: a constant, quantised or slowly drifting non-critical signal never makes the tier leaner', () => {
  // battery_c with a limit of its own (light 45 °C), so a fault verdict on it would matter.
  const base = testPolicy();
  const policy = testPolicy({
    limits: [...base.limits, { signal: 'battery_c', direction: 'rising', levels: [
      { severity: 'light', setAt: 45, clearAt: 43 }, { severity: 'moderate', setAt: 50, clearAt: 48 }] }],
  });
  const kindArb = fc.record({
    start: fc.double({ min: 15, max: 38, noNaN: true }),
    quantum: fc.constantFrom(0, 0.1, 0.5, 0.538, 1),
    // °C per minute: 0 = constant; at most 0.15 °C/min, so it stays below the 43 °C clear over 30 min.
    driftPerMin: fc.oneof(fc.constant(0), fc.double({ min: -0.15, max: 0.15, noNaN: true })),
    hz: fc.constantFrom(1, 2, 5, 10),
    minutes: fc.integer({ min: 3, max: MINUTES }),
    cadenceS: fc.constantFrom(0, 10, 30, 60),
  });
  it('tier with the signal ≤ tier without it, at every sample; no fault reason for it', () => {
    fc.assert(
      fc.property(kindArb, ({ start, quantum, driftPerMin, hz, minutes, cadenceS }) => {
        const without = heatAndRecover(hz, minutes);
        const withFlat = without.map((s) => {
          // A cached sensor refreshes every cadenceS (0 = every sample), quantised to its resolution.
          const ts = cadenceS > 0 ? Math.floor(s.t_ms / 1000 / cadenceS) * cadenceS : s.t_ms / 1000;
          const raw = start + (driftPerMin * ts) / 60;
          return { ...s, battery_c: quantum > 0 ? Math.round(raw / quantum) * quantum : raw };
        });
        const a = runGovernor(policy, withFlat);
        const b = runGovernor(policy, without);
        a.forEach((r, i) => {
          expect(r.decision.tierIndex).toBeLessThanOrEqual(b[i].decision.tierIndex);
          expect(r.decision.reasons.some((x) => x.signal === 'battery_c')).toBe(false);
        });
      }),
      { numRuns: 40 },
    );
  });

  // Found by the property above: a whole-°C sensor read fast looked like a spike on its first step.
  it('regression: a whole-°C battery_c flat at 15 for 27 min that steps once to 14 at 10 and 100 Hz is not a spike', () => {
    for (const hz of [10, 100]) {
      const without = heatAndRecover(hz, 28);
      const withStep = without.map((s) => ({ ...s, battery_c: s.t_ms < 27 * 60_000 ? 15 : 14 }));
      const a = runGovernor(policy, withStep);
      const b = runGovernor(policy, without);
      expect(a.flatMap((r) => r.decision.reasons.filter((x) => x.signal === 'battery_c'))).toEqual([]);
      expect(knobs(a)).toEqual(knobs(b));
    }
  });

  it('a jump larger than the slew limit allows in a second is still a spike on a quantised sensor', () => {
    const without = heatAndRecover(10, 5);
    // Whole °C at 31, one glitch sample of 55 °C at 4 min (24 °C in 0.1 s; maxSlew 5 °C/s).
    const glitch = without.map((s) => ({ ...s, battery_c: s.t_ms === 240_000 ? 55 : 31 }));
    const a = runGovernor(policy, glitch);
    const at = a.findIndex((r) => r.decision.reasons.some((x) => x.signal === 'battery_c' && /spike/.test(x.message)));
    expect(at).toBeGreaterThan(0);
    // The glitch never reached the limits (light at 45 °C): the tier matches the trace without it.
    expect(knobs(a)).toEqual(knobs(runGovernor(policy, without)));
  });
});
