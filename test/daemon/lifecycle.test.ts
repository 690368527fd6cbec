/**
 * The Daemon lifecycle class in process, with an injected sensor source (the dependency seam):
 * a pressure event forces an immediate sample and decision; missing host signals come from the
 * simulated device and are marked; stop() publishes the safe tier. Plus `status --watch`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { EdgegovClient } from '../../src/ipc/client.js';
import type { SensorSourceLike } from '../../src/daemon/deps.js';
import { cliPath, repoRoot } from '../helpers/cli.js';
import { renderStatus } from '../../src/cli/commands/status.js';
import { testPolicyPath, tmpDir, until } from './helpers.js';

function fakeSource(state: { socC: number; faults?: { signal: string; reason: string }[] }) {
  let fire: (() => void) | undefined;
  let closed = false;
  const source: SensorSourceLike = {
    binding: 'mock',
    read: () => ({
      signals: { 'zone.cpu-0-0-0': state.socC, 'zone.gpuss-0': state.socC - 3, mem_avail_mb: 12_000, mem_total_mb: 16_000 },
      faults: state.faults ?? [],
    }),
    onPressure: (cb) => { fire = cb; return () => { fire = undefined; }; },
    close: () => { closed = true; },
  };
  return { source, fire: () => fire?.(), isClosed: () => closed };
}

describe('Daemon (in process)', () => {
  const dir = tmpDir('life');
  const socket = path.join(dir, 'life.sock');
  const state: { socC: number; faults?: { signal: string; reason: string }[] } = { socC: 50 };
  const fake = fakeSource(state);
  // Battery absent on this fake host: simulated. Soc zones present: real.
  const daemon = new Daemon({
    logger: silentLogger(),
    config: { policyPath: testPolicyPath, sysfsRoot: '/', socketPath: socket, hz: 0.2, simulate: 'auto' },
    deps: { openSensors: async () => ({ source: fake.source, absent: new Set(['battery_pct', 'battery_w', 'charging', 'battery_c', 'skin_c', 'ambient_c']) }) },
    notifier: { enabled: false, send: async () => {}, startWatchdog() {}, stop() {} },
  });
  let client: EdgegovClient;
  afterAll(async () => {
    client?.close();
    await daemon.stop('test end');
  });

  it('takes an immediate sample and decision on a pressure event, between timer ticks', async () => {
    await daemon.start();
    client = new EdgegovClient({ socketPath: socket, log: false });
    await client.connect();
    await until(() => client.decision?.tier === 'full', 3000, 'first decision');
    const n0 = daemon.samples;
    state.socC = 95;
    fake.fire(); // the timer is at 0.2 Hz: only the event can explain a prompt decision
    expect(daemon.samples).toBe(n0 + 1);
    expect(daemon.decision?.tier).toBe('minimal');
    await until(() => client.decision?.tier === 'minimal', 1000, 'escalation at the client');
    expect(daemon.status().sources.psiEvents).toBe(1);
  });

  it('marks the signals the host lacks as simulated, and only those', () => {
    const st = daemon.status();
    expect(st.simulated).toEqual(expect.arrayContaining(['battery_pct', 'skin_c']));
    expect(st.simulated).not.toContain('mem_avail_mb');
    expect(st.simulated.some((s) => s.startsWith('zone.'))).toBe(false); // the host has zones
    expect(st.decision?.simulated).toEqual(st.simulated);
    expect(st.signals['battery_pct']).toBeGreaterThan(0);
    expect(st.signals['zone.cpu-0-0-0']).toBe(95);
  });

  it('status names the fault consequence in force for each declared sensor, and next to a fault', () => {
    state.faults = [{ signal: 'mem_avail_mb', reason: 'out of range' }, { signal: 'psi_mem_full_avg10', reason: 'unreadable' }];
    fake.fire();
    const st = daemon.status();
    // The test policy writes no onFault: the role defaults (critical soc_c → safe, the rest ignore).
    expect(st.faultConsequences).toContainEqual({ signal: 'soc_c', onFault: 'safe', byDefault: true, zonesSubstitute: true });
    expect(st.faultConsequences).toContainEqual({ signal: 'mem_avail_mb', onFault: 'ignore', byDefault: true });
    const text = renderStatus(st);
    // A declared sensor's fault says what it does; a signal the policy declares no sensor for does not.
    expect(text).toMatch(/^faults +mem_avail_mb: out of range → onFault ignore \(default\); psi_mem_full_avg10: unreadable$/m);
    state.faults = undefined;
  });

  it('status --watch prints the state and follows changes', async () => {
    const p = spawn(process.execPath, [cliPath, 'status', '--watch', '--socket', socket, '--interval-ms', '200'], { cwd: repoRoot });
    let out = '';
    p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    await until(() => /tier minimal/.test(out), 10_000, 'watch output');
    state.socC = 102;
    fake.fire();
    await until(() => /offload cloud/.test(out), 5000, 'watch sees the change');
    p.kill('SIGINT');
    await new Promise((r) => p.on('exit', r));
  });

  it('stop() publishes the safe tier to subscribers and closes the sensors', async () => {
    const got: string[] = [];
    client.on('decision', (d, src) => got.push(`${src}:${d.tier}:${d.safe}`));
    await daemon.stop('SIGTERM');
    await until(() => got.includes('shutdown:minimal:true'), 2000, 'safe tier at shutdown');
    expect(fake.isClosed()).toBe(true);
  });
});
