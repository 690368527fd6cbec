/**
 * What the demo shows while it runs: on a terminal a live frame redrawn in place
 * (temperatures against their limits, severity, decided tier and knobs, the engine's applied
 * knobs, routes, measured tok/s and first-token time, the latest reason); piped, plain log
 * lines — one per decision change and engine switch, and a status line every few seconds.
 * The renderers are pure functions of the state.
 */
import type { Decision } from '../core/decision.js';
import type { Policy } from '../policy/types.js';
import type { DemoRequestRecord } from './load.js';

export interface EngineKnobsView { tier: string; quant: string; contextLength: number; batchSize: number; threads?: number; pacingMs: number }

export interface ViewState {
  device: string;
  scenario: string;
  speed: number;
  wallS: number;
  durationS: number;
  signals: Record<string, number>;
  decision?: Decision;
  engine?: EngineKnobsView;
  records: readonly DemoRequestRecord[];
  cloudLabel: string;
}

const f = (v: number | undefined, d = 1) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));

function clock(s: number): string {
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

/** `41.3°C (moderate at 43)`: the value and the next level it has not reached (or the worst it passed). */
export function withLimit(policy: Policy, signal: string, value: number | undefined): string {
  if (value === undefined) return '—';
  const lim = policy.limits.find((l) => l.signal === signal);
  let text = `${f(value)}°C`;
  if (!lim || lim.direction !== 'rising') return text;
  const next = lim.levels.find((l) => value < l.setAt);
  const passed = [...lim.levels].reverse().find((l) => value >= l.setAt);
  if (passed) text += ` ≥${passed.severity} ${f(passed.setAt)}`;
  if (next) text += ` (${next.severity} at ${f(next.setAt)})`;
  return text;
}

function knobsText(k: { quant: string; contextLength: number; batchSize: number; threads?: number; pacingMs: number }): string {
  return `${k.quant} · ctx ${k.contextLength} · batch ${k.batchSize}${k.threads !== undefined ? ` · ${k.threads} thr` : ''} · pacing ${k.pacingMs} ms`;
}

function recent(records: readonly DemoRequestRecord[], wallNowMs: number, windowMs = 10_000) {
  const rs = records.filter((r) => r.endedAt >= wallNowMs - windowMs);
  const local = rs.filter((r) => r.route === 'local' && r.tokS !== undefined);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
  return {
    tokS: mean(local.map((r) => r.tokS!)),
    firstTokenMs: mean(rs.filter((r) => r.firstTokenMs !== undefined && r.route === 'local').map((r) => r.firstTokenMs!)),
    cloudFirstTokenMs: mean(rs.filter((r) => r.firstTokenMs !== undefined && r.route === 'cloud').map((r) => r.firstTokenMs!)),
  };
}

function counts(records: readonly DemoRequestRecord[]) {
  const c = { local: 0, cloud: 0, defer: 0, error: 0, private: 0 };
  for (const r of records) {
    if (r.route === 'local') c.local++;
    else if (r.route === 'cloud') c.cloud++;
    else if (r.route === 'defer') c.defer++;
    else if (r.error !== 'stopped') c.error++;
    if (r.private) c.private++;
  }
  return c;
}

export function renderFrame(s: ViewState, policy: Policy, width = 100, nowMs = Date.now()): string[] {
  const d = s.decision;
  const sig = s.signals;
  const c = counts(s.records);
  const r = recent(s.records, nowMs);
  const last = s.records[s.records.length - 1];
  const lines = [
    `edgegov demo · ${s.device} · ${s.scenario} ×${s.speed} · wall ${f(s.wallS, 0)}/${f(s.durationS, 0)} s · device ${clock(s.wallS * s.speed)} (simulated)`,
    `soc  ${withLimit(policy, 'soc_c', sig.soc_c)}`,
    `skin ${withLimit(policy, 'skin_c', sig.skin_c)}   battery ${f(sig.battery_c)}°C ${f(sig.battery_w, 2)} W ${f(sig.battery_pct, 0)}%`,
    d ? `decided  severity ${d.severity.padEnd(8)} tier ${d.tier.padEnd(5)} route ${d.offload.padEnd(5)}  ${knobsText(d)}` : 'decided  (waiting for the daemon)',
    s.engine ? `engine   applied tier ${s.engine.tier.padEnd(5)} ${knobsText(s.engine)}  (llama.cpp, real)` : 'engine   (loading)',
    `requests ${s.records.length}: local ${c.local} · cloud ${c.cloud} (${s.cloudLabel}) · deferred ${c.defer} · private ${c.private}${c.error ? ` · errors ${c.error}` : ''}`,
    `measured last 10 s: local ${f(r.tokS, 0)} tok/s, first token ${f(r.firstTokenMs, 0)} ms · cloud first token ${f(r.cloudFirstTokenMs, 0)} ms` +
      (last ? ` · last ${last.tag} ${last.route}${last.private ? ' (private)' : ''}` : ''),
    `why      ${d ? bindingReason(d) : '—'}`,
  ];
  return lines.map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l));
}

/** The reason that set the decision's severity (the first one at that severity), else the first. */
export function bindingReason(d: Decision): string {
  return (d.reasons.find((r) => r.severity === d.severity) ?? d.reasons[0])?.message ?? '';
}

/** One plain status line (piped output). */
export function statusLine(s: ViewState): string {
  const d = s.decision;
  const c = counts(s.records);
  const r = recent(s.records, Date.now());
  return `[${f(s.wallS, 1).padStart(5)}s] device ${clock(s.wallS * s.speed)} soc ${f(s.signals.soc_c)}°C skin ${f(s.signals.skin_c)}°C · ` +
    `${d?.severity ?? '—'} · tier ${d?.tier ?? '—'} · ${d?.offload ?? '—'} · engine ${s.engine?.tier ?? '—'} · ` +
    `requests ${s.records.length} (local ${c.local}, cloud ${c.cloud}, deferred ${c.defer}) · ${f(r.tokS, 0)} tok/s · first token ${f(r.firstTokenMs, 0)} ms`;
}

export function decisionLine(wallS: number, d: Decision): string {
  return `[${f(wallS, 1).padStart(5)}s] decision: severity ${d.severity}, tier ${d.tier}, route ${d.offload} (${knobsText(d)}) — ${bindingReason(d)}`;
}

export function engineLine(wallS: number, k: EngineKnobsView): string {
  return `[${f(wallS, 1).padStart(5)}s] engine: now at tier ${k.tier} (${knobsText(k)})`;
}
