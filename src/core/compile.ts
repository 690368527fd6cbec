/**
 * A policy compiled for the hot path: indices instead of names, typed arrays instead of
 * objects. Cached per Policy object (policies are immutable once loaded).
 */
import type { Policy, SwitchCosts, TierSpec } from '../policy/types.js';
import { SEVERITIES, severityIndex } from './severity.js';
import { unitOfSignal } from './signals.js';
import { Estimator } from '../estimator/estimator.js';
import { MiB, weightsBytesOf } from './memory.js';

export interface CompiledLimit {
  signal: string;
  signalIdx: number;
  rising: boolean;
  /**
   * Whether the forecast may escalate this limit. Not for power: draw follows the load
   * instantly and has no inertia, so extrapolating a load step 20 s ahead is a false alarm;
   * a power limit is judged on its smoothed value. Temperatures, charge, memory and PSI
   * (itself a 10 s average) move with inertia and are forecast.
   */
  forecast: boolean;
  setAt: Float64Array;
  clearAt: Float64Array;
  /**
   * The mildest set point (rising: the lowest; falling: the highest): a value short of it is at
   * no level, which is where a limit sits nearly always, so `levelOf` answers without a scan.
   */
  reachAt: number;
  /** Severity index (SEVERITIES) of each level, mildest first. */
  severity: Uint8Array;
}

export interface CompiledPolicy {
  policy: Policy;
  /** Signal order shared with every Estimator built from this policy. */
  signalNames: readonly string[];
  signalIndex: ReadonlyMap<string, number>;
  limits: readonly CompiledLimit[];
  /** Richest tier index allowed per severity index, inheritance resolved. */
  capBySeverity: Int32Array;
  tiers: readonly TierSpec[];
  tierWeightsBytes: Float64Array;
  tierIndexByName: ReadonlyMap<string, number>;
  safeIdx: number;
  leanestIdx: number;
  criticalIdx: Int32Array;
  /** Per estimator signal: what its fault does (FK_*), the role default resolved. */
  faultKind: Uint8Array;
  /** Per estimator signal: the tier of `onFault: cap <tier>` (−1 otherwise). */
  faultCapIdx: Int32Array;
  /** Per estimator signal: its declared fallback sensor's index (−1 = none). */
  fallbackIdx: Int32Array;
  /** Declared sensors whose fault caps the tier (cap or safe): the ones stageCaps looks at. */
  faultWatchIdx: Int32Array;
  /** Whether each fault consequence was the role default (for status and replay summaries). */
  faultDefault: Uint8Array;
  /** MemAvailable is not on this device (Policy.absentSignals): memory feasibility is not checked. */
  memAbsent: boolean;
  memIdx: number;
  pctIdx: number;
  chargingIdx: number;
  batteryWIdx: number;
  tokIdx: number;
  lowChargeCaps: readonly { belowPct: number; idx: number }[];
  onBatteryIdx: number;
  pauseAtSev: number;
  cloudAtSev: number;
  cloudAllowed: boolean;
  minLocalTokS: number;
  reserveBytes: number;
  clampContextFirst: boolean;
  minContextLength: number;
  dwellMs: number;
  relaxStep: number;
  maxEscalateStep: number;
  ttlMs: number;
  horizonS: number;
  /** How long a forecast crossing must persist before it escalates (a quarter of the slope window). */
  forecastConfirmMs: number;
  /** How long memory that appeared must stay before the budget counts it (3 × dwell, ≥ 30 s). */
  memTrustMs: number;
  /** switchMs[from · n + to]: engine busy time to go from tier `from`'s knobs to tier `to`'s. */
  switchMs: Float64Array;
}

/**
 * Switch costs when a policy names none: free, so a policy without `model.switchCost` relaxes
 * after the dwell alone, as before switch costs existed (docs/policy.md). Every shipped policy
 * names its device's costs.
 */
export const DEFAULT_SWITCH_COSTS: SwitchCosts = { quantMs: 0, contextMs: 0, batchMs: 0, threadsMs: 0, pacingMs: 0 };

/**
 * Engine busy time from knobs `a` to knobs `b`. A quant swap creates a new context anyway, so it
 * costs the reload alone; context and batch share one re-create; threads and pacing add theirs.
 */
export function switchCostMs(a: TierSpec, b: TierSpec, c: SwitchCosts): number {
  if (a.quant !== b.quant) return c.quantMs;
  let ms = 0;
  if (a.contextLength !== b.contextLength) ms = c.contextMs;
  if (a.batchSize !== b.batchSize && c.batchMs > ms) ms = c.batchMs;
  if (a.threads !== b.threads) ms += c.threadsMs;
  if (a.pacingMs !== b.pacingMs) ms += c.pacingMs;
  return ms;
}

/** Fault consequences (docs/policy.md `onFault`). */
export const FK_IGNORE = 0;
export const FK_HOLD = 1;
export const FK_CAP = 2;
export const FK_SAFE = 3;

/** The consequence in force for signal `i`, as the policy writes it (`cap lean`). */
export function faultConsequenceName(cp: CompiledPolicy, i: number): string {
  const k = cp.faultKind[i];
  return k === FK_IGNORE ? 'ignore' : k === FK_HOLD ? 'hold' : k === FK_SAFE ? 'safe' : `cap ${cp.tiers[cp.faultCapIdx[i]].name}`;
}

const cache = new WeakMap<Policy, CompiledPolicy>();

export function compilePolicy(policy: Policy): CompiledPolicy {
  let c = cache.get(policy);
  if (!c) {
    c = build(policy);
    cache.set(policy, c);
  }
  return c;
}

