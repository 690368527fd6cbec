/** `edgegov replay` through the built CLI: exit codes, exact messages, stdout purity, flags. */
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasStackTrace, repoRoot, runCli } from '../helpers/cli.js';
import { createTraceWriter } from '../../src/trace/writer.js';
import { heatingScenario } from './scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'edgegov-replay-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const policy = join(repoRoot, 'policies', 'default.yaml');
const hasPolicy = existsSync(policy);
let n = 0;
const file = (name: string, text: string | Buffer) => {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, text);
  return p;
};

let good = '';
beforeAll(async () => {
  good = join(dir, 'heat.csv');
  const samples = heatingScenario({ samples: 1200, dropout: true });
  const w = createTraceWriter(good, [...new Set(samples.flatMap((s) => Object.keys(s)))]);
  for (const s of samples) w.write(s);
  await w.close();
});

const BAD = [
  { name: 'non-numeric', text: 't_ms,soc_c\n0,40\n500,abc\n1000,41\n', line: 3, detail: "column 'soc_c': not a number: \"abc\"", kind: 'non-numeric' },
  { name: 'reordered time', text: 't_ms,soc_c\n0,40\n1000,41\n500,42\n1500,43\n', line: 4, detail: "column 't_ms': time goes backwards: 500 after 1000", kind: 'time-backwards' },
  { name: 'truncated', text: 't_ms,soc_c,skin_c\n0,40,30\n500,41,30\n1000,4', line: 4, detail: "column 'skin_c': truncated last line: 2 of 3 cells and no final newline", kind: 'truncated' },
  { name: 'empty', text: '', line: 1, detail: 'empty trace: no header row', kind: 'empty-trace' },
  { name: 'header only', text: 't_ms,soc_c\n', line: 1, detail: 'empty trace: no samples', kind: 'empty-trace' },
  { name: 'wrong cell count', text: 't_ms,soc_c\n0,40\n500\n1000,41\n', line: 3, detail: "column 'soc_c': row has 1 cell, the header has 2 (missing from here on)", kind: 'cell-count' },
];

