/**
 * The protocol server and the SDK in one process over a real Unix socket: socket hygiene,
 * the slow-subscriber rule, the SDK lease and reconnection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { IpcServer, type IpcHandlers } from '../../src/ipc/server.js';
import { EdgegovClient, EdgegovProtocolError } from '../../src/ipc/client.js';
import { LineSplitter } from '../../src/ipc/line-splitter.js';
import type { DecisionEvent, SafeKnobs } from '../../src/ipc/protocol.js';
import type { Decision } from '../../src/core/decision.js';
import { EnvError } from '../../src/util/errors.js';

const safe: SafeKnobs = { tier: 'minimal', tierIndex: 3, quant: 'q3_k_m', contextLength: 1024, batchSize: 64, threads: 2, pacingMs: 50, offload: 'local' };
const quiet = { info() {}, warn() {}, debug() {} };

function decision(seq: number, tier = 'full', ttlMs = 300, pad = 0): DecisionEvent {
  const d: Decision = {
    t_ms: seq, severity: 'none', tier, tierIndex: 0, quant: 'q8_0', contextLength: 8192, batchSize: 512, pacingMs: 0,
    offload: 'local', ttlMs, safe: false, reasons: [{ rule: 'test', message: 'x'.repeat(pad) }],
  };
  return { event: 'decision', seq, changed: true, ttlMs, decision: d };
}

function handlers(current: () => DecisionEvent | undefined, ttlMs = 300): IpcHandlers {
  return {
    hello: () => ({ version: 1, server: 'test', deviceId: 'dev', policy: 'p', ttlMs, safe }),
    lease: () => ({ ttlMs, safe }),
    currentDecision: current,
    status: () => { throw new Error('not in this test'); },
    advise: () => ({ code: 'not_ready', message: 'no' }),
    report: () => ({ mismatch: [] }),
    reload: async () => ({ ok: true, policy: 'p', file: 'f' }),
  };
}

const dirs: string[] = [];
const cleanups: (() => unknown)[] = [];
function sockPath(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edgegov-ipc-'));
  dirs.push(d);
  return path.join(d, 's.sock');
}
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const waitFor = async (pred: () => boolean, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('IpcServer', () => {
  it('creates the socket with mode 0660 and removes it on close', async () => {
    const p = sockPath();
    const s = new IpcServer({ socketPath: p, handlers: handlers(() => undefined), log: quiet });
    await s.listen();
    expect(fs.statSync(p).mode & 0o777).toBe(0o660);
    await s.close();
    expect(fs.existsSync(p)).toBe(false);
  });

  it('never replaces a path that is not a socket, and refuses a live one', async () => {
    const p = sockPath();
    fs.writeFileSync(p, 'precious');
    await expect(new IpcServer({ socketPath: p, handlers: handlers(() => undefined), log: quiet }).listen()).rejects.toThrow(EnvError);
    expect(fs.readFileSync(p, 'utf8')).toBe('precious');
    const p2 = sockPath();
    const a = new IpcServer({ socketPath: p2, handlers: handlers(() => undefined), log: quiet });
    await a.listen();
    cleanups.push(() => a.close());
    await expect(new IpcServer({ socketPath: p2, handlers: handlers(() => undefined), log: quiet }).listen()).rejects.toThrow(/another edgegov daemon/);
  });

  it('gives a subscriber that does not read only the newest decision, never a growing queue', async () => {
    const p = sockPath();
    let cur: DecisionEvent | undefined = decision(0);
    const s = new IpcServer({ socketPath: p, handlers: handlers(() => cur), log: quiet, slowSubscriberBytes: 16 * 1024 });
    await s.listen();
    cleanups.push(() => s.close());
    const sock = net.connect(p);
    cleanups.push(() => sock.destroy());
    await new Promise((r) => sock.once('connect', r));
    const seqs: number[] = [];
    const split = new LineSplitter(1 << 24);
    sock.on('data', (b: Buffer) => {
      for (const l of split.push(b).lines) {
        const m = JSON.parse(l) as { event?: string; seq?: number };
        if (m.event === 'decision') seqs.push(m.seq!);
      }
    });
    sock.write('{"op":"subscribe"}\n');
    await waitFor(() => seqs.length === 1, 2000, 'first decision');
    sock.pause();
    const N = 3000;
    for (let i = 1; i <= N; i++) {
      cur = decision(i, 'full', 300, 2000); // ~2 KB each: 6 MB if queued
      s.publish(cur);
    }
    sock.resume();
    await waitFor(() => seqs.at(-1) === N, 5000, 'the newest decision after resuming');
    // Most intermediate decisions were dropped for this reader.
    expect(seqs.length).toBeLessThan(N / 2);
    // Order is preserved for what was delivered.
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]);
  });
});

describe('EdgegovClient', () => {
  it('follows decisions, and falls back to the safe tier when they stop for ttlMs', async () => {
    const p = sockPath();
    let cur = decision(1, 'full', 200);
    const s = new IpcServer({ socketPath: p, handlers: handlers(() => cur, 200), log: quiet });
    await s.listen();
    cleanups.push(() => s.close());
    const logs: string[] = [];
    const c = new EdgegovClient({ socketPath: p, log: (l) => logs.push(l) });
    cleanups.push(() => c.close());
    const events: string[] = [];
    c.on('decision', (d, src) => events.push(`${src}:${d.tier}`));
    let expired: Decision | undefined;
    c.on('lease-expired', (d) => { expired = d; });
    await c.connect();
    expect(c.safe).toEqual(safe);
    await waitFor(() => events.length === 1, 1000, 'first decision');
    // Refreshes keep the lease alive past several ttls.
    const refresh = setInterval(() => s.publish({ ...cur, changed: false }), 60);
    await new Promise((r) => setTimeout(r, 700));
    expect(expired).toBeUndefined();
    expect(events).toEqual(['daemon:full']); // refreshes are not new decisions
    clearInterval(refresh);
    const stoppedAt = Date.now();
    await waitFor(() => expired !== undefined, 2000, 'lease expiry');
    expect(Date.now() - stoppedAt).toBeLessThan(200 + 400);
    expect(expired).toMatchObject({ tier: 'minimal', safe: true, contextLength: 1024 });
    expect(events.at(-1)).toBe('lease-expired:minimal');
    expect(c.decision?.tier).toBe('minimal');
    expect(logs.join('\n')).toMatch(/lease expired/);
    // A fresh decision restores normal operation.
    cur = decision(2, 'balanced', 200);
    s.publish(cur);
    await waitFor(() => c.decision?.tier === 'balanced', 1000, 'resumed');
    expect(c.leaseExpired).toBe(false);
  });

  it('reconnects with backoff after the server goes away and comes back', async () => {
    const p = sockPath();
    const cur = decision(1, 'full', 5000);
    let s = new IpcServer({ socketPath: p, handlers: handlers(() => cur, 5000), log: quiet });
    await s.listen();
    const c = new EdgegovClient({ socketPath: p, log: false, backoffInitialMs: 20, backoffMaxMs: 100 });
    cleanups.push(() => c.close());
    let connects = 0;
    let disconnects = 0;
    c.on('connected', () => connects++);
    c.on('disconnected', () => disconnects++);
    await c.connect();
    await s.close();
    await waitFor(() => disconnects === 1, 2000, 'disconnect');
    await expect(c.status()).rejects.toBeInstanceOf(EdgegovProtocolError);
    await new Promise((r) => setTimeout(r, 300)); // several failed attempts
    s = new IpcServer({ socketPath: p, handlers: handlers(() => cur, 5000), log: quiet });
    await s.listen();
    cleanups.push(() => s.close());
    await waitFor(() => connects === 2, 3000, 'reconnect');
    const r = await c.reload();
    expect(r).toMatchObject({ ok: true, policy: 'p' });
  });

  it('connect() rejects in time when no daemon is there', async () => {
    const c = new EdgegovClient({ socketPath: sockPath(), log: false, reconnect: false });
    await expect(c.connect({ timeoutMs: 1000 })).rejects.toThrow(/cannot connect|no edgegov daemon/);
    c.close();
  });

  it('maps error replies to EdgegovProtocolError with the code', async () => {
    const p = sockPath();
    const s = new IpcServer({ socketPath: p, handlers: handlers(() => decision(1)), log: quiet });
    await s.listen();
    cleanups.push(() => s.close());
    const c = new EdgegovClient({ socketPath: p, log: false });
    cleanups.push(() => c.close());
    await c.connect();
    await expect(c.advise({ promptTokens: 1, expectedOutputTokens: 1 })).rejects.toMatchObject({ code: 'not_ready' });
    await expect(c.request({ op: 'nope' })).rejects.toMatchObject({ code: 'unknown_op' });
  });
});
