/**
 * Policy loader: YAML text → compiled `Policy`, or every problem at once, each with the
 * `file:line:col` of the node it is about.
 *
 * Stages: text sanity (binary, empty) → YAML (yaml's document API with a LineCounter;
 * duplicate keys are errors; alias expansion capped against alias bombs) → schema (zod,
 * issue paths mapped back to nodes) → semantics and units (compile.ts). Schema and
 * semantic problems are reported together; YAML syntax problems stop before them because
 * the tree they would be judged on is not the one the user wrote.
 */
import { readFile } from 'node:fs/promises';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { COMPLEX_KEY_MESSAGE, complexKeyOffset } from '../util/yaml-keys.js';
import type { z } from 'zod';
import { envErrorFrom, UserError } from '../util/errors.js';
import { compilePolicy, type Path } from './compile.js';
import { didYouMean } from './did-you-mean.js';
import { policySchema } from './schema.js';
import type { Policy } from './types.js';

export interface PolicyProblem {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  message: string;
  /** Dotted path of the offending node, e.g. `limits.soc_c.moderate.clear`, `tiers[2].quant`. */
  path?: string;
}

export interface ParseResult {
  policy?: Policy;
  problems: PolicyProblem[];
}

/** Aliased nodes allowed when building the data: enough for real reuse, far below a bomb. */
export const MAX_ALIAS_COUNT = 100;

/** `file:line:col: path: message` — the one line per problem that every command prints. */
export function formatProblem(p: PolicyProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

function kindOfNode(n: unknown): string {
  if (isMap(n)) return 'a mapping';
  if (isSeq(n)) return 'a list';
  if (isScalar(n)) return n.value === null ? 'null' : typeof n.value === 'string' ? `the string ${JSON.stringify(n.value)}` : `the ${typeof n.value} ${String(n.value)}`;
  return 'something else';
}

/** Positions of the YAML tree for a data path. */
class Locator {
  constructor(private readonly doc: Document, private readonly lc: LineCounter) {}

  pos(offset: number): { line: number; col: number } {
    const { line, col } = this.lc.linePos(offset);
    return { line, col };
  }

  /** The offset of the node at `path` (or of its key), or of the deepest ancestor present. */
  offset(path: Path, key = false): number {
    let node: unknown = this.doc.contents;
    let best = (node as Node | null)?.range?.[0] ?? 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
        if (!pair) return best;
        const last = i === path.length - 1;
        const keyOff = (pair.key as Node | null)?.range?.[0];
        if (last && key && keyOff !== undefined) return keyOff;
        node = pair.value;
        const off = (node as Node | null)?.range?.[0];
        // A key with no value (`dwell:`) has an empty node; point at the key instead.
        best = off !== undefined && !(isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1]) ? off : keyOff ?? best;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        node = node.items[seg];
        best = (node as Node | null)?.range?.[0] ?? best;
      } else return best;
    }
    return best;
  }
}

