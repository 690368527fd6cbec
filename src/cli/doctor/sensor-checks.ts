/**
 * Doctor lines about what the sensors give: every discovered zone, the SoC and skin
 * temperatures, the battery, memory and PSI (the file, then whether a trigger arms).
 * Reads once through the same `SensorSource` the daemon uses, so a verdict here is what
 * `run` will see on its first sample.
 */
import type { SensorSnapshot, SensorSource, ZoneHealth } from '../../sensors/index.js';
import { SOC_ROLES } from '../../sensors/roles.js';
import { explainNoPsi, explainRefusal } from './psi-why.js';
import { line, type DoctorLine } from './line.js';

const PERMISSION_FIX =
  'grant the daemon read access: on Linux check the file mode and the unit\'s User=; on Android the edgegov SELinux domain needs read on sysfs_thermal / sysfs_batteryinfo';

const celsius = (v: number) => `${v.toFixed(1)} °C`;

function zoneLine(z: ZoneHealth, problem: string | undefined): DoctorLine {
  const where = `${z.dir} (${z.source})`;
  if (z.health === 'skipped') return line(z.key, 'warn', `${where}: ${z.reason}`, 'not read by edgegov; nothing to change unless this zone matters');
  if (z.health !== 'ok') {
    const denied = /permission denied/.test(z.reason ?? '');
    return line(z.key, 'warn', `${where}, role ${z.role}: ${z.reason}; the governor sees it as faulty`,
      denied ? PERMISSION_FIX : 'if it never reads, leave it out of the policy\'s zone patterns');
  }
  if (z.role === 'not-a-temperature') return line(z.key, 'info', `${where}: raw ${z.raw} (${z.reason}); not a temperature, never part of soc_c`);
  if (problem) return line(z.key, 'warn', `${where}: ${z.tempC !== undefined ? celsius(z.tempC) : `raw ${z.raw}`}, ${problem}`, `check that ${z.dir}/type is readable`);
  if (z.role === 'unknown') return line(z.key, 'info', `${where}: ${celsius(z.tempC!)}, role unknown: recorded, not part of soc_c or skin_c unless a policy names it`);
  return line(z.key, 'ok', `${where}: ${celsius(z.tempC!)}, role ${z.role}`);
}

function zoneLines(src: SensorSource): DoctorLine[] {
  const zones = src.zoneHealth();
  const problems = new Map(src.discovery.problems.map((p) => [p.signal, p.reason]));
  const temps = zones.filter((z) => z.role !== 'not-a-temperature');
  const readable = temps.filter((z) => z.health === 'ok');
  const root = src.discovery.root;
  let summary: DoctorLine;
  if (temps.length === 0) {
    summary = line('zones', 'fail',
      `no thermal zones or hwmon temperatures under ${root} (sys/class/thermal/thermal_zone*/temp, sys/class/hwmon/hwmon*/temp*_input)${zones.length ? `; only ${zones.length} non-temperature zone(s)` : ''}`,
      'load the SoC\'s thermal driver (CONFIG_THERMAL and the tsadc/tsens/bcm2835 driver); in a container bind-mount /sys/class/thermal; for a demo only, run --simulate auto');
  } else if (readable.length === 0) {
    summary = line('zones', 'fail', `${temps.length} temperature zone(s) found, none readable`, 'see the zone lines below');
  } else {
    const faulty = temps.length - readable.length;
    summary = line('zones', faulty ? 'warn' : 'ok',
      `${zones.length} zone(s): ${readable.length} temperature(s) read${faulty ? `, ${faulty} faulty or skipped` : ''}${zones.length - temps.length ? `, ${zones.length - temps.length} not temperatures` : ''}`);
  }
  return [summary, ...zones.map((z) => zoneLine(z, problems.get(z.key)))];
}

function faultsOf(snap: SensorSnapshot, ...signals: string[]): string[] {
  return snap.faults.filter((f) => signals.includes(f.signal)).map((f) => f.reason);
}

function socLine(src: SensorSource, snap: SensorSnapshot): DoctorLine {
  const soc = snap.signals.soc_c;
  const feeding = src.zoneHealth().filter((z) => SOC_ROLES.has(z.role) && z.health === 'ok');
  if (soc !== undefined) {
    const names = feeding.map((z) => z.type);
    return line('soc_c', 'ok', `${celsius(soc)}: hottest of ${names.length} CPU/GPU/NPU/SoC zone(s) (${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''})`);
  }
  return line('soc_c', 'fail',
    `soc_c is missing (${faultsOf(snap, 'soc_c').join('; ')}): every shipped policy marks soc_c critical, so run would hold the safe tier, or with --simulate auto govern on a simulated SoC`,
    'the board needs a readable CPU/GPU/SoC thermal zone; see the zones line');
}

function skinLine(src: SensorSource, snap: SensorSnapshot): DoctorLine {
  const skin = snap.signals.skin_c;
  if (skin !== undefined) return line('skin_c', 'ok', `${celsius(skin)} from a skin thermistor zone`);
  const broken = src.zoneHealth().filter((z) => z.role === 'skin');
  if (broken.length) return line('skin_c', 'warn', `skin zone(s) ${broken.map((z) => z.type).join(', ')} found but none read: skin_c has no reading`, 'see the zone lines; a policy can take skin_c from a virtual sensor instead');
  return line('skin_c', 'info', 'no skin thermistor zone: boards have none; phones take skin_c from a virtual sensor in the policy (source: weighted)');
}

