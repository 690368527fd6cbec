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
import { sameKnobs, type Decision, type Reason } from './decision.js';
import { SEVERITIES, type Severity } from './severity.js';
import { compilePolicy, type CompiledLimit, type CompiledPolicy } from './compile.js';
import { Estimator, type SignalEstimate } from '../estimator/estimator.js';
import { healthName, H_OK } from '../estimator/health.js';
import { MiB, fittingContextLength, needBytes } from './memory.js';
import { FK_CAP, FK_IGNORE, FK_SAFE, faultConsequenceName } from './compile.js';
import { unitOfSignal } from './signals.js';

export interface GovernorState {
  /** The last decision published, if any. */
  readonly last?: Decision;
}

export interface StepResult {
  state: GovernorState;
  decision: Decision;
  /** True when the decision's knobs differ from the previous one (a "decision change"). */
  changed: boolean;
}

const F_FORECAST = 1;
/** The signal has no value and its fault consequence keeps the latched level (hold, cap, safe). */
const F_UNUSABLE = 2;
/** The signal has no value and `onFault: ignore`: the limit is not applied. */
const F_IGNORED = 4;
/** The signal has no value; the limit reads its fallback sensor instead. */
const F_SUBSTITUTE = 8;

const MEM_TIER = 1;
const MEM_CONTEXT = 2;
const MEM_INFEASIBLE = 4;
const MEM_UNKNOWN = 8;

/** Largest relax back-off (× dwell). */
const MAX_DWELL_SCALE = 16;

/**
 * A relax waits at least this many times its switch cost at the leaner knobs, so the time lost
 * to relaxing stays under 1/20 = 5 % of the time held — even when every relax proves premature
 * (docs/core.md §3). Escalation never waits for it.
 */
const RELAX_AMORTISE = 20;

/** How long the current tier must be held before relaxing from `from` to `to`. */
function relaxWaitMs(s: CoreState, from: number, to: number): number {
  const cp = s.cp;
  const dwell = cp.dwellMs * s.dwellScale;
  const amortise = RELAX_AMORTISE * cp.switchMs[from * cp.tiers.length + to];
  return dwell > amortise ? dwell : amortise;
}

const OFF_NONE = 0;
const OFF_MEMORY = 1;
const OFF_PAUSE_SEV = 2;
const OFF_CLOUD_SEV = 3;
const OFF_CLOUD_SLOW = 4;
/** The previous cloud/pause, held while returning toward local waits for the dwell. */
const OFF_HELD = 5;

/** Offload as a danger level: local < cloud < pause. */
const offloadLevel = (cause: number): number =>
  cause === OFF_NONE ? 0 : cause === OFF_CLOUD_SEV || cause === OFF_CLOUD_SLOW ? 1 : 2;

