/**
 * The terminal dashboard of `edgegov status --watch`: a pure function from the daemon's
 * status (and a short history of it) to lines of text. Where the severity and the tier sit
 * on their ladders, how close each temperature is to its next limit, the last minute of
 * each signal as a sparkline, and why the governor chose what it chose.
 *
 * Pure so it is tested without a daemon or a terminal; `status --watch` redraws it in
 * place. Missing readings show as `—`, never as 0.
 */
import type { Decision } from '../core/decision.js';
import { SEVERITIES } from '../core/severity.js';
import type { Policy } from '../policy/types.js';

/** The parts of the daemon status the dashboard reads (src/ipc/protocol.ts DaemonStatus). */
export interface DashboardStatus {
  version: string;
  deviceId: string;
  uptimeS: number;
  hz: number;
  samples: number;
  decisionChanges: number;
  policy: { name: string; file: string; lastReloadOk: boolean; lastReloadErrors: string[] };
  simulated: string[];
  signals: Record<string, number>;
  faults: { signal: string; reason: string }[];
  decision?: Decision;
  lastReport?: { atMsAgo: number; tokS?: number };
}

export interface DashboardOptions {
  /** Terminal columns; every line is cut to fit. */
  width?: number;
  /** ANSI colours (a TTY); otherwise emphasis is [BRACKETS]. */
  color?: boolean;
  /** The daemon's policy when readable: limits for gauges, the tier ladder. */
  policy?: Policy;
}

const SPARK = '▁▂▃▄▅▆▇█';
const ESC = '\x1b[';
const SEV_ANSI: Record<string, string> = { none: '32', light: '92', moderate: '33', severe: '38;5;208', critical: '31', emergency: '1;31', shutdown: '1;37;41' };

/** Last values of each signal, newest last; fed once per redraw. */
export class DashboardHistory {
  private readonly series = new Map<string, number[]>();
  constructor(readonly length = 60) {}
  push(signals: Record<string, number | undefined>): void {
    const keys = new Set([...this.series.keys(), ...Object.keys(signals)]);
    for (const k of keys) {
      const arr = this.series.get(k) ?? [];
      const v = signals[k];
      arr.push(v === undefined || !Number.isFinite(v) ? Number.NaN : v);
      if (arr.length > this.length) arr.shift();
      this.series.set(k, arr);
    }
  }
  get(signal: string): readonly number[] {
    return this.series.get(signal) ?? [];
  }
}

/** A sparkline of the finite values; gaps (no reading) are spaces. */
export function sparkline(values: readonly number[], width: number): string {
  const v = values.slice(-width);
  const finite = v.filter((x) => Number.isFinite(x));
  if (finite.length === 0) return ' '.repeat(v.length);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return v.map((x) => (Number.isFinite(x) ? SPARK[hi > lo ? Math.min(7, Math.floor(((x - lo) / (hi - lo)) * 8)) : 3] : ' ')).join('');
}

function fmt(v: number | undefined, digits = 1): string {
  return v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
}

