/** The human-readable replay summary (stdout without --json). */
import type { ReplaySummary } from './summary.js';
import { SEVERITIES } from '../core/severity.js';

function dur(s: number): string {
  if (s < 120) return `${trim(s)} s`;
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${String(sec).padStart(2, '0')}s` : `${m}m${String(sec).padStart(2, '0')}s`;
}

function trim(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

function pct(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : '-';
}

export function formatSummary(s: ReplaySummary, mode: string): string {
  const lines: string[] = [];
  const total = s.durationS;
  lines.push(`replay ${s.trace} with policy '${s.policy}' (${mode})`);
  const window = s.window.fromMs !== null || s.window.toMs !== null
    ? ` in window ${s.window.fromMs !== null ? s.window.fromMs / 1000 : 'start'}–${s.window.toMs !== null ? s.window.toMs / 1000 : 'end'} s`
    : '';
  lines.push(`  samples          ${s.samples} over ${dur(total)}${window}`);
  lines.push(`  decision changes ${s.decisionChanges} (engine knob changes ${s.knobChangesPerMin}/min)`);
  const sev = SEVERITIES.filter((k) => s.timeInSeverityS[k] > 0).map((k) => `${k} ${dur(s.timeInSeverityS[k])} (${pct(s.timeInSeverityS[k], total)})`);
  lines.push(`  severity         ${sev.length > 0 ? sev.join(', ') : '-'}`);
  const tiers = Object.entries(s.timeInTierS).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${dur(v)} (${pct(v, total)})`);
  lines.push(`  tiers            ${tiers.length > 0 ? tiers.join(', ') : '-'}`);
  lines.push(`  offloaded        ${dur(s.timeOffloadedS)} (cloud ${dur(s.timeByOffloadS.cloud)}, pause ${dur(s.timeByOffloadS.pause)})`);
  const temps = Object.entries(s.maxC);
  const named = temps.filter(([k]) => !k.startsWith('zone.')).map(([k, v]) => `${k} ${v}`);
  const zones = temps.filter(([k]) => k.startsWith('zone.')).sort((a, b) => b[1] - a[1]);
  const zoneText = zones.length > 0 ? `${named.length > 0 ? '; ' : ''}${zones.length} zone${zones.length === 1 ? '' : 's'}, hottest ${zones.slice(0, 3).map(([k, v]) => `${k} ${v}`).join(', ')}` : '';
  lines.push(`  max °C           ${named.join(', ')}${zoneText}${temps.length === 0 ? '-' : ''}`);
  if (s.signalsNotOnDevice.length > 0) {
    lines.push(`  not on device    ${s.signalsNotOnDevice.join(', ')} (the trace never carries them: left out, not faults; --strict-signals makes them faults)`);
  } else if (s.strictSignals) {
    lines.push('  not on device    - (--strict-signals: every signal the policy reads counts as on the device)');
  }
  const faults = Object.entries(s.sensorFaults.bySignal).map(([k, v]) => {
    const c = s.sensorFaults.onFault[k];
    return `${k} ×${v}${c ? ` onFault ${c.onFault}${c.byDefault ? ' by default' : ''}` : ''}`;
  });
  lines.push(`  sensor faults    ${s.sensorFaults.count}${faults.length > 0 ? ` (${faults.join(', ')})` : ''}; fault-capped ${dur(s.timeFaultCappedS)}, safe tier ${dur(s.timeSafeS)}`);
  const d = s.finalDecision;
  lines.push(
    d
      ? `  final decision   tier ${d.tier} (${d.quant}, context ${d.contextLength}, batch ${d.batchSize}), severity ${d.severity}, offload ${d.offload}${d.safe ? ', SAFE' : ''}`
      : '  final decision   - (no samples)',
  );
  if (s.skippedRows > 0 || Object.keys(s.skippedByKind).length > 0) {
    const kinds = Object.entries(s.skippedByKind).map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(`  skipped rows     ${s.skippedRows} (${kinds})`);
  }
  return lines.join('\n') + '\n';
}
