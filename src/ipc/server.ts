/**
 * The daemon's side of protocol v1: a Unix-socket server that frames lines, rate-limits,
 * routes requests to the daemon's handlers and fans decisions out to subscribers without
 * ever queueing more than the latest decision for a slow reader.
 */
import net from 'node:net';
import fs from 'node:fs';
import nodePath from 'node:path';
import { EnvError } from '../util/errors.js';
import { LineSplitter } from './line-splitter.js';
import { TokenBucket } from './token-bucket.js';
import { STATE_CHANGING_OPS, classifyPeer, supplementaryGroups, type PeerAccess, type PeerRole } from './peer-auth.js';
import type { SensorBinding } from '../native/binding-interface.js';
import { selectBinding } from '../native/native.js';
import {
  MAX_LINE_BYTES, errorReply, parseRequest,
  type AdviseRequest, type Advice, type DaemonStatus, type DecisionEvent, type ErrorBody, type ErrorCode,
  type HelloReply, type ReportRequest, type RequestId, type SafeKnobs, type ShutdownEvent,
  PROTOCOL_VERSION,
} from './protocol.js';

export interface IpcLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export type ReloadOutcome =
  | { ok: true; policy: string; file: string }
  | { ok: false; code: ErrorCode; message: string; details: string[] };

/** What the server asks of the daemon. */
export interface IpcHandlers {
  hello(): Omit<HelloReply, 'id' | 'ok' | 'op'>;
  lease(): { ttlMs: number; safe: SafeKnobs };
  currentDecision(): DecisionEvent | undefined;
  status(): DaemonStatus;
  advise(req: AdviseRequest): Advice | ErrorBody;
  /** `connId` tells reports from different connections apart (the engine's footprint ends with its connection). */
  report(req: ReportRequest, connId: number): { mismatch: string[] };
  /** A connection closed (any cause). */
  disconnected?(connId: number): void;
  reload(): Promise<ReloadOutcome>;
}

export interface IpcServerOptions {
  socketPath: string;
  handlers: IpcHandlers;
  log: IpcLogger;
  /** Connections beyond this get `too_many_clients` and are closed. */
  maxClients?: number;
  /** Token bucket: burst size and sustained messages per second per client. */
  rateBurst?: number;
  ratePerS?: number;
  /** Dropped (over-rate) messages within one second that get a client disconnected. */
  floodDisconnectPerS?: number;
  /** Above this many unsent bytes a subscriber is "slow": it gets only the latest decision. */
  slowSubscriberBytes?: number;
  /** Above this many unsent bytes the client is not reading at all and is disconnected. */
  maxBacklogBytes?: number;
  /** An inherited listening fd (Android init `socket` stanza); the path is then not created by us. */
  listenFd?: number;
  now?: () => number;
  /** Counts protocol errors sent, by code (metrics). */
  onError?: (code: ErrorCode) => void;
  /** Reads SO_PEERCRED (default: the native addon, else the fallback, which cannot). */
  peers?: Pick<SensorBinding, 'peerCredentials'>;
  /** Gids whose members may send state-changing messages besides the daemon's own uid. */
  adminGids?: readonly number[];
  /** The daemon's uid (default: this process's). */
  ownerUid?: number;
  /** Supplementary groups of a peer pid (default: /proc/<pid>/status). */
  groupsOf?: (pid: number) => number[];
}

interface Conn {
  id: number;
  socket: net.Socket;
  splitter: LineSplitter;
  bucket: TokenBucket;
  subscribed: boolean;
  /** The newest decision line a slow subscriber has not been sent yet. */
  pendingDecision?: string;
  waitingDrain: boolean;
  dropWindowStartMs: number;
  droppedInWindow: number;
  rateNotified: boolean;
  closing: boolean;
  role: PeerRole;
}

export class IpcServer {
  private readonly server: net.Server;
  private readonly conns = new Set<Conn>();
  private nextConnId = 1;
  private listening = false;
  private ownsPath = false;
  private readonly maxClients: number;
  private readonly rateBurst: number;
  private readonly ratePerS: number;
  private readonly floodDisconnectPerS: number;
  private readonly slowSubscriberBytes: number;
  private readonly maxBacklogBytes: number;
  private readonly now: () => number;
  private readonly peers: Pick<SensorBinding, 'peerCredentials'>;
  private access: PeerAccess;
  private uncheckedLogged = false;
  /** Connections refused by the SO_PEERCRED check since start. */
  peersRefused = 0;

