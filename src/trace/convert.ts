/**
 * `trace convert`: a foreign trace (CSV with a header, JSON, JSONL or YAML) → the canonical
 * trace format (SPEC §4) through `--map` expressions (src/trace/expr.ts).
 *
 * CSV input streams line by line (foreign CSVs can be long); JSON and YAML documents are
 * parsed whole (they are a single value by nature). Rows are located in a JSON/YAML
 * document as: the document itself when it is an array; else the array at `rowsPath`;
 * else its largest array of objects (`timeseries` in the Galaxy S25 files); else, for an
 * object of equal-length arrays (stressberry's YAML), one row per index. Nested objects
 * flatten to dotted column names (`temps.gpuss-5`), arrays of scalars to `name.0`, `name.1`.
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { COMPLEX_KEY_MESSAGE, complexKeyOffset } from '../util/yaml-keys.js';
import type { Sample } from '../core/signals.js';
import { UserError, envErrorFrom } from '../util/errors.js';
import { compileMappings, CellError, type Cell, type CompiledMapping } from './expr.js';
import { createTraceWriter } from './writer.js';
import type { ReadMode } from './reader.js';

export type InputFormat = 'csv' | 'json' | 'jsonl' | 'yaml';

export interface ConvertOptions {
  input: string;
  output: string;
  maps: string[];
  inputFormat?: InputFormat;
  /** 1-based line of the CSV header (default: the first line that is not a `#` comment). */
  headerLine?: number;
  /** Dotted path to the rows array inside a JSON/YAML document. */
  rowsPath?: string;
  mode?: ReadMode;
}

export interface ConvertResult {
  input: string;
  output: string;
  inputFormat: InputFormat;
  inputColumns: number;
  columns: string[];
  samples: number;
  skippedRows: number;
  skippedByKind: Record<string, number>;
  warnings: string[];
}

export function inputFormatFromPath(path: string): InputFormat | undefined {
  const p = path.toLowerCase();
  if (p.endsWith('.csv')) return 'csv';
  if (p.endsWith('.jsonl') || p.endsWith('.ndjson')) return 'jsonl';
  if (p.endsWith('.json')) return 'json';
  if (p.endsWith('.yaml') || p.endsWith('.yml')) return 'yaml';
  return undefined;
}

/** A row with where it came from, for messages. */
interface SourceRow {
  where: string;
  cells: Cell[];
  /** True for the last CSV line when the file has no final newline. */
  last?: boolean;
  /** Set when the row cannot be used at all (wrong cell count); the converter skips or stops. */
  problem?: RowProblem;
}

interface RowSource {
  columns: string[];
  rows: AsyncIterable<SourceRow> | Iterable<SourceRow>;
}

/** Splits one CSV record; handles "quoted, cells" and "" escapes (records spanning lines are not supported). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += c;
    } else if (c === '"' && cur.length === 0) quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Whether the file's last byte is a newline (readline cannot tell us; a truncated last line has none). */
async function endsWithNewline(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
    const { size } = await fh.stat();
    if (size === 0) return true;
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } catch (err) {
    throw envErrorFrom(err, path);
  } finally {
    await fh?.close();
  }
}

async function csvSource(path: string, headerLine: number | undefined): Promise<RowSource> {
  const finalNewline = await endsWithNewline(path);
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity })[Symbol.asyncIterator]();
  let lineNo = 0;
  let header: string[] | undefined;
  try {
    for (;;) {
      const r = await lines.next();
      if (r.done) break;
      lineNo++;
      const text = r.value;
      if (headerLine !== undefined ? lineNo === headerLine : text.trim().length > 0 && !text.startsWith('#')) {
        header = splitCsvLine(lineNo === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).map((c) => c.trim());
        break;
      }
    }
  } catch (err) {
    throw envErrorFrom(err, path);
  }
  if (header === undefined) {
    throw new UserError(`${path}: no header row${headerLine !== undefined ? ` at line ${headerLine} (the file has ${lineNo} lines)` : ''}`);
  }
  const seen = new Set<string>();
  for (const c of header) {
    if (c === '') throw new UserError(`${path}:${lineNo}: empty column name in the header`);
    if (seen.has(c)) throw new UserError(`${path}:${lineNo}: column '${c}': duplicate column in the header`);
    seen.add(c);
  }
  const width = header.length;
  const cols = header;
  async function* rows(): AsyncGenerator<SourceRow> {
    // readline hides whether the last line ended with a newline; one line of lookahead tells the last apart.
    let pending: { text: string; no: number } | undefined;
    try {
      for (;;) {
        const r = await lines.next();
        if (r.done) break;
        lineNo++;
        if (pending) yield toRow(pending.text, pending.no, false);
        pending = r.value.trim().length === 0 || r.value.startsWith('#') ? undefined : { text: r.value, no: lineNo };
      }
    } catch (err) {
      throw envErrorFrom(err, path);
    }
    if (pending) yield toRow(pending.text, pending.no, !finalNewline);
  }
  function toRow(text: string, no: number, last: boolean): SourceRow {
    const cells = splitCsvLine(text);
    const where = `${path}:${no}`;
    if (cells.length !== width) {
      const truncated = last && cells.length < width;
      const problem = new RowProblem(
        truncated ? 'truncated' : 'cell-count',
        where,
        cells.length < width ? cols[cells.length] : undefined,
        truncated
          ? `truncated last line: ${cells.length} of ${width} cells`
          : `row has ${cells.length} cell${cells.length === 1 ? '' : 's'}, the header has ${width}`,
      );
      return { where, cells, last, problem };
    }
    return { where, cells, last };
  }
  return { columns: cols, rows: rows() };
}

