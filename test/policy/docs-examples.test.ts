/**
 * What a policy author meets first: the examples in README.md and docs/policy.md, and the
 * messages for the commonest slips. A whole-policy example (it starts with the editor's
 * schema line, as a policy file does) must validate exactly as written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, parsePolicy } from '../../src/policy/load.js';
import { repoRoot } from '../helpers/cli.js';

function yamlBlocks(doc: string): { text: string; line: number }[] {
  const text = readFileSync(join(repoRoot, doc), 'utf8');
  const out: { text: string; line: number }[] = [];
  const re = /```yaml\n([\s\S]*?)```/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ text: m[1], line: text.slice(0, m.index).split('\n').length + 1 });
  return out;
}

const minimal = `version: 1
name: t
sensors:
  soc_c: { from: { max: ["cpu*"] } }
limits:
  soc_c: { light: 65C, moderate: 75C }
model:
  name: m
  kvBytesPerToken: 112KiB
  overhead: 150MiB
  quants: { q8_0: { weights: 1GB, qualityCost: 0.0004 } }
tiers:
  - { name: full, quant: q8_0, contextLength: 4096, batchSize: 256 }
  - { name: lean, quant: q8_0, contextLength: 2048, batchSize: 128 }
rules:
  severityCaps: { none: full, moderate: lean }
control:
  safeTier: lean
`;

describe('policy examples in the docs', () => {
  for (const doc of ['README.md', 'docs/policy.md']) {
    const whole = yamlBlocks(doc).filter((b) => b.text.startsWith('# yaml-language-server') && b.text.trim().split('\n').length > 1);
    it(`${doc}: has whole-policy examples`, () => expect(whole.length).toBeGreaterThan(0));
    for (const b of whole) {
      it(`${doc}:${b.line}: the example policy validates as written`, () => {
        const r = parsePolicy(b.text, `${doc}:${b.line}`);
        expect(r.problems.map(formatProblem)).toEqual([]);
        expect(r.policy).toBeDefined();
      });
    }
  }
});

describe('sensor fragments in docs/policy.md', () => {
  // Fragments that show onFault/fallback are checked inside the minimal policy (which has a `lean` tier).
  const fragments = yamlBlocks('docs/policy.md').filter((b) => b.text.startsWith('sensors:\n') && /onFault|fallback/.test(b.text));
  it('has an onFault/fallback example', () => expect(fragments.length).toBeGreaterThan(0));
  for (const b of fragments) {
    it(`docs/policy.md:${b.line}: the sensors example validates inside a policy`, () => {
      const text = minimal.replace('sensors:\n  soc_c: { from: { max: ["cpu*"] } }\n', b.text);
      expect(text).not.toBe(minimal);
      const r = parsePolicy(text, `docs/policy.md:${b.line}`);
      expect(r.problems.map(formatProblem)).toEqual([]);
      expect(r.policy!.sensors.find((x) => x.name === 'skin_c')?.onFault).toEqual({ kind: 'cap', tier: 'lean' });
    });
  }
});

describe('messages for common slips', () => {
  it('a missing version is a missing key, not "got undefined"', () => {
    const r = parsePolicy(minimal.replace('version: 1\n', ''), 'p.yaml');
    expect(r.problems.map(formatProblem)).toEqual(['p.yaml:1:1: missing required key "version"']);
  });

  it('a wrong version still names the value', () => {
    const r = parsePolicy(minimal.replace('version: 1', 'version: 2'), 'p.yaml');
    expect(r.problems.map(formatProblem)).toEqual(['p.yaml:1:10: version: must be 1, got 2']);
  });

  it('an unknown key with no close match lists the keys allowed there', () => {
    const r = parsePolicy(minimal.replace('max: ["cpu*"]', 'maks: ["cpu*"]'), 'p.yaml');
    expect(r.problems.map(formatProblem)).toEqual([
      'p.yaml:4:20: sensors.soc_c.from.maks: unknown key "maks"; allowed here: max, min, avg, weighted, offset',
    ]);
  });

  it('an unknown sensor name lists the canonical signals', () => {
    const r = parsePolicy(minimal.replace('soc_c: { from', 'cpu_c: { from'), 'p.yaml');
    const line = r.problems.map(formatProblem).find((l) => l.includes('cpu_c'));
    expect(line).toMatch(/^p\.yaml:4:3: sensors\.cpu_c: unknown key "cpu_c"; allowed here: soc_c, skin_c, .*tok_s$/);
  });

  it('a close slip still gets "did you mean" and no list', () => {
    const r = parsePolicy(minimal.replace('safeTier', 'safeTeir'), 'p.yaml');
    const lines = r.problems.map(formatProblem);
    expect(lines).toContain('p.yaml:18:3: control.safeTeir: unknown key "safeTeir"; did you mean "safeTier"?');
  });

  it('durations in messages read in whole seconds when they are', () => {
    const r = parsePolicy(minimal.replace('  safeTier: lean\n', '  safeTier: lean\n  dwell: -10s\n'), 'p.yaml');
    expect(r.problems.map(formatProblem)).toEqual(['p.yaml:19:10: control.dwell: must be zero or more, got -10s']);
  });
});
