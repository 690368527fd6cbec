/**
 * The user-value score (docs/simulator.md "Score", issue 22): QoE in the sense of Andes (the
 * delivered token timeline against the expected one) × answer quality × context fidelity. Each
 * test would fail if the score rewarded what a user would call a failure.
 */
import { describe, it, expect } from 'vitest';
import { answerQoe, expectedQoe, integrateMin, readTimeline } from '../../src/core/qoe.js';
import { contextFidelity, quantQuality } from '../../src/sim/quality.js';
import { loadDevice } from '../../src/sim/device.js';
import { loadScenario, type Scenario } from '../../src/sim/scenario.js';
import { simModel } from '../../src/sim/model.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { DeviceSimulator, type Router } from '../../src/sim/simulator.js';
import type { Knobs } from '../../src/sim/workload.js';

const reader = { firstTokenS: 1, readTokS: 5.3 };

/** Delivered timeline of a stream: first token after `ttftS` from arrival 0, then `tokS`. */
const stream = (ttftS: number, tokS: number, n: number) => [0, 0, ttftS, 0, ttftS + n / tokS, n];

describe('QoE of one answer (Andes)', () => {
  it('60 tok/s scores no better than 20 tok/s for a 5.3 tok/s reader with the same first token', () => {
    for (const ttft of [0.3, 1, 2.5]) {
      const q20 = answerQoe(0, 200, stream(ttft, 20, 200), true, reader).qoe;
      const q60 = answerQoe(0, 200, stream(ttft, 60, 200), true, reader).qoe;
      expect(q60).toBeCloseTo(q20, 9);
    }
    // …and slower than the reader does cost: 3 tok/s loses against 20.
    expect(answerQoe(0, 200, stream(1, 3, 200), true, reader).qoe).toBeLessThan(answerQoe(0, 200, stream(1, 20, 200), true, reader).qoe - 0.1);
  });

  it('an answer at or ahead of expectation is worth 1; every second of waiting costs', () => {
    expect(answerQoe(0, 200, stream(0.5, 30, 200), true, reader).qoe).toBe(1);
    let prev = 1;
    for (const late of [2, 4, 8, 16, 32]) {
      const q = answerQoe(0, 200, stream(late, 30, 200), true, reader).qoe;
      expect(q).toBeLessThan(prev);
      prev = q;
    }
  });

  it('a request deferred 30 s scores less than the same answer at once', () => {
    const atOnce = answerQoe(100, 200, [100, 0, 100.6, 0, 100.6 + 200 / 20, 200], true, reader).qoe;
    const deferred = answerQoe(100, 200, [100, 0, 130.6, 0, 130.6 + 200 / 20, 200], true, reader).qoe;
    expect(atOnce).toBe(1);
    expect(deferred).toBeLessThan(0.6);
  });

  it('a late first token is not made up by a fast stream (the reader cannot read faster)', () => {
    const read = readTimeline(stream(5, 1000, 200), 5.3);
    // The reader starts at 5 s and reads at 5.3 tok/s: done at 5 + 200/5.3.
    expect(read[read.length - 2]).toBeCloseTo(5 + 200 / 5.3, 6);
    expect(answerQoe(0, 200, stream(5, 1000, 200), true, reader).qoe).toBeLessThan(0.9);
  });

  it('integrates the minimum of two timelines exactly, crossings included', () => {
    // f rises 0→10 over [0,10]; g is 5 flat: ∫min = 12.5 (under f until t=5) + 25 (g after) = 37.5.
    expect(integrateMin([0, 0, 10, 10], [0, 5, 10, 5], 0, 10)).toBeCloseTo(37.5, 9);
    expect(expectedQoe(0.2, 50, 100, reader)).toBe(1);
  });

  it('an answer cut at the horizon earns only what was read by then', () => {
    const whole = answerQoe(0, 300, stream(0.5, 30, 300), true, reader).qoe;
    const cut = answerQoe(0, 300, [0, 0, 0.5, 0, 20, 300 * (19.5 / 10)], false, reader, 20).qoe;
    expect(whole).toBe(1);
    // The reader kept pace until the horizon: the expected area up to 20 s over the whole answer's.
    const rampTo20 = (5.3 * (20 - 1) ** 2) / 2;
    const wholeArea = (300 * (300 / 5.3)) / 2;
    expect(cut).toBeCloseTo(rampTo20 / wholeArea, 9);
  });
});

