/**
 * The compiled policy: what the YAML loader (src/policy/load.ts) produces after parsing,
 * schema validation, semantic checks and unit normalisation. Every consumer (core,
 * simulator, daemon, reports) reads this shape, never the raw YAML.
 *
 * Units are fixed here and ride in the field names: temperatures °C, power W,
 * charge %, memory MiB, PSI %, time ms, sizes in bytes where named `Bytes`.
 */
import type { Severity } from '../core/severity.js';

export type ThresholdSeverity = Exclude<Severity, 'none'>;

/** How a virtual sensor combines the raw zones it matched. */
export type Combine =
  | { kind: 'max'; zones: readonly string[] }
  | { kind: 'min'; zones: readonly string[] }
  | { kind: 'avg'; zones: readonly string[] }
  /** Σ weight·zone + offsetC (Pixel "linear"); zones may be glob patterns matching one zone each. */
  | { kind: 'weighted'; terms: readonly { zone: string; weight: number }[]; offset: number };

/**
 * What a sensor fault does (docs/policy.md, `onFault`). Undefined on a SensorSpec = the role
 * default: `safe` for a critical sensor, `ignore` for the rest.
 *  - `ignore`: the signal drops out of the rules — its limits are not applied while it has no value;
 *  - `hold`:   its limits keep the severity they had latched (a failed sensor never looks cooler);
 *  - `cap`:    like hold, and the tier is at most `tier`;
 *  - `safe`:   the safe tier (`safe: true` on the decision).
 * A sensor with a substitute (its `fallback`, or another zone of its virtual sensor) uses the
 * substitute first; the consequence applies only when no substitute has a value either.
 */
export type FaultConsequence =
  | { kind: 'ignore' }
  | { kind: 'hold' }
  | { kind: 'cap'; tier: string }
  | { kind: 'safe' };

export interface SensorSpec {
  /** Canonical (SPEC §3) or virtual sensor name, e.g. `soc_c`, `vskin_c`. */
  name: string;
  /** Plausible range in the signal's own unit; readings outside are faults. */
  min: number;
  max: number;
  /** When this sensor has failed, the governor goes to the safe tier. */
  critical: boolean;
  /** Largest believable change per second (signal unit / s); faster = spike. Infinity disables. */
  maxSlewPerS: number;
  /** Per-sensor override of control.holdMs (slow sensors such as a 30 s virtual skin). Undefined = control.holdMs. */
  holdMs?: number;
  /** What a fault of this sensor does; undefined = the role default (critical → safe, else ignore). */
  onFault?: FaultConsequence;
  /** Another declared sensor whose value stands in while this one has none (same unit). */
  fallback?: string;
  /**
   * Built from raw zones (`zone.<type>`) by type pattern. Glob patterns use `*` and `?`.
   * Undefined = read directly from the sample under `name`.
   */
  source?: Combine;
}

/** One severity level of one limit: entered at `setAt`, left when the value gets back past `clearAt`. */
export interface LimitLevel {
  severity: ThresholdSeverity;
  setAt: number;
  clearAt: number;
}

export interface LimitSpec {
  signal: string;
  /** `rising`: danger grows with the value (temperatures, power, PSI). `falling`: charge, available memory. */
  direction: 'rising' | 'falling';
  /** Ordered from the mildest severity to the worst; only the severities the policy names. */
  levels: readonly LimitLevel[];
  /**
   * Whether the forecast may escalate this limit. Undefined = the core's default for the
   * signal (e.g. not for power, which follows the load without inertia).
   */
  forecast?: boolean;
}

export interface QuantSpec {
  name: string;
  /** Bytes of weights in memory for this quant (GGUF file size is a good value). */
  weightsBytes: number;
  /** Fraction of answer quality lost against the unquantized model, 0..1. Quality weight = 1 − cost. */
  qualityCost: number;
}

/**
 * What changing a knob costs the engine, ms of busy time (research/03 §7, the actuator ladder
 * cheapest first). The governor uses it to relax only when the richer knobs are worth their switch.
 */
export interface SwitchCosts {
  /** A new quant: unload, reload the weights from storage, and re-prefill the kept conversation. */
  quantMs: number;
  /** A new context length: the context is re-created (KV carried over or re-prefilled). */
  contextMs: number;
  /** A new batch (ubatch) size: a context re-create too (shares the cost with a context change). */
  batchMs: number;
  /** A new thread count: llama_set_n_threads, free in practice. */
  threadsMs: number;
  /** New pacing: a sleep in the token loop, free. */
  pacingMs: number;
}

/**
 * How fast the device runs the model (docs/policy.md "Speed"): the governor's model of decode
 * (memory-bandwidth bound, research/03 §6.2) and prefill (compute bound, §6.3) per tier.
 */
export interface Performance {
  /** Achieved DRAM bandwidth while decoding (η·peak), bytes/s. */
  memoryBandwidthBytesPerS: number;
  /** Effective prefill compute at the richest tier's threads and ubatch 512, operations/s. */
  prefillOpsPerS: number;
  /** Fixed time per decoded token, ms. */
  fixedMsPerToken: number;
  /** False when these are the defaults (no `model.performance` in the policy). */
  declared: boolean;
}

