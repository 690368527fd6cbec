/**
 * The daemon's simulated device for `edgegov demo` (`run --sim-scenario <s> --sim-speed <x>`):
 * the device of `sim/devices/` under a scenario of `sim/scenarios/` (ambient, charger, other
 * apps' memory, as timed events), its physics run `speed` times faster than wall time, and its
 * LOAD is the real inference engine's — not the scenario's simulated user. The engine (serve)
 * reports to the daemon after every request: the knobs it applied, the time it computed
 * (`busyMs`, pacing sleeps excluded) and the time it streamed from the cloud (`radioMs`).
 * Over each sample interval the device is busy for the fraction of wall time the engine
 * computed, under the engine's applied knobs; so a leaner tier heats it less because the real
 * engine really computes less (faster quant, pacing sleeps), and a cloud route idles the SoC and
 * keys the radio. Duty cycles are kept across the speed-up: a second of wall time at 50 %
 * busy is `speed` seconds of device time at 50 % busy.
 *
 * Threads: the host caps the real engine at serve's `--max-threads`; the simulated device runs
 * the applied tier's thread count from the policy (it has those cores), so the thread knob's
 * share of the device's big cores is the tier's.
 */
import type { Decision } from '../core/decision.js';
import type { Sample } from '../core/signals.js';
import type { Policy } from '../policy/types.js';
import type { ReportRequest } from '../ipc/protocol.js';
import { loadDevice } from './device.js';
import { simModel } from './model.js';
import { loadScenario, type Scenario } from './scenario.js';
import { DeviceSimulator } from './simulator.js';
import type { Knobs } from './workload.js';

export interface EngineLoadedDevice {
  readonly signals: string[];
  readonly device: string;
  readonly scenario: Scenario;
  readonly speed: number;
  /** Device seconds simulated so far. */
  readonly deviceTimeS: number;
  sampleAt(t_ms: number, decision?: Decision): Sample;
  /** What the engine told the daemon (serve's `report`): applied knobs, compute and radio time. */
  engineReport(req: Pick<ReportRequest, 'applied' | 'busyMs' | 'radioMs'>): void;
}

export interface EngineLoadOptions {
  device?: string;
  scenario: string;
  /** Device seconds per wall second (≥ 1 fast-forwards the physics). */
  speed: number;
  seed?: number;
  policy?: Policy;
}

const STEP_S = 0.5;
/** Longest gap integrated after a stall (daemon suspended), in wall ms. */
const MAX_CATCH_UP_MS = 60_000;

export function createEngineLoadedDevice(opts: EngineLoadOptions): EngineLoadedDevice {
  const device = loadDevice(opts.device ?? 'flagship-phone');
  const scenario = loadScenario(opts.scenario);
  const speed = opts.speed;
  const sim = new DeviceSimulator({
    device, model: simModel(opts.policy?.model), scenario, seed: opts.seed ?? scenario.seed,
    floorTokS: opts.policy?.rules.offload.minLocalTokS ?? 5,
  });
  const tiers = new Map((opts.policy?.tiers ?? []).map((t) => [t.name, t]));
  let knobs: Knobs | undefined;
  let pendingBusyMs = 0;
  let pendingRadioMs = 0;
  let nextEvent = 0;
  let lastMs: number | undefined;
  let originMs: number | undefined;

  const applyEvents = (): void => {
    while (nextEvent < scenario.events.length && scenario.events[nextEvent].atS <= sim.tS + 1e-9) {
      const e = scenario.events[nextEvent++];
      if (e.ambientC !== undefined) sim.setAmbient(e.ambientC);
      if (e.addBackgroundMb !== undefined) sim.addBackground(e.addBackgroundMb, e.rampS);
      if (e.charging !== undefined) sim.setCharging(e.charging);
      if (e.cloudReachable !== undefined) sim.setCloudReachable(e.cloudReachable);
    }
  };

  return {
    signals: [...sim.signals],
    device: device.name,
    scenario,
    speed,
    get deviceTimeS() { return sim.tS; },
    engineReport(req) {
      const a = req.applied;
      if (a?.quant !== undefined && a.contextLength !== undefined && a.batchSize !== undefined) {
        const tier = a.tier !== undefined ? tiers.get(a.tier) : undefined;
        knobs = {
          tier: a.tier ?? knobs?.tier ?? 'engine', quant: a.quant, contextLength: a.contextLength, batchSize: a.batchSize,
          threads: tier?.threads ?? a.threads, pacingMs: a.pacingMs ?? 0, offload: 'local',
        };
      }
      if (req.busyMs !== undefined) pendingBusyMs += req.busyMs;
      if (req.radioMs !== undefined) pendingRadioMs += req.radioMs;
    },
    sampleAt(t_ms) {
      originMs ??= t_ms;
      if (lastMs === undefined || t_ms < lastMs) lastMs = t_ms;
      const wallMs = Math.min(t_ms - lastMs, MAX_CATCH_UP_MS);
      lastMs = t_ms;
      // Work reported during this interval loads it; what exceeds it (a long answer reported at
      // its end) carries into the next intervals rather than being dropped.
      const busyMs = Math.min(wallMs, pendingBusyMs);
      const radioMs = Math.min(wallMs, pendingRadioMs);
      pendingBusyMs -= busyMs;
      pendingRadioMs -= radioMs;
      const busy = wallMs > 0 ? busyMs / wallMs : 0;
      const radio = wallMs > 0 ? radioMs / wallMs : 0;
      let leftS = (wallMs / 1000) * speed;
      while (leftS > 1e-9) {
        applyEvents();
        const dt = Math.min(STEP_S, leftS);
        sim.advanceUnderLoad(dt, { knobs, busy, radio });
        leftS -= dt;
      }
      applyEvents();
      return { ...sim.read(sim.tS * 1000), t_ms };
    },
  };
}
