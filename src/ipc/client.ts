/**
 * The edgegov client SDK (`import { EdgegovClient } from 'edgegov/client'`).
 *
 * It keeps a connection to the daemon (reconnecting with backoff), follows its decisions,
 * and enforces the LEASE on its own: if no fresh decision arrives within the decision's
 * `ttlMs` — the daemon died, hung, or the socket broke — it switches its user to the
 * policy's safe tier (whose knobs the daemon sent in `hello`) and says so. A dead daemon
 * therefore never leaves the model running at a rich tier.
 */
import net from 'node:net';
import { EventEmitter } from 'node:events';
import type { Decision } from '../core/decision.js';
import { LineSplitter } from './line-splitter.js';
import { defaultSocketPath } from './socket-path.js';
import {
  PROTOCOL_VERSION,
  type AdviseReply, type AdviseRequest, type DaemonStatus, type DecisionEvent, type ErrorBody, type ErrorCode,
  type HelloReply, type ReloadReply, type ReportReply, type ReportRequest, type SafeKnobs, type ShutdownEvent,
} from './protocol.js';

export type {
  Advice, AdviseReply, AdviseRequest, DaemonStatus, DecisionEvent, ErrorCode, HelloReply, ReloadReply,
  ReportReply, ReportRequest, Route, SafeKnobs,
} from './protocol.js';
export type { Decision } from '../core/decision.js';
export { defaultSocketPath } from './socket-path.js';

/** Why the client is following the decision it emitted. */
export type DecisionSource = 'daemon' | 'lease-expired' | 'shutdown';

export interface EdgegovClientEvents {
  /** Connected and handshaken. */
  connected: [hello: HelloReply];
  /** The connection dropped (the client reconnects on its own unless closed). */
  disconnected: [reason: string];
  /** The knobs to run with now: from the daemon, or the safe tier when the lease ran out. */
  decision: [decision: Decision, source: DecisionSource];
  /** No fresh decision within ttlMs: the client switched to the safe tier. */
  'lease-expired': [safe: Decision];
  /** Non-fatal problems (a bad line from the daemon, a failed reconnect). */
  warning: [message: string];
}

export interface EdgegovClientOptions {
  /** Default: `defaultSocketPath()` ($EDGEGOV_SOCKET, $XDG_RUNTIME_DIR/edgegov.sock, /tmp/edgegov-<uid>.sock). */
  socketPath?: string;
  /** Subscribe to decisions after connecting (default true). */
  subscribe?: boolean;
  /** Reconnect after a drop, with exponential backoff (default true). */
  reconnect?: boolean;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Per-request timeout (default 5000 ms). */
  requestTimeoutMs?: number;
  /** Safe knobs to use if the daemon was never reached (otherwise learnt from `hello`). */
  fallback?: SafeKnobs;
  /** Name sent in `hello`, shown in the daemon's logs. */
  clientName?: string;
  /** Where the client says what it did on its own (lease expiry). Default: a line on stderr. `false` = silent. */
  log?: ((line: string) => void) | false;
}

