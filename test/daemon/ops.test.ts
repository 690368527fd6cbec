/**
 * Operations, end to end: the journal after `kill -9` under heavy journaling; the
 * `npm start` command on THIS machine (no thermal sensors → simulated signals), answered by
 * `edgegov status`; /metrics and /healthz; sd_notify READY/STOPPING; SIGTERM within a deadline.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { EdgegovClient } from '../../src/ipc/client.js';
import { findOnPath } from '../../src/daemon/sd-notify.js';
import { makeFixture, runCliAsync, startDaemon, testPolicyPath, tmpDir, until, sleep, type DaemonProc } from './helpers.js';
import { repoRoot } from '../helpers/cli.js';

interface JournalLine { n: number; seq: number; changed: boolean; decision: { tier: string } }

/** Reads the journal and its rotated files oldest first. */
function readJournal(file: string): { lines: JournalLine[]; files: number } {
  const files = [3, 2, 1].map((i) => `${file}.${i}`).filter((f) => fs.existsSync(f));
  files.push(file);
  const lines: JournalLine[] = [];
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    // Every line ends with \n: a torn last line would not.
    expect(text.endsWith('\n')).toBe(true);
    for (const l of text.slice(0, -1).split('\n')) lines.push(JSON.parse(l) as JournalLine);
  }
  return { lines, files: files.length };
}

describe('daemon: decision journal after kill -9', () => {
  const dir = tmpDir('journal');
  const fx = makeFixture(dir, 50);
  const socket = path.join(dir, 'j.sock');
  const journal = path.join(dir, 'decisions.jsonl');
  let daemon: DaemonProc;
  afterAll(() => daemon?.kill('SIGKILL'));

  it('every line parses and nothing before the last fsync point is lost', async () => {
    // 200 Hz, every sample journalled, and a small rotation size so rotation happens too.
    daemon = await startDaemon(['--policy', testPolicyPath, '--sysfs-root', fx.root, '--simulate', 'none',
      '--hz', '200', '--journal', journal, '--journal-every-sample', '--journal-max-bytes', String(200 * 1024)], { socket });
    // Keep decisions changing while it journals.
    for (let i = 0; i < 8; i++) {
      fx.setSocC(i % 2 ? 95 : 50);
      await sleep(150);
    }
    const st = await daemon.status();
    const synced = st.journal!.syncedLines;
    expect(synced).toBeGreaterThan(0);
    expect(st.journal!.fsyncEveryLines).toBeGreaterThan(0);
    await sleep(120);
    daemon.kill('SIGKILL');
    expect(await daemon.exited).toBe('SIGKILL');

    const { lines, files } = readJournal(journal);
    expect(files).toBeGreaterThan(1); // rotated at least once
    // Sample numbers are consecutive across rotated files: no line lost or duplicated in
    // what is kept (rotation keeps the newest files).
    for (let i = 1; i < lines.length; i++) expect(lines[i].n).toBe(lines[i - 1].n + 1);
    // Everything up to the fsync point the daemon reported is there (line k has n = k).
    expect(lines.at(-1)!.n).toBeGreaterThanOrEqual(synced);
  });
});

