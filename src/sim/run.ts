/**
 * The closed loop: device model ⇄ controller, sample by sample, and the SPEC §9 scores.
 * Every period: scenario events → the sensors' reading → the controller's decision → the
 * engine applies the knobs while physics advances one period.
 */
import type { Policy } from '../policy/types.js';
import type { Sample } from '../core/signals.js';
import { sameKnobs, type Decision } from '../core/decision.js';
import type { DeviceModel } from './device.js';
import type { Scenario } from './scenario.js';
import { simModel } from './model.js';
import { DeviceSimulator, type TickStats } from './simulator.js';
import { createController, type ControllerName } from './controllers.js';
import { knobsFromDecision } from './live.js';

/** One control period, for reports (H's `--report`/`--perfetto`) and tests. */
export interface StepRecord {
  t_ms: number;
  /** Exactly what the controller saw. */
  sample: Sample;
  decision: Decision;
  /** True temperatures at the end of the period (°C). */
  truthC: { soc: number; skin?: number; battery?: number };
  clockScale: number;
  tick: TickStats;
}

export interface SimSummary {
  device: string;
  scenario: string;
  controller: ControllerName;
  policy: string;
  seed: number;
  durationS: number;
  /** Tokens generated locally (answers lost to an OOM kill are not counted). */
  tokens: number;
  cloudTokens: number;
  /** Σ local tokens × (1 − qualityCost of the quant) + cloud tokens × 1 (docs/simulator.md). */
  qualityWeightedTokens: number;
  maxC: { soc: number; skin?: number; battery?: number };
  /** True-temperature seconds at or above each policy level `severe` and worse, keyed `signal.severity`. */
  secondsAboveLimit: Record<string, number>;
  belowFloorS: number;
  oomEvents: number;
  knobChanges: number;
  energyJ: number;
  score: number;
  requestsCompleted: number;
  pausedS: number;
  /** Mean local decode speed while generating (tok/s). */
  meanLocalTokS: number;
  timeInTierS: Record<string, number>;
  timeOffloadedS: number;
  batteryEndPct?: number;
  /** The battery ran flat (or browned out) before the end. */
  deviceDied: boolean;
}

export interface RunOptions {
  device: DeviceModel;
  scenario: Scenario;
  policy: Policy;
  controller: ControllerName;
  /** Default: the scenario's seed. */
  seed?: number;
  /** Called once before the first sample with the signals the simulated device reports. */
  onStart?: (signals: readonly string[]) => void;
  /** Called with every sample the controller saw (`--trace-out`). */
  onSample?: (sample: Sample) => void;
  /** The first decision and every change (`sameKnobs` false) — what `replay --decisions` writes. */
  onDecision?: (decision: Decision, sample: Sample) => void;
  /** Called after every period with the full record (reports, plots). */
  onStep?: (step: StepRecord) => void;
  /** Called now and then with simulated ms done (progress bar). */
  onProgress?: (doneMs: number, totalMs: number) => void;
}

/** Score weights (docs/simulator.md): penalties in quality-weighted-token units. */
export const SCORE_WEIGHTS = {
  /** Per second any temperature is at or above its policy `critical` level. */
  perCriticalS: 20,
  /** Per out-of-memory kill. */
  perOom: 200,
  /** Per second of local generation below the decode floor. */
  perBelowFloorS: 10,
} as const;

const SCORED_SEVERITIES = new Set(['severe', 'critical', 'emergency', 'shutdown']);
const TEMP_NODE: Record<string, 'soc' | 'skin' | 'battery'> = { soc_c: 'soc', skin_c: 'skin', battery_c: 'battery' };

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function floorTokSOf(policy: Policy): number {
  return policy.rules.offload.minLocalTokS ?? 5;
}

