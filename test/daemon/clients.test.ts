/**
 * Many clients and hostile ones against the daemon child process: 200 subscribers all get
 * every change; garbage gets error replies, a 1 MiB line and a 10,000 msg/s flood get the
 * sender cut off — while everyone else keeps receiving. The client cap answers the extra one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import path from 'node:path';
import { LineSplitter } from '../../src/ipc/line-splitter.js';
import { makeFixture, startDaemon, testPolicyPath, tmpDir, until, sleep, type DaemonProc } from './helpers.js';

interface Raw {
  socket: net.Socket;
  msgs: Record<string, unknown>[];
  closed: boolean;
  send(obj: unknown): void;
}

function rawClient(socketPath: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    const split = new LineSplitter(16 * 1024 * 1024);
    const r: Raw = {
      socket: s, msgs: [], closed: false,
      send: (obj) => { if (!s.destroyed) s.write((typeof obj === 'string' ? obj : JSON.stringify(obj)) + '\n'); },
    };
    s.on('data', (b: Buffer) => { for (const l of split.push(b).lines) r.msgs.push(JSON.parse(l) as Record<string, unknown>); });
    s.on('close', () => { r.closed = true; });
    s.on('error', () => { /* the daemon may cut us off */ });
    s.once('connect', () => resolve(r));
    s.once('error', reject);
  });
}

const decisions = (r: Raw) => r.msgs.filter((m) => m.event === 'decision' && m.changed === true) as unknown as { seq: number; decision: { tier: string } }[];
const errors = (r: Raw) => r.msgs.filter((m) => m.ok === false).map((m) => (m.error as { code: string }).code);

describe('daemon: many clients, hostile clients', () => {
  const dir = tmpDir('clients');
  const fx = makeFixture(dir, 50);
  const socket = path.join(dir, 'clients.sock');
  let daemon: DaemonProc;
  const subs: Raw[] = [];

  beforeAll(async () => {
    daemon = await startDaemon(['--policy', testPolicyPath, '--sysfs-root', fx.root, '--simulate', 'none'], { socket });
    for (let i = 0; i < 200; i++) {
      const r = await rawClient(socket);
      r.send({ op: 'subscribe', id: i });
      subs.push(r);
    }
    await until(() => subs.every((r) => decisions(r).length >= 1), 10_000, 'initial decision at every subscriber');
  });
  afterAll(async () => {
    for (const r of subs) r.socket.destroy();
    daemon?.kill('SIGTERM');
    await daemon?.exited;
  });

  it('200 concurrent subscribers all receive each change', async () => {
    expect((await daemon.status()).subscribers).toBe(200);
    fx.setSocC(95);
    await until(() => subs.every((r) => decisions(r).some((d) => d.decision.tier === 'minimal')), 10_000, 'escalation at all 200');
    const seqs = new Set(subs.map((r) => decisions(r).at(-1)!.seq));
    expect(seqs.size).toBe(1);
  });

  it('garbage gets error replies; a 1 MiB line and a flood get cut off; the others keep receiving', async () => {
    const garbage = await rawClient(socket);
    garbage.send('this is not json');
    garbage.send('[1,2,3]');
    garbage.send({ op: 'frobnicate', id: 7 });
    garbage.send({ op: 'advise', id: 8, promptTokens: 'many' });
    garbage.send({ op: 'hello', id: 9, version: 99 });
    await until(() => errors(garbage).length >= 5, 5000, 'error replies');
    expect(errors(garbage)).toEqual(['bad_json', 'bad_request', 'unknown_op', 'bad_request', 'unsupported_version']);
    expect(garbage.msgs.find((m) => m.id === 7)).toBeTruthy();
    expect(garbage.closed).toBe(false);
    // Still a working client after all that.
    garbage.send({ op: 'status', id: 10 });
    await until(() => garbage.msgs.some((m) => m.id === 10 && m.ok === true), 5000, 'status after garbage');

    const huge = await rawClient(socket);
    huge.socket.write('{"op":"status","pad":"' + 'x'.repeat(1024 * 1024) + '"}\n');
    await until(() => huge.closed, 5000, 'disconnect after a 1 MiB line');
    expect(errors(huge)).toContain('line_too_long');

    const flood = await rawClient(socket);
    const line = JSON.stringify({ op: 'status' }) + '\n';
    // 10,000 messages a second for up to 2 s, in 10 ms bursts of 100.
    const t0 = Date.now();
    while (!flood.closed && Date.now() - t0 < 2000) {
      flood.socket.write(line.repeat(100));
      await sleep(10);
    }
    await until(() => flood.closed, 5000, 'flooder disconnected');
    expect(errors(flood)).toContain('rate_limited');

    // The daemon is alive and the 200 still get changes.
    const before = subs.map((r) => decisions(r).length);
    fx.setSocC(102); // critical
    await until(() => subs.every((r, i) => decisions(r).length > before[i]), 10_000, 'next change at all 200');
    expect(subs.every((r) => !r.closed)).toBe(true);
    const st = await daemon.status();
    expect(st.pid).toBe(daemon.proc.pid);
    garbage.socket.destroy();
  });

  it('a subscriber that never reads gets only the latest decision, not a growing queue', async () => {
    const slow = await rawClient(socket);
    slow.send({ op: 'subscribe' });
    await until(() => decisions(slow).length >= 1, 5000, 'slow subscriber first decision');
    slow.socket.pause(); // stop reading: the daemon's writes back up
    for (const c of [50, 95, 50, 102, 50]) {
      fx.setSocC(c);
      await sleep(300);
    }
    // Others saw the changes; the daemon is healthy.
    const st = await daemon.status();
    expect(st.subscribers).toBeGreaterThanOrEqual(201);
    slow.socket.resume();
    await sleep(300);
    expect(slow.closed).toBe(false);
    slow.socket.destroy();
  });

  it('caps the number of clients with an error to the extra one', async () => {
    // 200 subscribers are connected; the default cap is 256.
    const extra: Raw[] = [];
    for (let i = 0; i < 60; i++) extra.push(await rawClient(socket));
    await until(() => extra.some((r) => r.closed), 5000, 'a refused client');
    const refused = extra.filter((r) => r.closed);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(errors(refused[0])).toEqual(['too_many_clients']);
    for (const r of extra) r.socket.destroy();
  });
});