describe('npm start on this machine', () => {
  const dir = tmpDir('start');
  const socket = path.join(dir, 'edgegov.sock'); // the default path under XDG_RUNTIME_DIR
  let proc: ReturnType<typeof spawn> | undefined;
  afterAll(() => proc?.kill('SIGKILL'));

  it('runs the default policy, says which signals are simulated, answers status, serves metrics, stops on SIGTERM', async () => {
    const notifySock = path.join(dir, 'notify.sock');
    const notify = findOnPath('systemd-notify') && findOnPath('python3') ? startNotifyListener(notifySock) : undefined;
    if (notify) await notify.ready;
    // `npm start` minus npm: the default socket path ($XDG_RUNTIME_DIR/edgegov.sock, pointed at a
    // temp dir) so `edgegov status` finds it with no flag; an ephemeral metrics port.
    const env = { ...process.env, XDG_RUNTIME_DIR: dir, EDGEGOV_SOCKET: '', ...(notify ? { NOTIFY_SOCKET: notifySock, WATCHDOG_USEC: '400000' } : {}) };
    proc = spawn(process.execPath, ['bin/edgegov.js', 'run', '--policy', 'policies/default.yaml', '--metrics', '127.0.0.1:0'], {
      cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    let out = '';
    proc.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
    proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    const exited = new Promise<number | null>((r) => proc!.on('exit', (c) => r(c)));
    await until(() => /edgegov running/.test(err), 20_000, 'startup log');

    // Not a TTY: JSON log lines only, nothing on stdout.
    expect(out).toBe('');
    const running = err.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => /edgegov running/.test(String(l.msg)))!;
    const simulated = running.simulated as string[];
    // This machine has no thermal zones and no battery (the test host of this project).
    const hostHasThermal = fs.existsSync('/sys/class/thermal') && fs.readdirSync('/sys/class/thermal').some((z) => z.startsWith('thermal_zone'));
    if (!hostHasThermal) {
      expect(simulated).toContain('soc_c');
      expect(simulated).toContain('skin_c');
      expect(String(running.msg)).toMatch(/simulated signals.*soc_c/);
    }
    expect(simulated).not.toContain('mem_avail_mb');

    const st = await runCliAsync(['status'], 30_000, env);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/policy\s+default-phone/);
    expect(st.stdout).toMatch(/decision /);
    const js = await runCliAsync(['status', '--socket', socket, '--json']);
    const status = JSON.parse(js.stdout) as { simulated: string[]; decision: { simulated: string[] }; metrics: string };
    expect(status.simulated).toEqual(simulated);
    expect(status.decision.simulated).toEqual(simulated);

    const metrics = await (await fetch(`http://${status.metrics}/metrics`)).text();
    expect(metrics).toMatch(/^edgegov_decisions_total\{device="[^"]+"\} \d+/m);
    expect(metrics).toMatch(/^edgegov_temperature_celsius\{signal="soc_c",device="[^"]+"\} [\d.]+$/m);
    if (!hostHasThermal) expect(metrics).toMatch(/^edgegov_signal_simulated\{signal="soc_c",device="[^"]+"\} 1$/m);
    expect(metrics).toMatch(/^edgegov_sample_to_decision_seconds_bucket\{le="0\.001",device=/m);
    expect(metrics).toMatch(/^edgegov_policy_last_reload_successful\{device="[^"]+"\} 1$/m);
    expect((await fetch(`http://${status.metrics}/healthz`)).status).toBe(200);
    expect((await fetch(`http://${status.metrics}/readyz`)).status).toBe(200);

    // SIGTERM: subscribers get the safe tier and a shutdown event, the process exits 0 in time.
    const client = new EdgegovClient({ socketPath: socket, log: false, reconnect: false });
    const got: string[] = [];
    client.on('decision', (d, src) => got.push(`${src}:${d.tier}`));
    await client.connect();
    await until(() => got.length > 0, 3000, 'a decision');
    const t0 = Date.now();
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(got).toContain('shutdown:minimal');
    expect(fs.existsSync(socket)).toBe(false);
    client.close();
    if (notify) {
      await until(() => notify.messages().some((m) => m.includes('STOPPING=1')), 3000, 'STOPPING=1');
      expect(notify.messages().some((m) => m.includes('READY=1'))).toBe(true);
      // WatchdogSec=0.4 s → pings every 0.2 s while running.
      expect(notify.messages().some((m) => m.includes('WATCHDOG=1'))).toBe(true);
      notify.close();
    }
    // And now nothing answers.
    const gone = await runCliAsync(['status', '--socket', socket, '--timeout-ms', '500']);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/no edgegov daemon answering/);
  });
});

describe('npm start on a terminal', () => {
  it.skipIf(!findOnPath('script'))('shows the compact live view redrawn in place, logs inside it', async () => {
    const dir = tmpDir('tty');
    const out = path.join(dir, 'tty.out');
    const cmd = `stty cols 100; exec ${process.execPath} bin/edgegov.js run --policy policies/default.yaml --socket ${path.join(dir, 's.sock')} --metrics off`;
    // util-linux `script` gives the daemon a pseudo-terminal; SIGINT after a few redraws.
    const p = spawn('script', ['-qfc', cmd, out], { cwd: repoRoot, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    await until(() => fs.existsSync(out) && (fs.readFileSync(out, 'utf8').match(/\x1b\[\d+F/g) ?? []).length >= 2, 20_000, 'two redraws');
    p.kill('SIGINT');
    await exited;
    const text = fs.readFileSync(out, 'utf8');
    expect(text).toMatch(/severity \w+ +tier \w+ +offload (local|cloud|pause)/);
    expect(text).toMatch(/knobs \S+ · ctx \d+ · batch \d+/);
    expect(text).toMatch(/why /);
    // No raw JSON log lines on the terminal: they are shown inside the frame.
    expect(text).not.toMatch(/\{"level":/);
    const hostHasThermal = fs.existsSync('/sys/class/thermal') && fs.readdirSync('/sys/class/thermal').some((z) => z.startsWith('thermal_zone'));
    if (!hostHasThermal) expect(text).toMatch(/simulated \(this host has no sensor\): soc_c/);
  });
});

/** An AF_UNIX datagram listener (Node has none) standing in for systemd's notify socket. */
function startNotifyListener(sockPath: string) {
  const py = [
    'import socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    `s.bind(${JSON.stringify(sockPath)})`,
    'print("ready", flush=True)',
    'while True:',
    '    m = s.recv(4096).decode()',
    '    print(m.replace("\\n", "|"), flush=True)',
  ].join('\n');
  const p = spawn('python3', ['-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const ready = new Promise<void>((resolve) => p.stdout.on('data', (b: Buffer) => { out += b.toString(); if (out.includes('ready')) resolve(); }));
  return { ready, messages: () => out.split('\n'), close: () => p.kill('SIGKILL') };
}
