/**
 * The `trace convert --map` expression language: `target=expression`, parsed by hand (no
 * eval) into closures over a row of cells.
 *
 *   expression := sum (('+' | '-') sum)*            -- left-associative
 *   sum        := unary (('*' | '/') unary)*
 *   unary      := '-' unary | primary
 *   primary    := number | column | func '(' args ')' | '(' expression ')'
 *   column     := name | "quoted name" | `quoted name`
 *
 * Names are `[A-Za-z_*?][A-Za-z0-9_.?*-]*` so that foreign column names such as
 * `T_gpuss-5_c` or `temps.cpu-0-1-0` need no quotes. Consequences, documented in
 * docs/traces.md: to subtract or multiply two columns put spaces around the operator
 * (`a - b`, `a * b`); a `*` directly followed by a digit, space or `(` is a product
 * (`t_s*1000`), otherwise it is a glob (`T_gpuss-*_c`). `*` matches any run of characters,
 * `?` one.
 *
 * A glob may match many columns only as an argument of max/min/avg/sum/first; anywhere
 * else it must match exactly one. Missing cells are "no reading": arithmetic on a missing
 * value is missing, aggregates skip missing values (and are missing when all are).
 */
import { UserError } from '../util/errors.js';

/** A cell as the input format delivers it. */
export type Cell = string | number | boolean | null | undefined;

/** Raised while evaluating a row: a referenced cell was not a number. */
export class CellError extends Error {
  constructor(readonly column: string, readonly cell: string) {
    super(`not a number: ${JSON.stringify(cell.length > 40 ? cell.slice(0, 40) + '…' : cell)}`);
  }
}

export type RowFn = (row: readonly Cell[]) => number | undefined;

export interface CompiledMapping {
  /** Output column name. */
  target: string;
  /** The source text of this mapping (for messages). */
  source: string;
  evaluate: RowFn;
}

type Node =
  | { kind: 'num'; value: number; pos: number }
  | { kind: 'col'; name: string; glob: boolean; pos: number }
  | { kind: 'neg'; arg: Node; pos: number }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/'; left: Node; right: Node; pos: number }
  | { kind: 'call'; fn: string; args: Node[]; pos: number };

type Token =
  | { t: 'num'; value: number; pos: number }
  | { t: 'name'; name: string; quoted: boolean; pos: number }
  | { t: 'op'; op: string; pos: number }
  | { t: 'end'; pos: number };

const AGGREGATES = new Set(['max', 'min', 'avg', 'sum', 'first']);
const FUNCTIONS = ['max', 'min', 'avg', 'sum', 'first', 'abs', 'round', 'time_s', 'elapsed'];

/** A --map problem: the message carries the 1-based column inside the mapping text. */
export class MapSyntaxError extends Error {
  constructor(readonly col: number, message: string) {
    super(message);
  }
}

function isNameStart(c: string): boolean {
  return /[A-Za-z_*?]/.test(c);
}

function lex(text: string, offset: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    const pos = offset + i + 1;
    if (/[0-9.]/.test(c)) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i));
      if (!m) throw new MapSyntaxError(pos, `unexpected '${c}'`);
      out.push({ t: 'num', value: Number(m[0]), pos });
      i += m[0].length;
      if (i < text.length && /[A-Za-z_]/.test(text[i])) {
        throw new MapSyntaxError(offset + i + 1, `a number cannot run into a name ('${m[0]}${text[i]}…'); quote names that start with a digit: "${m[0]}${text[i]}…"`);
      }
      continue;
    }
    if (c === '"' || c === '`') {
      const close = text.indexOf(c, i + 1);
      if (close < 0) throw new MapSyntaxError(pos, `unterminated quoted name (missing closing ${c})`);
      out.push({ t: 'name', name: text.slice(i + 1, close), quoted: true, pos });
      i = close + 1;
      continue;
    }
    if (isNameStart(c) && !(c === '*' && out.length > 0 && endsOperand(out[out.length - 1]))) {
      let j = i + 1;
      for (; j < text.length; j++) {
        const d = text[j];
        if (/[A-Za-z0-9_.?-]/.test(d)) continue;
        // `*` continues a glob unless what follows makes it a product: `t_s*1000`, `a*(b)`, `a* b`.
        if (d === '*' && !(j + 1 < text.length && /[0-9 (\t]/.test(text[j + 1]))) continue;
        break;
      }
      out.push({ t: 'name', name: text.slice(i, j), quoted: false, pos });
      i = j;
      continue;
    }
    if ('+-*/(),'.includes(c)) {
      out.push({ t: 'op', op: c, pos });
      i++;
      continue;
    }
    throw new MapSyntaxError(pos, `unexpected '${c}'`);
  }
  out.push({ t: 'end', pos: offset + text.length + 1 });
  return out;
}

