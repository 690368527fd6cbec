/** The daemon's live simulated device: real-time stepping of the same device model. */
import { describe, it, expect } from 'vitest';
import { createLiveSimulatedDevice } from '../../src/sim/live.js';
import { tierDecision } from '../../src/sim/controllers.js';
import { testPolicy } from '../helpers/policy-fixture.js';

const policy = testPolicy();

describe('createLiveSimulatedDevice', () => {
  it('lists the signals it provides and fills them (never a silent zero for what it lacks)', () => {
    const phone = createLiveSimulatedDevice({});
    expect(phone.device).toBe('flagship-phone');
    expect(phone.signals).toEqual(expect.arrayContaining(['soc_c', 'skin_c', 'battery_c', 'battery_w', 'battery_pct', 'mem_avail_mb']));
    const s = phone.sampleAt(1_700_000_000_000);
    expect(s.t_ms).toBe(1_700_000_000_000);
    for (const k of ['soc_c', 'skin_c', 'battery_pct', 'mem_avail_mb']) expect(Number.isFinite(s[k])).toBe(true);
    const board = createLiveSimulatedDevice({ device: 'rk3588' });
    expect(board.signals).not.toContain('skin_c');
    expect(board.signals).not.toContain('battery_pct');
    expect(board.sampleAt(0).battery_pct).toBeUndefined();
  });
  it('heats under a steady chat load and the decision knobs matter', () => {
    const rich = createLiveSimulatedDevice({ seed: 3, policy });
    const lean = createLiveSimulatedDevice({ seed: 3, policy });
    const t0 = 5_000;
    const dRich = tierDecision(policy, policy.tiers[0], t0, []);
    const dLean = tierDecision(policy, policy.tiers[policy.tiers.length - 1], t0, []);
    let a = rich.sampleAt(t0, dRich), b = lean.sampleAt(t0, dLean);
    const skin0 = a.skin_c!;
    for (let t = t0; t <= t0 + 15 * 60_000; t += 1000) { a = rich.sampleAt(t, dRich); b = lean.sampleAt(t, dLean); }
    expect(a.skin_c!).toBeGreaterThan(skin0 + 3);
    expect(b.skin_c!).toBeLessThan(a.skin_c! - 1);
    expect(b.mem_avail_mb!).toBeGreaterThan(a.mem_avail_mb!);
  });
  it('is deterministic for a seed and tolerates repeated or stalled clocks', () => {
    const run = () => { const d = createLiveSimulatedDevice({ seed: 9 }); const out = []; for (let t = 0; t < 30_000; t += 250) out.push(d.sampleAt(t)); return out; };
    expect(run()).toEqual(run());
    const d = createLiveSimulatedDevice({});
    d.sampleAt(0);
    expect(d.sampleAt(0).t_ms).toBe(0);
    // A 3-hour stall (suspended daemon) catches up a bounded amount and still answers.
    const late = d.sampleAt(3 * 3600_000);
    expect(Number.isFinite(late.soc_c)).toBe(true);
  });
});
