/**
 * The fallback's off-thread reads: one worker thread per group of files that may stall
 * (battery attributes, anything once slow). The worker does the blocking `readSync`; results
 * cross through a SharedArrayBuffer, so the main thread's `read()` stays synchronous — it
 * kicks a cycle, waits at most `waitMs` with `Atomics.wait` (bounded; never for a group that is
 * already slow), and otherwise uses the last completed values. The same contract as the
 * addon's group threads (native/reader.cc).
 *
 * Trade-off (docs/sensors.md): a worker stuck in read() on a wedged regular file cannot be
 * interrupted; `close()` does not wait for it, but Node joins worker threads at process exit,
 * so the process exit waits until that read returns. The native reader has no such wait (its
 * detached thread dies with the process) — one more reason the addon is the default.
 */
import { Worker } from 'node:worker_threads';
import type { FileSpec } from './binding-interface.js';

// Control words (Int32): request seq, done seq, busy, current file, stop, result lock.
const REQ = 0;
const DONE = 1;
const BUSY = 2;
const CURRENT = 3;
const STOP = 4;
const LOCK = 5;
const OPEN = 6;
const BOOTED = 7;
const CTL = 8;
// Timing words (Float64): cycle start, file start, last cycle length (all hrtime ms).
const CYCLE_START = 0;
const FILE_START = 1;
const LAST_CYCLE = 2;
const TIMES = 4;
// Per-file Float64: value, errno, doneMs, durUs, text length.
const PER_FILE = 5;
const TEXT_BYTES = 4096;
/**
 * Bound on the one wait for a new worker's first cycle (boot + first reads). Generous: a worker
 * boots in 20-40 ms on an idle machine but took over 250 ms on a loaded 2-core one, and then a new
 * reader's first snapshot lacked its battery values. Paid once per reader; a hung read still
 * costs at most this once, then the usual per-cycle bound.
 */
export const FIRST_CYCLE_WAIT_MS = 1000;

/** Polls `done()` on the event loop (never blocking it) until true or `timeoutMs` passes. */
export function settleBy(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  return new Promise((resolve) => {
    const tick = () => {
      if (done()) return resolve(true);
      if (performance.now() >= until) return resolve(false);
      setTimeout(tick, 1);
    };
    tick();
  });
}

export const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

