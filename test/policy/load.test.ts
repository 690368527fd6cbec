/** loadPolicyFile: the entry point the daemon, replay and simulator use. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem, loadPolicyFile, parsePolicy } from '../../src/policy/load.js';
import { EnvError, UserError } from '../../src/util/errors.js';
import { repoRoot } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'edgegov-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadPolicyFile', () => {
  it('returns the compiled policy for a valid file', async () => {
    const p = await loadPolicyFile(join(repoRoot, 'test/fixtures/policies/valid/minimal.yaml'));
    expect(p.name).toBe('fixture');
    expect(p.file).toBe(join(repoRoot, 'test/fixtures/policies/valid/minimal.yaml'));
    expect(p.tiers.map((t) => t.name)).toEqual(['full', 'lean', 'safe']);
    const vskin = p.sensors.find((s) => s.name === 'vskin_c');
    expect(vskin?.source).toEqual({ kind: 'weighted', terms: [{ zone: 'skin-therm', weight: 0.6 }, { zone: 'batt-therm', weight: 0.4 }], offset: 1 });
    expect(p.rules.severityCaps).toEqual({ none: 'full', light: 'lean', moderate: 'lean', severe: 'safe', critical: 'safe', emergency: 'safe', shutdown: 'safe' });
    expect(p.control).toMatchObject({ samplePeriodMs: 500, dwellMs: 10_000, safeTier: 'safe', maxEscalateStep: Infinity, leaseTtlMs: 3000 });
    expect(p.model.kvBytesPerToken).toBe(32 * 1024);
    expect(p.model.quants[0].weightsBytes).toBe(1_300_000_000);
  });

  it('throws UserError whose details are the file:line:col lines', async () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'version: 1\nname: x\ncontrol:\n  dwel: 2s\n');
    const err = await loadPolicyFile(f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    const ue = err as UserError;
    expect(ue.message).toMatch(/^.*bad\.yaml: invalid policy \(\d+ problems\)$/);
    expect(ue.details).toContain(`${f}:4:3: control.dwel: unknown key "dwel"; did you mean "dwell"?`);
    expect(ue.details).toContain(`${f}:3:1: control: missing required key "safeTier"`);
    expect(ue.details).toContain(`${f}:1:1: missing required key "sensors"`);
    expect(ue.details.every((d) => d.startsWith(`${f}:`))).toBe(true);
  });

  it('throws EnvError when the file cannot be read', async () => {
    await expect(loadPolicyFile(join(dir, 'nope.yaml'))).rejects.toBeInstanceOf(EnvError);
    await expect(loadPolicyFile(dir)).rejects.toThrow(/is a directory/);
    if (process.getuid?.() !== 0) {
      const f = join(dir, 'secret.yaml');
      writeFileSync(f, 'version: 1\n');
      chmodSync(f, 0o000);
      await expect(loadPolicyFile(f)).rejects.toThrow(/permission denied/);
    }
  });

  it('reports invalid UTF-8 at its position', async () => {
    const f = join(dir, 'latin1.yaml');
    writeFileSync(f, Buffer.from('version: 1\nname: caf\xe9\n', 'latin1'));
    const err = (await loadPolicyFile(f).catch((e: unknown) => e)) as UserError;
    expect(err.details).toEqual([`${f}:2:10: not UTF-8 text; a policy is UTF-8 YAML`]);
  });
});

describe('parsePolicy', () => {
  it('accepts a leading BOM and CRLF line ends, with positions intact', () => {
    const text = '\ufeffversion: 1\r\nname: x\r\ncontrol:\r\n  dwel: 2s\r\n';
    const lines = parsePolicy(text, 'crlf.yaml').problems.map(formatProblem);
    expect(lines).toContain('crlf.yaml:4:3: control.dwel: unknown key "dwel"; did you mean "dwell"?');
  });

  it('carries an explicit per-limit forecast choice, and leaves it undefined otherwise', async () => {
    const base = (await import('node:fs')).readFileSync(join(repoRoot, 'test/fixtures/policies/valid/minimal.yaml'), 'utf8');
    const text = base.replace('  mem_avail_mb:\n    moderate:', '  mem_avail_mb:\n    forecast: false\n    moderate:');
    const { policy, problems } = parsePolicy(text, 'f.yaml');
    expect(problems).toEqual([]);
    expect(policy?.limits.find((l) => l.signal === 'mem_avail_mb')?.forecast).toBe(false);
    expect(policy?.limits.find((l) => l.signal === 'soc_c')).not.toHaveProperty('forecast');
  });

  it('compiles model.switchCost to ms, unnamed knobs free; leaves it out when not given', async () => {
    const base = (await import('node:fs')).readFileSync(join(repoRoot, 'test/fixtures/policies/valid/minimal.yaml'), 'utf8');
    expect(parsePolicy(base, 'f.yaml').policy?.model).not.toHaveProperty('switchCost');
    const text = base.replace('  overhead: 100MiB\n', '  overhead: 100MiB\n  switchCost: { quant: 1.5min, context: 300ms }\n');
    const { policy, problems } = parsePolicy(text, 'f.yaml');
    expect(problems).toEqual([]);
    expect(policy?.model.switchCost).toEqual({ quantMs: 90_000, contextMs: 300, batchMs: 0, threadsMs: 0, pacingMs: 0 });
  });

  it('rejects a switch cost that is not a duration, or an unknown knob, at its line and column', async () => {
    const base = (await import('node:fs')).readFileSync(join(repoRoot, 'test/fixtures/policies/valid/minimal.yaml'), 'utf8');
    const text = base.replace('  overhead: 100MiB\n', '  overhead: 100MiB\n  switchCost:\n    quant: 2GB\n    thread: 0s\n');
    const lines = parsePolicy(text, 'f.yaml').problems.map(formatProblem);
    expect(lines.some((l) => /^f\.yaml:35:12: model\.switchCost\.quant: .*duration/.test(l)), lines.join('\n')).toBe(true);
    expect(lines.some((l) => /^f\.yaml:36:5: model\.switchCost\.thread: unknown key "thread"; did you mean "threads"\?/.test(l)), lines.join('\n')).toBe(true);
  });

  it('formatProblem omits an empty path', () => {
    expect(formatProblem({ file: 'a.yaml', line: 1, col: 1, message: 'the policy is empty' })).toBe('a.yaml:1:1: the policy is empty');
    expect(formatProblem({ file: 'a.yaml', line: 2, col: 5, message: 'm', path: 'control.dwell' })).toBe('a.yaml:2:5: control.dwell: m');
  });
});
