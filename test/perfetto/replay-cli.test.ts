/**
 * `edgegov replay --perfetto --report` end to end (built CLI, real files): the Perfetto
 * export has one counter track per signal present in the trace and one instant event per
 * decision change the replay reports; the report is written; piped stderr carries no
 * progress-bar characters.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, hasStackTrace } from '../helpers/cli.js';
import { syntheticSamples } from '../report/synthetic.js';
import { validateTraceDoc, type TraceDoc } from './validate-trace-events.js';

const tmp = mkdtempSync(join(tmpdir(), 'edgegov-replay-perfetto-'));
const trace = join(tmp, 'heat.csv');
const COLUMNS = ['t_ms', 'soc_c', 'skin_c', 'battery_c', 'battery_w', 'battery_pct', 'charging', 'mem_avail_mb', 'mem_total_mb', 'psi_mem_some_avg10', 'tok_s'];

beforeAll(() => {
  const rows = [COLUMNS.join(',')];
  for (const s of syntheticSamples(3600, 2, 1800)) rows.push(COLUMNS.map((c) => (s[c] === undefined ? '' : String(s[c]))).join(','));
  writeFileSync(trace, rows.join('\n') + '\n');
});

describe('replay --perfetto / --report', () => {
  it('exports one counter per signal present and one instant per decision change', () => {
    const perfetto = join(tmp, 'trace.json');
    const report = join(tmp, 'report.html');
    const decisions = join(tmp, 'decisions.jsonl');
    const r = runCli(['replay', trace, '--policy', 'policies/default.yaml', '--json', '--perfetto', perfetto, '--report', report, '--decisions', decisions]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { decisionChanges: number; samples: number };
    expect(summary.decisionChanges).toBeGreaterThan(2);

    const doc = JSON.parse(readFileSync(perfetto, 'utf8')) as TraceDoc;
    expect(validateTraceDoc(doc)).toEqual([]);
    const counters = new Set(doc.traceEvents.filter((e) => e.ph === 'C').map((e) => e.name as string));
    const signalTracks = [...counters].filter((n) => !n.startsWith('knob.')).sort();
    expect(signalTracks).toEqual(COLUMNS.filter((c) => c !== 't_ms').sort());

    const instants = doc.traceEvents.filter((e) => e.ph === 'i');
    const changes = instants.filter((e) => !(e.args as { initial?: boolean }).initial);
    expect(changes.length).toBe(summary.decisionChanges);
    // The --decisions file holds the first decision and every change: the same instants, same times.
    const lines = readFileSync(decisions, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t_ms: number; tier: string; reasons: { message: string }[] });
    expect(instants.map((e) => e.ts)).toEqual(lines.map((d) => d.t_ms * 1000));
    instants.forEach((e, i) => {
      const args = e.args as { tier: string; reasons: { message: string }[] };
      expect(args.tier).toBe(lines[i].tier);
      expect(args.reasons.map((x) => x.message)).toEqual(lines[i].reasons.map((x) => x.message));
    });

    const html = readFileSync(report, 'utf8');
    expect(html).toContain('edgegov-data');
    const data = JSON.parse(html.split('<script type="application/json" id="edgegov-data">')[1].split('</script>')[0]) as { runs: { summary: { decisionChanges: number }; decisions: unknown[] }[] };
    expect(data.runs[0].summary.decisionChanges).toBe(summary.decisionChanges);
    expect(data.runs[0].decisions.length).toBe(summary.decisionChanges + 1);
  });

  it('prints no progress characters when stderr is a pipe, and says what it wrote', () => {
    const r = runCli(['replay', trace, '--policy', 'policies/default.yaml', '--report', join(tmp, 'r2.html')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/\r|\x1b\[/);
    expect(r.stderr).toContain('wrote');
  });

  it('a failed replay leaves no truncated Perfetto file behind', () => {
    const bad = join(tmp, 'bad.csv');
    writeFileSync(bad, 't_ms,soc_c\n0,40\n100,41\n200,hot\n');
    const out = join(tmp, 'bad.json');
    const r = runCli(['replay', bad, '--policy', 'policies/default.yaml', '--perfetto', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.csv:4/);
    expect(existsSync(out)).toBe(false);
  });

  it('an unwritable output path is exit 2 before the run, not a stack trace', () => {
    for (const flag of ['--report', '--perfetto']) {
      const r = runCli(['replay', trace, '--policy', 'policies/default.yaml', flag, '/nonexistent-dir/out.x']);
      expect(r.code).toBe(2);
      expect(hasStackTrace(r.stderr)).toBe(false);
      expect(r.stderr).toMatch(/nonexistent-dir/);
    }
  });
});
