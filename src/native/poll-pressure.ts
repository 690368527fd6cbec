/**
 * PSI without triggers: poll the `total=` field of a pressure file and fire when the stall time
 * accumulated over the last window reaches the threshold — the same rule the kernel applies to
 * a trigger, at the poll period's resolution. `total` is refreshed on every read while the
 * avg10 figures move only every 2 s (research 02 §1.1), so this is the useful fallback when the
 * kernel refuses a trigger (EPERM before 6.4, SELinux, read-only pressure file).
 */
import * as fs from 'node:fs';
import type { PressureEvent, PressureTriggerSpec, PressureWatchHandle, PressureWatchResult } from './binding-interface.js';
import { errnoOf, errnoName } from './binding-interface.js';
import { parsePsi } from './psi-text.js';

export interface PollTimers {
  /** Monotonic ms, same clock as the native events (process.hrtime). */
  now(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const realTimers: PollTimers = {
  now: () => Number(process.hrtime.bigint()) / 1e6,
  setInterval: (fn, ms) => {
    const h = setInterval(fn, ms);
    h.unref(); // a sensor poller must never keep the process alive on its own
    return h;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/** Reads the file's text; throws the fs error (the caller maps it to an errno). */
export type TextSource = () => string;

export function fdTextSource(path: string): { source: TextSource; close(): void } {
  const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  if (!fs.fstatSync(fd).isFile()) {
    fs.closeSync(fd);
    throw Object.assign(new Error(`${path}: not a regular file`), { code: 'ESPIPE' });
  }
  const buf = Buffer.alloc(1024);
  return {
    source: () => {
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return buf.toString('latin1', 0, n);
    },
    close: () => fs.closeSync(fd),
  };
}

/**
 * Starts a poller. The poll period is a quarter of the window (at most 500 ms, at least 50 ms),
 * so a threshold crossing is seen within ~¼ window of the kernel seeing it.
 */
export function pollPressure(
  spec: PressureTriggerSpec,
  cb: (ev: PressureEvent) => void,
  timers: PollTimers = realTimers,
  openSource: (path: string) => { source: TextSource; close(): void } = fdTextSource,
): PressureWatchResult {
  let src: { source: TextSource; close(): void };
  try {
    src = openSource(spec.path);
    src.source(); // the first read must work, or there is nothing to poll
  } catch (err) {
    const errno = errnoOf(err);
    return { ok: false, errno, code: errnoName(errno) };
  }
  const windowMs = spec.windowUs / 1000;
  const periodMs = Math.max(50, Math.min(500, windowMs / 4));
  const history: { t: number; totalUs: number }[] = [];
  let lastFireMs = -Infinity;
  let closed = false;
  let timer: unknown;

  const stop = () => {
    if (closed) return;
    closed = true;
    timers.clearInterval(timer);
    try {
      src.close();
    } catch {
      /* already gone */
    }
  };

  const tick = () => {
    if (closed) return;
    const t = timers.now();
    let totalUs: number | undefined;
    try {
      totalUs = parsePsi(src.source())[spec.kind]?.totalUs;
    } catch {
      // The file vanished (cgroup removed, psi disabled): the poller equivalent of POLLERR.
      stop();
      cb({ type: 'gone', monoMs: t });
      return;
    }
    if (totalUs === undefined) return;
    // A decreasing total means a new cgroup under the same path: start the window again.
    if (history.length && totalUs < history[history.length - 1]!.totalUs) history.length = 0;
    history.push({ t, totalUs });
    while (history.length > 1 && history[1]!.t <= t - windowMs) history.shift();
    const stalledUs = totalUs - history[0]!.totalUs;
    // One event per window at most, as the kernel rate-limits triggers.
    if (stalledUs >= spec.stallUs && t - lastFireMs >= windowMs) {
      lastFireMs = t;
      cb({ type: 'fired', monoMs: t });
    }
  };
  tick();
  timer = timers.setInterval(tick, periodMs);
  const handle: PressureWatchHandle = { mechanism: 'poll-total', spec, close: stop };
  return { ok: true, handle };
}
