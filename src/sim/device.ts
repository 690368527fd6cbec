/**
 * Device models are DATA (sim/devices/*.yaml); this module is their schema and loader.
 * Units ride in the field names (C, W, J, Ohm, Mb = MiB, GBs = GB/s, Ms, S).
 */
import { z } from 'zod';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadYamlFile } from './yaml-file.js';
import { UserError } from '../util/errors.js';

const pos = z.number().positive();
const nonneg = z.number().nonnegative();
const frac = z.number().min(0).max(1);

const NodeSchema = z.strictObject({
  name: z.string().min(1),
  capacitanceJPerC: pos,
});
const LinkSchema = z.strictObject({
  from: z.string().min(1),
  /** Another node's name, or `ambient`. */
  to: z.string().min(1),
  resistanceCPerW: pos,
});
const ZoneSchema = z.strictObject({
  /** The thermal zone's `type` (reported as `zone.<type>`). */
  type: z.string().min(1),
  node: z.string().min(1),
  /** Sensor sits this far above (+) or below (−) the node's mean temperature. */
  offsetC: z.number().default(0),
});
const SensorRegime = z.strictObject({
  /** How often the value refreshes; between refreshes the last reading is held (sysfs caching). */
  cadenceMs: pos,
  /** Faster refresh once the reading is above `hotAboveC` (Pixel: skin polled 300 s cool, 7 s hot). */
  hotCadenceMs: pos.optional(),
  hotAboveC: z.number().optional(),
  noiseSigma: nonneg.default(0),
  /**
   * Reading resolution: every reading is a multiple of it (0.1 °C tsens and battery gauges,
   * 1 °C whole-degree sysfs thermistors, 0.538 °C Pi ADC steps, 1 % charge). Absent = exact;
   * a temperature sensor must state it (`checkSensors`): real ones are never exact.
   */
  quantum: pos.optional(),
});
const TripSchema = z.strictObject({
  node: z.string().min(1),
  atC: z.number(),
  hystC: nonneg.default(2),
});

/** The signals a simulated device can report from its truth (SPEC §9 names), in report order. */
export const SIMULATED_SIGNALS = [
  'soc_c', 'skin_c', 'battery_c', 'battery_w', 'battery_pct', 'charging', 'mem_avail_mb', 'mem_total_mb',
  'psi_mem_some_avg10', 'psi_mem_full_avg10', 'tok_s', 'prefill_tok_s', 'req_ctx_tokens', 'ambient_c',
] as const;
/**
 * The engine's own reports: a device file that gives them no sensor regime of their own reports
 * them as it reports `tok_s` (they come from the same engine, not from a sensor).
 */
export const ENGINE_REPORTED = new Set<string>(['prefill_tok_s', 'req_ctx_tokens']);
const TEMPERATURE_SIGNALS = new Set<string>(['soc_c', 'skin_c', 'battery_c', 'ambient_c']);
/** No real thermal sensor reads coarser than this (whole-degree sysfs is the coarsest seen). */
const MAX_TEMPERATURE_QUANTUM_C = 5;

/**
 * `sensors` keys: a simulated signal, `zone` (every thermal zone) or `zone.<type>` (one declared
 * zone, overriding `zone` — a board thermistor in whole °C next to 0.1 °C tsens zones). Every
 * temperature sensor states its quantum.
 */
function checkSensors(d: { sensors?: Record<string, z.output<typeof SensorRegime>>; thermal?: { zones?: { type: string }[] } }, ctx: z.RefinementCtx): void {
  // zod runs this only once the shape is valid; the guards keep it safe if that ever changes.
  if (typeof d.sensors !== 'object' || d.sensors === null) return;
  const zoneTypes = new Set(Array.isArray(d.thermal?.zones) ? d.thermal.zones.map((zn) => zn.type) : []);
  const known = [...SIMULATED_SIGNALS, 'zone', ...[...zoneTypes].map((t) => `zone.${t}`)];
  for (const [key, regime] of Object.entries(d.sensors)) {
    const isZone = key === 'zone' || key.startsWith('zone.');
    if (key.startsWith('zone.') && !zoneTypes.has(key.slice(5))) {
      ctx.addIssue({ code: 'custom', path: ['sensors', key], message: `no thermal zone '${key.slice(5)}' (thermal.zones: ${[...zoneTypes].join(', ') || 'none'})` });
      continue;
    }
    if (!isZone && !(SIMULATED_SIGNALS as readonly string[]).includes(key)) {
      ctx.addIssue({ code: 'custom', path: ['sensors', key], message: `unknown sensor '${key}' (known: ${known.join(', ')})` });
      continue;
    }
    if (!isZone && !TEMPERATURE_SIGNALS.has(key)) continue;
    if (regime.quantum === undefined) {
      ctx.addIssue({ code: 'custom', path: ['sensors', key], message: `a temperature sensor needs quantum: its reading resolution in °C (0.1 tsens or battery gauge, 1 whole-degree sysfs, 0.538 Pi ADC)` });
    } else if (regime.quantum > MAX_TEMPERATURE_QUANTUM_C) {
      ctx.addIssue({ code: 'custom', path: ['sensors', key, 'quantum'], message: `${regime.quantum} °C is coarser than any real thermal sensor (at most ${MAX_TEMPERATURE_QUANTUM_C} °C; whole-degree sysfs is 1)` });
    }
  }
}

