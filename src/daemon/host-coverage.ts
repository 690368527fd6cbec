/**
 * Which canonical signals this host has NO sensor for — those the daemon takes from the
 * simulated device. Absence is read from discovery (no zone of the role, no battery supply,
 * no /proc file), not from one read: a sensor that exists but fails is a fault the governor
 * must see (and go safe on), never something to paper over with simulated numbers.
 */
import type { Discovery } from '../sensors/index.js';
import { SOC_ROLES } from '../sensors/roles.js';

export function absentSignals(d: Discovery): Set<string> {
  const zones = d.zones.filter((z) => !z.skipped);
  const hasRole = (roles: ReadonlySet<string>) => zones.some((z) => roles.has(z.role));
  const absent = new Set<string>();
  if (!zones.some((z) => z.role !== 'not-a-temperature')) absent.add('zone.*');
  if (!hasRole(SOC_ROLES)) absent.add('soc_c');
  if (!hasRole(new Set(['skin']))) absent.add('skin_c');
  if (!d.battery) {
    for (const s of ['battery_w', 'battery_pct', 'charging']) absent.add(s);
    if (!hasRole(new Set(['battery']))) absent.add('battery_c');
  } else if (!d.battery.attrs.temp && !hasRole(new Set(['battery']))) {
    absent.add('battery_c');
  }
  if (!d.meminfo.available) {
    absent.add('mem_avail_mb');
    absent.add('mem_total_mb');
  }
  if (!d.psi.available) {
    absent.add('psi_mem_some_avg10');
    absent.add('psi_mem_full_avg10');
  }
  // Nothing measures ambient on a phone or board; the simulator's is as good as none.
  absent.add('ambient_c');
  return absent;
}
