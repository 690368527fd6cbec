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
  const groups = (rec: Record<string, { requests: number; value: number; meanQoe: number; firstTokenP50S?: number; firstTokenP95S?: number }>) =>
    Object.entries(rec).map(([k, g]) => `${k} ${g.requests} (QoE ${g.meanQoe.toFixed(2)}${g.firstTokenP50S !== undefined ? `, first token p50 ${g.firstTokenP50S.toFixed(1)} s / p95 ${g.firstTokenP95S!.toFixed(1)} s` : ''})`).join('; ') || '—';
  const q = s.requests;
  return [
    `${s.device} · ${s.scenario} · ${s.controller}${s.bestStaticTier ? ` (${s.bestStaticTier})` : ''} (policy ${s.policy}, seed ${s.seed}, ${s.durationS} s)`,
    `  score             ${n1(s.score)} (Σ QoE × quality × context fidelity over ${q.sent} requests; mean QoE ${s.qoe.all.meanQoe.toFixed(3)}, quality ${s.meanQuality.toFixed(3)}, fidelity ${s.meanFidelity.toFixed(3)})`,
    `  requests          ${q.answered} answered, ${q.cut} cut by the end, ${q.unanswered} unanswered, ${q.lost} lost to OOM`,
    `  by route          ${groups(s.qoe.byRoute)}`,
    `  by tier (local)   ${groups(s.qoe.byTier)}`,
    `  tokens            ${n0(s.tokens)} local (mean ${s.meanLocalTokS.toFixed(1)} tok/s), ${n0(s.cloudTokens)} cloud, ${n0(s.qualityWeightedTokens)} quality-weighted`,
    `  max °C            soc ${n1(s.maxC.soc)}, skin ${n1(s.maxC.skin)}, battery ${n1(s.maxC.battery)}`,
    `  above limits      ${above}`,
    `  below floor       ${s.belowFloorS.toFixed(1)} s`,
    `  OOM kills         ${s.oomEvents}`,
    `  knob changes      ${s.knobChanges}`,
    `  energy            ${(s.energyJ / 1000).toFixed(2)} kJ${s.energyPerScoreJ !== undefined ? ` (${s.energyPerScoreJ.toFixed(0)} J per unit of score)` : ''}${s.batteryEndPct !== undefined ? `, battery at end ${s.batteryEndPct.toFixed(1)} %` : ''}${s.deviceDied ? ' (DEVICE DIED: battery flat)' : ''}`,
    `  time in tier      ${tiers}${s.timeOffloadedS > 0 ? `; offloaded/paused ${s.timeOffloadedS.toFixed(0)} s` : ''}${s.deferredS > 0 ? `; requests deferred ${s.deferredS.toFixed(0)} s` : ''}`,
    '',
  ].join('\n');
}

