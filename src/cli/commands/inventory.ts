/**
 * `edgegov inventory`: what the device is (systeminformation: SoC/CPU, cores, memory, OS —
 * one-shot start-up use, never the hot path) and which sensors were found under
 * `--sysfs-root`, with their roles, current values and health. `--json` for machines.
 *
 * Note: systeminformation always describes the machine the command runs on; with a
 * `--sysfs-root` fixture the sensor part describes the fixture instead, and the output says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { CANONICAL_SIGNALS, unitOfSignal } from '../../core/signals.js';
import { openSensors, type SensorSource } from '../../sensors/index.js';
import { EnvError } from '../../util/errors.js';

interface InventoryArgs {
  sysfsRoot: string;
  json: boolean;
}

export interface DeviceInfo {
  source: 'systeminformation';
  cpu?: { manufacturer: string; brand: string; cores: number; physicalCores: number; speedGHz?: number };
  memTotalMiB?: number;
  os?: { platform: string; distro: string; release: string; kernel: string; arch: string };
  /** Board model from the device tree under the sysfs root (Raspberry Pi, RK3588 boards). */
  boardModel?: string;
  errors: string[];
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string, errors: string[]): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => {
          errors.push(`${what}: no answer within ${ms} ms`);
          resolve(undefined);
        }, ms);
      }),
    ]);
  } catch (err) {
    errors.push(`${what}: ${(err as Error).message}`);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

export async function deviceInfo(root: string): Promise<DeviceInfo> {
  const si = await import('systeminformation');
  const errors: string[] = [];
  const [cpu, mem, os] = await Promise.all([
    withTimeout(si.cpu(), 5000, 'cpu', errors),
    withTimeout(si.mem(), 5000, 'mem', errors),
    withTimeout(si.osInfo(), 5000, 'osInfo', errors),
  ]);
  const info: DeviceInfo = { source: 'systeminformation', errors };
  if (cpu) {
    info.cpu = {
      manufacturer: cpu.manufacturer,
      brand: cpu.brand,
      cores: cpu.cores,
      physicalCores: cpu.physicalCores,
      ...(cpu.speed ? { speedGHz: cpu.speed } : {}),
    };
  }
  if (mem) info.memTotalMiB = Math.round(mem.total / 1048576);
  if (os) info.os = { platform: os.platform, distro: os.distro, release: os.release, kernel: os.kernel, arch: os.arch };
  for (const p of ['proc/device-tree/model', 'sys/firmware/devicetree/base/model']) {
    const f = join(root, p);
    if (existsSync(f)) {
      try {
        info.boardModel = readFileSync(f, 'latin1').replace(/\0/g, '').trim();
        break;
      } catch {
        /* unreadable: leave it out */
      }
    }
  }
  return info;
}

export function sensorReport(src: SensorSource) {
  const snap = src.read();
  src.onPressure(() => {})(); // arm (and immediately unsubscribe) to learn what the kernel accepts
  const canonical: Record<string, { value?: number; unit: string; faults?: string[] }> = {};
  for (const name of Object.keys(CANONICAL_SIGNALS)) {
    // Not read from sensors: time, and what the engine reports back (tok_s, engine_mb).
    if (name === 't_ms' || name === 'tok_s' || name === 'engine_mb' || name === 'ambient_c') continue;
    const faults = snap.faults.filter((f) => f.signal === name).map((f) => f.reason);
    canonical[name] = {
      ...(snap.signals[name] !== undefined ? { value: snap.signals[name] } : {}),
      unit: unitOfSignal(name) ?? '',
      ...(faults.length ? { faults } : {}),
    };
  }
  const d = src.discovery;
  return {
    root: d.root,
    binding: src.binding,
    zones: src.zoneHealth(),
    canonical,
    battery: d.battery
      ? { name: d.battery.name, others: d.otherBatteries, calibration: src.batteryCalibration() }
      : { name: null, why: d.batteryWhy },
    chargers: d.chargers.map((c) => ({ name: c.name, type: c.type })),
    psi: { available: d.psi.available, ...(d.psi.why ? { why: d.psi.why } : {}), ...src.pressureStatus() },
    memory: { meminfo: d.meminfo.available, vmstat: d.vmstat.available },
    problems: d.problems,
  };
}

function fmt(v: number | undefined, unit = ''): string {
  return v === undefined ? '—' : `${Math.round(v * 100) / 100}${unit ? ' ' + unit : ''}`;
}

function human(device: DeviceInfo, rep: ReturnType<typeof sensorReport>, root: string): string {
  const out: string[] = [];
  out.push('Device (this machine, via systeminformation)');
  if (device.cpu) out.push(`  CPU      ${device.cpu.manufacturer} ${device.cpu.brand}, ${device.cpu.cores} cores (${device.cpu.physicalCores} physical)`);
  if (device.memTotalMiB) out.push(`  Memory   ${device.memTotalMiB} MiB`);
  if (device.os) out.push(`  OS       ${device.os.distro} ${device.os.release}, kernel ${device.os.kernel} (${device.os.arch})`);
  if (device.boardModel) out.push(`  Board    ${device.boardModel}`);
  for (const e of device.errors) out.push(`  (${e})`);
  out.push('');
  out.push(`Sensors under ${root}${root === '/' ? '' : ' (a sysfs root other than /: not this machine\'s sensors)'}, read via the ${rep.binding} binding`);
  if (rep.zones.length === 0) out.push('  no thermal zones or hwmon temperatures');
  const w = Math.max(8, ...rep.zones.map((z) => z.key.length));
  for (const z of rep.zones) {
    const value = z.tempC !== undefined ? `${z.tempC.toFixed(1)} °C` : z.raw !== undefined ? `raw ${z.raw}` : '—';
    out.push(`  ${z.key.padEnd(w)}  ${z.role.padEnd(17)}  ${value.padStart(10)}  ${z.health}${z.reason ? `: ${z.reason}` : ''}`);
  }
  out.push('');
  out.push('Canonical signals');
  for (const [name, s] of Object.entries(rep.canonical)) {
    out.push(`  ${name.padEnd(19)} ${fmt(s.value, s.unit === 'bool' ? '' : s.unit === 'C' ? '°C' : s.unit).padStart(12)}${s.faults ? `   (${s.faults.join('; ')})` : ''}`);
  }
  out.push('');
  const b = rep.battery as { name: string | null; why?: string; calibration?: { sign: string; unit?: string } };
  out.push(b.name ? `Battery  power_supply/${b.name} (current sign ${b.calibration?.sign}, unit ${b.calibration?.unit ?? 'not yet known'})` : `Battery  none (${b.why})`);
  out.push(
    rep.psi.available
      ? `PSI      ${rep.psi.path}: ${rep.psi.triggers.map((t) => `${t.armed ?? t.requested} → ${t.mechanism}${t.refusals.length ? ` (refused: ${t.refusals.join(', ')})` : ''}`).join('; ')}`
      : `PSI      unavailable: ${rep.psi.why}`,
  );
  return out.join('\n') + '\n';
}

export const inventoryCommand: CommandModule<object, InventoryArgs> = {
  command: 'inventory',
  describe: 'Show the device and the sensors found, classified, with values and health',
  builder: (y: Argv) =>
    y
      .option('sysfs-root', { type: 'string', default: '/', describe: 'directory standing in for / (fixture trees)' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output on stdout' })
      .example('$0 inventory', 'this machine')
      .example('$0 inventory --sysfs-root test/fixtures/sysfs/pixel8 --json', 'a fixture tree') as unknown as Argv<InventoryArgs>,
  handler: async (argv) => {
    const root = argv.sysfsRoot;
    if (!existsSync(root)) throw new EnvError(`--sysfs-root ${root}: no such directory`);
    const logs: string[] = [];
    const src = await openSensors({ sysfsRoot: root, log: (l) => logs.push(l) });
    try {
      const [device, rep] = [await deviceInfo(root), sensorReport(src)];
      if (argv.json) {
        process.stdout.write(JSON.stringify({ device, sensors: rep, notes: logs }, null, 2) + '\n');
      } else {
        process.stdout.write(human(device, rep, root));
        for (const l of logs) process.stderr.write(l + '\n');
      }
    } finally {
      src.close();
    }
  },
};
