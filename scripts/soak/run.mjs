#!/usr/bin/env node
// The soak: the daemon (`node bin/edgegov.js run`, as `npm start` runs it) at 100 Hz on a
// fixture tree the driver keeps changing, `--clients` SDK clients churning through sessions, a
// policy reload every 10 s alternating valid and invalid files, and /metrics scraped every
// second. Once a second it samples the daemon's RSS, open fds and threads (/proc/<pid>) and its
// heap and event-loop delay (/metrics); at the end it judges growth and stalls (verdict.mjs),
// writes samples.jsonl and soak.svg, and prints its figures as one JSON line.
//
//   node scripts/soak/run.mjs [--duration 60m] [--hz 100] [--clients 50] [--out DIR]
//   npm run soak                     (the long form: 60 min)
// Exit: 0 pass, 1 a series grew / the loop stalled / the daemon died / bad arguments,
// 2 environment wrong (no /proc, dist/ not built).
import { fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startClients } from './clients.mjs';
import { METRIC_NAMES, parseMetrics, readProc, scrape } from './sampler.mjs';
import { GROWTH_LIMITS, judgeSoak } from './verdict.mjs';
import { renderSvg } from './plot.mjs';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = path.join(repo, 'test/fixtures/sysfs/sd8elite-dev');
const POLICY = fileURLToPath(new URL('./policy.yaml', import.meta.url));
/** prom-client's event-loop histogram (the daemon sets 250 ms precision) records each timer's
 *  full interval, so its idle minimum is the precision itself: the delay is what lies beyond. */
const LOOP_PRECISION_MS = 250;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class ArgError extends Error {}

/** "90s", "60m", "1h", "250ms" or a bare number of seconds → ms. */
export function parseDurationMs(text, flag) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(text).trim());
  if (!m) throw new ArgError(`${flag}: expected a duration like 90s, 60m or 1h, got '${text}'`);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'];
  const ms = Number(m[1]) * mult;
  if (!(ms > 0)) throw new ArgError(`${flag}: expected a positive duration, got '${text}'`);
  return ms;
}

const FLAGS = {
  '--duration': { key: 'durationMs', parse: parseDurationMs, default: '60m' },
  '--hz': { key: 'hz', parse: (v, f) => positive(v, f, 1000), default: '100' },
  '--clients': { key: 'clients', parse: (v, f) => Math.round(positive(v, f, 250)), default: '50' },
  '--reload-every': { key: 'reloadEveryMs', parse: parseDurationMs, default: '10s' },
  '--scrape-every': { key: 'scrapeEveryMs', parse: parseDurationMs, default: '1s' },
  '--cycle': { key: 'cycleMs', parse: parseDurationMs, default: '80s' },
  '--ramp-period': { key: 'rampPeriodMs', parse: parseDurationMs, default: '120s' },
  '--stall-bound': { key: 'stallBoundMs', parse: parseDurationMs, default: '2s' },
  '--seed': { key: 'seed', parse: (v, f) => Math.round(positive(v, f, 2 ** 31)), default: '1' },
  '--out': { key: 'outDir', parse: (v) => path.resolve(v), default: undefined },
};

function positive(v, flag, max) {
  const n = Number(v);
  if (!(n > 0 && n <= max)) throw new ArgError(`${flag}: expected a number in (0, ${max}], got '${v}'`);
  return n;
}

export function parseArgs(argv) {
  const opts = {};
  for (const [, f] of Object.entries(FLAGS)) if (f.default !== undefined) opts[f.key] = f.parse(f.default, '(default)');
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const f = FLAGS[flag];
    if (!f) throw new ArgError(`unknown option '${argv[i]}' (known: ${Object.keys(FLAGS).join(' ')})`);
    const v = inline ?? argv[++i];
    if (v === undefined) throw new ArgError(`${flag}: missing value`);
    opts[f.key] = f.parse(v, flag);
  }
  return opts;
}

/** The reload sequence: valid, invalid, the other valid, invalid, … (each valid one differs). */
function policyVariants(text) {
  const a = text;
  const b = text.replace('light: 70C', 'light: 72C');
  const bad = text.replace('light: 70C', 'light: warm');
  if (b === a || bad === a) throw new Error(`${POLICY}: no 'light: 70C' to vary`);
  return [{ text: a, valid: true }, { text: bad, valid: false }, { text: b, valid: true }, { text: bad, valid: false }];
}

