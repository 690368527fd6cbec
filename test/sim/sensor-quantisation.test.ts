/**
 * The simulator sees the world the governor sees on hardware (issue 11): every temperature
 * reading is a multiple of its sensor's quantum (0.1 °C gauges and tsens, whole-°C thermistors,
 * the Pi's 0.538 °C ADC step), and a scenario can hold a healthy sensor flat. A flat healthy
 * sensor never gives edgegov a stuck verdict or a fault reason, and edgegov still holds its
 * acceptance bounds against every baseline with it.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devicesDir, listDevices, loadDevice, zoneRegimeKey, type DeviceModel } from '../../src/sim/device.js';
import { loadScenario, scenariosDir, ScenarioSchema, type Scenario } from '../../src/sim/scenario.js';
import { DeviceSimulator } from '../../src/sim/simulator.js';
import { simModel, DEFAULT_MODEL } from '../../src/sim/model.js';
import { runSimulation } from '../../src/sim/run.js';
import { CONTROLLERS } from '../../src/sim/controllers.js';
import { checkCells, runCompare } from '../../src/sim/compare.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { defaultPolicyPath } from '../../src/sim/resolve.js';
import type { Knobs } from '../../src/sim/workload.js';
import type { Reason } from '../../src/core/decision.js';
import { UserError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'edgegov-sim-quantum-'));
const put = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
const model = simModel(DEFAULT_MODEL);
const busy: Knobs = { tier: 't', quant: 'q4_k_m', contextLength: 4096, batchSize: 256, threads: 4, pacingMs: 0, offload: 'local' };

function userErrorOf(fn: () => unknown): UserError {
  try { fn(); } catch (e) { if (e instanceof UserError) return e; throw e; }
  throw new Error('expected a UserError');
}

/** Whether `v` is a whole number of `q` (to the trace's 6 printed decimals). */
const onGrid = (v: number, q: number) => Math.abs(v / q - Math.round(v / q)) < 1e-6 / q;

/** The quantum each temperature key of a sample follows on `d`. */
function temperatureQuanta(d: DeviceModel): Map<string, number> {
  const out = new Map<string, number>();
  for (const k of ['soc_c', 'skin_c', 'battery_c', 'ambient_c']) if (d.sensors[k]?.quantum !== undefined) out.set(k, d.sensors[k].quantum!);
  for (const z of d.thermal.zones) out.set(`zone.${z.type}`, d.sensors[zoneRegimeKey(d, z.type)].quantum!);
  return out;
}

describe('device models quantise their temperature sensors as real ones do', () => {
  it('ships the real resolutions: phone battery 0.1 °C, whole-°C mid-range skin thermistor, Pi 0.538 °C, S25 board thermistor in m°C', () => {
    expect(loadDevice('flagship-phone').sensors.battery_c.quantum).toBe(0.1);
    expect(loadDevice('midrange-phone').sensors.battery_c.quantum).toBe(0.1);
    expect(loadDevice('midrange-phone').sensors.skin_c.quantum).toBe(1);
    expect(loadDevice('rpi5').sensors.soc_c.quantum).toBe(0.538);
    expect(loadDevice('rpi5').sensors.zone.quantum).toBe(0.538);
    const flagship = loadDevice('flagship-phone');
    expect(zoneRegimeKey(flagship, 'sys-therm-0')).toBe('zone.sys-therm-0');
    expect(zoneRegimeKey(flagship, 'cpu-1-0-0')).toBe('zone');
    expect(temperatureQuanta(flagship).get('zone.sys-therm-0')).toBe(0.001);
    expect(temperatureQuanta(flagship).get('zone.cpu-1-0-0')).toBe(0.1);
  });

  for (const name of listDevices()) {
    it(`${name}: every temperature reading over 20 busy minutes is a multiple of its quantum, and the readings move`, () => {
      const device = loadDevice(name);
      const sim = new DeviceSimulator({ device, model, scenario: loadScenario('hot-car'), seed: 3, floorTokS: 5 });
      const quanta = temperatureQuanta(device);
      expect(quanta.size).toBeGreaterThan(0);
      const seen = new Map<string, Set<number>>([...quanta.keys()].map((k) => [k, new Set<number>()]));
      const off: string[] = [];
      for (let t = 0; t < 1_200_000; t += 500) {
        sim.advance(0.5, busy);
        const s = sim.read(t + 500) as unknown as Record<string, number | undefined>;
        for (const [k, q] of quanta) {
          const v = s[k];
          if (v === undefined) continue;
          seen.get(k)!.add(v);
          if (!onGrid(v, q) && off.length < 5) off.push(`${k}=${v} (quantum ${q})`);
        }
      }
      expect(off).toEqual([]);
      // Not trivially on the grid: the soc reading climbs through many steps under load.
      const soc = seen.get('soc_c') ?? seen.get(`zone.${device.thermal.zones[0].type}`)!;
      expect(soc.size).toBeGreaterThan(10);
    });
  }
});