export interface ModelSpec {
  name: string;
  /** KV cache bytes per token of context (K and V, all layers). */
  kvBytesPerToken: number;
  /** Compute buffers + runtime, independent of context, bytes. */
  overheadBytes: number;
  /** Extra compute-buffer bytes per token of batch (ubatch), bytes. 0 when unknown. */
  batchBytesPerToken: number;
  quants: readonly QuantSpec[];
  /** Switch costs; undefined = the core's defaults (DEFAULT_SWITCH_COSTS in src/core/compile.ts, docs/policy.md). */
  switchCost?: SwitchCosts;
  /** The device's speed with this model; undefined = DEFAULT_PERFORMANCE (src/policy/compile.ts). */
  performance?: Performance;
}

export interface TierSpec {
  name: string;
  /** Position in the ladder, 0 = richest. */
  index: number;
  quant: string;
  contextLength: number;
  batchSize: number;
  threads?: number;
  /** Pause between decoded tokens, ms, to cut power. 0 = none. */
  pacingMs: number;
  /** Measured decode speed without pacing, tok/s (`edgegov calibrate`); undefined = modelled. */
  decodeTokS?: number;
  /** Measured prefill speed, tok/s; undefined = modelled. */
  prefillTokS?: number;
}

export type Offload = 'local' | 'cloud' | 'pause';

export interface OffloadRules {
  /** Whether the cloud exists for this deployment at all. */
  cloudAllowed: boolean;
  /** At or above this severity, non-private requests go to the cloud (when allowed). */
  cloudAtSeverity?: ThresholdSeverity;
  /** At or above this severity, local generation pauses. */
  pauseAtSeverity?: ThresholdSeverity;
  /** Below this local decode speed (tok/s), offload when allowed. */
  minLocalTokS?: number;
  /** Expected time to the cloud's first token, network included, ms (default 1000). */
  cloudFirstTokenMs?: number;
  /** Expected cloud streaming speed, tok/s (default 50). */
  cloudTokS?: number;
}

/** What the user expects of an answer (docs/policy.md "Quality of experience"). */
export interface QoeRules {
  /** First-token target of a chat request, ms. */
  chatFirstTokenMs: number;
  /** First-token target of a document request, ms. */
  documentFirstTokenMs: number;
  /** The reader's pace, tok/s: decode faster than this goes unnoticed. */
  readTokS: number;
}

export interface MemoryRules {
  /** Memory kept free for the rest of the system, MiB. */
  reserveMb: number;
  /** When a tier does not fit: shrink the context first, or step the quant down first. */
  onShortage: 'clamp-context' | 'step-quant';
  /** The context length is never clamped below this. */
  minContextLength: number;
}

export interface BatteryRules {
  /** When discharging and at or below this charge %, the richest allowed tier is `tier`. */
  lowChargeCaps: readonly { belowPct: number; tier: string }[];
  /** Richest tier while on battery (not charging); undefined = no cap. */
  onBatteryTier?: string;
}

export interface Rules {
  /** For each severity, the richest tier still allowed. Severities not named inherit the milder one's cap. */
  severityCaps: Readonly<Partial<Record<Severity, string>>>;
  offload: OffloadRules;
  memory: MemoryRules;
  battery: BatteryRules;
  qoe: QoeRules;
}

export interface ControlSpec {
  samplePeriodMs: number;
  /** Minimum time at a tier before relaxing to a richer one. Escalation never waits. */
  dwellMs: number;
  /** Tiers relaxed per step (richer). */
  relaxStep: number;
  /** Most tiers to drop in one decision; Infinity = jump straight to what safety needs. */
  maxEscalateStep: number;
  /** How far ahead the forecast looks. */
  forecastHorizonMs: number;
  /** Window for the slope estimate. */
  slopeWindowMs: number;
  /** EMA time constant for smoothing; 0 = raw values. */
  smoothingMs: number;
  /** Tier used when a critical sensor fails or a lease runs out. */
  safeTier: string;
  /** Lease on every published decision. */
  leaseTtlMs: number;
  /** How long a missing/faulty sensor's last good value is held before it is declared failed. */
  holdMs: number;
  /**
   * How long a sensor must stay flat (within its own learnt quantum) while a physically coupled
   * signal moves materially before it is declared stuck (Pixel's MinStuckDuration, 120 s).
   */
  stuckAfterMs: number;
}

export interface Policy {
  /** Source file, for messages; '<inline>' when built in memory. */
  file: string;
  name: string;
  description?: string;
  sensors: readonly SensorSpec[];
  limits: readonly LimitSpec[];
  model: ModelSpec;
  /** Ordered richest → leanest; tiers[i].index === i. */
  tiers: readonly TierSpec[];
  rules: Rules;
  control: ControlSpec;
  /**
   * Signals this device does not have at all (not from YAML: set by replay from the trace's columns,
   * docs/traces.md). Their sensors and limits are left out and a missing `mem_avail_mb` there does
   * not cap the tier. Undefined = every signal may exist.
   */
  absentSignals?: readonly string[];
}
