/**
 * Bounded fuzz runs of every input parser (issue 13 item 1): the same harness as `npm run fuzz`
 * (scripts/fuzz/), a few seconds per target with a fixed seed, over mutations of the shipped
 * policies, generated traces, the protocol's documented and recorded messages, the Pixel
 * fixtures and chat bodies. Contract: a clear error naming the place, never another exception,
 * a stack trace, a hang or an unbounded allocation. Regressions found by fuzzing are below.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module without types (shared with the npm run fuzz script)
import { runTarget, TARGET_NAMES } from '../../scripts/fuzz/run.mjs';
import { TraceParser } from '../../src/trace/reader.js';
import { UserError } from '../../src/util/errors.js';
import type { Sample } from '../../src/core/signals.js';
import { parsePolicy } from '../../src/policy/load.js';
import { convertTrace } from '../../src/trace/convert.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface FuzzResult { cases: number; failures: { input: string; why: string }[] }

// A fixed number of cases per target (deterministic with the seed, whatever the machine's load);
// the duration is only an upper bound so a pathological slowdown still ends.
const PER_TARGET_CASES = Number(process.env.EDGEGOV_FUZZ_TEST_CASES ?? 300);
const PER_TARGET_MAX_MS = 20_000;

describe('fuzz: every parser keeps its contract (bounded run)', () => {
  it('has all the targets the issue names', () => {
    expect(TARGET_NAMES).toEqual(expect.arrayContaining([
      'policy', 'trace-csv-strict', 'trace-csv-lenient', 'trace-jsonl-strict', 'trace-jsonl-lenient', 'convert-expr', 'protocol', 'pixel', 'gateway-body',
    ]));
  });
  for (const target of ['policy', 'trace-csv-strict', 'trace-csv-lenient', 'trace-jsonl-strict', 'trace-jsonl-lenient', 'convert-expr', 'protocol', 'pixel', 'gateway-body']) {
    it(target, async () => {
      const r: FuzzResult = await runTarget(target, { durationMs: PER_TARGET_MAX_MS, maxCases: PER_TARGET_CASES, seed: 13 });
      expect(r.failures.map((f) => `${f.why}\n  input: ${JSON.stringify(f.input.slice(0, 300))}`)).toEqual([]);
      expect(r.cases).toBe(PER_TARGET_CASES);
    }, 60_000);
  }
});

describe('fuzz harness catches each kind of broken contract', () => {
  it('a hang: stops the worker and reports the input', async () => {
    const r: FuzzResult = await runTarget('selftest-hang', { durationMs: 5000, hangMs: 500 });
    expect(r.failures).toEqual([{ input: 'x', why: expect.stringMatching(/^hang: no progress for 500 ms/) }]);
  }, 20_000);
  it('an unbounded allocation: the heap cap stops it and the input is reported', async () => {
    const r: FuzzResult = await runTarget("selftest-alloc", { durationMs: 5000, heapMb: 160, hangMs: 15_000 });
    expect(r.failures).toEqual([{ input: 'x', why: expect.stringMatching(/unbounded allocation/) }]);
  }, 30_000);
  it('an exception of the wrong kind', async () => {
    const r: FuzzResult = await runTarget('selftest-throw', { durationMs: 200 });
    expect(r.failures[0]!.why).toMatch(/^uncaught TypeError/);
  }, 20_000);
});

describe('fuzz regressions', () => {
  const parse = (text: string, mode: 'strict' | 'lenient') => {
    const p = new TraceParser('r.jsonl', { mode, format: 'jsonl' });
    const out: Sample[] = [];
    p.push(text, out);
    p.end(out);
    return { out, stats: p.stats };
  };
  // Found by trace-jsonl-*: JSON.parse turns 1e309 into Infinity, which was accepted as a reading.
  it('JSONL: a number that overflows a double is an error naming line and column, not Infinity', () => {
    const text = '{"t_ms":0,"soc_c":40}\n{"t_ms":100,"soc_c":1e309}\n';
    try {
      parse(text, 'strict');
      expect.unreachable('strict mode must refuse the row');
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).details.join('\n')).toMatch(/^r\.jsonl:2: column 'soc_c': not a finite number/m);
    }
    const { out, stats } = parse(text, 'lenient');
    expect(out.map((s) => s.soc_c)).toEqual([40]);
    expect(stats.skippedByKind['non-numeric']).toBe(1);
    // An unknown column's overflow is simply no reading.
    expect(parse('{"t_ms":0,"vendor_x":1e309}\n', 'strict').out).toEqual([{ t_ms: 0, vendor_x: undefined }]);
  });

  // Found by policy: nested `? ` complex keys (and chained alias keys) made YAML's toJS
  // stringify each subtree into its parent's key, exponential in the depth (> 384 MB at 40).
  it('YAML: nested complex keys and alias keys to mappings are refused at once, naming line:col', () => {
    for (const [text, line] of [['? '.repeat(200) + '\n', 1], ['version: 1\na0: &a0 {x: 1}\na1: &a1 {*a0 : 1}\na2: {*a1 : 1}\n', 3]] as const) {
      const t0 = performance.now();
      const r = parsePolicy(text, 'bomb.yaml');
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(r.problems).toEqual([expect.objectContaining({ file: 'bomb.yaml', line, message: expect.stringMatching(/mapping key must be a plain name/) })]);
    }
    // A scalar alias as a key is still fine.
    expect(parsePolicy('k: &k version\n*k : 1\n', 'ok.yaml').problems.some((p) => /plain name/.test(p.message))).toBe(false);
  });
  it('trace convert: a YAML input with nested complex keys is an input error naming file:line:col', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgegov-fuzzreg-'));
    try {
      const input = path.join(dir, 'in.yaml');
      fs.writeFileSync(input, 'rows:\n  - ' + '? '.repeat(60) + '\n');
      await expect(convertTrace({ input, output: path.join(dir, 'out.csv'), maps: ['t_ms=t'] })).rejects.toSatisfy(
        (e: unknown) => e instanceof UserError && /in\.yaml:2:\d+: a mapping key must be a plain name/.test(e.details.join('\n')),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // Found by pixel: a HotThreshold of 1e20 imported as a level whose clear point (set − 0.1)
  // is the same double, so the policy the importer wrote could never clear.
  it('import-pixel: an absurd threshold is refused with file:line:col instead of writing a broken policy', async () => {
    const { importPixelConfig } = await import('../../src/policy/import-pixel.js');
    const templateText = fs.readFileSync(path.join(__dirname, '../../policies/default.yaml'), 'utf8');
    const cfg = JSON.stringify({ Sensors: [{ Name: 'cpu-0', Type: 'CPU', HotThreshold: ['NAN', 1e20, 'NAN', 'NAN', 'NAN', 'NAN', 'NAN'], HotHysteresis: [0, 0, 0, 0, 0, 0, 0] }] }, null, 2);
    try {
      importPixelConfig(cfg, 'big.json', { templateText, templateFile: 'policies/default.yaml' });
      expect.unreachable('must refuse');
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).details.join('\n')).toMatch(/^big\.json:\d+:\d+: .*"HotThreshold"\[1\] is 100000000000000000000, out of range/m);
    }
  });
});
