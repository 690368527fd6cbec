/**
 * Property: whatever an engineer does to a shipped policy — delete, duplicate, retype,
 * reorder or rename nodes of the YAML tree, or mangle the raw text — the loader never
 * throws, and reports either a compiled policy or problems with real positions. Through the
 * real CLI (many mutated files in one call), `validate` exits 0 or 1 and prints no stack trace.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { isMap, isPair, isScalar, isSeq, parseDocument, Scalar, visit, type Document, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePolicy, type ParseResult } from '../../src/policy/load.js';
import { hasStackTrace, repoRoot, runCli } from '../helpers/cli.js';
import { SEVERITIES } from '../../src/core/severity.js';
import type { Policy } from '../../src/policy/types.js';

const shipped = readdirSync(join(repoRoot, 'policies')).filter((f) => f.endsWith('.yaml')).sort();
const texts = shipped.map((f) => readFileSync(join(repoRoot, 'policies', f), 'utf8'));

type Op =
  | { kind: 'delete' | 'duplicate' | 'reorder' | 'rename'; node: number; item: number; other: number; text: string }
  | { kind: 'retype'; node: number; item: number; value: unknown };

const leaf = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('45C', '2s', '300MiB', '4.5W', '20%', 'q4_k_m', 'lean', 'severe', 'rising', '45CC', '-1', '1e999', 'unlimited', 'off'),
);
const value = fc.oneof(leaf, fc.array(leaf, { maxLength: 3 }), fc.dictionary(fc.constantFrom('set', 'clear', 'max', 'name', 'x', 'light'), leaf, { maxKeys: 3 }));

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('delete', 'duplicate', 'reorder', 'rename') as fc.Arbitrary<'delete' | 'duplicate' | 'reorder' | 'rename'>, node: fc.nat(), item: fc.nat(), other: fc.nat(), text: fc.string({ minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('retype' as const), node: fc.nat(), item: fc.nat(), value }),
);

function collections(doc: Document): (YAMLMap | YAMLSeq)[] {
  const out: (YAMLMap | YAMLSeq)[] = [];
  visit(doc, { Map: (_, n) => void out.push(n), Seq: (_, n) => void out.push(n) });
  return out;
}

/** Applies one tree mutation in place. */
function apply(doc: Document, o: Op): void {
  const cols = collections(doc);
  if (cols.length === 0) return;
  const col = cols[o.node % cols.length];
  const items = col.items as unknown[];
  if (items.length === 0) return;
  const i = o.item % items.length;
  switch (o.kind) {
    case 'delete':
      items.splice(i, 1);
      break;
    case 'duplicate':
      items.splice(i, 0, (items[i] as Node | Pair).clone ? (items[i] as Node).clone() : items[i]);
      break;
    case 'reorder': {
      const j = o.other % items.length;
      [items[i], items[j]] = [items[j], items[i]];
      break;
    }
    case 'rename': {
      const it = items[i];
      if (isPair(it) && isScalar(it.key)) it.key = new Scalar(String(it.key.value) + o.text);
      break;
    }
    case 'retype': {
      const v = doc.createNode(o.value);
      if (isMap(col)) (items[i] as Pair).value = v;
      else if (isSeq(col)) items[i] = v;
      break;
    }
  }
}

function checkResult(r: ParseResult, text: string): void {
  const lines = text.split('\n').length;
  if (r.policy) {
    expect(r.problems).toEqual([]);
    checkInvariants(r.policy);
  } else {
    expect(r.problems.length).toBeGreaterThan(0);
    for (const p of r.problems) {
      expect(p.line).toBeGreaterThanOrEqual(1);
      expect(p.line).toBeLessThanOrEqual(lines + 1);
      expect(p.col).toBeGreaterThanOrEqual(1);
      expect(p.message.length).toBeGreaterThan(0);
    }
  }
}

/** What acceptance promises the core: if the loader says valid, these hold. */
function checkInvariants(p: Policy): void {
  const tierIdx = new Map(p.tiers.map((t, i) => [t.name, i]));
  expect(tierIdx.has(p.control.safeTier)).toBe(true);
  for (const l of p.limits) {
    for (let i = 0; i < l.levels.length; i++) {
      const { setAt, clearAt } = l.levels[i];
      expect(l.direction === 'rising' ? clearAt < setAt : clearAt > setAt).toBe(true);
      if (i > 0) expect(l.direction === 'rising' ? setAt > l.levels[i - 1].setAt : setAt < l.levels[i - 1].setAt).toBe(true);
    }
  }
  for (let i = 1; i < p.tiers.length; i++) {
    expect(p.tiers[i].contextLength).toBeLessThanOrEqual(p.tiers[i - 1].contextLength);
    expect(p.tiers[i].batchSize).toBeLessThanOrEqual(p.tiers[i - 1].batchSize);
    expect(p.tiers[i].pacingMs).toBeGreaterThanOrEqual(p.tiers[i - 1].pacingMs);
  }
  for (const t of p.tiers) expect(p.model.quants.some((q) => q.name === t.quant)).toBe(true);
  let prev = 0;
  for (const s of SEVERITIES) {
    const cap = p.rules.severityCaps[s];
    if (cap === undefined) continue;
    const idx = tierIdx.get(cap)!;
    expect(idx).toBeGreaterThanOrEqual(prev);
    prev = idx;
  }
}

