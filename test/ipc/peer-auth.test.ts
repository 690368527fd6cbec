/**
 * Who may tell the daemon what (issue 13 item 5): SO_PEERCRED through the native binding, a
 * real second uid (`nobody`, 65534) as the peer in a child process, and the pure role rules.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IpcServer, type IpcHandlers } from '../../src/ipc/server.js';
import { classifyPeer, peerRole, resolveGroup, supplementaryGroups } from '../../src/ipc/peer-auth.js';
import { createFallbackBinding } from '../../src/native/fallback.js';
import { createMockBinding } from '../../src/native/mock.js';
import { nativeAvailable } from '../../src/native/native.js';
import type { SafeKnobs } from '../../src/ipc/protocol.js';

const safe: SafeKnobs = { tier: 'minimal', tierIndex: 3, quant: 'q3_k_m', contextLength: 1024, batchSize: 64, threads: 2, pacingMs: 50, offload: 'local' };
const warnings: string[] = [];
const log = { info() {}, warn: (_o: object, m?: string) => void warnings.push(m ?? ''), debug() {} };

let reloads = 0;
let reports = 0;
const handlers: IpcHandlers = {
  hello: () => ({ version: 1, server: 'test', deviceId: 'dev', policy: 'p', ttlMs: 3000, safe }),
  lease: () => ({ ttlMs: 3000, safe }),
  currentDecision: () => undefined,
  status: () => ({ pid: process.pid } as never),
  advise: () => ({ code: 'not_ready', message: 'no decision yet' }),
  report: () => (reports++, { mismatch: [] }),
  reload: async () => (reloads++, { ok: true, policy: 'p', file: 'f' }),
};

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A socket in a directory the second uid can traverse. */
function sockPath(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edgegov-peer-'));
  fs.chmodSync(d, 0o755);
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return path.join(d, 's.sock');
}

