#!/usr/bin/env node
// The package's `install` script. It replaces npm's implicit `node-gyp rebuild` (which npm runs
// for any package with a binding.gyp and no install script) so that `npm ci` succeeds on a
// machine without a compiler: the sensors then run on the pure-TS fallback.
//
//   EDGEGOV_BUILD_NATIVE=required  a failed build fails the install (CI on a machine with g++)
//   EDGEGOV_BUILD_NATIVE=off       do not try at all
//
// Order: a prebuild in prebuilds/<platform>-<arch>/ that loads in this Node (`npm run prebuild`
// puts linux-x64 and linux-arm64 there for the package tarball); else a source build; else the
// fallback. Exactly one line says which, and a failure exits 0 (unless required).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = (process.env.EDGEGOV_BUILD_NATIVE ?? 'auto').toLowerCase();
const tag = 'edgegov: native addon';
let prebuildNote = ''; // set when a prebuild exists but does not load here

if (mode === 'off' || mode === '0') {
  console.log(`${tag} not built (EDGEGOV_BUILD_NATIVE=off); sensors will use the TypeScript fallback`);
  process.exit(0);
}

function fail(why) {
  if (mode === 'required') {
    console.error(`${tag} build failed and EDGEGOV_BUILD_NATIVE=required: ${why}`);
    process.exit(1);
  }
  console.log(`${tag} not built (${prebuildNote}${why}); sensors will use the TypeScript fallback`);
  process.exit(0);
}

// Prefer the pinned devDependency; fall back to the node-gyp bundled with npm.
function findNodeGyp() {
  const local = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(local)) return local;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    /* not resolvable from here */
  }
  const npmExec = process.env.npm_execpath;
  if (npmExec) {
    const bundled = join(dirname(npmExec), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(bundled)) return bundled;
  }
  return undefined;
}

if (!['linux', 'android'].includes(process.platform)) fail(`platform ${process.platform} has no sysfs/PSI`);

// A prebuild counts only if node-gyp-build (the runtime loader, prebuilds only) finds one for
// this platform/arch/libc and it actually loads here; a child process keeps a bad .node from
// taking the installer down.
function tryPrebuild() {
  if (!existsSync(join(root, 'prebuilds', `${process.platform}-${process.arch}`))) return { why: undefined };
  const probe = `
    const p = require('node-gyp-build').path(process.argv[1]);
    const a = require(p);
    if (a.abiVersion !== 1) throw new Error('ABI ' + a.abiVersion);
    process.stdout.write(require('path').relative(process.argv[1], p));`;
  const r = spawnSync(process.execPath, ['-e', probe, root], {
    cwd: root, encoding: 'utf8', env: { ...process.env, PREBUILDS_ONLY: '1' },
  });
  if (r.status === 0) return { file: r.stdout.trim() };
  const msg = (r.stderr ?? '').split('\n').find((l) => /Error/.test(l)) ?? `exit ${r.status}`;
  return { why: msg.trim().slice(0, 200) };
}
const pre = tryPrebuild();
if (pre.file) {
  console.log(`${tag} from prebuild (${pre.file}); no compiler needed`);
  process.exit(0);
}
prebuildNote = pre.why ? `prebuild for ${process.platform}-${process.arch} did not load: ${pre.why}; ` : '';
const nodeGyp = findNodeGyp();
if (!nodeGyp) fail('node-gyp not found');

// No compiler at all is the common case on devices; say so plainly instead of make's noise.
function onPath(cmd) {
  if (cmd.includes('/')) return existsSync(cmd);
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, cmd)));
}
const cxx = process.env.CXX?.split(/\s+/)[0];
if (cxx ? !onPath(cxx) : !['c++', 'g++', 'clang++'].some(onPath)) {
  fail(cxx ? `C++ compiler ${cxx} (from CXX) not found` : 'no C++ compiler (c++, g++ or clang++) on PATH');
}

const args = [nodeGyp, 'rebuild'];
// Offline machines: without a nodedir node-gyp tries to download headers. npm passes
// npm_config_nodedir when one is configured; otherwise use the running Node's own prefix if it
// ships headers (distro and Termux builds do).
if (!process.env.npm_config_nodedir) {
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
}

const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: process.env });
if (r.error) fail(`could not run node-gyp: ${r.error.message}`);
if (r.status !== 0) {
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  // Name the first real cause rather than node-gyp's generic tail: a compiler diagnostic,
  // else make's failing rule, else node-gyp's own error.
  const lines = out.split('\n').map((l) => l.trim());
  const cause =
    lines.find((l) => /\berror:/i.test(l) && !/^gyp/.test(l)) ??
    lines.find((l) => /^make: \*\*\*/.test(l)) ??
    lines.find((l) => /^gyp ERR! stack Error:/.test(l))?.replace(/^gyp ERR! stack /, '') ??
    `node-gyp exited with ${r.status}`;
  if (mode === 'required') process.stderr.write(out);
  fail(cause.replace(/\s+/g, ' ').slice(0, 240));
}
console.log(`${tag} built from source (${prebuildNote}build/Release/edgegov_native.node)`);
