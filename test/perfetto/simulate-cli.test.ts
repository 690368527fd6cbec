/**
 * `edgegov simulate --perfetto --report` end to end: the trace holds a counter per signal the
 * controller saw (the --trace-out columns) plus the true temperatures, and one instant per
 * decision in the --decisions file; the report carries the simulation summary.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { validateTraceDoc, type TraceDoc } from './validate-trace-events.js';

const tmp = mkdtempSync(join(tmpdir(), 'edgegov-sim-perfetto-'));

describe('simulate --perfetto / --report', () => {
  it('writes a valid trace with every sensed signal, the truth, and each decision', () => {
    const f = (n: string) => join(tmp, n);
    const r = runCli(['simulate', '--device', 'flagship-phone', '--scenario', 'sustained-chat', '--json',
      '--perfetto', f('sim.json'), '--report', f('sim.html'), '--decisions', f('d.jsonl'), '--trace-out', f('seen.csv')]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { device: string; score: number };

    const doc = JSON.parse(readFileSync(f('sim.json'), 'utf8')) as TraceDoc;
    expect(validateTraceDoc(doc)).toEqual([]);
    const counters = new Set(doc.traceEvents.filter((e) => e.ph === 'C').map((e) => e.name as string));
    const header = readFileSync(f('seen.csv'), 'utf8').split('\n').find((l) => l.startsWith('t_ms'))!;
    const csvRows = readFileSync(f('seen.csv'), 'utf8').split('\n').filter((l) => /^\d/.test(l)).map((l) => l.split(','));
    const cols = header.split(',');
    // Every column with at least one reading in what the controller saw has its counter track.
    const present = cols.filter((c, i) => c !== 't_ms' && csvRows.some((row) => row[i] !== undefined && row[i] !== ''));
    for (const c of present) expect(counters.has(c), `counter for ${c}`).toBe(true);
    for (const c of ['true_soc_c', 'sim.local_tok_s', 'sim.power_w']) expect(counters.has(c)).toBe(true);

    const instants = doc.traceEvents.filter((e) => e.ph === 'i');
    const lines = readFileSync(f('d.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t_ms: number });
    expect(instants.map((e) => e.ts)).toEqual(lines.map((d) => d.t_ms * 1000));

    const html = readFileSync(f('sim.html'), 'utf8');
    const data = JSON.parse(html.split('<script type="application/json" id="edgegov-data">')[1].split('</script>')[0]) as { runs: { summary: { device: string; score: number } }[] };
    expect(data.runs[0].summary).toMatchObject({ device: summary.device, score: summary.score });
  });
});
