/**
 * `openSensors()`: the live sensor source the daemon (and `record`, `inventory`) consume.
 * Discovery runs once up front and again periodically or after a kept descriptor reports the
 * device is gone; `read()` is one batched, synchronous read through the binding (native,
 * fallback or mock) followed by pure interpretation into the canonical signals of SPEC §3.
 * Missing or implausible readings are `undefined` plus a fault — never zero.
 */
import type { FileSpec, FileReader, SensorBinding } from '../native/binding-interface.js';
import { ERRNO, errnoName } from '../native/binding-interface.js';
import { selectBinding } from '../native/native.js';
import { parsePsi } from '../native/psi-text.js';
import { interpretBattery, newCalibration, type BatteryCalibration, type BatteryRaw } from './battery.js';
import { discover, type BatteryAttr, type Discovery, type ZoneInfo } from './discover.js';
import { memFromMeminfo, parseVmstat, VmstatPressure } from './procfs.js';
import {
  DEFAULT_PSI_TRIGGERS,
  PressureMonitor,
  realSensorTimers,
  type PressureNotice,
  type PressureStatus,
  type SensorTimers,
} from './pressure.js';
import type { PressureTriggerSpec } from '../native/binding-interface.js';
import { SOC_ROLES, type ZoneRole } from './roles.js';
import { toCelsius, type ZoneTempState } from './temperature.js';

export type { Discovery, ZoneInfo } from './discover.js';
export type { PressureNotice, PressureStatus } from './pressure.js';
export type { ZoneRole } from './roles.js';

export interface SensorFault {
  readonly signal: string;
  readonly reason: string;
}

export interface SensorSnapshot {
  /** Monotonic ms since the source was opened. */
  t_ms?: number;
  signals: Record<string, number | undefined>;
  faults: SensorFault[];
}

export type SensorHealthState = 'ok' | 'faulty' | 'skipped';

export interface ZoneHealth {
  readonly key: string;
  readonly type: string;
  readonly role: ZoneRole;
  readonly source: 'thermal' | 'hwmon';
  readonly dir: string;
  readonly health: SensorHealthState;
  readonly reason?: string;
  /** Last raw integer read (m°C for most zones; mA/mV/% for non-temperature zones). */
  readonly raw?: number;
  readonly tempC?: number;
}

export interface SensorSource {
  readonly discovery: Discovery;
  /** `native`, `fallback` or `mock`. */
  readonly binding: SensorBinding['name'];
  read(): SensorSnapshot;
  onPressure(cb: (n: PressureNotice) => void): () => void;
  zoneHealth(): ZoneHealth[];
  batteryCalibration(): Readonly<BatteryCalibration> | undefined;
  pressureStatus(): PressureStatus;
  close(): void;
}

export type SensorLog = ((line: string) => void) | { warn(msg: string): void };

export interface OpenSensorsOptions {
  /** Root that stands in for `/` (fixtures); default `/`. */
  sysfsRoot?: string;
  binding?: SensorBinding;
  log?: SensorLog;
  timers?: SensorTimers;
  /** PSI triggers to arm when someone subscribes to pressure (default: lmkd-like some/full). */
  psiTriggers?: readonly Omit<PressureTriggerSpec, 'path'>[];
  /** Periodic rediscovery interval, ms (zones appear late, supplies come and go). */
  rescanMs?: number;
  /** Minimum gap between error-driven rediscoveries, ms. */
  rediscoverGapMs?: number;
  /** A file whose read takes longer than this (ms) is skipped for a backoff period. */
  slowReadMs?: number;
}


interface Plan {
  readonly specs: FileSpec[];
  readonly zones: { zone: ZoneInfo; idx: number }[];
  readonly battery: Partial<Record<BatteryAttr, number>>;
  readonly chargers: number[];
  readonly meminfo?: number;
  readonly psi?: number;
  readonly vmstat?: number;
}

/** Which signal a file feeds, for fault messages about the file itself. */
function ownerOf(d: Discovery, path: string): string {
  const z = d.zones.find((x) => x.tempPath === path);
  if (z) return z.key;
  if (d.battery && Object.values(d.battery.attrs).includes(path)) return 'battery_w';
  if (path === d.meminfo.path) return 'mem_avail_mb';
  if (path === d.psi.path) return 'psi_mem_some_avg10';
  return 'charging';
}

