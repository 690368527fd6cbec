/**
 * Offload advice for one request (`advise`): run it locally, send it to the cloud, or defer.
 *
 * The speed model is deliberately simple and documented (docs/protocol.md):
 * - Decode is memory-bandwidth bound (research 03 §0, §3): tok/s ≈ η·BW / bytes read per
 *   token ≈ EFFECTIVE_BANDWIDTH / weightsBytes of the tier's quant. We take η·BW = 30 GB/s
 *   (η ≈ 0.55–0.7 of a flagship phone's 67–77 GB/s, research 03 §3); decode pacing adds its
 *   pause per token.
 * - Prefill is compute bound and much faster than decode; we take PREFILL_SPEEDUP = 15×
 *   the decode rate (CPU phone figures in research 03 §2.1 sit between ~10× and ~30×).
 * - Once the engine `report`s an observed tok/s, predictions are scaled by
 *   observed / modelled for the tier it ran, so the model calibrates itself to the device.
 */
import type { Decision, Reason } from '../core/decision.js';
import type { Policy, TierSpec } from '../policy/types.js';
import { severityIndex } from '../core/severity.js';
import type { Advice, AdviseRequest, ErrorBody } from '../ipc/protocol.js';

export const EFFECTIVE_BANDWIDTH_BYTES_PER_S = 30e9;
export const PREFILL_SPEEDUP = 15;
/** Fixed per-request cost before prefill (tokenise, schedule), ms. */
export const REQUEST_OVERHEAD_MS = 50;

export interface EngineReport {
  atMs: number;
  tier?: string;
  tokS?: number;
  firstTokenMs?: number;
}

/** Modelled decode speed of a tier, tok/s (before calibration). */
export function modelTokS(policy: Policy, tier: TierSpec): number {
  const q = policy.model.quants.find((x) => x.name === tier.quant);
  const bytes = q?.weightsBytes ?? policy.model.quants[0]?.weightsBytes ?? 2e9;
  const raw = EFFECTIVE_BANDWIDTH_BYTES_PER_S / Math.max(1, bytes);
  return tier.pacingMs > 0 ? 1 / (1 / raw + tier.pacingMs / 1000) : raw;
}

export function advise(
  req: Pick<AdviseRequest, 'promptTokens' | 'expectedOutputTokens' | 'private' | 'deadlineMs'>,
  decision: Decision | undefined,
  policy: Policy,
  lastReport: EngineReport | undefined,
  nowMs: number,
  reportFreshMs: number,
): Advice | ErrorBody {
  if (!decision) return { code: 'not_ready', message: 'the daemon has not made its first decision yet' };
  const tier = policy.tiers.find((t) => t.name === decision.tier) ?? policy.tiers[decision.tierIndex] ?? policy.tiers[policy.tiers.length - 1];
  const isPrivate = req.private === true;
  const cloudOk = policy.rules.offload.cloudAllowed && !isPrivate;
  const reasons: Reason[] = [];

  let tokS = modelTokS(policy, tier);
  let model: Advice['model'] = 'bandwidth';
  if (lastReport?.tokS !== undefined && lastReport.tokS > 0 && nowMs - lastReport.atMs <= reportFreshMs) {
    const reportedTier = policy.tiers.find((t) => t.name === lastReport.tier) ?? tier;
    tokS *= lastReport.tokS / modelTokS(policy, reportedTier);
    model = 'bandwidth+reports';
  }
  const prefillTokS = tokS * PREFILL_SPEEDUP;
  const firstTokenMs = REQUEST_OVERHEAD_MS + (req.promptTokens / prefillTokS) * 1000;
  const totalMs = firstTokenMs + (req.expectedOutputTokens / Math.max(tokS, 1e-9)) * 1000;

  const base = {
    tier: tier.name,
    quant: decision.quant,
    contextLength: decision.contextLength,
    predictedFirstTokenMs: round(firstTokenMs),
    predictedLocalTokS: round(tokS),
    predictedTotalMs: round(totalMs),
    model,
    severity: decision.severity,
  };
  const done = (route: Advice['route']): Advice => ({ route, ...base, reasons });

  if (isPrivate) reasons.push({ rule: 'private', message: 'private request: never sent to the cloud' });
  else if (!policy.rules.offload.cloudAllowed) reasons.push({ rule: 'offload', message: 'the policy allows no cloud' });

  if (decision.offload === 'pause') {
    reasons.push({ rule: 'offload', severity: decision.severity, message: `the governor paused local generation (severity ${decision.severity})` });
    return done(cloudOk ? 'cloud' : 'defer');
  }
  if (decision.offload === 'cloud') {
    reasons.push({ rule: 'offload', severity: decision.severity, message: `the governor offloads at severity ${decision.severity}` });
    if (cloudOk) return done('cloud');
    reasons.push({ rule: 'offload', message: 'cannot go to the cloud and the device should not generate now: defer' });
    return done('defer');
  }
  const needTokens = req.promptTokens + req.expectedOutputTokens;
  if (needTokens > decision.contextLength) {
    reasons.push({ rule: 'memory', value: needTokens, threshold: decision.contextLength, message: `prompt + output (${needTokens} tokens) exceed the tier's context of ${decision.contextLength}` });
    if (cloudOk) return done('cloud');
    reasons.push({ rule: 'offload', message: 'stays local: the engine must truncate the prompt' });
    return done('local');
  }
  const floor = policy.rules.offload.minLocalTokS;
  if (floor !== undefined && tokS < floor) {
    reasons.push({ rule: 'offload', signal: 'tok_s', value: round(tokS), threshold: floor, message: `predicted local decode ${round(tokS)} tok/s is below the floor of ${floor}` });
    if (cloudOk) return done('cloud');
  }
  if (req.deadlineMs !== undefined && totalMs > req.deadlineMs) {
    reasons.push({ rule: 'deadline', value: round(totalMs), threshold: req.deadlineMs, message: `predicted local time ${round(totalMs)} ms misses the ${req.deadlineMs} ms deadline` });
    if (cloudOk) return done('cloud');
    reasons.push({ rule: 'deadline', message: 'stays local anyway: nowhere faster to send it' });
  }
  if (severityIndex(decision.severity) > 0) {
    reasons.push({ rule: 'limit', severity: decision.severity, message: `running locally at the reduced tier '${tier.name}' (severity ${decision.severity})` });
  } else if (!reasons.length) {
    reasons.push({ rule: 'local', message: `the device has headroom: local at tier '${tier.name}'` });
  }
  return done('local');
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
