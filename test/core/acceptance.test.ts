/**
 * The acceptance points for the core: heating trace, memory spike, sensor dropout
 * and stuck sensor. Real `step`, real (in-memory) compiled policy, deterministic traces.
 */
import { describe, expect, it } from 'vitest';
import { testPolicy } from '../helpers/policy-fixture.js';
import { phoneSample, runGovernor } from './trace-helpers.js';
import { initialState, step } from '../../src/core/governor.js';
import { SEVERITIES, severityIndex } from '../../src/core/severity.js';
import { needBytes, weightsBytesOf, MiB } from '../../src/core/memory.js';
import type { Decision } from '../../src/core/decision.js';
import type { Policy } from '../../src/policy/types.js';

const PERIOD_MS = 500;

/** soc 40 → 100 °C at 0.1 °C/s, then back to 40 °C, then idle. */
function heatingTrace(): { t: number; soc: number }[] {
  const pts: { t: number; soc: number }[] = [];
  for (let t = 0; t <= 1_500_000; t += PERIOD_MS) {
    const s = t / 1000;
    const soc = s <= 600 ? 40 + s * 0.1 : s <= 1200 ? 100 - (s - 600) * 0.1 : 40;
    pts.push({ t, soc });
  }
  return pts;
}

function memoryOnlyPolicy(onShortage: 'clamp-context' | 'step-quant'): Policy {
  const base = testPolicy();
  return testPolicy({
    // Without the mem_avail severity ladder, only the feasibility rule can react to memory.
    limits: base.limits.filter((l) => l.signal !== 'mem_avail_mb'),
    rules: { ...base.rules, memory: { ...base.rules.memory, onShortage } },
  });
}

function needOf(policy: Policy, d: Decision): number {
  return needBytes(policy.model, weightsBytesOf(policy.model, d.quant), d.contextLength, d.batchSize);
}

describe('heating trace (soc 40 → 100 °C and back)', () => {
  const policy = testPolicy();
  const trace = heatingTrace();
  const results = runGovernor(policy, trace.map((p) => phoneSample(p.t, { socC: p.soc })));
  const socLimit = policy.limits.find((l) => l.signal === 'soc_c')!;
  const peakIdx = trace.findIndex((p) => p.soc >= 100);

  it('escalates through the severities in order while heating', () => {
    const seen: number[] = [];
    for (let i = 0; i <= peakIdx; i++) {
      const s = severityIndex(results[i].decision.severity);
      if (seen.length === 0 || seen[seen.length - 1] !== s) seen.push(s);
    }
    expect(seen.map((s) => SEVERITIES[s])).toEqual(['none', 'light', 'moderate', 'severe', 'critical']);
  });

  it('steps down on the forecast before each threshold is crossed', () => {
    for (const level of socLimit.levels.filter((l) => l.setAt <= 100)) {
      const i = results.findIndex((r) => severityIndex(r.decision.severity) >= severityIndex(level.severity));
      expect(i, level.severity).toBeGreaterThan(0);
      // The measured SoC has not reached the threshold yet when the governor acts…
      expect(trace[i].soc, level.severity).toBeLessThan(level.setAt);
      // …and the reason says it was the forecast, with the forecast value and time to the limit.
      const r = results[i].decision.reasons.find((x) => x.rule === 'forecast' && x.signal === 'soc_c');
      expect(r, level.severity).toBeDefined();
      expect(r!.threshold).toBe(level.setAt);
      expect(r!.forecast!).toBeGreaterThanOrEqual(level.setAt);
      expect(r!.timeToLimitS!).toBeGreaterThan(0);
      // And the tier really got leaner right then, before the crossing (where this severity's cap is leaner).
      const capIdx = (sev: string) => policy.tiers.findIndex((t) => t.name === policy.rules.severityCaps[sev as 'none']);
      if (capIdx(level.severity) > capIdx(results[i - 1].decision.severity)) {
        expect(results[i].decision.tierIndex).toBeGreaterThan(results[i - 1].decision.tierIndex);
      }
    }
  });

  it('relaxes only after the hysteresis clears and the dwell passes, one tier at a time', () => {
    let lastTierChangeT = -Infinity;
    let relaxes = 0;
    for (let i = 1; i < results.length; i++) {
      const prev = results[i - 1].decision;
      const cur = results[i].decision;
      const sp = severityIndex(prev.severity);
      const sc = severityIndex(cur.severity);
      if (i > peakIdx && sc < sp) {
        // The level being left has cleared: the measured value is past its clearAt.
        const left = socLimit.levels.find((l) => severityIndex(l.severity) === sp)!;
        expect(trace[i].soc, `leaving ${prev.severity} at t=${cur.t_ms}`).toBeLessThan(left.clearAt);
      }
      if (cur.tierIndex !== prev.tierIndex) {
        if (cur.tierIndex < prev.tierIndex) {
          relaxes++;
          expect(prev.tierIndex - cur.tierIndex).toBe(policy.control.relaxStep);
          expect(cur.t_ms - lastTierChangeT).toBeGreaterThanOrEqual(policy.control.dwellMs);
        }
        lastTierChangeT = cur.t_ms;
      }
    }
    expect(relaxes).toBeGreaterThanOrEqual(3);
    const final = results[results.length - 1].decision;
    expect(final).toMatchObject({ severity: 'none', tier: 'full', offload: 'local', safe: false });
  });

  it('offloads to the cloud at critical and comes back', () => {
    const critical = results.filter((r) => r.decision.severity === 'critical');
    expect(critical.length).toBeGreaterThan(0);
    for (const r of critical) expect(r.decision.offload).toBe('cloud');
    expect(results[results.length - 1].decision.offload).toBe('local');
  });
});

