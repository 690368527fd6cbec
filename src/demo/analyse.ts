/**
 * What a demo run did, from its recorded trace (the daemon's journal, one line per sample) and
 * the load generator's records: escalations and recoveries, time per tier and severity, the
 * engine's tier changes as the gateway reported them, routes, privacy, speeds and latencies.
 */
import { readFileSync } from 'node:fs';
import type { Decision } from '../core/decision.js';
import { SEVERITIES } from '../core/severity.js';
import type { DemoRequestRecord } from './load.js';
import { expectedQoe, type QoeTarget } from '../core/qoe.js';

export interface JournalLine {
  ts: string;
  seq: number;
  n: number;
  changed: boolean;
  decision: Decision;
  signals: Record<string, number | undefined>;
}

export function readJournal(path: string): JournalLine[] {
  const out: JournalLine[] = [];
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { return out; }
  for (const line of text.split('\n')) {
    if (!line) continue;
    try { out.push(JSON.parse(line) as JournalLine); } catch { /* a torn tail cannot happen (journal.ts); skip anything odd */ }
  }
  return out;
}

/** The daemon's stop line (safe tier on shutdown) is the end of the run, not a governing step. */
export function isStopLine(l: JournalLine): boolean {
  return l.decision.safe === true && l.decision.reasons[0]?.rule === 'safe-tier' && Object.keys(l.signals).length === 0;
}

export interface DecisionChange {
  t_s: number;
  kind: 'escalation' | 'recovery' | 'change';
  severity: string;
  tier: string;
  offload: string;
  why: string;
}

export interface EngineChange { t_s: number; tier: string; quant: string; contextLength: number; batchSize: number; threads?: number; pacingMs: number }

function pct(values: number[], p: number): number | undefined {
  if (!values.length) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}
const r1 = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 10) / 10);

export function decisionChanges(lines: JournalLine[]): DecisionChange[] {
  const out: DecisionChange[] = [];
  let prev: Decision | undefined;
  const t0 = lines[0]?.signals.t_ms ?? 0;
  for (const l of lines) {
    if (isStopLine(l)) break;
    const d = l.decision;
    if (l.changed && prev) {
      const ds = SEVERITIES.indexOf(d.severity) - SEVERITIES.indexOf(prev.severity);
      const dt = d.tierIndex - prev.tierIndex;
      const offUp = prev.offload === 'local' && d.offload !== 'local';
      const offDown = prev.offload !== 'local' && d.offload === 'local';
      const kind = ds > 0 || (ds === 0 && (dt > 0 || offUp)) ? 'escalation' : ds < 0 || (ds === 0 && (dt < 0 || offDown)) ? 'recovery' : 'change';
      out.push({ t_s: ((l.signals.t_ms ?? t0) - t0) / 1000, kind, severity: d.severity, tier: d.tier, offload: d.offload, why: d.reasons[0]?.message ?? '' });
    }
    prev = d;
  }
  return out;
}

export interface DemoAnalysis {
  samples: number;
  durationS: number;
  decisionChanges: number;
  escalations: number;
  recoveries: number;
  severitiesSeen: string[];
  tiersDecided: string[];
  timeInTierS: Record<string, number>;
  timeInSeverityS: Record<string, number>;
  timeOffloadedS: number;
  maxC: Record<string, number>;
  engineChanges: EngineChange[];
  engineTiers: string[];
  requests: {
    total: number; local: number; cloud: number; deferred: number; errors: number; private: number;
    privateToCloud: number; burst: number;
  };
  cloudStubReceived: number;
  /** Private requests the cloud stub saw (must be 0). */
  privateSeenByCloud: string[];
  local: { tokS: { p50?: number; p95?: number }; firstTokenMs: { p50?: number; p95?: number }; byTier: Record<string, { requests: number; tokSP50?: number; firstTokenMsP50?: number }> };
  cloud: { firstTokenMs: { p50?: number } };
  /**
   * What the users got (the simulator's score, docs/simulator.md): each answer's QoE from what its
   * client measured — first token, tokens, tok/s — against the scenario's first-token target and
   * reading pace; a deferred or failed request scores 0. By route and by tier.
   */
  qoe: { target: QoeTarget; byRoute: Record<string, { requests: number; meanQoe: number }>; byTier: Record<string, { requests: number; meanQoe: number }> };
  /** Local answers to non-private requests whose first token came after the target (the cloud was there). */
  localOverTarget: { tag: string; firstTokenMs: number }[];
}

/** One answer's QoE from what its client measured (cut or refused answers: 0). */
export function recordQoe(r: DemoRequestRecord, target: QoeTarget): number {
  if (r.status !== 200 || r.error || r.firstTokenMs === undefined || r.tokens <= 0) return 0;
  const streamS = Math.max(1e-3, (r.totalMs - r.firstTokenMs) / 1000);
  const tokS = r.tokS ?? r.tokens / streamS;
  return expectedQoe(r.firstTokenMs / 1000, tokS, r.tokens, target);
}

/** The demo's default expectation: a chat's first token within 1 s, read at 5.3 tok/s (src/sim/scenario.ts). */
export const DEMO_TARGET: QoeTarget = { firstTokenS: 1, readTokS: 5.3 };