describe.skipIf(!hasPolicy)('edgegov replay (CLI)', () => {
  for (const c of BAD) {
    it(`${c.name}: strict exits 1 with file:line and column, no stack trace`, () => {
      const p = file(`${c.name}.csv`, c.text);
      const r = runCli(['replay', p, '--policy', policy]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.split('\n')).toContain(`${p}:${c.line}: ${c.detail}`);
      expect(r.stdout).toBe('');
      expect(hasStackTrace(r.stderr)).toBe(false);
    });
    it(`${c.name}: lenient counts the skip in the --json summary`, () => {
      const p = file(`${c.name}.csv`, c.text);
      const r = runCli(['replay', p, '--policy', policy, '--lenient', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const s = JSON.parse(r.stdout);
      expect(s.skippedRows).toBe(1);
      expect(s.skippedByKind).toEqual({ [c.kind]: 1 });
      expect(s.warnings.join('\n')).toContain(`${p}:${c.line}: ${c.detail}`);
    });
  }

  it('missing t_ms column: exit 1 in both modes', () => {
    const p = file('nots.csv', 'time,soc_c\n0,40\n');
    for (const mode of ['--strict', '--lenient']) {
      const r = runCli(['replay', p, '--policy', policy, mode]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`${p}:1: column 't_ms': missing`);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
  });

  it('binary garbage: exit 1, no stack trace', () => {
    const p = file('garbage.csv', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x0a, 0x01]));
    const r = runCli(['replay', p, '--policy', policy]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`${p}:1: binary data, not a text trace`);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('unreadable trace exits 2; a broken policy exits 1 naming file:line:col', () => {
    const missing = runCli(['replay', join(dir, 'nope.csv'), '--policy', policy]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.csv: no such file/);
    const badPolicy = file('bad.yaml', 'version: 1\nname: x\nsensors: {}\nlimits: {}\nbogus: 1\n');
    const r = runCli(['replay', good, '--policy', badPolicy]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${badPolicy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('--json prints only the summary; --decisions writes the first decision and every change', () => {
    const out = join(dir, 'changes.jsonl');
    const r = runCli(['replay', good, '--policy', policy, '--json', '--decisions', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const s = JSON.parse(r.stdout);
    expect(s.samples).toBe(1200);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(s.decisionChanges + 1);
    expect(lines.at(-1).t_ms).toBeLessThanOrEqual(s.finalDecision.t_ms);
    for (let i = 1; i < lines.length; i++) expect(lines[i].t_ms).toBeGreaterThan(lines[i - 1].t_ms);
  });

  it('--from/--to with units cut the window; a bad value is exit 1 naming the flag', () => {
    const r = runCli(['replay', good, '--policy', policy, '--json', '--from', '1min', '--to', '240']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.window).toEqual({ fromMs: 60_000, toMs: 240_000 });
    expect(s.samples).toBe(361);
    expect(s.durationS).toBe(180);
    const bad = runCli(['replay', good, '--policy', policy, '--from', '10 parsecs']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--from: '10 parsecs' is not a time/);
    const reversed = runCli(['replay', good, '--policy', policy, '--from', '5min', '--to', '1min']);
    expect(reversed.code).toBe(1);
    expect(reversed.stderr).toMatch(/--to \(1min\) is before --from \(5min\)/);
  });

  it('human summary when piped: no progress bar, no control characters', () => {
    const r = runCli(['replay', good, '--policy', policy]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^replay .* with policy 'default-phone' \(strict\)\n/);
    expect(r.stdout).toMatch(/samples +1200 over 10m00s/);
    expect(r.stdout + r.stderr).not.toMatch(/\x1b|\r/);
  });

  // `script` gives the child a real pseudo-terminal, the only way to see what a user at a terminal sees.
  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasScript)('on a TTY a progress bar is drawn on stderr, and erased; never with --json', () => {
    const cmd = (extra: string) =>
      `stty cols 100; ${JSON.stringify(process.execPath)} ${JSON.stringify(join(repoRoot, 'bin', 'edgegov.js'))} replay ${JSON.stringify(good)} --policy ${JSON.stringify(policy)} ${extra} >/dev/null`;
    const tty = spawnSync('script', ['-qec', cmd(''), '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(tty.stdout).toMatch(/\r\x1b\[Kreplay \[[#-]+\] +\d+%/);
    expect(tty.stdout.endsWith('\r\x1b[K')).toBe(true);
    const json = spawnSync('script', ['-qec', cmd('--json'), '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(json.stdout).toBe('');
  });

  it('JSONL traces replay the same as CSV', () => {
    const jsonl = file('heat.jsonl', readFileSync(good, 'utf8').trimEnd().split('\n').slice(1).map((line) => {
      const cols = readFileSync(good, 'utf8').split('\n', 1)[0].split(',');
      const o: Record<string, number> = {};
      line.split(',').forEach((v, i) => { if (v !== '') o[cols[i]] = Number(v); });
      return JSON.stringify(o);
    }).join('\n') + '\n');
    const a = JSON.parse(runCli(['replay', good, '--policy', policy, '--json']).stdout);
    const b = JSON.parse(runCli(['replay', jsonl, '--policy', policy, '--json']).stdout);
    expect({ ...b, trace: '' }).toEqual({ ...a, trace: '' });
  });
});

describe.skipIf(!hasPolicy)('replay: a window with no samples says where the trace is', () => {
  it('warns on stderr, and in the JSON summary, instead of an empty result that looks real', () => {
    const p = file('late.csv', 't_ms,soc_c\n5000,40\n6000,41\n');
    const human = runCli(['replay', p, '--policy', policy, '--from', '10']);
    expect(human.code).toBe(0);
    expect(human.stderr).toContain('warning: no samples in the window 10 s–end: the trace runs from 5 s to 6 s (--from/--to: a bare number is seconds)');
    const json = runCli(['replay', p, '--policy', policy, '--to', '1s', '--json']);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    expect((JSON.parse(json.stdout) as { warnings: string[] }).warnings).toContain('no samples in the window 0 s–1 s: the trace starts at 5 s (--from/--to: a bare number is seconds)');
    // A window with samples stays quiet.
    const ok = runCli(['replay', p, '--policy', policy, '--from', '5.5', '--json']);
    expect((JSON.parse(ok.stdout) as { warnings: string[]; samples: number }).warnings.filter((w) => w.startsWith('no samples'))).toEqual([]);
  });
});
