/**
 * A deterministic synthetic phone run for report tests: the SoC and skin heat under an LLM
 * load and cool in a pause, the battery drains, memory dips with a PSI burst, a sensor drops
 * out for a while. Run through the REAL governor core so the decisions and reasons are the
 * production ones.
 */
import { initialState, step } from '../../src/core/governor.js';
import type { Sample } from '../../src/core/signals.js';
import type { Policy } from '../../src/policy/types.js';
import { TimelineRecorder, type RunTimeline } from '../../src/report/recorder.js';

export function* syntheticSamples(durationS: number, hz: number, phaseS = durationS): Generator<Sample> {
  const n = Math.floor(durationS * hz);
  let skin = 30;
  let soc = 40;
  let pct = 95;
  for (let i = 0; i < n; i++) {
    const tS = i / hz;
    const cycle = (tS % phaseS) / phaseS; // load for 60 % of each phase, then rest
    const loaded = cycle < 0.6;
    const powerW = Math.round(((loaded ? 6.2 : 1.2) + 0.15 * Math.sin(i / 3)) * 1000) / 1000;
    const dt = 1 / hz;
    // First-order RC nodes: SoC fast, skin slow.
    soc += ((loaded ? 92 : 42) - soc) * (dt / 25);
    skin += ((loaded ? 49 : 31) - skin) * (dt / (phaseS * 0.12));
    pct = Math.max(1, pct - (powerW * dt) / 55);
    const memDip = cycle > 0.3 && cycle < 0.38;
    const s: Record<string, number | undefined> = {
      t_ms: Math.round(tS * 1000),
      soc_c: Math.round((soc + 0.6 * Math.sin(i / 7)) * 100) / 100,
      skin_c: cycle > 0.7 && cycle < 0.72 ? undefined : Math.round(skin * 100) / 100, // a dropout
      battery_c: Math.round((28 + (skin - 30) * 0.5) * 100) / 100,
      battery_w: powerW,
      battery_pct: Math.round(pct * 100) / 100,
      charging: 0,
      mem_avail_mb: memDip ? 650 : 3200,
      mem_total_mb: 7800,
      psi_mem_some_avg10: memDip ? 18 : 0.5,
      tok_s: loaded ? 11 - (soc - 40) / 10 : 0,
    };
    yield s as Sample;
  }
}

/** Runs samples through the real core and records them as the report does. */
export function recordRun(policy: Policy, samples: Iterable<Sample>, label = 'replay'): { run: RunTimeline; changes: number } {
  const rec = new TimelineRecorder({ label });
  let state = initialState(policy);
  let changes = 0;
  for (const s of samples) {
    const r = step(state, s, policy);
    state = r.state;
    if (r.changed) changes++;
    rec.step(s, r.decision, r.changed);
  }
  return { run: rec.finish(), changes };
}