describe('answer quality and context fidelity', () => {
  it('a document truncated to a third scores at most a third of its full-context answer', () => {
    const timeline = stream(4, 20, 150);
    const qoe = answerQoe(0, 150, timeline, true, { firstTokenS: 5, readTokS: 5.3 }).qoe;
    const full = qoe * quantQuality('q4_k_m', 0) * contextFidelity(6000, 6000);
    const third = qoe * quantQuality('q4_k_m', 0) * contextFidelity(2000, 6000);
    expect(third).toBeLessThanOrEqual(full / 3 + 1e-12);
  });

  it('quant quality is the measured ΔPPL (research/03), not what a policy claims', () => {
    expect(quantQuality('q8_0', 0.5)).toBeCloseTo(0.9996, 6);
    expect(quantQuality('q2_k', 0)).toBeCloseTo(0.44, 6);
    expect(quantQuality('my_quant', 0.2)).toBeCloseTo(0.8, 6); // unknown: the policy's figure
  });
});

/** A scenario of one kind of request, at once and with no think time worth the name. */
function oneKind(over: Partial<Scenario['workload']>, kind: Partial<Scenario['workload']['requests'][number]>): Scenario {
  const base = loadScenario('sustained-chat');
  return {
    ...base, durationS: 600, workload: {
      ...base.workload, startDelayS: 1, thinkS: 5, privateShare: 0,
      requests: [{ kind: 'chat', weight: 1, private: false, promptTokens: { min: 50, max: 60 }, outputTokens: { min: 100, max: 120 }, ...kind }],
      ...over,
    },
  };
}

async function simulated(scenario: Scenario, knobs: Knobs, router?: Router) {
  const policy = await loadPolicyFile('policies/flagship-phone.yaml');
  const sim = new DeviceSimulator({ device: loadDevice('flagship-phone'), model: simModel(policy.model), scenario, seed: 3, floorTokS: 8 });
  sim.setRouter(router);
  for (let t = 0; t < scenario.durationS; t += 0.5) { sim.read(t * 1000); sim.advance(0.5, knobs); }
  sim.closeRun(scenario.durationS);
  return sim.outcomes;
}

const k = (contextLength: number): Knobs => ({ tier: `ctx${contextLength}`, quant: 'q4_k_m', contextLength, batchSize: 512, threads: 6, pacingMs: 0, offload: 'local' });

describe('the simulator scores what the user got', () => {
  it('a 6,000-token document in a 2,048 context keeps at most a third of it', async () => {
    const doc = oneKind({ turnsPerSession: 1 }, { kind: 'document', newSession: true, promptTokens: { min: 5900, max: 6000 } });
    const cut = await simulated(doc, k(2048));
    const whole = await simulated(doc, k(8192));
    expect(cut.length).toBeGreaterThan(2);
    for (const o of cut.filter((x) => x.complete)) expect(o.fidelity).toBeLessThanOrEqual(1 / 3);
    for (const o of whole.filter((x) => x.complete)) expect(o.fidelity).toBe(1);
  });

  it('a private request is never scored as a cloud answer, even under a gateway that sends everything out', async () => {
    const chat = oneKind({ privateShare: 1 }, {});
    const out = await simulated(chat, k(4096), () => 'cloud');
    expect(out.length).toBeGreaterThan(5);
    for (const o of out) { expect(o.private).toBe(true); expect(o.route).not.toBe('cloud'); }
    // The same users with nothing private do go to the cloud under that gateway.
    const open = await simulated(oneKind({ privateShare: 0 }, {}), k(4096), () => 'cloud');
    expect(open.filter((o) => o.route === 'cloud').length).toBeGreaterThan(5);
  });

  it('the next request comes a think time after the user has read the answer, not when it was generated', async () => {
    const chat = oneKind({ thinkS: 0.001 }, { outputTokens: { min: 200, max: 200 } });
    const out = await simulated(chat, k(4096));
    // 200 tokens read at 5.3 tok/s take ~38 s: over 600 s at most ~16 answers, however fast the device.
    expect(out.length).toBeLessThanOrEqual(Math.ceil(600 / (200 / 5.3)) + 1);
    expect(out.length).toBeGreaterThan(10);
  });
});
