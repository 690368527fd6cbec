/**
 * The `--decisions` file: one JSON decision per line. Chunked synchronous writes, like the
 * trace writer, so a replay with millions of changes never holds them all in memory and
 * every line on disk is whole.
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import type { Decision } from '../core/decision.js';
import { writeErrorFrom } from '../trace/write-error.js';

export interface DecisionsOut {
  write(decision: Decision): void;
  close(): void;
  readonly count: number;
}

export function openDecisionsOut(path: string, flushChars = 64 * 1024): DecisionsOut {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (err) {
    throw writeErrorFrom(err, path);
  }
  let chunk = '';
  let count = 0;
  let closed = false;
  const flush = () => {
    if (chunk.length === 0) return;
    const buf = Buffer.from(chunk, 'utf8');
    chunk = '';
    try {
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      throw writeErrorFrom(err, path);
    }
  };
  return {
    write(d) {
      chunk += JSON.stringify(d) + '\n';
      count++;
      if (chunk.length >= flushChars) flush();
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        flush();
      } finally {
        closeSync(fd);
      }
    },
    get count() {
      return count;
    },
  };
}
