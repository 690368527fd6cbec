/**
 * What the governor believes each tier does on this device: decode and prefill speed, from
 * the policy's measured figures (`tiers[].decode` / `prefill`, written from `edgegov calibrate`)
 * or from the model's geometry and `model.performance` (research/03 §6):
 *
 *   decode  t_tok = (W·(1 − 0.08) + KV_bytes_per_token · ctx) / BW_eff + t_fix   (bandwidth bound, §6.2)
 *           plus the tier's pacing pause per token
 *   prefill tok/s = OPS_eff · (threads / richest threads) · η(ub) / (2·N),
 *           η(ub) = (ub / (ub + 32)) / (512 / 544)                             (compute bound, §6.3)
 *
 * N (parameters) comes from the widest quant's weight bytes and bits per weight. The engine's
 * observed speeds (`tok_s`, `prefill_tok_s`) scale these online (value.ts): the model only has
 * to rank tiers and start near the truth. Pure; no allocation after compile.
 */
import type { Performance, Policy } from '../policy/types.js';
import { weightsBytesOf } from './memory.js';

/**
 * The speed model's defaults without `model.performance` ([assumption], calibrated online by the
 * engine's observed speeds, docs/core.md §6): a mid-range phone CPU, η·BW ≈ 0.55 × 51 GB/s
 * (research/03 §3) and 0.4 TOPS effective prefill (§6.3, between SBC and flagship figures).
 */
export const DEFAULT_PERFORMANCE: Readonly<Performance> = { memoryBandwidthBytesPerS: 28e9, prefillOpsPerS: 0.4e12, fixedMsPerToken: 2, declared: false };

/** Share of the weights not read per token (the embedding table is only partly touched, research/03 §6.2). */
const EMBED_UNREAD = 0.08;

/** Whole-file bits per weight by quant name (research/03 §1.2, Llama-3.1-8B column). */
const BPW: Record<string, number> = {
  f32: 32, f16: 16, bf16: 16, q8_0: 8.5, q6_k: 6.56, q5_k_m: 5.7, q5_k_s: 5.57, q5_0: 5.5,
  q4_k_m: 4.89, q4_k_s: 4.67, q4_0: 4.6, q3_k_l: 4.3, q3_k_m: 3.9, q3_k_s: 3.64, q2_k: 3.16,
};

export function bitsPerWeight(quant: string): number {
  const q = quant.toLowerCase();
  if (BPW[q] !== undefined) return BPW[q];
  const m = /^(?:q|iq)(\d)/.exec(q);
  return m ? Number(m[1]) + 0.6 : 4.5;
}

/** Parameter count from the widest quant's file size (robust to any one odd entry). */
export function paramsOf(policy: Policy): number {
  const quants = policy.model.quants;
  if (!quants.length) return 3.2e9;
  let widest = quants[0];
  for (const q of quants) if (bitsPerWeight(q.name) > bitsPerWeight(widest.name)) widest = q;
  return (widest.weightsBytes * 8) / bitsPerWeight(widest.name);
}

/** ubatch efficiency of prefill, normalised to 512 (research/03 §6.3). */
export function ubatchEfficiency(ub: number): number {
  const u = Math.max(1, ub);
  return (u / (u + 32)) / (512 / 544);
}

export interface TierSpeeds {
  /** Per tier: seconds per decoded token at an empty context, pacing excluded. */
  readonly decodeS0: Float64Array;
  /** Seconds per token added per token of context (KV read per token). */
  readonly kvSPerCtxToken: number;
  /** Per tier: pause per token, s. */
  readonly pacingS: Float64Array;
  /** Per tier: prefill tok/s. */
  readonly prefillTokS: Float64Array;
  /** Per tier: whether the figures were measured (policy) rather than modelled. */
  readonly measured: Uint8Array;
}

export function compileSpeeds(policy: Policy): TierSpeeds {
  const perf = policy.model.performance ?? DEFAULT_PERFORMANCE;
  const bw = perf.memoryBandwidthBytesPerS;
  const n = policy.tiers.length;
  const params = paramsOf(policy);
  let richestThreads = 0;
  for (const t of policy.tiers) richestThreads = Math.max(richestThreads, t.threads ?? 0);
  const decodeS0 = new Float64Array(n);
  const pacingS = new Float64Array(n);
  const prefillTokS = new Float64Array(n);
  const measured = new Uint8Array(n);
  policy.tiers.forEach((t, i) => {
    const w = weightsBytesOf(policy.model, t.quant);
    decodeS0[i] = t.decodeTokS !== undefined ? 1 / t.decodeTokS : (w * (1 - EMBED_UNREAD)) / bw + perf.fixedMsPerToken / 1000;
    pacingS[i] = t.pacingMs / 1000;
    const threadShare = richestThreads > 0 && t.threads !== undefined ? t.threads / richestThreads : 1;
    prefillTokS[i] = t.prefillTokS ?? (perf.prefillOpsPerS * threadShare * ubatchEfficiency(t.batchSize)) / (2 * params);
    measured[i] = t.decodeTokS !== undefined || t.prefillTokS !== undefined ? 1 : 0;
  });
  return { decodeS0, kvSPerCtxToken: policy.model.kvBytesPerToken / bw, pacingS, prefillTokS, measured };
}

/** Decode tok/s a user sees at tier `i` with `ctxTokens` in the context; `scale` = observed ÷ modelled. */
export function decodeTokSAt(sp: TierSpeeds, i: number, ctxTokens: number, scale = 1): number {
  const s = (sp.decodeS0[i] + sp.kvSPerCtxToken * Math.max(0, ctxTokens)) / scale + sp.pacingS[i];
  return 1 / s;
}