function build(policy: Policy): CompiledPolicy {
  const probe = new Estimator(policy);
  const idx = probe.index;
  const tierIndexByName = new Map(policy.tiers.map((t, i) => [t.name, i] as const));
  const tierIdx = (name: string | undefined, fallback: number): number =>
    name === undefined ? fallback : tierIndexByName.get(name) ?? fallback;
  const leanestIdx = policy.tiers.length - 1;

  const capBySeverity = new Int32Array(SEVERITIES.length);
  let cap = 0;
  SEVERITIES.forEach((s, i) => {
    // Unnamed severities inherit the next milder cap; a worse severity is never richer.
    cap = Math.max(cap, tierIdx(policy.rules.severityCaps[s], cap));
    capBySeverity[i] = cap;
  });

  const limits: CompiledLimit[] = policy.limits.map((l) => ({
    signal: l.signal,
    signalIdx: idx.get(l.signal)!,
    rising: l.direction === 'rising',
    forecast: unitOfSignal(l.signal) !== 'W' && !/_w$/.test(l.signal),
    setAt: Float64Array.from(l.levels.map((v) => v.setAt)),
    clearAt: Float64Array.from(l.levels.map((v) => v.clearAt)),
    reachAt: l.direction === 'rising' ? Math.min(...l.levels.map((v) => v.setAt)) : Math.max(...l.levels.map((v) => v.setAt)),
    severity: Uint8Array.from(l.levels.map((v) => severityIndex(v.severity))),
  }));

  const { offload, memory, battery } = policy.rules;
  const ctl = policy.control;
  const n = probe.signals.length;
  const faultKind = new Uint8Array(n);
  const faultCapIdx = new Int32Array(n).fill(-1);
  const fallbackIdx = new Int32Array(n).fill(-1);
  const faultDefault = new Uint8Array(n).fill(1);
  for (const spec of policy.sensors) {
    const i = idx.get(spec.name)!;
    const f = spec.onFault;
    // Role defaults: a critical sensor with no value (and no substitute with one) forces the safe
    // tier; any other sensor drops out of the rules.
    faultKind[i] = f === undefined ? (spec.critical ? FK_SAFE : FK_IGNORE)
      : f.kind === 'ignore' ? FK_IGNORE : f.kind === 'hold' ? FK_HOLD : f.kind === 'cap' ? FK_CAP : FK_SAFE;
    if (f !== undefined) faultDefault[i] = 0;
    if (f?.kind === 'cap') faultCapIdx[i] = tierIdx(f.tier, leanestIdx);
    if (spec.fallback !== undefined) fallbackIdx[i] = idx.get(spec.fallback) ?? -1;
  }
  const faultWatchIdx = Int32Array.from(policy.sensors.flatMap((spec) => {
    const i = idx.get(spec.name)!;
    return faultKind[i] === FK_CAP || faultKind[i] === FK_SAFE ? [i] : [];
  }));
  return {
    policy,
    signalNames: probe.signals.map((s) => s.name),
    signalIndex: idx,
    limits,
    capBySeverity,
    tiers: policy.tiers,
    tierWeightsBytes: Float64Array.from(policy.tiers.map((t) => weightsBytesOf(policy.model, t.quant))),
    tierIndexByName,
    safeIdx: tierIdx(ctl.safeTier, leanestIdx),
    leanestIdx,
    criticalIdx: Int32Array.from(probe.signals.flatMap((s, i) => (s.critical ? [i] : []))),
    faultKind, faultCapIdx, fallbackIdx, faultWatchIdx, faultDefault,
    memAbsent: policy.absentSignals?.includes('mem_avail_mb') === true,
    memIdx: idx.get('mem_avail_mb')!,
    pctIdx: idx.get('battery_pct')!,
    chargingIdx: idx.get('charging')!,
    batteryWIdx: idx.get('battery_w')!,
    tokIdx: idx.get('tok_s')!,
    lowChargeCaps: battery.lowChargeCaps.map((c) => ({ belowPct: c.belowPct, idx: tierIdx(c.tier, leanestIdx) })),
    onBatteryIdx: battery.onBatteryTier === undefined ? -1 : tierIdx(battery.onBatteryTier, leanestIdx),
    pauseAtSev: offload.pauseAtSeverity ? severityIndex(offload.pauseAtSeverity) : Infinity,
    cloudAtSev: offload.cloudAtSeverity ? severityIndex(offload.cloudAtSeverity) : Infinity,
    cloudAllowed: offload.cloudAllowed,
    minLocalTokS: offload.minLocalTokS ?? NaN,
    reserveBytes: memory.reserveMb * MiB,
    clampContextFirst: memory.onShortage === 'clamp-context',
    minContextLength: memory.minContextLength,
    dwellMs: ctl.dwellMs,
    relaxStep: Math.max(1, ctl.relaxStep),
    maxEscalateStep: Math.max(1, ctl.maxEscalateStep),
    ttlMs: ctl.leaseTtlMs,
    horizonS: ctl.forecastHorizonMs / 1000,
    forecastConfirmMs: ctl.slopeWindowMs / 4,
    // Long enough to span an engine restart and model reload after a low-memory kill.
    memTrustMs: Math.max(30_000, 3 * ctl.dwellMs),
    switchMs: Float64Array.from(policy.tiers.flatMap((a) => policy.tiers.map((b) =>
      switchCostMs(a, b, policy.model.switchCost ?? DEFAULT_SWITCH_COSTS)))),
  };
}
