/**
 * The edgegov daemon: sources → samples → governor → decisions → publishers (SPEC §2, §7),
 * as a start()/stop() lifecycle (the zigbee2mqtt Controller pattern, research 04 §1.4).
 *
 * - Samples are taken on a timer at the policy's period (or `--hz`) AND at once on every
 *   memory-pressure event, so pressure is handled event-driven rather than at the next tick.
 * - Signals the host lacks (no thermal zones, no battery) come from the built-in simulated
 *   device, driven in closed loop by our own decisions; every decision and status lists them.
 * - The governor state lives here and survives reloads: a reload swaps the policy the next
 *   step sees (one assignment, so atomically between samples) and keeps state.
 */
import os from 'node:os';
import { Subject, Subscription, merge, timer, BehaviorSubject, switchMap, type SchedulerLike } from 'rxjs';
import { faultConsequences, type StepResult } from '../core/governor.js';
import type { Decision, Reason } from '../core/decision.js';
import type { Sample } from '../core/signals.js';
import type { Policy } from '../policy/types.js';
import { UserError, EnvError } from '../util/errors.js';
import { IpcServer, type ReloadOutcome } from '../ipc/server.js';
import {
  PROTOCOL_VERSION, safeKnobsOf, type DaemonStatus, type DecisionEvent, type ReportRequest, type AdviseRequest,
} from '../ipc/protocol.js';
import { Metrics, serveMetrics, parseHostPort, type MetricsServer } from '../telemetry/metrics.js';
import { Journal } from '../telemetry/journal.js';
import type { Logger } from '../telemetry/logger.js';
import { advise, type EngineReport } from './advisor.js';
import { appliedFootprintMb, type AppliedKnobs } from './engine-footprint.js';
import { createNotifier, type Notifier } from './sd-notify.js';
import {
  defaultDeps, type DaemonDeps, type LiveSimulatedDeviceLike, type SensorSnapshot, type SensorSourceLike,
} from './deps.js';

export const VERSION = '0.1.0';

export interface DaemonConfig {
  policyPath: string;
  sysfsRoot: string;
  socketPath: string;
  /** Inherited listening fd (Android init); the socket path is then informational. */
  listenFd?: number;
  /** `host:port` for /metrics, or undefined to serve none. */
  metrics?: string;
  journal?: string;
  /** Journal every sample's decision, not only changes (for audits and the crash test). */
  journalEverySample?: boolean;
  journalMaxBytes?: number;
  /** Overrides the policy's sample period. */
  hz?: number;
  deviceId?: string;
  /** `auto`: simulate the signals the host lacks; `none`: never simulate. */
  simulate?: 'auto' | 'none';
  simDevice?: string;
  simSeed?: number;
  /**
   * `edgegov demo`: the simulated device runs this scenario (sim/scenarios/) with its physics
   * `simSpeed` times faster than wall time, loaded by the engine's reports (src/sim/engine-load.ts).
   */
  simScenario?: string;
  simSpeed?: number;
  maxClients?: number;
  /** Gids whose members may reload and report besides the daemon's own uid (SO_PEERCRED). */
  adminGids?: number[];
  /** A `report`ed tok/s is fed into samples for this long (ms). */
  reportFreshMs?: number;
}

export interface DaemonOptions {
  config: DaemonConfig;
  logger: Logger;
  deps?: Partial<DaemonDeps>;
  /** Monotonic clock, ms. */
  monoMs?: () => number;
  scheduler?: SchedulerLike;
  notifier?: Notifier;
  /** Called after every sample (the TTY live view). */
  onSample?: (d: Daemon) => void;
}

/** Signals never taken from the simulator: time, and the engine's own feedback. */
const NEVER_SIMULATED = new Set(['t_ms', 'tok_s', 'engine_mb', 'prefill_tok_s', 'req_ctx_tokens']);

export class Daemon {
  readonly config: DaemonConfig;
  readonly log: Logger;
  readonly deviceId: string;
  private readonly deps: DaemonDeps;
  private readonly monoMs: () => number;
  private readonly scheduler?: SchedulerLike;
  private readonly notifier: Notifier;