export function runSimulation(opts: RunOptions): SimSummary {
  const { device, scenario, policy } = opts;
  const seed = opts.seed ?? scenario.seed;
  const model = simModel(policy.model);
  const sim = new DeviceSimulator({ device, model, scenario, seed, floorTokS: floorTokSOf(policy) });
  const ctl = createController(opts.controller, { policy, device, model });
  // The app loads the model under the controller's first decision (no reload cost), so the
  // first sample shows memory without the model — what a governor started first would see.
  const periodMs = policy.control.samplePeriodMs;
  const totalMs = scenario.durationS * 1000;
  const events = scenario.events;
  let nextEvent = 0;

  const watched = policy.limits.flatMap((l) => {
    const node = TEMP_NODE[l.signal];
    if (!node || l.direction !== 'rising') return [];
    return l.levels.filter((x) => SCORED_SEVERITIES.has(x.severity)).map((x) => ({ key: `${l.signal}.${x.severity}`, node, atC: x.setAt, critical: x.severity === 'critical' }));
  });
  const above: Record<string, number> = Object.fromEntries(watched.map((w) => [w.key, 0]));
  const maxC = { ...sim.truthC() };
  let tokens = 0, qwt = 0, cloudTokens = 0, belowFloorS = 0, oom = 0, knobChanges = 0, energyJ = 0;
  let pausedS = 0, decodeS = 0, done = 0, offloadedS = 0, criticalS = 0;
  const timeInTierS: Record<string, number> = Object.fromEntries(policy.tiers.map((t) => [t.name, 0]));
  let lastProgress = 0;

  opts.onStart?.(sim.signals);
  let prevDecision: Decision | undefined;
  for (let t = 0; t < totalMs; t += periodMs) {
    while (nextEvent < events.length && events[nextEvent].atS * 1000 <= t) {
      const e = events[nextEvent++];
      if (e.ambientC !== undefined) sim.setAmbient(e.ambientC);
      if (e.addBackgroundMb !== undefined) sim.addBackground(e.addBackgroundMb, e.rampS);
      if (e.charging !== undefined) sim.setCharging(e.charging);
      if (e.cloudReachable !== undefined) sim.setCloudReachable(e.cloudReachable);
    }
    const sample = sim.read(t);
    opts.onSample?.(sample);
    const decision = ctl.decide(sample);
    if (opts.onDecision && (prevDecision === undefined || !sameKnobs(prevDecision, decision))) opts.onDecision(decision, sample);
    prevDecision = decision;
    const dtS = Math.min(periodMs, totalMs - t) / 1000;
    const tick = sim.advance(dtS, knobsFromDecision(decision));

    tokens += tick.localTokens - tick.lostTokens;
    qwt += tick.qualityTokens - tick.lostQualityTokens + tick.cloudTokens;
    cloudTokens += tick.cloudTokens;
    belowFloorS += tick.belowFloorS;
    pausedS += tick.pausedS;
    decodeS += tick.decodeS;
    energyJ += tick.energyJ;
    done += tick.requestsDone;
    if (tick.oom) oom++;
    if (tick.knobChanged) knobChanges++;
    if (decision.offload !== 'local') offloadedS += dtS;
    if (timeInTierS[decision.tier] !== undefined) timeInTierS[decision.tier] += dtS;
    const peak = sim.peakC();
    for (const k of ['soc', 'skin', 'battery'] as const) {
      const v = peak[k];
      if (v !== undefined && (maxC[k] === undefined || v > maxC[k]!)) maxC[k] = v;
    }
    let anyCritical = false;
    for (const w of watched) {
      const v = peak[w.node];
      if (v !== undefined && v >= w.atC) { above[w.key] += dtS; if (w.critical) anyCritical = true; }
    }
    if (anyCritical) criticalS += dtS;
    if (opts.onStep) opts.onStep({ t_ms: t, sample, decision, truthC: sim.truthC(), clockScale: sim.clock.core, tick });
    if (opts.onProgress && t - lastProgress >= 60_000) { lastProgress = t; opts.onProgress(t, totalMs); }
  }
  opts.onProgress?.(totalMs, totalMs);

  const score = qwt - SCORE_WEIGHTS.perCriticalS * criticalS - SCORE_WEIGHTS.perOom * oom - SCORE_WEIGHTS.perBelowFloorS * belowFloorS;
  return {
    device: device.name,
    scenario: scenario.name,
    controller: opts.controller,
    policy: policy.name,
    seed,
    durationS: scenario.durationS,
    tokens: r3(tokens),
    cloudTokens: r3(cloudTokens),
    qualityWeightedTokens: r3(qwt),
    maxC: { soc: r3(maxC.soc), ...(maxC.skin !== undefined ? { skin: r3(maxC.skin) } : {}), ...(maxC.battery !== undefined ? { battery: r3(maxC.battery) } : {}) },
    secondsAboveLimit: Object.fromEntries(Object.entries(above).map(([k, v]) => [k, r3(v)])),
    belowFloorS: r3(belowFloorS),
    oomEvents: oom,
    knobChanges,
    energyJ: r3(energyJ),
    score: r3(score),
    requestsCompleted: done,
    pausedS: r3(pausedS),
    meanLocalTokS: decodeS > 0 ? r3(tokens / decodeS) : 0,
    timeInTierS: Object.fromEntries(Object.entries(timeInTierS).map(([k, v]) => [k, r3(v)])),
    timeOffloadedS: r3(offloadedS),
    ...(sim.battery ? { batteryEndPct: r3(sim.battery.pct) } : {}),
    deviceDied: sim.dead,
  };
}
