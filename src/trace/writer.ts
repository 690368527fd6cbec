/**
 * Streaming trace writer (SPEC §4): CSV or JSONL, chosen by the file extension.
 *
 * Rows are formatted into an in-memory chunk and flushed to the file descriptor with
 * synchronous writes once the chunk passes `flushBytes`. Synchronous flushing is the
 * backpressure story: the producer (recorder at 10 Hz, simulator at full speed) cannot
 * outrun the disk, so memory stays bounded by one chunk no matter how long the trace.
 * Rows are only ever written whole, so a crash leaves at most an unflushed tail, never a
 * torn line in the middle of the file.
 */
import { openSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import type { Sample } from '../core/signals.js';
import { UserError } from '../util/errors.js';
import { writeErrorFrom } from './write-error.js';

export type TraceFormat = 'csv' | 'jsonl';

export interface TraceWriterOptions {
  /** Override the format the extension implies. */
  format?: TraceFormat;
  /** `# ` comment lines written before the header (CSV) or first row (JSONL). */
  comments?: string[];
  /** Flush the chunk once it holds this many characters (default 64 KiB). */
  flushBytes?: number;
  /** Append to an existing file instead of truncating (no header/comments are written). */
  append?: boolean;
}

export interface TraceWriter {
  /** The columns actually written, `t_ms` first. */
  readonly columns: readonly string[];
  readonly format: TraceFormat;
  /** Queues one sample; signals not in `columns` are ignored, missing/NaN/±Inf become "no reading". */
  write(sample: Sample): void;
  /** Pushes the buffered rows to the file now (e.g. once per second from a recorder). */
  flush(): void;
  /** Flushes, fsyncs and closes. Safe to call twice. */
  close(): Promise<void>;
}

/** `.jsonl` / `.ndjson` → JSONL; everything else → CSV. */
export function formatFromPath(path: string): TraceFormat | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  return undefined;
}

/**
 * Shortest text that parses back to exactly the same double (JS's Number→String already
 * guarantees round-tripping); `-0` is spelled out because String(-0) drops the sign.
 */
export function formatNumber(v: number): string {
  if (Object.is(v, -0)) return '-0';
  return String(v);
}

export function createTraceWriter(path: string, columns: string[], opts: TraceWriterOptions = {}): TraceWriter {
  // A `.json` name would get CSV inside (the reader then sniffs it back as CSV): say so now.
  if (opts.format === undefined && path.toLowerCase().endsWith('.json')) {
    throw new UserError(`${path}: a trace is CSV or JSONL, not one JSON document; name it .jsonl (one JSON object per line) or .csv`);
  }
  const format: TraceFormat = opts.format ?? formatFromPath(path) ?? 'csv';
  const cols = normaliseColumns(columns, format);
  const flushBytes = opts.flushBytes ?? 64 * 1024;

  let fd: number;
  try {
    fd = openSync(path, opts.append ? 'a' : 'w');
  } catch (err) {
    throw writeErrorFrom(err, path);
  }

  let chunk = '';
  let closed = false;
  const jsonKeys = cols.map((c) => JSON.stringify(c) + ':');

  const push = (text: string): void => {
    chunk += text;
    if (chunk.length >= flushBytes) flush();
  };

  const flush = (): void => {
    if (chunk.length === 0) return;
    const data = chunk;
    chunk = '';
    try {
      // writeSync may write fewer bytes than asked on some file types (pipes); loop until done.
      const buf = Buffer.from(data, 'utf8');
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      throw writeErrorFrom(err, path);
    }
  };

  if (!opts.append) {
    for (const c of opts.comments ?? []) {
      for (const line of c.split('\n')) push(`# ${line}\n`);
    }
    if (format === 'csv') push(cols.join(',') + '\n');
  }

  const write = (sample: Sample): void => {
    if (closed) throw new Error(`trace writer for ${path} is closed`);
    const t = sample.t_ms;
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw new UserError(`${path}: cannot write a sample without a finite t_ms (got ${String(t)})`);
    }
    if (format === 'csv') {
      let line = formatNumber(t);
      for (let i = 1; i < cols.length; i++) {
        const v = sample[cols[i]];
        line += typeof v === 'number' && Number.isFinite(v) ? ',' + formatNumber(v) : ',';
      }
      push(line + '\n');
    } else {
      let line = '{' + jsonKeys[0] + formatNumber(t);
      for (let i = 1; i < cols.length; i++) {
        const v = sample[cols[i]];
        if (typeof v === 'number' && Number.isFinite(v)) line += ',' + jsonKeys[i] + formatNumber(v);
      }
      push(line + '}\n');
    }
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    try {
      flush();
      try {
        fsyncSync(fd);
      } catch {
        // fsync is unsupported on pipes and some special files; the data is written anyway.
      }
    } finally {
      closeSync(fd);
    }
  };

  return { columns: cols, format, write, flush, close };
}

/** `t_ms` first, no duplicates, and no names that would break the CSV header. */
function normaliseColumns(columns: string[], format: TraceFormat): string[] {
  const seen = new Set<string>();
  const out = ['t_ms'];
  seen.add('t_ms');
  for (const c of columns) {
    if (c === 't_ms') continue;
    if (c.length === 0) throw new UserError('trace writer: empty column name');
    if (format === 'csv' && /[,"\r\n]/.test(c)) {
      throw new UserError(`trace writer: column name ${JSON.stringify(c)} cannot appear in a CSV header`);
    }
    if (seen.has(c)) throw new UserError(`trace writer: duplicate column '${c}'`);
    seen.add(c);
    out.push(c);
  }
  return out;
}
