/**
 * In-memory binding for tests: file contents and errnos are set per path, PSI triggers are
 * fired or killed by hand, and trigger registration can be refused with any errno — the
 * kernel behaviours a file tree cannot express (EAGAIN/ENODATA/EIO/ENODEV reads, EPERM/EINVAL/
 * EBUSY registrations, POLLERR). Paths not set can pass through to the real filesystem so a
 * fixture tree plus a few injected faults is easy to build.
 */
import * as fs from 'node:fs';
import type {
  FileReader,
  FileSpec,
  PressureEvent,
  PressureTriggerSpec,
  PressureWatchResult,
  ReadBatch,
  SensorBinding,
  PeerCredentialsResult,
} from './binding-interface.js';
import { ERRNO, errnoName, errnoOf, triggerText } from './binding-interface.js';
import { parseKernelInt } from './int-parse.js';

export type MockEntry = { text: string } | { errno: number };

export interface MockArmed {
  readonly spec: PressureTriggerSpec;
  readonly text: string;
  readonly cb: (ev: PressureEvent) => void;
  closed: boolean;
}

export interface MockBinding extends SensorBinding {
  set(path: string, text: string): void;
  fail(path: string, errno: number): void;
  clear(path: string): void;
  /** Reports `ms` as the read time of `path` (no real sleep): exercises the slow-read watchdog. */
  delay(path: string, ms: number): void;
  /**
   * Reports the off-thread read of `path` as in flight for `pendingMs` (no real thread): the
   * last value read before the hang is what the reader returns, as the real ones do.
   * `pendingMs` 0 ends the hang.
   */
  hang(path: string, pendingMs: number): void;
  /** The specs of the most recently opened reader (which files are grouped off-thread). */
  readonly lastSpecs: readonly FileSpec[];
  /** Every trigger registration attempt, in order, with the errno returned (0 = armed). */
  readonly attempts: { text: string; path: string; errno: number }[];
  readonly armed: MockArmed[];
  /** Decides each registration; return 0 to accept or an errno to refuse. Default: accept. */
  refuse: (spec: PressureTriggerSpec) => number;
  fire(path?: string, monoMs?: number): number;
  kill(path?: string, monoMs?: number): number;
  readonly reads: number;
  readonly openReaders: number;
  /** Decides `peerCredentials(fd)`; default: the test process's own uid/gid/pid. */
  peers: (fd: number) => PeerCredentialsResult;
}

export function createMockBinding(opts: { passthrough?: boolean } = {}): MockBinding {
  const entries = new Map<string, MockEntry>();
  const delays = new Map<string, number>();
  const hangs = new Map<string, number>();
  const lastGood = new Map<string, { value: number; errno: number; text: string | undefined }>();
  let lastSpecs: readonly FileSpec[] = [];
  const attempts: { text: string; path: string; errno: number }[] = [];
  const armed: MockArmed[] = [];
  let reads = 0;
  let openReaders = 0;

  const lookup = (path: string): MockEntry => {
    const e = entries.get(path);
    if (e) return e;
    if (!opts.passthrough) return { errno: ERRNO.ENOENT };
    try {
      if (!fs.statSync(path).isFile()) return { errno: ERRNO.ESPIPE };
      return { text: fs.readFileSync(path, 'latin1') };
    } catch (err) {
      return { errno: errnoOf(err) };
    }
  };

  const mock: MockBinding = {
    name: 'mock',
    attempts,
    armed,
    refuse: () => 0,
    peers: () => ({ ok: true, pid: process.pid, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }),
    peerCredentials: (fd) => mock.peers(fd),
    get reads() {
      return reads;
    },
    get openReaders() {
      return openReaders;
    },
    get lastSpecs() {
      return lastSpecs;
    },
    hang: (path, pendingMs) => void (pendingMs > 0 ? hangs.set(path, pendingMs) : hangs.delete(path)),
    set: (path, text) => void entries.set(path, { text }),
    fail: (path, errno) => void entries.set(path, { errno }),
    clear: (path) => {
      entries.delete(path);
      delays.delete(path);
      hangs.delete(path);
    },
    delay: (path, ms) => void delays.set(path, ms),
    openReader(specs): FileReader {
      let closed = false;
      openReaders++;
      lastSpecs = specs;
      return {
        read(): ReadBatch {
          if (closed) throw new Error('reader is closed');
          reads++;
          const values = new Float64Array(specs.length).fill(NaN);
          const errnos = new Int32Array(specs.length);
          const texts: (string | undefined)[] = new Array(specs.length).fill(undefined);
          const durationsUs = Float64Array.from(specs, (s) => (delays.get(s.path) ?? 0) * 1000);
          const pendingMs = Float64Array.from(specs, (s) => (s.group !== undefined ? (hangs.get(s.path) ?? 0) : 0));
          const ageMs = new Float64Array(specs.length);
          specs.forEach((s, i) => {
            if (pendingMs[i]! > 0) {
              const g = lastGood.get(s.path);
              values[i] = g?.value ?? NaN;
              errnos[i] = g?.errno ?? ERRNO.ENODATA;
              texts[i] = g?.text;
              ageMs[i] = pendingMs[i]!;
              return;
            }
            const e = lookup(s.path);
            if ('errno' in e) errnos[i] = e.errno;
            else if (e.text.length === 0) errnos[i] = ERRNO.ENODATA;
            else if (s.kind === 'text') texts[i] = e.text;
            else {
              const v = parseKernelInt(e.text);
              if (v === undefined) errnos[i] = ERRNO.EBADMSG;
              else values[i] = v;
            }
            lastGood.set(s.path, { value: values[i]!, errno: errnos[i]!, text: texts[i] });
          });
          return { values, errnos, texts, durationsUs, ageMs, pendingMs };
        },
        get openCount() {
          return closed ? 0 : specs.length;
        },
        close() {
          if (!closed) openReaders--;
          closed = true;
        },
      };
    },
    watchPressure(spec, cb): PressureWatchResult {
      const text = triggerText(spec);
      const errno = mock.refuse(spec);
      attempts.push({ text, path: spec.path, errno });
      if (errno) return { ok: false, errno, code: errnoName(errno) };
      const a: MockArmed = { spec, text, cb, closed: false };
      armed.push(a);
      return { ok: true, handle: { mechanism: 'kernel-trigger', spec, close: () => void (a.closed = true) } };
    },
    fire(path, monoMs = Number(process.hrtime.bigint()) / 1e6) {
      let n = 0;
      for (const a of armed) if (!a.closed && (!path || a.spec.path === path)) (n++, a.cb({ type: 'fired', monoMs }));
      return n;
    },
    kill(path, monoMs = Number(process.hrtime.bigint()) / 1e6) {
      let n = 0;
      for (const a of armed)
        if (!a.closed && (!path || a.spec.path === path)) {
          a.closed = true;
          n++;
          a.cb({ type: 'gone', monoMs });
        }
      return n;
    },
    close() {
      for (const a of armed) a.closed = true;
    },
  };
  return mock;
}
