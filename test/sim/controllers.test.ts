/** The baselines behave like the kernel governors they stand for; edgegov is the real core. */
import { describe, it, expect } from 'vitest';
import { createController, tierPowerW } from '../../src/sim/controllers.js';
import { loadDevice } from '../../src/sim/device.js';
import { simModel } from '../../src/sim/model.js';
import { initialState, step } from '../../src/core/governor.js';
import { testPolicy } from '../helpers/policy-fixture.js';
import type { Sample } from '../../src/core/signals.js';

const policy = testPolicy();
const device = loadDevice('flagship-phone');
const ctx = { policy, device, model: simModel(policy.model) };
const sample = (t_ms: number, soc_c: number, skin_c = 30): Sample => ({ t_ms, soc_c, skin_c, mem_avail_mb: 5000, battery_pct: 80 });

describe('static', () => {
  it('always runs the richest tier locally, whatever the temperature', () => {
    const c = createController('static', ctx);
    for (const [t, soc] of [[0, 40], [500, 99], [1000, 120]]) {
      const d = c.decide(sample(t, soc, 60));
      expect(d.tier).toBe(policy.tiers[0].name);
      expect(d.offload).toBe('local');
    }
  });
});

describe('stepwise (kernel step_wise)', () => {
  it('one tier per poll while above the trip and rising; holds on a stable trend; relaxes below the trip when falling', () => {
    const c = createController('stepwise', ctx);
    const trip = policy.limits.find((l) => l.signal === 'soc_c')!.levels[0].setAt;
    const tiers: number[] = [];
    let t = 0;
    const feed = (soc: number) => { tiers.push(c.decide(sample(t, soc)).tierIndex); t += 1000; };
    feed(trip - 5); feed(trip + 1); feed(trip + 2); feed(trip + 3);
    expect(tiers).toEqual([0, 1, 2, 3]);
    feed(trip + 3); feed(trip + 3);
    expect(tiers.slice(-2)).toEqual([3, 3]);          // stable above the trip: no further throttling
    feed(trip - 1); feed(trip - 2); feed(trip - 2);
    expect(tiers.slice(-3)).toEqual([2, 1, 1]);       // below and falling relaxes; below and stable holds
    // Polls at most once a second even if sampled at 2 Hz.
    const d = createController('stepwise', ctx);
    const out = [trip + 1, trip + 2, trip + 3, trip + 4].map((v, i) => d.decide(sample(i * 500, v)).tierIndex);
    expect(out).toEqual([0, 0, 1, 1]);
  });
  it('never goes past the leanest tier', () => {
    const c = createController('stepwise', ctx);
    let last = 0;
    for (let i = 0; i < 20; i++) last = c.decide(sample(i * 1000, 80 + i)).tierIndex;
    expect(last).toBe(policy.tiers.length - 1);
  });
});

describe('pid (kernel power_allocator)', () => {
  it('tier power estimates fall down the ladder', () => {
    const w = policy.tiers.map((tier) => tierPowerW(ctx, tier));
    for (let i = 1; i < w.length; i++) expect(w[i]).toBeLessThan(w[i - 1]);
  });
  it('richest tier below switch-on; a hotter skin gets a leaner tier; cooling back relaxes', () => {
    const c = createController('pid', ctx);
    expect(c.decide(sample(0, 40, 30)).tierIndex).toBe(0);
    let hot = 0;
    for (let i = 1; i <= 30; i++) hot = c.decide(sample(i * 1000, 60, 46)).tierIndex;
    expect(hot).toBeGreaterThan(0);
    let cool = hot;
    for (let i = 31; i <= 60; i++) cool = c.decide(sample(i * 1000, 40, 30)).tierIndex;
    expect(cool).toBe(0);
  });
});

describe('edgegov', () => {
  it('is exactly the core step over the samples', () => {
    const c = createController('edgegov', ctx);
    let st = initialState(policy);
    for (let i = 0; i < 200; i++) {
      const s = sample(i * 500, 50 + (i % 50), 35 + i / 20);
      const mine = c.decide(s);
      const r = step(st, s, policy);
      st = r.state;
      expect(mine).toEqual(r.decision);
    }
  });
});
