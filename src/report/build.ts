/**
 * From recorded runs to the report's data: the charts (series already downsampled onto one
 * shared time grid), the limit lines from the policy, the decisions with their reasons and
 * the exact numbers for the tables. Pure; the page (page.ts) only draws what this returns.
 */
import { SEVERITIES } from '../core/severity.js';
import { unitOfSignal } from '../core/signals.js';
import type { Policy } from '../policy/types.js';
import { buildGrid, roundForDisplay } from './downsample.js';
import type { KnobColumn, ReportDecision, RunTimeline, SignalStats } from './recorder.js';

export interface ChartAxis {
  scale: string;
  label: string;
  /** Category names for integer scales (severity, tier, offload). */
  categories?: string[];
  side?: 'left' | 'right';
}

export interface ChartSeries {
  label: string;
  run: number;
  scale: string;
  values: (number | null)[];
  step: boolean;
  color: string;
  fill?: string;
  dash?: number[];
}

export interface LimitLine {
  scale: string;
  value: number;
  label: string;
  color: string;
}

export interface ChartSpec {
  id: string;
  title: string;
  height: number;
  axes: ChartAxis[];
  series: ChartSeries[];
  lines: LimitLine[];
}

export interface ScoreTable {
  columns: string[];
  rows: (string | number | null)[][];
}

export interface ReportRunData {
  label: string;
  samples: number;
  durationS: number;
  decisions: ReportDecision[];
  decisionsOmitted: number;
  summary?: Record<string, unknown>;
  stats: Record<string, SignalStats>;
  timeInTierS: Record<string, number>;
  timeInSeverityS: Record<string, number>;
  timeOffloadedS: number;
}

/** Charts over one shared time axis: one per report, or one per device × scenario in compare. */
export interface ReportSection {
  title: string;
  /** Indices into `runs` drawn (overlaid) in this section. */
  runs: number[];
  x: number[];
  downsampled: boolean;
  charts: ChartSpec[];
}

export interface ReportData {
  title: string;
  subtitle: string;
  kind: 'replay' | 'simulate' | 'compare';
  generatedAt: string;
  policy: { name: string; file: string; tiers: string[] };
  maxPoints: number;
  runs: ReportRunData[];
  sections: ReportSection[];
  severities: readonly string[];
  scoreTable?: ScoreTable;
  notes: string[];
}

