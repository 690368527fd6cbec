/**
 * The `engine_mb` signal: what the knobs an engine reports as APPLIED hold, MiB, by the policy's
 * own memory model (src/core/memory.ts) — the same model the core sizes every decision with, so
 * "held" and "needed" are measured alike (a measured RSS would mix two models: mmap'd weights
 * sit partly in the page cache that MemAvailable already counts). docs/core.md §4, docs/protocol.md.
 */
import type { Policy } from '../policy/types.js';
import type { ReportRequest } from '../ipc/protocol.js';
import { MiB, needBytes } from '../core/memory.js';

export type AppliedKnobs = NonNullable<ReportRequest['applied']>;

/**
 * The footprint of `applied`, MiB, or undefined when the report does not pin it down: the context
 * length must be given (the governor may have clamped it below the tier's own), the quant and
 * batch size may come from the named tier, and the quant must be one the policy's model knows.
 */
export function appliedFootprintMb(policy: Policy, applied: AppliedKnobs | undefined): number | undefined {
  if (!applied) return undefined;
  const ctx = applied.contextLength;
  if (typeof ctx !== 'number' || !Number.isFinite(ctx) || ctx < 0) return undefined;
  const tier = typeof applied.tier === 'string' ? policy.tiers.find((t) => t.name === applied.tier) : undefined;
  const quant = typeof applied.quant === 'string' ? applied.quant : tier?.quant;
  const batch = typeof applied.batchSize === 'number' && Number.isFinite(applied.batchSize) && applied.batchSize >= 0
    ? applied.batchSize : tier?.batchSize;
  const q = policy.model.quants.find((x) => x.name === quant);
  if (!q || batch === undefined) return undefined;
  return needBytes(policy.model, q.weightsBytes, ctx, batch) / MiB;
}