  constructor(private readonly opts: IpcServerOptions) {
    this.maxClients = opts.maxClients ?? 256;
    this.rateBurst = opts.rateBurst ?? 200;
    this.ratePerS = opts.ratePerS ?? 200;
    this.floodDisconnectPerS = opts.floodDisconnectPerS ?? 1000;
    this.slowSubscriberBytes = opts.slowSubscriberBytes ?? 64 * 1024;
    this.maxBacklogBytes = opts.maxBacklogBytes ?? 1024 * 1024;
    this.now = opts.now ?? (() => performance.now());
    this.peers = opts.peers ?? selectBinding({ log: (line) => opts.log.warn({}, line) });
    this.access = { ownerUid: opts.ownerUid ?? process.getuid?.() ?? 0, adminGids: opts.adminGids ?? [] };
    this.server = net.createServer({ allowHalfOpen: false }, (s) => this.accept(s));
    this.server.on('error', (err) => this.opts.log.warn({ err: String(err) }, 'ipc server error'));
  }

  get socketPath(): string {
    return this.opts.socketPath;
  }

  get clientCount(): number {
    return this.conns.size;
  }

  get subscriberCount(): number {
    let n = 0;
    for (const c of this.conns) if (c.subscribed) n++;
    return n;
  }

  /** Binds the socket. Refuses when another daemon answers on the path; removes a stale socket file. */
  async listen(): Promise<void> {
    if (this.opts.listenFd !== undefined) {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen({ fd: this.opts.listenFd }, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
      this.listening = true;
      return;
    }
    const path = this.opts.socketPath;
    await clearStaleSocket(path);
    // umask so the socket is never, even briefly, wider than 0660.
    const oldMask = process.umask(0o117);
    try {
      await new Promise<void>((resolve, reject) => {
        const onErr = (err: NodeJS.ErrnoException) => reject(err);
        this.server.once('error', onErr);
        this.server.listen(path, () => {
          this.server.off('error', onErr);
          resolve();
        });
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // libuv reports a missing directory as EACCES for Unix sockets: look before blaming permissions.
      const dir = nodePath.dirname(path);
      const why = !fs.existsSync(dir) ? `directory ${dir} does not exist` :
        e.code === 'EACCES' ? 'permission denied' : e.code === 'ENOENT' ? 'directory does not exist' : e.message;
      throw new EnvError(`cannot listen on ${path}: ${why}`);
    } finally {
      process.umask(oldMask);
    }
    fs.chmodSync(path, 0o660);
    this.ownsPath = true;
    this.listening = true;
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => socket.destroy());
    if (this.conns.size >= this.maxClients) {
      this.opts.onError?.('too_many_clients');
      socket.end(JSON.stringify(errorReply(null, 'too_many_clients', `the daemon serves at most ${this.maxClients} clients`)) + '\n');
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    // libuv keeps the descriptor on the handle; Node has no public accessor for it.
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    // The file's group as it is now (an operator may chgrp the socket after start).
    this.access.socketGid = socketGroup(this.opts.socketPath);
    const peer = classifyPeer(
      typeof fd === 'number' && fd >= 0 ? this.peers.peerCredentials(fd) : { ok: false, unsupported: false, why: 'the connection has no file descriptor to check' },
      this.access,
      this.opts.groupsOf ?? supplementaryGroups,
    );
    if (peer.unchecked && !this.uncheckedLogged) {
      this.uncheckedLogged = true;
      this.opts.log.warn({ socket: this.opts.socketPath }, `ipc peers are not checked: ${peer.why}`);
    }
    if (peer.role === 'refused') {
      this.peersRefused++;
      this.opts.onError?.('peer_refused');
      this.opts.log.warn({ peer: peer.cred, why: peer.why }, 'ipc peer refused');
      socket.end(JSON.stringify(errorReply(null, 'peer_refused', `refused: ${peer.why}`)) + '\n');
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const c: Conn = {
      id: this.nextConnId++,
      socket,
      splitter: new LineSplitter(MAX_LINE_BYTES),
      bucket: new TokenBucket(this.rateBurst, this.ratePerS, this.now()),
      subscribed: false,
      waitingDrain: false,
      dropWindowStartMs: this.now(),
      droppedInWindow: 0,
      rateNotified: false,
      closing: false,
      role: peer.role,
    };
    this.conns.add(c);
    socket.on('close', () => {
      this.conns.delete(c);
      try {
        this.opts.handlers.disconnected?.(c.id);
      } catch (err) {
        this.opts.log.warn({ err: String((err as Error)?.stack ?? err) }, 'disconnect handler failed');
      }
    });
    socket.on('data', (chunk: Buffer) => this.onData(c, chunk));
  }

  private onData(c: Conn, chunk: Buffer): void {
    if (c.closing) return;
    const { lines, overflow } = c.splitter.push(chunk);
    for (const line of lines) {
      if (c.closing) return;
      this.onLine(c, line);
    }
    if (overflow && !c.closing) {
      this.fail(c, null, 'line_too_long', `a line exceeded ${MAX_LINE_BYTES} bytes; disconnecting`);
      this.disconnect(c);
    }
  }

  private onLine(c: Conn, line: string): void {
    const t = this.now();
    if (!c.bucket.take(t)) {
      if (t - c.dropWindowStartMs >= 1000) {
        c.dropWindowStartMs = t;
        c.droppedInWindow = 0;
        c.rateNotified = false;
      }
      c.droppedInWindow++;
      if (!c.rateNotified) {
        c.rateNotified = true;
        this.fail(c, null, 'rate_limited', `more than ${this.ratePerS} messages/s; messages are being dropped`);
      }
      if (c.droppedInWindow > this.floodDisconnectPerS) {
        this.fail(c, null, 'rate_limited', 'flood; disconnecting');
        this.opts.log.warn({ client: c.id }, 'ipc client flooding; disconnected');
        this.disconnect(c);
      }
      return;
    }
    const parsed = parseRequest(line);
    if (!parsed.ok) {
      this.fail(c, parsed.id, parsed.code, parsed.message);
      return;
    }
    const req = parsed.req;
    const id = req.id;
    if (c.role !== 'admin' && STATE_CHANGING_OPS.has(req.op)) {
      this.fail(c, id, 'forbidden', `${req.op}: only the daemon's user or a member of its admin group may send this`, req.op);
      return;
    }
    try {
      switch (req.op) {
        case 'hello':
          if (req.version !== PROTOCOL_VERSION) {
            this.fail(c, id, 'unsupported_version', `this daemon speaks protocol ${PROTOCOL_VERSION}, the client asked for ${req.version}`, 'hello');
            return;
          }
          this.send(c, { id, ok: true, op: 'hello', ...this.opts.handlers.hello() });
          return;
        case 'subscribe': {
          c.subscribed = true;
          this.send(c, { id, ok: true, op: 'subscribe', ...this.opts.handlers.lease() });
          const cur = this.opts.handlers.currentDecision();
          if (cur) this.sendDecision(c, JSON.stringify(cur) + '\n');
          return;
        }
        case 'unsubscribe':
          c.subscribed = false;
          c.pendingDecision = undefined;
          this.send(c, { id, ok: true, op: 'unsubscribe' });
          return;
        case 'status':
          this.send(c, { id, ok: true, op: 'status', status: this.opts.handlers.status() });
          return;
        case 'advise': {
          const a = this.opts.handlers.advise(req);
          if ('code' in a) this.fail(c, id, a.code, a.message, 'advise');
          else this.send(c, { id, ok: true, op: 'advise', ...a });
          return;
        }
        case 'report':
          this.send(c, { id, ok: true, op: 'report', ...this.opts.handlers.report(req, c.id) });
          return;
        case 'reload':
          this.opts.handlers.reload().then(
            (r) => {
              if (r.ok) this.send(c, { id, ok: true, op: 'reload', policy: r.policy, file: r.file });
              else this.fail(c, id, r.code, r.message, 'reload', r.details);
            },
            (err) => this.internal(c, id, err),
          );
          return;
      }
    } catch (err) {
      this.internal(c, id, err);
    }
  }

  private internal(c: Conn, id: RequestId | undefined, err: unknown): void {
    this.opts.log.warn({ err: String((err as Error)?.stack ?? err) }, 'ipc handler failed');
    this.fail(c, id, 'internal', String((err as Error)?.message ?? err));
  }

  private fail(c: Conn, id: RequestId | null | undefined, code: ErrorCode, message: string, op?: string, details?: string[]): void {
    this.opts.onError?.(code);
    this.send(c, errorReply(id, code, message, details, op));
  }

  private send(c: Conn, msg: object): void {
    if (c.socket.destroyed || c.closing) return;
    if (c.socket.writableLength > this.maxBacklogBytes) {
      this.opts.log.warn({ client: c.id, backlogBytes: c.socket.writableLength }, 'ipc client not reading; disconnected');
      this.disconnect(c, true);
      return;
    }
    c.socket.write(JSON.stringify(msg) + '\n');
  }

  /** A slow subscriber keeps only the newest decision line; it is written when the socket drains. */
  private sendDecision(c: Conn, line: string): void {
    if (c.socket.destroyed || c.closing) return;
    if (c.waitingDrain || c.socket.writableLength > this.slowSubscriberBytes) {
      c.pendingDecision = line;
      if (!c.waitingDrain) {
        c.waitingDrain = true;
        c.socket.once('drain', () => {
          c.waitingDrain = false;
          const p = c.pendingDecision;
          c.pendingDecision = undefined;
          if (p && c.subscribed) this.sendDecision(c, p);
        });
      }
      return;
    }
    c.socket.write(line);
  }

  /** Sends a decision event to every subscriber (serialised once). */
  publish(ev: DecisionEvent): void {
    if (!this.conns.size) return;
    const line = JSON.stringify(ev) + '\n';
    for (const c of this.conns) if (c.subscribed) this.sendDecision(c, line);
  }

  private disconnect(c: Conn, hard = false): void {
    if (c.closing) return;
    c.closing = true;
    this.conns.delete(c);
    if (hard) {
      c.socket.destroy();
      return;
    }
    c.socket.end();
    // A peer that never reads would keep the socket half-open; don't wait for it.
    setTimeout(() => c.socket.destroy(), 500).unref();
  }

  /** Tells every client the daemon is stopping (with the safe knobs), then closes everything. */
  async close(shutdown?: ShutdownEvent, graceMs = 1000): Promise<void> {
    if (shutdown) {
      const line = JSON.stringify(shutdown) + '\n';
      for (const c of this.conns) if (!c.socket.destroyed) c.socket.write(line);
    }
    const ends = [...this.conns].map((c) => new Promise<void>((resolve) => {
      if (c.socket.destroyed) return resolve();
      c.socket.once('close', () => resolve());
      c.socket.end();
      setTimeout(() => { c.socket.destroy(); resolve(); }, graceMs).unref();
    }));
    this.conns.clear();
    await Promise.all(ends);
    if (this.listening) {
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.listening = false;
    }
    if (this.ownsPath) {
      try { fs.unlinkSync(this.opts.socketPath); } catch { /* already gone */ }
      this.ownsPath = false;
    }
  }
}

function socketGroup(path: string): number | undefined {
  try {
    return fs.statSync(path).gid;
  } catch {
    return undefined;
  }
}

/**
 * A socket file left by a crashed daemon is removed; one a live daemon answers on is not
 * (we refuse to start), and a path that is not a socket is never deleted.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new EnvError(`${path} exists and is not a socket; refusing to replace it`);
  const answered = await new Promise<true | NodeJS.ErrnoException>((resolve) => {
    const s = net.connect(path);
    const timer = setTimeout(() => { s.destroy(); resolve(true); }, 1000);
    s.once('connect', () => { clearTimeout(timer); s.destroy(); resolve(true); });
    s.once('error', (err: NodeJS.ErrnoException) => { clearTimeout(timer); resolve(err); });
  });
  if (answered === true) throw new EnvError(`another edgegov daemon is answering on ${path}; stop it or pass another --socket`);
  if (answered.code === 'ECONNREFUSED' || answered.code === 'ENOENT') {
    try { fs.unlinkSync(path); } catch { /* raced with someone else's cleanup */ }
    return;
  }
  throw new EnvError(`cannot probe ${path}: ${answered.message}`);
}