function batteryLine(src: SensorSource, snap: SensorSnapshot): DoctorLine {
  const d = src.discovery;
  if (!d.battery) return line('battery', 'info', `no battery: ${d.batteryWhy} (mains powered; battery limits never apply)`);
  const faults = faultsOf(snap, 'battery_w', 'battery_pct', 'charging');
  const s = snap.signals;
  const parts = [
    s.battery_pct !== undefined ? `${s.battery_pct} %` : undefined,
    s.battery_w !== undefined ? `${Math.abs(s.battery_w).toFixed(2)} W ${s.battery_w >= 0 ? 'discharging' : 'charging'}` : undefined,
    s.charging !== undefined ? (s.charging ? 'on charger' : 'not charging') : undefined,
  ].filter(Boolean);
  const others = d.otherBatteries.length ? `; also ${d.otherBatteries.join(', ')} (same cell, not used)` : '';
  const what = `power_supply/${d.battery.name}: ${parts.join(', ') || 'no readings'}${others}`;
  if (!faults.length) return line('battery', 'ok', what);
  const denied = faults.some((f) => /permission denied/.test(f));
  return line('battery', 'warn', `${what}; ${faults.join('; ')}`,
    denied ? PERMISSION_FIX : 'battery limits use what reads; a missing battery_w leaves only charge-level limits');
}

function memoryLine(src: SensorSource, snap: SensorSnapshot): DoctorLine {
  const m = src.discovery.meminfo;
  if (!m.available) return line('memory', 'warn', `${m.why}: memory limits never apply`, 'make /proc/meminfo readable to the daemon');
  const s = snap.signals;
  const what = `proc/meminfo: ${s.mem_avail_mb !== undefined ? Math.round(s.mem_avail_mb) : '—'} MiB available of ${s.mem_total_mb !== undefined ? Math.round(s.mem_total_mb) : '—'} MiB`;
  const faults = faultsOf(snap, 'mem_avail_mb', 'mem_total_mb');
  return faults.length ? line('memory', 'warn', `${what}; ${faults.join('; ')}`) : line('memory', 'ok', what);
}

function psiLines(src: SensorSource, snap: SensorSnapshot): DoctorLine[] {
  const d = src.discovery;
  if (!d.psi.available) {
    const e = explainNoPsi(d.root, d.psi.why);
    return [
      line('psi', 'warn', `no memory PSI: ${e.why}; memory pressure is estimated from ${d.vmstat.available ? 'proc/vmstat refaults' : 'meminfo alone (no proc/vmstat either)'}`, e.fix),
      line('psi.trigger', 'warn', 'no PSI file, so no trigger: pressure is seen at the sample rate only, never between samples (fix the psi line)'),
    ];
  }
  const s = snap.signals;
  const pct = (v: number | undefined) => (v === undefined ? '—' : `${v} %`);
  const fullMissing = faultsOf(snap, 'psi_mem_full_avg10');
  const file = fullMissing.length
    ? line('psi', 'warn', `proc/pressure/memory: some avg10 ${pct(s.psi_mem_some_avg10)}; ${fullMissing.join('; ')}: limits on psi_mem_full_avg10 never apply`)
    : line('psi', 'ok', `proc/pressure/memory: some avg10 ${pct(s.psi_mem_some_avg10)}, full avg10 ${pct(s.psi_mem_full_avg10)}`);
  return [file, triggerLine(src)];
}

/** Arms the daemon's triggers once (as `run` does when it subscribes) and says what happened. */
function triggerLine(src: SensorSource): DoctorLine {
  src.onPressure(() => {})();
  const st = src.pressureStatus();
  const path = st.path ?? 'proc/pressure/memory';
  const armed = st.triggers.filter((t) => t.mechanism === 'kernel-trigger');
  const desc = (t: (typeof st.triggers)[number]) => `${t.requested}${t.armed && t.armed !== t.requested ? ` (as ${t.armed})` : ''}`;
  if (armed.length === st.triggers.length && armed.length > 0) {
    const retried = [...new Set(armed.flatMap((t) => t.refusals))];
    const whys = [...new Set(retried.map((r) => explainRefusal(r, path).why))];
    return line('psi.trigger', 'ok', `kernel trigger armed: ${armed.map(desc).join('; ')}${retried.length ? ` after ${retried.join(', ')}: ${whys.join('; ')}` : ''}`);
  }
  const polled = st.triggers.filter((t) => t.mechanism === 'poll-total');
  const refusals = [...new Set(st.triggers.flatMap((t) => t.refusals))];
  if (src.binding === 'fallback' && refusals.length === 0) {
    return line('psi.trigger', 'warn',
      `the TypeScript fallback reader cannot arm kernel triggers; run polls total= instead (${polled.map((t) => t.armed ?? t.requested).join('; ')}), events up to ~0.5 s late`,
      'build the native addon (npm ci or npm rebuild on the board, or ship the prebuild) and leave EDGEGOV_NATIVE unset');
  }
  const reasons = [...new Map(refusals.map((r) => explainRefusal(r, path)).map((e) => [e.why, e])).values()];
  const none = st.triggers.filter((t) => t.mechanism === 'none');
  const fallbackText = polled.length
    ? `run polls total= instead (${polled.map((t) => t.armed ?? t.requested).join('; ')}), pressure events up to ~0.5 s late`
    : 'polling failed too';
  return line('psi.trigger', 'warn',
    `kernel refused ${refusals.join(', ')}: ${reasons.map((r) => r.why).join('; ')}; ${fallbackText}${none.length ? `; ${none.length} trigger(s) not watched at all` : ''}`,
    reasons.find((r) => r.fix)?.fix);
}

/** `snap`: one read of `src` (the caller shares it with the policy check). */
export function sensorLines(src: SensorSource, snap: SensorSnapshot): DoctorLine[] {
  return [
    ...zoneLines(src),
    socLine(src, snap),
    skinLine(src, snap),
    batteryLine(src, snap),
    memoryLine(src, snap),
    ...psiLines(src, snap),
  ];
}
