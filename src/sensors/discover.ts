/**
 * Discovery under a configurable root (`--sysfs-root`; fixtures stand in for `/`):
 * thermal zones, hwmon chips, the battery supply (by `type=Battery`, any name), chargers,
 * /proc/meminfo, PSI availability and /proc/vmstat. Pure function of the tree; it is re-run
 * periodically and after ENODEV/ENOENT on a kept descriptor (zones renumber, supplies come
 * and go: research 02 §8 cases 9 and 12).
 */
import { join } from 'node:path';
import { classifyZone, type ZoneRole } from './roles.js';
import { byTrailingNumber, fileKind, listDir, readAttr, readTrimmed, realpathOr } from './fsutil.js';

export interface ZoneInfo {
  /** Signal name: `zone.<type>` (a duplicate type gets `#2`, `#3`, … in discovery order). */
  readonly key: string;
  readonly type: string;
  readonly role: ZoneRole;
  readonly vendor: string;
  readonly note?: string;
  readonly source: 'thermal' | 'hwmon';
  /** Directory relative to the root, e.g. `sys/class/thermal/thermal_zone3`. */
  readonly dir: string;
  /** Absolute path of the temperature attribute that is read. */
  readonly tempPath: string;
  /** Resolved path: the zone's identity across renumbering is (type, real device path). */
  readonly realPath: string;
  /** Set when the zone is listed but not read, with the reason. */
  readonly skipped?: string;
}

export interface BatteryInfo {
  readonly name: string;
  readonly dir: string;
  /** Absolute attribute paths that exist as regular files. */
  readonly attrs: Partial<Record<BatteryAttr, string>>;
  /** Attributes present but not regular files (would block): skipped. */
  readonly blocked: BatteryAttr[];
}

export const BATTERY_ATTRS = ['status', 'capacity', 'current_now', 'voltage_now', 'power_now', 'temp', 'present'] as const;
export type BatteryAttr = (typeof BATTERY_ATTRS)[number];

export interface ChargerInfo {
  readonly name: string;
  readonly type: string;
  readonly onlinePath: string;
}

export interface ProcFileInfo {
  readonly path: string;
  readonly available: boolean;
  readonly why?: string;
}

export interface Discovery {
  readonly root: string;
  readonly zones: ZoneInfo[];
  readonly battery?: BatteryInfo;
  /** Why there is no battery (no supply of type Battery, or present=0, …). */
  readonly batteryWhy?: string;
  readonly otherBatteries: string[];
  readonly chargers: ChargerInfo[];
  readonly meminfo: ProcFileInfo;
  readonly psi: ProcFileInfo;
  readonly vmstat: ProcFileInfo;
  /** Problems found while discovering, as (signal, reason). */
  readonly problems: { signal: string; reason: string }[];
}

function procFile(root: string, rel: string, missingWhy: string): ProcFileInfo {
  const path = join(root, rel);
  const r = readAttr(path);
  if (r.ok) return { path, available: true };
  if (r.code === 'ENOENT') return { path, available: false, why: missingWhy };
  if (r.code === 'EACCES' || r.code === 'EPERM') {
    return { path, available: false, why: `${rel}: permission denied (SELinux denies it to Android apps/Termux)` };
  }
  return { path, available: false, why: `${rel}: ${r.reason}` };
}

const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');

function discoverThermal(root: string, problems: Discovery['problems']): ZoneInfo[] {
  const base = join(root, 'sys/class/thermal');
  const zones: ZoneInfo[] = [];
  const seen = new Map<string, number>();
  for (const d of listDir(base).filter((n) => /^thermal_zone\d+$/.test(n)).sort(byTrailingNumber)) {
    const dir = join(base, d);
    const rawType = readTrimmed(join(dir, 'type'));
    // A zone whose type is unreadable is still a zone: key it by its directory name.
    const type = rawType && rawType.length > 0 ? rawType : d;
    const n = (seen.get(type) ?? 0) + 1;
    seen.set(type, n);
    const key = `zone.${type}${n > 1 ? `#${n}` : ''}`;
    // Without a type there is nothing to classify by: never guess a role from a directory name.
    const cls = rawType ? classifyZone(type) : { role: 'unknown' as const, vendor: '' };
    const tempPath = join(dir, 'temp');
    const kind = fileKind(tempPath);
    const skipped =
      kind === 'absent' ? 'no temp attribute' : kind === 'special' ? 'temp is not a regular file (a read could block); skipped' : undefined;
    if (rawType === undefined) problems.push({ signal: key, reason: `type unreadable; keyed by directory name ${d}` });
    if (skipped) problems.push({ signal: key, reason: skipped });
    zones.push({
      key,
      type,
      role: cls.role,
      vendor: cls.vendor,
      ...(cls.note ? { note: cls.note } : {}),
      source: 'thermal',
      dir: `sys/class/thermal/${d}`,
      tempPath,
      realPath: realpathOr(dir),
      ...(skipped ? { skipped } : {}),
    });
  }
  return zones;
}

