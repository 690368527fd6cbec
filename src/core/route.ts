/**
 * Where one request should run, by the quality of experience each route is expected to give
 * (docs/core.md §6): the device at the decided tier, the cloud, or later (deferred). The same
 * pure function serves the daemon's `advise`, the gateway and the simulator's gateway.
 *
 * Expected QoE is computed with the very measure the simulator scores (qoe.ts, Andes): the
 * predicted token timeline against the expected one. Locally the first token comes after the
 * wait for the engine, the prefill of what the KV cache does not hold, and one decode step;
 * the stream runs at the decided tier's calibrated decode speed. The cloud answers after its
 * expected first-token time at its streaming speed, with the whole conversation in context.
 *
 * The rule: a request that may leave the device goes to the cloud when the device would miss
 * one of the user's targets (first token, reading pace, or a context that keeps the whole
 * prompt and conversation) and the cloud is expected to serve them better. A private request
 * never leaves: it runs locally, or waits while the governor pauses local generation.
 */
import type { Decision, Reason, TierExpectation } from './decision.js';
import { compileSpeeds, decodeTokSAt, type TierSpeeds } from './speed.js';
import type { Policy } from '../policy/types.js';
import { expectedQoe, QOE_DEFAULTS, type QoeTarget } from './qoe.js';

export { expectedQoe } from './qoe.js';

/**
 * The device must be expected to meet the first-token target with a quarter to spare before a
 * request that may leave stays: a prediction from the last answers' speeds misses the next one by
 * that much when the engine shares its cores (measured in `edgegov demo` on 2 shared cores)
 * [assumption]. A private request stays anyway; this only decides when the cloud is the better bet.
 */
export const FIRST_TOKEN_MARGIN = 0.75;

export interface RequestShape {
  kind?: 'chat' | 'document';
  /** The app's own first-token target, ms (default: the policy's for the kind). */
  firstTokenTargetMs?: number;
  private: boolean;
  promptTokens: number;
  /** The conversation so far the answer needs (system prompt, earlier turns), tokens. */
  historyTokens?: number;
  /** Of those, tokens the engine's KV cache already holds (no prefill needed). */
  residentTokens?: number;
  expectedOutputTokens: number;
  /** Seconds before the local engine can start it (a request ahead of it, a model reload). */
  engineWaitS?: number;
}

/** One route's expected answer. */
export interface RouteExpectation {
  firstTokenS: number;
  tokS: number;
  /** Share of prompt + conversation kept in context, 0..1. */
  fidelity: number;
  quality: number;
  qoe: number;
  /** qoe × quality × fidelity. */
  value: number;
}

export interface RoutePlan {
  route: 'local' | 'cloud' | 'defer';
  local: RouteExpectation;
  cloud?: RouteExpectation;
  target: QoeTarget;
  reasons: Reason[];
}

