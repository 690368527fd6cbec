/**
 * The governor core: (state, sample, policy) → (state', decision). Pure and deterministic:
 * no clock, no I/O, no randomness. Time arrives in `sample.t_ms`. See docs/core.md.
 *
 * Ownership: the state is owned by the caller and MUTATED by `step` for speed (typed-array
 * history, no per-sample allocation besides the decision). `step` returns the next state
 * object — today the same object — and callers must use the returned one and not keep or
 * share old states. Two governors need two `initialState` calls. Same policy + same sample
 * sequence → byte-identical decision stream.
 *
 * Immutability of outputs: each decision is a fresh object the caller may keep. Its
 * `reasons` array is shared with following decisions while neither the knobs nor the
 * binding constraints change (values in it are those seen when it was built); treat
 * decisions and their reasons as read-only.
 */
import type { Policy } from '../policy/types.js';
import type { Sample } from './signals.js';
import { sameKnobs, type Decision } from './decision.js';
import { SEVERITIES } from './severity.js';
import { compilePolicy, type CompiledLimit } from './compile.js';
import type { SignalEstimate } from '../estimator/estimator.js';
import { healthName, H_OK } from '../estimator/health.js';
import { MiB, fittingContextLength, needBytes } from './memory.js';
import { FK_CAP, FK_IGNORE, FK_SAFE, faultConsequenceName } from './compile.js';
import { buildReasons } from './reasons.js';
import {
  CoreState, F_FORECAST, F_IGNORED, F_SUBSTITUTE, F_UNUSABLE, MEM_CONTEXT, MEM_INFEASIBLE, MEM_TIER, MEM_UNKNOWN,
  MAX_DWELL_SCALE, OFF_CLOUD_SEV, OFF_CLOUD_SLOW, OFF_HELD, OFF_MEMORY, OFF_NONE, OFF_PAUSE_SEV, offloadLevel,
  pushMemWindow, relaxWaitMs, type GovernorState,
} from './state.js';

export type { GovernorState } from './state.js';


export interface StepResult {
  state: GovernorState;
  decision: Decision;
  /** True when the decision's knobs differ from the previous one (a "decision change"). */
  changed: boolean;
}

export function initialState(policy: Policy): GovernorState {
  return new CoreState(policy);
}

/** Health and estimates of every signal the governor tracks (for status pages and tests). */
export function signalEstimates(state: GovernorState): SignalEstimate[] {
  if (!(state instanceof CoreState)) return [];
  return state.cp.signalNames.map((n) => state.est.estimate(n)!);
}

/** The signals currently not `ok`, with their health (for replay summaries and status). */
export function sensorFaults(state: GovernorState): { signal: string; health: string }[] {
  if (!(state instanceof CoreState)) return [];
  const out: { signal: string; health: string }[] = [];
  const { est } = state;
  est.signals.forEach((s, i) => {
    // Undeclared rule signals that never appeared are simply absent on this device.
    if (est.health[i] !== H_OK && (s.declared || est.lastGoodT[i] === est.lastGoodT[i])) {
      out.push({ signal: s.name, health: healthName(est.health[i]) });
    }
  });
  for (let ch = est.signals.length; ch < est.watch.n; ch++) {
    if (est.watch.stuck[ch] === 1) out.push({ signal: est.watch.names[ch], health: 'stuck' });
  }
  return out;
}

/** What a fault of each declared sensor does under this policy (for `status` and replay summaries). */
export interface FaultConsequenceInForce {
  signal: string;
  /** `ignore`, `hold`, `safe` or `cap <tier>`. */
  onFault: string;
  /** True when it is the role default (critical → safe, else ignore), not written in the policy. */
  byDefault: boolean;
  /** The declared fallback that stands in first, if any. */
  fallback?: string;
  /** For a virtual sensor built from several zones: its other zones substitute for a stuck one. */
  zonesSubstitute?: boolean;
}