/** After a value, a `*` is multiplication even when a name character follows (`(a)*b`, `2*x`). */
function endsOperand(t: Token): boolean {
  return t.t === 'num' || t.t === 'name' || (t.t === 'op' && t.op === ')');
}

function describe(t: Token): string {
  if (t.t === 'end') return 'the end';
  if (t.t === 'num') return `number ${t.value}`;
  if (t.t === 'name') return `'${t.name}'`;
  return `'${t.op}'`;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  parse(): Node {
    const n = this.expr();
    const t = this.toks[this.i];
    if (t.t !== 'end') throw new MapSyntaxError(t.pos, `expected an operator or the end, found ${describe(t)}`);
    return n;
  }

  private peekOp(...ops: string[]): string | undefined {
    const t = this.toks[this.i];
    return t.t === 'op' && ops.includes(t.op) ? t.op : undefined;
  }

  private expr(): Node {
    let left = this.term();
    for (let op = this.peekOp('+', '-'); op; op = this.peekOp('+', '-')) {
      const pos = this.toks[this.i++].pos;
      left = { kind: 'bin', op: op as '+' | '-', left, right: this.term(), pos };
    }
    return left;
  }

  private term(): Node {
    let left = this.unary();
    for (let op = this.peekOp('*', '/'); op; op = this.peekOp('*', '/')) {
      const pos = this.toks[this.i++].pos;
      left = { kind: 'bin', op: op as '*' | '/', left, right: this.unary(), pos };
    }
    return left;
  }

  private unary(): Node {
    if (this.peekOp('-')) {
      const pos = this.toks[this.i++].pos;
      return { kind: 'neg', arg: this.unary(), pos };
    }
    return this.primary();
  }

  private primary(): Node {
    const t = this.toks[this.i];
    if (t.t === 'num') {
      this.i++;
      return { kind: 'num', value: t.value, pos: t.pos };
    }
    if (t.t === 'op' && t.op === '(') {
      this.i++;
      const n = this.expr();
      const close = this.toks[this.i];
      if (!(close.t === 'op' && close.op === ')')) throw new MapSyntaxError(close.pos, `expected ')', found ${describe(close)}`);
      this.i++;
      return n;
    }
    if (t.t === 'name') {
      this.i++;
      const next = this.toks[this.i];
      if (!t.quoted && next.t === 'op' && next.op === '(') {
        if (!FUNCTIONS.includes(t.name)) {
          throw new MapSyntaxError(t.pos, `unknown function '${t.name}' (functions: ${FUNCTIONS.join(', ')})`);
        }
        this.i++;
        const args: Node[] = [];
        if (!this.peekOp(')')) {
          for (;;) {
            args.push(this.expr());
            if (this.peekOp(',')) {
              this.i++;
              continue;
            }
            break;
          }
        }
        const close = this.toks[this.i];
        if (!(close.t === 'op' && close.op === ')')) {
          throw new MapSyntaxError(close.pos, `expected ',' or ')' in ${t.name}(…), found ${describe(close)}`);
        }
        this.i++;
        return { kind: 'call', fn: t.name, args, pos: t.pos };
      }
      return { kind: 'col', name: t.name, glob: !t.quoted && /[*?]/.test(t.name), pos: t.pos };
    }
    throw new MapSyntaxError(t.pos, `expected a number, column or '(', found ${describe(t)}`);
  }
}