/** The mutable controller state behind the opaque GovernorState. */
class CoreState implements GovernorState {
  last: Decision | undefined = undefined;
  readonly policy: Policy;
  readonly cp: CompiledPolicy;
  readonly est: Estimator;
  /** Latched level index per limit (−1 = none). */
  readonly levels: Int8Array;
  /** F_FORECAST / F_UNUSABLE per limit, for reasons. */
  readonly limitFlags: Uint8Array;
  /** Per limit: since when the forecast has asked for a worse level than the value (NaN = not). */
  readonly forecastSinceT: Float64Array;
  tierIdx = -1;
  contextLength = 0;
  tierSinceT = NaN;
  contextSinceT = NaN;
  /** Bytes the last decided knobs hold (see memory.ts for why they count as available). */
  heldBytes = 0;
  /**
   * Bytes counted as ours in this sample's budget: the decided footprint, or the engine's
   * reported applied footprint (`engine_mb`) when that is larger — a decided shrink frees
   * nothing until the engine applies it (docs/core.md §4). For reasons.
   */
  heldNowBytes = 0;
  /** True when `heldNowBytes` came from `engine_mb` (the engine still holds more than decided). */
  heldFromEngine = false;
  /**
   * Until this time the MemAvailable slope is not trusted: our own last footprint change is
   * still landing (the engine reloads for seconds), and extrapolating it is a false alarm that
   * would bounce the tier straight back (simulator, docs/simulator.md).
   */
  memSettleUntilT = -Infinity;
  /**
   * Growth of our own footprint (bytes) that has been decided but not yet seen in MemAvailable:
   * an engine applies new knobs at a safe point (the end of the answer in flight — a minute or
   * more on a slow device), not when we decide. Until MemAvailable has fallen by half of it (or
   * memTrustMs passed), the MemAvailable slope stays cleared; settling for a fixed slope window
   * from the decision let a late reload be forecast as an outside squeeze and bounce the tier.
   */
  memPendingBytes = 0;
  /** MemAvailable (MiB) when the pending growth was decided, and since when it is pending. */
  memPendingFromMb = NaN;
  memPendingSinceT = NaN;
  /**
   * Relax back-off: the dwell before relaxing is multiplied by this. It doubles when an
   * escalation follows soon after a relax (the relax was premature: the device cannot sustain
   * the richer tier, and every tier swap costs a model reload), and halves after a calm hold.
   */
  dwellScale = 1;
  /** When the tier last got richer (NaN = never). */
  lastRelaxT = NaN;
  /**
   * Sliding-window minimum of (MemAvailable + what our knobs hold), over `memTrustMs`: memory
   * that appears is trusted only after it stayed (see docs/core.md §4 — after a low-memory kill
   * MemAvailable jumps by the engine's own footprint, which must not be counted twice).
   * Monotone deque: times and values, oldest first.
   */
  readonly memT: Float64Array;
  readonly memX: Float64Array;
  memHead = 0;
  memLen = 0;
  /** MemAvailable (MiB) one and two samples ago, for the engine-gone detector. */
  memPrev1 = NaN;
  memPrev2 = NaN;
  /** `engine_mb` one and two samples ago (NaN = not reported), to tell our own applied changes from a kill. */
  memPrevEngine1 = NaN;
  memPrevEngine2 = NaN;
  /**
   * Since when the engine is believed to hold nothing (NaN = it holds what we decided): set when
   * MemAvailable rose by at least half our own footprint in one sample (a low-memory kill),
   * cleared when it falls again by half of it (the engine reloaded) or after memTrustMs.
   */
  engineGoneSinceT = NaN;
  /** Since when observed tok/s has stayed below the floor while generating (NaN = not). */
  slowSinceT = NaN;
  /** The offload level decided last (0 local, 1 cloud, 2 pause; −1 = none yet) and since when. */
  offloadLvl = -1;
  offloadSinceT = NaN;
  /** The published severity index and since when (a milder one waits for the dwell). */
  sev = 0;
  sevSinceT = NaN;
  /** What caused the offload decided last (OFF_*; a hold keeps the cause it holds). */
  offloadCause = OFF_NONE;
  reasons: Reason[] = [];
  // Per-step results of the stages (written by each stage, read by the later ones and the reasons).
  stepSev = 0;
  stepSevHeld = false;
  stepLimitsMoved = false;
  stepCapIdx = 0;
  stepBattIdx = -1;
  stepForcedIdx = -1;
  stepSafe = false;
  stepTarget = 0;
  stepCand = 0;
  stepDwellHeld = false;
  stepRelaxTo = -1;
  stepTierI = 0;
  stepCtx = 0;
  stepMem = 0;
  stepBudget = NaN;
  stepOffloadCause = OFF_NONE;
  stepOffLvl = 0;
  /** The decision's knobs differ from the previous one's. */
  stepChanged = false;
  /** Signature of what the reasons describe (besides limit levels and sensor health, which
   *  report their own changes); reasons are rebuilt when any of it changes. */
  readonly sig = new Int32Array(8).fill(-2);

  constructor(policy: Policy) {
    this.policy = policy;
    this.cp = compilePolicy(policy);
    this.est = new Estimator(policy);
    this.levels = new Int8Array(this.cp.limits.length).fill(-1);
    this.limitFlags = new Uint8Array(this.cp.limits.length);
    this.forecastSinceT = new Float64Array(this.cp.limits.length).fill(NaN);
    const memCap = Math.min(65536, Math.max(16, 2 * Math.ceil(this.cp.memTrustMs / Math.max(1, policy.control.samplePeriodMs)) + 8));
    this.memT = new Float64Array(memCap);
    this.memX = new Float64Array(memCap);
  }

