// The processes a crash loop starts — `node bin/edgegov.js run|serve …` directly, never npx, so
// the pid we SIGKILL is the daemon's own — and the fixture sysfs tree they read.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const cliPath = path.join(repoRoot, 'bin/edgegov.js');

/** Every child started here, so an interrupted loop leaves none behind. */
const live = new Set();
export function killAll() {
  for (const p of live) p.child.kill('SIGKILL');
}

/** Starts the CLI; `exited` resolves with the exit code or signal name. */
export function startCli(args, { cwd = repoRoot } = {}) {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => { out = (out + b).slice(-20_000); });
  child.stderr.on('data', (b) => { err = (err + b).slice(-20_000); });
  const p = { child, pid: child.pid, stdout: () => out, stderr: () => err, exitCode: undefined };
  live.add(p);
  p.exited = new Promise((resolve) => child.once('exit', (code, sig) => {
    live.delete(p);
    p.exitCode = code ?? sig;
    resolve(code ?? sig);
  }));
  return p;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something other than undefined/false; throws after timeoutMs. */
export async function waitFor(what, fn, timeoutMs, everyMs = 20) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let v;
    try { v = await fn(); } catch { v = undefined; }
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Rewrites a sysfs-like file in place, as the kernel does: a sensor reader that keeps it open
 * would go on reading the old inode after a rename. Write then truncate, so a concurrent read
 * sees the old value or the new one, never an empty file.
 */
export function writeInPlace(file, text) {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, text, 0, text.length, 0);
    fs.ftruncateSync(fd, text.length);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A writable copy of a fixture tree under test/fixtures/sysfs/, and a way to set the
 * temperature of every thermal zone whose type matches `zoneType`.
 */
export function copyFixture(name, dir, zoneType) {
  const root = path.join(dir, `sysfs-${name}`);
  fs.cpSync(path.join(repoRoot, 'test/fixtures/sysfs', name), root, { recursive: true, verbatimSymlinks: true });
  const thermal = path.join(root, 'sys/class/thermal');
  const temps = fs.readdirSync(thermal)
    .filter((z) => zoneType.test(fs.readFileSync(path.join(thermal, z, 'type'), 'utf8').trim()))
    .map((z) => path.join(thermal, z, 'temp'));
  if (!temps.length) throw new Error(`fixture ${name}: no thermal zone matches ${zoneType}`);
  const setTempC = (c) => {
    const text = Buffer.from(`${Math.round(c * 1000)}\n`);
    for (const f of temps) writeInPlace(f, text);
  };
  /** Plenty of free memory, so the thermal rules are what moves the decisions. */
  const meminfo = path.join(root, 'proc/meminfo');
  fs.writeFileSync(meminfo, fs.readFileSync(meminfo, 'utf8')
    .replace(/^MemTotal:.*$/m, 'MemTotal:       16000000 kB')
    .replace(/^MemAvailable:.*$/m, 'MemAvailable:   12000000 kB'));
  return { root, setTempC };
}