function mutateTree(base: string, ops: Op[]): string {
  const doc = parseDocument(base);
  for (const o of ops) apply(doc, o);
  try {
    return doc.toString();
  } catch {
    return base; // the yaml library could not print this tree; nothing to test
  }
}

const rawEdit = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), s: fc.string({ maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), c: fc.integer({ min: 0, max: 0xff }) }),
);
type RawEdit = { kind: 'insert'; at: number; s: string } | { kind: 'delete'; at: number; n: number } | { kind: 'truncate'; at: number } | { kind: 'byte'; at: number; c: number };

function mutateText(base: string, edits: RawEdit[]): string {
  let t = base;
  for (const e of edits) {
    const at = t.length === 0 ? 0 : e.at % t.length;
    if (e.kind === 'insert') t = t.slice(0, at) + e.s + t.slice(at);
    else if (e.kind === 'delete') t = t.slice(0, at) + t.slice(at + e.n);
    else if (e.kind === 'truncate') t = t.slice(0, at);
    else t = t.slice(0, at) + String.fromCharCode(e.c) + t.slice(at + 1);
  }
  return t;
}

describe('mutated shipped policies (in-process)', () => {
  it('tree mutations: parsePolicy never throws and always explains itself', () => {
    fc.assert(
      fc.property(fc.nat({ max: texts.length - 1 }), fc.array(op, { minLength: 1, maxLength: 4 }), (k, ops) => {
        const text = mutateTree(texts[k], ops);
        checkResult(parsePolicy(text, 'mutated.yaml'), text);
      }),
      { numRuns: 400 },
    );
  }, 120_000);

  it('raw text mutations: parsePolicy never throws and always explains itself', () => {
    fc.assert(
      fc.property(fc.nat({ max: texts.length - 1 }), fc.array(rawEdit, { minLength: 1, maxLength: 3 }), (k, edits) => {
        const text = mutateText(texts[k], edits as RawEdit[]);
        checkResult(parsePolicy(text, 'mutated.yaml'), text);
      }),
      { numRuns: 400 },
    );
  }, 120_000);
});

describe('mutated shipped policies (through the CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgegov-policy-prop-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('validate on 150 mutated files in one call exits 0 or 1, with no stack trace', () => {
    const files: string[] = [];
    const samples = fc.sample(
      fc.tuple(fc.nat({ max: texts.length - 1 }), fc.array(op, { minLength: 1, maxLength: 4 }), fc.array(rawEdit, { maxLength: 2 })),
      { numRuns: 150, seed: 20261128 },
    );
    samples.forEach(([k, ops, edits], i) => {
      const f = join(dir, `m${i}.yaml`);
      writeFileSync(f, mutateText(mutateTree(texts[k], ops), edits as RawEdit[]));
      files.push(f);
    });
    const r = runCli(['validate', ...files]);
    expect([0, 1]).toContain(r.code);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(hasStackTrace(r.stdout)).toBe(false);
    // Every file is accounted for: either "valid" on stdout or at least one problem line on stderr.
    for (const f of files) {
      const valid = r.stdout.includes(`${f}: valid\n`);
      const problem = r.stderr.includes(`${f}:`);
      expect(valid !== problem).toBe(true);
    }
  }, 120_000);
});

describe('regression found by the tree mutations', () => {
  it('a hysteresis below the 1e-9 rounding (5e-324) is an error at its place, not a limit that never clears', () => {
    const base = readFileSync(join(repoRoot, 'policies', 'default.yaml'), 'utf8');
    const doc = parseDocument(base);
    const limits = doc.get('limits') as { items: { key: unknown; value: { set: (k: string, v: unknown) => void } }[] };
    limits.items[0].value.set('hysteresis', 5e-324);
    const text = doc.toString();
    const r = parsePolicy(text, 'tiny-band.yaml');
    expect(r.policy).toBeUndefined();
    expect(r.problems.some((p) => /hysteresis .* too small/.test(p.message))).toBe(true);
    checkResult(r, text);
  });
});
