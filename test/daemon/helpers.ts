/**
 * End-to-end helpers: a writable copy of D's 64-zone Snapdragon fixture tree, and the daemon
 * as a real child process (`bin/edgegov.js run`, i.e. the compiled dist/ — `npm test` builds
 * first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliPath, repoRoot } from '../helpers/cli.js';
import { requestOnce } from '../../src/ipc/client.js';
import type { DaemonStatus } from '../../src/ipc/protocol.js';
// @ts-expect-error plain JS module without types (shared with the npm run crashloop script)
import { writeInPlace } from '../../scripts/crashloop/procs.mjs';

export const testPolicyPath = path.join(repoRoot, 'test/daemon/fixtures/test-policy.yaml');
const FIXTURE = path.join(repoRoot, 'test/fixtures/sysfs/sd8elite-dev');
/** SoC zones of the fixture (the test policy's soc_c = max of cpu* and gpu*). */
const SOC_ZONE = /^(cpu|cpuss|gpuss)-/;

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `edgegov-${prefix}-`));
}

export interface Fixture {
  root: string;
  /** Writes `tempC` to every SoC zone's `temp` file (millidegrees, as the kernel does). */
  setSocC(tempC: number): void;
  zoneCount: number;
}

export function makeFixture(dir: string, initialSocC = 50): Fixture {
  const root = path.join(dir, 'sysfs');
  fs.cpSync(FIXTURE, root, { recursive: true, verbatimSymlinks: true });
  const thermal = path.join(root, 'sys/class/thermal');
  const socTemps: string[] = [];
  let zoneCount = 0;
  for (const z of fs.readdirSync(thermal)) {
    const type = fs.readFileSync(path.join(thermal, z, 'type'), 'utf8').trim();
    zoneCount++;
    if (SOC_ZONE.test(type)) socTemps.push(path.join(thermal, z, 'temp'));
  }
  const setSocC = (c: number) => {
    const text = Buffer.from(`${Math.round(c * 1000)}\n`);
    for (const f of socTemps) writeInPlace(f, text);
  };
  setSocC(initialSocC);
  // Plenty of free memory, so the memory rule never binds and the tests see thermal control only.
  const meminfo = path.join(root, 'proc/meminfo');
  fs.writeFileSync(meminfo, fs.readFileSync(meminfo, 'utf8')
    .replace(/^MemTotal:.*$/m, 'MemTotal:       16000000 kB')
    .replace(/^MemAvailable:.*$/m, 'MemAvailable:   12000000 kB'));
  return { root, setSocC, zoneCount };
}

export interface DaemonProc {
  proc: ChildProcess;
  socket: string;
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  status(): Promise<DaemonStatus>;
  kill(sig?: NodeJS.Signals): void;
}

export async function startDaemon(args: string[], opts: { socket: string; env?: NodeJS.ProcessEnv; readyTimeoutMs?: number } ): Promise<DaemonProc> {
  const proc = spawn(process.execPath, [cliPath, 'run', '--socket', opts.socket, '--metrics', '127.0.0.1:0', ...args], {
    cwd: repoRoot,
    env: { ...process.env, FORCE_COLOR: '0', ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  proc.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  const d: DaemonProc = {
    proc,
    socket: opts.socket,
    stderr: () => err,
    stdout: () => out,
    exited,
    status: () => requestOnce<{ status: DaemonStatus }>(opts.socket, { op: 'status' }, 3000).then((r) => r.status),
    kill: (sig = 'SIGTERM') => { proc.kill(sig); },
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  let done = false;
  void exited.then(() => { done = true; });
  for (;;) {
    if (done) throw new Error(`daemon exited before answering:\n${err}`);
    try {
      await d.status();
      return d;
    } catch {
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`daemon did not answer on ${opts.socket}:\n${err}`);
      }
      await sleep(100);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `pred` until true or the deadline. */
export async function until(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * The CLI as a child process WITHOUT blocking this process's event loop (spawnSync would
 * freeze the SDK clients under test, so their lease timers would fire on resume).
 */
export function runCliAsync(args: string[], timeoutMs = 30_000, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cliPath, ...args], { cwd: repoRoot, env: { ...env, FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    p.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(t); resolve({ code: code ?? -1, stdout, stderr }); });
  });
}
