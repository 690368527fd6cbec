import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createPerfettoWriter, TRACKS } from '../../src/perfetto/index.js';
import type { Decision } from '../../src/core/decision.js';
import { sameKnobs } from '../../src/core/decision.js';
import type { Sample } from '../../src/core/signals.js';
import { SEVERITIES } from '../../src/core/severity.js';
import { testPolicy } from '../helpers/policy-fixture.js';
import { validateTraceDoc, type TraceDoc } from './validate-trace-events.js';

const policy = testPolicy();

/** A decision for a tier index and severity, with a reason naming the signal that bound it. */
function decisionAt(t_ms: number, tierIndex: number, severity: (typeof SEVERITIES)[number], skin: number | undefined): Decision {
  const tier = policy.tiers[tierIndex];
  return {
    t_ms, severity, tier: tier.name, tierIndex, quant: tier.quant, contextLength: tier.contextLength,
    batchSize: tier.batchSize, threads: tier.threads, pacingMs: tier.pacingMs,
    offload: severity === 'critical' ? 'cloud' : 'local', ttlMs: 3000, safe: false,
    reasons: [{ rule: 'limit', signal: 'skin_c', value: skin, threshold: 41, severity, message: `skin_c ${skin} °C vs 41 °C` }],
  };
}

/** Runs a scripted heat-up and cool-down: skin follows a triangle, tiers follow the skin. */
function scriptedRun(n: number, dropEvery = 0) {
  const steps: { sample: Sample; decision: Decision; changed: boolean }[] = [];
  let prev: Decision | undefined;
  for (let i = 0; i < n; i++) {
    const t_ms = i * 500;
    const skin = 35 + 12 * (1 - Math.abs(1 - (2 * i) / n));
    const soc = skin + 20;
    const sample: Sample = {
      t_ms, skin_c: skin, soc_c: soc, battery_pct: 80 - i * 0.01,
      // A flaky sensor: missing (undefined) or NaN every so often — never a zero on the track.
      mem_avail_mb: dropEvery && i % dropEvery === 0 ? Number.NaN : 3000,
      ...(i % 7 === 0 ? {} : { battery_w: 4.5 }),
    };
    const sev = skin >= 45 ? 'critical' : skin >= 43 ? 'severe' : skin >= 41 ? 'moderate' : skin >= 39 ? 'light' : 'none';
    const tierIndex = Math.min(3, SEVERITIES.indexOf(sev));
    const decision = decisionAt(t_ms, tierIndex, sev, skin);
    const changed = prev === undefined || !sameKnobs(prev, decision);
    steps.push({ sample, decision, changed });
    prev = decision;
  }
  return steps;
}

async function exportSteps(steps: ReturnType<typeof scriptedRun>): Promise<TraceDoc> {
  const dir = mkdtempSync(join(tmpdir(), 'edgegov-perfetto-'));
  const file = join(dir, 'trace.json');
  const w = createPerfettoWriter(file, { processName: 'edgegov replay test', metadata: { policy: policy.name } });
  for (const s of steps) w.step(s.sample, s.decision, s.changed);
  await w.close();
  return JSON.parse(readFileSync(file, 'utf8')) as TraceDoc;
}

