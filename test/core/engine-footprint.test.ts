/**
 * The `engine_mb` signal (docs/core.md §4): the footprint of the knobs the engine has APPLIED.
 * A decided shrink frees nothing until the engine applies it at its next safe point; counting
 * it as freed at once let one memory dip cascade clamp after clamp to the leanest tier or a
 * pause. The engine here is a small model of serve: it applies the latest decision only at
 * request boundaries, and MemAvailable = memory outside the engine − its applied footprint.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { testPolicy } from '../helpers/policy-fixture.js';
import { initialState, step } from '../../src/core/governor.js';
import { needBytes, weightsBytesOf, MiB } from '../../src/core/memory.js';
import type { Decision } from '../../src/core/decision.js';
import type { Sample } from '../../src/core/signals.js';
import type { Policy } from '../../src/policy/types.js';

const PERIOD_MS = 500;

function memoryOnlyPolicy(onShortage: 'clamp-context' | 'step-quant'): Policy {
  const base = testPolicy();
  return testPolicy({
    // Without the mem_avail severity ladder only the feasibility rule reacts to memory.
    limits: base.limits.filter((l) => l.signal !== 'mem_avail_mb'),
    rules: { ...base.rules, memory: { ...base.rules.memory, onShortage } },
  });
}

const footprintMb = (p: Policy, k: Pick<Decision, 'quant' | 'contextLength' | 'batchSize'>): number =>
  needBytes(p.model, weightsBytesOf(p.model, k.quant), k.contextLength, k.batchSize) / MiB;

interface Run {
  decisions: Decision[];
  /** Per decision: MemAvailable + what the engine really held, MiB (what it could use). */
  trueFreeMb: number[];
}

/**
 * Memory outside the engine: `outsideMb`, minus `dipMb` during [dipFromMs, dipToMs). The engine
 * loads the first decision at once, then applies the latest decision only at `applyAtMs`
 * (a long answer in flight). `report` puts the applied footprint into samples as `engine_mb`.
 */
function runEngine(policy: Policy, o: { outsideMb: number; dipMb: number; dipFromMs: number; dipToMs: number; applyAtMs: number[]; endMs: number; report: boolean }): Run {
  let state = initialState(policy);
  let applied: Decision | undefined;
  let latest: Decision | undefined;
  const decisions: Decision[] = [];
  const trueFreeMb: number[] = [];
  for (let t = 0; t <= o.endMs; t += PERIOD_MS) {
    if (latest && (applied === undefined || o.applyAtMs.includes(t))) applied = latest;
    const heldMb = applied ? footprintMb(policy, applied) : 0;
    const outside = o.outsideMb - (t >= o.dipFromMs && t < o.dipToMs ? o.dipMb : 0);
    const sample: Sample = {
      t_ms: t, 'zone.cpu0': 45, skin_c: 33, battery_c: 30, battery_w: -2, battery_pct: 90, charging: 1,
      mem_avail_mb: outside - heldMb, psi_mem_some_avg10: 0,
      ...(o.report && applied ? { engine_mb: heldMb } : {}),
    };
    const r = step(state, sample, policy);
    state = r.state;
    latest = r.decision;
    decisions.push(r.decision);
    trueFreeMb.push(outside);
  }
  return { decisions, trueFreeMb };
}