  policy!: Policy;
  private policy$?: BehaviorSubject<Policy>;
  /** Samples into B's pipeline; results come back synchronously in `onStep`. */
  private readonly samples$ = new Subject<Sample>();
  private sampleT0 = 0;
  private sampleSnap?: SensorSnapshot;
  private sensors?: SensorSourceLike;
  private absent = new Set<string>();
  private sim?: LiveSimulatedDeviceLike;
  private simulatedSignals: string[] = [];
  private simulatedSet = new Set<string>();
  private ipc?: IpcServer;
  metrics?: Metrics;
  private metricsServer?: MetricsServer;
  private journal?: Journal;
  private readonly root = new Subscription();
  private readonly pressure$ = new Subject<void>();
  private readonly period$ = new BehaviorSubject<number>(1000);
  private refreshTimer?: NodeJS.Timeout;
  private startMono = 0;
  private startedAt = new Date();
  private policyLoadedAt = new Date();
  private lastReloadOk = true;
  private lastReloadAt?: Date;
  private lastReloadErrors: string[] = [];
  private reloadChain: Promise<unknown> = Promise.resolve();

  lastSample?: Sample;
  lastSnapshot?: SensorSnapshot;
  decision?: Decision;
  private decisionEvent?: DecisionEvent;
  seq = 0;
  samples = 0;
  decisionChanges = 0;
  psiEvents = 0;
  private lastReport?: EngineReport;
  /**
   * The knobs an engine last reported as applied, and on which connection: fed to the core as
   * `engine_mb` while that connection lasts (its engine applies decisions at its own safe points,
   * so what it holds can lag what was decided; docs/core.md §4). Its footprint is cached per policy.
   */
  private engineApplied?: { connId: number; knobs: AppliedKnobs; policy?: Policy; mb?: number };
  private stopping?: Promise<void>;
  private started = false;

  constructor(private readonly opts: DaemonOptions) {
    this.config = { simulate: 'auto', reportFreshMs: 10_000, ...opts.config };
    this.log = opts.logger;
    this.deviceId = this.config.deviceId ?? os.hostname();
    this.deps = { ...defaultDeps, ...(opts.deps ?? {}) };
    this.monoMs = opts.monoMs ?? (() => performance.now());
    this.scheduler = opts.scheduler;
    this.notifier = opts.notifier ?? createNotifier(this.log);
  }

  get periodMs(): number {
    return this.config.hz ? 1000 / this.config.hz : this.policy.control.samplePeriodMs;
  }

  get simulated(): readonly string[] {
    return this.simulatedSignals;
  }

  get sensorsName(): string {
    return this.sensors?.binding ?? 'sensors';
  }

  get metricsAddress(): string | undefined {
    return this.metricsServer?.address;
  }

  get clientCount(): number {
    return this.ipc?.clientCount ?? 0;
  }

