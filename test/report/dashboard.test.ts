import { describe, expect, it } from 'vitest';
import { DashboardHistory, renderDashboard, sparkline, type DashboardStatus } from '../../src/report/dashboard.js';
import type { Decision } from '../../src/core/decision.js';
import { testPolicy } from '../helpers/policy-fixture.js';

const policy = testPolicy();

function status(signals: Record<string, number>, decision?: Partial<Decision>): DashboardStatus {
  const t = policy.tiers[2];
  return {
    version: '0.1.0', deviceId: 'board-7', uptimeS: 3725, hz: 2, samples: 7450, decisionChanges: 12,
    policy: { name: 'test-phone', file: 'p.yaml', lastReloadOk: true, lastReloadErrors: [] },
    simulated: ['battery_w'], signals, faults: [{ signal: 'battery_c', reason: 'stuck' }],
    decision: {
      t_ms: 1, severity: 'moderate', tier: t.name, tierIndex: 2, quant: t.quant, contextLength: t.contextLength, batchSize: t.batchSize,
      threads: t.threads, pacingMs: t.pacingMs, offload: 'local', ttlMs: 3000, safe: false,
      reasons: [{ rule: 'limit', signal: 'skin_c', value: 41.3, threshold: 41, message: 'skin_c 41.3 ≥ 41: moderate' }],
      ...decision,
    },
  };
}

describe('status --watch dashboard', () => {
  it('shows where severity and tier sit, why, and each temperature against its next limit', () => {
    const h = new DashboardHistory(30);
    for (let i = 0; i < 30; i++) h.push({ soc_c: 60 + i, skin_c: 41.3, battery_w: 4 });
    const lines = renderDashboard(status({ soc_c: 89, skin_c: 41.3, battery_w: 4.2, mem_avail_mb: 2900 }), h, { policy, width: 120 });
    const text = lines.join('\n');
    expect(text).toMatch(/severity .*\[MODERATE\]/);
    expect(text).toMatch(/tier .*\[LEAN\]/);
    expect(text).toContain('skin_c 41.3 ≥ 41: moderate');
    // soc_c 89 is past severe (85): next is critical at 95, 6 away.
    expect(lines.find((l) => l.startsWith('soc_c'))).toMatch(/critical at 95\.0 \(6\.0 away\)/);
    expect(lines.find((l) => l.startsWith('skin_c'))).toMatch(/severe at 43\.0 \(1\.7 away\)/);
    // Rising soc history → an ascending sparkline.
    expect(lines.find((l) => l.startsWith('soc_c'))).toContain('▁');
    expect(lines.find((l) => l.startsWith('soc_c'))).toContain('█');
    expect(lines.find((l) => l.startsWith('battery_w'))).toMatch(/4\.2 W\*/); // simulated marked
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(120);
  });

  it('shows a missing reading as —, never 0, and a fault by name', () => {
    const lines = renderDashboard(status({ soc_c: 50 }), new DashboardHistory(), { policy });
    const skin = lines.find((l) => l.startsWith('skin_c'))!;
    expect(skin).toContain('—');
    expect(skin).not.toMatch(/\b0\.0\b/);
    expect(lines.find((l) => l.startsWith('battery_c'))).toMatch(/FAULT: stuck/);
  });

  it('fits narrow terminals, with or without colour, and works without the policy', () => {
    for (const color of [false, true]) {
      const lines = renderDashboard(status({ soc_c: 70, skin_c: 44 }, { severity: 'critical', safe: true }), new DashboardHistory(), { width: 50, color });
      // eslint-disable-next-line no-control-regex
      for (const l of lines) expect(l.replace(/\x1b\[[0-9;]*m/g, '').length).toBeLessThanOrEqual(50);
      expect(lines.join('\n')).toContain('SAFE');
    }
  });

  it('sparkline: gaps for missing readings, flat line for constant values', () => {
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8)).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([5, Number.NaN, 5], 3)).toBe('▄ ▄');
    expect(sparkline([], 5)).toBe('');
  });
});
