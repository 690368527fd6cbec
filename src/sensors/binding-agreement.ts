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

/** Reads `sysfsRoot` `reads` times through each binding; returns every difference (none = agree). */
export function compareBindingReadings(sysfsRoot: string, a: SensorBinding, b: SensorBinding, reads = 3): BindingDisagreement[] {
  const sa = openSensorsSync({ sysfsRoot, binding: a, log: silent });
  const sb = openSensorsSync({ sysfsRoot, binding: b, log: silent });
  const out: BindingDisagreement[] = [];
  const same = (what: string, x: unknown, y: unknown) => {
    if (!isDeepStrictEqual(x, y)) out.push({ what, a: x, b: y });
  };
  try {
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
