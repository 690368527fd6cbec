/** What the governor tells the inference engine (SPEC §5). */
import type { Severity } from './severity.js';
import type { Offload } from '../policy/types.js';

export interface Reason {
  /** Which rule bound the choice: `limit`, `forecast`, `memory`, `battery`, `sensor-fault`, `dwell`, `offload`, `safe-tier`, … */
  rule: string;
  /** The signal involved, when one is. */
  signal?: string;
  /** The value the rule saw (signal's unit). */
  value?: number;
  /** The threshold it was compared to (signal's unit). */
  threshold?: number;
  /** The forecast value at the horizon, when the forecast bound the choice. */
  forecast?: number;
  /** Seconds until the threshold is reached on the current slope. */
  timeToLimitS?: number;
  /** The severity this reason asks for. */
  severity?: Severity;
  /** One human sentence. */
  message: string;
}

export interface Decision extends Knobs {
  t_ms: number;
  severity: Severity;
  tierIndex: number;
  /** The decision holds for this long; a client with nothing newer falls back to the safe tier. */
  ttlMs: number;
  /** True when the decision is the policy's safe tier because sensors failed. */
  safe: boolean;
  reasons: Reason[];
  /** Signals that came from the built-in simulated device rather than real sensors (daemon only). */
  simulated?: string[];
  /**
   * What the governor expects of the decided tier now, calibrated by the engine's observed
   * speeds (docs/core.md §6): the figures `advise` and the gateway route by. Shared between
   * decisions while unchanged; read-only.
   */
  expect?: TierExpectation;
}

export interface TierExpectation {
  /** Decode tok/s a user sees (pacing included) at the work's context. */
  decodeTokS: number;
  /** Prompt-processing tok/s. */
  prefillTokS: number;
}

/** The knobs of a decision: what an engine applies. */
export interface Knobs {
  tier: string;
  quant: string;
  contextLength: number;
  batchSize: number;
  threads?: number;
  pacingMs: number;
  offload: Offload;
}

/** Equal knobs: an engine has nothing to change (a "knob change" in the summaries is the negation). */
export function sameEngineKnobs(a: Knobs, b: Knobs): boolean {
  return (
    a.tier === b.tier &&
    a.quant === b.quant &&
    a.contextLength === b.contextLength &&
    a.batchSize === b.batchSize &&
    a.threads === b.threads &&
    a.pacingMs === b.pacingMs &&
    a.offload === b.offload
  );
}

/** Equal knobs, severity and safe flag: no new decision to publish (a "decision change" is the negation). */
export function sameKnobs(a: Decision, b: Decision): boolean {
  return sameEngineKnobs(a, b) && a.severity === b.severity && a.safe === b.safe;
}