export interface ReportInput {
  title: string;
  subtitle?: string;
  kind: ReportData['kind'];
  policy: Policy;
  runs: RunTimeline[];
  scoreTable?: ScoreTable;
  /** Runs drawn together (compare: one group per device × scenario); default all in one. */
  groups?: { title: string; runs: number[]; policy?: Policy }[];
  /** Which signals to plot (default all); compare keeps the few that tell controllers apart. */
  plotSignal?: (name: string) => boolean;
  /** Points per series at most (default 4000). */
  maxPoints?: number;
  /** Fixed timestamp for reproducible output (tests); default now. */
  generatedAt?: string;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
export const SEVERITY_COLORS: Record<string, string> = {
  none: '#2ca02c', light: '#9acd32', moderate: '#e6c300', severe: '#ff7f0e', critical: '#d62728', emergency: '#8b0000', shutdown: '#000000',
};
const MAX_ZONE_SERIES = 12;
/** Line patterns per overlaid run: solid, dashed, dotted, dash-dot. */
const DASHES: (number[] | undefined)[] = [undefined, [7, 4], [2, 3], [10, 3, 2, 3]];

/** Signals grouped into charts by what they measure. */
function groupOf(signal: string): 'temp' | 'memory' | 'psi' | 'battery_pct' | 'battery_w' | 'tok' | 'other' | 'skip' {
  if (signal === 'mem_total_mb' || signal === 'charging') return 'skip';
  if (signal === 'mem_avail_mb') return 'memory';
  if (signal.startsWith('psi_')) return 'psi';
  if (signal === 'battery_pct') return 'battery_pct';
  if (signal === 'battery_w') return 'battery_w';
  if (signal === 'tok_s') return 'tok';
  if (unitOfSignal(signal) === 'C' || /_c$/.test(signal)) return 'temp';
  return 'other';
}

export function buildReportData(input: ReportInput): ReportData {
  const maxPoints = input.maxPoints ?? 4000;
  const notes: string[] = [];
  const groups = input.groups ?? [{ title: '', runs: input.runs.map((_, i) => i) }];
  const sections: ReportSection[] = groups.map((g, k) => {
    const built = buildCharts(g.policy ?? input.policy, g.runs.map((i) => input.runs[i]), g.runs, maxPoints, notes, groups.length > 1 ? `s${k}-` : '', input.plotSignal);
    return { title: g.title, runs: g.runs, x: built.x, downsampled: built.downsampled, charts: built.charts };
  });
  if (sections.some((x) => x.downsampled)) notes.push(`Plots show at most ${maxPoints} points per series: each time bucket keeps its minimum and maximum. Tables use every sample.`);
  for (const r of input.runs) if (r.decisionsOmitted > 0) notes.push(`${r.label}: ${r.decisionsOmitted} decision changes after the first ${r.decisions.length} are not listed.`);
  return {
    title: input.title,
    subtitle: input.subtitle ?? '',
    kind: input.kind,
    generatedAt: input.generatedAt ?? new Date().toISOString(),
    policy: policyOf(groups.map((g) => g.policy ?? input.policy)),
    maxPoints,
    runs: input.runs.map((r) => ({
      label: r.label, samples: r.samples, durationS: r.durationS, decisions: r.decisions, decisionsOmitted: r.decisionsOmitted,
      summary: r.summary, stats: r.stats, timeInTierS: r.timeInTierS, timeInSeverityS: r.timeInSeverityS, timeOffloadedS: r.timeOffloadedS,
    })),
    sections,
    severities: SEVERITIES,
    scoreTable: input.scoreTable,
    notes: [...new Set(notes)],
  };
}

/**
 * The policy the header names. A compare across devices runs each on its own class policy:
 * naming only the first would misstate the others, so name them all; the tiers are the union.
 */
function policyOf(policies: Policy[]): ReportData['policy'] {
  const distinct = [...new Map(policies.map((p) => [`${p.name}\u0000${p.file}`, p])).values()];
  return {
    name: distinct.map((p) => p.name).join(', '),
    file: distinct.map((p) => p.file).join(', '),
    tiers: [...new Set(distinct.flatMap((p) => p.tiers.map((t) => t.name)))],
  };
}

/** The charts of one section; series carry global run indices (for the decision panel). */
function buildCharts(policy: Policy, runs: RunTimeline[], runIds: number[], maxPoints: number, notes: string[], idPrefix: string, plotSignal: (name: string) => boolean = () => true): { x: number[]; downsampled: boolean; charts: ChartSpec[] } {
  const input = { policy };
  const grid = buildGrid(runs, maxPoints);
  const multi = runs.length > 1;
  const color = (k: number) => PALETTE[k % PALETTE.length];
  const label = (run: RunTimeline, name: string) => (multi ? `${name} · ${run.label}` : name);

  // Which signals exist in any run, in a stable order.
  const signals: string[] = [];
  for (const r of runs) for (const k of r.signals.keys()) if (!signals.includes(k) && plotSignal(k)) signals.push(k);
  const zones = signals.filter((s) => s.startsWith('zone.'));
  const temps = signals.filter((s) => groupOf(s) === 'temp' && (!s.startsWith('zone.') || zones.length <= MAX_ZONE_SERIES));
  if (zones.length > MAX_ZONE_SERIES) notes.push(`${zones.length} raw zone.* signals are not plotted (more than ${MAX_ZONE_SERIES}); their maxima are in the statistics table.`);

  const charts: ChartSpec[] = [];
  const signalSeries = (names: string[], scale: string, offset = 0): ChartSeries[] => {
    const out: ChartSeries[] = [];
    let k = offset;
    for (const name of names) {
      runs.forEach((r, ri) => {
        const col = r.signals.get(name);
        if (!col) return;
        // Colour tells the signal, the dash pattern tells the run (compare).
        out.push({ label: label(r, name), run: runIds[ri], scale, values: grid.project(ri, col), step: false, color: color(k), dash: multi ? DASHES[ri % DASHES.length] : undefined });
      });
      k++;
    }
    return out;
  };
  const knobSeries = (col: KnobColumn, name: string, scale: string, map?: (v: number) => number): ChartSeries[] =>
    runs.map((r, ri) => {
      let data: ArrayLike<number> = r.knobs[col];
      if (map) data = Float32Array.from(r.knobs[col], map);
      return { label: multi ? `${name} · ${r.label}` : name, run: runIds[ri], scale, values: grid.project(ri, data), step: true, color: color(ri), dash: multi ? DASHES[ri % DASHES.length] : undefined };
    });

  if (temps.length > 0) {
    const lines: LimitLine[] = [];
    for (const l of input.policy.limits) {
      // A simulation's true temperatures (`true_soc_c`) answer to the sensed signal's limits.
      if (!(temps.includes(l.signal) || temps.includes(`true_${l.signal}`)) || l.direction !== 'rising') continue;
      for (const lv of l.levels) lines.push({ scale: 'C', value: lv.setAt, label: `${l.signal} ${lv.severity} ${roundForDisplay(lv.setAt)} °C`, color: SEVERITY_COLORS[lv.severity] });
    }
    charts.push({ id: 'temperatures', title: 'Temperatures (°C) and limits', height: 260, axes: [{ scale: 'C', label: '°C' }], series: signalSeries(temps, 'C'), lines });
  }
  charts.push({
    id: 'severity', title: 'Severity', height: 180,
    axes: [{ scale: 'severity', label: 'severity', categories: [...SEVERITIES] }],
    series: knobSeries('severityIndex', 'severity', 'severity').map((s, i) => (runs.length === 1 ? { ...s, color: '#d62728', fill: 'rgba(214,39,40,0.15)' } : { ...s, color: color(i) })),
    lines: [],
  });
  const tierNames = input.policy.tiers.map((t) => t.name);
  // Drawn with the richest tier on top: down = leaner.
  const topDown = tierNames.length - 1;
  charts.push({
    id: 'tier', title: 'Tier (richest on top)', height: 160,
    axes: [{ scale: 'tier', label: 'tier', categories: [...tierNames].reverse() }],
    series: knobSeries('tierIndex', 'tier', 'tier', (v) => (Number.isFinite(v) ? topDown - v : v)),
    lines: [],
  });
  charts.push({ id: 'offload', title: 'Offload', height: 120, axes: [{ scale: 'offload', label: 'offload', categories: ['local', 'cloud', 'pause'] }], series: knobSeries('offloadCode', 'offload', 'offload'), lines: [] });
  charts.push({ id: 'context', title: 'Context length (tokens)', height: 130, axes: [{ scale: 'tokens', label: 'tokens' }], series: knobSeries('contextLength', 'contextLength', 'tokens'), lines: [] });
  charts.push({ id: 'batch', title: 'Batch size (tokens)', height: 130, axes: [{ scale: 'tokens', label: 'tokens' }], series: knobSeries('batchSize', 'batchSize', 'tokens'), lines: [] });
  if (runs.some((r) => Array.prototype.some.call(r.knobs.threads, (v: number) => Number.isFinite(v)))) {
    charts.push({ id: 'threads', title: 'Threads', height: 120, axes: [{ scale: 'threads', label: 'threads' }], series: knobSeries('threads', 'threads', 'threads'), lines: [] });
  }
  charts.push({ id: 'pacing', title: 'Decode pacing (ms between tokens)', height: 120, axes: [{ scale: 'ms', label: 'ms' }], series: knobSeries('pacingMs', 'pacingMs', 'ms'), lines: [] });

  const has = (g: ReturnType<typeof groupOf>) => signals.filter((s) => groupOf(s) === g);
  const limitLines = (names: string[], scale: string, unit: string): LimitLine[] =>
    input.policy.limits.filter((l) => names.includes(l.signal)).flatMap((l) => l.levels.map((lv) => ({ scale, value: lv.setAt, label: `${l.signal} ${lv.severity} ${roundForDisplay(lv.setAt)} ${unit}`, color: SEVERITY_COLORS[lv.severity] })));
  const mem = has('memory');
  const psi = has('psi');
  if (mem.length + psi.length > 0) {
    const axes: ChartAxis[] = [];
    if (mem.length) axes.push({ scale: 'MiB', label: 'MemAvailable, MiB' });
    if (psi.length) axes.push({ scale: '%', label: 'PSI, %', side: mem.length ? 'right' : 'left' });
    charts.push({ id: 'memory', title: 'Memory and pressure', height: 180, axes, series: [...signalSeries(mem, 'MiB'), ...signalSeries(psi, '%', mem.length)], lines: [...limitLines(mem, 'MiB', 'MiB'), ...limitLines(psi, '%', '%')] });
  }
  const pct = has('battery_pct');
  const watts = has('battery_w');
  if (pct.length + watts.length > 0) {
    const axes: ChartAxis[] = [];
    if (pct.length) axes.push({ scale: '%', label: 'charge, %' });
    if (watts.length) axes.push({ scale: 'W', label: 'power, W (+ = discharging)', side: pct.length ? 'right' : 'left' });
    charts.push({ id: 'battery', title: 'Battery', height: 180, axes, series: [...signalSeries(pct, '%'), ...signalSeries(watts, 'W', pct.length)], lines: limitLines(watts, 'W', 'W') });
  }
  const tok = has('tok');
  if (tok.length) charts.push({ id: 'tok', title: 'Decode speed (tok/s)', height: 150, axes: [{ scale: 'tok/s', label: 'tok/s' }], series: signalSeries(tok, 'tok/s'), lines: [] });
  const other = has('other');
  for (const name of other) {
    charts.push({ id: `signal-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`, title: name, height: 120, axes: [{ scale: 'v', label: unitOfSignal(name) ?? '' }], series: signalSeries([name], 'v'), lines: [] });
  }

  for (const c of charts) c.id = idPrefix + c.id;
  return { x: grid.x, downsampled: !grid.raw, charts };
}
