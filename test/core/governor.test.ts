/**
 * Rules of the core one by one: offload, battery, reasons, `changed`, hot reload, and the
 * shipped default policy end to end.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { testPolicy } from '../helpers/policy-fixture.js';
import { phoneSample, runGovernor } from './trace-helpers.js';
import { initialState, sensorFaults, signalEstimates, step } from '../../src/core/governor.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/types.js';
import type { Sample } from '../../src/core/signals.js';

const PERIOD_MS = 500;
const steady = (n: number, r: Parameters<typeof phoneSample>[1] = {}, t0 = 0): Sample[] =>
  Array.from({ length: n }, (_, i) => phoneSample(t0 + i * PERIOD_MS, r));

describe('offload', () => {
  it('pauses at pauseAtSeverity, cloud at cloudAtSeverity, local below', () => {
    const policy = testPolicy();
    // Skin: 44 → severe (local), 46 → critical (cloud), 49 → emergency (pause).
    const at = (skinC: number) => runGovernor(policy, steady(20, { skinC })).at(-1)!.decision;
    expect(at(44)).toMatchObject({ severity: 'severe', offload: 'local' });
    expect(at(46)).toMatchObject({ severity: 'critical', offload: 'cloud' });
    expect(at(49)).toMatchObject({ severity: 'emergency', offload: 'pause' });
    expect(at(49).reasons.some((r) => r.rule === 'offload' && /pause/.test(r.message))).toBe(true);
  });

  it('never the cloud when the deployment has none', () => {
    const base = testPolicy();
    const policy = testPolicy({ rules: { ...base.rules, offload: { ...base.rules.offload, cloudAllowed: false } } });
    expect(runGovernor(policy, steady(20, { skinC: 46 })).at(-1)!.decision.offload).toBe('local');
  });

  it('goes to the cloud when local decode stays below minLocalTokS for a dwell (generating only)', () => {
    const policy = testPolicy();
    const slow = runGovernor(policy, steady(40, { tokS: 3 }));
    const firstCloud = slow.findIndex((r) => r.decision.offload === 'cloud');
    expect(firstCloud * PERIOD_MS).toBeGreaterThanOrEqual(policy.control.dwellMs);
    expect(slow[firstCloud].decision.reasons.find((r) => r.rule === 'offload')).toMatchObject({ signal: 'tok_s', threshold: 5 });
    // Not generating (tok_s 0 or absent) is no evidence of slowness.
    expect(runGovernor(policy, steady(40, { tokS: 0 })).every((r) => r.decision.offload === 'local')).toBe(true);
    expect(runGovernor(policy, steady(40, { tokS: 12 })).every((r) => r.decision.offload === 'local')).toBe(true);
  });
});

describe('battery rules', () => {
  it('low charge caps the tier while discharging; charging lifts the cap', () => {
    const policy = testPolicy();
    expect(runGovernor(policy, steady(30, { batteryPct: 30, charging: 0 })).at(-1)!.decision.tier).toBe('full');
    const low = runGovernor(policy, steady(30, { batteryPct: 12, charging: 0 })).at(-1)!.decision;
    expect(low.tier).toBe('lean');
    expect(low.reasons.find((r) => r.rule === 'battery')).toMatchObject({ signal: 'battery_pct', value: 12 });
    // 12 % is also `light` on the charge limit, whose cap (balanced) is richer than the battery cap.
    expect(runGovernor(policy, steady(30, { batteryPct: 12, charging: 1 })).at(-1)!.decision.tier).toBe('balanced');
  });

  it('onBatteryTier caps whenever not charging; charging is also read from negative battery_w', () => {
    const base = testPolicy();
    const policy = testPolicy({ rules: { ...base.rules, battery: { ...base.rules.battery, onBatteryTier: 'balanced' } } });
    expect(runGovernor(policy, steady(5, { charging: 0 })).at(-1)!.decision.tier).toBe('balanced');
    expect(runGovernor(policy, steady(5, { charging: 1 })).at(-1)!.decision.tier).toBe('full');
    const viaPower = steady(5, { batteryW: -5 }).map((s) => ({ ...s, charging: undefined }));
    expect(runGovernor(policy, viaPower).at(-1)!.decision.tier).toBe('full');
  });

  it('a device without any battery signal gets no battery caps', () => {
    const base = testPolicy();
    const policy = testPolicy({
      limits: base.limits.filter((l) => l.signal !== 'battery_pct'),
      rules: { ...base.rules, battery: { ...base.rules.battery, onBatteryTier: 'balanced' } },
    });
    const mains = steady(5).map((s) => ({ ...s, charging: undefined, battery_w: undefined, battery_pct: undefined, battery_c: undefined }));
    expect(runGovernor(policy, mains).at(-1)!.decision.tier).toBe('full');
  });
});

describe('decisions', () => {
  it('every decision carries reasons; `changed` is exactly a knob change', () => {
    const policy = testPolicy();
    const samples: Sample[] = [];
    for (let i = 0; i < 600; i++) samples.push(phoneSample(i * PERIOD_MS, { socC: 45 + 40 * Math.sin(i / 60) ** 2 }));
    const results = runGovernor(policy, samples);
    for (const [i, r] of results.entries()) {
      expect(r.decision.reasons.length).toBeGreaterThan(0);
      for (const reason of r.decision.reasons) expect(reason.message.length).toBeGreaterThan(0);
      const prev = results[i - 1]?.decision;
      const knobs = (d: typeof r.decision) => [d.tier, d.quant, d.contextLength, d.batchSize, d.threads, d.pacingMs, d.offload, d.severity, d.safe].join('|');
      expect(r.changed).toBe(prev === undefined || knobs(prev) !== knobs(r.decision));
    }
    expect(results.filter((r) => r.changed).length).toBeGreaterThan(4);
  });

  it('reports signal estimates and faults for status pages', () => {
    const policy = testPolicy();
    let state = initialState(policy);
    for (const s of steady(4)) state = step(state, { ...s, skin_c: undefined }, policy).state;
    expect(sensorFaults(state)).toContainEqual({ signal: 'skin_c', health: 'missing' });
    const soc = signalEstimates(state).find((e) => e.signal === 'soc_c')!;
    expect(soc.health).toBe('ok');
    expect(soc.value).toBeCloseTo(45, 0);
  });
});

describe('hot reload (a different policy object passed to step)', () => {
  it('keeps latched severity, tier and dwell timers; an unknown tier name falls back to the safe tier', () => {
    const base = testPolicy();
    let state = initialState(base);
    let last;
    for (const s of steady(40, { skinC: 44 })) ({ state, decision: last } = step(state, s, base));
    expect(last!).toMatchObject({ severity: 'severe', tier: 'minimal' });
    // Same ladder, longer dwell: still severe and minimal on the next sample (history carried over).
    const longer: Policy = testPolicy({ control: { ...base.control, dwellMs: 60_000 } });
    let r = step(state, phoneSample(40 * PERIOD_MS, { skinC: 43.5 }), longer);
    expect(r.decision).toMatchObject({ severity: 'severe', tier: 'minimal' });
    expect(r.changed).toBe(false);
    // Cooling: the dwell of the NEW policy governs the relax.
    const cool = steady(60, { skinC: 33 }, 41 * PERIOD_MS);
    const relaxedAt = cool.findIndex((s) => (r = step(r.state, s, longer)).decision.tier !== 'minimal');
    expect(relaxedAt === -1 || cool[relaxedAt].t_ms >= 60_000).toBe(true);

    // A ladder without the current tier's name: continue from the new safe tier.
    const renamed = testPolicy({
      tiers: base.tiers.map((t) => ({ ...t, name: `${t.name}2` })),
      rules: { ...base.rules, severityCaps: { none: 'full2', light: 'balanced2', moderate: 'lean2', severe: 'minimal2' }, battery: { lowChargeCaps: [] } },
      control: { ...base.control, safeTier: 'lean2' },
    });
    const rr = step(r.state, phoneSample(200_000), renamed);
    expect(rr.decision.tier).toBe('lean2');
    expect(rr.changed).toBe(true);
  });
});

describe('policies/default.yaml', () => {
  const file = fileURLToPath(new URL('../../policies/default.yaml', import.meta.url));
  it('governs a heating trace through the shipped policy: in order, early, back to the richest tier', async () => {
    const policy = await loadPolicyFile(file);
    const samples: Sample[] = [];
    for (let t = 0; t <= 1_500_000; t += PERIOD_MS) {
      const s = t / 1000;
      const soc = s <= 600 ? 40 + s * 0.1 : s <= 1200 ? 100 - (s - 600) * 0.1 : 40;
      samples.push({ ...phoneSample(t, { socC: soc, batteryW: -2 }), tok_s: 12 });
    }
    const results = runGovernor(policy, samples);
    const severities = [...new Set(results.map((r) => r.decision.severity))];
    expect(severities.slice(0, 5)).toEqual(['none', 'light', 'moderate', 'severe', 'critical']);
    expect(results.some((r) => r.decision.reasons.some((x) => x.rule === 'forecast' && x.signal === 'soc_c'))).toBe(true);
    expect(results.every((r) => !r.decision.safe)).toBe(true);
    expect(results.at(-1)!.decision).toMatchObject({ tier: policy.tiers[0].name, severity: 'none', offload: 'local' });
  });
});

describe('relax back-off', () => {
  it('when escalations keep following relaxes, the dwell before relaxing doubles (bounce avoidance)', () => {
    const policy = testPolicy();
    const samples: Sample[] = [];
    // Load bursts: 20 s hot (moderate), 25 s cool — the device cannot sustain the richer tier.
    for (let t = 0; t < 600_000; t += PERIOD_MS) {
      const hot = t % 45_000 < 20_000;
      samples.push(phoneSample(t, { socC: hot ? 77 : 50 }));
    }
    const results = runGovernor(policy, samples);
    // Time spent at the escalated tier before each relax out of it.
    const holds: number[] = [];
    let since = NaN;
    for (let i = 1; i < results.length; i++) {
      const prev = results[i - 1].decision.tierIndex;
      const cur = results[i].decision.tierIndex;
      if (cur > prev) since = results[i].decision.t_ms;
      if (cur < prev && since === since) { holds.push(results[i].decision.t_ms - since); since = NaN; }
    }
    // First relaxes come as soon as the heat clears (the 10 s dwell already passed during the 20 s
    // burst); later ones wait well beyond a burst, and the tier stops flapping with every burst.
    expect(holds.length).toBeGreaterThanOrEqual(2);
    expect(holds[0]).toBeLessThanOrEqual(20_000 + 2 * PERIOD_MS);
    expect(Math.max(...holds)).toBeGreaterThanOrEqual(35_000);
    const bursts = Math.ceil(600_000 / 45_000);
    expect(holds.length).toBeLessThan(bursts / 2);
    const dwellReason = results.flatMap((r) => r.decision.reasons).find((r) => r.rule === 'dwell' && /×\d/.test(r.message));
    expect(dwellReason).toBeDefined();
  });
});