  /** Loads the policy, opens sources and publishers, takes the first sample, then runs. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const cfg = this.config;
    this.policy = await this.deps.loadPolicy(cfg.policyPath);
    this.policy$ = new BehaviorSubject<Policy>(this.policy);
    this.log.info({ policy: this.policy.name, file: this.policy.file }, 'policy loaded');

    try {
      const sensorLog = this.log.child({ component: 'sensors' });
      const opened = await this.deps.openSensors({ sysfsRoot: cfg.sysfsRoot, log: { warn: (m: string) => sensorLog.warn(m) } });
      this.sensors = opened.source;
      this.absent = opened.absent;
    } catch (err) {
      if (err instanceof UserError || err instanceof EnvError) throw err;
      throw new EnvError(`cannot open sensors under ${cfg.sysfsRoot}: ${(err as Error).message}`);
    }
    this.startMono = this.monoMs();
    const first = this.sensors.read();
    try {
      this.chooseSimulated(first);
    } catch (err) {
      await this.sensors.close();
      throw err;
    }
    this.root.add(this.samples$.pipe(this.deps.govern(this.policy$)).subscribe({
      next: (r) => this.onStep(r),
      error: (err) => this.log.error({ err: String((err as Error)?.stack ?? err) }, 'governor pipeline failed'),
    }));

    this.metrics = new Metrics(this.deviceId, {
      signals: () => (this.lastSample ?? {}) as Record<string, number | undefined>,
      simulated: () => this.simulatedSignals,
      decision: () => this.decision,
      clients: () => this.clientCount,
    });
    this.metrics.policyLoaded(this.policy.name, true);

    this.ipc = new IpcServer({
      socketPath: cfg.socketPath,
      listenFd: cfg.listenFd,
      maxClients: cfg.maxClients,
      adminGids: cfg.adminGids,
      log: this.log.child({ component: 'ipc' }),
      onError: (code) => this.metrics?.ipcErrors.inc({ code }),
      handlers: {
        hello: () => ({
          version: PROTOCOL_VERSION, server: `edgegov/${VERSION}`, deviceId: this.deviceId,
          policy: this.policy.name, ttlMs: this.policy.control.leaseTtlMs, safe: safeKnobsOf(this.policy),
        }),
        lease: () => ({ ttlMs: this.policy.control.leaseTtlMs, safe: safeKnobsOf(this.policy) }),
        currentDecision: () => this.decisionEvent,
        status: () => this.status(),
        advise: (req: AdviseRequest) => advise(req, this.decision, this.policy, this.lastReport, this.monoMs(), this.config.reportFreshMs!),
        report: (req: ReportRequest, connId: number) => this.onReport(req, connId),
        disconnected: (connId: number) => {
          // The engine's process is gone or no longer reporting: what it holds is unknown again.
          if (this.engineApplied?.connId === connId) this.engineApplied = undefined;
        },
        reload: () => this.reload(),
      },
    });
    try {
      // Refuses when another daemon answers on the socket — before we touch its journal.
      await this.ipc.listen();
    } catch (err) {
      await this.sensors.close();
      throw err;
    }
    if (cfg.journal) {
      this.journal = new Journal({ file: cfg.journal, maxBytes: cfg.journalMaxBytes });
    }
    // No connection is served before this continuation finishes, so every subscriber
    // gets a first decision at once.
    this.sampleOnce(first);

    if (cfg.metrics) {
      const hp = parseHostPort(cfg.metrics);
      if (!hp) throw new UserError(`--metrics: expected host:port, got '${cfg.metrics}'`);
      try {
        this.metricsServer = await serveMetrics(this.metrics, hp.host, hp.port, () => this.decision !== undefined);
      } catch (err) {
        await this.ipc.close();
        await this.sensors.close();
        this.journal?.close();
        throw new EnvError(`cannot serve metrics on ${cfg.metrics}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }

    this.period$.next(this.periodMs);
    const ticks$ = this.period$.pipe(switchMap((p) => timer(p, p, this.scheduler)));
    this.root.add(merge(ticks$, this.pressure$).subscribe({
      next: () => this.safeSample(),
      error: (err) => this.log.error({ err: String(err) }, 'sample loop failed'),
    }));
    const unPressure = this.sensors.onPressure(() => {
      this.psiEvents++;
      this.metrics?.psiEvents.inc();
      this.pressure$.next();
    });
    this.root.add(unPressure);
    this.armRefresh();

    this.log.info({
      socket: cfg.socketPath, metrics: this.metricsAddress, journal: cfg.journal, hz: 1000 / this.periodMs,
      sensors: this.sensorsName, simulated: this.simulatedSignals, simulatedDevice: this.sim?.device,
      device: this.deviceId,
    }, this.simulatedSignals.length
      ? `edgegov running; simulated signals (host lacks them): ${this.simulatedSignals.join(', ')}`
      : 'edgegov running; all signals from real sensors');
    await this.notifier.send('READY=1', `STATUS=governing with policy ${this.policy.name}`);
    this.notifier.startWatchdog();
  }

  /**
   * The simulated device covers the canonical signals the host has no sensor for (per
   * discovery: see host-coverage.ts). A real sensor that fails stays a fault the governor
   * sees. Zones are simulated only when the host has none at all.
   */
  private chooseSimulated(first: SensorSnapshot): void {
    if (this.config.simulate === 'none') return;
    let sim: LiveSimulatedDeviceLike;
    try {
      sim = this.deps.createSimDevice({
        device: this.config.simDevice, seed: this.config.simSeed, policy: this.policy,
        scenario: this.config.simScenario, speed: this.config.simSpeed,
      });
    } catch (err) {
      // A wrong --sim-device is the user's mistake: say so and stop.
      if (err instanceof UserError) throw new UserError(`${/scenario/.test(err.message) ? '--sim-scenario' : '--sim-device'}: ${err.message}`, err.details);
      this.log.warn({ err: String((err as Error)?.message ?? err) }, 'simulated device unavailable; missing signals stay missing');
      return;
    }
    const want = sim.signals.filter((s) => {
      if (NEVER_SIMULATED.has(s)) return false;
      if (s.startsWith('zone.')) return this.absent.has('zone.*');
      if (!this.absent.has(s)) return false;
      const v = first.signals[s];
      return v === undefined || !Number.isFinite(v);
    });
    if (want.length) {
      this.sim = sim;
      this.simulatedSignals = want;
      this.simulatedSet = new Set(want);
    }
  }