/** The compare table: one row per device × scenario × controller. */
export function formatCompareTable(rows: SimSummary[], markdown = false): string {
  const head = ['device', 'scenario', 'controller', 'seed', 'score', 'mean QoE', 'answered', 'J/score', 'QW tokens', 'local', 'cloud', 'max soc', 'max skin', 's ≥ crit', 'below floor s', 'OOM', 'knob chg', 'energy kJ'];
  const body = rows.map((s) => [
    s.device, s.scenario, s.bestStaticTier ? `${s.controller} (${s.bestStaticTier})` : s.controller, String(s.seed), n1(s.score), s.qoe.all.meanQoe.toFixed(3),
    `${s.requests.answered}/${s.requests.sent}`, s.energyPerScoreJ === undefined ? '—' : s.energyPerScoreJ.toFixed(0),
    n0(s.qualityWeightedTokens), n0(s.tokens), n0(s.cloudTokens), n1(s.maxC.soc), n1(s.maxC.skin),
    criticalSeconds(s).toFixed(1), s.belowFloorS.toFixed(1), String(s.oomEvents), String(s.knobChanges), (s.energyJ / 1000).toFixed(1),
  ]);
  if (markdown) {
    const line = (c: string[]) => `| ${c.join(' | ')} |`;
    return [line(head), line(head.map((_, i) => (i < 3 ? '---' : '---:'))), ...body.map(line)].join('\n') + '\n';
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const fmt = (c: string[]) => c.map((x, i) => (i < 3 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ').trimEnd();
  return [fmt(head), fmt(widths.map((w) => '─'.repeat(w))), ...body.map(fmt)].join('\n') + '\n';
}

/**
 * One row per device × scenario (× seed): each controller's score side by side, edgegov's ratio
 * to the best fixed tier (named), energy per unit of score, and what went wrong for a baseline.
 */
export function formatCellTable(rows: SimSummary[], markdown = false): string {
  const controllers = [...new Set(rows.map((r) => r.controller))];
  const keys = [...new Set(rows.map((r) => `${r.device}\u0000${r.scenario}\u0000${r.seed}`))];
  const seeds = new Set(rows.map((r) => r.seed)).size > 1 || new Set(rows.map((r) => `${r.scenario}\u0000${r.seed}`)).size > new Set(rows.map((r) => r.scenario)).size;
  const trouble = (s: SimSummary) => [
    criticalSeconds(s) > 0 ? `${criticalSeconds(s).toFixed(0)} s crit` : '',
    s.oomEvents > 0 ? `${s.oomEvents} OOM` : '',
    s.belowFloorS > 0 ? `${s.belowFloorS.toFixed(0)} s slow` : '',
    s.deviceDied ? 'died' : '',
  ].filter(Boolean).join(', ');
  const hasBest = controllers.includes('best-static');
  const head = ['device', 'scenario', ...(seeds ? ['seed'] : []), ...controllers.map((c) => `${c}`), ...(hasBest ? ['vs best-static', 'J/score vs best', 'QWT vs best (old score)'] : []), 'edgegov max soc/skin °C', 'baseline trouble'];
  const textCols = seeds ? 3 : 2;
  const body = keys.map((k) => {
    const [device, scenario, seed] = k.split('\u0000');
    const g = rows.filter((r) => r.device === device && r.scenario === scenario && String(r.seed) === seed);
    const eg = g.find((r) => r.controller === 'edgegov');
    const best = g.find((r) => r.controller === 'best-static');
    const others = Math.max(...g.filter((r) => r.controller !== 'edgegov').map((r) => r.score));
    return [
      device, scenario, ...(seeds ? [seed] : []),
      ...controllers.map((c) => {
        const r = g.find((x) => x.controller === c);
        if (!r) return '—';
        const v = `${n1(r.score)}${c === 'best-static' && r.bestStaticTier ? ` (${r.bestStaticTier})` : ''}`;
        return markdown && c === 'edgegov' && r.score >= others ? `**${v}**` : v;
      }),
      ...(hasBest ? [
        eg && best && best.score > 0 ? `${(eg.score / best.score).toFixed(3)}×` : '—',
        eg?.energyPerScoreJ !== undefined && best?.energyPerScoreJ !== undefined ? `${(eg.energyPerScoreJ / best.energyPerScoreJ).toFixed(2)}×` : '—',
        // The quality-weighted tokens both delivered: the score before issue 22, for comparison.
        eg && best && best.qualityWeightedTokens > 0 ? `${(eg.qualityWeightedTokens / best.qualityWeightedTokens).toFixed(2)}×` : '—',
      ] : []),
      eg ? `${n1(eg.maxC.soc)} / ${n1(eg.maxC.skin)}` : '—',
      g.filter((r) => r.controller !== 'edgegov').map((r) => { const t = trouble(r); return t ? `${r.controller}: ${t}` : ''; }).filter(Boolean).join('; ') || '—',
    ];
  });
  if (markdown) {
    const line = (c: string[]) => `| ${c.join(' | ')} |`;
    return [line(head), line(head.map((_, i) => (i < textCols || i === head.length - 1 ? '---' : '---:'))), ...body.map(line)].join('\n') + '\n';
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const fmt = (c: string[]) => c.map((x, i) => (i < textCols || i === head.length - 1 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ').trimEnd();
  return [fmt(head), fmt(widths.map((w) => '─'.repeat(w))), ...body.map(fmt)].join('\n') + '\n';
}