export function faultConsequences(policy: Policy): FaultConsequenceInForce[] {
  const cp = compilePolicy(policy);
  return policy.sensors.map((spec) => {
    const i = cp.signalIndex.get(spec.name)!;
    const out: FaultConsequenceInForce = { signal: spec.name, onFault: faultConsequenceName(cp, i), byDefault: cp.faultDefault[i] === 1 };
    if (spec.fallback !== undefined) out.fallback = spec.fallback;
    if (spec.source !== undefined && spec.source.kind !== 'weighted') out.zonesSubstitute = true;
    return out;
  });
}

/**
 * True when the last step's tier had a floor forced by a fault: a sensor whose `onFault` is
 * `cap <tier>` or `safe` with no value and no substitute, or an unknown MemAvailable on a device
 * that has one. For replay's `timeFaultCappedS`; reads a per-step field, allocates nothing.
 */
export function faultFloorInForce(state: GovernorState): boolean {
  return state instanceof CoreState && state.stepForcedIdx >= 0;
}

/** The fault consequence in force for one signal the governor tracks (undefined = not tracked). */
export function faultConsequenceOf(policy: Policy, signal: string): Omit<FaultConsequenceInForce, 'signal'> | undefined {
  const cp = compilePolicy(policy);
  const i = cp.signalIndex.get(signal);
  if (i === undefined) return undefined;
  return { onFault: faultConsequenceName(cp, i), byDefault: cp.faultDefault[i] === 1 };
}

/**
 * One sample through the core. Like Linux's power_allocator (`power_allocator_throttle` →
 * estimate, divvy up, grant), the loop is a fixed sequence of named stages, each writing its
 * result into the state's per-step fields (no per-sample allocation besides the decision):
 *
 *   estimate → severity → caps → relax/dwell → memory fit → offload → decision + reasons → bookkeeping
 */
export function step(state: GovernorState, sample: Sample, policy: Policy): StepResult {
  let s = state instanceof CoreState ? state : new CoreState(policy);
  if (s.policy !== policy) s = s.reloaded(policy);
  const t = sample.t_ms;
  s.speed.observe(sample, s.tierIdx, t - s.tierSinceT);
  stageEstimate(s, sample, t);
  stageSeverity(s, t);
  stageCaps(s);
  stageRelaxDwell(s, t);
  stageMemoryFit(s, sample, t);
  stageOffload(s, t);
  const decision = stageDecision(s, t);
  const changed = s.stepChanged;
  stageBookkeeping(s, t, decision, changed);
  return { state: s, decision, changed };
}

/** The estimator, and the MemAvailable slope hidden while our own footprint growth lands. */
function stageEstimate(s: CoreState, sample: Sample, t: number): void {
  const { cp, est } = s;
  est.update(sample);
  if (s.memPendingBytes > 0) {
    const avail = est.current[cp.memIdx];
    if (avail === avail && (s.memPendingFromMb - avail) * MiB >= 0.5 * s.memPendingBytes) {
      // Our own growth has landed: settle one more slope window, then forecast again.
      s.memPendingBytes = 0;
      s.memSettleUntilT = t + cp.policy.control.slopeWindowMs;
    } else if (t - s.memPendingSinceT >= cp.memTrustMs) s.memPendingBytes = 0;
  }
  if (s.memPendingBytes > 0 || t < s.memSettleUntilT) est.clearSlope(cp.memIdx, t);
  if (s.tierIdx >= 0 && s.tierSinceT !== s.tierSinceT) s.tierSinceT = s.contextSinceT = t;
}

/**
 * 1. Severity per limit, with hysteresis, on the effective value = the worse of the smoothed
 *    value and its forecast (so the forecast escalates early and a forecast-entered level clears
 *    only when value and forecast are both past clearAt). A limit whose signal has no value reads
 *    its substitute (the sensor's `fallback`) when that has one; otherwise the sensor's `onFault`
 *    decides: `ignore` drops the limit, the others keep its latched level (missing is never cool).
 *    Then the published severity is held for the dwell.
 */