class RowProblem extends Error {
  constructor(readonly kind: string, readonly where: string, readonly column: string | undefined, why: string) {
    super(why);
  }
}

/** Flattens nested objects/arrays into dotted keys; scalars only as values. */
function flatten(obj: unknown, prefix: string, out: Map<string, Cell>): void {
  if (obj === null || typeof obj !== 'object') {
    out.set(prefix, obj as Cell);
    return;
  }
  const entries = Array.isArray(obj) ? obj.map((v, i) => [String(i), v] as const) : Object.entries(obj as Record<string, unknown>);
  for (const [k, v] of entries) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
}

function locateRows(doc: unknown, file: string, rowsPath: string | undefined): { rows: unknown[]; where: string } {
  if (rowsPath !== undefined) {
    let cur: unknown = doc;
    for (const part of rowsPath.split('.')) {
      if (cur === null || typeof cur !== 'object' || !(part in (cur as object))) {
        throw new UserError(`${file}: --rows '${rowsPath}': no key '${part}' in the document`);
      }
      cur = (cur as Record<string, unknown>)[part];
    }
    if (!Array.isArray(cur)) throw new UserError(`${file}: --rows '${rowsPath}' is not an array`);
    return { rows: cur, where: rowsPath };
  }
  if (Array.isArray(doc)) return { rows: doc, where: '' };
  if (doc === null || typeof doc !== 'object') throw new UserError(`${file}: the document is a single value, not rows`);
  const obj = doc as Record<string, unknown>;
  let best: [string, unknown[]] | undefined;
  for (const [k, v] of Object.entries(obj)) {
    if (Array.isArray(v) && v.length > 0 && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))) {
      if (!best || v.length > best[1].length) best = [k, v];
    }
  }
  if (best) return { rows: best[1], where: best[0] };
  // Columnar: { a: [..], b: [..] } with equal lengths (scalar keys like `name` are ignored).
  const arrays = Object.entries(obj).filter(([, v]) => Array.isArray(v)) as [string, unknown[]][];
  if (arrays.length > 0) {
    const n = arrays[0][1].length;
    const unequal = arrays.find(([, v]) => v.length !== n);
    if (unequal) throw new UserError(`${file}: column arrays differ in length ('${arrays[0][0]}' has ${n}, '${unequal[0]}' has ${unequal[1].length})`);
    const rows = Array.from({ length: n }, (_, i) => Object.fromEntries(arrays.map(([k, v]) => [k, v[i]])));
    return { rows, where: '' };
  }
  throw new UserError(`${file}: found no rows (no array of objects and no column arrays); name them with --rows <key>`);
}

function documentSource(file: string, rows: unknown[], where: string): RowSource {
  const flat = rows.map((r) => {
    const m = new Map<string, Cell>();
    flatten(r, '', m);
    return m;
  });
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const m of flat) for (const k of m.keys()) if (!seen.has(k)) { seen.add(k); columns.push(k); }
  return {
    columns,
    rows: flat.map((m, i) => ({ where: `${file}: ${where === '' ? '' : where}[${i}]`, cells: columns.map((c) => m.get(c)) })),
  };
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw envErrorFrom(err, path);
  }
}