/** Sends `lines` from a child process running as uid/gid; resolves with every line it received. */
function clientAs(uid: number, gid: number, socketPath: string, lines: object[]): Promise<{ replies: any[]; error?: string }> {
  const script = `
    const net = require('node:net');
    const s = net.connect(process.argv[1]);
    let buf = ''; const out = [];
    const want = Number(process.argv[3]);
    s.on('connect', () => { for (const l of JSON.parse(process.argv[2])) s.write(JSON.stringify(l) + '\\n'); });
    s.on('data', (d) => { buf += d; let i; while ((i = buf.indexOf('\\n')) >= 0) { out.push(JSON.parse(buf.slice(0, i))); buf = buf.slice(i + 1); }
      if (out.length >= want) { s.end(); } });
    s.on('error', (e) => { console.log(JSON.stringify({ replies: out, error: e.code })); process.exit(0); });
    s.on('close', () => { console.log(JSON.stringify({ replies: out })); process.exit(0); });
    setTimeout(() => { console.log(JSON.stringify({ replies: out, error: 'timeout' })); process.exit(0); }, 4000);
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, socketPath, JSON.stringify(lines), String(lines.length)], { uid, gid, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', () => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`client as uid ${uid} printed ${JSON.stringify(out)} stderr ${err}`));
      }
    });
  });
}

const ask = [{ id: 1, op: 'hello', version: 1 }, { id: 2, op: 'reload' }, { id: 3, op: 'report', tokS: 5 }];

describe('peer roles (pure)', () => {
  const access = { ownerUid: 1000, socketGid: 2000, adminGids: [3000] };
  it('owner and admin-group members are admins, socket-group members readers, the rest refused', () => {
    expect(peerRole({ pid: 1, uid: 1000, gid: 1 }, [], access).role).toBe('admin');
    expect(peerRole({ pid: 1, uid: 7, gid: 3000 }, [], access).role).toBe('admin');
    expect(peerRole({ pid: 1, uid: 7, gid: 7 }, [3000], access).role).toBe('admin');
    expect(peerRole({ pid: 1, uid: 7, gid: 2000 }, [], access).role).toBe('reader');
    expect(peerRole({ pid: 1, uid: 7, gid: 7 }, [2000], access).role).toBe('reader');
    const r = peerRole({ pid: 1, uid: 7, gid: 7 }, [8], access);
    expect(r.role).toBe('refused');
    expect(r.why).toMatch(/uid 7 .*not the daemon's uid 1000.*group 2000.*admin group 3000/);
  });
  it('a binding that cannot ask relies on the file mode; a refused lookup fails closed', () => {
    const fb = classifyPeer(createFallbackBinding().peerCredentials(5), access);
    expect(fb).toMatchObject({ role: 'admin', unchecked: true });
    expect(fb.why).toMatch(/cannot read SO_PEERCRED.*0660/);
    expect(classifyPeer({ ok: false, unsupported: false, why: 'ENOTSOCK' }, access).role).toBe('refused');
  });
  it('reads supplementary groups and resolves group names', () => {
    expect(supplementaryGroups(process.pid)).toEqual(expect.any(Array));
    expect(supplementaryGroups(2 ** 30)).toEqual([]);
    expect(resolveGroup('0')).toBe(0);
    expect(resolveGroup('root')).toBe(0);
    expect(resolveGroup('no-such-group-edgegov')).toBeUndefined();
  });
});

describe('IpcServer peer check (mock binding)', () => {
  it('refuses a peer the binding reports as a stranger and forbids reload to a reader', async () => {
    const p = sockPath();
    const mock = createMockBinding();
    const s = new IpcServer({ socketPath: p, handlers, log, peers: mock, ownerUid: 4242, groupsOf: () => [] });
    await s.listen();
    cleanups.push(() => s.close());
    const gid = fs.statSync(p).gid;
    mock.peers = () => ({ ok: true, pid: 1, uid: 9, gid: 9 });
    const refused = await clientAs(process.getuid!(), process.getgid!(), p, ask);
    expect(refused.replies).toEqual([expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'peer_refused' }) })]);
    expect(s.peersRefused).toBe(1);
    mock.peers = () => ({ ok: true, pid: 1, uid: 9, gid });
    const reader = await clientAs(process.getuid!(), process.getgid!(), p, ask);
    expect(reader.replies.map((r) => r.ok)).toEqual([true, false, false]);
    expect(reader.replies[1].error.code).toBe('forbidden');
    expect(reader.replies[2].error.code).toBe('forbidden');
  });
});

describe.skipIf(!nativeAvailable() || !isRoot)('IpcServer peer check with a real second uid (native SO_PEERCRED)', () => {
  it('a stranger that gets past a loosened file mode is refused by SO_PEERCRED', async () => {
    reloads = 0;
    const p = sockPath();
    const s = new IpcServer({ socketPath: p, handlers, log });
    await s.listen();
    cleanups.push(() => s.close());
    fs.chmodSync(p, 0o666); // a mistake an operator could make: the mode alone would now let anybody in
    const r = await clientAs(NOBODY, NOBODY, p, ask);
    expect(r.replies).toHaveLength(1);
    expect(r.replies[0].error.code).toBe('peer_refused');
    expect(r.replies[0].error.message).toMatch(/uid 65534/);
    expect(reloads).toBe(0);
    expect(s.peersRefused).toBe(1);
  });

  it('the 0660 file mode alone keeps a stranger out before any check', async () => {
    const p = sockPath();
    const s = new IpcServer({ socketPath: p, handlers, log });
    await s.listen();
    cleanups.push(() => s.close());
    const r = await clientAs(NOBODY, NOBODY, p, ask);
    expect(r.error).toBe('EACCES');
  });

  it('a socket-group member may read but not reload or report; the admin group may; the owner may', async () => {
    reloads = 0;
    reports = 0;
    const p = sockPath();
    const owner = new IpcServer({ socketPath: p, handlers, log });
    await owner.listen();
    cleanups.push(() => owner.close());
    const p2 = sockPath();
    const grouped = new IpcServer({ socketPath: p2, handlers, log });
    await grouped.listen();
    cleanups.push(() => grouped.close());
    fs.chownSync(p2, 0, NOBODY); // the socket's group is nobody's group
    const asReader = await clientAs(NOBODY, NOBODY, p2, ask);
    expect(asReader.replies.map((x) => x.ok)).toEqual([true, false, false]);
    expect(asReader.replies.slice(1).map((x) => x.error.code)).toEqual(['forbidden', 'forbidden']);
    expect(reloads + reports).toBe(0);

    const p3 = sockPath();
    const admin = new IpcServer({ socketPath: p3, handlers, log, adminGids: [NOBODY] });
    await admin.listen();
    cleanups.push(() => admin.close());
    fs.chownSync(p3, 0, NOBODY);
    const asAdmin = await clientAs(NOBODY, NOBODY, p3, ask);
    expect(asAdmin.replies.map((x) => x.ok)).toEqual([true, true, true]);
    expect(reloads).toBe(1);
    expect(reports).toBe(1);

    const asOwner = await clientAs(0, 0, p, ask);
    expect(asOwner.replies.map((x) => x.ok)).toEqual([true, true, true]);
  });
});