describe('memory spike', () => {
  for (const mode of ['clamp-context', 'step-quant'] as const) {
    it(`${mode}: reacts within one sample with a memory reason, never over available − reserve`, () => {
      const policy = memoryOnlyPolicy(mode);
      const samples = [];
      for (let t = 0; t < 60_000; t += PERIOD_MS) samples.push(phoneSample(t, { memAvailMb: 7000 }));
      const spikeAt = samples.length;
      // Something else grabs memory: MemAvailable falls to 120 MiB (below the 300 MiB reserve).
      for (let t = 60_000; t < 80_000; t += PERIOD_MS) samples.push(phoneSample(t, { memAvailMb: 120 }));
      const results = runGovernor(policy, samples);
      const before = results[spikeAt - 1].decision;
      const at = results[spikeAt].decision;
      expect(before.tier).toBe('full');
      expect(results[spikeAt].changed).toBe(true);
      if (mode === 'clamp-context') {
        expect(at.tier).toBe('full');
        expect(at.contextLength).toBeLessThan(before.contextLength);
        expect(at.contextLength % 256).toBe(0);
      } else {
        expect(at.tierIndex).toBeGreaterThan(before.tierIndex);
      }
      const reason = at.reasons.find((r) => r.rule === 'memory');
      expect(reason?.signal).toBe('mem_avail_mb');
      // Budget: available − reserve + what the previous knobs hold (docs/core.md).
      const avail = samples[spikeAt].mem_avail_mb! * MiB;
      const budget = avail - policy.rules.memory.reserveMb * MiB + needOf(policy, before);
      expect(needOf(policy, at)).toBeLessThanOrEqual(budget);
    });
  }

  it('pauses with a memory reason when even the leanest tier at minContextLength does not fit', () => {
    const policy = memoryOnlyPolicy('clamp-context');
    const results = runGovernor(policy, [phoneSample(0, { memAvailMb: 900 })]);
    const d = results[0].decision;
    expect(d.offload).toBe('pause');
    expect(d.tier).toBe('minimal');
    expect(d.contextLength).toBe(policy.rules.memory.minContextLength);
    expect(d.reasons.some((r) => r.rule === 'memory' && /pause/.test(r.message))).toBe(true);
  });

  it('grows a clamped context back only after freed memory stayed free (≥ 30 s, ≥ 3 dwells) and the dwell', () => {
    const policy = memoryOnlyPolicy('clamp-context');
    const samples = [];
    for (let t = 0; t < 20_000; t += PERIOD_MS) samples.push(phoneSample(t, { memAvailMb: t < 10_000 ? 7000 : 120 }));
    const freedAt = samples.length;
    for (let t = 20_000; t < 90_000; t += PERIOD_MS) samples.push(phoneSample(t, { memAvailMb: 7000 }));
    const results = runGovernor(policy, samples);
    const clampIdx = results.findIndex((r) => r.decision.contextLength < 8192);
    const restoreIdx = results.findIndex((r, i) => i > clampIdx && r.decision.contextLength === 8192);
    expect(clampIdx).toBeGreaterThan(0);
    expect(restoreIdx).toBeGreaterThan(clampIdx);
    expect(results[restoreIdx].decision.t_ms - results[clampIdx].decision.t_ms).toBeGreaterThanOrEqual(policy.control.dwellMs);
    // Memory that reappears (e.g. the engine's own, after a low-memory kill) is not trusted at once.
    expect(samples[restoreIdx].t_ms - samples[freedAt].t_ms).toBeGreaterThanOrEqual(Math.max(30_000, 3 * policy.control.dwellMs));
  });

  it('after a low-memory kill frees the engine\'s own footprint, the budget does not count it twice at once', () => {
    const policy = memoryOnlyPolicy('clamp-context');
    const samples = [];
    for (let t = 0; t < 20_000; t += PERIOD_MS) samples.push(phoneSample(t, { memAvailMb: 1500 }));
    // Another app grabs memory; the engine (≈ 4.9 GiB at full) is killed and MemAvailable jumps by its footprint.
    samples.push(phoneSample(20_000, { memAvailMb: 200 }));
    for (let t = 20_500; t < 40_000; t += PERIOD_MS) samples.push(phoneSample(t, { memAvailMb: 200 + 4900 }));
    const results = runGovernor(policy, samples);
    const atGrab = results[40].decision;
    for (const r of results.slice(41)) {
      // Never richer than what the grab left room for, while the freed memory is untrusted.
      expect(r.decision.tierIndex * 100000 - r.decision.contextLength).toBeGreaterThanOrEqual(atGrab.tierIndex * 100000 - atGrab.contextLength);
    }
  });
});