  private onReport(req: ReportRequest, connId = -1): { mismatch: string[] } {
    this.metrics?.engineReports.inc();
    // The demo's simulated device feels the engine's work through its reports.
    this.sim?.engineReport?.(req);
    // A knobs-only report (an engine saying what it just applied) carries no observation: the
    // last observed speed stays, with the tier it was observed at. Nor does a report of radio time.
    const workOnly = req.busyMs !== undefined || req.radioMs !== undefined;
    if (req.tokS !== undefined || req.firstTokenMs !== undefined || (!req.applied && !workOnly)) {
      this.lastReport = {
        atMs: this.monoMs(), tier: req.applied?.tier ?? this.decision?.tier, tokS: req.tokS, firstTokenMs: req.firstTokenMs,
        prefillTokS: req.prefillTokS ?? this.lastReport?.prefillTokS, contextTokens: req.contextTokens ?? this.lastReport?.contextTokens,
      };
    }
    if (req.applied && appliedFootprintMb(this.policy, req.applied) !== undefined) {
      this.engineApplied = { connId, knobs: req.applied };
    }
    const mismatch: string[] = [];
    const d = this.decision;
    if (d && req.applied) {
      for (const [k, v] of Object.entries(req.applied)) {
        const want = (d as unknown as Record<string, unknown>)[k];
        if (v !== undefined && want !== undefined && v !== want) mismatch.push(`${k}: applied ${String(v)}, decided ${String(want)}`);
      }
      if (mismatch.length) this.log.warn({ mismatch }, 'engine reports knobs other than the decision');
    }
    return { mismatch };
  }

  private safeSample(): void {
    try {
      this.sampleOnce();
    } catch (err) {
      // One bad sample must not end the daemon; the lease covers clients if this persists.
      this.log.error({ err: String((err as Error)?.stack ?? err) }, 'sample failed');
    }
  }

  /** One sample → one governor step → publish. Synchronous: reads are batched and non-blocking. */
  sampleOnce(pre?: SensorSnapshot): void {
    this.sampleT0 = performance.now();
    const snap = pre ?? this.sensors!.read();
    const t_ms = Math.max(0, this.monoMs() - this.startMono);
    // The snapshot's signals object is fresh per read and ours: extend it in place rather
    // than copy ~70 keys ten times a second (garbage is most of a 10 Hz daemon's CPU).
    const s = snap.signals;
    s.t_ms = t_ms;
    if (this.sim) {
      const simSample = this.sim.sampleAt(t_ms, this.decision);
      for (const k of this.simulatedSignals) s[k] = simSample[k];
    }
    const r = this.lastReport;
    if (r && this.monoMs() - r.atMs <= this.config.reportFreshMs!) {
      if (r.tokS !== undefined) s.tok_s = r.tokS;
      // What calibrates the speed model and sizes the context (docs/core.md §6).
      if (r.prefillTokS !== undefined) s.prefill_tok_s = r.prefillTokS;
      if (r.contextTokens !== undefined) s.req_ctx_tokens = r.contextTokens;
    }
    const e = this.engineApplied;
    if (e) {
      // Not expired like tok_s: the knobs stay applied until the engine says otherwise or goes.
      if (e.policy !== this.policy) { e.policy = this.policy; e.mb = appliedFootprintMb(this.policy, e.knobs); }
      if (e.mb !== undefined) s.engine_mb = e.mb;
    }
    this.sampleSnap = snap;
    this.lastSample = s as Sample;
    // B's pipeline maps synchronously: onStep runs before next() returns.
    this.samples$.next(this.lastSample);
  }