export function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

/** Per-call-site state for the stateful functions (time_s day wrap, elapsed origin). */
interface Env {
  columns: readonly string[];
  index: Map<string, number>;
}

/** Turns a raw cell into a number: missing for empty/null/NaN, CellError for text that is not a number. */
function numeric(cell: Cell, column: string): number | undefined {
  if (typeof cell === 'number') return Number.isFinite(cell) ? cell : undefined;
  if (cell === undefined || cell === null) return undefined;
  if (typeof cell === 'boolean') return cell ? 1 : 0;
  const t = cell.trim();
  if (t === '' || t === 'nan' || t === 'NaN' || t === 'NA' || t === 'null') return undefined;
  const v = Number(t);
  if (!Number.isFinite(v)) throw new CellError(column, cell);
  return v;
}

const DAY_S = 86_400;

/**
 * `time_s(col)`: seconds since the first row's timestamp. Cells may be numbers (seconds),
 * `HH:MM:SS[.fff]` clock times (a backwards jump of more than 12 h is taken as passing
 * midnight) or ISO date-times (read as UTC when they carry no zone; only differences
 * matter). Returned relative to the first row because absolute epoch seconds with
 * microseconds need more digits than a double holds: the difference is taken in integer
 * milliseconds plus a microsecond remainder, so 10:57:14.787948 − 10:57:12.495948 is
 * exactly 2.292 s.
 */
function makeTimeS(column: string): (cell: Cell) => number | undefined {
  let dayOffsetS = 0;
  let prevClockS: number | undefined;
  let originMs: number | undefined;
  let originUs = 0;
  const since = (ms: number, us: number): number => {
    if (originMs === undefined) {
      originMs = ms;
      originUs = us;
    }
    return ((ms - originMs) + (us - originUs) / 1000) / 1000;
  };
  return (cell) => {
    if (typeof cell !== 'string') {
      const v = numeric(cell, column);
      if (v === undefined) return undefined;
      const ms = Math.floor(v * 1000);
      return since(ms, Math.round((v * 1000 - ms) * 1000));
    }
    const t = cell.trim();
    if (t === '') return undefined;
    const clock = /^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?$/.exec(t);
    if (clock) {
      let wholeS = Number(clock[1]) * 3600 + Number(clock[2]) * 60 + (clock[3] !== undefined ? Number(clock[3]) : 0);
      if (prevClockS !== undefined && wholeS + dayOffsetS < prevClockS - DAY_S / 2) dayOffsetS += DAY_S;
      wholeS += dayOffsetS;
      prevClockS = wholeS;
      const frac = (clock[4] ?? '.').slice(1).padEnd(6, '0');
      return since(wholeS * 1000 + Number(frac.slice(0, 3)), Number(frac.slice(3, 6)));
    }
    const iso = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
    if (iso) {
      const frac = (iso[3] ?? '.').slice(1).padEnd(6, '0');
      const ms = Date.parse(`${iso[1]}T${iso[2]}${iso[4] ?? 'Z'}`);
      if (Number.isFinite(ms)) return since(ms + Number(frac.slice(0, 3)), Number(frac.slice(3, 6)));
    }
    const v = Number(t);
    if (Number.isFinite(v)) return since(Math.floor(v * 1000), Math.round((v * 1000 - Math.floor(v * 1000)) * 1000));
    throw new CellError(column, cell);
  };
}