function stageSeverity(s: CoreState, t: number): void {
  const { cp, est } = s;
  let sev = 0;
  let limitsMoved = false;
  const limits = cp.limits;
  for (let li = 0; li < limits.length; li++) {
    const L = limits[li];
    let i = L.signalIdx;
    const prevLvl = s.levels[li];
    let lvl = prevLvl;
    let flags = 0;
    if (!est.usable[i]) {
      const fb = cp.fallbackIdx[i];
      if (fb >= 0 && est.usable[fb]) { i = fb; flags = F_SUBSTITUTE; }
    }
    if (!est.usable[i]) {
      if (cp.faultKind[i] === FK_IGNORE) {
        // The signal drops out of the rules: its limit is not applied while it has no value.
        lvl = -1;
        flags = F_IGNORED;
      } else flags = F_UNUSABLE; // keep the latched level; stageCaps applies the consequence
      if (flags !== s.limitFlags[li] || lvl !== prevLvl) limitsMoved = true;
      s.limitFlags[li] = flags;
      s.levels[li] = lvl;
      s.forecastSinceT[li] = NaN;
    } else {
      const v = est.value[i];
      const f = est.forecast[i];
      const rising = L.rising;
      const set = L.setAt;
      const clear = L.clearAt;
      const e = L.forecast && f === f && (rising ? f > v : f < v) ? f : v;
      lvl = levelOf(L, e, prevLvl);
      if (e !== v) {
        const byValue = levelOf(L, v, prevLvl);
        if (lvl > byValue) {
          // The forecast must keep asking for `forecastConfirmMs` (a quarter of the slope window)
          // before it escalates: a load step's first seconds extrapolate to a false alarm, and
          // every tier swap costs a model reload. It looks one level ahead, no further.
          const since = s.forecastSinceT[li];
          if (since !== since) s.forecastSinceT[li] = t;
          if (t - s.forecastSinceT[li] < cp.forecastConfirmMs && lvl > prevLvl) lvl = Math.max(byValue, prevLvl);
          else if (lvl > byValue + 1) lvl = byValue + 1;
        } else s.forecastSinceT[li] = NaN;
      } else s.forecastSinceT[li] = NaN;
      if (lvl >= 0) {
        const crossed = rising ? v >= set[lvl] : v <= set[lvl];
        const held = lvl <= prevLvl && (s.limitFlags[li] & F_FORECAST) === 0 && (rising ? v >= clear[lvl] : v <= clear[lvl]);
        if (!crossed && !held) flags |= F_FORECAST;
      }
      if (flags !== s.limitFlags[li] || lvl !== prevLvl) limitsMoved = true;
      s.limitFlags[li] = flags;
      s.levels[li] = lvl;
    }
    if (lvl >= 0 && L.severity[lvl] > sev) sev = L.severity[lvl];
  }

  // A severity, once entered, is published for at least the dwell: the hotspot of a small board
  // swings 5–10 °C between prefill and think time, and the limits' hysteresis alone let the
  // decision flip none/light/moderate every few seconds (2 decision changes a minute on the Pi 5)
  // with no knob moving. Getting worse is never delayed; getting milder waits, like a relax.
  let sevHeld = false;
  if (sev < s.sev && t - s.sevSinceT < cp.dwellMs) { sev = s.sev; sevHeld = true; }
  if (sev !== s.sev) { s.sev = sev; s.sevSinceT = t; }
  s.stepSev = sev;
  s.stepSevHeld = sevHeld;
  s.stepLimitsMoved = limitsMoved;
}

/**
 * 2. The leanest tier anything demands: severity caps, sensor-fault consequences (only for a
 *    signal with no value and no substitute with one), an unknown MemAvailable, battery.
 */
