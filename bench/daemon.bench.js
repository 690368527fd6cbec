// Daemon benchmarks (SPEC §10): CPU (% of one core) and RSS of `edgegov run` at 10 Hz and
// 100 Hz on the 64-zone Snapdragon fixture tree with one subscribed client; latency from a
// fixture change, and from a memory-pressure event, to the decision received by a client.
//
// EDGEGOV_BENCH_DAEMON_S sets each CPU/RSS window (default 60 s, the figure; three
// windows, so the whole file takes ~3.5 min). Latency rounds: EDGEGOV_BENCH_DAEMON_ROUNDS (default 60).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Daemon } from '../dist/daemon/daemon.js';
import { EdgegovClient } from '../dist/ipc/client.js';
import { silentLogger } from '../dist/telemetry/logger.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = path.join(repo, 'bin/edgegov.js');
const FIXTURE = path.join(repo, 'test/fixtures/sysfs/sd8elite-dev');
const WINDOW_S = Number(process.env.EDGEGOV_BENCH_DAEMON_S ?? 60);
const ROUNDS = Number(process.env.EDGEGOV_BENCH_DAEMON_ROUNDS ?? 60);
const CLK_TCK = 100; // USER_HZ on Linux

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function fixtureCopy(dir) {
  const root = path.join(dir, 'sysfs');
  fs.cpSync(FIXTURE, root, { recursive: true, verbatimSymlinks: true });
  const thermal = path.join(root, 'sys/class/thermal');
  const soc = fs.readdirSync(thermal)
    .filter((z) => /^(cpu|cpuss|gpuss)-/.test(fs.readFileSync(path.join(thermal, z, 'type'), 'utf8').trim()))
    .map((z) => path.join(thermal, z, 'temp'));
  const setSocC = (c) => {
    const text = Buffer.from(`${Math.round(c * 1000)}\n`);
    for (const f of soc) {
      const fd = fs.openSync(f, 'r+');
      fs.writeSync(fd, text, 0, text.length, 0);
      fs.ftruncateSync(fd, text.length);
      fs.closeSync(fd);
    }
  };
  const meminfo = path.join(root, 'proc/meminfo');
  fs.writeFileSync(meminfo, fs.readFileSync(meminfo, 'utf8').replace(/^MemAvailable:.*$/m, 'MemAvailable:   12000000 kB'));
  setSocC(50);
  return { root, setSocC };
}

