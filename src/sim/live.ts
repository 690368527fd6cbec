/**
 * The daemon's built-in simulated device (SPEC §7): on a host without thermal or battery
 * sensors, the daemon takes those signals from here so the whole loop runs anywhere. It is the
 * same device model `simulate` uses, stepped in real time, driven by the last decision's knobs
 * under a steady chat-like load.
 */
import type { Decision } from '../core/decision.js';
import type { Sample } from '../core/signals.js';
import type { Policy } from '../policy/types.js';
import { loadDevice } from './device.js';
import { simModel } from './model.js';
import { ScenarioSchema, type Scenario } from './scenario.js';
import { DeviceSimulator } from './simulator.js';
import type { Knobs } from './workload.js';

export interface LiveSimulatedDevice {
  /** Signals this simulated device provides (canonical names and `zone.<type>`). */
  readonly signals: string[];
  /** The device model's name. */
  readonly device: string;
  /** Advance the model to `t_ms` (under the knobs of `decision`, if given) and read its sensors. */
  sampleAt(t_ms: number, decision?: Decision): Sample;
}

export interface LiveOptions {
  /** Device name (sim/devices/<name>.yaml) or path; default `flagship-phone`. */
  device?: string;
  seed?: number;
  /** The served model's sizes come from this policy when given; else a Llama-3.2-3B default. */
  policy?: Policy;
}

/** A steady chat: research/03 §6.6 lengths, 20 s think time, for as long as the daemon runs. */
const LIVE_SCENARIO: Scenario = ScenarioSchema.parse({
  name: 'live-chat',
  durationS: 24 * 3600,
  workload: {
    thinkS: 20,
    requests: [{ kind: 'chat', promptTokens: { median: 70, p90: 400 }, outputTokens: { median: 200, p90: 800 } }],
  },
});

/** Longest gap integrated after a stall (daemon suspended): the device would have cooled anyway. */
const MAX_CATCH_UP_MS = 10 * 60_000;
const STEP_MS = 500;

export function knobsFromDecision(d: Decision): Knobs {
  return {
    tier: d.tier, quant: d.quant, contextLength: d.contextLength, batchSize: d.batchSize,
    threads: d.threads, pacingMs: d.pacingMs, offload: d.offload,
  };
}

export function createLiveSimulatedDevice(opts: LiveOptions = {}): LiveSimulatedDevice {
  const device = loadDevice(opts.device ?? 'flagship-phone');
  const model = simModel(opts.policy?.model);
  const sim = new DeviceSimulator({
    device, model, scenario: LIVE_SCENARIO, seed: opts.seed ?? 1,
    floorTokS: opts.policy?.rules.offload.minLocalTokS ?? 5,
  });
  // Until the first decision arrives, the engine runs a mid tier (4-bit, 4k context).
  const firstTier = opts.policy?.tiers[Math.min(1, opts.policy.tiers.length - 1)];
  let knobs: Knobs = firstTier
    ? { tier: firstTier.name, quant: firstTier.quant, contextLength: firstTier.contextLength, batchSize: firstTier.batchSize, threads: firstTier.threads, pacingMs: firstTier.pacingMs, offload: 'local' }
    : { tier: 'default', quant: 'q4_k_m', contextLength: 4096, batchSize: 256, pacingMs: 0, offload: 'local' };
  let originMs: number | undefined;
  let simMs = 0;
  return {
    signals: [...sim.signals],
    device: device.name,
    sampleAt(t_ms, decision) {
      if (decision) knobs = knobsFromDecision(decision);
      if (originMs === undefined) originMs = t_ms;
      const target = t_ms - originMs;
      if (target - simMs > MAX_CATCH_UP_MS) simMs = target - MAX_CATCH_UP_MS;
      while (target - simMs >= 1) {
        const dt = Math.min(STEP_MS, target - simMs);
        sim.advance(dt / 1000, knobs);
        simMs += dt;
      }
      return { ...sim.read(simMs), t_ms };
    },
  };
}