function stageCaps(s: CoreState): void {
  const { cp, est } = s;
  const capIdx = cp.capBySeverity[s.stepSev];
  let safe = false;
  let forcedIdx = -1;
  const watched = cp.faultWatchIdx;
  for (let k = 0; k < watched.length; k++) {
    const i = watched[k];
    if (est.usable[i]) continue;
    const fb = cp.fallbackIdx[i];
    if (fb >= 0 && est.usable[fb]) continue;
    const kind = cp.faultKind[i];
    if (kind === FK_SAFE) safe = true;
    else if (kind === FK_CAP && cp.faultCapIdx[i] > forcedIdx) forcedIdx = cp.faultCapIdx[i];
  }
  const memUsable = est.usable[cp.memIdx] === 1;
  if (safe || (!memUsable && !cp.memAbsent)) forcedIdx = Math.max(forcedIdx, cp.safeIdx);

  let battIdx = -1;
  const chargingKnown = est.usable[cp.chargingIdx] === 1;
  const charging = chargingKnown
    ? est.current[cp.chargingIdx] >= 0.5
    : est.usable[cp.batteryWIdx] === 1 && est.current[cp.batteryWIdx] < 0;
  // A device that never reported any battery signal has no battery: no battery caps.
  const hasBattery = est.lastGoodT[cp.chargingIdx] === est.lastGoodT[cp.chargingIdx] ||
    est.lastGoodT[cp.batteryWIdx] === est.lastGoodT[cp.batteryWIdx] ||
    est.lastGoodT[cp.pctIdx] === est.lastGoodT[cp.pctIdx];
  if (!charging && hasBattery) {
    battIdx = cp.onBatteryIdx;
    if (est.usable[cp.pctIdx]) {
      const pct = est.current[cp.pctIdx];
      for (const c of cp.lowChargeCaps) if (pct <= c.belowPct && c.idx > battIdx) battIdx = c.idx;
    }
  }
  let target = capIdx;
  if (battIdx > target) target = battIdx;
  if (forcedIdx > target) target = forcedIdx;
  // With what the caps allow, the tier of best expected value for the work at hand (value.ts);
  // a forced safe tier is not second-guessed.
  s.stepAllowed = target;
  const valueIdx = safe ? target : s.value.best(target);
  s.stepValueIdx = valueIdx;
  if (valueIdx > target) target = valueIdx;
  s.stepCapIdx = capIdx;
  s.stepBattIdx = battIdx;
  s.stepForcedIdx = forcedIdx;
  s.stepSafe = safe;
  s.stepTarget = target;
}

/**
 * 3. Dwell and step limits: escalate now (at most maxEscalateStep, except to a fault's floor),
 *    relax only after the (backed-off, switch-cost-amortised) dwell and relaxStep at a time.
 */
function stageRelaxDwell(s: CoreState, t: number): void {
  const { cp } = s;
  const target = s.stepTarget;
  const forcedIdx = s.stepForcedIdx;
  const prev = s.tierIdx;
  let cand: number;
  let dwellHeld = false;
  /** The richer tier a relax is waiting for (−1 = none): its switch cost may set the wait. */
  let relaxTo = -1;
  if (prev < 0) cand = target;
  else if (target > prev) {
    cand = Math.min(target, prev + cp.maxEscalateStep);
    if (forcedIdx > cand) cand = forcedIdx;
  } else if (target < prev) {
    const next = Math.max(target, prev - cp.relaxStep);
    if (t - s.tierSinceT >= relaxWaitMs(s, prev, next)) cand = next;
    else { cand = prev; dwellHeld = true; relaxTo = next; }
  } else cand = prev;
  s.stepCand = cand;
  s.stepDwellHeld = dwellHeld;
  s.stepRelaxTo = relaxTo;
}

/**
 * 4. Memory feasibility: the first tier at or leaner than the candidate that fits, clamping its
 *    context or stepping the quant first as the policy prefers (docs/core.md §4).
 */