function makePlan(d: Discovery, exclude: ReadonlySet<string> = new Set()): Plan {
  const specs: FileSpec[] = [];
  const add = (path: string, kind: FileSpec['kind']): number => specs.push({ path, kind }) - 1;
  const zones = d.zones.filter((z) => !z.skipped && !exclude.has(z.tempPath)).map((zone) => ({ zone, idx: add(zone.tempPath, 'int') }));
  const battery: Partial<Record<BatteryAttr, number>> = {};
  if (d.battery) {
    for (const [attr, path] of Object.entries(d.battery.attrs) as [BatteryAttr, string][]) {
      if (!exclude.has(path)) battery[attr] = add(path, attr === 'status' ? 'text' : 'int');
    }
  }
  const chargers = d.chargers.filter((c) => !exclude.has(c.onlinePath)).map((c) => add(c.onlinePath, 'int'));
  const plan: Plan = { specs, zones, battery, chargers };
  const use = (f: { available: boolean; path: string }) => f.available && !exclude.has(f.path);
  return {
    ...plan,
    ...(use(d.meminfo) ? { meminfo: add(d.meminfo.path, 'text') } : {}),
    ...(use(d.psi) ? { psi: add(d.psi.path, 'text') } : {}),
    // vmstat only matters when PSI is absent (the lmkd-style fallback estimate).
    ...(!d.psi.available && use(d.vmstat) ? { vmstat: add(d.vmstat.path, 'text') } : {}),
  };
}

const planKey = (p: Plan) => p.specs.map((s) => `${s.kind}:${s.path}`).join('\n');

function zoneErrorReason(errno: number): string {
  switch (errno) {
    case ERRNO.EAGAIN:
    case ERRNO.ENODATA:
      return `no sample yet (${errnoName(errno)})`;
    case ERRNO.EIO:
    case ERRNO.EINVAL:
      return `sensor error (${errnoName(errno)})`;
    case ERRNO.ENODEV:
    case ERRNO.ENOENT:
    case ERRNO.ESTALE:
      return `device gone (${errnoName(errno)}); rediscovering`;
    case ERRNO.ESPIPE:
      return 'not a regular file (a read could block); skipped';
    case ERRNO.EBADMSG:
      return 'content is not an integer';
    case ERRNO.EACCES:
    case ERRNO.EPERM:
      return `permission denied (${errnoName(errno)})`;
    default:
      return errnoName(errno);
  }
}

const GONE = new Set<number>([ERRNO.ENODEV, ERRNO.ENOENT, ERRNO.ESTALE]);

function toLog(log: SensorLog | undefined): (line: string) => void {
  if (!log) return (line) => process.stderr.write(line + '\n');
  if (typeof log === 'function') return log;
  return (line) => log.warn(line);
}

export async function openSensors(opts: OpenSensorsOptions = {}): Promise<SensorSource> {
  return openSensorsSync(opts);
}