// Plain CommonJS so it runs from the compiled dist/ and under the test runner alike.
const WORKER_SOURCE = `
const fs = require('node:fs');
const { workerData } = require('node:worker_threads');
const { files, ctlBuf, timeBuf, resBuf, textBuf } = workerData;
const ctl = new Int32Array(ctlBuf), times = new Float64Array(timeBuf), res = new Float64Array(resBuf);
const text = new Uint8Array(textBuf);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const C = ${JSON.stringify({ REQ, DONE, BUSY, CURRENT, STOP, LOCK, OPEN, BOOTED, CYCLE_START, FILE_START, LAST_CYCLE, PER_FILE, TEXT_BYTES })};
const ERR = { ENODATA: 61, EBADMSG: 74, ESPIPE: 29, EIO: 5, EAGAIN: 11 };
const errnoOf = (e) => (e && typeof e.errno === 'number' ? Math.abs(e.errno) : ERR.EIO);
const lock = () => { while (Atomics.compareExchange(ctl, C.LOCK, 0, 1) !== 0) {} };
const unlock = () => Atomics.store(ctl, C.LOCK, 0);
const open = files.map((f) => {
  try {
    const fd = fs.openSync(f.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const regular = fs.fstatSync(fd).isFile();
    if (!regular && !f.testAllowNonRegular) { fs.closeSync(fd); return { fd: -1, err: ERR.ESPIPE }; }
    return { fd, regular, err: 0, buf: Buffer.alloc(f.kind === 'text' ? 4096 : 128) };
  } catch (e) { return { fd: -1, err: errnoOf(e) }; }
});
Atomics.store(ctl, C.OPEN, open.filter((o) => o.fd >= 0).length);
Atomics.store(ctl, C.BOOTED, 1);
Atomics.notify(ctl, C.BOOTED);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
function readOnce(o) {
  if (o.regular) {
    for (;;) {
      const n = fs.readSync(o.fd, o.buf, 0, o.buf.length, 0);
      if (n < o.buf.length || o.buf.length >= 1 << 22) return n;
      o.buf = Buffer.alloc(o.buf.length * 2);
    }
  }
  // Test stand-in (FIFO/tty), opened non-blocking: wait for data in short naps so a stop
  // request can always end this thread.
  for (;;) {
    try { return fs.readSync(o.fd, o.buf, 0, o.buf.length, null); }
    catch (e) { if (e.code !== 'EAGAIN') throw e; }
    if (Atomics.load(ctl, C.STOP)) return -1;
    Atomics.wait(sleeper, 0, 0, 5);
  }
}
function parseInt10(s) {
  const t = s.trim();
  if (!/^[+-]?\\d+$/.test(t)) return undefined;
  const v = Number(t);
  return Number.isSafeInteger(v) ? v : undefined;
}
let seen = 0;
for (;;) {
  Atomics.wait(ctl, C.REQ, seen);
  if (Atomics.load(ctl, C.STOP)) break;
  const target = Atomics.load(ctl, C.REQ);
  seen = target;
  times[C.CYCLE_START] = now();
  Atomics.store(ctl, C.BUSY, 1);
  let stopped = false;
  for (let k = 0; k < files.length && !stopped; k++) {
    times[C.FILE_START] = now();
    Atomics.store(ctl, C.CURRENT, k);
    const o = open[k];
    let value = NaN, err = o.err, str;
    const t0 = now();
    if (o.fd >= 0) {
      try {
        const n = readOnce(o);
        if (n < 0) { stopped = true; break; }
        if (n === 0) err = ERR.ENODATA;
        else {
          const s = o.buf.toString('latin1', 0, n);
          if (files[k].kind === 'text') { str = s; err = 0; }
          else { const v = parseInt10(s); if (v === undefined) err = ERR.EBADMSG; else { value = v; err = 0; } }
        }
      } catch (e) { err = errnoOf(e); }
    }
    const t1 = now();
    lock();
    const b = k * C.PER_FILE;
    res[b] = value; res[b + 1] = err; res[b + 2] = t1; res[b + 3] = (t1 - t0) * 1000;
    if (str !== undefined) {
      const bytes = Buffer.from(str, 'latin1').subarray(0, C.TEXT_BYTES);
      text.set(bytes, k * C.TEXT_BYTES);
      res[b + 4] = bytes.length;
    } else res[b + 4] = -1;
    unlock();
    if (Atomics.load(ctl, C.STOP)) stopped = true;
  }
  Atomics.store(ctl, C.CURRENT, -1);
  times[C.LAST_CYCLE] = now() - times[C.CYCLE_START];
  Atomics.store(ctl, C.BUSY, 0);
  Atomics.store(ctl, C.DONE, target);
  Atomics.notify(ctl, C.DONE);
  if (stopped) break;
}
for (const o of open) if (o.fd >= 0) try { fs.closeSync(o.fd); } catch {}
Atomics.store(ctl, C.OPEN, 0);
`;

export interface OffThreadResult {
  value: number;
  errno: number;
  text: string | undefined;
  ageMs: number;
  pendingMs: number;
  durationUs: number;
}

export class OffThreadGroup {
  private readonly ctl: Int32Array;
  private readonly times: Float64Array;
  private readonly res: Float64Array;
  private readonly text: Uint8Array;
  private readonly worker: Worker;
  private closed = false;
  private firstWaited = false;