export async function runSoak(opts, { log = (line) => process.stderr.write(line + '\n') } = {}) {
  const { EdgegovClient } = await import(path.join(repo, 'dist/ipc/client.js'));
  const outDir = opts.outDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'edgegov-soak-'));
  fs.mkdirSync(outDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'edgegov-soak-tree-'));
  const { createRng } = await import(path.join(repo, 'dist/sim/rng.js'));
  const clientRng = createRng(opts.seed, 1);
  const driver = await startDriver({ fixtureDir: FIXTURE, dir: work, seed: opts.seed, cycleS: opts.cycleMs / 1000, rampPeriodS: opts.rampPeriodMs / 1000 });
  const policyPath = path.join(work, 'policy.yaml');
  const variants = policyVariants(fs.readFileSync(POLICY, 'utf8'));
  fs.writeFileSync(policyPath, variants[0].text);
  const socketPath = path.join(work, 'edgegov.sock');
  const daemonLog = path.join(outDir, 'daemon.log');
  const failures = [];
  const counts = { scrapes: 0, scrapeErrors: 0, samples: 0, sampleOverruns: 0, statusErrors: 0, reloadsOk: 0, reloadsRefused: 0, reloadErrors: 0 };
  const lastErrors = [];
  const noteError = (what, e) => {
    if (lastErrors.length < 20) lastErrors.push(`${what}: ${e?.code ? `${e.code}: ` : ''}${e?.message ?? e}`);
  };

  const daemon = spawn(process.execPath, ['--max-semi-space-size=1', path.join(repo, 'bin/edgegov.js'), 'run',
    '--policy', policyPath, '--sysfs-root', driver.root, '--socket', socketPath, '--metrics', '127.0.0.1:0',
    '--hz', String(opts.hz), '--log-level', 'warn', '--log-file', daemonLog], {
    cwd: repo, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' },
  });
  let daemonStderr = '';
  daemon.stderr.on('data', (b) => { if (daemonStderr.length < 64 * 1024) daemonStderr += b; });
  let exit;
  const exited = new Promise((resolve) => daemon.on('exit', (code, signal) => { exit = { code, signal }; resolve(exit); }));

  const monitor = new EdgegovClient({ socketPath, subscribe: false, reconnect: false, log: false, requestTimeoutMs: 10_000 });
  const readyBy = Date.now() + 30_000;
  for (;;) {
    if (exit) await driver.stop();
    if (exit) throw Object.assign(new Error(`the daemon exited (${JSON.stringify(exit)}) before answering:\n${daemonStderr}`), { exitCode: 2 });
    try {
      await monitor.connect({ timeoutMs: 2000 });
      break;
    } catch {
      if (Date.now() > readyBy) {
        daemon.kill('SIGKILL');
        await driver.stop();
        throw Object.assign(new Error(`the daemon did not answer on ${socketPath} within 30 s:\n${daemonStderr}`), { exitCode: 2 });
      }
      await sleep(200);
    }
  }
  const first = await monitor.status();
  const metricsHost = first.metrics;
  const ttlMs = monitor.server?.ttlMs;
  log(JSON.stringify({ kind: 'soak-start', pid: daemon.pid, hz: first.hz, sensors: first.sources.sensors, metrics: metricsHost, ttlMs, outDir, durationS: opts.durationMs / 1000, clients: opts.clients }));

  const clients = startClients({ EdgegovClient, socketPath, count: opts.clients, rng: () => clientRng.next() });
  const t0 = performance.now();
  const samples = [];
  // What the daemon was seen to notice of the driver's events (from `status` once a second).
  const seen = { faultReasons: new Set(), dropoutFaults: 0, fifoZoneAbsent: 0, fifoSkippedNotice: 0, vanishedZoneAbsent: 0, zonesReturned: 0, severities: new Set(), decisionChanges: 0 };
  const fifoSignal = `zone.${driver.fifoZoneType}`;
  const vanishSignal = `zone.${driver.vanishZoneType}`;
  let vanishedSeen = false;
  let sampling = false;

  const sampleOnce = async () => {
    if (sampling) { counts.sampleOverruns++; return; }
    sampling = true;
    try {
      const tS = (performance.now() - t0) / 1000;
      const s = { tS: Math.round(tS * 10) / 10 };
      try {
        const r = await scrape(metricsHost);
        counts.scrapes++;
        const m = parseMetrics(r.text, Object.values(METRIC_NAMES));
        s.scrapeMs = Math.round(r.ms * 10) / 10;
        s.heapUsedBytes = m[METRIC_NAMES.heapUsed];
        s.loopP99Ms = Math.max(0, m[METRIC_NAMES.loopP99] * 1000 - LOOP_PRECISION_MS);
        s.loopMaxMs = Math.max(0, m[METRIC_NAMES.loopMax] * 1000 - LOOP_PRECISION_MS);
        s.ipcClients = m[METRIC_NAMES.clients];
        s.decisions = m[METRIC_NAMES.decisions];
      } catch (e) {
        counts.scrapeErrors++;
        noteError('scrape', e);
      }
      try {
        Object.assign(s, readProc(daemon.pid, driver.root));
        if (Number.isFinite(s.ipcClients)) s.daemonFds = s.openFds - s.ipcClients;
      } catch (e) {
        noteError('/proc', e);
      }
      try {
        const st = await monitor.status();
        for (const f of st.faults) {
          const reason = `${f.signal}: ${f.reason}`.replace(/\d+(\.\d+)?/g, 'N');
          if (seen.faultReasons.size < 40) seen.faultReasons.add(reason);
          if (/ENODATA|not an integer|EBADMSG/.test(f.reason)) seen.dropoutFaults++;
          if (/not a regular file/.test(f.reason)) seen.fifoSkippedNotice++;
        }
        if (!(fifoSignal in st.signals)) seen.fifoZoneAbsent++;
        if (!(vanishSignal in st.signals)) { seen.vanishedZoneAbsent++; vanishedSeen = true; }
        else if (vanishedSeen) { seen.zonesReturned++; vanishedSeen = false; }
        seen.severities.add(st.decision?.severity);
        seen.decisionChanges = st.decisionChanges;
      } catch (e) {
        counts.statusErrors++;
        noteError('status', e);
      }
      samples.push(s);
      counts.samples++;
    } finally {
      sampling = false;
    }
  };

  let reloadIndex = 1;
  const reloadOnce = async () => {
    const v = variants[reloadIndex % variants.length];
    reloadIndex++;
    fs.writeFileSync(policyPath, v.text);
    try {
      await monitor.reload();
      if (v.valid) counts.reloadsOk++;
      else { counts.reloadErrors++; noteError('reload', new Error('an invalid policy was accepted')); }
    } catch (e) {
      if (!v.valid && e?.code === 'policy_invalid') counts.reloadsRefused++;
      else { counts.reloadErrors++; noteError('reload', e); }
    }
  };

  const sampleTimer = setInterval(() => void sampleOnce(), opts.scrapeEveryMs);
  const reloadTimer = setInterval(() => void reloadOnce(), opts.reloadEveryMs);
  const progressTimer = setInterval(() => {
    const last = samples[samples.length - 1] ?? {};
    log(JSON.stringify({ kind: 'soak-progress', tS: last.tS, rssMiB: +(last.rssBytes / 2 ** 20).toFixed(1), heapMiB: +(last.heapUsedBytes / 2 ** 20).toFixed(1), fds: last.openFds, daemonFds: last.daemonFds, threads: last.threads, loopMaxMs: Math.round(last.loopMaxMs * 10) / 10, sessions: clients.counts.sessions, reloadsOk: counts.reloadsOk, reloadsRefused: counts.reloadsRefused }));
  }, Math.min(60_000, Math.max(10_000, opts.durationMs / 20)));
  // Stop early if the daemon dies: that is the soak's plainest failure.
  await Promise.race([sleep(opts.durationMs), exited, driver.exited]);
  clearInterval(sampleTimer);
  clearInterval(reloadTimer);
  clearInterval(progressTimer);
  const durationS = (performance.now() - t0) / 1000;
  if (exit) failures.push(`daemon: died during the soak (${JSON.stringify(exit)}); see ${daemonLog}`);
  if (driver.exit) failures.push(`driver: exited during the soak (${JSON.stringify(driver.exit)})`);
  await clients.stop();
  while (sampling) await sleep(20);
  const finalStatus = exit ? undefined : await monitor.status().catch((e) => { noteError('status', e); return undefined; });
  monitor.close();
  const driverEnd = await driver.stop();
  if (!exit) {
    daemon.kill('SIGTERM');
    const stopped = await Promise.race([exited, sleep(15_000).then(() => undefined)]);
    if (!stopped) { daemon.kill('SIGKILL'); failures.push('daemon: did not stop within 15 s of SIGTERM'); await exited; }
    else if (stopped.code !== 0) failures.push(`daemon: exited ${JSON.stringify(stopped)} on SIGTERM; see ${daemonLog}`);
  }

  const verdict = judgeSoak(samples, { stallBoundMs: opts.stallBoundMs });
  failures.push(...verdict.failures);
  if (counts.reloadErrors) failures.push(`reload: ${counts.reloadErrors} reloads went the wrong way (a valid one refused or an invalid one taken)`);
  if (!driverEnd) failures.push('driver: did not answer stop within 10 s');
  else if (driverEnd.counts.errors) failures.push(`driver: ${driverEnd.counts.errors} errors changing the tree (last: ${driverEnd.lastError})`);
  const expectedSamples = Math.floor(durationS * 1000 / opts.scrapeEveryMs);
  if (counts.samples < expectedSamples * 0.8) failures.push(`sampler: ${counts.samples} samples of ${expectedSamples} expected (the soak itself starved?)`);

  fs.writeFileSync(path.join(outDir, 'samples.jsonl'), samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
  const svgPath = path.join(outDir, 'soak.svg');
  fs.writeFileSync(svgPath, plot(samples, verdict, { durationS, hz: opts.hz, clients: opts.clients }));

  const fdsOf = (k) => ({ max: Math.max(...samples.map((s) => s[k]).filter(Number.isFinite)), last: samples[samples.length - 1]?.[k] });
  const round = (x, d = 3) => (Number.isFinite(x) ? Number(x.toPrecision(d)) : x);
  const series = Object.fromEntries(Object.entries(verdict.series).map(([k, j]) => [k, {
    judged: j.judged, ok: j.ok, slopePerMin: round(j.slopePerMin), limitPerMin: j.limitPerMin, growthOverWindow: round(j.growthOverWindow), floor: j.floor, unit: j.unit,
    ...(j.envelopeS ? { envelopeS: j.envelopeS } : {}), windowMin: round(j.windowMin), points: j.points, first: j.first, last: j.last, ...(j.note ? { note: j.note } : {}),
  }]));
  const figures = {
    kind: 'soak',
    ok: failures.length === 0,
    failures,
    durationS: Math.round(durationS),
    hz: opts.hz,
    measuredHz: finalStatus ? round(finalStatus.samples / finalStatus.uptimeS) : undefined,
    clients: opts.clients,
    sensors: first.sources.sensors,
    samples: counts.samples,
    series,
    loop: { p99Ms: round(verdict.loop.p99Ms), p50Ms: round(verdict.loop.p50Ms), maxMs: round(verdict.loop.maxMs), stallBoundMs: opts.stallBoundMs, method: `per-second p99/max of the daemon's monitorEventLoopDelay (${LOOP_PRECISION_MS} ms precision) from /metrics, minus the precision` },
    fds: { total: fdsOf('openFds'), sockets: fdsOf('socketFds'), sensorTree: fdsOf('treeFds'), deleted: fdsOf('deletedFds') },
    scrapes: counts.scrapes,
    scrapeErrors: counts.scrapeErrors,
    scrapeMsP99: round(percentileOf(samples.map((s) => s.scrapeMs), 99)),
    reloads: { ok: counts.reloadsOk, refused: counts.reloadsRefused, wrong: counts.reloadErrors },
    sessions: { ...clients.counts, errorCodes: clients.errorCodes },
    driver: { ...driverEnd?.counts, fifoZone: driver.fifoZoneType, vanishZone: driver.vanishZoneType, socZones: driver.socZones },
    seen: { ...seen, faultReasons: [...seen.faultReasons], severities: [...seen.severities].filter(Boolean) },
    decisions: finalStatus?.samples,
    decisionChanges: finalStatus?.decisionChanges,
    limits: GROWTH_LIMITS,
    errors: lastErrors,
    svg: svgPath,
    samplesFile: path.join(outDir, 'samples.jsonl'),
    daemonLog,
  };
  fs.rmSync(work, { recursive: true, force: true });
  return figures;
}