/** The user's targets for a request under `policy`. */
export function targetOf(policy: Policy, req: Pick<RequestShape, 'kind' | 'firstTokenTargetMs'>): QoeTarget {
  const q = policy.rules.qoe ?? QOE_DEFAULTS;
  const ms = req.firstTokenTargetMs ?? (req.kind === 'document' ? q.documentFirstTokenMs : q.chatFirstTokenMs);
  return { firstTokenS: ms / 1000, readTokS: q.readTokS };
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const s1 = (x: number) => (x < 10 ? x.toFixed(1) : x.toFixed(0));

/** The local engine's expected answer under `decision` (its `expect` speeds, calibrated by the core). */
export function localExpectation(decision: Decision, policy: Policy, req: RequestShape, target: QoeTarget): RouteExpectation & { prefillTokens: number; prefillTokS: number } {
  const ctx = decision.contextLength;
  const out = Math.max(1, req.expectedOutputTokens);
  const history = Math.max(0, req.historyTokens ?? 0);
  const room = Math.max(1, ctx - Math.min(out, ctx / 4));
  const keptPrompt = Math.min(req.promptTokens, room);
  const keptHistory = Math.min(history, room - keptPrompt);
  const resident = Math.min(Math.max(0, req.residentTokens ?? 0), keptHistory);
  const prefillTokens = keptPrompt + keptHistory - resident;
  const needed = req.promptTokens + history;
  const fidelity = needed > 0 ? Math.min(1, (keptPrompt + keptHistory) / needed) : 1;
  const expect = decision.expect ?? modelledExpectation(policy, decision);
  const decodeTokS = expect.decodeTokS;
  const prefillTokS = expect.prefillTokS;
  const firstTokenS = (req.engineWaitS ?? 0) + (prefillTokS > 0 ? prefillTokens / prefillTokS : Infinity) + (decodeTokS > 0 ? 1 / decodeTokS : Infinity);
  const q = policy.model.quants.find((x) => x.name === decision.quant);
  const quality = 1 - (q?.qualityCost ?? 0);
  const qoe = Number.isFinite(firstTokenS) && decodeTokS > 0 ? expectedQoe(firstTokenS, decodeTokS, out, target) : 0;
  return { firstTokenS, tokS: decodeTokS, fidelity, quality, qoe, value: qoe * quality * fidelity, prefillTokens, prefillTokS };
}

const speedCache = new WeakMap<Policy, TierSpeeds>();
function speedsOf(policy: Policy): TierSpeeds {
  let sp = speedCache.get(policy);
  if (!sp) { sp = compileSpeeds(policy); speedCache.set(policy, sp); }
  return sp;
}

/**
 * The speed model's expectation of a decision's tier with no observation (a decision that does
 * not carry the core's calibrated `expect`: from an older daemon, or built by hand). A tier the
 * policy lacks reads as its leanest.
 */
export function modelledExpectation(policy: Policy, decision: Pick<Decision, 'tier' | 'contextLength'>): TierExpectation {
  const sp = speedsOf(policy);
  let i = policy.tiers.findIndex((t) => t.name === decision.tier);
  if (i < 0) i = policy.tiers.length - 1;
  return { decodeTokS: decodeTokSAt(sp, i, decision.contextLength / 4), prefillTokS: sp.prefillTokS[i] };
}

export function cloudExpectation(policy: Policy, req: RequestShape, target: QoeTarget): RouteExpectation {
  const o = policy.rules.offload;
  const firstTokenS = (o.cloudFirstTokenMs ?? 1000) / 1000;
  const tokS = o.cloudTokS ?? 50;
  const qoe = expectedQoe(firstTokenS, tokS, Math.max(1, req.expectedOutputTokens), target);
  return { firstTokenS, tokS, fidelity: 1, quality: 1, qoe, value: qoe };
}

/**
 * Routes one request. `cloudReachable` is what the gateway knows of the cloud (default: up).
 * Deterministic and allocation-light: two tiny timelines per call.
 */
export function planRoute(decision: Decision, policy: Policy, req: RequestShape, cloudReachable = true): RoutePlan {
  const target = targetOf(policy, req);
  const local = localExpectation(decision, policy, req, target);
  const mayLeave = policy.rules.offload.cloudAllowed && !req.private && cloudReachable;
  const cloud = policy.rules.offload.cloudAllowed && !req.private ? cloudExpectation(policy, req, target) : undefined;
  const reasons: Reason[] = [];
  const plan = (route: RoutePlan['route']): RoutePlan => ({ route, local, ...(cloud ? { cloud } : {}), target, reasons });
  const why = req.private ? 'private: never sent to the cloud' : !policy.rules.offload.cloudAllowed ? 'the policy allows no cloud' : !cloudReachable ? 'the cloud is unreachable' : '';
  if (req.private) reasons.push({ rule: 'private', message: 'private request: never sent to the cloud' });

  if (decision.offload === 'pause') {
    reasons.push({ rule: 'offload', severity: decision.severity, message: `the governor paused local generation (severity ${decision.severity})` });
    if (mayLeave) return plan('cloud');
    reasons.push({ rule: 'offload', message: `deferred: ${why}` });
    return plan('defer');
  }
  if (decision.offload === 'cloud' && mayLeave) {
    reasons.push({ rule: 'offload', severity: decision.severity, message: `the governor offloads (severity ${decision.severity}): cloud` });
    return plan('cloud');
  }

  // What the device would miss.
  const misses: string[] = [];
  if (local.firstTokenS > target.firstTokenS * FIRST_TOKEN_MARGIN) {
    misses.push(`first token ${s1(local.firstTokenS)} s misses the ${s1(target.firstTokenS)} s target${local.firstTokenS <= target.firstTokenS ? ' with a quarter to spare' : ''} (${Math.round(local.prefillTokens)} tokens to prefill at ${s1(local.prefillTokS)} tok/s${(req.engineWaitS ?? 0) > 0 ? `, after ${s1(req.engineWaitS!)} s for the engine` : ''})`);
  }
  if (local.tokS < target.readTokS) misses.push(`${s1(local.tokS)} tok/s is slower than the reader's ${target.readTokS} tok/s`);
  if (local.fidelity < 1) misses.push(`context ${decision.contextLength} keeps ${Math.round(local.fidelity * 100)} % of the ${Math.round(req.promptTokens + (req.historyTokens ?? 0))} tokens it needs`);

  if (misses.length && mayLeave && cloud && cloud.value > local.value) {
    reasons.push({ rule: 'route', value: r2(local.value), threshold: r2(cloud.value),
      message: `local at ${decision.tier}: ${misses.join('; ')}; the cloud's first token in ${s1(cloud.firstTokenS)} s: cloud (expected value ${r2(cloud.value)} vs ${r2(local.value)})` });
    return plan('cloud');
  }
  if (misses.length) {
    reasons.push({ rule: 'route', value: r2(local.value),
      message: `local at ${decision.tier}: ${misses.join('; ')}${why ? `; stays local (${why})` : cloud ? `; the cloud would not do better (expected value ${r2(cloud.value)} vs ${r2(local.value)})` : ''}` });
  } else {
    reasons.push({ rule: 'route', value: r2(local.value),
      message: `local at ${decision.tier}: first token ${s1(local.firstTokenS)} s within ${s1(target.firstTokenS)} s, ${s1(local.tokS)} tok/s ≥ the reader's ${target.readTokS}` });
  }
  return plan('local');
}
