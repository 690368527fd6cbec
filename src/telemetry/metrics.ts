/**
 * Prometheus metrics for fleets (SPEC §7): a dedicated registry with a `device` default
 * label, base units in the names (seconds, bytes, celsius, watts, ratio), `_total` on
 * counters. Signal and knob gauges read the daemon's latest state in `collect()`, so they
 * cost nothing between scrapes — the sample loop only bumps counters and the histogram.
 */
import http from 'node:http';
import { METRICS_HTTP_LIMITS, answerClientError, httpServerOptions, type HttpLimits } from './http-limits.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision } from '../core/decision.js';
import { SEVERITIES, severityIndex } from '../core/severity.js';
export { parseHostPort } from './host-port.js';

export interface MetricsState {
  signals(): Record<string, number | undefined>;
  simulated(): readonly string[];
  decision(): Decision | undefined;
  clients(): number;
}

/** prom-client calls a metric's `collect` right before reading it at scrape time. */
function onCollect(g: Gauge<string>, fn: () => void): void {
  (g as unknown as { collect: () => void }).collect = fn;
}

interface SignalMetric { gauge: Gauge<string>; scale: number; labels: Record<string, string> }

export class Metrics {
  readonly registry = new Registry();
  readonly decisions: Counter<string>;
  readonly decisionChanges: Counter<string>;
  readonly sensorFaults: Counter<string>;
  readonly psiEvents: Counter<string>;
  readonly ipcErrors: Counter<string>;
  readonly engineReports: Counter<string>;
  readonly latency: Histogram<string>;
  readonly reloadOk: Gauge<string>;
  readonly reloadTimestamp: Gauge<string>;
  readonly policyInfo: Gauge<string>;
  private readonly activeFaults = new Set<string>();