function cpuTicks(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * `cli`: `edgegov run` as `npm start` runs it. `service`: the lean entry with the young-generation
 * cap the service files use (deploy/edgegov.service): `node --max-semi-space-size=1 dist/daemon/main.js`.
 */
const ENTRIES = {
  cli: [cli, 'run'],
  service: ['--max-semi-space-size=1', path.join(repo, 'dist/daemon/main.js')],
};

async function startDaemon(args, socket, entry = 'cli') {
  const p = spawn(process.execPath, [...ENTRIES[entry], '--socket', socket, '--metrics', 'off', '--log-level', 'warn', ...args], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (b) => { err += b; });
  for (let i = 0; i < 200; i++) {
    if (p.exitCode !== null) throw new Error(`daemon exited: ${err}`);
    if (fs.existsSync(socket)) {
      const ok = await new Promise((r) => { const s = net.connect(socket); s.on('connect', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
      if (ok) return p;
    }
    await sleep(100);
  }
  p.kill('SIGKILL');
  throw new Error(`daemon did not start: ${err}`);
}

const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

async function cpuAndRss(emit, hz, dir, fx, entry) {
  const socket = path.join(dir, `cpu-${hz}-${entry}.sock`);
  // Metrics on (the default), scraped by nobody: the cost of serving them is per scrape.
  const d = await startDaemon(['--policy', path.join(repo, 'policies/default.yaml'), '--sysfs-root', fx.root, '--hz', String(hz), '--metrics', '127.0.0.1:0'], socket, entry);
  const client = new EdgegovClient({ socketPath: socket, log: false });
  await client.connect();
  await sleep(2000); // warm-up: JIT, first rediscovery
  const t0 = process.hrtime.bigint();
  const c0 = cpuTicks(d.pid);
  await sleep(WINDOW_S * 1000);
  const c1 = cpuTicks(d.pid);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const rss = rssMb(d.pid);
  client.close();
  d.kill('SIGTERM');
  await new Promise((r) => d.on('exit', r));
  const cpuPct = ((c1 - c0) / CLK_TCK / wallS) * 100;
  const how = entry === 'cli' ? 'edgegov run' : 'service entry';
  emit({ name: `daemon CPU at ${hz} Hz, ${how} (64-zone fixture, 1 subscriber, ${WINDOW_S} s)`, value: Number(cpuPct.toFixed(2)), unit: '% of one core', ...(hz === 10 ? { target: 1, meetsTarget: cpuPct <= 1 } : {}) });
  emit({ name: `daemon RSS at ${hz} Hz, ${how}`, value: Number(rss.toFixed(1)), unit: 'MB', ...(hz === 10 ? { target: 80, meetsTarget: rss <= 80 } : {}) });
}

/** Fixture temperature step → changed decision at a subscribed client, at 10 Hz. */
/**
 * Alternates the device hot and cool `rounds` times; `heat(hot)` makes the change and returns
 * when it did (performance.now()). Returns, per round, the ms until a subscribed client saw
 * the matching tier (hot → `minimal`, cool → `full`).
 */
async function toggleLatencies(socket, rounds, heat) {
  const client = new EdgegovClient({ socketPath: socket, log: false });
  let waiting;
  client.on('decision', (dec) => { if (waiting && dec.tier === waiting.tier) { const w = waiting; waiting = undefined; w.resolve(performance.now()); } });
  await client.connect();
  const lat = [];
  let hot = false;
  for (let i = 0; i < rounds; i++) {
    hot = !hot;
    const got = new Promise((resolve) => { waiting = { tier: hot ? 'minimal' : 'full', resolve }; });
    const t0 = await heat(hot);
    lat.push((await got) - t0);
  }
  client.close();
  return lat;
}

async function fixtureLatency(emit, dir, fx) {
  const policy = path.join(dir, 'bench-policy.yaml');
  fs.writeFileSync(policy, fs.readFileSync(path.join(repo, 'test/daemon/fixtures/test-policy.yaml'), 'utf8')
    .replace('dwell: 1s', 'dwell: 0s').replace('relaxStep: 1', 'relaxStep: 3'));
  const socket = path.join(dir, 'lat.sock');
  const d = await startDaemon(['--policy', policy, '--sysfs-root', fx.root, '--simulate', 'none', '--hz', '10'], socket);
  const lat = await toggleLatencies(socket, ROUNDS, async (hot) => {
    await sleep(Math.random() * 100); // decorrelate from the sample clock
    const t0 = performance.now();
    fx.setSocC(hot ? 95 : 50);
    return t0;
  });
  d.kill('SIGTERM');
  await new Promise((r) => d.on('exit', r));
  emit({ name: 'fixture change → decision at client, 10 Hz, p50', value: Number(pct(lat, 0.5).toFixed(1)), unit: 'ms', bound: 'one sample period (100 ms) + processing' });
  emit({ name: 'fixture change → decision at client, 10 Hz, p99', value: Number(pct(lat, 0.99).toFixed(1)), unit: 'ms' });
}

/** Memory-pressure event → immediate sample → decision at a client, with the timer at 1 Hz. */
async function pressureLatency(emit, dir) {
  const policy = path.join(dir, 'bench-policy.yaml');
  const socket = path.join(dir, 'psi.sock');
  let socC = 50;
  let fire;
  const source = {
    binding: 'mock',
    read: () => ({ signals: { 'zone.cpu-0': socC, 'zone.gpuss-0': socC - 5, mem_avail_mb: 12000, mem_total_mb: 16000, battery_pct: 80 }, faults: [] }),
    onPressure: (cb) => { fire = cb; return () => { fire = undefined; }; },
    close: () => {},
  };
  const daemon = new Daemon({
    logger: silentLogger(),
    config: { policyPath: policy, sysfsRoot: '/', socketPath: socket, hz: 1, simulate: 'none' },
    deps: { openSensors: async () => ({ source, absent: new Set() }) },
  });
  await daemon.start();
  const lat = await toggleLatencies(socket, ROUNDS * 3, async (hot) => {
    socC = hot ? 95 : 50;
    await sleep(5);
    const t0 = performance.now();
    fire({ type: 'fired' });
    return t0;
  });
  await daemon.stop('bench');
  emit({ name: 'pressure event → decision at client (in-process), p50', value: Number(pct(lat, 0.5).toFixed(3)), unit: 'ms' });
  emit({ name: 'pressure event → decision at client (in-process), p99', value: Number(pct(lat, 0.99).toFixed(3)), unit: 'ms', target: 5, meetsTarget: pct(lat, 0.99) <= 5 });
}

export default async function (emit) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgegov-bench-daemon-'));
  try {
    const fx = fixtureCopy(dir);
    await fixtureLatency(emit, dir, fx);
    await pressureLatency(emit, dir);
    await cpuAndRss(emit, 10, dir, fx, 'service');
    await cpuAndRss(emit, 100, dir, fx, 'service');
    await cpuAndRss(emit, 10, dir, fx, 'cli');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