export const DeviceSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  class: z.enum(['phone', 'board']),
  /** The device-class policy (`policies/<policy>.yaml`) used when none is given; default = name. */
  policy: z.string().min(1).optional(),
  thermal: z.strictObject({
    ambientC: z.number().default(25),
    nodes: z.array(NodeSchema).min(1),
    links: z.array(LinkSchema).min(1),
    /** Which node takes each heat source. */
    heat: z.strictObject({ soc: z.string(), board: z.string(), skin: z.string() }),
    /** Which node each canonical temperature reads, with an offset. */
    signals: z.strictObject({
      soc: z.strictObject({ node: z.string(), offsetC: z.number().default(0) }),
      skin: z.strictObject({ node: z.string(), offsetC: z.number().default(0) }).optional(),
      battery: z.strictObject({ node: z.string(), offsetC: z.number().default(0) }).optional(),
    }),
    zones: z.array(ZoneSchema).default([]),
  }),
  compute: z.strictObject({
    memBandwidthGBs: pos,
    /** Achieved / theoretical DRAM bandwidth for decode kernels (research/03 §3). */
    bandwidthEfficiency: frac,
    /** Effective ops for decode matvecs, TOPS-eq; sets where decode turns compute-bound. */
    decodeTops: pos,
    /** Effective ops for prefill (research/03 §6.3 OPS_eff). */
    prefillTops: pos,
    fixedMsPerToken: nonneg,
    bigCores: z.number().int().positive(),
    /** Threads beyond this add power but no decode speed. */
    saturationThreads: z.number().int().positive(),
    /**
     * Per-quant compute speed factors on this backend (research/03 §1.2: speed is not monotonic
     * in bpw; Q4_0 + runtime repack is the best-optimised type on ARM i8mm/dotprod paths).
     * `prefill` scales prefill ops, `decode` the compute part of decode (not its bandwidth).
     */
    quantSpeed: z.record(z.string(), z.strictObject({ prefill: pos.default(1), decode: pos.default(1) })).default({}),
  }),
  power: z.strictObject({
    /** Screen, radios, rest of the device while idle (goes to `heat.skin`). */
    baseW: nonneg,
    /** SoC power while the model is loaded but idle. */
    socIdleW: nonneg,
    /** Compute units busy: static part and dynamic part at full clock with all big cores. */
    staticW: nonneg,
    dynamicW: nonneg,
    /** P_dyn ∝ clockScale^alpha (CMOS V²f with V roughly ∝ f). */
    alpha: z.number().min(1).max(4),
    /** DRAM + fabric power per GB/s streamed (goes to `heat.board`). */
    dramWPerGBs: nonneg,
    /** PMIC / board losses (goes to `heat.board`). */
    boardW: nonneg,
    /** Leakage at 25 °C, growing exp(beta·(T−25)) with the SoC node's temperature. */
    leakageW: nonneg,
    leakageBeta: nonneg,
    /** Modem/Wi-Fi power while streaming a cloud answer. */
    radioW: nonneg,
  }),
  memory: z.strictObject({
    totalMb: pos,
    /** Kernel, system services and the launcher — never freed. */
    systemMb: nonneg,
    /** Other apps resident at the start of a session. */
    backgroundMb: nonneg,
    /** The low-memory killer takes the inference process when MemAvailable would fall below this. */
    lmkMinFreeMb: nonneg,
    /** MemAvailable below which memory PSI starts to rise. */
    pressureBelowMb: pos,
    /** Model (re)load speed from storage. */
    storageReadMBs: pos,
    /** After an OOM kill, the app restarts after this long. */
    restartS: nonneg,
  }),
  battery: z.strictObject({
    capacityAh: pos,
    internalResistanceOhm: pos,
    /** Open-circuit voltage by state of charge: [[pct, volts], …] ascending. */
    ocv: z.array(z.tuple([z.number().min(0).max(100), pos])).min(2),
    initialPct: z.number().min(0).max(100),
    /** Power the charger delivers when plugged in. */
    chargerW: nonneg,
    chargerEfficiency: frac,
    /** Charging stops above this battery temperature (JEITA). */
    chargeStopAboveC: z.number(),
    /** Brown-out: below this terminal voltage the device shuts down. */
    cutoffV: pos,
  }).optional(),
  sensors: z.record(z.string(), SensorRegime),
  /** The OS's own thermal governor: clock caps above trips (kernel step_wise-like). */
  osGovernor: z.strictObject({
    pollMs: pos,
    trips: z.array(TripSchema).min(1),
    stepDown: frac,
    stepUp: frac,
    minScale: frac,
    /** Fraction of the clock cut passed on to the memory fabric (decode speed). */
    memCoupling: frac,
    /** Above this, the OS floors the clock at minScale at once (Android GPU floor). */
    hardFloor: z.strictObject({ node: z.string(), atC: z.number() }).optional(),
  }),
}).superRefine(checkSensors);