function stageMemoryFit(s: CoreState, sample: Sample, t: number): void {
  const { cp, est } = s;
  const cand = s.stepCand;
  const prev = s.tierIdx;
  const tiers = cp.tiers;
  const model = cp.policy.model;
  const memUsable = est.usable[cp.memIdx] === 1;
  let tierI = cand;
  let ctx = tiers[cand].contextLength;
  let mem = memUsable || cp.memAbsent ? 0 : MEM_UNKNOWN;
  let budget = NaN;
  if (!memUsable) s.memPrev1 = s.memPrev2 = s.memPrevEngine1 = s.memPrevEngine2 = NaN; // the kill detector restarts from fresh readings
  if (memUsable) {
    // What the engine still holds: the decided footprint, unless the engine reports that it has
    // not applied a decided shrink yet (engine_mb above it). A pending GROWTH stays counted at the
    // decided size — the engine will take it, and its load drops MemAvailable before any report.
    let held = s.heldBytes;
    let engineMb = sample.engine_mb;
    if (engineMb === undefined || !(engineMb >= 0 && engineMb < Infinity)) engineMb = NaN; // no report
    s.heldFromEngine = false;
    if (engineMb * MiB > held) {
      held = engineMb * MiB;
      s.heldFromEngine = true;
    }
    s.heldNowBytes = held;
    budget = pushMemWindow(s, t, memoryForEngine(s, t, est.current[cp.memIdx], held, engineMb), cp.memTrustMs) - cp.reserveBytes;
    let found = false;
    const minCtx = cp.minContextLength;
    if (cp.clampContextFirst) {
      for (let i = cand; i < tiers.length; i++) {
        const T = tiers[i];
        const c = fittingContextLength(model, cp.tierWeightsBytes[i], T.contextLength, T.batchSize, budget);
        if (c > 0 && c >= Math.min(minCtx, T.contextLength)) { tierI = i; ctx = c; found = true; break; }
      }
    } else {
      for (let i = cand; i < tiers.length; i++) {
        const T = tiers[i];
        if (needBytes(model, cp.tierWeightsBytes[i], T.contextLength, T.batchSize) <= budget) {
          tierI = i; ctx = T.contextLength; found = true; break;
        }
      }
      if (!found) {
        const i = cp.leanestIdx;
        const T = tiers[i];
        const c = fittingContextLength(model, cp.tierWeightsBytes[i], T.contextLength, T.batchSize, budget);
        if (c > 0 && c >= Math.min(minCtx, T.contextLength)) { tierI = i; ctx = c; found = true; }
      }
    }
    if (!found) {
      tierI = cp.leanestIdx;
      ctx = Math.min(minCtx, tiers[tierI].contextLength);
      mem = MEM_INFEASIBLE;
    } else {
      if (tierI > cand) mem |= MEM_TIER;
      if (ctx < tiers[tierI].contextLength) mem |= MEM_CONTEXT;
      // A clamped context grows back only after the dwell, like a tier.
      if (tierI === prev && ctx > s.contextLength && t - s.contextSinceT < cp.dwellMs) {
        ctx = s.contextLength;
        mem |= MEM_CONTEXT;
        s.stepDwellHeld = true;
      }
    }
  }
  s.stepTierI = tierI;
  s.stepCtx = ctx;
  s.stepMem = mem;
  s.stepBudget = budget;
}

/**
 * 5. Offload: pause / cloud by severity, cloud when local decode stays below the floor.
 *    Returning from cloud/pause toward local is a relax like any other and waits for the (scaled)
 *    dwell; going to cloud/pause never waits. Without this the offload was a fast bang-bang
 *    actuator on a fast node: on the boxed RK3588 `severe` sent work to the cloud, the hotspot
 *    (τ seconds) fell past clearAt within seconds, work came back, and it cycled every ~30–100 s.
 *    A memory pause ends as soon as the (already trust-windowed) budget fits again.
 */
function stageOffload(s: CoreState, t: number): void {
  const { cp, est } = s;
  const sev = s.stepSev;
  const mem = s.stepMem;
  const tokI = cp.tokIdx;
  const tok = est.raw[tokI];
  if (cp.minLocalTokS === cp.minLocalTokS && tok === tok && tok > 0 && est.usable[tokI]) {
    if (est.value[tokI] < cp.minLocalTokS) {
      if (s.slowSinceT !== s.slowSinceT) s.slowSinceT = t;
    } else s.slowSinceT = NaN;
  }
  let offloadCause = OFF_NONE;
  if (mem === MEM_INFEASIBLE) offloadCause = OFF_MEMORY;
  else if (sev >= cp.pauseAtSev) offloadCause = OFF_PAUSE_SEV;
  else if (cp.cloudAllowed && sev >= cp.cloudAtSev) offloadCause = OFF_CLOUD_SEV;
  else if (cp.cloudAllowed && s.slowSinceT === s.slowSinceT && t - s.slowSinceT >= cp.dwellMs) offloadCause = OFF_CLOUD_SLOW;
  let offLvl = offloadLevel(offloadCause);
  const prevOffLvl = s.offloadLvl;
  if (offLvl < prevOffLvl && s.offloadCause !== OFF_MEMORY && t - s.offloadSinceT < cp.dwellMs * s.dwellScale) {
    offLvl = prevOffLvl;
    offloadCause = OFF_HELD;
    s.stepDwellHeld = true;
  }
  s.stepOffloadCause = offloadCause;
  s.stepOffLvl = offLvl;
}

