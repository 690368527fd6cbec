import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildGrid } from '../../src/report/downsample.js';
import { buildReportData, renderReportHtml, TimelineRecorder } from '../../src/report/index.js';
import { jsonForScript, uplotAssets } from '../../src/report/page.js';
import type { Decision } from '../../src/core/decision.js';
import type { Sample } from '../../src/core/signals.js';
import { testPolicy } from '../helpers/policy-fixture.js';
import { recordRun, syntheticSamples } from './synthetic.js';

const policy = testPolicy();

describe('display downsampling', () => {
  it('keeps every bucket\'s min and max, so no spike is lost, within the point budget', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -50, max: 150, noNaN: true }), { minLength: 1, maxLength: 3000 }),
        fc.integer({ min: 4, max: 400 }),
        (values, maxPoints) => {
          const t = Float64Array.from(values, (_, i) => i * 100);
          const col = Float32Array.from(values);
          const grid = buildGrid([{ t_ms: t }], maxPoints);
          const y = grid.project(0, col);
          expect(grid.x.length).toBe(y.length);
          expect(y.length).toBeLessThanOrEqual(Math.max(maxPoints, values.length <= maxPoints ? values.length : 0));
          const finite = y.filter((v): v is number => v !== null);
          const round = (v: number) => Math.round(v * 1000) / 1000;
          expect(Math.max(...finite)).toBe(round(Math.max(...col)));
          expect(Math.min(...finite)).toBe(round(Math.min(...col)));
          for (let i = 1; i < grid.x.length; i++) expect(grid.x[i]).toBeGreaterThanOrEqual(grid.x[i - 1]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('leaves gaps (null) where a sensor had no reading, never zeros', () => {
    const n = 10_000;
    const t = Float64Array.from({ length: n }, (_, i) => i * 100);
    const col = Float32Array.from({ length: n }, (_, i) => (i >= 4000 && i < 6000 ? Number.NaN : 40));
    const grid = buildGrid([{ t_ms: t }], 100);
    const y = grid.project(0, col);
    expect(y.some((v) => v === null)).toBe(true);
    expect(y.filter((v) => v !== null).every((v) => v === 40)).toBe(true);
  });

  it('puts runs with different lengths on one shared time axis (compare)', () => {
    const a = { t_ms: Float64Array.from({ length: 5000 }, (_, i) => i * 500) };
    const b = { t_ms: Float64Array.from({ length: 2500 }, (_, i) => i * 500) };
    const grid = buildGrid([a, b], 1000);
    expect(grid.raw).toBe(false);
    const yb = grid.project(1, new Float32Array(2500).fill(7));
    // b ends halfway: the second half of the shared axis is a gap for it.
    expect(yb.slice(0, 400).every((v) => v === 7)).toBe(true);
    expect(yb.slice(600).every((v) => v === null)).toBe(true);
  });
});

describe('report data', () => {
  it('plots every signal present, draws the policy limits, and keeps exact numbers for the tables', () => {
    const samples = [...syntheticSamples(7200, 10, 3600)];
    // One single-sample spike: the downsampled plot and the exact table must both show it.
    (samples[33_333] as Record<string, number>).soc_c = 118.25;
    const { run } = recordRun(policy, samples);
    const data = buildReportData({ title: 't', kind: 'replay', policy, runs: [run], maxPoints: 2000 });
    const sec = data.sections[0];
    expect(data.sections).toHaveLength(1);
    expect(sec.downsampled).toBe(true);
    expect(sec.x.length).toBeLessThanOrEqual(2000);
    const temps = sec.charts.find((c) => c.id === 'temperatures')!;
    expect(temps.series.map((s) => s.label).sort()).toEqual(['battery_c', 'skin_c', 'soc_c']);
    const soc = temps.series.find((s) => s.label === 'soc_c')!;
    expect(Math.max(...soc.values.filter((v): v is number => v !== null))).toBe(118.25);
    expect(run.stats.soc_c.max).toBe(118.25);
    const socLevels = policy.limits.find((l) => l.signal === 'soc_c')!.levels.map((l) => l.setAt);
    expect(temps.lines.filter((l) => l.label.startsWith('soc_c ')).map((l) => l.value)).toEqual(socLevels);
    const ids = sec.charts.map((c) => c.id);
    for (const id of ['severity', 'tier', 'offload', 'context', 'batch', 'pacing', 'memory', 'battery', 'tok']) expect(ids).toContain(id);
    for (const c of sec.charts) for (const s of c.series) expect(s.values.length).toBe(sec.x.length);
    // Time in tier adds up to the run's duration, from every sample.
    const total = Object.values(run.timeInTierS).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(run.durationS, 6);
  });

  it('records a decision change with its reasons, and counts those past the cap', () => {
    const rec = new TimelineRecorder({ label: 'x', maxDecisions: 3 });
    const tier = policy.tiers[0];
    const mk = (t: number, i: number): Decision => ({
      t_ms: t, severity: 'none', tier: policy.tiers[i].name, tierIndex: i, quant: tier.quant, contextLength: 1, batchSize: 1,
      pacingMs: 0, offload: 'local', ttlMs: 1, safe: false, reasons: [{ rule: 'limit', message: `m${t}` }],
    });
    for (let k = 0; k < 10; k++) rec.step({ t_ms: k * 1000, skin_c: k === 5 ? undefined : 40 } as Sample, mk(k * 1000, k % 2), true);
    const run = rec.finish();
    expect(run.decisions.map((d) => d.reasons[0].message)).toEqual(['m0', 'm1000', 'm2000']);
    expect(run.decisionsOmitted).toBe(7);
    expect(run.stats.skin_c).toMatchObject({ count: 9, missing: 1, max: 40 });
    expect(Number.isNaN(run.signals.get('skin_c')![5])).toBe(true);
  });
});

describe('report page', () => {
  it('is self-contained: uPlot inlined, no external resources, data cannot break out of its script', () => {
    const rec = new TimelineRecorder({ label: 'x' });
    const evil = '</script><script>window.pwned=1</script><!--';
    const d: Decision = {
      t_ms: 0, severity: 'none', tier: 'full', tierIndex: 0, quant: 'q8_0', contextLength: 8192, batchSize: 512,
      pacingMs: 0, offload: 'local', ttlMs: 1, safe: false, reasons: [{ rule: 'limit', message: evil }],
    };
    rec.step({ t_ms: 0, soc_c: 40 } as Sample, d, true);
    rec.step({ t_ms: 1000, soc_c: 41 } as Sample, d, false);
    const html = renderReportHtml(buildReportData({ title: 'x <b>', kind: 'replay', policy, runs: [rec.finish()] }));
    expect(html).toContain('uPlot');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    // No URL anywhere but uPlot's own licence comment (the browser test also watches for requests).
    expect(html.replace(uplotAssets().js, '')).not.toMatch(/https?:\/\//);
    expect(html.split('<script').length - 1).toBe(3);
    expect(html).not.toContain(evil);
    expect(html).toContain('<title>x &lt;b&gt;</title>');
    expect(JSON.parse(jsonForScript({ m: evil })).m).toBe(evil);
  });
});