export type DeviceModel = z.output<typeof DeviceSchema>;

/** The regime a zone's readings follow: its own `zone.<type>` entry, else the shared `zone`. */
export function zoneRegimeKey(device: DeviceModel, zoneType: string): string {
  const own = `zone.${zoneType}`;
  return own in device.sensors ? own : 'zone';
}

export const repoRoot = resolve(fileURLToPath(new URL('../../', import.meta.url)));
export const devicesDir = join(repoRoot, 'sim', 'devices');

function checkReferences(d: DeviceModel, file: string): void {
  const names = new Set(d.thermal.nodes.map((n) => n.name));
  const bad: string[] = [];
  const need = (n: string, where: string) => { if (!names.has(n)) bad.push(`${file}: ${where}: unknown node '${n}' (nodes: ${[...names].join(', ')})`); };
  for (const l of d.thermal.links) { need(l.from, 'thermal.links.from'); if (l.to !== 'ambient') need(l.to, 'thermal.links.to'); }
  for (const [k, v] of Object.entries(d.thermal.heat)) need(v, `thermal.heat.${k}`);
  for (const [k, v] of Object.entries(d.thermal.signals)) if (v) need(v.node, `thermal.signals.${k}.node`);
  for (const z of d.thermal.zones) need(z.node, `thermal.zones(${z.type}).node`);
  for (const t of d.osGovernor.trips) need(t.node, 'osGovernor.trips.node');
  if (d.osGovernor.hardFloor) need(d.osGovernor.hardFloor.node, 'osGovernor.hardFloor.node');
  if (!d.thermal.links.some((l) => l.to === 'ambient')) bad.push(`${file}: thermal.links: no path to ambient`);
  if (bad.length) throw new UserError(`${file}: invalid device model`, bad);
}

/** Names of the shipped device models. */
export function listDevices(): string[] {
  return readdirSync(devicesDir).filter((f) => f.endsWith('.yaml')).map((f) => basename(f, '.yaml')).sort();
}

/** Resolve a device name (shipped) or a path to a device file. */
export function resolveDevicePath(nameOrPath: string): string {
  if (nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml') || nameOrPath.includes('/')) return resolve(nameOrPath);
  const p = join(devicesDir, `${nameOrPath}.yaml`);
  if (!existsSync(p)) throw new UserError(`unknown device '${nameOrPath}' (shipped: ${listDevices().join(', ')})`);
  return p;
}

const cache = new Map<string, DeviceModel>();

export function loadDevice(nameOrPath: string): DeviceModel {
  const path = resolveDevicePath(nameOrPath);
  const hit = cache.get(path);
  if (hit) return hit;
  const d = loadYamlFile(path, DeviceSchema, 'device model');
  checkReferences(d, path);
  cache.set(path, d);
  return d;
}
