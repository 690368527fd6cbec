/**
 * The estimator on its own: virtual sensors, health classes, hold, smoothing, slope, forecast.
 */
import { describe, expect, it } from 'vitest';
import { Estimator } from '../../src/estimator/estimator.js';
import { compileGlob } from '../../src/estimator/glob.js';
import { testPolicy } from '../helpers/policy-fixture.js';
import type { Policy, SensorSpec } from '../../src/policy/types.js';

function policyWith(sensors: SensorSpec[], control: Partial<Policy['control']> = {}): Policy {
  const base = testPolicy();
  return testPolicy({
    sensors,
    limits: [{ signal: sensors[0].name, direction: 'rising', levels: [{ severity: 'light', setAt: 70, clearAt: 65 }] }],
    control: { ...base.control, ...control },
  });
}

const plain = (name: string, extra: Partial<SensorSpec> = {}): SensorSpec =>
  ({ name, min: -20, max: 130, critical: true, maxSlewPerS: Infinity, ...extra });

describe('glob patterns', () => {
  it('match zone types with * and ?, literally otherwise, with or without the zone. prefix', () => {
    expect(compileGlob('cpu*').test('cpu-1-0-0')).toBe(true);
    expect(compileGlob('zone.gpu?-0').test('gpu1-0')).toBe(true);
    expect(compileGlob('gpu?-0').test('gpu10-0')).toBe(false);
    expect(compileGlob('soc.thermal').test('socXthermal')).toBe(false);
    expect(compileGlob('BIG').test('BIGGER')).toBe(false);
  });
});

describe('virtual sensors', () => {
  it('max / min / avg over matched zones; unmatched zones ignored', () => {
    const p = policyWith([
      plain('hot_c', { source: { kind: 'max', zones: ['cpu*', 'gpu*'] } }),
      plain('cold_c', { source: { kind: 'min', zones: ['cpu*'] } }),
      plain('mean_c', { source: { kind: 'avg', zones: ['cpu*', 'cpu0'] } }),
    ], { smoothingMs: 0 });
    const e = new Estimator(p);
    e.update({ t_ms: 0, 'zone.cpu0': 50, 'zone.cpu1': 60, 'zone.gpu0': 70, 'zone.modem': 99 });
    expect(e.estimate('hot_c')!.value).toBe(70);
    expect(e.estimate('cold_c')!.value).toBe(50);
    // cpu0 matches two patterns but counts once.
    expect(e.estimate('mean_c')!.value).toBe(55);
  });

  it('weighted: Σ weight·zone + offset; any missing term → no reading (never a partial sum)', () => {
    const p = policyWith([plain('vskin_c', {
      source: { kind: 'weighted', terms: [{ zone: 'skin0', weight: 0.6 }, { zone: 'batt*', weight: 0.4 }], offset: 2 },
    })], { smoothingMs: 0 });
    const e = new Estimator(p);
    e.update({ t_ms: 0, 'zone.skin0': 40, 'zone.battery': 30 });
    expect(e.estimate('vskin_c')!.value).toBeCloseTo(0.6 * 40 + 0.4 * 30 + 2);
    e.update({ t_ms: 500, 'zone.skin0': 40 });
    expect(e.estimate('vskin_c')!.health).toBe('missing');
    expect(e.estimate('vskin_c')!.value).toBeCloseTo(38); // held, not 0.6·40 + 2
  });

  it('falls back to a direct reading under the sensor name when no zone of it is present', () => {
    const p = policyWith([plain('soc_c', { source: { kind: 'max', zones: ['cpu*'] } })], { smoothingMs: 0 });
    const e = new Estimator(p);
    e.update({ t_ms: 0, soc_c: 61 });
    expect(e.estimate('soc_c')!.value).toBe(61);
    e.update({ t_ms: 500, soc_c: 61, 'zone.cpu3': 64 });
    expect(e.estimate('soc_c')!.value).toBe(64); // the policy's definition wins when its zones exist
  });

  it('resolves each zone key once and reuses it', () => {
    const p = policyWith([plain('soc_c', { source: { kind: 'max', zones: ['cpu*'] } })]);
    const e = new Estimator(p);
    for (let t = 0; t < 5000; t += 500) e.update({ t_ms: t, 'zone.cpu0': 50, 'zone.wifi': 40 });
    expect([...e.virtuals.keyMatches.keys()].sort()).toEqual(['zone.cpu0', 'zone.wifi']);
  });
});

