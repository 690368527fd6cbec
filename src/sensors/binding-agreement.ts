/**
 * Two bindings must read a sysfs tree identically: same signals, same faults, same per-zone
 * health, read after read. One comparison serves the x64 test (test/sensors/fixtures.test.ts)
 * and the arm64 check under emulation (scripts/arm64/agree.mjs), so the cross-built addon is
 * held to exactly the standard the host build is.
 */
import { isDeepStrictEqual } from 'node:util';
import type { SensorBinding } from '../native/binding-interface.js';
import { openSensorsSync } from './index.js';

export interface BindingDisagreement {
  /** `read 2: signals`, `zoneHealth`, … */
  what: string;
  a: unknown;
  b: unknown;
}

const silent = () => {};

/**
 * Reads `sysfsRoot` `reads` times through each binding; returns every difference (none = agree).
 * Both sources settle first: off-thread groups (the battery) are read on their own thread, and
 * how soon that first read lands is timing, not a reading (under qemu the fallback's worker
 * misses the 5 ms wait of the first read that the native thread makes).
 */
export async function compareBindingReadings(sysfsRoot: string, a: SensorBinding, b: SensorBinding, reads = 3, settleMs = 30_000): Promise<BindingDisagreement[]> {
  // A read slower than slowReadMs is moved off the main thread and reported as a fault: a
  // verdict on timing (a GC pause, emulation), not on what the binding read, so it is off here.
  const opts = { sysfsRoot, log: silent, slowReadMs: 60_000 };
  const sa = openSensorsSync({ ...opts, binding: a });
  const sb = openSensorsSync({ ...opts, binding: b });
  const out: BindingDisagreement[] = [];
  const same = (what: string, x: unknown, y: unknown) => {
    if (!isDeepStrictEqual(x, y)) out.push({ what, a: x, b: y });
  };
  try {
    const settled = [await sa.settle(settleMs), await sb.settle(settleMs)];
    if (!settled[0] || !settled[1]) out.push({ what: `settled within ${settleMs} ms`, a: settled[0], b: settled[1] });
    same('discovered zones', sa.discovery.zones, sb.discovery.zones);
    for (let i = 1; i <= reads; i++) {
      const ra = sa.read();
      const rb = sb.read();
      same(`read ${i}: signals`, ra.signals, rb.signals);
      same(`read ${i}: faults`, ra.faults, rb.faults);
    }
    same('zoneHealth', sa.zoneHealth(), sb.zoneHealth());
  } finally {
    sa.close();
    sb.close();
  }
  return out;
}
