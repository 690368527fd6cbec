/**
 * Memory feasibility (research/03-llm-workload.md §1.3, §6.1):
 *
 *   need = weightsBytes(quant) + kvBytesPerToken · contextLength
 *        + batchBytesPerToken · batchSize + overheadBytes
 *   fits ⇔ need ≤ budget
 *
 * Budget assumption (documented in docs/core.md): `mem_avail_mb` is MemAvailable as the OS
 * reports it, which already excludes what the running engine holds. The engine can reuse
 * its own allocation when it switches, so the budget is
 *
 *   budget = mem_avail_mb·MiB − reserveMb·MiB + need(previously decided knobs)
 *
 * (no previous decision → nothing held), or the engine's reported applied footprint `engine_mb`
 * when that is larger (a decided shrink frees nothing until the engine applies it; docs/core.md §4). A sample-to-sample memory drop therefore binds
 * immediately, and a model that fits keeps fitting without seeing its own footprint as a shortage.
 */
import type { ModelSpec, TierSpec } from '../policy/types.js';

export const MiB = 1024 * 1024;
/** Clamped context lengths are multiples of this (llama.cpp pads n_ctx to 256). */
export const CONTEXT_QUANTUM = 256;

export function weightsBytesOf(model: ModelSpec, quant: string): number {
  for (const q of model.quants) if (q.name === quant) return q.weightsBytes;
  // A tier naming an unknown quant is a policy error the loader rejects; assume the largest.
  let max = 0;
  for (const q of model.quants) max = Math.max(max, q.weightsBytes);
  return max;
}

export function needBytes(model: ModelSpec, weightsBytes: number, contextLength: number, batchSize: number): number {
  return weightsBytes + model.kvBytesPerToken * contextLength + model.batchBytesPerToken * batchSize + model.overheadBytes;
}

/** Need of a tier at its own context length. */
export function tierNeedBytes(model: ModelSpec, tier: TierSpec, contextLength = tier.contextLength): number {
  return needBytes(model, weightsBytesOf(model, tier.quant), contextLength, tier.batchSize);
}

/**
 * The largest context length (≤ the tier's own) that fits the budget, rounded down to a
 * multiple of CONTEXT_QUANTUM unless the tier's own length fits as is; 0 when nothing does.
 */
export function fittingContextLength(
  model: ModelSpec, weightsBytes: number, tierContext: number, batchSize: number, budgetBytes: number,
): number {
  const fixed = weightsBytes + model.batchBytesPerToken * batchSize + model.overheadBytes;
  if (fixed + model.kvBytesPerToken * tierContext <= budgetBytes) return tierContext;
  if (model.kvBytesPerToken <= 0) return fixed <= budgetBytes ? tierContext : 0;
  const tokens = Math.floor((budgetBytes - fixed) / model.kvBytesPerToken);
  if (tokens <= 0) return 0;
  return Math.min(tierContext, Math.floor(tokens / CONTEXT_QUANTUM) * CONTEXT_QUANTUM);
}
