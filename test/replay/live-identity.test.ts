/**
 * Live and replay share the pipeline: the same samples through B's rxjs `governDecisions`
 * on a virtual-time scheduler (how the daemon drives it, with time simulated) and through
 * the replay runner — from memory and from a trace file — give identical decision streams.
 */
import { describe, it, expect, afterAll } from 'vitest';
import fc from 'fast-check';
import { Observable, VirtualTimeScheduler } from 'rxjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { governDecisions } from '../../src/pipeline/govern.js';
import { replaySamples, replayTrace } from '../../src/replay/run.js';
import { createTraceWriter } from '../../src/trace/writer.js';
import type { Decision } from '../../src/core/decision.js';
import type { Sample } from '../../src/core/signals.js';
import { testPolicy } from '../helpers/policy-fixture.js';
import { heatingScenario } from './scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'edgegov-identity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const policy = testPolicy();

/** Emits each sample at its own t_ms on the virtual clock, like a live source at that rate. */
function liveDecisions(samples: readonly Sample[]): Decision[] {
  const scheduler = new VirtualTimeScheduler();
  const source = new Observable<Sample>((sub) => {
    samples.forEach((s, i) => {
      scheduler.schedule(() => {
        sub.next(s);
        if (i === samples.length - 1) sub.complete();
      }, s.t_ms);
    });
    if (samples.length === 0) sub.complete();
  });
  const out: Decision[] = [];
  let completed = false;
  source.pipe(governDecisions(policy)).subscribe({ next: (r) => out.push(r.decision), complete: () => (completed = true) });
  scheduler.flush();
  expect(completed).toBe(true);
  return out;
}

function replayDecisions(samples: readonly Sample[]): Decision[] {
  const out: Decision[] = [];
  replaySamples(samples, { policy, onStep: (_s, r) => out.push(r.decision) });
  return out;
}

async function fileReplayDecisions(samples: readonly Sample[], ext: string): Promise<Decision[]> {
  const p = join(dir, `t-${Math.random().toString(36).slice(2)}.${ext}`);
  const cols = [...new Set(samples.flatMap((s) => Object.keys(s)))];
  const w = createTraceWriter(p, cols);
  for (const s of samples) w.write(s);
  await w.close();
  const out: Decision[] = [];
  await replayTrace(p, { policy, onStep: (_s, r) => out.push(r.decision) });
  return out;
}

describe('live (rxjs, virtual time) vs replay', () => {
  it('a heat-up with a sensor dropout and a memory dip: byte-identical decision streams', async () => {
    const samples = heatingScenario({ dropout: true, samples: 1500 });
    const live = liveDecisions(samples);
    const replayed = replayDecisions(samples);
    expect(live).toHaveLength(samples.length);
    // The stream must be non-trivial for the comparison to mean anything.
    expect(new Set(live.map((d) => `${d.tier}/${d.severity}/${d.offload}`)).size).toBeGreaterThan(3);
    expect(JSON.stringify(replayed)).toBe(JSON.stringify(live));
    expect(JSON.stringify(await fileReplayDecisions(samples, 'csv'))).toBe(JSON.stringify(live));
    expect(JSON.stringify(await fileReplayDecisions(samples, 'jsonl'))).toBe(JSON.stringify(live));
  });

  it('random scenarios: identical every time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 50, max: 400 }), fc.integer({ min: 60, max: 130 }), fc.integer({ min: 50, max: 2000 }), fc.boolean(), (seed, n, peakC, periodMs, dropout) => {
        const samples = heatingScenario({ seed, samples: n, peakC, periodMs, dropout });
        expect(JSON.stringify(replayDecisions(samples))).toBe(JSON.stringify(liveDecisions(samples)));
      }),
      { numRuns: 25 },
    );
  });
});