describe('sensor regimes are validated with their place', () => {
  const good = readFileSync(join(devicesDir, 'rpi5.yaml'), 'utf8');
  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

  it('a temperature sensor without a quantum is refused at its line', () => {
    const text = good.replace('soc_c: { cadenceMs: 500, noiseSigma: 0.3, quantum: 0.538 }', 'soc_c: { cadenceMs: 500, noiseSigma: 0.3 }');
    const p = put('no-quantum.yaml', text);
    const e = userErrorOf(() => loadDevice(p));
    expect(e.details.join('\n')).toMatch(new RegExp(`no-quantum\\.yaml:${lineOf(text, 'soc_c: {')}:\\d+: sensors\\.soc_c: a temperature sensor needs quantum`));
  });
  it('an implausibly coarse temperature quantum is refused at the value', () => {
    const p = put('coarse.yaml', good.replace('zone:  { cadenceMs: 500, noiseSigma: 0.3, quantum: 0.538 }', 'zone:  { cadenceMs: 500, noiseSigma: 0.3, quantum: 10 }'));
    const e = userErrorOf(() => loadDevice(p));
    expect(e.details.join('\n')).toMatch(/coarse\.yaml:\d+:\d+: sensors\.zone\.quantum: 10 °C is coarser than any real thermal sensor/);
  });
  it('a negative or zero quantum is refused', () => {
    const p = put('zero.yaml', good.replace('mem_avail_mb: { cadenceMs: 500, quantum: 1 }', 'mem_avail_mb: { cadenceMs: 500, quantum: 0 }'));
    expect(userErrorOf(() => loadDevice(p)).details.join('\n')).toMatch(/zero\.yaml:\d+:\d+: sensors\.mem_avail_mb\.quantum: /);
  });
  it('an unknown sensor and a zone override for a zone the device lacks are named', () => {
    const text = good.replace('  tok_s: {', '  battery_temp: { cadenceMs: 1000, quantum: 0.1 }\n  zone.gpu-thermal: { cadenceMs: 500, quantum: 1 }\n  tok_s: {');
    const p = put('unknown.yaml', text);
    const msg = userErrorOf(() => loadDevice(p)).details.join('\n');
    expect(msg).toMatch(new RegExp(`unknown\\.yaml:${lineOf(text, 'battery_temp')}:\\d+: sensors\\.battery_temp: unknown sensor 'battery_temp' \\(known: soc_c, .*zone, zone\\.cpu-thermal\\)`));
    expect(msg).toMatch(new RegExp(`unknown\\.yaml:${lineOf(text, 'zone.gpu-thermal')}:\\d+: sensors\\.zone\\.gpu-thermal: no thermal zone 'gpu-thermal' \\(thermal\\.zones: cpu-thermal\\)`));
  });
  it('a scenario holding a signal the simulator does not have is refused at the key', () => {
    const base = readFileSync(join(scenariosDir, 'sustained-chat.yaml'), 'utf8');
    const p = put('hold-typo.yaml', `${base}\nholdFlat: { batery_c: 31 }\n`);
    expect(userErrorOf(() => loadScenario(p)).details.join('\n')).toMatch(/hold-typo\.yaml:\d+:\d+: holdFlat\.batery_c: 'batery_c' is not a simulated signal \(soc_c, skin_c, battery_c, /);
  });
});

/** A scenario with healthy sensors held flat. */
function heldFlat(base: string, holdFlat: Record<string, number>): Scenario {
  return ScenarioSchema.parse({ ...loadScenario(base), name: `${base}+flat`, holdFlat });
}

/** Every reason in edgegov's decisions that reports a sensor as faulty or stuck. */
function faultReasons(reasons: Iterable<Reason>): string[] {
  const out: string[] = [];
  for (const r of reasons) if (r.rule === 'sensor-fault' || /stuck/i.test(r.message)) out.push(`${r.signal ?? ''}: ${r.message}`);
  return out;
}

describe('a healthy sensor held flat', () => {
  it('reads its constant whenever it reports, and stays absent on a device that lacks it', () => {
    const hold = { battery_c: 31, battery_pct: 100, 'zone.sys-therm-0': 36.5 };
    const sc = heldFlat('sustained-chat', hold);
    const phone = new DeviceSimulator({ device: loadDevice('flagship-phone'), model, scenario: sc, seed: 1, floorTokS: 5 });
    const board = new DeviceSimulator({ device: loadDevice('rk3588'), model, scenario: sc, seed: 1, floorTokS: 5 });
    const socs = new Set<number>();
    for (let t = 0; t < 600_000; t += 500) {
      phone.advance(0.5, busy); board.advance(0.5, busy);
      const s = phone.read(t + 500);
      expect([s.battery_c, s.battery_pct, s['zone.sys-therm-0']]).toEqual([31, 100, 36.5]);
      socs.add(s.soc_c!);
      const b = board.read(t + 500);
      expect(b.battery_c).toBeUndefined();
      expect(b.battery_pct).toBeUndefined();
    }
    // The truth behind the held readings moved: the flat reading is the sensor's, not the world's.
    expect(Math.abs(phone.truthC().battery! - 31)).toBeGreaterThan(0.5);
    expect(socs.size).toBeGreaterThan(10);
  });

  it('gives edgegov no stuck verdict and no fault reason on either phone, and edgegov still holds against every baseline', async () => {
    // The shipped `flat-sensors` (a compare column): a full phone on its charger, charge pinned at
    // 100 %, the gauge's battery temperature parked on one 0.1 °C step, no memory pressure.
    const sc = loadScenario('flat-sensors');
    expect(sc.holdFlat).toEqual({ battery_c: 31, battery_pct: 100, psi_mem_some_avg10: 0, psi_mem_full_avg10: 0 });
    for (const name of ['flagship-phone', 'midrange-phone']) {
      const device = loadDevice(name);
      const policy = await loadPolicyFile(defaultPolicyPath(device));
      const faults: string[] = [];
      let samples = 0, acted = 0;
      const edgegov = runSimulation({
        device, scenario: sc, policy, controller: 'edgegov',
        onStep: (st) => {
          samples++;
          faults.push(...faultReasons(st.decision.reasons));
          if (st.decision.reasons.some((r) => r.rule === 'limit' || r.rule === 'forecast' || r.rule === 'value')) acted++;
          expect(st.sample.battery_c).toBe(31);
        },
      });
      const baselines = runCompare(CONTROLLERS.filter((c) => c !== 'edgegov').map((controller) => ({ device, scenario: sc, policy, controller }))).runs;
      const runs = [edgegov, ...baselines];
      expect(samples).toBe(sc.durationS * 1000 / policy.control.samplePeriodMs);
      expect(faults, name).toEqual([]);
      // The run is not idle: edgegov acted on what it saw (heat, or the work's value).
      expect(acted, name).toBeGreaterThan(0);
      const [cell] = checkCells(runs);
      expect(cell, name).toMatchObject({ criticalS: 0, oomEvents: 0, belowFloorS: 0 });
      expect(cell.vsBestStatic!, `${name} vs best-static (${cell.bestStaticTier})`).toBeGreaterThanOrEqual(0.98);
      expect(cell.vsKernel!, `${name} vs stepwise/pid`).toBeGreaterThanOrEqual(1);
    }
  }, 60_000);

  it('quantised readings alone (the Pi at 0.538 °C, whole-°C skin) never give edgegov a stuck verdict in any shipped scenario', async () => {
    for (const name of ['rpi5', 'midrange-phone']) {
      const device = loadDevice(name);
      const policy = await loadPolicyFile(defaultPolicyPath(device));
      for (const s of ['sustained-chat', 'hot-car', 'low-battery']) {
        const faults: string[] = [];
        runSimulation({ device, scenario: loadScenario(s), policy, controller: 'edgegov', onStep: (st) => { faults.push(...faultReasons(st.decision.reasons)); } });
        expect(faults, `${name} · ${s}`).toEqual([]);
      }
    }
  }, 60_000);
});
