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
import { DeviceSimulator, type AnswerOutcome, type TickStats } from './simulator.js';
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

/** QoE and value of a group of answers (by route, by tier). */
export interface QoeGroup {
  requests: number;
  /** Σ value (qoe × quality × fidelity). */
  value: number;
  meanQoe: number;
  /** Median and 95th percentile of seconds from request to first token (answers that had one). */
  firstTokenP50S?: number;
  firstTokenP95S?: number;
}

export interface SimSummary {
  device: string;
  scenario: string;
  controller: ControllerName;
  policy: string;
  seed: number;
  durationS: number;
  /**
   * The user's value (SPEC §9, docs/simulator.md "Score"): Σ over requests of QoE (Andes: the
   * delivered token timeline against the expected one, waiting included) × answer quality (the
   * quant's measured quality, or the cloud's) × context fidelity. Unanswered requests count 0.
   */
  score: number;
  /** Joules the device drew per unit of score (lower is better; undefined when the score is 0). */
  energyPerScoreJ?: number;
  requests: {
    /** Requests the user sent before the run ended. */
    sent: number;
    answered: number;
    /** Killed with the engine (OOM) mid-answer. */
    lost: number;
    /** Sent but nothing delivered by the end (deferred, paused, queued). */
    unanswered: number;
    /** Still streaming at the end (scored for what had been read by then). */
    cut: number;
    /** Private requests that went to the cloud: always 0 (the gateway never sends them). */
    privateToCloud: number;
  };
  qoe: { all: QoeGroup; byRoute: Record<string, QoeGroup>; byTier: Record<string, QoeGroup> };
  /** Mean context fidelity and answer quality over answered requests. */
  meanFidelity: number;
  meanQuality: number;
  /** Tokens generated locally (answers lost to an OOM kill are not counted). */
  tokens: number;
  cloudTokens: number;
  /** Σ local tokens × quant quality + cloud tokens × 1: the former score, kept as a secondary column. */
  qualityWeightedTokens: number;
  maxC: { soc: number; skin?: number; battery?: number };
  /** True-temperature seconds at or above each policy level `severe` and worse, keyed `signal.severity`. */
  secondsAboveLimit: Record<string, number>;
  belowFloorS: number;
  oomEvents: number;
  knobChanges: number;
  energyJ: number;
  requestsCompleted: number;
  pausedS: number;
  deferredS: number;
  /** Mean local decode speed while generating (tok/s). */
  meanLocalTokS: number;
  timeInTierS: Record<string, number>;
  timeOffloadedS: number;
  batteryEndPct?: number;
  /** The battery ran flat (or browned out) before the end. */
  deviceDied: boolean;
  /** For `best-static`: the tier whose static run was best in hindsight. */
  bestStaticTier?: string;
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
  sim.setRouter(ctl.router, ctl.warmKv);
  // The app loads the model under the controller's first decision (no reload cost), so the
  // first sample shows memory without the model — what a governor started first would see.
  const periodMs = policy.control.samplePeriodMs;
  const totalMs = scenario.durationS * 1000;
  const events = scenario.events;
  let nextEvent = 0;