describe('low-memory kill loop (closed loop with a toy engine)', () => {
  it('after the engine is killed, the next knobs fit the memory actually left, so the restart survives', () => {
    const policy = memoryOnlyPolicy('clamp-context');
    const lmkMinFreeMb = 250;
    const restartMs = 4000;
    let freeMb = 6000; // memory free without the engine
    let engineMb = 0; // what the engine holds now
    let restartAt = NaN;
    let decided: Decision | undefined;
    let kills = 0;
    let state = initialState(policy);
    for (let t = 0; t < 120_000; t += PERIOD_MS) {
      // Another app grabs 1.5 GB at once: the engine at `full` no longer fits and is killed in the
      // same instant — the governor only sees MemAvailable jump by (its footprint − 1.5 GB).
      if (t === 30_000) freeMb -= 1500;
      if (engineMb === 0 && decided && (restartAt !== restartAt || t >= restartAt)) {
        engineMb = needOf(policy, decided) / MiB; // (re)start with the latest knobs
        restartAt = NaN;
      }
      if (engineMb > 0 && freeMb - engineMb < lmkMinFreeMb) {
        kills++;
        engineMb = 0;
        restartAt = t + restartMs;
      }
      const r = step(state, phoneSample(t, { memAvailMb: Math.max(0, freeMb - engineMb) }), policy);
      state = r.state;
      decided = r.decision;
      if (engineMb > 0 && r.changed) {
        // The engine applies new knobs at once (reloads in place).
        engineMb = needOf(policy, decided) / MiB;
      }
    }
    // The grab itself kills the engine once (no governor can prevent that); the restart must not.
    // (Without the engine-gone detector the governor counts the dead engine's footprint as still
    // its own, restarts it at `full`, and it is killed again every restart.)
    expect(kills).toBe(1);
    expect(engineMb).toBeGreaterThan(0);
    expect(freeMb - engineMb).toBeGreaterThanOrEqual(policy.rules.memory.reserveMb - 1);
  });
});