describe('health', () => {
  const spec = plain('soc_c', { min: -20, max: 130, maxSlewPerS: 10 });

  it('missing: holds the last good value for holdMs, then failed with no value (never zero)', () => {
    const e = new Estimator(policyWith([spec], { holdMs: 2000, smoothingMs: 0 }));
    e.update({ t_ms: 0, soc_c: 50 });
    e.update({ t_ms: 1000 });
    expect(e.estimate('soc_c')).toMatchObject({ health: 'missing', usable: true, value: 50 });
    e.update({ t_ms: 2000, soc_c: NaN });
    expect(e.estimate('soc_c')).toMatchObject({ health: 'missing', usable: true, value: 50 });
    e.update({ t_ms: 2500 });
    const est = e.estimate('soc_c')!;
    expect(est).toMatchObject({ health: 'failed', usable: false });
    expect(est.value).toBeUndefined();
    e.update({ t_ms: 3000, soc_c: 52 });
    expect(e.estimate('soc_c')).toMatchObject({ health: 'ok', usable: true, value: 52 });
  });

  it('a per-sensor hold overrides control.holdMs', () => {
    const e = new Estimator(policyWith([{ ...spec, holdMs: 40_000 }], { holdMs: 2000 }));
    e.update({ t_ms: 0, soc_c: 50 });
    e.update({ t_ms: 30_000 });
    expect(e.estimate('soc_c')!.usable).toBe(true);
  });

  it('never reported: missing and unusable from the start', () => {
    const e = new Estimator(policyWith([spec]));
    e.update({ t_ms: 0 });
    expect(e.estimate('soc_c')).toMatchObject({ health: 'missing', usable: false });
  });

  it('out of range and impossible slew are rejected and held', () => {
    const e = new Estimator(policyWith([spec], { smoothingMs: 0 }));
    e.update({ t_ms: 0, soc_c: 50 });
    e.update({ t_ms: 500, soc_c: 650_788 });
    expect(e.estimate('soc_c')).toMatchObject({ health: 'out-of-range', value: 50 });
    e.update({ t_ms: 1000, soc_c: 80 }); // +30 °C in 1 s from the last good at a 10 °C/s limit
    expect(e.estimate('soc_c')).toMatchObject({ health: 'spike', value: 50 });
    e.update({ t_ms: 1500, soc_c: 54 }); // plausible again
    expect(e.estimate('soc_c')).toMatchObject({ health: 'ok', value: 54 });
  });

  it('a real step is accepted once enough time has passed for the slew limit to allow it', () => {
    const e = new Estimator(policyWith([spec], { smoothingMs: 0, holdMs: 10_000 }));
    e.update({ t_ms: 0, soc_c: 50 });
    e.update({ t_ms: 500, soc_c: 70 });
    expect(e.estimate('soc_c')!.health).toBe('spike');
    e.update({ t_ms: 2500, soc_c: 70 }); // 20 °C in 2.5 s since the last good: 8 °C/s
    expect(e.estimate('soc_c')).toMatchObject({ health: 'ok', value: 70 });
  });

  /** soc_c flat at 50 °C while discharge power does `power(tS)`; `extra` adds readings. */
  function flatSoc(e: Estimator, hz: number, seconds: number, power: (tS: number) => number, extra: (tS: number) => Record<string, number> = () => ({})): number {
    let firstStuckT = NaN;
    for (let k = 0; k <= seconds * hz; k++) {
      const t = (k * 1000) / hz;
      e.update({ t_ms: t, soc_c: 50, battery_w: power(t / 1000), charging: 0, ...extra(t / 1000) });
      if (firstStuckT !== firstStuckT && e.estimate('soc_c')!.health === 'stuck') firstStuckT = t;
    }
    return firstStuckT;
  }
  const withPower = (control: Partial<Policy['control']> = {}): Policy =>
    policyWith([plain('soc_c'), plain('skin_c'), { name: 'battery_w', min: -40, max: 40, critical: false, maxSlewPerS: Infinity },
      { name: 'charging', min: 0, max: 1, critical: false, maxSlewPerS: Infinity }], { stuckAfterMs: 120_000, ...control });

  it('stuck: flat for stuckAfter while discharge power moved by a watt — the reason names the evidence; clears at the first change', () => {
    for (const hz of [1, 2, 5, 10, 100]) {
      const e = new Estimator(withPower());
      // Power climbs 2 → 6 W over the first 60 s and stays: the die must have warmed by several °C.
      const at = flatSoc(e, hz, 150, (s) => 2 + Math.min(4, s / 15));
      expect(at, `${hz} Hz`).toBeGreaterThanOrEqual(120_000);
      expect(at, `${hz} Hz`).toBeLessThanOrEqual(120_000 + 1000 / hz);
      expect(e.estimate('soc_c')).toMatchObject({ health: 'stuck', usable: false });
      const i = e.index.get('soc_c')!;
      expect(e.watch.describe(i, (n) => (n.endsWith('_w') ? 'W' : '°C'))).toMatch(/flat at 50 .* for 120(\.\d+)? s while battery_w moved [34](\.\d+)? W/);
      e.update({ t_ms: 151_000, soc_c: 50.1, battery_w: 6, charging: 0 });
      expect(e.estimate('soc_c')).toMatchObject({ health: 'ok', usable: true, current: 50.1 });
    }
  });

  it('not stuck without evidence: nothing coupled moved, only noise, an unrelated signal, or a charger', () => {
    for (const hz of [1, 10]) {
      // Steady power: a steady die at a steady reading is healthy.
      expect(flatSoc(new Estimator(withPower()), hz, 600, () => 4)).toBeNaN();
      // Power noise of ±1.5 W around a constant mean is not a material change.
      expect(flatSoc(new Estimator(withPower()), hz, 600, (s) => 4 + 1.5 * Math.sin(s * 7.1))).toBeNaN();
      // An unrelated signal swinging 20 °C is not evidence for the SoC.
      expect(flatSoc(new Estimator(withPower()), hz, 600, () => 4, (s) => ({ skin_c: 30 + 10 * Math.sin(s / 20) }))).toBeNaN();
    }
    // On a charger the battery's power is the charge current tapering, not the SoC's load.
    const e = new Estimator(withPower());
    for (let t = 0; t <= 600_000; t += 500) e.update({ t_ms: t, soc_c: 50, battery_w: -15 + t / 60_000, charging: 1 });
    expect(e.estimate('soc_c')!.health).toBe('ok');
  });

  it('the quantum is learnt from the signal’s own steps; float noise of recomputed values is no change; a real step clears', () => {
    const e = new Estimator(withPower());
    // 1 °C steps first (a whole-degree sensor), then "flat" with sub-quantum float noise.
    for (let t = 0; t <= 10_000; t += 500) e.update({ t_ms: t, soc_c: 50 + ((t / 500) % 2), battery_w: 2, charging: 0 });
    const i = e.index.get('soc_c')!;
    expect(e.watch.quantum[i]).toBe(1);
    let t = 10_500;
    for (; t <= 140_000; t += 500) e.update({ t_ms: t, soc_c: 50 + 1e-12 * (t % 3), battery_w: t < 40_000 ? 2 : 5, charging: 0 });
    expect(e.estimate('soc_c')!.health).toBe('stuck');
    e.update({ t_ms: t, soc_c: 51, battery_w: 5, charging: 0 });
    expect(e.estimate('soc_c')!.health).toBe('ok');
  });

  it('a frozen zone while the other zones of its virtual sensor climb is left out; the sensor reads the others; clears at its change', () => {
    const p = policyWith([plain('soc_c', { source: { kind: 'max', zones: ['cpu*', 'gpu*'] } })], { stuckAfterMs: 120_000, smoothingMs: 0 });
    for (const hz of [1, 2, 5, 10, 100]) {
      const e = new Estimator(p);
      let caught = NaN;
      for (let k = 0; k <= 200 * hz; k++) {
        const s = k / hz;
        e.update({ t_ms: k * (1000 / hz), 'zone.cpu0': 60, 'zone.gpu0': 45 + Math.min(12, s / 10), 'zone.gpu1': 44 + Math.min(12, s / 10) });
        if (caught !== caught && e.watch.stuck[e.virtuals.zoneChannels[0]] === 1) caught = s;
      }
      expect(caught, `${hz} Hz`).toBeGreaterThanOrEqual(120);
      expect(caught, `${hz} Hz`).toBeLessThanOrEqual(121);
      // The frozen hottest zone no longer holds soc_c up: it reads the climbing GPU zones.
      expect(e.estimate('soc_c')!.value).toBe(57);
      expect(e.estimate('soc_c')!.health).toBe('ok');
      e.update({ t_ms: 200_500, 'zone.cpu0': 60.1, 'zone.gpu0': 57, 'zone.gpu1': 56 });
      expect(e.watch.stuck[e.virtuals.zoneChannels[0]]).toBe(0);
      expect(e.estimate('soc_c')!.value).toBe(60.1);
    }
  });

  it('zones that sit flat together (an idle device, a cached sensor) are never stuck', () => {
    const p = policyWith([plain('soc_c', { source: { kind: 'max', zones: ['cpu*', 'gpu*'] } })], { stuckAfterMs: 120_000 });
    const e = new Estimator(p);
    for (let t = 0; t <= 1_800_000; t += 500) e.update({ t_ms: t, 'zone.cpu0': 41, 'zone.gpu0': 40 + 0.1 * ((t / 500) % 2) });
    expect(e.watch.stuck.slice(0, e.watch.n).every((x) => x === 0)).toBe(true);
  });

  it('stuck detection leaves discrete signals (charge %, memory) alone', () => {
    const p = policyWith([plain('soc_c'), { name: 'battery_pct', min: 0, max: 100, critical: false, maxSlewPerS: 5 }], { stuckAfterMs: 2_000 });
    const e = new Estimator(p);
    for (let i = 0; i < 20; i++) e.update({ t_ms: i * 500, soc_c: 50 + i * 0.1, battery_pct: 80 });
    expect(e.estimate('battery_pct')!.health).toBe('ok');
  });
});

