/** Shared helpers for sensor tests: fixture paths, temp copies (for FIFOs and runtime changes), bindings. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SensorBinding } from '../../src/native/binding-interface.js';
import { createFallbackBinding } from '../../src/native/fallback.js';
import { createNativeBinding, loadNativeAddon } from '../../src/native/native.js';
import type { SensorTimers } from '../../src/sensors/pressure.js';

export const fixturesDir = fileURLToPath(new URL('../fixtures/sysfs/', import.meta.url));
export const fixture = (name: string) => join(fixturesDir, name);

export const nativeAddon = loadNativeAddon().addon;
export const nativeAvailable = nativeAddon !== undefined;

/** Every binding this machine can run: native when built, always the fallback. */
export function bindings(): { name: string; make: () => SensorBinding }[] {
  const out: { name: string; make: () => SensorBinding }[] = [{ name: 'fallback', make: () => createFallbackBinding() }];
  if (nativeAddon) out.unshift({ name: 'native', make: () => createNativeBinding(nativeAddon) });
  return out;
}

/** A writable copy of a fixture tree (symlinks kept), removed by the returned cleanup. */
export function tempCopy(name: string): { root: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `edgegov-${name}-`));
  const root = join(dir, 'root');
  cpSync(fixture(name), root, { recursive: true, verbatimSymlinks: true });
  return { root, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A hand-driven clock and timer set: tests advance time explicitly, nothing real is scheduled. */
export function manualTimers(startMs = 1000) {
  let now = startMs;
  let nextId = 1;
  const timeouts = new Map<number, { at: number; fn: () => void }>();
  const intervals = new Map<number, { every: number; next: number; fn: () => void }>();
  const timers: SensorTimers & { advance(ms: number): void; pending(): number } = {
    now: () => now,
    setTimeout: (fn, ms) => (timeouts.set(nextId, { at: now + ms, fn }), nextId++),
    clearTimeout: (h) => void timeouts.delete(h as number),
    setInterval: (fn, ms) => (intervals.set(nextId, { every: ms, next: now + ms, fn }), nextId++),
    clearInterval: (h) => void intervals.delete(h as number),
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        let due: { at: number; run: () => void } | undefined;
        for (const [id, t] of timeouts) if (t.at <= end && (!due || t.at < due.at)) due = { at: t.at, run: () => (timeouts.delete(id), t.fn()) };
        for (const [, t] of intervals) if (t.next <= end && (!due || t.next < due.at)) due = { at: t.next, run: () => ((t.next += t.every), t.fn()) };
        if (!due) break;
        now = due.at;
        due.run();
      }
      now = end;
    },
    pending: () => timeouts.size + intervals.size,
  };
  return timers;
}
