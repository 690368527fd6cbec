/**
 * Offload advice for one request (`advise`): run it locally, send it to the cloud, or defer.
 *
 * The daemon's side of the core's routing (src/core/route.ts, docs/core.md §6): the request is
 * judged by the quality of experience each route is expected to give, with the same QoE the
 * simulator scores. The local expectation uses the decision's `expect` speeds — the policy's
 * speed model, calibrated by the engine's reported decode and prefill speeds (the `tok_s` and
 * `prefill_tok_s` signals the daemon feeds from `report`) — plus the wait for the engine.
 * On top, a caller's `deadlineMs` for the whole answer sends it to the cloud when the device
 * would miss it.
 */
import type { Decision } from '../core/decision.js';
import type { Policy } from '../policy/types.js';
import { severityIndex } from '../core/severity.js';
import { modelledExpectation, planRoute } from '../core/route.js';
import type { Advice, AdviseRequest, ErrorBody } from '../ipc/protocol.js';

export interface EngineReport {
  atMs: number;
  tier?: string;
  tokS?: number;
  firstTokenMs?: number;
  prefillTokS?: number;
  contextTokens?: number;
}

export function advise(
  req: Omit<AdviseRequest, 'op' | 'id'>,
  decision: Decision | undefined,
  policy: Policy,
  lastReport: EngineReport | undefined,
  nowMs: number,
  reportFreshMs: number,
): Advice | ErrorBody {
  if (!decision) return { code: 'not_ready', message: 'the daemon has not made its first decision yet' };
  // A report newer than the decision's own calibration speaks for the engine now: its speed,
  // carried to the decided tier by the speed model's ratio between the two tiers.
  const fresh = lastReport?.tokS !== undefined && lastReport.tokS > 0 && nowMs - lastReport.atMs <= reportFreshMs;
  let d = decision;
  if (fresh) {
    const at = modelledExpectation(policy, decision);
    const seen = modelledExpectation(policy, { tier: lastReport!.tier ?? decision.tier, contextLength: decision.contextLength });
    const base = decision.expect ?? at;
    d = { ...decision, expect: {
      decodeTokS: lastReport!.tokS! * (at.decodeTokS / seen.decodeTokS),
      prefillTokS: lastReport!.prefillTokS !== undefined ? lastReport!.prefillTokS * (at.prefillTokS / seen.prefillTokS) : base.prefillTokS,
    } };
  }
  const plan = planRoute(d, policy, {
    kind: req.kind, firstTokenTargetMs: req.firstTokenTargetMs, private: req.private === true,
    promptTokens: req.promptTokens, historyTokens: req.historyTokens, residentTokens: req.residentTokens,
    expectedOutputTokens: req.expectedOutputTokens, engineWaitS: (req.engineWaitMs ?? 0) / 1000,
  });
  const local = plan.local;
  const totalMs = (local.firstTokenS + Math.max(0, req.expectedOutputTokens) / Math.max(local.tokS, 1e-9)) * 1000;
  const reasons = plan.reasons;
  let route = plan.route;
  const cloudOk = policy.rules.offload.cloudAllowed && req.private !== true;
  if (route === 'local' && req.deadlineMs !== undefined && totalMs > req.deadlineMs) {
    reasons.push({ rule: 'deadline', value: round(totalMs), threshold: req.deadlineMs, message: `predicted local time ${round(totalMs)} ms misses the ${req.deadlineMs} ms deadline` });
    if (cloudOk) route = 'cloud';
    else reasons.push({ rule: 'deadline', message: 'stays local anyway: nowhere faster to send it' });
  }
  if (route === 'local' && severityIndex(decision.severity) > 0) {
    reasons.push({ rule: 'limit', severity: decision.severity, message: `running locally at the reduced tier '${decision.tier}' (severity ${decision.severity})` });
  }
  return {
    route,
    tier: decision.tier,
    quant: decision.quant,
    contextLength: decision.contextLength,
    predictedFirstTokenMs: round(local.firstTokenS * 1000),
    predictedLocalTokS: round(local.tokS),
    predictedTotalMs: round(totalMs),
    model: fresh ? 'bandwidth+reports' : 'bandwidth',
    severity: decision.severity,
    reasons,
    target: { firstTokenMs: round(plan.target.firstTokenS * 1000), readTokS: plan.target.readTokS },
    expectedValue: { local: round(local.value), ...(plan.cloud ? { cloud: round(plan.cloud.value) } : {}) },
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