function valueAt(data: unknown, path: Path): { found: boolean; value: unknown } {
  let cur: unknown = data;
  for (const seg of path) {
    if (typeof cur !== 'object' || cur === null || !Object.prototype.hasOwnProperty.call(cur, seg)) return { found: false, value: undefined };
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return { found: true, value: cur };
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

const EXPECTED: Record<string, string> = {
  int: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', object: 'a mapping',
  array: 'a list', tuple: 'a list', record: 'a mapping',
};

/** Keys an object schema accepts at `path` (for "did you mean"). */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let cur: unknown = schema;
  const unwrap = (s: unknown): unknown => {
    let x = s as { _zod?: { def: Record<string, unknown> } };
    for (;;) {
      const def = x?._zod?.def;
      if (!def) return x;
      if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') x = def.innerType as typeof x;
      else return x;
    }
  };
  const objectsIn = (s: unknown): unknown[] => {
    const u = unwrap(s) as { _zod: { def: Record<string, unknown> } };
    if (u._zod.def.type === 'union') return (u._zod.def.options as unknown[]).flatMap(objectsIn);
    return [u];
  };
  for (const seg of path) {
    const options = objectsIn(cur);
    let next: unknown;
    for (const o of options) {
      const def = (o as { _zod: { def: Record<string, unknown> } })._zod.def;
      if (def.type === 'object' && typeof seg === 'string' && (def.shape as Record<string, unknown>)[seg]) next = (def.shape as Record<string, unknown>)[seg];
      else if (def.type === 'record') next = def.valueType;
      else if (def.type === 'array') next = def.element;
      else if (def.type === 'tuple' && typeof seg === 'number') next = (def.items as unknown[])[seg];
      if (next) break;
    }
    if (!next) return [];
    cur = next;
  }
  for (const o of objectsIn(cur)) {
    const def = (o as { _zod: { def: Record<string, unknown> } })._zod.def;
    if (def.type === 'object') return Object.keys(def.shape as Record<string, unknown>);
  }
  return [];
}

/** Keys earlier versions of the language accepted, with what replaces them (an unknown-key message that helps). */
const REPLACED_KEYS: Readonly<Record<string, string>> = {
  'control.stuckSamples': 'stuckSamples is gone: use control.stuckAfter, a duration (e.g. stuckAfter: 120s); '
    + 'a sensor is now stuck only when it stays flat that long while a physically coupled signal moves (docs/policy.md)',
};

interface Raised {
  path: Path;
  message: string;
  key?: boolean;
}

/** Turns zod issues into problems the policy author can act on. */
function explainIssues(issues: readonly z.core.$ZodIssue[], prefix: Path, data: unknown, out: Raised[]): void {
  for (const issue of issues) {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    const here = valueAt(data, path);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const k of issue.keys) {
          const replaced = REPLACED_KEYS[[...path, k].join('.')];
          if (replaced !== undefined) {
            out.push({ path: [...path, k], key: true, message: replaced });
            continue;
          }
          const known = knownKeys(policySchema, path);
          const hint = didYouMean(k, known);
          // With no likely slip, name what is allowed here so the author need not open the docs.
          const allowed = hint === '' && known.length > 0 ? `; allowed here: ${known.join(', ')}` : '';
          out.push({ path: [...path, k], key: true, message: `unknown key "${k}"${hint}${allowed}` });
        }
        break;
      case 'invalid_union': {
        // Keep the branches whose type matched (their issues are deeper than the branch itself).
        const deep = issue.errors.filter((errs) => !errs.every((e) => e.path.length === 0 && (e.code === 'invalid_type' || (e.code === 'invalid_value' && typeof here.value !== 'string'))));
        if (deep.length === 1) explainIssues(deep[0], path, data, out);
        else if (!here.found) out.push({ path: path.slice(0, -1), key: true, message: `missing required key "${String(path[path.length - 1])}"` });
        else out.push({ path, message: `${issue.message === 'Invalid input' ? 'invalid value' : issue.message}, got ${describeValue(here.value)}` });
        break;
      }
      case 'invalid_type':
        if (!here.found || here.value === undefined) {
          out.push({ path: path.slice(0, -1), key: true, message: `missing required key "${String(path[path.length - 1])}"` });
        } else {
          out.push({ path, message: `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(here.value)}` });
        }
        break;
      case 'too_small': {
        const min = Number(issue.minimum);
        if (issue.origin === 'array') out.push({ path, message: `must have at least ${min} item${min === 1 ? '' : 's'}` });
        else if (issue.origin === 'string') out.push({ path, message: 'must not be empty' });
        else out.push({ path, message: `must be ${issue.inclusive ? 'at least' : 'greater than'} ${min}, got ${describeValue(here.value)}` });
        break;
      }
      case 'too_big': {
        const max = Number(issue.maximum);
        if (issue.origin === 'array') out.push({ path, message: `must have at most ${max} item${max === 1 ? '' : 's'}` });
        else out.push({ path, message: `must be ${issue.inclusive ? 'at most' : 'less than'} ${max}, got ${describeValue(here.value)}` });
        break;
      }
      case 'invalid_value': {
        // A literal such as `version: 1` that is absent is a missing key, not a wrong value.
        if (!here.found || here.value === undefined) {
          out.push({ path: path.slice(0, -1), key: true, message: `missing required key "${String(path[path.length - 1])}"` });
          break;
        }
        const vals = issue.values.map((v) => JSON.stringify(v));
        const hint = typeof here.value === 'string' ? didYouMean(here.value, issue.values.map(String)) : '';
        out.push({ path, message: vals.length === 1 ? `must be ${vals[0]}, got ${describeValue(here.value)}` : `must be one of ${vals.join(', ')}, got ${describeValue(here.value)}${hint}` });
        break;
      }
      default:
        out.push({ path, message: issue.message });
    }
  }
}

/** First offset of a NUL or other C0 control character a text file would not contain. */
function binaryOffset(text: string): number {
  // eslint-disable-next-line no-control-regex
  const m = /[\u0000-\u0008\u000e-\u001f\u007f]/.exec(text);
  return m ? m.index : -1;
}

