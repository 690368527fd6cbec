/**
 * The controllers the simulator compares. `edgegov` is the policy through the real governor
 * core — the exact `step` the daemon and replay run. The baselines are what a user would run
 * otherwise, tuned to the same policy limits and tier ladder (docs/simulator.md):
 *  - `static`: always the richest tier, local (the naive row).
 *  - `static:<tier>`: always that tier of the policy, local — what an integrator ships after
 *    testing; `best-static` (compare.ts) is the best of them per cell in hindsight.
 *  - `stepwise`: the kernel's step_wise governor (research/01 §1.2) with tiers as cooling states.
 *  - `pid`: the kernel's power_allocator (IPA): PID on temperature → power budget → richest tier that fits.
 */
import type { Policy, TierSpec, LimitSpec } from '../policy/types.js';
import type { Sample } from '../core/signals.js';
import type { Decision, Reason } from '../core/decision.js';
import type { Severity } from '../core/severity.js';
import { initialState, step, type GovernorState } from '../core/governor.js';
import { planRoute } from '../core/route.js';
import type { DeviceModel } from './device.js';
import type { Router } from './simulator.js';
import { UserError } from '../util/errors.js';
import type { SimModel } from './model.js';
import { decodeRate, powerOf, threadShare, type Knobs } from './workload.js';

/** The controllers `compare` runs by default; `static:<tier>` names each tier of the policy. */
export const CONTROLLERS = ['edgegov', 'static', 'best-static', 'stepwise', 'pid'] as const;
/** `edgegov`, `static`, `static:<tier>`, `stepwise` or `pid` (`best-static` is a choice among runs, compare.ts). */
export type ControllerName = string;
const SINGLE = ['edgegov', 'static', 'stepwise', 'pid'];

export interface Controller {
  readonly name: ControllerName;
  decide(sample: Sample): Decision;
  /** The gateway's routing of each request under the last decision (undefined: every request local). */
  readonly router?: Router;
  /** Whether its gateway keeps the local KV cache warm with the cloud's turns (simulator.ts `setRouter`). */
  readonly warmKv?: boolean;
}

/** Why `name` is not a controller for `policy` (undefined: it is one). */
export function controllerProblem(name: string, policy: Policy): string | undefined {
  if (SINGLE.includes(name)) return undefined;
  if (name.startsWith('static:')) {
    const tier = name.slice(7);
    return policy.tiers.some((t) => t.name === tier) ? undefined
      : `no tier '${tier}' in policy ${policy.name} (tiers: ${policy.tiers.map((t) => t.name).join(', ')})`;
  }
  return `unknown controller '${name}' (choose from ${[...CONTROLLERS, 'static:<tier>'].join(', ')})`;
}

/** `static:<tier>` for every tier of the policy, richest first. */
export function staticTierControllers(policy: Policy): ControllerName[] {
  return policy.tiers.map((t) => `static:${t.name}`);
}

export interface ControllerContext {
  policy: Policy;
  device: DeviceModel;
  model: SimModel;
}

export function tierDecision(policy: Policy, tier: TierSpec, t_ms: number, reasons: Reason[], severity: Severity = 'none'): Decision {
  return {
    t_ms, severity, tier: tier.name, tierIndex: tier.index, quant: tier.quant, contextLength: tier.contextLength,
    batchSize: tier.batchSize, threads: tier.threads, pacingMs: tier.pacingMs, offload: 'local',
    ttlMs: policy.control.leaseTtlMs, safe: false, reasons,
  };
}

function edgegov(ctx: ControllerContext): Controller {
  let state: GovernorState = initialState(ctx.policy);
  let last: Decision | undefined;
  return {
    name: 'edgegov',
    warmKv: true,
    decide(sample) {
      const r = step(state, sample, ctx.policy);
      state = r.state;
      last = r.decision;
      return r.decision;
    },
    // The gateway asks before each request, as `serve` asks the daemon's `advise`.
    router(q) {
      if (!last) return 'local';
      return planRoute(last, ctx.policy, {
        kind: q.kind, private: q.private, promptTokens: q.promptTokens, historyTokens: q.historyTokens,
        residentTokens: q.residentTokens, expectedOutputTokens: q.expectedOutputTokens, engineWaitS: q.engineWaitS,
      }, q.cloudReachable).route;
    },
  };
}