/** 6. The decision, and its reasons — rebuilt only when the knobs or the binding constraints change. */
function stageDecision(s: CoreState, t: number): Decision {
  const { cp, est } = s;
  const tierI = s.stepTierI;
  const offLvl = s.stepOffLvl;
  const T = cp.tiers[tierI];
  const decision: Decision = {
    t_ms: t,
    severity: SEVERITIES[s.stepSev],
    tier: T.name,
    tierIndex: tierI,
    quant: T.quant,
    contextLength: s.stepCtx,
    batchSize: T.batchSize,
    threads: T.threads,
    pacingMs: T.pacingMs,
    offload: offLvl === 0 ? 'local' : offLvl === 1 ? 'cloud' : 'pause',
    ttlMs: cp.ttlMs,
    safe: s.stepSafe,
    reasons: s.reasons,
    expect: s.speed.expectationFor(tierI, s.stepCtx),
  };
  const last = s.last;
  const changed = last === undefined || !sameKnobs(last, decision);
  s.stepChanged = changed;

  const sig = s.sig;
  let sigChanged = changed || s.stepLimitsMoved || est.healthChanged;
  if (sig[0] !== s.stepCapIdx) { sig[0] = s.stepCapIdx; sigChanged = true; }
  if (sig[1] !== s.stepBattIdx) { sig[1] = s.stepBattIdx; sigChanged = true; }
  if (sig[2] !== s.stepForcedIdx) { sig[2] = s.stepForcedIdx; sigChanged = true; }
  if (sig[3] !== s.stepMem) { sig[3] = s.stepMem; sigChanged = true; }
  const dh = s.stepDwellHeld ? 2 + s.stepRelaxTo : 0;
  if (sig[4] !== dh) { sig[4] = dh; sigChanged = true; }
  if (sig[5] !== s.stepOffloadCause) { sig[5] = s.stepOffloadCause; sigChanged = true; }
  if (sig[6] !== tierI) { sig[6] = tierI; sigChanged = true; }
  const sh = s.stepSevHeld ? 1 : 0;
  if (sig[7] !== sh) { sig[7] = sh; sigChanged = true; }
  if (sig[8] !== s.stepValueIdx) { sig[8] = s.stepValueIdx; sigChanged = true; }
  if (sigChanged) {
    s.reasons = buildReasons(s, t);
    decision.reasons = s.reasons;
  }
  return decision;
}