describe('smoothing, slope and forecast', () => {
  it('EMA with time constant smoothingMs, dt from t_ms', () => {
    const e = new Estimator(policyWith([plain('soc_c')], { smoothingMs: 1000 }));
    e.update({ t_ms: 0, soc_c: 40 });
    e.update({ t_ms: 1000, soc_c: 50 });
    expect(e.estimate('soc_c')!.value).toBeCloseTo(40 + 10 * (1 - Math.exp(-1)), 10);
    expect(e.estimate('soc_c')!.current).toBe(50);
  });

  it('least-squares slope (units/s) over the window and the forecast at the horizon', () => {
    const e = new Estimator(policyWith([plain('soc_c')], { smoothingMs: 0, slopeWindowMs: 10_000, forecastHorizonMs: 20_000 }));
    for (let t = 0; t <= 30_000; t += 500) e.update({ t_ms: t, soc_c: 40 + 0.25 * (t / 1000) });
    const est = e.estimate('soc_c')!;
    expect(est.slopePerS).toBeCloseTo(0.25, 9);
    expect(est.forecast).toBeCloseTo(40 + 0.25 * 30 + 0.25 * 20, 9);
    const i = e.index.get('soc_c')!;
    expect(e.timeToLimitS(i, 50)).toBeCloseTo((50 - 47.5) / 0.25, 9);
    expect(e.timeToLimitS(i, 40)).toBeUndefined(); // behind us
  });

  it('no forecast until the window holds 3 points spanning half of it', () => {
    const e = new Estimator(policyWith([plain('soc_c')], { slopeWindowMs: 10_000 }));
    e.update({ t_ms: 0, soc_c: 40 });
    e.update({ t_ms: 500, soc_c: 41 });
    e.update({ t_ms: 1000, soc_c: 42 });
    expect(e.estimate('soc_c')!.forecast).toBeUndefined();
    for (let t = 1500; t <= 5000; t += 500) e.update({ t_ms: t, soc_c: 40 + t / 500 });
    expect(e.estimate('soc_c')!.slopePerS).toBeCloseTo(2, 9);
  });

  it('regression: readings faster than the policy\'s sample period still give a slope and forecast (10, 100 Hz under a 2 Hz policy)', () => {
    // The window's ring is sized for the policy's rate; at 10 Hz it once held 4 s of a 10 s
    // window, so no slope was ever valid and a 10 Hz trace was governed without any forecast.
    for (const hz of [10, 100]) {
      const ctl = { samplePeriodMs: 500, smoothingMs: 0, slopeWindowMs: 10_000, forecastHorizonMs: 20_000 };
      const ramp = new Estimator(policyWith([plain('soc_c')], ctl));
      for (let k = 0; k <= 30 * hz; k++) ramp.update({ t_ms: (k * 1000) / hz, soc_c: 40 + 0.25 * (k / hz) });
      const est = ramp.estimate('soc_c')!;
      expect(est.slopePerS, `${hz} Hz`).toBeCloseTo(0.25, 9);
      expect(est.forecast, `${hz} Hz`).toBeCloseTo(40 + 0.25 * 30 + 0.25 * 20, 9);
      // The settling-aware forecast works at the fast rate too.
      const step = new Estimator(policyWith([plain('soc_c')], { ...ctl, forecastHorizonMs: 30_000 }));
      for (let k = 0; k <= 20 * hz; k++) step.update({ t_ms: (k * 1000) / hz, soc_c: 50 });
      for (let k = 20 * hz + 1; k <= 30.5 * hz; k++) {
        const t = (k * 1000) / hz;
        step.update({ t_ms: t, soc_c: 70 - 20 * Math.exp(-(t - 20_000) / 4000) });
      }
      const s = step.estimate('soc_c')!;
      expect(s.value! + s.slopePerS! * 30, `${hz} Hz`).toBeGreaterThan(85);
      expect(s.forecast!, `${hz} Hz`).toBeLessThan(75);
      expect(s.forecast!, `${hz} Hz`).toBeGreaterThan(s.value!);
    }
  });

  it('a long run keeps the running sums exact (rebased, no drift)', () => {
    const e = new Estimator(policyWith([plain('soc_c')], { smoothingMs: 0 }));
    for (let t = 0; t <= 86_400_000; t += 1000) e.update({ t_ms: t, soc_c: 50 + 10 * Math.sin(t / 600_000) });
    const tEnd = 86_400_000;
    // Analytic slope of a sine at the window's centre, within LS error for a 10 s window.
    const want = (10 / 600) * Math.cos((tEnd - 5000) / 600_000);
    expect(e.estimate('soc_c')!.slopePerS!).toBeCloseTo(want, 6);
  });
});

