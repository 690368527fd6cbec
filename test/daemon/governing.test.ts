/**
 * The daemon as a child process on a fixture sysfs tree: escalation and relaxation as the
 * fixture's temperature files change, the SDK lease when the daemon dies, restart, and
 * policy reload (invalid kept out, valid applied without dropping clients).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { EdgegovClient } from '../../src/ipc/client.js';
import type { Decision } from '../../src/core/decision.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { needBytes, MiB } from '../../src/core/memory.js';
import { makeFixture, runCliAsync, startDaemon, testPolicyPath, tmpDir, until, sleep, type DaemonProc } from './helpers.js';

const SAMPLE_MS = 100;
const DWELL_MS = 1000;
const TTL_MS = 1000;

interface Seen { d: Decision; source: string; at: number }

function collect(client: EdgegovClient): Seen[] {
  const seen: Seen[] = [];
  client.on('decision', (d, source) => seen.push({ d, source, at: Date.now() }));
  return seen;
}

describe('daemon: governing a fixture device', () => {
  const dir = tmpDir('gov');
  const fx = makeFixture(dir, 50);
  const socket = path.join(dir, 'gov.sock');
  const journal = path.join(dir, 'journal.jsonl');
  let daemon: DaemonProc;
  let client: EdgegovClient;
  let seen: Seen[];

  beforeAll(async () => {
    daemon = await startDaemon(['--policy', testPolicyPath, '--sysfs-root', fx.root, '--simulate', 'none', '--journal', journal, '--journal-every-sample'], { socket });
    client = new EdgegovClient({ socketPath: socket, log: false });
    seen = collect(client);
    await client.connect();
    await until(() => seen.length > 0, 3000, 'first decision');
  });
  afterAll(async () => {
    client?.close();
    daemon?.kill('SIGTERM');
    await daemon?.exited;
  });

  it('starts at the richest tier on a cool device, with nothing simulated', async () => {
    const first = seen[0].d;
    expect(first.tier).toBe('full');
    expect(first.severity).toBe('none');
    expect(first.ttlMs).toBe(TTL_MS);
    expect(first.simulated).toEqual([]);
    const st = await daemon.status();
    expect(st.simulated).toEqual([]);
    expect(st.signals['zone.cpu-1-0-0']).toBeCloseTo(50, 5);
    expect(Object.keys(st.signals).filter((k) => k.startsWith('zone.')).length).toBeGreaterThanOrEqual(50);
  });

  it('escalates within two sample periods of the files getting hot', async () => {
    const n0 = (await daemon.status()).samples;
    const before = seen.length;
    fx.setSocC(95); // severe (set 90 °C) → the policy caps severe at `minimal`
    await until(() => seen.slice(before).some((s) => s.d.tier === 'minimal'), 5000, 'escalated decision');
    const esc = seen.slice(before).find((s) => s.d.tier === 'minimal')!;
    expect(esc.d.severity).toBe('severe');
    expect(esc.d.reasons.some((r) => r.signal === 'soc_c')).toBe(true);
    // Which sample saw it: every sample is journalled with its index `n`. The journal line may
    // land just after the socket push, so wait for it; read only complete lines.
    const journalled = () => fs.readFileSync(journal, 'utf8').split('\n').slice(0, -1)
      .map((l) => JSON.parse(l) as { n: number; decision: Decision })
      .find((l) => l.n > n0 && l.decision.tier === 'minimal');
    await until(() => journalled() !== undefined, 3000, 'escalated decision in the journal');
    const firstHot = journalled()!;
    // n0 was read before the write; a sample may have raced the write (n0+1), so the hot
    // files are in sample n0+2 at the latest: two sample periods, counted in samples not ms.
    expect(firstHot.n - n0).toBeLessThanOrEqual(2);
  });

  it('holds inside the hysteresis band, then relaxes one tier per dwell', async () => {
    const esc = [...seen].reverse().find((s) => s.d.tier === 'minimal')!;
    fx.setSocC(88); // below severe's set (90) but above its clear (87): stays severe
    await sleep(DWELL_MS + 5 * SAMPLE_MS);
    expect(client.decision?.tier).toBe('minimal');
    expect(client.decision?.severity).toBe('severe');

    const mark = seen.length;
    fx.setSocC(50);
    await until(() => client.decision?.tier === 'full', 15_000, 'relaxed back to full');
    const steps = seen.slice(mark).map((s) => s.d);
    const tiers = steps.map((d) => d.tierIndex);
    // Each change richer by at most relaxStep (1), never skipping, each after the dwell.
    for (let i = 1; i < tiers.length; i++) {
      if (tiers[i] !== tiers[i - 1]) expect(tiers[i - 1] - tiers[i]).toBe(1);
    }
    const tierChanges = steps.filter((d, i) => i === 0 ? d.tierIndex !== esc.d.tierIndex : d.tierIndex !== steps[i - 1].tierIndex);
    let prevT = esc.d.t_ms;
    for (const d of tierChanges) {
      expect(d.t_ms - prevT).toBeGreaterThanOrEqual(DWELL_MS);
      prevT = d.t_ms;
    }
  });

  it('advise: private requests never go to the cloud, others do when the device is critical', async () => {
    // A short prompt: its first token comes within the 1 s target on this device, so it stays.
    const local = await client.advise({ promptTokens: 20, expectedOutputTokens: 100, private: false });
    expect(local.route).toBe('local');
    expect(local.predictedLocalTokS).toBeGreaterThan(0);
    expect(local.predictedFirstTokenMs).toBeGreaterThan(0);
    fx.setSocC(102); // critical → the policy offloads (cloudAt: critical)
    await until(() => client.decision?.offload === 'cloud', 5000, 'cloud offload');
    const pub = await client.advise({ promptTokens: 200, expectedOutputTokens: 100 });
    expect(pub.route).toBe('cloud');
    const priv = await client.advise({ promptTokens: 200, expectedOutputTokens: 100, private: true });
    expect(priv.route).not.toBe('cloud');
    expect(priv.reasons.some((r) => r.rule === 'private')).toBe(true);
    fx.setSocC(50);
  });

  it('report feeds tok_s back into the samples', async () => {
    const r = await client.report({ tokS: 7.5, firstTokenMs: 420, applied: { tier: client.decision!.tier } });
    expect(r.mismatch).toEqual([]);
    await until(async () => (await daemon.status()).signals['tok_s'] === 7.5, 3000, 'tok_s in samples');
    // Complete lines only: the daemon keeps journalling while we read.
    const lines = fs.readFileSync(journal, 'utf8').split('\n').slice(0, -1);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => { JSON.parse(l); return true; })).toBe(true);
  });

  it('report: applied knobs feed engine_mb (what the engine holds) while its connection lasts', async () => {
    const policy = await loadPolicyFile(testPolicyPath);
    const q4 = policy.model.quants.find((q) => q.name === 'q4_k_m')!;
    const expectedMb = needBytes(policy.model, q4.weightsBytes, 3072, 256) / MiB;
    const engine = new EdgegovClient({ socketPath: socket, log: false });
    await engine.connect();
    try {
      // A knobs-only report, as serve sends right after applying a change: batch size from the tier.
      await engine.report({ applied: { tier: 'balanced', quant: 'q4_k_m', contextLength: 3072 } });
      await until(async () => (await daemon.status()).signals['engine_mb'] !== undefined, 3000, 'engine_mb in samples');
      expect((await daemon.status()).signals['engine_mb']).toBeCloseTo(expectedMb, 6);
      // It carried no observation: the tok/s observed before stays.
      expect((await daemon.status()).lastReport?.tokS).toBe(7.5);
      // Nor does a report of work done (busyMs / radioMs, what the demo's simulated device feels).
      await engine.report({ radioMs: 800 });
      await engine.report({ busyMs: 120 });
      expect((await daemon.status()).lastReport?.tokS).toBe(7.5);
      // Knobs that do not pin the footprint down (no context length) leave it as it was.
      await engine.report({ applied: { tier: 'full' } });
      await sleep(3 * SAMPLE_MS);
      expect((await daemon.status()).signals['engine_mb']).toBeCloseTo(expectedMb, 6);
      // Another client going away is not the engine going away.
      const other = new EdgegovClient({ socketPath: socket, log: false });
      await other.connect();
      other.close();
      await sleep(3 * SAMPLE_MS);
      expect((await daemon.status()).signals['engine_mb']).toBeCloseTo(expectedMb, 6);
    } finally {
      engine.close();
    }
    await until(async () => (await daemon.status()).signals['engine_mb'] === undefined, 3000, 'engine_mb gone with its connection');
  });
});

describe('daemon: the lease when the daemon dies, and restart', () => {
  const dir = tmpDir('lease');
  const fx = makeFixture(dir, 50);
  const socket = path.join(dir, 'lease.sock');
  const args = ['--policy', testPolicyPath, '--sysfs-root', fx.root, '--simulate', 'none'];
  let client: EdgegovClient;
  let daemon: DaemonProc;
  afterAll(async () => {
    client?.close();
    daemon?.kill('SIGKILL');
  });

  it('falls back to the safe tier within ttlMs of a kill -9, and resumes after a restart', async () => {
    daemon = await startDaemon(args, { socket });
    const logs: string[] = [];
    client = new EdgegovClient({ socketPath: socket, log: (l) => logs.push(l), backoffInitialMs: 50, backoffMaxMs: 200 });
    const seen = collect(client);
    let expiredAt = 0;
    client.on('lease-expired', () => { expiredAt = Date.now(); });
    await client.connect();
    await until(() => client.decision?.tier === 'full', 3000, 'rich decision');
    expect(client.safe?.tier).toBe('minimal');

    daemon.kill('SIGKILL');
    const killedAt = Date.now();
    await daemon.exited;
    await until(() => expiredAt > 0, TTL_MS + 3000, 'lease expiry');
    // The lease runs from the last decision received (≤ killedAt), so expiry is due by
    // killedAt + ttl; allow scheduling slack on a shared machine.
    expect(expiredAt - killedAt).toBeLessThanOrEqual(TTL_MS + 1000);
    const fallback = seen[seen.length - 1];
    expect(fallback.source).toBe('lease-expired');
    expect(fallback.d.tier).toBe('minimal');
    expect(fallback.d.safe).toBe(true);
    expect(client.leaseExpired).toBe(true);
    expect(logs.some((l) => /lease expired.*safe tier 'minimal'/.test(l))).toBe(true);

    // The socket file the killed daemon left is stale: a new daemon must take it over.
    expect(fs.existsSync(socket)).toBe(true);
    daemon = await startDaemon(args, { socket });
    await until(() => !client.leaseExpired && client.decision?.tier === 'full', 5000, 'resumed decisions');
    expect(seen[seen.length - 1].source).toBe('daemon');
    expect(client.decision?.safe).toBe(false);
  });

  it('refuses to start a second daemon on a socket a live one answers', async () => {
    const r = await runCliAsync(['run', '--policy', testPolicyPath, '--sysfs-root', fx.root, '--socket', socket, '--metrics', 'off'], 20_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/another edgegov daemon is answering on/);
    // …and the live one is unharmed.
    expect((await daemon.status()).pid).toBe(daemon.proc.pid);
  });
});

describe('daemon: policy reload', () => {
  const dir = tmpDir('reload');
  const fx = makeFixture(dir, 50);
  const socket = path.join(dir, 'reload.sock');
  const policyFile = path.join(dir, 'policy.yaml');
  const good = fs.readFileSync(testPolicyPath, 'utf8');
  let daemon: DaemonProc;
  let client: EdgegovClient;
  afterAll(async () => {
    client?.close();
    daemon?.kill('SIGTERM');
    await daemon?.exited;
  });

  it('keeps the last good policy on an invalid one and reports file:line:col; applies a valid one without dropping clients', async () => {
    fs.writeFileSync(policyFile, good);
    daemon = await startDaemon(['--policy', policyFile, '--sysfs-root', fx.root, '--simulate', 'none'], { socket });
    client = new EdgegovClient({ socketPath: socket, log: false });
    let disconnects = 0;
    client.on('disconnected', () => disconnects++);
    const seen = collect(client);
    await client.connect();
    await until(() => client.decision?.tier === 'full', 3000, 'first decision');

    // An invalid policy: a tier with an unknown quant.
    fs.writeFileSync(policyFile, good.replace('quant: q8_0,', 'quant: q9_9,'));
    const bad = await runCliAsync(['reload', '--socket', socket]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/reload rejected/);
    expect(bad.stderr).toMatch(new RegExp(`${path.basename(policyFile).replace('.', '\\.')}:\\d+:\\d+: `));
    let st = await daemon.status();
    expect(st.policy.name).toBe('daemon-test');
    expect(st.policy.lastReloadOk).toBe(false);
    expect(st.policy.lastReloadErrors.join('\n')).toMatch(/:\d+:\d+: /);
    const metrics = await (await fetch(`http://${st.metrics}/metrics`)).text();
    expect(metrics).toMatch(/^edgegov_policy_last_reload_successful\{[^}]*\} 0$/m);
    expect(client.decision?.tier).toBe('full');

    // A valid one, by SIGHUP: a new name and a leaner cap at severity none.
    fs.writeFileSync(policyFile, good.replace('name: daemon-test', 'name: daemon-test-2').replace('none: full', 'none: balanced'));
    daemon.kill('SIGHUP');
    await until(() => client.decision?.tier === 'balanced', 5000, 'decision under the reloaded policy');
    st = await daemon.status();
    expect(st.policy.name).toBe('daemon-test-2');
    expect(st.policy.lastReloadOk).toBe(true);
    const m2 = await (await fetch(`http://${st.metrics}/metrics`)).text();
    expect(m2).toMatch(/^edgegov_policy_last_reload_successful\{[^}]*\} 1$/m);

    // And by the command, answered.
    const ok = await runCliAsync(['reload', '--socket', socket]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/reloaded policy 'daemon-test-2'/);
    expect(disconnects).toBe(0);
    expect(seen.every((s) => s.source === 'daemon')).toBe(true);
  });
});