describe('sensor faults', () => {
  const policy = testPolicy();

  it('a SoC dropout holds the last value for holdMs, then the safe tier naming soc_c; recovery returns to normal', () => {
    const samples = [];
    for (let t = 0; t < 20_000; t += PERIOD_MS) samples.push(phoneSample(t));
    const dropAt = samples.length;
    for (let t = 20_000; t < 40_000; t += PERIOD_MS) {
      const s = phoneSample(t);
      delete s['zone.cpu0'];
      delete s['zone.gpu0'];
      samples.push(s);
    }
    const recoverAt = samples.length;
    for (let t = 40_000; t < 100_000; t += PERIOD_MS) samples.push(phoneSample(t));
    const results = runGovernor(policy, samples);
    expect(results[dropAt - 1].decision).toMatchObject({ tier: 'full', safe: false });
    // Within the hold the last good value stands (a held reading, not a fault yet)…
    const heldUntil = samples[dropAt - 1].t_ms + policy.control.holdMs; // from the last good reading
    for (let i = dropAt; i < recoverAt && samples[i].t_ms <= heldUntil; i++) {
      expect(results[i].decision.safe).toBe(false);
    }
    // …after it, the safe tier with a reason naming the sensor.
    const failed = results[recoverAt - 1].decision;
    expect(failed).toMatchObject({ tier: policy.control.safeTier, safe: true });
    const reason = failed.reasons.find((r) => r.rule === 'sensor-fault' && r.signal === 'soc_c');
    expect(reason?.message).toMatch(/soc_c.*failed/);
    // Recovery: back under normal control at once, relaxing to the richest tier by the dwell rules.
    expect(results[recoverAt].decision.safe).toBe(false);
    expect(results[results.length - 1].decision).toMatchObject({ tier: 'full', safe: false, severity: 'none' });
  });

  it('a critical sensor that never reports gives the safe tier from the first decision (missing ≠ zero)', () => {
    const s = phoneSample(0);
    delete s.skin_c;
    const [r] = runGovernor(policy, [s]);
    expect(r.decision).toMatchObject({ tier: policy.control.safeTier, safe: true });
    expect(r.decision.reasons.find((x) => x.signal === 'skin_c')?.message).toMatch(/skin_c.*never/);
  });

  it('a flat skin sensor is not stuck (a slow node has no coupled evidence); a SoC zone frozen while power and the other zone climb is', () => {
    const samples = [];
    for (let t = 0; t < 20_000; t += PERIOD_MS) samples.push({ ...phoneSample(t), charging: 0 });
    // From 20 s: zone.cpu0 frozen at 50 °C (the hottest), the GPU zone and the discharge power climb.
    const frozenFrom = samples.length;
    for (let t = 20_000; t < 200_000; t += PERIOD_MS) {
      const s = (t - 20_000) / 1000;
      samples.push({ ...phoneSample(t, { batteryW: 3 + Math.min(3, s / 20) }), charging: 0, skin_c: 33, 'zone.cpu0': 50,
        'zone.gpu0': 43 + Math.min(14, s / 8) });
    }
    const recoverAt = samples.length;
    for (let t = 200_000; t < 260_000; t += PERIOD_MS) samples.push({ ...phoneSample(t, { socC: 58 }), charging: 0, skin_c: 33 });
    const results = runGovernor(policy, samples);
    const stuckReason = (i: number) => results[i].decision.reasons.find((r) => r.rule === 'sensor-fault' && r.signal === 'zone.cpu0');
    const caught = results.findIndex((_, i) => stuckReason(i) !== undefined);
    // Within the window: 120 s after the freeze (the first frozen reading starts the flat stretch).
    expect(samples[caught].t_ms - samples[frozenFrom].t_ms).toBeGreaterThanOrEqual(policy.control.stuckAfterMs);
    expect(samples[caught].t_ms - samples[frozenFrom].t_ms).toBeLessThanOrEqual(policy.control.stuckAfterMs + PERIOD_MS);
    expect(stuckReason(caught)!.message).toMatch(/zone\.cpu0 stuck: flat at 50 .* while (zone\.gpu0 moved 1\d(\.\d+)? °C|battery_w moved \d(\.\d+)? W) in that window/);
    // soc_c reads the climbing GPU zone (the substitute, 57 °C < 65 °C light): no safe tier, no cap.
    expect(results[recoverAt - 1].decision).toMatchObject({ safe: false, severity: 'none', tier: 'full' });
    // The flat skin (constant 33 °C for 4 minutes) never faulted.
    expect(results.every((r) => !r.decision.reasons.some((x) => x.signal === 'skin_c'))).toBe(true);
    // Clears at its first change.
    expect(stuckReason(recoverAt)).toBeUndefined();
    expect(results[results.length - 1].decision).toMatchObject({ safe: false });
  });

  it('a single implausible spike is rejected (held), not acted on', () => {
    const samples = [];
    for (let t = 0; t < 20_000; t += PERIOD_MS) samples.push(phoneSample(t));
    samples.push({ ...phoneSample(20_000), 'zone.cpu0': 125 }); // +80 °C in 0.5 s: a glitch
    for (let t = 20_500; t < 30_000; t += PERIOD_MS) samples.push(phoneSample(t));
    const results = runGovernor(policy, samples);
    for (const r of results) expect(r.decision).toMatchObject({ severity: 'none', tier: 'full', safe: false });
  });
});