  const watched = policy.limits.flatMap((l) => {
    const node = TEMP_NODE[l.signal];
    if (!node || l.direction !== 'rising') return [];
    return l.levels.filter((x) => SCORED_SEVERITIES.has(x.severity)).map((x) => ({ key: `${l.signal}.${x.severity}`, node, atC: x.setAt }));
  });
  const above: Record<string, number> = Object.fromEntries(watched.map((w) => [w.key, 0]));
  const maxC = { ...sim.truthC() };
  let tokens = 0, qwt = 0, cloudTokens = 0, belowFloorS = 0, oom = 0, knobChanges = 0, energyJ = 0;
  let pausedS = 0, deferredS = 0, decodeS = 0, done = 0, offloadedS = 0;
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
    deferredS += tick.deferredS;
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
    for (const w of watched) {
      const v = peak[w.node];
      if (v !== undefined && v >= w.atC) above[w.key] += dtS;
    }
    if (opts.onStep) opts.onStep({ t_ms: t, sample, decision, truthC: sim.truthC(), clockScale: sim.clock.core, tick });
    if (opts.onProgress && t - lastProgress >= 60_000) { lastProgress = t; opts.onProgress(t, totalMs); }
  }
  opts.onProgress?.(totalMs, totalMs);
  sim.closeRun(totalMs / 1000);

  const outcomes = sim.outcomes;
  const score = outcomes.reduce((a, o) => a + o.value, 0);
  const answered = outcomes.filter((o) => o.route === 'local' || o.route === 'cloud');
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    device: device.name,
    scenario: scenario.name,
    controller: opts.controller,
    policy: policy.name,
    seed,
    durationS: scenario.durationS,
    score: r3(score),
    ...(score > 0 ? { energyPerScoreJ: r3(energyJ / score) } : {}),
    requests: {
      sent: outcomes.length,
      answered: outcomes.filter((o) => o.complete && (o.route === 'local' || o.route === 'cloud')).length,
      lost: outcomes.filter((o) => o.route === 'lost').length,
      unanswered: outcomes.filter((o) => o.route === 'unanswered').length,
      cut: outcomes.filter((o) => !o.complete && (o.route === 'local' || o.route === 'cloud')).length,
      privateToCloud: outcomes.filter((o) => o.private && o.route === 'cloud').length,
    },
    qoe: {
      all: qoeGroup(outcomes),
      byRoute: groupBy(outcomes, (o) => o.route),
      byTier: groupBy(outcomes.filter((o) => o.route === 'local'), (o) => o.tier ?? '?'),
    },
    meanFidelity: r3(mean(answered.map((o) => o.fidelity))),
    meanQuality: r3(mean(answered.map((o) => o.quality))),
    tokens: r3(tokens),
    cloudTokens: r3(cloudTokens),
    qualityWeightedTokens: r3(qwt),
    maxC: { soc: r3(maxC.soc), ...(maxC.skin !== undefined ? { skin: r3(maxC.skin) } : {}), ...(maxC.battery !== undefined ? { battery: r3(maxC.battery) } : {}) },
    secondsAboveLimit: Object.fromEntries(Object.entries(above).map(([k, v]) => [k, r3(v)])),
    belowFloorS: r3(belowFloorS),
    oomEvents: oom,
    knobChanges,
    energyJ: r3(energyJ),
    requestsCompleted: done,
    pausedS: r3(pausedS),
    deferredS: r3(deferredS),
    meanLocalTokS: decodeS > 0 ? r3(tokens / decodeS) : 0,
    timeInTierS: Object.fromEntries(Object.entries(timeInTierS).map(([k, v]) => [k, r3(v)])),
    timeOffloadedS: r3(offloadedS),
    ...(sim.battery ? { batteryEndPct: r3(sim.battery.pct) } : {}),
    deviceDied: sim.dead,
  };
}

function quantile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function qoeGroup(outcomes: readonly AnswerOutcome[]): QoeGroup {
  const ft = outcomes.flatMap((o) => (o.firstTokenS !== undefined ? [o.firstTokenS] : [])).sort((a, b) => a - b);
  const g: QoeGroup = {
    requests: outcomes.length,
    value: r3(outcomes.reduce((a, o) => a + o.value, 0)),
    meanQoe: outcomes.length ? r3(outcomes.reduce((a, o) => a + o.qoe, 0) / outcomes.length) : 0,
  };
  if (ft.length) { g.firstTokenP50S = r3(quantile(ft, 0.5)); g.firstTokenP95S = r3(quantile(ft, 0.95)); }
  return g;
}

function groupBy(outcomes: readonly AnswerOutcome[], key: (o: AnswerOutcome) => string): Record<string, QoeGroup> {
  const m = new Map<string, AnswerOutcome[]>();
  for (const o of outcomes) { const k = key(o); const l = m.get(k); if (l) l.push(o); else m.set(k, [o]); }
  return Object.fromEntries([...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, l]) => [k, qoeGroup(l)]));
}
