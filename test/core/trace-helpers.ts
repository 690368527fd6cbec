/**
 * Deterministic sample builders for the core's tests: a phone whose every signal carries a
 * little sensor noise (real sensors are never bit-identical for minutes — constant values
 * would rightly be flagged `stuck`).
 */
import type { Sample } from '../../src/core/signals.js';
import { initialState, step, type StepResult } from '../../src/core/governor.js';
import type { Decision } from '../../src/core/decision.js';
import type { Policy } from '../../src/policy/types.js';

/** Deterministic noise in [-0.5, 0.5). */
export function noise(k: number): number {
  const x = Math.sin(k * 12.9898 + 78.233) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}

export interface PhoneReadings {
  socC?: number;
  skinC?: number;
  batteryC?: number;
  batteryW?: number;
  batteryPct?: number;
  charging?: number;
  memAvailMb?: number;
  psi?: number;
  tokS?: number;
}

/** One sample of a cool, idle, charging phone with plenty of memory; `r` overrides. SoC comes as zones. */
export function phoneSample(t_ms: number, r: PhoneReadings = {}): Record<string, number | undefined> & { t_ms: number } {
  const k = t_ms / 500;
  const soc = r.socC ?? 45;
  return {
    t_ms,
    'zone.cpu0': soc + 0.05 * noise(k),
    'zone.gpu0': soc - 2 + 0.05 * noise(k + 1),
    skin_c: (r.skinC ?? 33) + 0.02 * noise(k + 2),
    battery_c: (r.batteryC ?? 30) + 0.02 * noise(k + 3),
    battery_w: (r.batteryW ?? 3) + 0.05 * noise(k + 4),
    battery_pct: r.batteryPct ?? 80,
    charging: r.charging ?? 1,
    mem_avail_mb: (r.memAvailMb ?? 7000) + Math.round(10 * noise(k + 5)),
    psi_mem_some_avg10: Math.max(0, (r.psi ?? 1) + 0.1 * noise(k + 6)),
    ...(r.tokS !== undefined ? { tok_s: r.tokS } : {}),
  };
}

/** Runs `samples` through a fresh governor; returns every step result. */
export function runGovernor(policy: Policy, samples: Iterable<Sample>): StepResult[] {
  let state = initialState(policy);
  const out: StepResult[] = [];
  for (const s of samples) {
    const r = step(state, s, policy);
    state = r.state;
    out.push(r);
  }
  return out;
}

export function decisionsOf(results: StepResult[]): Decision[] {
  return results.map((r) => r.decision);
}