describe('forecast of a node settling after a step (learned time constant)', () => {
  it('does not extrapolate an exponential approach as a straight line', () => {
    // A hotspot stepping 50 → 70 °C with τ = 4 s: the straight line through its first seconds
    // would forecast far past 70; the settling-aware forecast stays near the asymptote.
    const e = new Estimator(policyWith([plain('soc_c')], { smoothingMs: 0, slopeWindowMs: 10_000, forecastHorizonMs: 30_000 }));
    for (let t = 0; t <= 20_000; t += 500) e.update({ t_ms: t, soc_c: 50 });
    for (let t = 20_500; t <= 30_500; t += 500) e.update({ t_ms: t, soc_c: 70 - 20 * Math.exp(-(t - 20_000) / 4000) });
    const est = e.estimate('soc_c')!;
    const straight = est.value! + est.slopePerS! * 30;
    expect(straight).toBeGreaterThan(85);
    expect(est.forecast!).toBeLessThan(75);
    expect(est.forecast!).toBeGreaterThan(est.value!);
  });

  it('keeps the straight line for a steady ramp', () => {
    const e = new Estimator(policyWith([plain('soc_c')], { smoothingMs: 0, slopeWindowMs: 10_000, forecastHorizonMs: 20_000 }));
    for (let t = 0; t <= 30_000; t += 500) e.update({ t_ms: t, soc_c: 40 + 0.2 * (t / 1000) });
    expect(e.estimate('soc_c')!.forecast).toBeCloseTo(46 + 0.2 * 20, 6);
  });
});