function staticController(ctx: ControllerContext, name: string, tier: TierSpec): Controller {
  const reasons: Reason[] = [{ rule: 'static', message: name === 'static' ? 'static baseline: always the richest tier' : `static baseline: always tier ${tier.name}` }];
  return { name, decide: (s) => tierDecision(ctx.policy, tier, s.t_ms, reasons) };
}

/** Temperature limits (rising, °C signals) of the policy — the thermal zones a kernel governor would watch. */
function thermalLimits(policy: Policy): LimitSpec[] {
  return policy.limits.filter((l) => l.direction === 'rising' && l.signal.endsWith('_c') && l.levels.length > 0);
}

/** Kernel thermal governors evaluate on the passive polling period, not faster than 1 s. */
function pollMsOf(policy: Policy): number {
  return Math.max(1000, policy.control.samplePeriodMs);
}

/**
 * step_wise (research/01 §1.2): per trip, if T ≥ trip and the trend is rising, one cooling
 * state deeper; if T < trip and falling, one state shallower; otherwise hold. The trip is the
 * policy's mildest level for each temperature (where the policy itself starts to act).
 */
function stepwise(ctx: ControllerContext): Controller {
  const { policy } = ctx;
  const trips = thermalLimits(policy).map((l) => ({ signal: l.signal, atC: l.levels[0].setAt }));
  const last = new Map<string, number>();
  const pollMs = pollMsOf(policy);
  let nextPoll = -Infinity;
  let idx = 0;
  let reasons: Reason[] = [{ rule: 'stepwise', message: 'step_wise baseline: start at the richest tier' }];
  return {
    name: 'stepwise',
    decide(s) {
      if (s.t_ms >= nextPoll) {
        nextPoll = s.t_ms + pollMs;
        let deeper = false;
        let shallower = false;
        let anyAbove = false;
        for (const t of trips) {
          const v = s[t.signal];
          if (v === undefined || !Number.isFinite(v)) continue;
          const prev = last.get(t.signal);
          last.set(t.signal, v);
          if (prev === undefined) continue;
          if (v >= t.atC) { anyAbove = true; if (v > prev) { deeper = true; reasons = [{ rule: 'stepwise', signal: t.signal, value: v, threshold: t.atC, message: `${t.signal} ${v} °C above trip ${t.atC} °C and rising: one tier leaner` }]; } }
          else if (v < prev) shallower = true;
        }
        if (deeper) idx = Math.min(policy.tiers.length - 1, idx + 1);
        else if (!anyAbove && shallower && idx > 0) { idx--; reasons = [{ rule: 'stepwise', message: 'below every trip and cooling: one tier richer' }]; }
      }
      return tierDecision(policy, policy.tiers[idx], s.t_ms, reasons);
    },
  };
}

/** Sum of thermal resistances from a node to ambient along the device's chain (°C/W). */
function resistanceToAmbient(device: DeviceModel, node: string): number {
  let r = 0;
  let at = node;
  for (let hops = 0; hops < device.thermal.links.length + 1; hops++) {
    const l = device.thermal.links.find((x) => x.from === at);
    if (!l) break;
    r += l.resistanceCPerW;
    if (l.to === 'ambient') return r;
    at = l.to;
  }
  return r || 5;
}

/** Device power while decoding with a tier at full clock (the IPA's energy model of its actors). */
export function tierPowerW(ctx: ControllerContext, tier: TierSpec): number {
  const knobs: Knobs = { tier: tier.name, quant: tier.quant, contextLength: tier.contextLength, batchSize: tier.batchSize, threads: tier.threads, pacingMs: tier.pacingMs, offload: 'local' };
  const clock = { core: 1, mem: 1 };
  const d = decodeRate(ctx.device, ctx.model, knobs, tier.contextLength / 4, clock);
  const p = powerOf(ctx.device, { loaded: true, busy: d.busy, threadShare: threadShare(ctx.device, knobs), bandwidthGBs: d.bandwidthGBs, radio: 0 }, clock, 25);
  return p.socW + p.boardW + p.skinW;
}