  constructor(
    files: readonly FileSpec[],
    private readonly waitMs: number,
  ) {
    const ctlBuf = new SharedArrayBuffer(CTL * 4);
    const timeBuf = new SharedArrayBuffer(TIMES * 8);
    const resBuf = new SharedArrayBuffer(Math.max(1, files.length * PER_FILE) * 8);
    const textBuf = new SharedArrayBuffer(Math.max(1, files.length) * TEXT_BYTES);
    this.ctl = new Int32Array(ctlBuf);
    this.times = new Float64Array(timeBuf);
    this.res = new Float64Array(resBuf);
    this.text = new Uint8Array(textBuf);
    for (let k = 0; k < files.length; k++) {
      this.res[k * PER_FILE] = NaN;
      this.res[k * PER_FILE + 1] = 61; // ENODATA: no sample yet
      this.res[k * PER_FILE + 2] = NaN;
      this.res[k * PER_FILE + 4] = -1;
    }
    this.ctl[CURRENT] = -1;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        files: files.map((f) => ({ path: f.path, kind: f.kind, testAllowNonRegular: f.testAllowNonRegular === true })),
        ctlBuf,
        timeBuf,
        resBuf,
        textBuf,
      },
    });
    // An idle reader must never keep the process alive; errors end up as "no sample yet".
    this.worker.unref();
    this.worker.on('error', () => {});
    this.kick(); // the first cycle starts as soon as the worker is up
  }

  /** Starts a cycle unless one is in flight; returns true if one was started. */
  kick(): boolean {
    if (this.closed) return false;
    if (Atomics.load(this.ctl, REQ) !== Atomics.load(this.ctl, DONE)) return false;
    Atomics.add(this.ctl, REQ, 1);
    Atomics.notify(this.ctl, REQ);
    return true;
  }

  /**
   * Waits (bounded) for a young cycle of a normally fast group. The very first cycle also
   * waits for the worker to boot (~20-40 ms measured here), once, at most FIRST_CYCLE_WAIT_MS
   * (then, as usual, ≤ waitMs for the cycle itself):
   * a new reader's first snapshot then has its battery values, as with the addon.
   */
  waitFresh(readStartMs: number): void {
    const req = Atomics.load(this.ctl, REQ);
    let deadline: number;
    if (!this.firstWaited) {
      // A new worker's first cycle: boot plus first reads, one bounded wait (an async open has
      // already awaited it in settle(), which skips this).
      this.firstWaited = true;
      deadline = readStartMs + FIRST_CYCLE_WAIT_MS;
    } else {
      const busy = Atomics.load(this.ctl, BUSY) === 1;
      const young = !busy || readStartMs - this.times[CYCLE_START]! < this.waitMs;
      if (!young || this.times[LAST_CYCLE]! > this.waitMs) return;
      deadline = readStartMs + this.waitMs;
    }
    for (;;) {
      const done = Atomics.load(this.ctl, DONE);
      if (done >= req) return;
      const left = deadline - monoMs();
      if (left <= 0) return;
      Atomics.wait(this.ctl, DONE, done, left);
    }
  }

  /** The first cycle was awaited asynchronously (settle): no blocking first-cycle wait. */
  skipFirstWait(): void {
    this.firstWaited = true;
  }



  get settled(): boolean {
    return Atomics.load(this.ctl, DONE) > 0;
  }

  result(k: number): OffThreadResult {
    while (Atomics.compareExchange(this.ctl, LOCK, 0, 1) !== 0) {
      /* the worker holds it only for a copy */
    }
    const b = k * PER_FILE;
    const len = this.res[b + 4]!;
    const text = len >= 0 ? Buffer.from(this.text.buffer, k * TEXT_BYTES, len).toString('latin1') : undefined;
    const out = { value: this.res[b]!, errno: this.res[b + 1]!, doneMs: this.res[b + 2]!, durationUs: this.res[b + 3]! };
    Atomics.store(this.ctl, LOCK, 0);
    const now = monoMs();
    const current = Atomics.load(this.ctl, CURRENT);
    const busy = Atomics.load(this.ctl, BUSY) === 1;
    const pendingMs = busy && current >= 0 && k >= current ? now - (k === current ? this.times[FILE_START]! : this.times[CYCLE_START]!) : 0;
    return {
      value: out.value,
      errno: out.errno,
      text,
      ageMs: Number.isNaN(out.doneMs) ? NaN : now - out.doneMs,
      pendingMs,
      durationUs: out.durationUs,
    };
  }

  /** Descriptors the worker holds (0 before it has opened them and after it has closed them). */
  get openCount(): number {
    return Atomics.load(this.ctl, OPEN);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctl, STOP, 1);
    // No terminate(): a responsive worker ends by itself and closes its fds (terminate could
    // cut it off before that); one inside a wedged read() could not be stopped by it anyway.
    Atomics.notify(this.ctl, REQ);
  }
}