describe('smoothing of a steady quantised reading', () => {
  // The real Galaxy C7 Pro trace: a whole-degree skin thermistor steps 48 → 50 °C and stays there
  // for 32 s at 1 Hz. The smoothed value must reach 50 exactly (a set point at 50 °C), not stop at
  // 49.99999… from the EMA's float residue.
  it('converges to exactly the reading it has held, so a set point equal to it is reached', () => {
    const e = new Estimator(policyWith([plain('skin_c')], { smoothingMs: 1000, holdMs: 10_000 }));
    e.update({ t_ms: 0, skin_c: 48 });
    let firstExactS = NaN;
    for (let s = 1; s <= 32; s++) {
      e.update({ t_ms: s * 1000, skin_c: 50 });
      const v = e.estimate('skin_c')!.value;
      expect(v).toBeLessThanOrEqual(50);
      if (firstExactS !== firstExactS && v === 50) firstExactS = s;
    }
    expect(firstExactS).toBeGreaterThan(1); // still smoothed at first
    expect(firstExactS).toBeLessThanOrEqual(32);
    // Moving again, it smooths again (no snap while the gap is a real one).
    e.update({ t_ms: 33_000, skin_c: 49 });
    expect(e.estimate('skin_c')!.value).toBeGreaterThan(49);
    expect(e.estimate('skin_c')!.value).toBeLessThan(50);
  });
});