async function openSource(opts: ConvertOptions, format: InputFormat): Promise<RowSource> {
  const { input } = opts;
  if (format === 'csv') return csvSource(input, opts.headerLine);
  const text = await readText(input);
  if (format === 'jsonl') {
    const objs: unknown[] = [];
    const lineNos: number[] = [];
    text.split('\n').forEach((line, i) => {
      const t = line.trim();
      if (t === '' || t.startsWith('#')) return;
      try {
        objs.push(JSON.parse(t));
      } catch (e) {
        throw new UserError(`${input}: bad JSONL`, [`${input}:${i + 1}: not valid JSON: ${(e as Error).message}`]);
      }
      lineNos.push(i + 1);
    });
    const src = documentSource(input, objs, '');
    const rows = [...(src.rows as SourceRow[])].map((r, i) => ({ ...r, where: `${input}:${lineNos[i]}` }));
    return { columns: src.columns, rows };
  }
  let doc: unknown;
  try {
    if (format === 'json') doc = JSON.parse(text);
    else {
      const lc = new LineCounter();
      const ydoc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
      if (ydoc.errors.length) throw ydoc.errors[0];
      const k = complexKeyOffset(ydoc);
      if (k >= 0) {
        const { line, col } = lc.linePos(k);
        throw new UserError(`${input}: not valid YAML`, [`${input}:${line}:${col}: ${COMPLEX_KEY_MESSAGE}`]);
      }
      doc = ydoc.toJS({ maxAliasCount: 100 });
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${input}: not valid ${format.toUpperCase()}`, [`${input}: ${(e as Error).message.split('\n')[0]}`]);
  }
  const { rows, where } = locateRows(doc, input, opts.rowsPath);
  return documentSource(input, rows, where);
}

function sniff(text: string): InputFormat {
  const t = text.replace(/^(#.*\n)*/g, '').trimStart();
  if (t.startsWith('[')) return 'json';
  if (t.startsWith('{')) {
    const first = t.split('\n', 1)[0].trim();
    try {
      JSON.parse(first);
      return 'jsonl';
    } catch {
      return 'json';
    }
  }
  return 'csv';
}

export async function convertTrace(opts: ConvertOptions): Promise<ConvertResult> {
  const mode = opts.mode ?? 'strict';
  if (resolve(opts.input) === resolve(opts.output)) {
    throw new UserError(`--out ${opts.output} is the input file; writing it would destroy what is being read`);
  }
  let format = opts.inputFormat ?? inputFormatFromPath(opts.input);
  if (format === undefined) {
    const head = (await readText(opts.input)).slice(0, 4096);
    format = sniff(head);
  }
  const source = await openSource(opts, format);
  const mappings: CompiledMapping[] = compileMappings(opts.maps, source.columns);
  const tIndex = mappings.findIndex((m) => m.target === 't_ms');
  // t_ms first, the rest in --map order.
  const ordered = [mappings[tIndex], ...mappings.filter((_, i) => i !== tIndex)];
  const writer = createTraceWriter(opts.output, ordered.map((m) => m.target));
  const result: ConvertResult = {
    input: opts.input,
    output: opts.output,
    inputFormat: format,
    inputColumns: source.columns.length,
    columns: [...writer.columns],
    samples: 0,
    skippedRows: 0,
    skippedByKind: {},
    warnings: [],
  };
  const skip = (p: RowProblem) => {
    const msg = `${p.where}: ${p.column !== undefined ? `column '${p.column}': ` : ''}${p.message}`;
    if (mode === 'strict') throw new UserError(`${opts.input}: cannot convert (use --lenient to skip bad rows)`, [msg]);
    result.skippedRows++;
    result.skippedByKind[p.kind] = (result.skippedByKind[p.kind] ?? 0) + 1;
    if (result.skippedRows <= 5) result.warnings.push(`skipped ${msg}`);
  };
  let lastT = -Infinity;
  try {
    const iter = (source.rows as AsyncIterable<SourceRow>)[Symbol.asyncIterator]
      ? (source.rows as AsyncIterable<SourceRow>)[Symbol.asyncIterator]()
      : wrapSync((source.rows as Iterable<SourceRow>)[Symbol.iterator]());
    for (;;) {
      const r = await iter.next();
      if (r.done) break;
      const row = r.value;
      if (row.problem) {
        skip(row.problem);
        continue;
      }
      try {
        const sample: Record<string, number | undefined> = {};
        for (const m of ordered) {
          try {
            sample[m.target] = m.evaluate(row.cells);
          } catch (e) {
            if (e instanceof CellError) {
              throw new RowProblem(row.last ? 'truncated' : 'non-numeric', row.where, e.column, `${e.message} (in --map '${m.source}')`);
            }
            throw e;
          }
        }
        const t = sample.t_ms;
        if (t === undefined) throw new RowProblem('missing-time', row.where, undefined, `t_ms is missing (--map '${ordered[0].source}' gave no value)`);
        if (t < lastT) throw new RowProblem('time-backwards', row.where, undefined, `t_ms goes backwards: ${t} after ${lastT}`);
        lastT = t;
        writer.write(sample as Sample);
        result.samples++;
      } catch (e) {
        if (e instanceof RowProblem) skip(e);
        else throw e;
      }
    }
  } finally {
    await writer.close();
  }
  if (result.samples === 0) {
    const msg = `${opts.input}: no samples converted${result.skippedRows > 0 ? ` (${result.skippedRows} rows skipped)` : ''}`;
    if (mode === 'strict') throw new UserError(msg);
    result.warnings.push(msg);
  }
  return result;
}

function wrapSync<T>(it: Iterator<T>): AsyncIterator<T> {
  return { next: async () => it.next() };
}