  private onStep(res: StepResult): void {
    let snap = this.sampleSnap!;
    // "No sensor" faults for signals the simulator covers are not faults of this daemon.
    if (this.simulatedSet.size && snap.faults.length) {
      snap = { ...snap, faults: snap.faults.filter((f) => !this.simulatedSet.has(f.signal)) };
    }
    const decision: Decision = { ...res.decision, ttlMs: this.policy.control.leaseTtlMs, simulated: this.simulatedSignals };
    this.lastSnapshot = snap;
    this.samples++;
    const changed = res.changed || this.decision === undefined;
    this.decision = decision;
    const m = this.metrics;
    if (m) {
      m.decisions.inc();
      m.observeFaults(snap.faults);
    }
    if (changed) {
      this.seq++;
      this.decisionChanges++;
      m?.decisionChanges.inc();
    }
    // Journal first, publish after: a decision a client has been told is always in the journal,
    // even when a kill -9 lands between the two writes (scripts/crashloop checks this).
    if (this.journal && (changed || this.config.journalEverySample)) {
      this.journal.append({ ts: new Date().toISOString(), seq: this.seq, n: this.samples, changed, decision, signals: snap.signals });
    }
    if (changed) {
      this.decisionEvent = { event: 'decision', seq: this.seq, changed: true, ttlMs: decision.ttlMs, decision };
      this.ipc?.publish(this.decisionEvent);
      this.log.info({ seq: this.seq, severity: decision.severity, tier: decision.tier, offload: decision.offload, reason: decision.reasons[0]?.message }, 'decision changed');
    } else if (this.decisionEvent) {
      // Same knobs: keep the event (a new subscriber gets it as `changed: true`, it is new to
      // them); refreshes send it with `changed: false`.
      this.decisionEvent = { ...this.decisionEvent, decision };
    }
    m?.latency.observe((performance.now() - this.sampleT0) / 1000);
    this.opts.onSample?.(this);
  }

  /** Re-sends the current decision well within its ttl, so a live daemon's lease never lapses. */
  private armRefresh(): void {
    clearInterval(this.refreshTimer);
    const every = Math.max(50, this.policy.control.leaseTtlMs / 3);
    this.refreshTimer = setInterval(() => {
      const ev = this.decisionEvent;
      if (ev) this.ipc?.publish({ ...ev, changed: false });
    }, every);
  }

  /** Re-reads the policy; applies it between two samples or keeps the last good one. */
  reload(): Promise<ReloadOutcome> {
    const run = async (): Promise<ReloadOutcome> => {
      const file = this.config.policyPath;
      await this.notifier.send('RELOADING=1');
      this.lastReloadAt = new Date();
      try {
        const next = await this.deps.loadPolicy(file);
        const oldPeriod = this.periodMs;
        // One assignment + one next(): the pipeline sees the new policy from the next sample on.
        this.policy = next;
        this.policy$?.next(next);
        this.policyLoadedAt = new Date();
        this.lastReloadOk = true;
        this.lastReloadErrors = [];
        this.metrics?.policyLoaded(next.name, true);
        if (this.periodMs !== oldPeriod) this.period$.next(this.periodMs);
        this.armRefresh();
        this.log.info({ policy: next.name, file }, 'policy reloaded');
        return { ok: true, policy: next.name, file };
      } catch (err) {
        this.lastReloadOk = false;
        this.metrics?.policyLoaded(this.policy.name, false);
        if (err instanceof UserError) {
          this.lastReloadErrors = [err.message, ...err.details];
          this.log.error({ file, errors: err.details }, `policy reload rejected, keeping '${this.policy.name}': ${err.message}`);
          for (const d of err.details) this.log.error(d);
          return { ok: false, code: 'policy_invalid', message: `${err.message}; keeping policy '${this.policy.name}'`, details: [...err.details] };
        }
        const message = (err as Error)?.message ?? String(err);
        this.lastReloadErrors = [message];
        this.log.error({ file, err: message }, `policy reload failed, keeping '${this.policy.name}'`);
        return { ok: false, code: 'policy_unreadable', message: `${message}; keeping policy '${this.policy.name}'`, details: [] };
      } finally {
        await this.notifier.send('READY=1');
      }
    };
    const p = this.reloadChain.then(run, run);
    this.reloadChain = p;
    return p;
  }

