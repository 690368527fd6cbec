/**
 * The invalid-policy corpus: every fixture under test/fixtures/policies/invalid/ breaks the
 * valid base (test/fixtures/policies/valid/minimal.yaml) in one way, and must produce exactly
 * the problems in invalid-expected.ts — same line:col, same message — both in-process and
 * through the real CLI (exit 1, no stack trace).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePolicyBytes, formatProblem, parsePolicy } from '../../src/policy/load.js';
import { hasStackTrace, repoRoot, runCli } from '../helpers/cli.js';
import { EXPECTED } from './invalid-expected.js';

const DIR = 'test/fixtures/policies/invalid';
const files = readdirSync(join(repoRoot, DIR)).filter((f) => f.endsWith('.yaml')).sort();

function problemsOf(rel: string): string[] {
  const decoded = decodePolicyBytes(readFileSync(join(repoRoot, rel)), rel);
  const problems = 'problem' in decoded ? [decoded.problem] : parsePolicy(decoded.text, rel).problems;
  return problems.map(formatProblem);
}

const expectedLines = (name: string) => EXPECTED[name].map((l) => `${DIR}/${name}.yaml:${l}`);

describe('invalid policy corpus', () => {
  it('has at least 30 fixtures, each with an expectation, and no expectation without a fixture', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
    expect(files.map((f) => f.slice(0, -5)).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(files)('%s: exact problems from parsePolicy', (f) => {
    const name = f.slice(0, -5);
    expect(EXPECTED[name].length).toBeGreaterThan(0);
    expect(problemsOf(`${DIR}/${f}`)).toEqual(expectedLines(name));
  });

  // A handful one file at a time through the real CLI: exit 1, exactly the problem lines.
  it.each(['unknown-key-near-miss', 'alias-bomb', 'binary-garbage', 'hysteresis-never-clears', 'empty', 'duplicate-key'])(
    'edgegov validate %s exits 1 with the exact lines',
    (name) => {
      const r = runCli(['validate', `${DIR}/${name}.yaml`]);
      expect(r.code).toBe(1);
      expect(hasStackTrace(r.stderr)).toBe(false);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith(DIR));
      expect(lines).toEqual(expectedLines(name));
      expect(r.stderr).toMatch(/^edgegov: \d+ problems? in 1 of 1 policy$/m);
    },
  );

  it('one CLI call with ALL invalid files reports every problem of every file', { timeout: 60_000 }, () => {
    const r = runCli(['validate', ...files.map((f) => `${DIR}/${f}`)]);
    expect(r.code).toBe(1);
    expect(hasStackTrace(r.stderr)).toBe(false);
    const want = files.flatMap((f) => expectedLines(f.slice(0, -5)));
    const got = r.stderr.split('\n').filter((l) => l.startsWith(DIR));
    expect(got).toEqual(want);
    expect(r.stderr).toContain(`in ${files.length} of ${files.length} policies`);
    expect(r.stdout).toBe('');
  });

  it('--json lists every file with its problems on stdout, exit 1', () => {
    const picked = ['unit-typo-duration', 'dangling-quant'].map((n) => `${DIR}/${n}.yaml`);
    const r = runCli(['validate', '--json', 'test/fixtures/policies/valid/minimal.yaml', ...picked]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { valid: boolean; files: { file: string; valid: boolean; readable: boolean; problems: { line: number; col: number; path?: string; message: string }[] }[] };
    expect(out.valid).toBe(false);
    expect(out.files.map((f) => [f.file, f.valid, f.readable])).toEqual([
      ['test/fixtures/policies/valid/minimal.yaml', true, true],
      [picked[0], false, true],
      [picked[1], false, true],
    ]);
    const p = out.files[1].problems[0];
    expect(`${p.line}:${p.col}: ${p.path}: ${p.message}`).toBe(EXPECTED['unit-typo-duration'][0]);
  });

  it('an unreadable file exits 2 (and still reports the invalid ones)', () => {
    const r = runCli(['validate', 'test/fixtures/policies/does-not-exist.yaml', `${DIR}/version-wrong.yaml`]);
    expect(r.code).toBe(2);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.stderr).toContain('test/fixtures/policies/does-not-exist.yaml: no such file');
    expect(r.stderr).toContain(expectedLines('version-wrong')[0]);
    // The summary of the files that were read is not lost behind the exit-2 error.
    expect(r.stderr).toContain('edgegov: test/fixtures/policies/does-not-exist.yaml: no such file; 1 problem in 1 of 2 policies');
    const dir = runCli(['validate', 'test/fixtures/policies']);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toContain('is a directory');
  });
});