/** Synchronous variant (discovery is a handful of small sysfs reads). */
export function openSensorsSync(opts: OpenSensorsOptions = {}): SensorSource {
  const root = opts.sysfsRoot ?? '/';
  const log = toLog(opts.log);
  const binding = opts.binding ?? selectBinding({ log });
  const timers = opts.timers ?? realSensorTimers;
  const rescanMs = opts.rescanMs ?? 30_000;
  const gapMs = opts.rediscoverGapMs ?? 2_000;
  const t0 = timers.now();

  const slowReadUs = (opts.slowReadMs ?? 50) * 1000;
  // path → when it may be read again and the current backoff (doubles per offence, ≤ 10 min).
  const slow = new Map<string, { untilMs: number; backoffMs: number; tookMs: number }>();
  const strikes = new Map<string, number>();
  const excluded = (now: number) => new Set([...slow].filter(([, v]) => v.untilMs > now).map(([k]) => k));

  let discovery = discover(root);
  let plan = makePlan(discovery);
  let reader: FileReader = binding.openReader(plan.specs);
  let lastScanMs = t0;
  let rediscoverWanted = false;
  let closed = false;

  const tempStates = new Map<string, ZoneTempState>();
  const zoneStatus = new Map<string, { health: SensorHealthState; reason?: string; raw?: number; tempC?: number }>();
  let calibration: BatteryCalibration | undefined = discovery.battery ? newCalibration() : undefined;
  const vmPressure = new VmstatPressure();
  let lastVmNoticeMs = -Infinity;
  const pressureFaults: string[] = [];

  const makeMonitor = () =>
    new PressureMonitor(
      binding,
      discovery.psi.available ? discovery.psi.path : undefined,
      opts.psiTriggers ?? DEFAULT_PSI_TRIGGERS,
      timers,
      (reason) => {
        pressureFaults.push(reason);
        log(`edgegov: ${reason}`);
      },
    );
  let pressure = makeMonitor();

  const rescan = (now: number) => {
    lastScanMs = now;
    rediscoverWanted = false;
    const next = discover(root);
    const nextPlan = makePlan(next, excluded(now));
    const oldBattery = discovery.battery?.name;
    const psiChanged = next.psi.available !== discovery.psi.available;
    discovery = next;
    if (planKey(nextPlan) !== planKey(plan)) {
      reader.close();
      plan = nextPlan;
      reader = binding.openReader(plan.specs);
    }
    if (next.battery?.name !== oldBattery) calibration = next.battery ? newCalibration() : undefined;
    for (const key of [...zoneStatus.keys()]) if (!next.zones.some((z) => z.key === key)) zoneStatus.delete(key);
    if (psiChanged) {
      const subs = pressure.hasSubscribers;
      pressure.close();
      pressure = makeMonitor();
      if (subs) log('edgegov: PSI availability changed; pressure subscribers must re-subscribe');
    }
  };

  const read = (): SensorSnapshot => {
    if (closed) throw new Error('sensor source is closed');
    let now = timers.now();
    if (now - lastScanMs >= rescanMs || (rediscoverWanted && now - lastScanMs >= gapMs)) {
      rescan(now);
      now = timers.now();
    }
    // A slow file's backoff ran out: read it again (rebuild the plan without a full rescan).
    if ([...slow.values()].some((v) => v.untilMs <= now && v.untilMs > 0)) {
      for (const v of slow.values()) if (v.untilMs <= now) v.untilMs = 0;
      replan(now);
    }
    const batch = reader.read();
    const signals: Record<string, number | undefined> = {};
    const faults: SensorFault[] = [];
    // Watchdog: a file whose reads take too long (a wedged I2C fuel gauge) twice in a row is
    // left out for a backoff period so it cannot stall every sample. Two strikes, because one
    // slow read can be this process being descheduled on a busy machine.
    let newlySlow = false;
    if (batch.durationsUs) {
      for (let i = 0; i < plan.specs.length; i++) {
        const path = plan.specs[i]!.path;
        const us = batch.durationsUs[i] ?? 0;
        if (us <= slowReadUs) {
          strikes.delete(path);
          continue;
        }
        const n = (strikes.get(path) ?? 0) + 1;
        strikes.set(path, n);
        if (n < 2) continue;
        strikes.delete(path);
        const prev = slow.get(path);
        const backoffMs = Math.min(600_000, prev ? prev.backoffMs * 2 : 60_000);
        slow.set(path, { untilMs: now + backoffMs, backoffMs, tookMs: us / 1000 });
        newlySlow = true;
      }
    }
    for (const [path, v] of slow) {
      if (v.untilMs > now) {
        faults.push({
          signal: ownerOf(discovery, path),
          reason: `${path.slice(root.length).replace(/^\/+/, '')}: read took ${Math.round(v.tookMs)} ms (stalled driver?); skipped for ${Math.round(v.backoffMs / 1000)} s`,
        });
      }
    }
    const err = (i: number) => batch.errnos[i] ?? 0;
    const noteGone = (i: number) => {
      if (GONE.has(err(i))) rediscoverWanted = true;
    };

    // --- thermal zones
    const byRole = new Map<ZoneRole, number[]>();
    let socZonesFaulty = 0;
    for (const z of discovery.zones) {
      if (z.skipped) {
        zoneStatus.set(z.key, { health: 'skipped', reason: z.skipped });
        faults.push({ signal: z.key, reason: z.skipped });
      }
    }
    for (const { zone, idx } of plan.zones) {
      const e = err(idx);
      if (e !== 0) {
        noteGone(idx);
        const reason = zoneErrorReason(e);
        zoneStatus.set(zone.key, { health: 'faulty', reason });
        faults.push({ signal: zone.key, reason });
        if (SOC_ROLES.has(zone.role)) socZonesFaulty++;
        continue;
      }
      const raw = batch.values[idx]!;
      if (zone.role === 'not-a-temperature') {
        // Kept for inventory in its own unit; never a °C signal, never part of soc_c.
        zoneStatus.set(zone.key, { health: 'ok', raw, reason: zone.note ?? 'not a temperature' });
        continue;
      }
      let st = tempStates.get(zone.key);
      if (!st) tempStates.set(zone.key, (st = {}));
      const v = toCelsius(raw, st);
      if (!v.ok) {
        zoneStatus.set(zone.key, { health: 'faulty', reason: v.reason, raw });
        faults.push({ signal: zone.key, reason: v.reason });
        if (SOC_ROLES.has(zone.role)) socZonesFaulty++;
        continue;
      }
      zoneStatus.set(zone.key, { health: 'ok', raw, tempC: v.tempC });
      signals[zone.key] = v.tempC;
      const list = byRole.get(zone.role) ?? [];
      list.push(v.tempC);
      byRole.set(zone.role, list);
    }
    const maxOf = (roles: ZoneRole[]) => {
      const vals = roles.flatMap((r) => byRole.get(r) ?? []);
      return vals.length ? Math.max(...vals) : undefined;
    };
    signals.soc_c = maxOf([...SOC_ROLES]);
    if (signals.soc_c === undefined) {
      faults.push({
        signal: 'soc_c',
        reason: socZonesFaulty ? `all ${socZonesFaulty} SoC zones faulty this read` : 'no CPU/GPU/NPU/SoC thermal zone found',
      });
    }
    signals.skin_c = maxOf(['skin']);
    if (signals.skin_c === undefined) faults.push({ signal: 'skin_c', reason: 'no skin thermistor zone (use a virtual skin sensor)' });

    // --- battery
    if (discovery.battery && calibration) {
      for (const a of discovery.battery.blocked) {
        faults.push({ signal: 'battery_w', reason: `power_supply/${discovery.battery.name}/${a} is not a regular file (a read could block); skipped` });
      }
      const raw: BatteryRaw = {};
      const num = (a: BatteryAttr): number | undefined => {
        const i = plan.battery[a];
        if (i === undefined) return undefined;
        if (err(i) !== 0) {
          noteGone(i);
          faults.push({ signal: 'battery_w', reason: `power_supply/${discovery.battery!.name}/${a}: ${zoneErrorReason(err(i))}` });
          return undefined;
        }
        return batch.values[i];
      };
      const si = plan.battery.status;
      if (si !== undefined) {
        if (err(si) === 0) raw.status = batch.texts[si]?.trim();
        else {
          noteGone(si);
          faults.push({ signal: 'charging', reason: `power_supply/${discovery.battery.name}/status: ${zoneErrorReason(err(si))}` });
        }
      }
      const set = <K extends keyof BatteryRaw>(k: K, v: BatteryRaw[K] | undefined) => {
        if (v !== undefined) raw[k] = v;
      };
      set('capacityPct', num('capacity'));
      set('currentRaw', num('current_now'));
      set('voltageRaw', num('voltage_now'));
      set('powerRaw', num('power_now'));
      set('tempDeciC', num('temp'));
      set('present', num('present'));
      const b = interpretBattery(raw, calibration);
      signals.battery_w = b.powerW;
      signals.battery_pct = b.pct;
      signals.charging = b.charging;
      if (b.powerWhy) faults.push({ signal: 'battery_w', reason: b.powerWhy });
      if (b.charging === undefined && raw.status !== undefined) {
        faults.push({ signal: 'charging', reason: `status "${raw.status}" does not say` });
      }
      signals.battery_c = b.tempC ?? maxOf(['battery']);
    } else {
      signals.battery_c = maxOf(['battery']);
      for (const s of ['battery_w', 'battery_pct', 'charging']) faults.push({ signal: s, reason: discovery.batteryWhy ?? 'no battery' });
    }

    if (signals.battery_c === undefined) {
      faults.push({ signal: 'battery_c', reason: 'no readable battery temperature (power_supply temp or battery zone)' });
    }

    // --- memory
    if (plan.meminfo !== undefined) {
      const i = plan.meminfo;
      if (err(i) === 0 && batch.texts[i]) {
        const m = memFromMeminfo(batch.texts[i]!);
        signals.mem_avail_mb = m.availMiB;
        signals.mem_total_mb = m.totalMiB;
        if (m.estimated) faults.push({ signal: 'mem_avail_mb', reason: m.estimated });
        if (m.availMiB === undefined) faults.push({ signal: 'mem_avail_mb', reason: 'meminfo has neither MemAvailable nor MemFree' });
      } else {
        faults.push({ signal: 'mem_avail_mb', reason: `proc/meminfo: ${zoneErrorReason(err(i))}` });
      }
    } else {
      faults.push({ signal: 'mem_avail_mb', reason: discovery.meminfo.why ?? 'no meminfo' });
    }

    // --- PSI, or the vmstat estimate when PSI is absent
    if (plan.psi !== undefined) {
      const i = plan.psi;
      if (err(i) === 0 && batch.texts[i]) {
        const p = parsePsi(batch.texts[i]!);
        signals.psi_mem_some_avg10 = p.some?.avg10;
        signals.psi_mem_full_avg10 = p.full?.avg10;
        if (!p.some) faults.push({ signal: 'psi_mem_some_avg10', reason: 'pressure file has no some line' });
        if (!p.full) faults.push({ signal: 'psi_mem_full_avg10', reason: 'pressure file has no full line' });
      } else {
        noteGone(i);
        for (const sig of ['psi_mem_some_avg10', 'psi_mem_full_avg10']) {
          faults.push({ signal: sig, reason: `proc/pressure/memory: ${zoneErrorReason(err(i))}` });
        }
      }
    } else {
      for (const sig of ['psi_mem_some_avg10', 'psi_mem_full_avg10']) faults.push({ signal: sig, reason: discovery.psi.why ?? 'PSI unavailable' });
      if (plan.vmstat !== undefined && err(plan.vmstat) === 0 && batch.texts[plan.vmstat]) {
        const vm = vmPressure.update(now, parseVmstat(batch.texts[plan.vmstat]!));
        // Needs two reads for a rate; absent (not zero) on the first.
        if (vm.thrashPct !== undefined) signals.mem_thrash_pct = vm.thrashPct;
        const pressured = (vm.thrashPct ?? 0) >= 30 || (vm.directReclaim ?? false);
        if (pressured && pressure.hasSubscribers && now - lastVmNoticeMs >= 1000) {
          lastVmNoticeMs = now;
          pressure.emit({ kind: 'vmstat', mechanism: 'vmstat', monoMs: now });
        }
      }
    }
    for (const r of pressureFaults.splice(0)) faults.push({ signal: 'psi_mem_some_avg10', reason: r });

    if (newlySlow) replan(now);
    return { t_ms: Math.round((now - t0) * 1000) / 1000, signals, faults };
  };

  function replan(now: number): void {
    const next = makePlan(discovery, excluded(now));
    if (planKey(next) === planKey(plan)) return;
    reader.close();
    plan = next;
    reader = binding.openReader(plan.specs);
  }

  return {
    get discovery() {
      return discovery;
    },
    binding: binding.name,
    read,
    onPressure: (cb) => pressure.subscribe(cb),
    zoneHealth: () =>
      discovery.zones.map((z) => {
        const s = zoneStatus.get(z.key);
        return {
          key: z.key,
          type: z.type,
          role: z.role,
          source: z.source,
          dir: z.dir,
          health: s?.health ?? (z.skipped ? 'skipped' : 'ok'),
          ...(s?.reason ?? z.skipped ? { reason: s?.reason ?? z.skipped } : {}),
          ...(s?.raw !== undefined ? { raw: s.raw } : {}),
          ...(s?.tempC !== undefined ? { tempC: s.tempC } : {}),
        };
      }),
    batteryCalibration: () => calibration,
    pressureStatus: () => pressure.status(),
    close() {
      if (closed) return;
      closed = true;
      pressure.close();
      reader.close();
      // Only a binding we created is ours to close; an injected one belongs to the caller.
      if (!opts.binding) binding.close();
    },
  };
}