  status(): DaemonStatus {
    const signals: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.lastSample ?? {})) if (k !== 't_ms' && v !== undefined && Number.isFinite(v)) signals[k] = v;
    const j = this.journal;
    const r = this.lastReport;
    return {
      version: VERSION,
      protocol: PROTOCOL_VERSION,
      pid: process.pid,
      deviceId: this.deviceId,
      uptimeS: Math.round((Date.now() - this.startedAt.getTime()) / 100) / 10,
      hz: Math.round((1000 / this.periodMs) * 100) / 100,
      samples: this.samples,
      decisionChanges: this.decisionChanges,
      policy: {
        name: this.policy.name,
        file: this.policy.file,
        loadedAt: this.policyLoadedAt.toISOString(),
        lastReloadOk: this.lastReloadOk,
        lastReloadAt: this.lastReloadAt?.toISOString(),
        lastReloadErrors: this.lastReloadErrors,
      },
      sources: { sensors: this.sensorsName, psiEvents: this.psiEvents, simulatedDevice: this.sim?.device },
      simulated: this.simulatedSignals,
      signals,
      faults: this.lastSnapshot?.faults ?? [],
      faultConsequences: faultConsequences(this.policy),
      decision: this.decision,
      seq: this.seq,
      clients: this.ipc?.clientCount ?? 0,
      subscribers: this.ipc?.subscriberCount ?? 0,
      socket: this.config.socketPath,
      metrics: this.metricsAddress,
      journal: j && {
        file: j.file, lines: j.lines, syncedLines: j.syncedLines, lastSyncAt: j.lastSyncAt?.toISOString(),
        fsyncEveryLines: j.fsyncEveryLines, fsyncEveryMs: j.fsyncEveryMs,
      },
      lastReport: r && { atMsAgo: Math.round(this.monoMs() - r.atMs), tokS: r.tokS, firstTokenMs: r.firstTokenMs },
    };
  }

  /**
   * Idempotent graceful stop: STOPPING=1, publish the safe tier (the engine must not keep a
   * rich tier with nobody watching), close clients, stop sampling, sync the journal.
   */
  stop(reason = 'stop'): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      void this.notifier.send('STOPPING=1');
      this.notifier.stop();
      clearInterval(this.refreshTimer);
      this.root.unsubscribe();
      if (this.policy && this.ipc) {
        const safe = safeKnobsOf(this.policy);
        const reasons: Reason[] = [{ rule: 'safe-tier', message: `daemon stopping (${reason}): safe tier '${safe.tier}'` }];
        const d: Decision = {
          ...safe, t_ms: this.decision?.t_ms ?? 0, severity: this.decision?.severity ?? 'none',
          ttlMs: this.policy.control.leaseTtlMs, safe: true, reasons, simulated: this.simulatedSignals,
        };
        this.seq++;
        this.decision = d;
        this.decisionEvent = { event: 'decision', seq: this.seq, changed: true, ttlMs: d.ttlMs, decision: d };
        this.journal?.append({ ts: new Date().toISOString(), seq: this.seq, n: this.samples, changed: true, decision: d, signals: {} });
        this.ipc.publish(this.decisionEvent);
        await this.ipc.close({ event: 'shutdown', reason, safe });
      }
      await this.metricsServer?.close();
      try {
        await this.sensors?.close();
      } catch (err) {
        this.log.warn({ err: String(err) }, 'closing sensors failed');
      }
      this.journal?.close();
      this.log.info({ reason }, 'edgegov stopped');
    })();
    return this.stopping;
  }
}
