/**
 * What the simulator needs to know about the served model: the policy's ModelSpec (weights per
 * quant, KV bytes per token, overheads) plus a parameter count for compute cost. When no policy
 * is at hand (the daemon's live simulated device), a Llama-3.2-3B default is used.
 */
import type { ModelSpec, QuantSpec } from '../policy/types.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export { bitsPerWeight } from '../core/speed.js';
import { bitsPerWeight } from '../core/speed.js';


/** Llama-3.2-3B-Instruct (research/03 §1.2–1.3: 112 KiB/token f16 KV; file sizes ≈ 3B × bpw). */
export const DEFAULT_MODEL: ModelSpec = {
  name: 'llama-3.2-3b-instruct',
  kvBytesPerToken: 112 * 1024,
  overheadBytes: 300 * MiB,
  batchBytesPerToken: 0.5 * MiB,
  quants: [
    { name: 'f16', weightsBytes: 6.0 * GiB, qualityCost: 0 },
    { name: 'q8_0', weightsBytes: 3.4 * GiB, qualityCost: 0.0004 },
    { name: 'q6_k', weightsBytes: 2.6 * GiB, qualityCost: 0.0035 },
    { name: 'q5_k_m', weightsBytes: 2.3 * GiB, qualityCost: 0.009 },
    { name: 'q4_k_m', weightsBytes: 2.0 * GiB, qualityCost: 0.028 },
    { name: 'q4_0', weightsBytes: 1.9 * GiB, qualityCost: 0.075 },
    { name: 'q3_k_m', weightsBytes: 1.6 * GiB, qualityCost: 0.105 },
    { name: 'q2_k', weightsBytes: 1.3 * GiB, qualityCost: 0.56 },
  ],
};

export interface SimModel {
  spec: ModelSpec;
  /** Parameter count, for compute cost (2·N flops per token). */
  params: number;
  quant(name: string): QuantSpec;
}

export function simModel(spec: ModelSpec = DEFAULT_MODEL): SimModel {
  const byName = new Map(spec.quants.map((q) => [q.name, q]));
  // N from the file size and bits per weight of the widest quant: robust to any one odd entry.
  const widest = [...spec.quants].sort((a, b) => bitsPerWeight(b.name) - bitsPerWeight(a.name))[0];
  const params = widest ? (widest.weightsBytes * 8) / bitsPerWeight(widest.name) : 3.2e9;
  return {
    spec,
    params,
    quant(name) {
      const q = byName.get(name);
      if (q) return q;
      // An unknown quant (a decision from another policy): size it from bits per weight.
      return { name, weightsBytes: (params * bitsPerWeight(name)) / 8, qualityCost: 0.1 };
    },
  };
}
