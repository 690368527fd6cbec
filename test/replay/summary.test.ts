import { describe, it, expect } from 'vitest';
import { replaySamples } from '../../src/replay/run.js';
import type { Decision } from '../../src/core/decision.js';
import type { Sample } from '../../src/core/signals.js';
import { SEVERITIES, severityIndex } from '../../src/core/severity.js';
import { testPolicy } from '../helpers/policy-fixture.js';
import { heatingScenario } from './scenario.js';

const policy = testPolicy();

function sum(o: Record<string, number>): number {
  return Object.values(o).reduce((a, b) => a + b, 0);
}

describe('replay summary (SPEC §8)', () => {
  const samples = heatingScenario({ dropout: true });
  const changes: Decision[] = [];
  const all: Decision[] = [];
  const s = replaySamples(samples, {
    policy,
    onDecision: (d) => changes.push(d),
    onStep: (_x, r) => all.push(r.decision),
  });

  it('has every field, every severity and every tier', () => {
    for (const k of ['samples', 'durationS', 'decisionChanges', 'knobChangesPerMin', 'timeInSeverityS', 'timeInTierS', 'timeOffloadedS', 'maxC', 'sensorFaults', 'finalDecision']) {
      expect(s).toHaveProperty(k);
    }
    expect(Object.keys(s.timeInSeverityS)).toEqual([...SEVERITIES]);
    expect(Object.keys(s.timeInTierS)).toEqual(policy.tiers.map((t) => t.name));
    expect(s.samples).toBe(samples.length);
    expect(s.durationS).toBe(samples.at(-1)!.t_ms / 1000);
  });

  it('time accounting: each decision holds until the next sample, so every breakdown adds up to the duration', () => {
    expect(sum(s.timeInSeverityS)).toBeCloseTo(s.durationS, 6);
    expect(sum(s.timeInTierS)).toBeCloseTo(s.durationS, 6);
    expect(sum(s.timeByOffloadS)).toBeCloseTo(s.durationS, 6);
    // Recompute from the per-sample decision stream independently.
    const bySev: Record<string, number> = {};
    for (let i = 0; i + 1 < all.length; i++) {
      bySev[all[i].severity] = (bySev[all[i].severity] ?? 0) + (samples[i + 1].t_ms - samples[i].t_ms) / 1000;
    }
    for (const k of SEVERITIES) expect(s.timeInSeverityS[k]).toBeCloseTo(bySev[k] ?? 0, 6);
    const offloaded = all.slice(0, -1).reduce((a, d, i) => a + (d.offload !== 'local' ? (samples[i + 1].t_ms - samples[i].t_ms) / 1000 : 0), 0);
    expect(s.timeOffloadedS).toBeCloseTo(offloaded, 6);
  });

  it('a 40 → 100 °C heat-up escalates above none, and the changes hook sees the first decision plus every change', () => {
    expect(severityIndex(s.finalDecision!.severity)).toBeLessThanOrEqual(severityIndex('light'));
    expect(s.timeInSeverityS.severe + s.timeInSeverityS.critical).toBeGreaterThan(0);
    expect(changes.length).toBe(s.decisionChanges + 1);
    expect(changes[0]).toBe(all[0]);
    expect(s.finalDecision).toBe(all.at(-1));
    expect(s.knobChangesPerMin).toBeGreaterThan(0);
  });

  it('maxC covers every temperature signal present, zones included, and nothing else', () => {
    const expected: Record<string, number> = {};
    for (const x of samples) {
      for (const [k, v] of Object.entries(x)) {
        if ((k.endsWith('_c') || k.startsWith('zone.')) && v !== undefined) expected[k] = Math.max(expected[k] ?? -Infinity, v);
      }
    }
    expect(s.maxC).toEqual(expected);
    expect(Object.keys(s.maxC).sort()).toEqual(['battery_c', 'skin_c', 'zone.cpu-0', 'zone.gpu-0']);
  });

  it('a skin sensor dropout is counted as a fault of skin_c', () => {
    expect(s.sensorFaults.count).toBeGreaterThanOrEqual(1);
    expect(s.sensorFaults.bySignal.skin_c).toBeGreaterThanOrEqual(1);
    expect(s.timeSafeS).toBeGreaterThan(0);
  });

  it('a window shows exactly the full replay\'s decisions for its samples (earlier samples warm the core)', () => {
    const fromMs = 200_000;
    const toMs = 400_000;
    const windowed: Decision[] = [];
    const w = replaySamples(samples, { policy, fromMs, toMs, onStep: (_x, r) => windowed.push(r.decision) });
    const inside = samples.map((x, i) => [x, all[i]] as const).filter(([x]) => x.t_ms >= fromMs && x.t_ms <= toMs);
    expect(windowed).toEqual(inside.map(([, d]) => d));
    expect(w.samples).toBe(inside.length);
    expect(w.durationS).toBe((inside.at(-1)![0].t_ms - inside[0][0].t_ms) / 1000);
    expect(w.window).toEqual({ fromMs, toMs });
  });

  it('no samples: an empty summary, not a crash', () => {
    const e = replaySamples([] as Sample[], { policy });
    expect(e.samples).toBe(0);
    expect(e.durationS).toBe(0);
    expect(e.finalDecision).toBeNull();
  });
});