export function analyse(lines: JournalLine[], records: DemoRequestRecord[], cloudReceived: string[], engineChanges: EngineChange[], target: QoeTarget = DEMO_TARGET, cloudAllowed = true): DemoAnalysis {
  const run = lines.filter((l) => !isStopLine(l));
  const changes = decisionChanges(lines);
  const timeInTierS: Record<string, number> = {};
  const timeInSeverityS: Record<string, number> = {};
  let offloadedS = 0;
  const maxC: Record<string, number> = {};
  for (let i = 0; i < run.length; i++) {
    const s = run[i].signals;
    for (const [k, v] of Object.entries(s)) {
      if (!k.endsWith('_c') || k.startsWith('zone.') || v === undefined || !Number.isFinite(v)) continue;
      maxC[k] = Math.max(maxC[k] ?? -Infinity, v);
    }
    if (i === 0) continue;
    const dt = ((s.t_ms ?? 0) - (run[i - 1].signals.t_ms ?? 0)) / 1000;
    const d = run[i - 1].decision;
    timeInTierS[d.tier] = (timeInTierS[d.tier] ?? 0) + dt;
    timeInSeverityS[d.severity] = (timeInSeverityS[d.severity] ?? 0) + dt;
    if (d.offload !== 'local') offloadedS += dt;
  }
  const round = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 10) / 10]));
  // Answers cut by the demo's own stop are not measurements.
  const local = records.filter((r) => r.route === 'local' && r.status === 200 && !r.error);
  const cloud = records.filter((r) => r.route === 'cloud' && r.status === 200 && !r.error);
  const privateTags = new Set(records.filter((r) => r.private).map((r) => r.tag));
  const byTier: DemoAnalysis['local']['byTier'] = {};
  for (const r of local) {
    const t = r.tier ?? '?';
    byTier[t] ??= { requests: 0 };
    byTier[t].requests++;
  }
  for (const t of Object.keys(byTier)) {
    const rs = local.filter((r) => (r.tier ?? '?') === t);
    byTier[t].tokSP50 = r1(pct(rs.flatMap((r) => (r.tokS !== undefined ? [r.tokS] : [])), 0.5));
    byTier[t].firstTokenMsP50 = r1(pct(rs.flatMap((r) => (r.firstTokenMs !== undefined ? [r.firstTokenMs] : [])), 0.5));
  }
  // Every request the users sent and the demo did not itself cut off: what the score counts.
  const scored = records.filter((r) => r.error !== 'stopped');
  const tokS = local.flatMap((r) => (r.tokS !== undefined ? [r.tokS] : []));
  const ttft = local.flatMap((r) => (r.firstTokenMs !== undefined ? [r.firstTokenMs] : []));
  const t0 = run[0]?.signals.t_ms ?? 0;
  return {
    samples: run.length,
    durationS: run.length ? Math.round(((run[run.length - 1].signals.t_ms ?? 0) - t0) / 100) / 10 : 0,
    decisionChanges: changes.length,
    escalations: changes.filter((c) => c.kind === 'escalation').length,
    recoveries: changes.filter((c) => c.kind === 'recovery').length,
    severitiesSeen: [...new Set(run.map((l) => l.decision.severity))],
    tiersDecided: [...new Set(run.map((l) => l.decision.tier))],
    timeInTierS: round(timeInTierS),
    timeInSeverityS: round(timeInSeverityS),
    timeOffloadedS: Math.round(offloadedS * 10) / 10,
    maxC: Object.fromEntries(Object.entries(maxC).map(([k, v]) => [k, Math.round(v * 10) / 10])),
    engineChanges,
    engineTiers: [...new Set(engineChanges.map((e) => e.tier))],
    requests: {
      total: records.length,
      local: local.length,
      cloud: cloud.length,
      deferred: records.filter((r) => r.route === 'defer').length,
      errors: records.filter((r) => r.route === 'error' && r.error !== 'stopped').length,
      private: records.filter((r) => r.private).length,
      privateToCloud: records.filter((r) => r.private && r.route === 'cloud').length,
      burst: records.filter((r) => r.burst).length,
    },
    cloudStubReceived: cloudReceived.length,
    privateSeenByCloud: cloudReceived.filter((t) => privateTags.has(t)),
    local: {
      tokS: { p50: r1(pct(tokS, 0.5)), p95: r1(pct(tokS, 0.95)) },
      firstTokenMs: { p50: r1(pct(ttft, 0.5)), p95: r1(pct(ttft, 0.95)) },
      byTier,
    },
    cloud: { firstTokenMs: { p50: r1(pct(cloud.flatMap((r) => (r.firstTokenMs !== undefined ? [r.firstTokenMs] : [])), 0.5)) } },
    qoe: { target, byRoute: qoeBy(scored, (r) => r.route, target), byTier: qoeBy(local, (r) => r.tier ?? '?', target) },
    localOverTarget: cloudAllowed
      ? local.filter((r) => !r.private && r.firstTokenMs !== undefined && r.firstTokenMs > target.firstTokenS * 1000).map((r) => ({ tag: r.tag, firstTokenMs: Math.round(r.firstTokenMs!) }))
      : [],
  };
}

function qoeBy(records: DemoRequestRecord[], key: (r: DemoRequestRecord) => string, target: QoeTarget): Record<string, { requests: number; meanQoe: number }> {
  const out: Record<string, { requests: number; meanQoe: number }> = {};
  for (const r of records) {
    const k = key(r);
    const g = (out[k] ??= { requests: 0, meanQoe: 0 });
    g.meanQoe += recordQoe(r, target);
    g.requests++;
  }
  for (const g of Object.values(out)) g.meanQoe = Math.round((g.meanQoe / g.requests) * 1000) / 1000;
  return out;
}
