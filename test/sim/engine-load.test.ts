/**
 * The demo's simulated device (src/sim/engine-load.ts): its load is what the engine reports.
 * Busier engines heat it more, the tier's threads matter, nothing reported means idle, work
 * reported in one lump is spread over the following intervals (not lost, not doubled), and
 * device time runs `speed` times faster than the daemon's clock.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadPolicyFile } from '../../src/policy/load.js';
import { createEngineLoadedDevice } from '../../src/sim/engine-load.js';
import { repoRoot } from '../helpers/cli.js';

const policy = await loadPolicyFile(join(repoRoot, 'policies', 'synthetic.yaml'));
const tier = (name: string) => policy.tiers.find((t) => t.name === name)!;
const applied = (name: string) => {
  const t = tier(name);
  // The host caps the real engine's threads; the report says 1.
  return { tier: t.name, quant: t.quant, contextLength: t.contextLength, batchSize: t.batchSize, threads: 1, pacingMs: t.pacingMs };
};

/** Runs `wallS` seconds of 500 ms samples; before each sample the engine reports `busyMs` of work. */
function run(o: { busyMs: number; tierName?: string; wallS: number; speed?: number; lump?: boolean }) {
  const dev = createEngineLoadedDevice({ scenario: 'hot-car', speed: o.speed ?? 20, policy });
  let last = dev.sampleAt(0);
  const n = (o.wallS * 1000) / 500;
  if (o.tierName) dev.engineReport({ applied: applied(o.tierName) });
  if (o.lump) dev.engineReport({ busyMs: o.busyMs * n });
  for (let i = 1; i <= n; i++) {
    if (!o.lump && o.tierName) dev.engineReport({ busyMs: o.busyMs });
    last = dev.sampleAt(i * 500);
  }
  return { dev, last };
}

describe('engine-loaded simulated device', () => {
  it('runs the scenario speed× faster than the daemon clock, at the scenario ambient', () => {
    const { dev, last } = run({ busyMs: 0, wallS: 10, speed: 20 });
    expect(dev.deviceTimeS).toBeCloseTo(200, 6);
    expect(dev.scenario.name).toBe('hot-car');
    // Nothing reported: no model loaded, the phone idles near the 35 °C cabin.
    expect(last.soc_c!).toBeLessThan(45);
    expect(last.t_ms).toBe(10_000);
  });

  it('a busier engine heats the SoC more; idle stays coolest', () => {
    const idle = run({ busyMs: 0, tierName: 'rich', wallS: 10 }).last.soc_c!;
    const light = run({ busyMs: 50, tierName: 'rich', wallS: 10 }).last.soc_c!;
    const full = run({ busyMs: 500, tierName: 'rich', wallS: 10 }).last.soc_c!;
    expect(light).toBeGreaterThan(idle + 1);
    expect(full).toBeGreaterThan(light + 5);
  });

  it("the applied tier's threads (from the policy, not the host's cap) set the power", () => {
    const rich = run({ busyMs: 500, tierName: 'rich', wallS: 10 }).last.soc_c!;   // 6 threads
    const lean = run({ busyMs: 500, tierName: 'lean', wallS: 10 }).last.soc_c!;   // 2 threads
    expect(rich).toBeGreaterThan(lean + 5);
  });

  it('work reported in one lump (a long answer, reported at its end) loads the following intervals, none lost or doubled', () => {
    const make = () => { const d = createEngineLoadedDevice({ scenario: 'hot-car', speed: 20, policy }); d.sampleAt(0); d.engineReport({ applied: applied('rich') }); return d; };
    const spread = make();
    const lump = make();
    const idle = make();
    lump.engineReport({ busyMs: 2500 });            // 5 intervals' worth, at once
    let a = spread.sampleAt(0), b = lump.sampleAt(0), c = idle.sampleAt(0);
    for (let i = 1; i <= 10; i++) {
      if (i <= 5) spread.engineReport({ busyMs: 500 }); // the same work, interval by interval
      a = spread.sampleAt(i * 500); b = lump.sampleAt(i * 500); c = idle.sampleAt(i * 500);
    }
    expect(b.soc_c).toBe(a.soc_c);
    expect(b.skin_c).toBe(a.skin_c);
    expect(b.battery_pct).toBe(a.battery_pct);
    expect(a.skin_c!).toBeGreaterThan(c.skin_c!);
  });

  it('radio time costs power too', () => {
    const a = createEngineLoadedDevice({ scenario: 'hot-car', speed: 20, policy });
    const b = createEngineLoadedDevice({ scenario: 'hot-car', speed: 20, policy });
    a.sampleAt(0); b.sampleAt(0);
    let ra = a.sampleAt(0), rb = b.sampleAt(0);
    for (let i = 1; i <= 40; i++) { b.engineReport({ radioMs: 500 }); ra = a.sampleAt(i * 500); rb = b.sampleAt(i * 500); }
    expect(rb.battery_w!).toBeGreaterThan(ra.battery_w! + 0.5);
  });
});