function compileNode(n: Node, env: Env, inAggregate: boolean): RowFn[] {
  switch (n.kind) {
    case 'num': {
      const v = n.value;
      return [() => v];
    }
    case 'col': {
      const matches = resolveColumn(n, env);
      if (matches.length > 1 && !inAggregate) {
        throw new MapSyntaxError(n.pos, `'${n.name}' matches ${matches.length} columns (${preview(matches)}); wrap it in max(), min(), avg(), sum() or first()`);
      }
      return matches.map((name) => {
        const idx = env.index.get(name)!;
        return (row: readonly Cell[]) => numeric(row[idx], name);
      });
    }
    case 'neg': {
      const a = single(n.arg, env);
      return [(row) => {
        const v = a(row);
        return v === undefined ? undefined : -v;
      }];
    }
    case 'bin': {
      const l = single(n.left, env);
      const r = single(n.right, env);
      const op = n.op;
      return [(row) => {
        const a = l(row);
        const b = r(row);
        if (a === undefined || b === undefined) return undefined;
        const v = op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : a / b;
        return Number.isFinite(v) ? v : undefined;
      }];
    }
    case 'call':
      return [compileCall(n, env)];
  }
}

function single(n: Node, env: Env): RowFn {
  return compileNode(n, env, false)[0];
}

function compileCall(n: Extract<Node, { kind: 'call' }>, env: Env): RowFn {
  const { fn, args, pos } = n;
  if (AGGREGATES.has(fn)) {
    if (args.length === 0) throw new MapSyntaxError(pos, `${fn}() needs at least one argument`);
    const parts = args.flatMap((a) => compileNode(a, env, true));
    return (row) => {
      let acc: number | undefined;
      let count = 0;
      for (const p of parts) {
        const v = p(row);
        if (v === undefined) continue;
        if (fn === 'first') return v;
        count++;
        if (acc === undefined) acc = v;
        else if (fn === 'max') acc = v > acc ? v : acc;
        else if (fn === 'min') acc = v < acc ? v : acc;
        else acc += v;
      }
      if (acc === undefined) return undefined;
      return fn === 'avg' ? acc / count : acc;
    };
  }
  if (fn === 'abs') {
    if (args.length !== 1) throw new MapSyntaxError(pos, 'abs() takes one argument');
    const a = single(args[0], env);
    return (row) => {
      const v = a(row);
      return v === undefined ? undefined : Math.abs(v);
    };
  }
  if (fn === 'round') {
    if (args.length < 1 || args.length > 2) throw new MapSyntaxError(pos, 'round(x) or round(x, digits)');
    const a = single(args[0], env);
    const digits = args[1];
    if (digits !== undefined && digits.kind !== 'num') throw new MapSyntaxError(digits.pos, 'round(): digits must be a number');
    const scale = 10 ** (digits?.kind === 'num' ? digits.value : 0);
    return (row) => {
      const v = a(row);
      return v === undefined ? undefined : Math.round(v * scale) / scale;
    };
  }
  if (fn === 'time_s') {
    const a = args[0];
    if (args.length !== 1 || a.kind !== 'col' || a.glob) {
      throw new MapSyntaxError(pos, 'time_s() takes one column, e.g. time_s(Timestamp)');
    }
    const [name] = resolveColumn(a, env);
    const idx = env.index.get(name)!;
    const parse = makeTimeS(name);
    return (row) => parse(row[idx]);
  }
  // elapsed(x): x minus its value on the first row where it had one — turns clock or epoch times into trace time.
  if (args.length !== 1) throw new MapSyntaxError(pos, 'elapsed() takes one argument, e.g. elapsed(uptime_s)');
  const a = single(args[0], env);
  let origin: number | undefined;
  return (row) => {
    const v = a(row);
    if (v === undefined) return undefined;
    origin ??= v;
    return v - origin;
  };
}

function preview(names: readonly string[]): string {
  return names.length <= 4 ? names.join(', ') : `${names.slice(0, 4).join(', ')}, … ${names.length - 4} more`;
}

