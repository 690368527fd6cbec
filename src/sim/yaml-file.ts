/**
 * Parse a YAML data file and validate it with a zod schema, reporting every problem as
 * `file:line:col: message` — the same shape policy errors have, so testers see one style.
 *
 * Written here (not borrowed from src/policy/) because the simulator's data files landed
 * before the policy loader; it only depends on `yaml` and `zod`.
 */
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { COMPLEX_KEY_MESSAGE, complexKeyOffset } from '../util/yaml-keys.js';
import type { z } from 'zod';
import { readFileSync } from 'node:fs';
import { UserError, envErrorFrom } from '../util/errors.js';

export interface FileProblem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatFileProblem(p: FileProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

type PathKey = string | number;

/** The [start, end) offset of the node at `path`, or of its nearest existing ancestor. */
function rangeAt(doc: Document, path: readonly PathKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      // A key that is present but whose value is missing still points at its map entry.
      return node.range[0];
    }
  }
  return undefined;
}

function describePath(path: readonly PathKey[]): string {
  if (path.length === 0) return '';
  return path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('').replace(/^\./, '') + ': ';
}

/**
 * Parse `text` (from `file`) and check it against `schema`. Returns the typed value or the
 * problems; never throws for bad input.
 */
export function parseYamlWith<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
): { value?: z.output<S>; problems: FileProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: FileProblem[] = [];
  const at = (offset: number | undefined, message: string): FileProblem => {
    const pos = offset === undefined ? { line: 1, col: 1 } : lineCounter.linePos(offset);
    return { file, line: pos.line, col: pos.col, message };
  };
  for (const e of doc.errors) problems.push(at(e.pos[0], e.message.split('\n')[0]));
  if (problems.length) return { problems };
  const complexKeyAt = complexKeyOffset(doc);
  if (complexKeyAt >= 0) return { problems: [at(complexKeyAt, COMPLEX_KEY_MESSAGE)] };
  const data: unknown = doc.toJS();
  const r = schema.safeParse(data);
  if (!r.success) {
    for (const issue of r.error.issues) {
      const path = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
      problems.push(at(rangeAt(doc, path), describePath(path) + issue.message));
    }
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    return { problems };
  }
  return { value: r.data, problems };
}

/** Read (synchronously: these files are small and the live device is built synchronously) and validate a YAML file; throws UserError (with `file:line:col` details) or EnvError. */
export function loadYamlFile<S extends z.ZodType>(path: string, schema: S, what: string): z.output<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw envErrorFrom(err, path);
  }
  const { value, problems } = parseYamlWith(text, path, schema);
  if (problems.length || value === undefined) {
    throw new UserError(`${path}: invalid ${what} (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
      problems.map(formatFileProblem));
  }
  return value;
}