  /**
   * Hot reload: a new state for `policy` carrying over what the controller knew — signal
   * history (smoothing, slope window, health, hold timers) by signal name, each limit's latched
   * severity (matched by signal and direction, mapped to the new levels of the same or milder
   * severity), the decided tier by name (a tier the new ladder lacks → the safe tier), the
   * context length, dwell timers and the slow-decode timer. The last decision is kept so that
   * `changed` stays truthful across the reload.
   */
  reloaded(policy: Policy): CoreState {
    const next = new CoreState(policy);
    next.est.carryOverFrom(this.est);
    next.cp.limits.forEach((l, i) => {
      const j = this.cp.limits.findIndex((o) => o.signal === l.signal && o.rising === l.rising);
      if (j >= 0) next.forecastSinceT[i] = this.forecastSinceT[j];
      if (j < 0 || this.levels[j] < 0) return;
      const oldSeverity = this.cp.limits[j].severity[this.levels[j]];
      let lvl = -1;
      for (let k = 0; k < l.severity.length; k++) if (l.severity[k] <= oldSeverity) lvl = k;
      next.levels[i] = lvl;
    });
    next.last = this.last;
    if (this.last) {
      const idx = next.cp.tierIndexByName.get(this.last.tier);
      next.tierIdx = idx ?? next.cp.safeIdx;
      next.contextLength = idx === undefined ? next.cp.tiers[next.cp.safeIdx].contextLength : this.contextLength;
      // An unknown tier restarts the dwell at the first sample under the new policy (see step).
      next.tierSinceT = idx === undefined ? NaN : this.tierSinceT;
      next.contextSinceT = this.contextSinceT;
      next.heldBytes = this.heldBytes;
      next.memPrev1 = this.memPrev1;
      next.memPrev2 = this.memPrev2;
      next.memPrevEngine1 = this.memPrevEngine1;
      next.memPrevEngine2 = this.memPrevEngine2;
      next.engineGoneSinceT = this.engineGoneSinceT;
      for (let k = 0; k < this.memLen; k++) {
        const j = (this.memHead + k) % this.memT.length;
        pushMemWindow(next, this.memT[j], this.memX[j], Infinity);
      }
      next.memSettleUntilT = this.memSettleUntilT;
      next.memPendingBytes = this.memPendingBytes;
      next.memPendingFromMb = this.memPendingFromMb;
      next.memPendingSinceT = this.memPendingSinceT;
      next.dwellScale = this.dwellScale;
      next.lastRelaxT = this.lastRelaxT;
    }
    next.slowSinceT = this.slowSinceT;
    next.sev = this.sev;
    next.sevSinceT = this.sevSinceT;
    next.offloadLvl = this.offloadLvl;
    next.offloadSinceT = this.offloadSinceT;
    next.offloadCause = this.offloadCause;
    return next;
  }
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
 * Adds (t, x) to the state's sliding-window minimum over `windowMs` and returns the minimum.
 * A monotone deque: amortised O(1), no allocation.
 */
function pushMemWindow(s: CoreState, t: number, x: number, windowMs: number): number {
  const cap = s.memT.length;
  // Drop the newest entries that are not smaller than x: they can never be the minimum again.
  while (s.memLen > 0) {
    const last = (s.memHead + s.memLen - 1) % cap;
    if (s.memX[last] < x) break;
    s.memLen--;
  }
  // Drop entries older than the window (and the oldest when full).
  while (s.memLen > 0 && (s.memT[s.memHead] < t - windowMs || s.memLen === cap)) {
    s.memHead = s.memHead + 1 === cap ? 0 : s.memHead + 1;
    s.memLen--;
  }
  const tail = (s.memHead + s.memLen) % cap;
  s.memT[tail] = t;
  s.memX[tail] = x;
  s.memLen++;
  return s.memX[s.memHead];
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

const round2 = (x: number): number => Math.round(x * 100) / 100;
const fmt = (x: number): string => String(round2(x));

function buildReasons(s: CoreState, t: number): Reason[] {
  const sev = s.stepSev, capIdx = s.stepCapIdx, battIdx = s.stepBattIdx, mem = s.stepMem, budget = s.stepBudget;
  const dwellHeld = s.stepDwellHeld, offloadCause = s.stepOffloadCause, safe = s.stepSafe, tierI = s.stepTierI;
  const cand = s.stepCand, ctx = s.stepCtx, sevHeld = s.stepSevHeld, relaxTo = s.stepRelaxTo;
  const { cp, est } = s;
  const reasons: Reason[] = [];
  const tiers = cp.tiers;
  const unitLabel = (name: string): string => {
    const u = unitOfSignal(name) ?? (/_c$/.test(name) ? 'C' : /_w$/.test(name) ? 'W' : '');
    return u === 'C' ? '°C' : u;
  };
  const faultText = (i: number): string => {
    const h = healthName(est.health[i]);
    const since = est.faultSinceT[i];
    const cause = healthName(est.faultCause[i]);
    if (h === 'failed') return `failed (${cause} for ${fmt((t - since) / 1000)} s, longer than the ${est.signals[i].holdMs} ms hold)`;
    if (h === 'stuck') return est.watch.describe(i, unitLabel);
    if (h === 'missing' && est.lastGoodT[i] !== est.lastGoodT[i]) return 'missing (never reported)';
    return h;
  };
  const onFault = (i: number): string => `onFault: ${faultConsequenceName(cp, i)}`;
  const fallbackOf = (i: number): number => {
    const fb = cp.fallbackIdx[i];
    return fb >= 0 && est.usable[fb] ? fb : -1;
  };

  // Sensors whose fault forces the safe tier first (critical ones by default).
  if (safe) {
    for (const i of cp.faultWatchIdx) {
      if (est.usable[i] || cp.faultKind[i] !== FK_SAFE || fallbackOf(i) >= 0) continue;
      const spec = est.signals[i];
      reasons.push({
        rule: 'sensor-fault', signal: spec.name,
        message: `${spec.critical ? 'critical sensor ' : ''}${spec.name} ${faultText(i)}: safe tier ${tiers[cp.safeIdx].name} (${onFault(i)})`,
      });
    }
  }

  // Limits with a severity, worst first (stable by policy order).
  const order: number[] = [];
  cp.limits.forEach((_, li) => { if (s.levels[li] >= 0) order.push(li); });
  order.sort((a, b) => cp.limits[b].severity[s.levels[b]] - cp.limits[a].severity[s.levels[a]] || a - b);
  for (const li of order) {
    const L = cp.limits[li];
    const lvl = s.levels[li];
    const severity: Severity = SEVERITIES[L.severity[lvl]];
    const flags = s.limitFlags[li];
    if (flags & F_UNUSABLE) {
      const i = L.signalIdx;
      const kind = cp.faultKind[i];
      const cap = kind === FK_CAP ? `, at most tier ${tiers[cp.faultCapIdx[i]].name}` : kind === FK_SAFE ? `, safe tier ${tiers[cp.safeIdx].name}` : '';
      reasons.push({ rule: 'sensor-fault', signal: L.signal, severity,
        message: `${L.signal} ${faultText(i)}: holding ${severity}${cap} (${onFault(i)})` });
      continue;
    }
    const i = flags & F_SUBSTITUTE ? cp.fallbackIdx[L.signalIdx] : L.signalIdx;
    const via = flags & F_SUBSTITUTE ? ` (from its fallback ${est.signals[i].name})` : '';
    const value = round2(est.value[i]);
    const cmp = L.rising ? '≥' : '≤';
    if (flags & F_FORECAST) {
      const forecast = round2(est.forecast[i]);
      const tt = est.timeToLimitS(i, L.setAt[lvl]);
      const r: Reason = { rule: 'forecast', signal: L.signal, value, threshold: L.setAt[lvl], forecast, severity,
        message: `${L.signal}${via} ${fmt(value)} forecast ${fmt(forecast)} in ${fmt(cp.horizonS)} s ${cmp} ${L.setAt[lvl]}${tt === undefined ? '' : ` (in ${fmt(tt)} s)`}: ${severity}` };
      if (tt !== undefined) r.timeToLimitS = round2(tt);
      reasons.push(r);
    } else if (L.rising ? est.value[i] >= L.setAt[lvl] : est.value[i] <= L.setAt[lvl]) {
      reasons.push({ rule: 'limit', signal: L.signal, value, threshold: L.setAt[lvl], severity,
        message: `${L.signal}${via} ${fmt(value)} ${cmp} ${L.setAt[lvl]}: ${severity}` });
    } else {
      reasons.push({ rule: 'limit', signal: L.signal, value, threshold: L.clearAt[lvl], severity,
        message: `${L.signal}${via} ${fmt(value)} holds ${severity} until it passes ${L.clearAt[lvl]} (hysteresis)` });
    }
  }

  // Other faults of declared sensors — held readings, substitutes, dropped limits — say what they do.
  est.signals.forEach((spec, i) => {
    const h = est.health[i];
    if (h === H_OK || !spec.declared) return;
    const usable = est.usable[i] === 1;
    const kind = cp.faultKind[i];
    if (!usable && kind === FK_SAFE && fallbackOf(i) < 0) return; // named above
    if (cp.limits.some((l, li) => l.signalIdx === i && (s.limitFlags[li] & F_UNUSABLE) && s.levels[li] >= 0)) return;
    const limited = cp.limits.some((l) => l.signalIdx === i);
    // A declared sensor that nothing reads and that never reported is just absent here.
    if (!limited && kind === FK_IGNORE && est.lastGoodT[i] !== est.lastGoodT[i]) return;
    if (usable) {
      reasons.push({ rule: 'sensor-fault', signal: spec.name, value: round2(est.current[i]),
        message: `${spec.name} ${healthName(h)}: holding last good value ${fmt(est.current[i])}` });
      return;
    }
    const fb = fallbackOf(i);
    let what: string;
    if (fb >= 0) what = `its fallback ${est.signals[fb].name} (${fmt(est.current[fb])}) stands in`;
    else if (kind === FK_IGNORE) what = limited ? `its limits are not applied (${onFault(i)})` : `not used (${onFault(i)})`;
    else if (kind === FK_CAP) what = `at most tier ${tiers[cp.faultCapIdx[i]].name} (${onFault(i)})`;
    else what = `its limits keep their latched severity (${onFault(i)})`;
    reasons.push({ rule: 'sensor-fault', signal: spec.name, message: `${spec.name} ${faultText(i)}: ${what}` });
  });

  // Raw zones judged stuck: their virtual sensor reads its other zones (the substitute).
  const watch = est.watch;
  for (let ch = est.signals.length; ch < watch.n; ch++) {
    if (watch.stuck[ch] !== 1) continue;
    const name = watch.names[ch];
    reasons.push({ rule: 'sensor-fault', signal: name,
      message: `${name} ${watch.describe(ch, unitLabel)}: left out, its virtual sensor reads its other zones` });
  }

  if (mem & MEM_UNKNOWN) {
    reasons.push({ rule: 'memory', signal: 'mem_avail_mb',
      message: `mem_avail_mb unknown: memory feasibility cannot be checked, at most tier ${tiers[cp.safeIdx].name}` });
  } else if (mem !== 0) {
    const avail = est.current[cp.memIdx];
    const budgetMb = round2(budget / MiB);
    const T = tiers[tierI];
    const needMb = round2(needBytes(cp.policy.model, cp.tierWeightsBytes[tierI], ctx, T.batchSize) / MiB);
    const what = mem & MEM_INFEASIBLE
      ? `even ${T.name} at context ${ctx} needs ${needMb} MiB: pause`
      : [mem & MEM_TIER ? `stepped down from ${tiers[cand].name} to ${T.name}` : '',
        mem & MEM_CONTEXT ? `context ${ctx} (of ${T.contextLength})` : ''].filter(Boolean).join(', ') + ` needs ${needMb} MiB`;
    reasons.push({ rule: 'memory', signal: 'mem_avail_mb', value: round2(avail), threshold: budgetMb,
      message: `budget ${budgetMb} MiB (mem_avail ${fmt(avail)} + our own ${fmt(s.engineGoneSinceT === s.engineGoneSinceT ? 0 : s.heldNowBytes / MiB)}${s.heldFromEngine && s.engineGoneSinceT !== s.engineGoneSinceT ? ' still applied, engine_mb' : ''}, least over ${cp.memTrustMs / 1000} s, − reserve ${cp.policy.rules.memory.reserveMb}${s.engineGoneSinceT === s.engineGoneSinceT ? '; engine believed killed' : ''}): ${what}` });
  }

  if (battIdx >= 0 && battIdx >= capIdx && battIdx > 0) {
    const pct = est.current[cp.pctIdx];
    reasons.push({ rule: 'battery', signal: 'battery_pct', ...(pct === pct ? { value: round2(pct) } : {}),
      message: `on battery${pct === pct ? ` at ${fmt(pct)} %` : ''}: at most tier ${tiers[battIdx].name}` });
  }

  if (sevHeld) {
    let now = 0;
    cp.limits.forEach((L, li) => { if (s.levels[li] >= 0 && L.severity[s.levels[li]] > now) now = L.severity[s.levels[li]]; });
    reasons.push({ rule: 'dwell', severity: SEVERITIES[sev],
      message: `severity ${SEVERITIES[sev]} held for ${cp.dwellMs} ms after it was entered ${fmt((t - s.sevSinceT) / 1000)} s ago (the limits now ask for ${SEVERITIES[now]})` });
  }

  if (dwellHeld) {
    const dwellMs = cp.dwellMs * s.dwellScale;
    const costMs = relaxTo >= 0 ? cp.switchMs[tierI * tiers.length + relaxTo] : 0;
    if (RELAX_AMORTISE * costMs > dwellMs) {
      reasons.push({ rule: 'dwell', message: `relaxing waits for ${RELAX_AMORTISE * costMs} ms at the current knobs: the switch to ${tiers[relaxTo].name} costs ${fmt(costMs / 1000)} s, and a relax waits ≥ ${RELAX_AMORTISE}× its switch cost` });
    } else {
      reasons.push({ rule: 'dwell', message: s.dwellScale > 1
        ? `relaxing waits for ${dwellMs} ms at the current knobs (dwell ×${s.dwellScale}: the last relax was followed by an escalation)`
        : `relaxing waits for ${dwellMs} ms at the current knobs` });
    }
  }

  if (offloadCause !== OFF_NONE && offloadCause !== OFF_MEMORY) {
    const severity = SEVERITIES[sev];
    if (offloadCause === OFF_HELD) {
      const off = s.offloadLvl === 2 ? 'pause' : 'cloud';
      reasons.push({ rule: 'offload', severity,
        message: `${off} held: returning toward local waits for ${cp.dwellMs * s.dwellScale} ms at ${off} (since ${fmt((t - s.offloadSinceT) / 1000)} s)` });
    } else if (offloadCause === OFF_CLOUD_SLOW) {
      reasons.push({ rule: 'offload', signal: 'tok_s', value: round2(est.value[cp.tokIdx]), threshold: cp.minLocalTokS,
        message: `local decode ${fmt(est.value[cp.tokIdx])} tok/s below ${cp.minLocalTokS} tok/s: cloud` });
    } else {
      reasons.push({ rule: 'offload', severity,
        message: `severity ${severity}: ${offloadCause === OFF_PAUSE_SEV ? 'pause' : 'cloud'}` });
    }
  }

  if (reasons.length === 0) {
    reasons.push({ rule: 'nominal', severity: SEVERITIES[sev],
      message: tierI === 0 ? 'all limits clear: richest tier'
        : tierI > Math.max(capIdx, battIdx, 0)
          ? `relaxing ${cp.relaxStep} tier per dwell toward ${tiers[Math.max(capIdx, battIdx, 0)].name}`
          : `tier ${tiers[tierI].name} (${SEVERITIES[sev]})` });
  }
  return reasons;
}