/** An error reply from the daemon. */
export class EdgegovProtocolError extends Error {
  constructor(readonly code: ErrorCode | 'disconnected' | 'timeout', message: string, readonly details: string[] = []) {
    super(message);
    this.name = 'EdgegovProtocolError';
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Builds the decision a client runs with when it has lost its lease. */
export function safeDecision(safe: SafeKnobs, last: Decision | undefined, message: string): Decision {
  return {
    t_ms: last?.t_ms ?? 0,
    severity: last?.severity ?? 'none',
    tier: safe.tier,
    tierIndex: safe.tierIndex,
    quant: safe.quant,
    contextLength: safe.contextLength,
    batchSize: safe.batchSize,
    threads: safe.threads,
    pacingMs: safe.pacingMs,
    offload: safe.offload,
    ttlMs: 0,
    safe: true,
    reasons: [{ rule: 'lease', message }],
  };
}

export class EdgegovClient extends EventEmitter<EdgegovClientEvents> {
  readonly socketPath: string;
  private readonly opts: Required<Omit<EdgegovClientOptions, 'fallback' | 'socketPath' | 'log'>> & { log: ((l: string) => void) | false };
  private socket?: net.Socket;
  private splitter = new LineSplitter(16 * 1024 * 1024);
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private connectedFlag = false;
  private backoffMs: number;
  private reconnectTimer?: NodeJS.Timeout;
  private leaseTimer?: NodeJS.Timeout;
  private safeKnobs?: SafeKnobs;
  private hello?: HelloReply;
  private current?: Decision;
  private lastFromDaemon?: Decision;
  private expired = false;
  private lastSeq = -1;
  private firstConnect?: { resolve: () => void; reject: (e: Error) => void };

  constructor(options: EdgegovClientOptions = {}) {
    super();
    this.socketPath = options.socketPath ?? defaultSocketPath();
    this.opts = {
      subscribe: options.subscribe ?? true,
      reconnect: options.reconnect ?? true,
      backoffInitialMs: options.backoffInitialMs ?? 100,
      backoffMaxMs: options.backoffMaxMs ?? 5000,
      requestTimeoutMs: options.requestTimeoutMs ?? 5000,
      clientName: options.clientName ?? `pid-${process.pid}`,
      log: options.log === undefined ? (l: string) => process.stderr.write(`edgegov-client: ${l}\n`) : options.log,
    };
    this.safeKnobs = options.fallback;
    this.backoffMs = this.opts.backoffInitialMs;
  }

  /** True while connected and handshaken. */
  get connected(): boolean {
    return this.connectedFlag;
  }

  /** The knobs to run with now (the daemon's, or the safe tier after a lease expiry). */
  get decision(): Decision | undefined {
    return this.current;
  }

  /** True when the lease ran out and the client is on the safe tier on its own. */
  get leaseExpired(): boolean {
    return this.expired;
  }

  /** The daemon's last `hello` reply (version, device id, policy name), once connected. */
  get server(): HelloReply | undefined {
    return this.hello;
  }

  /** The safe tier's knobs, as the daemon last told us (or the `fallback` option). */
  get safe(): SafeKnobs | undefined {
    return this.safeKnobs;
  }

  /**
   * Connects and handshakes. Resolves on the first successful `hello`; rejects after
   * `timeoutMs` (default 5000) — or on the first failure when `reconnect` is off. With
   * reconnect on, the client keeps trying in the background after a rejection.
   */
  connect(opts: { timeoutMs?: number } = {}): Promise<void> {
    this.closed = false;
    if (this.connectedFlag) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.firstConnect = undefined;
        reject(new EdgegovProtocolError('timeout', `no edgegov daemon answered on ${this.socketPath} within ${opts.timeoutMs ?? 5000} ms`));
      }, opts.timeoutMs ?? 5000);
      this.firstConnect = {
        resolve: () => { clearTimeout(timer); this.firstConnect = undefined; resolve(); },
        reject: (e) => { clearTimeout(timer); this.firstConnect = undefined; reject(e); },
      };
    });
    if (!this.socket) this.open();
    return p;
  }

  /** Disconnects for good: no reconnect, no lease timer. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.leaseTimer);
    this.socket?.destroy();
    this.socket = undefined;
    this.rejectAll('client closed');
  }

  private open(): void {
    const s = net.connect(this.socketPath);
    this.socket = s;
    this.splitter = new LineSplitter(16 * 1024 * 1024);
    s.on('connect', () => {
      this.request<HelloReply>({ op: 'hello', version: PROTOCOL_VERSION, client: this.opts.clientName })
        .then(async (h) => {
          this.hello = h;
          this.safeKnobs = h.safe;
          // A restarted daemon counts seq from 1 again: its first decision is always new to us.
          this.lastSeq = -1;
          this.connectedFlag = true;
          this.backoffMs = this.opts.backoffInitialMs;
          if (this.opts.subscribe) await this.request({ op: 'subscribe' });
          this.emit('connected', h);
          this.firstConnect?.resolve();
        })
        .catch((err: Error) => {
          this.emit('warning', `handshake failed: ${err.message}`);
          if (err instanceof EdgegovProtocolError && err.code === 'unsupported_version') {
            this.firstConnect?.reject(err);
          }
          s.destroy();
        });
    });
    s.on('data', (chunk: Buffer) => {
      const { lines, overflow } = this.splitter.push(chunk);
      for (const l of lines) this.onLine(l);
      if (overflow) {
        this.emit('warning', 'daemon sent an over-long line; reconnecting');
        s.destroy();
      }
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.connectedFlag && !this.opts.reconnect) {
        this.firstConnect?.reject(new EdgegovProtocolError('disconnected', `cannot connect to ${this.socketPath}: ${err.code ?? err.message}`));
      }
    });
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      const was = this.connectedFlag;
      this.connectedFlag = false;
      this.rejectAll('disconnected from the daemon');
      if (was) this.emit('disconnected', 'connection closed');
      if (!this.closed && this.opts.reconnect) {
        const jitter = 0.8 + Math.random() * 0.4;
        this.reconnectTimer = setTimeout(() => this.open(), this.backoffMs * jitter);
        this.backoffMs = Math.min(this.opts.backoffMaxMs, this.backoffMs * 2);
      }
    });
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.emit('warning', 'daemon sent a line that is not JSON');
      return;
    }
    if (msg.event === 'decision') return this.onDecision(msg as unknown as DecisionEvent);
    if (msg.event === 'shutdown') return this.onShutdown(msg as unknown as ShutdownEvent);
    const id = msg.id;
    if (typeof id === 'number' && this.pending.has(id)) {
      const p = this.pending.get(id)!;
      this.pending.delete(id);
      clearTimeout(p.timer);
      if (msg.ok === true) p.resolve(msg);
      else {
        const e = (msg.error ?? {}) as ErrorBody;
        p.reject(new EdgegovProtocolError(e.code ?? 'internal', e.message ?? 'error', e.details ?? []));
      }
      return;
    }
    if (msg.ok === false) {
      const e = (msg.error ?? {}) as ErrorBody;
      this.emit('warning', `daemon: ${e.code}: ${e.message}`);
    }
  }

  private onDecision(ev: DecisionEvent): void {
    const d = ev.decision;
    this.lastFromDaemon = d;
    this.armLease(ev.ttlMs);
    const wasExpired = this.expired;
    this.expired = false;
    const isNew = ev.seq !== this.lastSeq || wasExpired || this.current === undefined;
    this.lastSeq = ev.seq;
    this.current = d;
    if (isNew) this.emit('decision', d, 'daemon');
  }

  private onShutdown(ev: ShutdownEvent): void {
    this.safeKnobs = ev.safe;
    clearTimeout(this.leaseTimer);
    const d = safeDecision(ev.safe, this.lastFromDaemon, `the daemon is stopping (${ev.reason}); running the safe tier '${ev.safe.tier}'`);
    this.current = d;
    this.expired = true;
    this.log(`daemon stopping (${ev.reason}); switched to the safe tier '${ev.safe.tier}'`);
    this.emit('decision', d, 'shutdown');
  }

  private armLease(ttlMs: number): void {
    clearTimeout(this.leaseTimer);
    if (!(ttlMs > 0)) return;
    this.leaseTimer = setTimeout(() => this.expireLease(ttlMs), ttlMs);
    // The lease must not keep a process alive on its own.
    this.leaseTimer.unref();
  }

  private expireLease(ttlMs: number): void {
    if (this.expired) return;
    const safe = this.safeKnobs;
    this.expired = true;
    if (!safe) {
      this.log(`lease expired after ${ttlMs} ms but the safe tier is unknown (never reached the daemon and no fallback given)`);
      return;
    }
    const d = safeDecision(safe, this.lastFromDaemon, `no decision from the daemon within the ${ttlMs} ms lease; running the safe tier '${safe.tier}'`);
    this.current = d;
    this.log(`lease expired (no decision within ${ttlMs} ms); switched to the safe tier '${safe.tier}'`);
    this.emit('lease-expired', d);
    this.emit('decision', d, 'lease-expired');
  }

  private log(line: string): void {
    if (this.opts.log) this.opts.log(line);
  }

  private rejectAll(why: string): void {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new EdgegovProtocolError('disconnected', why));
    }
    this.pending.clear();
  }

  /** Sends one request and resolves with the daemon's reply (rejects with EdgegovProtocolError). */
  request<T = unknown>(msg: Record<string, unknown>): Promise<T> {
    const s = this.socket;
    if (!s || s.destroyed) return Promise.reject(new EdgegovProtocolError('disconnected', 'not connected to the daemon'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new EdgegovProtocolError('timeout', `no reply to '${String(msg.op)}' within ${this.opts.requestTimeoutMs} ms`));
      }, this.opts.requestTimeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      s.write(JSON.stringify({ ...msg, id }) + '\n');
    });
  }

  /** Before a request: local, cloud or defer, with the tier and predicted speeds. */
  advise(req: Omit<AdviseRequest, 'op' | 'id'>): Promise<AdviseReply> {
    return this.request<AdviseReply>({ op: 'advise', ...req });
  }

  /** After (or during) a request: what the engine applied and observed (tok/s feeds the governor). */
  report(r: Omit<ReportRequest, 'op' | 'id'>): Promise<ReportReply> {
    return this.request<ReportReply>({ op: 'report', ...r });
  }

  status(): Promise<DaemonStatus> {
    return this.request<{ status: DaemonStatus }>({ op: 'status' }).then((r) => r.status);
  }

  reload(): Promise<ReloadReply> {
    return this.request<ReloadReply>({ op: 'reload' });
  }
}

/**
 * One request on a fresh connection, for command-line tools (`edgegov status`, `reload`).
 * Rejects with EdgegovProtocolError('disconnected') when nothing listens on the socket.
 */
export async function requestOnce<T = unknown>(socketPath: string, msg: Record<string, unknown>, timeoutMs = 5000): Promise<T> {
  const c = new EdgegovClient({ socketPath, subscribe: false, reconnect: false, requestTimeoutMs: timeoutMs, log: false });
  try {
    await c.connect({ timeoutMs });
    return await c.request<T>(msg);
  } finally {
    c.close();
  }
}