describe('engine_mb: a decided clamp is not counted as freed before the engine applies it', () => {
  for (const mode of ['clamp-context', 'step-quant'] as const) {
    it(`${mode}: one 300 MiB dip while the change waits for the engine clamps once, no cascade`, () => {
      const policy = memoryOnlyPolicy(mode);
      const fullMb = footprintMb(policy, policy.tiers[0]);
      // Room for the richest tier plus the reserve and 100 MiB; the dip takes 300 MiB for 2 s.
      const scenario = { outsideMb: fullMb + 300 + 100, dipMb: 300, dipFromMs: 10_000, dipToMs: 12_000, applyAtMs: [25_000, 60_000], endMs: 90_000 };

      const withReports = runEngine(policy, { ...scenario, report: true });
      // From the dip until the trust window lets the context grow back.
      const dipDecisions = withReports.decisions.slice(10_000 / PERIOD_MS, 40_000 / PERIOD_MS);
      // The dip needs one step (a clamp, or one quant step); it must not run down the ladder.
      const worst = Math.max(...dipDecisions.map((d) => d.tierIndex));
      expect(worst).toBeLessThanOrEqual(mode === 'clamp-context' ? 0 : 1);
      expect(dipDecisions.every((d) => d.offload === 'local')).toBe(true);
      const distinct = new Set(dipDecisions.map((d) => `${d.tier}/${d.contextLength}`));
      expect(distinct.size).toBe(1);
      // …and what it allows fits what the engine could really use (MemAvailable + what it holds).
      withReports.decisions.forEach((d, i) => {
        expect(footprintMb(policy, d)).toBeLessThanOrEqual(withReports.trueFreeMb[i] - policy.rules.memory.reserveMb + 1e-6);
      });
      // The engine applying a big shrink raised MemAvailable by what engine_mb fell: not a kill.
      expect(withReports.decisions.some((d) => d.reasons.some((r) => /killed/.test(r.message)))).toBe(false);

      // Without reports the same history shows the cascade this signal exists for: each decided
      // clamp is counted as freed at once, lowers the "least memory over 30 s" and asks for more.
      const withoutReports = runEngine(policy, { ...scenario, report: false });
      const worstWithout = withoutReports.decisions.slice(10_000 / PERIOD_MS);
      expect(worstWithout.some((d) => d.tierIndex === policy.tiers.length - 1 || d.offload === 'pause')).toBe(true);
    });
  }

  it('a real shortage still steps down at once with engine_mb reported', () => {
    const policy = memoryOnlyPolicy('clamp-context');
    const fullMb = footprintMb(policy, policy.tiers[0]);
    // MemAvailable 1400 MiB, then an outside grab of 1300 MiB that stays.
    const run = runEngine(policy, { outsideMb: fullMb + 1400, dipMb: 1300, dipFromMs: 10_000, dipToMs: 80_000, applyAtMs: [20_000], endMs: 40_000, report: true });
    const at = run.decisions[10_000 / PERIOD_MS];
    expect(footprintMb(policy, at)).toBeLessThan(fullMb);
    expect(footprintMb(policy, at)).toBeLessThanOrEqual(run.trueFreeMb[10_000 / PERIOD_MS] - 300 + 1e-6);
    expect(at.reasons.some((r) => r.rule === 'memory')).toBe(true);
  });
});

describe('engine_mb semantics (property)', () => {
  const sampleOf = (t: number, mem: number, engineMb?: number): Sample => ({
    t_ms: t, 'zone.cpu0': 45, skin_c: 33, battery_c: 30, battery_w: -2, battery_pct: 90, charging: 1,
    mem_avail_mb: mem, psi_mem_some_avg10: 0, ...(engineMb === undefined ? {} : { engine_mb: engineMb }),
  });

  it('every decided need ≤ mem_avail − reserve + max(previous decided footprint, engine_mb), or a memory pause', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ mem: fc.double({ min: 0, max: 10000, noNaN: true }), eng: fc.option(fc.double({ min: 0, max: 8000, noNaN: true }), { nil: undefined }) }), { minLength: 1, maxLength: 60 }),
        fc.constantFrom('clamp-context', 'step-quant'), fc.integer({ min: 0, max: 1200 }),
        (rows, mode, reserveMb) => {
          const base = testPolicy();
          const policy = testPolicy({ rules: { ...base.rules, memory: { reserveMb, onShortage: mode, minContextLength: 512 } } });
          let state = initialState(policy);
          let prev: Decision | undefined;
          rows.forEach(({ mem, eng }, i) => {
            const r = step(state, sampleOf(i * PERIOD_MS, mem, eng), policy);
            state = r.state;
            const d = r.decision;
            const held = Math.max(prev ? footprintMb(policy, prev) : 0, eng ?? 0);
            if (footprintMb(policy, d) > mem - reserveMb + held + 1e-6) {
              expect(d.offload).toBe('pause');
              expect(d.reasons.some((x) => x.rule === 'memory')).toBe(true);
            }
            prev = d;
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('an engine_mb below every decided footprint (a growth not yet applied) changes nothing: the decided size counts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 10000, noNaN: true }), { minLength: 1, maxLength: 60 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (mems, below) => {
          const policy = testPolicy();
          const leanest = policy.tiers[policy.tiers.length - 1];
          // Below anything the policy can decide, steady (a changing one also feeds the kill detector).
          const eng = below * footprintMb(policy, { ...leanest, contextLength: Math.min(leanest.contextLength, policy.rules.memory.minContextLength) });
          let a = initialState(policy);
          let b = initialState(policy);
          mems.forEach((mem, i) => {
            const ra = step(a, sampleOf(i * PERIOD_MS, mem), policy);
            const rb = step(b, sampleOf(i * PERIOD_MS, mem, i === 0 ? undefined : eng), policy);
            a = ra.state; b = rb.state;
            expect(JSON.stringify(rb.decision)).toBe(JSON.stringify(ra.decision));
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});
