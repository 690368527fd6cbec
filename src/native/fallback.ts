/**
 * Pure-TypeScript binding: the same contract as the addon, on kept-open descriptors read with
 * `fs.readSync(fd, buf, 0, n, 0)` — measured to cost about the same per file as C's pread
 * (research 02 §6.1); what it lacks is the single call for the whole batch. PSI events come
 * from polling `total=` (poll-pressure.ts).
 */
import * as fs from 'node:fs';
import type { FileReader, FileSpec, ReadBatch, SensorBinding } from './binding-interface.js';
import { ERRNO, errnoOf } from './binding-interface.js';
import { parseKernelInt } from './int-parse.js';
import { pollPressure, realTimers, type PollTimers } from './poll-pressure.js';
import { monoMs, OffThreadGroup, settleBy } from './fallback-offthread.js';

/** Same bound as the addon's (native.ts OFF_THREAD_WAIT_MS), kept here to avoid an import cycle. */
const OFF_THREAD_WAIT_MS = 5;

interface OpenFile {
  readonly spec: FileSpec;
  fd: number;
  openErrno: number;
  buf: Buffer;
}

function openOne(spec: FileSpec): OpenFile {
  const f: OpenFile = { spec, fd: -1, openErrno: 0, buf: Buffer.alloc(spec.kind === 'text' ? 4096 : 128) };
  try {
    // O_NONBLOCK so that opening a FIFO (a wedged device stand-in) returns at once.
    const fd = fs.openSync(spec.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    if (!fs.fstatSync(fd).isFile()) {
      fs.closeSync(fd);
      f.openErrno = ERRNO.ESPIPE;
    } else {
      f.fd = fd;
    }
  } catch (err) {
    f.openErrno = errnoOf(err);
  }
  return f;
}

/** Whole-file read from offset 0, doubling the buffer when it comes back full. */
function readWhole(f: OpenFile): number {
  for (;;) {
    const n = fs.readSync(f.fd, f.buf, 0, f.buf.length, 0);
    if (n < f.buf.length || f.buf.length >= 1 << 22) return n;
    f.buf = Buffer.alloc(f.buf.length * 2);
  }
}

export function openFallbackReader(specs: readonly FileSpec[]): FileReader {
  // Grouped files (may stall) go to a worker per group; the rest are read here.
  const byGroup = new Map<string, number[]>();
  specs.forEach((s, i) => {
    if (s.group !== undefined) byGroup.set(s.group, [...(byGroup.get(s.group) ?? []), i]);
  });
  const groups = [...byGroup.values()].map((idx) => ({ idx, g: new OffThreadGroup(idx.map((i) => specs[i]!), OFF_THREAD_WAIT_MS) }));
  const files = specs.map((s) => (s.group === undefined ? openOne(s) : { spec: s, fd: -1, openErrno: 0, buf: Buffer.alloc(0) }));
  let closed = false;
  return {
    read(): ReadBatch {
      if (closed) throw new Error('reader is closed');
      const readStartMs = monoMs();
      for (const { g } of groups) g.kick();
      const n = files.length;
      const values = new Float64Array(n);
      const errnos = new Int32Array(n);
      const texts: (string | undefined)[] = new Array(n).fill(undefined);
      const durationsUs = new Float64Array(n);
      const ageMs = new Float64Array(n);
      const pendingMs = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const f = files[i]!;
        values[i] = NaN;
        if (f.spec.group !== undefined) continue;
        if (f.fd < 0) {
          errnos[i] = f.openErrno;
          continue;
        }
        let got: number;
        const t0 = performance.now();
        try {
          got = readWhole(f);
        } catch (err) {
          errnos[i] = errnoOf(err);
          continue;
        } finally {
          durationsUs[i] = (performance.now() - t0) * 1000;
        }
        if (got === 0) {
          errnos[i] = ERRNO.ENODATA;
          continue;
        }
        const text = f.buf.toString('latin1', 0, got);
        if (f.spec.kind === 'text') {
          texts[i] = text;
        } else {
          const v = parseKernelInt(text);
          if (v === undefined) errnos[i] = ERRNO.EBADMSG;
          else values[i] = v;
        }
      }
      for (const { idx, g } of groups) {
        g.waitFresh(readStartMs);
        idx.forEach((i, k) => {
          const r = g.result(k);
          values[i] = r.value;
          errnos[i] = r.errno;
          texts[i] = r.text;
          durationsUs[i] = r.durationUs;
          ageMs[i] = r.ageMs;
          pendingMs[i] = r.pendingMs;
        });
      }
      return { values, errnos, texts, durationsUs, ageMs, pendingMs };
    },
    get openCount() {
      return files.filter((f) => f.fd >= 0).length + groups.reduce((a, { g }) => a + g.openCount, 0);
    },
    settle: async (timeoutMs) => {
      const ok = await settleBy(() => groups.every(({ g }) => g.settled), timeoutMs);
      for (const { g } of groups) g.skipFirstWait();
      return ok;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const { g } of groups) g.close();
      for (const f of files) {
        if (f.fd >= 0) fs.closeSync(f.fd);
        f.fd = -1;
      }
    },
  };
}

/** What access rests on when peers cannot be identified (docs/protocol.md, "Who may do what"). */
export const FALLBACK_PEER_WHY =
  'the TypeScript fallback cannot read SO_PEERCRED (Node has no API for it): peers are not checked, access rests on ' +
  "the socket file mode 0660 and its group alone, and every peer that can connect may reload and report";

export function createFallbackBinding(timers: PollTimers = realTimers): SensorBinding {
  const watches = new Set<{ close(): void }>();
  return {
    name: 'fallback',
    openReader: openFallbackReader,
    watchPressure(spec, cb) {
      const r = pollPressure(spec, cb, timers);
      if (r.ok) watches.add(r.handle);
      return r;
    },
    peerCredentials: () => ({ ok: false, unsupported: true, why: FALLBACK_PEER_WHY }),
    close() {
      for (const w of watches) w.close();
      watches.clear();
    },
  };
}