/** 7. What the next sample needs: relax back-off, dwell timers, offload timer, footprint. */
function stageBookkeeping(s: CoreState, t: number, decision: Decision, changed: boolean): void {
  const { cp, est } = s;
  const prev = s.tierIdx;
  const prevOffLvl = s.offloadLvl;
  const tierI = s.stepTierI;
  const offLvl = s.stepOffLvl;
  const ctx = s.stepCtx;
  // Relax back-off over both actuators: the tier and the offload (local < cloud < pause).
  const escalated = prev >= 0 && (tierI > prev || offLvl > prevOffLvl);
  const relaxed = prev >= 0 && !escalated && (tierI < prev || offLvl < prevOffLvl);
  if (escalated && t - s.lastRelaxT < 8 * cp.dwellMs * s.dwellScale) {
    // Once per premature relax: a burst of escalations after it is one lesson, not several.
    s.dwellScale = Math.min(s.dwellScale * 2, MAX_DWELL_SCALE);
    s.lastRelaxT = NaN;
  } else if (relaxed) {
    const heldSinceT = tierI < prev ? s.tierSinceT : s.offloadSinceT;
    if (t - heldSinceT >= 8 * cp.dwellMs * s.dwellScale) s.dwellScale = Math.max(1, s.dwellScale / 2);
    s.lastRelaxT = t;
  }
  if (offLvl !== prevOffLvl) { s.offloadLvl = offLvl; s.offloadSinceT = t; }
  if (s.stepOffloadCause !== OFF_HELD) s.offloadCause = s.stepOffloadCause;
  if (tierI !== prev) {
    s.tierSinceT = t;
    s.contextSinceT = t;
    s.slowSinceT = NaN;
  } else if (ctx !== s.contextLength) s.contextSinceT = t;
  s.tierIdx = tierI;
  s.contextLength = ctx;
  if (changed) {
    const held = needBytes(cp.policy.model, cp.tierWeightsBytes[tierI], ctx, cp.tiers[tierI].batchSize);
    // Settle for one slope window after our own footprint GROWS (see memSettleUntilT). A
    // shrink frees memory — no false alarm to hide — and an outside squeeze must stay visible.
    if (held > s.heldBytes) {
      s.memSettleUntilT = t + cp.policy.control.slopeWindowMs;
      if (s.memPendingBytes <= 0) { s.memPendingFromMb = est.current[cp.memIdx]; s.memPendingSinceT = t; }
      s.memPendingBytes += held - s.heldBytes;
    } else if (s.memPendingBytes > 0) s.memPendingBytes -= s.heldBytes - held;
    s.heldBytes = held;
  }
  s.last = decision;
}

/**
 * Memory the engine can use now, bytes: MemAvailable plus what our knobs hold — unless the
 * engine is believed gone (killed), when it holds nothing. The detector looks only at earlier
 * samples (MemAvailable one and two samples ago), so the result is non-decreasing in this
 * sample's reading (monotone in danger). While gone, the sample where the engine reloads is
 * bridged by crediting back the drop since the previous sample, up to our footprint.
 */
function memoryForEngine(s: CoreState, t: number, availMb: number, held: number, engineMb: number): number {
  const p1 = s.memPrev1;
  const p2 = s.memPrev2;
  // The rise of MemAvailable one sample ago that the engine's own reports do not explain: when
  // it applied a shrink, MemAvailable rose by what engine_mb fell (a big clamp landing looked
  // like a kill, and the budget lost our whole footprint for memTrustMs). Without reports on
  // both samples this is the bare rise, as before.
  const e1 = s.memPrevEngine1;
  const e2 = s.memPrevEngine2;
  const riseMb = e1 === e1 && e2 === e2 ? p1 - p2 + (e1 - e2) : p1 - p2;
  if (s.engineGoneSinceT === s.engineGoneSinceT) {
    const reloaded = p2 === p2 && -riseMb * MiB >= 0.5 * held;
    if (reloaded || t - s.engineGoneSinceT >= s.cp.memTrustMs) s.engineGoneSinceT = NaN;
  } else if (p2 === p2 && held > 0 && riseMb * MiB >= 0.5 * held) {
    s.engineGoneSinceT = t;
  }
  s.memPrev2 = p1;
  s.memPrev1 = availMb;
  s.memPrevEngine2 = e1;
  s.memPrevEngine1 = engineMb;
  const avail = availMb * MiB;
  if (s.engineGoneSinceT !== s.engineGoneSinceT) return avail + held;
  const drop = p1 === p1 ? Math.max(0, (p1 - availMb) * MiB) : 0;
  return avail + Math.min(drop, held);
}

/**
 * The level of one limit for effective value `e`, with hysteresis: the worst level whose setAt
 * `e` has reached, or a level up to the latched one whose clearAt `e` is not yet past.
 */
function levelOf(L: CompiledLimit, e: number, prevLvl: number): number {
  const rising = L.rising;
  const set = L.setAt;
  let lvl = -1;
  if (rising ? e >= L.reachAt : e <= L.reachAt) {
    for (let j = set.length - 1; j >= 0; j--) {
      if (rising ? e >= set[j] : e <= set[j]) { lvl = j; break; }
    }
  }
  const clear = L.clearAt;
  for (let j = prevLvl; j > lvl; j--) {
    if (rising ? e >= clear[j] : e <= clear[j]) return j;
  }
  return lvl;
}