/** Forks driver-child.mjs and waits for the tree it made; stop() resolves with its counts. */
function startDriver(config) {
  const child = fork(fileURLToPath(new URL('./driver-child.mjs', import.meta.url)), [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const d = { exit: undefined };
  d.exited = new Promise((resolve) => child.on('exit', (code, signal) => { d.exit = { code, signal }; resolve(d.exit); }));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(Object.assign(new Error('the driver did not start within 20 s'), { exitCode: 2 })); }, 20_000);
    child.once('message', (m) => {
      clearTimeout(t);
      Object.assign(d, m);
      d.stop = () => new Promise((res) => {
        if (d.exit) return res(undefined);
        const t2 = setTimeout(() => { child.kill('SIGKILL'); res(undefined); }, 10_000);
        child.once('message', (r) => { clearTimeout(t2); res(r); });
        child.send({ kind: 'stop' });
      });
      resolve(d);
    });
    void d.exited.then((e) => reject(Object.assign(new Error(`the driver exited before it was ready (${JSON.stringify(e)})`), { exitCode: 2 })));
  });
}

function percentileOf(values, p) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length, Math.max(1, Math.ceil((p / 100) * v.length))) - 1] : undefined;
}

/** The SVG of the sampled series with the verdict's fitted lines and the stall bound. */
export function plot(samples, verdict, { durationS, hz, clients }) {
  const tS = samples.map((s) => s.tS);
  const fitOf = (name) => verdict.series[name]?.line;
  const note = (name) => {
    const j = verdict.series[name];
    if (!j) return '';
    if (!j.judged) return `not judged: ${j.note ?? j.reason}`;
    return `2nd-half slope${j.envelopeS ? ` of ${j.envelopeS} s minima` : ''} ${Number(j.slopePerMin.toPrecision(3))} ${j.unit}/min (limit ${j.limitPerMin}) ${j.ok ? 'ok' : 'FAIL'}`;
  };
  return renderSvg({
    title: `edgegov soak: ${Math.round(durationS)} s at ${hz} Hz, ${clients} clients`,
    tS,
    panels: [
      { title: 'RSS', unit: 'bytes', values: samples.map((s) => s.rssBytes), fit: fitOf('rssBytes'), note: note('rssBytes') },
      { title: 'V8 heap used', unit: 'bytes', values: samples.map((s) => s.heapUsedBytes), fit: fitOf('heapUsedBytes'), note: note('heapUsedBytes') },
      { title: 'open fds, less connected clients', unit: 'fds', values: samples.map((s) => s.daemonFds), fit: fitOf('daemonFds'), note: note('daemonFds') },
      { title: 'threads', unit: 'threads', values: samples.map((s) => s.threads), fit: fitOf('threads'), note: note('threads') },
      { title: 'event-loop delay, max per second', unit: 'ms', fromZero: true, values: samples.map((s) => s.loopMaxMs), bound: verdict.loop.stallBoundMs, note: `p99 ${verdict.loop.p99Ms?.toFixed(1)} ms, max ${verdict.loop.maxMs?.toFixed(1)} ms (bound ${verdict.loop.stallBoundMs} ms)` },
    ],
  });
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof ArgError) {
      process.stderr.write(`soak: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (!fs.existsSync('/proc/self/status')) {
    process.stderr.write('soak: needs /proc (Linux) to sample the daemon\n');
    return 2;
  }
  if (!fs.existsSync(path.join(repo, 'dist/ipc/client.js'))) {
    process.stderr.write('soak: dist/ is not built; run `npm run build` first\n');
    return 2;
  }
  try {
    const figures = await runSoak(opts);
    process.stdout.write(JSON.stringify(figures) + '\n');
    if (!figures.ok) process.stderr.write(`soak: FAILED\n  ${figures.failures.join('\n  ')}\n`);
    process.stderr.write(`soak: plot ${figures.svg}\n`);
    return figures.ok ? 0 : 1;
  } catch (e) {
    process.stderr.write(`soak: ${e.message}\n`);
    return e.exitCode ?? 1;
  }
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((code) => process.exit(code));
}