/** hwmon chips not already visible as thermal zones (a zone's hwmon mirror is named type with - → _). */
function discoverHwmon(root: string, zones: ZoneInfo[], problems: Discovery['problems']): ZoneInfo[] {
  const base = join(root, 'sys/class/hwmon');
  const zoneTypes = new Set(zones.map((z) => norm(z.type)));
  const keys = new Set(zones.map((z) => z.key));
  const out: ZoneInfo[] = [];
  for (const h of listDir(base).filter((n) => /^hwmon\d+$/.test(n)).sort(byTrailingNumber)) {
    const dir = join(base, h);
    const name = readTrimmed(join(dir, 'name'));
    if (!name || zoneTypes.has(norm(name))) continue;
    const inputs = listDir(dir).filter((f) => /^temp\d+_input$/.test(f)).sort(byTrailingNumber);
    for (const input of inputs) {
      const idx = /^temp(\d+)_input$/.exec(input)![1];
      const label = readTrimmed(join(dir, `temp${idx}_label`));
      const suffix = inputs.length === 1 ? '' : `.${(label ?? `temp${idx}`).replace(/\s+/g, '_')}`;
      const type = `${name}${suffix}`;
      const key = `zone.${type}`;
      if (keys.has(key)) continue;
      keys.add(key);
      const cls = classifyZone(name);
      const tempPath = join(dir, input);
      const skipped = fileKind(tempPath) === 'special' ? 'not a regular file (a read could block); skipped' : undefined;
      if (skipped) problems.push({ signal: key, reason: skipped });
      out.push({
        key,
        type,
        role: cls.role,
        vendor: cls.vendor || 'hwmon',
        source: 'hwmon',
        dir: `sys/class/hwmon/${h}`,
        tempPath,
        realPath: realpathOr(tempPath),
        ...(skipped ? { skipped } : {}),
      });
    }
  }
  return out;
}

function discoverPower(root: string, problems: Discovery['problems']) {
  const base = join(root, 'sys/class/power_supply');
  const candidates: { name: string; dir: string }[] = [];
  const chargers: ChargerInfo[] = [];
  const notPresent: string[] = [];
  for (const name of listDir(base).sort()) {
    const dir = join(base, name);
    const type = readTrimmed(join(dir, 'type'));
    if (type === 'Battery') {
      // HID peripherals (mice, pens) report scope=Device: not the device's own battery.
      if (readTrimmed(join(dir, 'scope')) === 'Device') continue;
      if (readTrimmed(join(dir, 'present')) === '0') {
        notPresent.push(name);
        continue;
      }
      candidates.push({ name, dir });
    } else if (type && /^(Mains|USB|Wireless|USB_\w+|UPS)$/.test(type)) {
      const onlinePath = join(dir, 'online');
      if (fileKind(onlinePath) === 'file') chargers.push({ name, type, onlinePath });
    }
  }
  // Prefer the system `battery` supply; Qualcomm's `bms` is the raw fuel gauge of the same cell.
  const rank = (n: string) => (n === 'battery' ? 0 : /^BAT\d/.test(n) ? 1 : n === 'bms' ? 3 : 2);
  candidates.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
  const chosen = candidates[0];
  let battery: BatteryInfo | undefined;
  if (chosen) {
    const attrs: Partial<Record<BatteryAttr, string>> = {};
    const blocked: BatteryAttr[] = [];
    for (const a of BATTERY_ATTRS) {
      const p = join(chosen.dir, a);
      const k = fileKind(p);
      if (k === 'file') attrs[a] = p;
      else if (k === 'special') {
        blocked.push(a);
        problems.push({ signal: 'battery_w', reason: `power_supply/${chosen.name}/${a} is not a regular file (a read could block); skipped` });
      }
    }
    battery = { name: chosen.name, dir: `sys/class/power_supply/${chosen.name}`, attrs, blocked };
  }
  const batteryWhy = chosen
    ? undefined
    : notPresent.length
      ? `battery supply ${notPresent.join(', ')} reports present=0`
      : 'no power_supply of type Battery';
  return { battery, batteryWhy, otherBatteries: candidates.slice(1).map((c) => c.name), chargers };
}

export function discover(root: string): Discovery {
  const problems: Discovery['problems'] = [];
  const thermal = discoverThermal(root, problems);
  const hwmon = discoverHwmon(root, thermal, problems);
  const power = discoverPower(root, problems);
  const meminfo = procFile(root, 'proc/meminfo', 'proc/meminfo absent');
  const psi = procFile(
    root,
    'proc/pressure/memory',
    'no proc/pressure/memory (CONFIG_PSI=n, psi=0, or CONFIG_PSI_DEFAULT_DISABLED without psi=1 as on Raspberry Pi OS)',
  );
  const vmstat = procFile(root, 'proc/vmstat', 'proc/vmstat absent');
  if (!meminfo.available) problems.push({ signal: 'mem_avail_mb', reason: meminfo.why! });
  if (!psi.available) {
    problems.push({
      signal: 'psi_mem_some_avg10',
      reason: `${psi.why}; memory pressure estimated from meminfo/vmstat`,
    });
  }
  return {
    root,
    zones: [...thermal, ...hwmon],
    ...(power.battery ? { battery: power.battery } : {}),
    ...(power.batteryWhy ? { batteryWhy: power.batteryWhy } : {}),
    otherBatteries: power.otherBatteries,
    chargers: power.chargers,
    meminfo,
    psi,
    vmstat,
    problems,
  };
}
