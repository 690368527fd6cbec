/**
 * The governor core: (state, sample, policy) → (state', decision). Pure and deterministic:
 * no clock, no I/O, no randomness. Time arrives in `sample.t_ms`.
 *
 * PLACEHOLDER — the real estimator-driven core replaces this body (issue: governor core).
 * The signatures below are the contract the rest of edgegov codes against.
 */
import type { Policy } from '../policy/types.js';
import type { Sample } from './signals.js';
import type { Decision } from './decision.js';

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

export function initialState(_policy: Policy): GovernorState {
  return {};
}

export function step(state: GovernorState, sample: Sample, policy: Policy): StepResult {
  const tier = policy.tiers[0];
  const decision: Decision = {
    t_ms: sample.t_ms,
    severity: 'none',
    tier: tier.name,
    tierIndex: 0,
    quant: tier.quant,
    contextLength: tier.contextLength,
    batchSize: tier.batchSize,
    threads: tier.threads,
    pacingMs: tier.pacingMs,
    offload: 'local',
    ttlMs: policy.control.leaseTtlMs,
    safe: false,
    reasons: [{ rule: 'placeholder', message: 'placeholder core: always the richest tier' }],
  };
  return { state: { last: decision }, decision, changed: state.last === undefined };
}