function resolveColumn(n: Extract<Node, { kind: 'col' }>, env: Env): string[] {
  if (!n.glob) {
    if (env.index.has(n.name)) return [n.name];
    let hint = '';
    const parts = n.name.split('-');
    if (parts.length > 1 && parts.every((p) => env.index.has(p) || Number.isFinite(Number(p)))) {
      hint = `; to subtract write '${parts.join(' - ')}' with spaces`;
    }
    throw new MapSyntaxError(n.pos, `unknown column '${n.name}'${hint} (columns: ${preview(env.columns)})`);
  }
  const re = globToRegExp(n.name);
  const matches = env.columns.filter((c) => re.test(c));
  if (matches.length === 0) {
    let hint = '';
    const parts = n.name.split('*');
    if (parts.length === 2 && env.index.has(parts[0]) && env.index.has(parts[1])) {
      hint = `; to multiply write '${parts[0]} * ${parts[1]}' with spaces`;
    }
    throw new MapSyntaxError(n.pos, `no column matches '${n.name}'${hint} (columns: ${preview(env.columns)})`);
  }
  return matches;
}

/** Kills float noise from arithmetic (0.1*3 → 0.3) without touching real precision. */
function tidy(v: number | undefined): number | undefined {
  return v === undefined ? undefined : Number(v.toPrecision(15));
}

const TARGET_RE = /^[A-Za-z_][A-Za-z0-9_.\-]*\*?[A-Za-z0-9_.\-]*$/;

/**
 * Compiles the --map list against the input's columns. A target with a `*`
 * (`zone.*=T_*_c`) maps every column the right-hand glob matches, substituting what its
 * single `*` matched. Errors are UserErrors naming the mapping and the column position.
 */
export function compileMappings(maps: readonly string[], columns: readonly string[]): CompiledMapping[] {
  const env: Env = { columns, index: new Map(columns.map((c, i) => [c, i])) };
  const out: CompiledMapping[] = [];
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const add = (m: CompiledMapping) => {
    const before = seen.get(m.target);
    if (before !== undefined) {
      problems.push(`--map '${m.source}': column 1: target '${m.target}' is already defined by --map '${before}'`);
      return;
    }
    seen.set(m.target, m.source);
    out.push(m);
  };
  for (const text of maps) {
    try {
      const eq = text.indexOf('=');
      if (eq < 0) throw new MapSyntaxError(1, `expected target=expression, e.g. soc_c=max(T_cpu-*_c) (no '=' found)`);
      const target = text.slice(0, eq).trim();
      const exprText = text.slice(eq + 1);
      if (!TARGET_RE.test(target)) {
        throw new MapSyntaxError(1, `target '${target}' is not a column name (letters, digits, _ . -, at most one *)`);
      }
      if (exprText.trim().length === 0) throw new MapSyntaxError(eq + 2, 'expected an expression after =');
      const node = new Parser(lex(exprText, eq + 1)).parse();
      if (target.includes('*')) {
        if (node.kind !== 'col' || !node.glob || node.name.split('*').length !== 2 || node.name.includes('?')) {
          throw new MapSyntaxError(eq + 2, `a target with '*' needs a single glob with one '*' on the right, e.g. zone.*=T_*_c`);
        }
        const [pre, post] = node.name.split('*');
        const matches = resolveColumn(node, env);
        for (const col of matches) {
          const captured = col.slice(pre.length, col.length - post.length);
          const idx = env.index.get(col)!;
          add({ target: target.replace('*', captured), source: text, evaluate: (row) => numeric(row[idx], col) });
        }
        continue;
      }
      const fn = single(node, env);
      const plain = node.kind === 'col';
      add({ target, source: text, evaluate: plain ? fn : (row) => tidy(fn(row)) });
    } catch (e) {
      if (e instanceof MapSyntaxError) {
        problems.push(`--map '${text}': column ${e.col}: ${e.message}`);
        problems.push(`    ${text}`);
        problems.push(`    ${' '.repeat(Math.max(0, e.col - 1))}^`);
      } else throw e;
    }
  }
  if (problems.length > 0) {
    throw new UserError(`bad --map expression${maps.length > 1 ? 's' : ''}`, problems);
  }
  if (!seen.has('t_ms')) {
    throw new UserError("--map must define t_ms (the time, ms), e.g. --map 't_ms=t_s*1000' or --map 't_ms=time_s(Timestamp)*1000'");
  }
  return out;
}