function duration(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s` : `${Math.floor(s)}s`;
}

/** Visible length (without ANSI escapes). */
function visible(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** Cuts a line to `width` visible columns, keeping escapes intact. */
function cut(s: string, width: number): string {
  if (visible(s) <= width) return s;
  let out = '';
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\x1b') {
      const end = s.indexOf('m', i);
      out += s.slice(i, end + 1);
      i = end;
      continue;
    }
    if (n >= width - 1) break;
    out += s[i];
    n++;
  }
  return out + '…' + (s.includes('\x1b') ? `${ESC}0m` : '');
}

export function renderDashboard(status: DashboardStatus, history: DashboardHistory, options: DashboardOptions = {}): string[] {
  const width = Math.max(40, options.width ?? 100);
  const color = options.color === true;
  const paint = (code: string, text: string) => (color ? `${ESC}${code}m${text}${ESC}0m` : text);
  const mark = (on: boolean, text: string, code = '1;7') => (on ? (color ? paint(code, ` ${text} `) : `[${text.toUpperCase()}]`) : paint('2', text));
  const lines: string[] = [];
  const d = status.decision;
  const sim = new Set(status.simulated);

  lines.push(`${paint('1', 'edgegov')} ${status.version} · ${status.deviceId} · up ${duration(status.uptimeS)} · ${status.hz} Hz · ${status.samples} samples · ${status.decisionChanges} changes · policy ${status.policy.name}`);
  if (!status.policy.lastReloadOk) lines.push(paint('31', `last reload REJECTED: ${status.policy.lastReloadErrors[0] ?? ''} (the previous policy is still in force)`));

  // Ladders: where the decision sits.
  const sevIdx = d ? SEVERITIES.indexOf(d.severity) : -1;
  lines.push(`severity  ${SEVERITIES.map((s, i) => mark(i === sevIdx, s, SEV_ANSI[s])).join(' ')}`);
  const tiers = options.policy?.tiers.map((t) => t.name) ?? (d ? [d.tier] : []);
  if (d) {
    const knobs = `${d.quant} · ctx ${d.contextLength} · batch ${d.batchSize}${d.threads !== undefined ? ` · ${d.threads} thr` : ''}${d.pacingMs ? ` · pacing ${d.pacingMs} ms` : ''}`;
    lines.push(`tier      ${tiers.map((t) => mark(t === d.tier, t)).join(' ')}   ${knobs}`);
    lines.push(`offload   ${(['local', 'cloud', 'pause'] as const).map((o) => mark(o === d.offload, o)).join(' ')}${d.safe ? '   ' + paint('1;31', 'SAFE TIER (sensor failure)') : ''}`);
    const reasons = d.reasons.length ? d.reasons : [{ rule: '—', message: 'no reasons given' }];
    reasons.slice(0, 4).forEach((r, i) => lines.push(`${i === 0 ? 'why' : '   '}       ${paint('2', r.rule.padEnd(12))} ${r.message}`));
    if (reasons.length > 4) lines.push(`          … ${reasons.length - 4} more`);
  } else {
    lines.push('decision  none yet');
  }
  lines.push('');

  // Gauges: value against the next limit level above it, with the last minute as a sparkline.
  const sparkWidth = Math.min(history.length, 30, Math.max(10, width - 80));
  const signalNames = Object.keys(status.signals).filter((k) => !k.startsWith('zone.'));
  const ordered = ['soc_c', 'skin_c', 'battery_c', 'ambient_c', 'battery_pct', 'battery_w', 'mem_avail_mb', 'psi_mem_some_avg10', 'psi_mem_full_avg10', 'tok_s'];
  // A faulty sensor keeps its row (showing — and the fault), as does every limited one.
  const faulty = status.faults.map((f) => f.signal);
  const present = (s: string) => signalNames.includes(s) || faulty.includes(s) || options.policy?.limits.some((l) => l.signal === s);
  const shown = [...ordered.filter(present), ...[...signalNames, ...faulty].filter((s, i, all) => all.indexOf(s) === i && !ordered.includes(s) && s !== 'charging' && s !== 'mem_total_mb' && !s.startsWith('zone.'))];
  for (const name of shown) {
    const v = status.signals[name];
    const unit = name.endsWith('_c') ? '°C' : name === 'battery_pct' ? '%' : name === 'battery_w' ? 'W' : name.endsWith('_mb') ? 'MiB' : name.startsWith('psi') ? '%' : name === 'tok_s' ? 'tok/s' : '';
    const digits = name.endsWith('_mb') ? 0 : 1;
    const value = `${fmt(v, digits)} ${unit}`.padStart(11);
    const limit = options.policy?.limits.find((l) => l.signal === name);
    let gauge = '';
    if (limit && v !== undefined && Number.isFinite(v) && limit.levels.length) {
      const rising = limit.direction === 'rising';
      const next = rising ? limit.levels.find((l) => v < l.setAt) : limit.levels.find((l) => v > l.setAt);
      const worst = limit.levels[limit.levels.length - 1];
      const first = limit.levels[0];
      // Scale: from a quarter below the first level to the worst level.
      const span = Math.abs(worst.setAt - first.setAt) || Math.abs(first.setAt) || 1;
      const lo = rising ? first.setAt - span * 0.5 : first.setAt + span * 0.5;
      const frac = Math.max(0, Math.min(1, (rising ? v - lo : lo - v) / Math.abs(worst.setAt - lo)));
      const barW = 16;
      const filled = Math.round(frac * barW);
      const sevHere = [...limit.levels].reverse().find((l) => (rising ? v >= l.setAt : v <= l.setAt));
      const bar = paint(sevHere ? SEV_ANSI[sevHere.severity] : '32', '█'.repeat(filled)) + paint('2', '░'.repeat(barW - filled));
      const nextText = next ? `${next.severity} at ${fmt(next.setAt, digits)} (${fmt(Math.abs(next.setAt - v), digits)} away)` : paint('1;31', `past ${worst.severity} ${fmt(worst.setAt, digits)}`);
      gauge = `▕${bar}▏ ${nextText}`;
    }
    const spark = sparkline(history.get(name), sparkWidth);
    const fault = status.faults.find((f) => f.signal === name);
    const tag = `${sim.has(name) ? '*' : ' '}${fault ? paint('31', ` FAULT: ${fault.reason}`) : ''}`;
    lines.push(`${name.padEnd(19)}${value}${tag}  ${spark.padEnd(sparkWidth)}  ${gauge}`);
  }
  const zones = Object.keys(status.signals).filter((k) => k.startsWith('zone.'));
  if (zones.length) {
    const hottest = zones.reduce((a, b) => (status.signals[b] > status.signals[a] ? b : a));
    lines.push(`${zones.length} thermal zones; hottest ${hottest.slice(5)} ${fmt(status.signals[hottest])} °C`);
  }
  const otherFaults = status.faults.filter((f) => !shown.includes(f.signal));
  if (otherFaults.length) lines.push(paint('31', `faults: ${otherFaults.map((f) => `${f.signal}: ${f.reason}`).join('; ')}`));
  if (status.simulated.length) lines.push(paint('2', `* simulated: ${status.simulated.join(', ')}`));
  if (status.lastReport) lines.push(paint('2', `engine reported ${status.lastReport.tokS !== undefined ? `${fmt(status.lastReport.tokS)} tok/s ` : ''}${(status.lastReport.atMsAgo / 1000).toFixed(1)} s ago`));
  return lines.map((l) => cut(l, width));
}
