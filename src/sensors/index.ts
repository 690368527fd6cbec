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

/** `hung`: the file's read has been waiting on its driver past the deadline (read off-thread). */
export type SensorHealthState = 'ok' | 'faulty' | 'skipped' | 'hung';

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
  /** Resolves once the off-thread reads have completed once (false after `timeoutMs`). */
  settle(timeoutMs: number): Promise<boolean>;
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
  /**
   * A file read on the caller's thread that takes longer than this (ms) is moved off it for
   * good: from then on it is read on its own thread (a stalled I2C fuel gauge, a modem zone).
   */
  slowReadMs?: number;
  /** An off-thread read still waiting on its driver after this long (ms) marks its sensor hung. */
  hungReadMs?: number;
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

/**
 * Which files are read off the caller's thread, and in which group (one thread each): every
 * power_supply attribute (fuel gauges and chargers sit behind I2C, research 02 §8 case 13),
 * one group per supply so a wedged charger never delays the battery; and every file that has
 * ever been slow on the fast path, each in its own group.
 */
function groupOf(d: Discovery, path: string, risky: ReadonlySet<string>): string | undefined {
  if (risky.has(path)) return `slow:${path}`;
  if (d.battery && Object.values(d.battery.attrs).includes(path)) return `power_supply:${d.battery.name}`;
  const c = d.chargers.find((x) => x.onlinePath === path);
  if (c) return `power_supply:${c.onlinePath}`;
  return undefined;
}

function makePlan(d: Discovery, risky: ReadonlySet<string> = new Set()): Plan {
  const specs: FileSpec[] = [];
  const add = (path: string, kind: FileSpec['kind']): number => {
    const group = groupOf(d, path, risky);
    return specs.push(group === undefined ? { path, kind } : { path, kind, group }) - 1;
  };
  const zones = d.zones.filter((z) => !z.skipped).map((zone) => ({ zone, idx: add(zone.tempPath, 'int') }));
  const battery: Partial<Record<BatteryAttr, number>> = {};
  if (d.battery) {
    for (const [attr, path] of Object.entries(d.battery.attrs) as [BatteryAttr, string][]) {
      battery[attr] = add(path, attr === 'status' ? 'text' : 'int');
    }
  }
  const chargers = d.chargers.map((c) => add(c.onlinePath, 'int'));
  const plan: Plan = { specs, zones, battery, chargers };
  const use = (f: { available: boolean; path: string }) => f.available;
  return {
    ...plan,
    ...(use(d.meminfo) ? { meminfo: add(d.meminfo.path, 'text') } : {}),
    ...(use(d.psi) ? { psi: add(d.psi.path, 'text') } : {}),
    // vmstat only matters when PSI is absent (the lmkd-style fallback estimate).
    ...(!d.psi.available && use(d.vmstat) ? { vmstat: add(d.vmstat.path, 'text') } : {}),
  };
}

const planKey = (p: Plan) => p.specs.map((s) => `${s.kind}:${s.group ?? ''}:${s.path}`).join('\n');

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
  const src = openSensorsSync(opts);
  // The first snapshot should carry the battery: wait (without blocking the loop) for the
  // off-thread groups' first reads, at most the hung deadline.
  await src.settle(opts.hungReadMs ?? DEFAULT_HUNG_READ_MS);
  return src;
}

/** An off-thread read waiting longer than this (ms) is a hung sensor (research 02 §8 case 13). */
export const DEFAULT_HUNG_READ_MS = 1000;

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
  const hungReadMs = opts.hungReadMs ?? DEFAULT_HUNG_READ_MS;
  // Files once slow on the fast path; they stay off it for the life of the source.
  const risky = new Set<string>();

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
    const nextPlan = makePlan(next, risky);
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
    const batch = reader.read();
    const signals: Record<string, number | undefined> = {};
    const faults: SensorFault[] = [];
    const rel = (path: string) => path.slice(root.length).replace(/^\/+/, '');
    // Watchdog: a fast-path file whose read took too long (a stalled driver) is moved off this
    // thread for good, so its next stall costs the event loop nothing.
    let newlySlow = false;
    if (batch.durationsUs) {
      for (let i = 0; i < plan.specs.length; i++) {
        const spec = plan.specs[i]!;
        const us = batch.durationsUs[i] ?? 0;
        if (spec.group !== undefined || us <= slowReadUs || risky.has(spec.path)) continue;
        risky.add(spec.path);
        newlySlow = true;
        const reason = `${rel(spec.path)}: read took ${Math.round(us / 1000)} ms (stalled driver?); now read off the main thread`;
        log(`edgegov: ${reason}`);
        faults.push({ signal: ownerOf(discovery, spec.path), reason });
      }
    }
    // An off-thread read still waiting on its driver past the deadline: that sensor is hung.
    // Its last value is not used (it may be arbitrarily old); every other file read normally.
    const hungMs = (i: number): number | undefined => {
      const p = batch.pendingMs?.[i] ?? 0;
      return p > hungReadMs ? p : undefined;
    };
    const HUNG = -1;
    const err = (i: number) => (hungMs(i) !== undefined ? HUNG : (batch.errnos[i] ?? 0));
    const why = (i: number): string => {
      const h = hungMs(i);
      if (h !== undefined) return `read hung for ${(h / 1000).toFixed(1)} s (stalled driver?); other sensors unaffected`;
      return zoneErrorReason(err(i));
    };
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
        const reason = why(idx);
        zoneStatus.set(zone.key, { health: e === HUNG ? 'hung' : 'faulty', reason });
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
          faults.push({ signal: 'battery_w', reason: `power_supply/${discovery.battery!.name}/${a}: ${why(i)}` });
          return undefined;
        }
        return batch.values[i];
      };
      const si = plan.battery.status;
      if (si !== undefined) {
        if (err(si) === 0) raw.status = batch.texts[si]?.trim();
        else {
          noteGone(si);
          faults.push({ signal: 'charging', reason: `power_supply/${discovery.battery.name}/status: ${why(si)}` });
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
        faults.push({ signal: 'mem_avail_mb', reason: `proc/meminfo: ${why(i)}` });
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
          faults.push({ signal: sig, reason: `proc/pressure/memory: ${why(i)}` });
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

    if (newlySlow) replan();
    return { t_ms: Math.round((now - t0) * 1000) / 1000, signals, faults };
  };

  function replan(): void {
    const next = makePlan(discovery, risky);
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
    settle: (timeoutMs) => (closed ? Promise.resolve(false) : (reader.settle?.(timeoutMs) ?? Promise.resolve(true))),
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