/**
 * power_allocator (research/01 §1.2 IPA): for each temperature, switch-on = the policy's mildest
 * level, desired = its `moderate` level;
 * P = SP + k_p·e + k_i·Σe with the kernel defaults k_po = SP/(T_set − T_on), k_pu = 2·k_po,
 * k_i = k_pu/10; sustainable power SP from the device's thermal resistance to ambient at 25 °C.
 * The budget is the smallest over temperatures; the tier is the richest whose estimated power fits.
 */
function pid(ctx: ControllerContext): Controller {
  const { policy, device } = ctx;
  const nodeOf: Record<string, string | undefined> = {
    soc_c: device.thermal.signals.soc.node, skin_c: device.thermal.signals.skin?.node, battery_c: device.thermal.signals.battery?.node,
  };
  const loops = thermalLimits(policy).flatMap((l) => {
    const node = nodeOf[l.signal];
    if (!node) return [];
    // Desired temperature: the policy's `moderate` level (where the policy itself is already
    // trading quality for heat); switch-on: its mildest level. Without one, the next level up.
    const onC = l.levels[0].setAt;
    const moderate = l.levels.find((x) => x.severity === 'moderate');
    const setC = moderate && moderate.setAt > onC ? moderate.setAt : (l.levels[1]?.setAt ?? onC + 5);
    if (setC <= onC) return [];
    const sp = Math.max(0.5, (setC - 25) / resistanceToAmbient(device, node));
    const kpo = sp / (setC - onC);
    return [{ signal: l.signal, onC, setC, sp, kpo, kpu: 2 * kpo, ki: (2 * kpo) / 10, integral: 0 }];
  });
  const powers = policy.tiers.map((t) => tierPowerW(ctx, t));
  const pollMs = pollMsOf(policy);
  let nextPoll = -Infinity;
  let idx = 0;
  let reasons: Reason[] = [{ rule: 'pid', message: 'power_allocator baseline: below switch-on, richest tier' }];
  return {
    name: 'pid',
    decide(s) {
      if (s.t_ms >= nextPoll) {
        nextPoll = s.t_ms + pollMs;
        let budget = Infinity;
        let bound: (typeof loops)[number] | undefined;
        for (const L of loops) {
          const v = s[L.signal];
          if (v === undefined || !Number.isFinite(v)) continue;
          if (v < L.onC) { L.integral = 0; continue; }
          const e = L.setC - v;
          // Kernel integral_cutoff: only accumulate near the set point; clamp so it cannot wind up past ±SP.
          if (Math.abs(e) < (L.setC - L.onC)) L.integral = Math.max(-L.sp / L.ki, Math.min(L.sp / L.ki, L.integral + e));
          const p = L.sp + (e < 0 ? L.kpo : L.kpu) * e + L.ki * L.integral;
          if (p < budget) { budget = p; bound = L; }
        }
        let next = 0;
        if (budget !== Infinity) {
          next = powers.findIndex((w) => w <= budget);
          if (next < 0) next = policy.tiers.length - 1;
        }
        if (next !== idx) {
          idx = next;
          reasons = bound
            ? [{ rule: 'pid', signal: bound.signal, value: s[bound.signal], threshold: bound.setC, message: `power budget ${budget.toFixed(2)} W (${bound.signal}): tier ${policy.tiers[idx].name} (${powers[idx].toFixed(2)} W)` }]
            : [{ rule: 'pid', message: 'below switch-on: richest tier' }];
        }
      }
      return tierDecision(policy, policy.tiers[idx], s.t_ms, reasons);
    },
  };
}

export function createController(name: ControllerName, ctx: ControllerContext): Controller {
  switch (name) {
    case 'edgegov': return edgegov(ctx);
    case 'static': return staticController(ctx, name, ctx.policy.tiers[0]);
    case 'stepwise': return stepwise(ctx);
    case 'pid': return pid(ctx);
  }
  const problem = controllerProblem(name, ctx.policy);
  if (problem) throw new UserError(problem);
  return staticController(ctx, name, ctx.policy.tiers.find((t) => t.name === name.slice(7))!);
}
