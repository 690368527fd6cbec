#!/usr/bin/env node
// The package's `install` script. It replaces npm's implicit `node-gyp rebuild` (which npm runs
// for any package with a binding.gyp and no install script) so that `npm ci` succeeds on a
// machine without a compiler: the sensors then run on the pure-TS fallback.
//
//   EDGEGOV_BUILD_NATIVE=required  a failed build fails the install (CI on a machine with g++)
//   EDGEGOV_BUILD_NATIVE=off       do not try at all
//
// On failure it prints exactly one line saying why and exits 0.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = (process.env.EDGEGOV_BUILD_NATIVE ?? 'auto').toLowerCase();
const tag = 'edgegov: native addon';

if (mode === 'off' || mode === '0') {
  console.log(`${tag} not built (EDGEGOV_BUILD_NATIVE=off); sensors will use the TypeScript fallback`);
  process.exit(0);
}

function fail(why) {
  if (mode === 'required') {
    console.error(`${tag} build failed and EDGEGOV_BUILD_NATIVE=required: ${why}`);
    process.exit(1);
  }
  console.log(`${tag} not built (${why}); sensors will use the TypeScript fallback`);
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
console.log(`${tag} built (build/Release/edgegov_native.node)`);
