/** Human-readable output of `simulate` and `compare` (the JSON forms are the summaries themselves). */
import type { SimSummary } from './run.js';

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const n1 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(1));

/** Seconds at or above `critical` and worse, summed over temperatures. */
export function criticalSeconds(s: SimSummary): number {
  let t = 0;
  for (const [k, v] of Object.entries(s.secondsAboveLimit)) if (k.endsWith('.critical')) t += v;
  return t;
}

export function formatSimSummary(s: SimSummary): string {
  // Only the limits that were crossed: a dozen "0.0 s" entries hid the one that mattered.
  const limits = Object.entries(s.secondsAboveLimit);
  const crossed = limits.filter(([, v]) => v > 0);
  const above = limits.length === 0 ? 'none watched'
    : crossed.length > 0 ? crossed.map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')
    : `none (0 s at ${limits[0][0].slice(limits[0][0].indexOf('.') + 1)} or worse on ${[...new Set(limits.map(([k]) => k.slice(0, k.indexOf('.'))))].join(', ')})`;
  const tiers = Object.entries(s.timeInTierS).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ');
  return [
    `${s.device} · ${s.scenario} · ${s.controller} (policy ${s.policy}, seed ${s.seed}, ${s.durationS} s)`,
    `  tokens            ${n0(s.tokens)} local, ${n0(s.cloudTokens)} cloud, ${n0(s.qualityWeightedTokens)} quality-weighted`,
    `  requests          ${s.requestsCompleted} answered, mean local ${s.meanLocalTokS.toFixed(1)} tok/s`,
    `  max °C            soc ${n1(s.maxC.soc)}, skin ${n1(s.maxC.skin)}, battery ${n1(s.maxC.battery)}`,
    `  above limits      ${above}`,
    `  below floor       ${s.belowFloorS.toFixed(1)} s`,
    `  OOM kills         ${s.oomEvents}`,
    `  knob changes      ${s.knobChanges}`,
    `  energy            ${(s.energyJ / 1000).toFixed(2)} kJ${s.batteryEndPct !== undefined ? `, battery at end ${s.batteryEndPct.toFixed(1)} %` : ''}${s.deviceDied ? ' (DEVICE DIED: battery flat)' : ''}`,
    `  time in tier      ${tiers}${s.timeOffloadedS > 0 ? `; offloaded/paused ${s.timeOffloadedS.toFixed(0)} s` : ''}`,
    `  score             ${n0(s.score)}`,
    '',
  ].join('\n');
}

/** The compare table: one row per device × scenario × controller. */
export function formatCompareTable(rows: SimSummary[], markdown = false): string {
  const head = ['device', 'scenario', 'controller', 'QW tokens', 'local', 'cloud', 'max soc', 'max skin', 's ≥ crit', 'below floor s', 'OOM', 'knob chg', 'energy kJ', 'score'];
  const body = rows.map((s) => [
    s.device, s.scenario, s.controller, n0(s.qualityWeightedTokens), n0(s.tokens), n0(s.cloudTokens), n1(s.maxC.soc), n1(s.maxC.skin),
    criticalSeconds(s).toFixed(1), s.belowFloorS.toFixed(1), String(s.oomEvents), String(s.knobChanges), (s.energyJ / 1000).toFixed(1), n0(s.score),
  ]);
  if (markdown) {
    const line = (c: string[]) => `| ${c.join(' | ')} |`;
    return [line(head), line(head.map((_, i) => (i < 3 ? '---' : '---:'))), ...body.map(line)].join('\n') + '\n';
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const fmt = (c: string[]) => c.map((x, i) => (i < 3 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ').trimEnd();
  return [fmt(head), fmt(widths.map((w) => '─'.repeat(w))), ...body.map(fmt)].join('\n') + '\n';
}

/** One row per device × scenario: each controller's quality-weighted tokens and what went wrong. */
export function formatCellTable(rows: SimSummary[], markdown = false): string {
  const controllers = [...new Set(rows.map((r) => r.controller))];
  const keys = [...new Set(rows.map((r) => `${r.device}\u0000${r.scenario}`))];
  const trouble = (s: SimSummary) => [
    criticalSeconds(s) > 0 ? `${criticalSeconds(s).toFixed(0)} s crit` : '',
    s.oomEvents > 0 ? `${s.oomEvents} OOM` : '',
    s.belowFloorS > 0 ? `${s.belowFloorS.toFixed(0)} s slow` : '',
    s.deviceDied ? 'died' : '',
  ].filter(Boolean).join(', ');
  const head = ['device', 'scenario', ...controllers.map((c) => `${c} QWT`), 'edgegov max soc/skin °C', 'baseline trouble'];
  const body = keys.map((k) => {
    const [device, scenario] = k.split('\u0000');
    const g = rows.filter((r) => r.device === device && r.scenario === scenario);
    const eg = g.find((r) => r.controller === 'edgegov');
    const best = Math.max(...g.filter((r) => r.controller !== 'edgegov').map((r) => r.qualityWeightedTokens));
    return [
      device, scenario,
      ...controllers.map((c) => { const r = g.find((x) => x.controller === c); if (!r) return '—'; const v = n0(r.qualityWeightedTokens); return markdown && c === 'edgegov' && r.qualityWeightedTokens >= best ? `**${v}**` : v; }),
      eg ? `${n1(eg.maxC.soc)} / ${n1(eg.maxC.skin)}` : '—',
      g.filter((r) => r.controller !== 'edgegov').map((r) => { const t = trouble(r); return t ? `${r.controller}: ${t}` : ''; }).filter(Boolean).join('; ') || '—',
    ];
  });
  if (markdown) {
    const line = (c: string[]) => `| ${c.join(' | ')} |`;
    return [line(head), line(head.map((_, i) => (i < 2 || i === head.length - 1 ? '---' : '---:'))), ...body.map(line)].join('\n') + '\n';
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const fmt = (c: string[]) => c.map((x, i) => (i < 2 || i === head.length - 1 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ').trimEnd();
  return [fmt(head), fmt(widths.map((w) => '─'.repeat(w))), ...body.map(fmt)].join('\n') + '\n';
}
