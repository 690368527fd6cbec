/** The summary table the demo prints at the end (plain text, one fact per row). */
import type { DemoAnalysis } from './analyse.js';

export interface SummaryInput extends DemoAnalysis {
  device: string;
  scenario: string;
  speed: number;
  wallS: number;
  deviceS: number;
  stoppedBy?: string;
  cloudTarget: { url?: string; stub?: string };
}

const list = (o: Record<string, number>, unit = 's') => Object.entries(o).map(([k, v]) => `${k} ${v} ${unit}`).join(' · ') || '—';

export function formatSummary(s: SummaryInput): string[] {
  const rows: [string, string][] = [
    ['run', `${s.device} · ${s.scenario} ×${s.speed} · ${s.wallS} s wall = ${Math.floor(s.deviceS / 60)} min ${s.deviceS % 60} s device · stopped by ${s.stoppedBy ?? '?'}`],
    ['decisions', `${s.decisionChanges} changes: ${s.escalations} escalations, ${s.recoveries} recoveries; severities seen: ${s.severitiesSeen.join(', ')}`],
    ['tiers', `${list(s.timeInTierS)}; offloaded ${s.timeOffloadedS} s`],
    ['severity', list(s.timeInSeverityS)],
    ['engine', `${s.engineChanges.length} knob sets applied: ${s.engineChanges.map((e) => e.tier).join(' → ') || '—'}`],
    ['requests', `${s.requests.total}: local ${s.requests.local} · cloud ${s.requests.cloud}${s.cloudTarget.stub ? ' (stub)' : ''} · deferred ${s.requests.deferred} · errors ${s.requests.errors} · private ${s.requests.private} (to the cloud: ${s.requests.privateToCloud}) · in bursts ${s.requests.burst}`],
    ['local', `tok/s p50 ${s.local.tokS.p50 ?? '—'} p95 ${s.local.tokS.p95 ?? '—'} · first token p50 ${s.local.firstTokenMs.p50 ?? '—'} ms p95 ${s.local.firstTokenMs.p95 ?? '—'} ms`],
    ['by tier', Object.entries(s.local.byTier).map(([t, v]) => `${t}: ${v.requests} req, ${v.tokSP50 ?? '—'} tok/s, first token ${v.firstTokenMsP50 ?? '—'} ms`).join(' · ') || '—'],
    ['cloud', `${s.cloudStubReceived} received by the ${s.cloudTarget.stub ? 'stub' : 'cloud'}, private among them: ${s.privateSeenByCloud.length} · first token p50 ${s.cloud.firstTokenMs.p50 ?? '—'} ms`],
    ['QoE by route', `${Object.entries(s.qoe.byRoute).map(([k, g]) => `${k} ${g.requests} req, mean ${g.meanQoe}`).join(' · ') || '—'} (first token ≤ ${s.qoe.target.firstTokenS} s, read at ${s.qoe.target.readTokS} tok/s)`],
    ['QoE by tier', Object.entries(s.qoe.byTier).map(([k, g]) => `${k} ${g.requests} req, mean ${g.meanQoe}`).join(' · ') || '—'],
    ['late local', s.localOverTarget.length ? `${s.localOverTarget.length} non-private local answers had their first token after ${s.qoe.target.firstTokenS} s: ${s.localOverTarget.slice(0, 6).map((x) => `${x.tag} ${x.firstTokenMs} ms`).join(', ')}` : `none: every non-private local answer began within ${s.qoe.target.firstTokenS} s`],
    ['max °C', list(s.maxC, '°C')],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
}
