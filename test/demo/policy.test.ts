/** The demo's speed-adapted copy of policies/synthetic.yaml: slew limits × speed, nothing else. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parsePolicy } from '../../src/policy/load.js';
import { speedAdaptedPolicy } from '../../src/demo/policy.js';
import { repoRoot } from '../helpers/cli.js';

const src = join(repoRoot, 'policies', 'synthetic.yaml');
const shipped = parsePolicy(readFileSync(src, 'utf8'), src).policy!;

describe('speed-adapted demo policy', () => {
  it('scales every maxSlew by the speed and keeps limits, tiers, rules and control', () => {
    const { text, scaled } = speedAdaptedPolicy(src, 20);
    const r = parsePolicy(text, 'demo-policy.yaml');
    expect(r.problems).toEqual([]);
    const p = r.policy!;
    for (const s of shipped.sensors) {
      const t = p.sensors.find((x) => x.name === s.name)!;
      expect(t.maxSlewPerS).toBe(Number.isFinite(s.maxSlewPerS) ? s.maxSlewPerS * 20 : s.maxSlewPerS);
    }
    expect(p.sensors.find((s) => s.name === 'soc_c')!.maxSlewPerS).toBe(600);
    expect(scaled).toContain('soc_c 30C/s → 600C/s');
    expect(p.limits).toEqual(shipped.limits);
    expect(p.tiers).toEqual(shipped.tiers);
    expect(p.rules).toEqual(shipped.rules);
    expect(p.control).toEqual(shipped.control);
  });

  it('at speed 1 changes nothing', () => {
    const { text, scaled } = speedAdaptedPolicy(src, 1);
    expect(scaled).toEqual([]);
    expect(parsePolicy(text, 'p.yaml').policy!.sensors).toEqual(shipped.sensors);
  });
});