  constructor(deviceId: string, private readonly state: MetricsState, opts: { processMetrics?: boolean } = {}) {
    const r = this.registry;
    r.setDefaultLabels({ device: deviceId });
    // Event-loop lag sampled every 250 ms, not prom-client's default 10 ms: 100 wake-ups a second
    // would cost a daemon that samples at 10 Hz more than its own work.
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: r, prefix: 'edgegov_', eventLoopMonitoringPrecision: 250 });

    const temp = new Gauge({ name: 'edgegov_temperature_celsius', help: 'Temperature signals and raw thermal zones (signal label: soc_c, skin_c, zone.<type>, …)', labelNames: ['signal'], registers: [r] });
    const batteryW = new Gauge({ name: 'edgegov_battery_power_watts', help: 'Battery power, positive = discharging', labelNames: ['signal'], registers: [r] });
    const charge = new Gauge({ name: 'edgegov_battery_charge_ratio', help: 'Battery state of charge, 0..1', labelNames: ['signal'], registers: [r] });
    const charging = new Gauge({ name: 'edgegov_battery_charging', help: '1 when external power is present and charging', labelNames: ['signal'], registers: [r] });
    const memAvail = new Gauge({ name: 'edgegov_memory_available_bytes', help: 'MemAvailable', labelNames: ['signal'], registers: [r] });
    const memTotal = new Gauge({ name: 'edgegov_memory_total_bytes', help: 'MemTotal', labelNames: ['signal'], registers: [r] });
    const psi = new Gauge({ name: 'edgegov_memory_pressure_ratio', help: 'Memory PSI avg10, 0..1', labelNames: ['signal', 'kind'], registers: [r] });
    const tokS = new Gauge({ name: 'edgegov_decode_tokens_per_second', help: 'Decode speed the inference engine last reported', labelNames: ['signal'], registers: [r] });
    const other = new Gauge({ name: 'edgegov_signal_value', help: 'Signals without a dedicated metric (virtual sensors), in the signal\'s own unit', labelNames: ['signal'], registers: [r] });
    const simulated = new Gauge({ name: 'edgegov_signal_simulated', help: '1 for signals taken from the built-in simulated device', labelNames: ['signal'], registers: [r] });

    const MiB = 1024 * 1024;
    const map = (name: string): SignalMetric | undefined => {
      switch (name) {
        // Every signal series carries `signal` so a missing reading is an absent series, never a 0.
        case 'battery_w': return { gauge: batteryW, scale: 1, labels: { signal: name } };
        case 'battery_pct': return { gauge: charge, scale: 0.01, labels: { signal: name } };
        case 'charging': return { gauge: charging, scale: 1, labels: { signal: name } };
        case 'mem_avail_mb': return { gauge: memAvail, scale: MiB, labels: { signal: name } };
        case 'mem_total_mb': return { gauge: memTotal, scale: MiB, labels: { signal: name } };
        case 'psi_mem_some_avg10': return { gauge: psi, scale: 0.01, labels: { signal: name, kind: 'some' } };
        case 'psi_mem_full_avg10': return { gauge: psi, scale: 0.01, labels: { signal: name, kind: 'full' } };
        case 'tok_s': return { gauge: tokS, scale: 1, labels: { signal: name } };
        case 't_ms': return undefined;
      }
      if (name.startsWith('zone.') || name.endsWith('_c')) return { gauge: temp, scale: 1, labels: { signal: name } };
      return { gauge: other, scale: 1, labels: { signal: name } };
    };
    const signalGauges = [temp, batteryW, charge, charging, memAvail, memTotal, psi, tokS, other];
    // One collect refreshes every signal gauge: prom-client calls each gauge's collect, so
    // hang the work on the first and let the rest be plain.
    onCollect(temp, () => {
      for (const g of signalGauges) g.reset();
      const s = this.state.signals();
      for (const [name, v] of Object.entries(s)) {
        if (v === undefined || !Number.isFinite(v)) continue;
        const m = map(name);
        if (m) m.gauge.set(m.labels, v * m.scale);
      }
      simulated.reset();
      for (const name of this.state.simulated()) simulated.set({ signal: name }, 1);
    });

    const sev = new Gauge({ name: 'edgegov_severity_level', help: `Severity index: ${SEVERITIES.map((s, i) => `${i}=${s}`).join(', ')}`, labelNames: ['tier'], registers: [r] });
    const tier = new Gauge({ name: 'edgegov_tier_index', help: 'Tier index, 0 = richest', labelNames: ['tier'], registers: [r] });
    const ctx = new Gauge({ name: 'edgegov_context_length_tokens', help: 'Context length knob', labelNames: ['tier'], registers: [r] });
    const batch = new Gauge({ name: 'edgegov_batch_size_tokens', help: 'Batch size knob', labelNames: ['tier'], registers: [r] });
    const threads = new Gauge({ name: 'edgegov_threads', help: 'Thread count knob (absent when the tier leaves it to the engine)', labelNames: ['tier'], registers: [r] });
    const pacing = new Gauge({ name: 'edgegov_decode_pacing_seconds', help: 'Pause between decoded tokens', labelNames: ['tier'], registers: [r] });
    const offload = new Gauge({ name: 'edgegov_offload_mode', help: '1 for the current offload mode', labelNames: ['mode'], registers: [r] });
    const safe = new Gauge({ name: 'edgegov_safe_tier', help: '1 while the decision is the safe tier because sensors failed', labelNames: ['tier'], registers: [r] });
    const info = new Gauge({ name: 'edgegov_decision_info', help: 'The current decision as labels (value 1)', labelNames: ['tier', 'quant', 'offload', 'severity'], registers: [r] });
    onCollect(sev, () => {
      const d = this.state.decision();
      for (const g of [tier, ctx, batch, threads, pacing, offload, safe, info]) g.reset();
      sev.reset();
      if (!d) return;
      // Labelled by tier: before the first decision these series are absent, not 0.
      const t = { tier: d.tier };
      sev.set(t, severityIndex(d.severity));
      tier.set(t, d.tierIndex);
      ctx.set(t, d.contextLength);
      batch.set(t, d.batchSize);
      if (d.threads !== undefined) threads.set(t, d.threads);
      pacing.set(t, d.pacingMs / 1000);
      for (const m of ['local', 'cloud', 'pause']) offload.set({ mode: m }, d.offload === m ? 1 : 0);
      safe.set(t, d.safe ? 1 : 0);
      info.set({ tier: d.tier, quant: d.quant, offload: d.offload, severity: d.severity }, 1);
    });

    const clients = new Gauge({ name: 'edgegov_ipc_clients', help: 'Connected protocol clients', registers: [r] });
    onCollect(clients, () => clients.set(this.state.clients()));

    this.decisions = new Counter({ name: 'edgegov_decisions_total', help: 'Samples evaluated by the governor', registers: [r] });
    this.decisionChanges = new Counter({ name: 'edgegov_decision_changes_total', help: 'Decisions whose knobs changed', registers: [r] });
    this.sensorFaults = new Counter({ name: 'edgegov_sensor_faults_total', help: 'Sensor fault onsets by signal and reason', labelNames: ['signal', 'reason'], registers: [r] });
    this.psiEvents = new Counter({ name: 'edgegov_psi_events_total', help: 'Memory-pressure (PSI trigger) events that forced an immediate sample', registers: [r] });
    this.ipcErrors = new Counter({ name: 'edgegov_ipc_errors_total', help: 'Protocol error replies by code', labelNames: ['code'], registers: [r] });
    this.engineReports = new Counter({ name: 'edgegov_engine_reports_total', help: '`report` messages received from inference engines', registers: [r] });
    this.latency = new Histogram({
      name: 'edgegov_sample_to_decision_seconds',
      help: 'From the start of a sensor read to the decision handed to publishers',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers: [r],
    });
    this.reloadOk = new Gauge({ name: 'edgegov_policy_last_reload_successful', help: '1 if the last policy (re)load succeeded, 0 if it was rejected', registers: [r] });
    this.reloadTimestamp = new Gauge({ name: 'edgegov_policy_last_reload_success_timestamp_seconds', help: 'Unix time of the last successful policy load', registers: [r] });
    this.policyInfo = new Gauge({ name: 'edgegov_policy_info', help: 'The policy in force (value 1)', labelNames: ['name'], registers: [r] });
  }

  /** Counts a fault when it starts, not on every sample it persists. */
  observeFaults(faults: readonly { signal: string; reason: string }[]): void {
    if (!faults.length && !this.activeFaults.size) return;
    const now = new Set<string>();
    for (const f of faults) {
      const key = `${f.signal}\u0000${f.reason}`;
      now.add(key);
      if (!this.activeFaults.has(key)) this.sensorFaults.inc({ signal: f.signal, reason: f.reason });
    }
    this.activeFaults.clear();
    for (const k of now) this.activeFaults.add(k);
  }

  policyLoaded(name: string, ok: boolean): void {
    this.reloadOk.set(ok ? 1 : 0);
    if (ok) {
      this.reloadTimestamp.set(Date.now() / 1000);
      this.policyInfo.reset();
      this.policyInfo.set({ name }, 1);
    }
  }
}

export interface MetricsServer {
  /** `host:port` actually bound (port 0 resolves to the ephemeral one). */
  address: string;
  close(): Promise<void>;
}

/** `/metrics`, `/healthz` (the loop turns) and `/readyz` (a decision exists). */
export async function serveMetrics(
  metrics: Metrics, host: string, port: number, ready: () => boolean, limits: HttpLimits = METRICS_HTTP_LIMITS,
): Promise<MetricsServer> {
  const server = http.createServer(httpServerOptions(limits), (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', connection: 'close' }).end();
      return;
    }
    // A scrape has no body: one that announces a body is not a scraper; don't read it.
    if ((req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined) {
      res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end('a GET to the metrics endpoint takes no body\n');
      return;
    }
    if (url === '/metrics') {
      metrics.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        (err) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
      );
    } else if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (url === '/readyz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'no decision yet\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz, /readyz\n');
    }
  });
  server.keepAliveTimeout = 5000;
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  const a = server.address();
  const bound = typeof a === 'object' && a ? (a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`) : `${host}:${port}`;
  return {
    address: bound,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
