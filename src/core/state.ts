/**
 * The governor core's state (docs/core.md): the mutable controller state behind the opaque
 * `GovernorState`, the flags the stages and the reasons share, and the helpers both need.
 * Owned by governor.ts's `step` (the stages) and read by reasons.ts (the words).
 */
import type { Policy } from '../policy/types.js';
import type { Decision, Reason } from './decision.js';
import { compilePolicy, type CompiledPolicy } from './compile.js';
import { Estimator } from '../estimator/estimator.js';
import { compileSpeeds, type TierSpeeds } from './speed.js';
import { SpeedBelief, ValueModel } from './value.js';
import { expectedQoe, QOE_DEFAULTS } from './qoe.js';

/** The answer length the value model expects when ranking tiers (a chat answer: research/03 §6.6 median ~200 tokens). */
export const TYPICAL_ANSWER_TOKENS = 200;

/** The decode floor when a policy names no `minLocalTokS`: reading pace (research/03 §5 hard floor 5 tok/s). */
export const DEFAULT_FLOOR_TOK_S = 5;

export interface GovernorState {
  /** The last decision published, if any. */
  readonly last?: Decision;
}

export const F_FORECAST = 1;
/** The signal has no value and its fault consequence keeps the latched level (hold, cap, safe). */
export const F_UNUSABLE = 2;
/** The signal has no value and `onFault: ignore`: the limit is not applied. */
export const F_IGNORED = 4;
/** The signal has no value; the limit reads its fallback sensor instead. */
export const F_SUBSTITUTE = 8;

export const MEM_TIER = 1;
export const MEM_CONTEXT = 2;
export const MEM_INFEASIBLE = 4;
export const MEM_UNKNOWN = 8;

/** Largest relax back-off (× dwell). */
export const MAX_DWELL_SCALE = 16;

/**
 * A relax waits at least this many times its switch cost at the leaner knobs, so the time lost
 * to relaxing stays under 1/20 = 5 % of the time held — even when every relax proves premature
 * (docs/core.md §3). Escalation never waits for it.
 */
export const RELAX_AMORTISE = 20;

/** How long the current tier must be held before relaxing from `from` to `to`. */
export function relaxWaitMs(s: CoreState, from: number, to: number): number {
  const cp = s.cp;
  const dwell = cp.dwellMs * s.dwellScale;
  const amortise = RELAX_AMORTISE * cp.switchMs[from * cp.tiers.length + to];
  return dwell > amortise ? dwell : amortise;
}

export const OFF_NONE = 0;
export const OFF_MEMORY = 1;
export const OFF_PAUSE_SEV = 2;
export const OFF_CLOUD_SEV = 3;
export const OFF_CLOUD_SLOW = 4;
/** The previous cloud/pause, held while returning toward local waits for the dwell. */
export const OFF_HELD = 5;

/** Offload as a danger level: local < cloud < pause. */
export const offloadLevel = (cause: number): number =>
  cause === OFF_NONE ? 0 : cause === OFF_CLOUD_SEV || cause === OFF_CLOUD_SLOW ? 1 : 2;

/** The mutable controller state behind the opaque GovernorState. */
export class CoreState implements GovernorState {
  last: Decision | undefined = undefined;
  readonly policy: Policy;
  readonly cp: CompiledPolicy;
  readonly est: Estimator;
  /** The tiers' speed model and what the engine's reports say of it (value.ts). */
  readonly speeds: TierSpeeds;
  readonly speed: SpeedBelief;
  /** The tiers ranked by expected value for the work at hand (value.ts). */
  readonly value: ValueModel;
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
  /** What the caps allowed before the value choice, and the tier the value choice took (≥ it). */
  stepAllowed = 0;
  stepValueIdx = 0;
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
  readonly sig = new Int32Array(9).fill(-2);

  constructor(policy: Policy) {
    this.policy = policy;
    this.cp = compilePolicy(policy);
    this.est = new Estimator(policy);
    this.speeds = compileSpeeds(policy);
    this.speed = new SpeedBelief(this.speeds);
    const q = policy.rules.qoe ?? QOE_DEFAULTS;
    this.value = new ValueModel(policy.tiers, (quant) => 1 - (policy.model.quants.find((x) => x.name === quant)?.qualityCost ?? 0), this.speed,
      { firstTokenS: q.chatFirstTokenMs / 1000, readTokS: q.readTokS, outputTokens: TYPICAL_ANSWER_TOKENS, floorTokS: policy.rules.offload.minLocalTokS ?? DEFAULT_FLOOR_TOK_S }, expectedQoe);
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
    next.speed.copyFrom(this.speed);
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

/**
 * Adds (t, x) to the state's sliding-window minimum over `windowMs` and returns the minimum.
 * A monotone deque: amortised O(1), no allocation.
 */
export function pushMemWindow(s: CoreState, t: number, x: number, windowMs: number): number {
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
