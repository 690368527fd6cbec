/**
 * How good an answer is, 0..1, as the score counts it (docs/simulator.md "Score"): the
 * quant's measured damage and the share of the context the answer needed that it kept.
 *
 * Quant quality = 1 − ΔPPL/PPL of the quant against F16, Llama-3-8B (research/03 §1.2, [S1]/[S3]:
 * the llama.cpp perplexity and KL-divergence tables). The score takes these measured figures
 * rather than a policy's own `qualityCost`, so a policy cannot grade itself; a quant the table
 * lacks falls back to the policy's figure.
 */
const DELTA_PPL: Readonly<Record<string, number>> = {
  f32: 0, f16: 0, bf16: 0,
  q8_0: 0.0004,   // +0.0026 PPL (+0.04 %), KLD 0.0014
  q6_k: 0.0035,   // +0.35 %, KLD 0.0055
  q5_k_m: 0.009,  // +0.9 %, KLD 0.0108
  q5_k_s: 0.017,  // +1.7 %, KLD 0.0166
  q4_k_m: 0.028,  // +2.8 %, KLD 0.031
  q4_k_s: 0.043,  // +4.3 %, KLD 0.043
  q4_0: 0.075,    // +7.5 %, KLD 0.072
  q3_k_l: 0.089,  // +8.9 %, KLD 0.087
  q3_k_m: 0.105,  // +10.5 %, KLD 0.102
  q3_k_s: 0.26,   // +26 %, KLD 0.228
  q2_k: 0.56,     // +56 %, KLD 0.445
};

/** Answer quality of a quant, 0..1 (measured where known, else `fallbackCost` from the policy). */
export function quantQuality(quant: string, fallbackCost: number): number {
  const cost = DELTA_PPL[quant.toLowerCase()] ?? fallbackCost;
  return Math.max(0, Math.min(1, 1 - cost));
}

/**
 * Context fidelity: the share of the tokens the answer needed (the conversation so far and
 * its prompt) that the context kept. A document cut to a third keeps a third of its value.
 */
export function contextFidelity(keptTokens: number, neededTokens: number): number {
  if (!(neededTokens > 0)) return 1;
  return Math.max(0, Math.min(1, keptTokens / neededTokens));
}
