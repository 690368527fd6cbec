/**
 * The shared rxjs operator gives exactly what a plain loop over `step` gives — on a virtual
 * clock (TestScheduler), per subscription, and across a policy hot reload.
 */
import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { Subject, from, map, merge, timer, toArray, firstValueFrom } from 'rxjs';
import { governDecisions } from '../../src/pipeline/govern.js';
import { initialState, step } from '../../src/core/governor.js';
import { testPolicy } from '../helpers/policy-fixture.js';
import { phoneSample } from '../core/trace-helpers.js';
import type { Sample } from '../../src/core/signals.js';
import type { Policy } from '../../src/policy/types.js';

const PERIOD_MS = 500;

function heatTrace(n: number): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const t = i * PERIOD_MS;
    const s = t / 1000;
    out.push(phoneSample(t, { socC: s < 300 ? 45 + s * 0.15 : 90 - (s - 300) * 0.15, memAvailMb: i % 97 === 50 ? 150 : 6000 }));
  }
  return out;
}

function loop(samples: Sample[], policyAt: (i: number) => Policy): string[] {
  let state = initialState(policyAt(0));
  return samples.map((s, i) => {
    const r = step(state, s, policyAt(i));
    state = r.state;
    return `${r.changed ? '*' : ' '}${JSON.stringify(r.decision)}`;
  });
}

describe('governDecisions', () => {
  const policy = testPolicy();
  const samples = heatTrace(1400);
  const expected = loop(samples, () => policy);

  it('on a virtual-time scheduler emits, at each sample time, what a for loop over step gives', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    const got: { at: number; line: string }[] = [];
    scheduler.run(() => {
      // Each sample arrives at its own t_ms on the virtual clock, like a live source would.
      const source = merge(...samples.map((s) => timer(s.t_ms).pipe(map(() => s))));
      source.pipe(governDecisions(policy)).subscribe((r) => {
        got.push({ at: scheduler.now(), line: `${r.changed ? '*' : ' '}${JSON.stringify(r.decision)}` });
      });
    });
    expect(got.map((g) => g.line)).toEqual(expected);
    expect(got.map((g) => g.at)).toEqual(samples.map((s) => s.t_ms));
    expect(expected.filter((l) => l.startsWith('*')).length).toBeGreaterThan(5); // the trace does decide things
  });

  it('gives each subscription its own state (two subscribers, same stream)', async () => {
    const op = from(samples).pipe(governDecisions(policy), map((r) => `${r.changed ? '*' : ' '}${JSON.stringify(r.decision)}`), toArray());
    const [a, b] = await Promise.all([firstValueFrom(op), firstValueFrom(op)]);
    expect(a).toEqual(expected);
    expect(b).toEqual(expected);
  });

  it('hot reload: a new policy applies from the next sample and the controller state carries over', () => {
    const base = testPolicy();
    // The reloaded policy drops the light level's tier cap one tier leaner and lengthens the dwell.
    const reloaded = testPolicy({
      rules: { ...base.rules, severityCaps: { ...base.rules.severityCaps, light: 'lean' } },
      control: { ...base.control, dwellMs: 20_000 },
    });
    const switchAt = 500;
    const want = loop(samples, (i) => (i < switchAt ? base : reloaded));
    const policies = new Subject<Policy>();
    const got: string[] = [];
    const sampleSubject = new Subject<Sample>();
    sampleSubject.pipe(governDecisions(policies)).subscribe((r) => got.push(`${r.changed ? '*' : ' '}${JSON.stringify(r.decision)}`));
    sampleSubject.next(samples[0]); // before any policy: nothing to decide with, dropped
    expect(got).toHaveLength(0);
    policies.next(base);
    samples.forEach((s, i) => {
      if (i === switchAt) policies.next(reloaded);
      sampleSubject.next(s);
    });
    expect(got).toEqual(want);
    // The reload did not restart the controller: no spurious change at the switch sample
    // unless the new caps demand one, and it differs from a fresh start on the new policy.
    const fresh = loop(samples.slice(switchAt), () => reloaded);
    expect(got.slice(switchAt)).not.toEqual(fresh);
  });
});