describe('Perfetto export', () => {
  it('is a valid trace-event document with one counter track per signal and one instant per decision change', async () => {
    const steps = scriptedRun(2000, 13);
    const doc = await exportSteps(steps);
    expect(validateTraceDoc(doc)).toEqual([]);
    expect(doc.displayTimeUnit).toBe('ms');
    const ev = doc.traceEvents;

    const counterNames = new Set(ev.filter((e) => e.ph === 'C').map((e) => e.name as string));
    const signalsPresent = new Set<string>();
    for (const s of steps) for (const [k, v] of Object.entries(s.sample)) if (k !== 't_ms' && v !== undefined && Number.isFinite(v)) signalsPresent.add(k);
    const signalTracks = [...counterNames].filter((n) => !n.startsWith('knob.'));
    expect(new Set(signalTracks)).toEqual(signalsPresent);
    expect([...counterNames].filter((n) => n.startsWith('knob.')).sort()).toEqual(
      ['knob.batchSize', 'knob.contextLength', 'knob.offload(0=local,1=cloud,2=pause)', 'knob.pacingMs', 'knob.severity(0=none..6=shutdown)', 'knob.threads', 'knob.tierIndex'],
    );

    const changes = steps.filter((s) => s.changed);
    expect(changes.length).toBeGreaterThan(6); // the script really climbs and descends the ladder
    const instants = ev.filter((e) => e.ph === 'i');
    expect(instants.length).toBe(changes.length);
    // The first is the initial decision (marked), the rest are the changes.
    expect(instants.filter((e) => (e.args as { initial?: boolean }).initial).length).toBe(1);
    instants.forEach((e, k) => {
      expect(e.ts).toBe(changes[k].decision.t_ms * 1000);
      const args = e.args as { tier: string; reasons: { message: string }[]; why: string };
      expect(args.tier).toBe(changes[k].decision.tier);
      expect(args.reasons[0].message).toBe(changes[k].decision.reasons[0].message);
      expect(args.why).toContain('skin_c');
    });
  });

  it('never writes a missing or NaN reading as a counter value', async () => {
    const doc = await exportSteps(scriptedRun(300, 5));
    const mem = doc.traceEvents.filter((e) => e.ph === 'C' && e.name === 'mem_avail_mb');
    expect(mem.length).toBe(1); // constant 3000 when present; the gaps are not zeros
    expect((mem[0].args as Record<string, number>).MiB).toBe(3000);
    for (const e of doc.traceEvents.filter((x) => x.ph === 'C')) {
      for (const v of Object.values(e.args as Record<string, number>)) expect(Number.isFinite(v)).toBe(true);
    }
  });

  it('tier, severity and offload slices tile the run without gaps or overlaps', async () => {
    const steps = scriptedRun(1000);
    const doc = await exportSteps(steps);
    const endUs = steps.at(-1)!.sample.t_ms * 1000;
    for (const tid of [TRACKS.tier, TRACKS.severity, TRACKS.offload]) {
      const slices = doc.traceEvents.filter((e) => e.ph === 'X' && e.tid === tid) as { ts: number; dur: number; name: string }[];
      expect(slices.length).toBeGreaterThan(0);
      expect(slices[0].ts).toBe(0);
      for (let i = 1; i < slices.length; i++) {
        expect(slices[i].ts).toBe(slices[i - 1].ts + slices[i - 1].dur);
        expect(slices[i].name).not.toBe(slices[i - 1].name);
      }
      const last = slices.at(-1)!;
      expect(last.ts + last.dur).toBe(endUs);
    }
    // Time in tier from the slices equals the time in tier counted from the steps.
    const tierSlices = doc.traceEvents.filter((e) => e.ph === 'X' && e.tid === TRACKS.tier) as { dur: number; name: string }[];
    const fromSlices: Record<string, number> = {};
    for (const s of tierSlices) fromSlices[s.name] = (fromSlices[s.name] ?? 0) + s.dur / 1000;
    const fromSteps: Record<string, number> = {};
    for (let i = 0; i + 1 < steps.length; i++) fromSteps[steps[i].decision.tier] = (fromSteps[steps[i].decision.tier] ?? 0) + (steps[i + 1].sample.t_ms - steps[i].sample.t_ms);
    expect(fromSlices).toEqual(fromSteps);
  });

  it('names the process and every slice thread', async () => {
    const doc = await exportSteps(scriptedRun(50));
    const meta = doc.traceEvents.filter((e) => e.ph === 'M');
    expect(meta.find((e) => e.name === 'process_name')?.args).toEqual({ name: 'edgegov replay test' });
    const threads = meta.filter((e) => e.name === 'thread_name').map((e) => (e.args as { name: string }).name).sort();
    expect(threads).toEqual(['decisions', 'offload', 'severity', 'tier']);
  });

  it('holds for arbitrary decision sequences (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 2000 }), tier: fc.integer({ min: 0, max: 3 }), sev: fc.constantFrom(...SEVERITIES), skin: fc.option(fc.double({ min: 20, max: 60, noNaN: true }), { nil: undefined }) }), { minLength: 1, maxLength: 60 }),
        async (script) => {
          let t = 0;
          let prev: Decision | undefined;
          const steps = script.map((s) => {
            t += s.dt;
            const decision = decisionAt(t, s.tier, s.sev, s.skin);
            const changed = prev === undefined || !sameKnobs(prev, decision);
            prev = decision;
            return { sample: { t_ms: t, skin_c: s.skin } as Sample, decision, changed };
          });
          const doc = await exportSteps(steps);
          expect(validateTraceDoc(doc)).toEqual([]);
          expect(doc.traceEvents.filter((e) => e.ph === 'i').length).toBe(steps.filter((s) => s.changed).length);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('the validator catches what it claims to', () => {
    expect(validateTraceDoc([])).toEqual(['top level must be an object (the object form)']);
    const bad = {
      traceEvents: [
        { name: 'a', ph: 'C', ts: 10, pid: 1, args: { v: 1 } },
        { name: 'a', ph: 'C', ts: 5, pid: 1, args: { v: 2 } },
        { name: 'b', ph: 'X', ts: 1, pid: 1, tid: 2 },
        { name: 'c', ph: 'B', ts: 1, pid: 1, tid: 3 },
        { name: 'd', ph: 'i', ts: '7', pid: 1 },
        { name: 'e', ph: 'E', ts: 1, pid: 1, tid: 4 },
      ],
    };
    const p = validateTraceDoc(bad).join('\n');
    expect(p).toMatch(/goes back in time/);
    expect(p).toMatch(/X needs a non-negative dur/);
    expect(p).toMatch(/never ended/);
    expect(p).toMatch(/ts must be a finite/);
    expect(p).toMatch(/E without a matching B/);
  });

  it('an unwritable path is an environment error, not a crash', () => {
    expect(() => createPerfettoWriter('/nonexistent-dir/x/trace.json', { processName: 'x' })).toThrow(/no such file/);
  });
});