export function parsePolicy(text: string, file: string): ParseResult {
  const problems: PolicyProblem[] = [];
  const lc = new LineCounter();
  const at = (offset: number, message: string, path?: string): PolicyProblem => {
    const { line, col } = lc.linePos(offset);
    return path ? { file, line, col, message, path } : { file, line, col, message };
  };
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const bin = binaryOffset(text);
  if (bin >= 0) {
    // Line starts without parsing (the YAML parser would only add noise about binary data).
    lc.addNewLine(0);
    for (let i = 0; i < bin; i++) if (text[i] === '\n') lc.addNewLine(i + 1);
    return { problems: [at(bin, `not a text file (control byte 0x${text.charCodeAt(bin).toString(16).padStart(2, '0')}); a policy is UTF-8 YAML`)] };
  }

  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, strict: true }) as Document;
  } catch (err) {
    return { problems: [{ file, line: 1, col: 1, message: `cannot parse YAML: ${(err as Error).message}` }] };
  }
  if (doc.errors.length > 0) {
    const linesSeen = new Set<number>();
    for (const e of doc.errors) {
      // One syntax error per line: the parser's follow-on complaints about the same line are noise.
      const line = lc.linePos(e.pos[0]).line;
      if (linesSeen.has(line)) continue;
      linesSeen.add(line);
      let message = e.message.replace(/\s+at line \d+, column \d+.*$/s, '');
      if (e.code === 'DUPLICATE_KEY') {
        const keyText = /^\s*(?:"([^"\n]*)"|'([^'\n]*)'|([^:#\n]*?))\s*:/.exec(text.slice(e.pos[0]));
        const key = keyText ? (keyText[1] ?? keyText[2] ?? keyText[3]) : '';
        message = `duplicate key${key ? ` "${key}"` : ''}; each key may appear once in a mapping`;
      } else message = `YAML syntax: ${message.charAt(0).toLowerCase()}${message.slice(1)}`;
      problems.push(at(e.pos[0], message));
    }
    return { problems: sortProblems(problems) };
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return { problems: [{ file, line: 1, col: 1, message: 'the policy is empty; expected a mapping with version, name, sensors, limits, model, tiers, rules and control' }] };
  }
  if (!isMap(doc.contents)) {
    return { problems: [at(doc.contents.range?.[0] ?? 0, `the policy must be a mapping of sections (version, name, sensors, …), found ${kindOfNode(doc.contents)}`)] };
  }

  const complexKeyAt = complexKeyOffset(doc);
  if (complexKeyAt >= 0) return { problems: [at(complexKeyAt, COMPLEX_KEY_MESSAGE)] };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const msg = (err as Error).message;
    const unresolved = /Unresolved alias.*?:\s*(\S+)\s*$/.exec(msg);
    let offset = 0;
    visit(doc, {
      Alias(_, node) {
        if (unresolved && node.source !== unresolved[1]) return undefined;
        offset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    const why = unresolved
      ? `alias *${unresolved[1]} has no anchor &${unresolved[1]} before it`
      : /alias/i.test(msg)
        ? `aliases expand to too many nodes (limit ${MAX_ALIAS_COUNT}); this looks like an alias bomb`
        : `cannot build the document: ${msg}`;
    return { problems: [at(offset, why)] };
  }

  const loc = new Locator(doc, lc);
  const raised: Raised[] = [];
  const parsed = policySchema.safeParse(data);
  if (!parsed.success) explainIssues(parsed.error.issues, [], data, raised);
  const policy = compilePolicy(data, file, (path, message, opts) => raised.push({ path, message, key: opts?.key }));

  for (const r of raised) problems.push(at(loc.offset(r.path, r.key), r.message, formatPath(r.path)));
  const sorted = sortProblems(problems);
  return sorted.length === 0 && policy ? { policy, problems: [] } : { problems: sorted };
}

function sortProblems(ps: PolicyProblem[]): PolicyProblem[] {
  const seen = new Set<string>();
  return ps
    .filter((p) => {
      const k = formatProblem(p);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.col - b.col);
}

/**
 * Decodes file bytes as UTF-8 text; undefined when they are not text. Invalid UTF-8 is
 * reported at its position by parsePolicy (as a replacement character → control check below).
 */
export function decodePolicyBytes(buf: Uint8Array, file: string): { text: string } | { problem: PolicyProblem } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(buf) };
  } catch {
    const text = new TextDecoder('utf-8').decode(buf);
    const idx = text.indexOf('\ufffd');
    const before = text.slice(0, Math.max(0, idx));
    const line = before.split('\n').length;
    const col = idx - before.lastIndexOf('\n');
    return { problem: { file, line, col, message: 'not UTF-8 text; a policy is UTF-8 YAML' } };
  }
}

/** Reads, parses and compiles a policy file. UserError (exit 1) with one detail line per problem; EnvError (exit 2) when unreadable. */
export async function loadPolicyFile(path: string): Promise<Policy> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    throw envErrorFrom(err, path);
  }
  const decoded = decodePolicyBytes(buf, path);
  const result = 'problem' in decoded ? { problems: [decoded.problem] } : parsePolicy(decoded.text, path);
  if (!result.policy) {
    const n = result.problems.length;
    throw new UserError(`${path}: invalid policy (${n} problem${n === 1 ? '' : 's'})`, result.problems.map(formatProblem));
  }
  return result.policy;
}
