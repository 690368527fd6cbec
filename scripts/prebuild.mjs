#!/usr/bin/env node
// `npm run prebuild`: builds the addon for linux-x64 (host g++) and linux-arm64 (Debian's
// g++-aarch64-linux-gnu) into node-gyp-build's layout, prebuilds/<platform>-<arch>/, so an
// install on a board without a compiler loads the native reader instead of the fallback.
//
// File names follow node-gyp-build 4.8.4's tag parser: `<name>.napi.glibc.node` matches any
// Node ABI (N-API) on glibc for that platform-arch directory.
//
// Headers: node-gyp is pointed at this Node's own headers (--nodedir, npm's `nodedir` config or
// the running Node's prefix), so nothing is downloaded. N-API headers are arch-independent.
// Each arch builds in a scratch copy so the developer's build/Release is left alone.
//
//   node scripts/prebuild.mjs [--arch x64,arm64]
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PREBUILD_FILE = 'edgegov_native.napi.glibc.node';

const archFlag = process.argv.indexOf('--arch');
const arches = (archFlag > 0 ? process.argv[archFlag + 1] : 'x64,arm64').split(',');

/** Compiler per target arch when building on an x64 host (the only build host we support). */
const TOOLCHAINS = {
  x64: { CC: 'gcc', CXX: 'g++' },
  arm64: { CC: 'aarch64-linux-gnu-gcc', CXX: 'aarch64-linux-gnu-g++', AR: 'aarch64-linux-gnu-ar', LINK: 'aarch64-linux-gnu-g++' },
};

function onPath(cmd) {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, cmd)));
}

function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  if (existsSync('/usr/include/node/node_api.h')) return '/usr';
  return undefined;
}

function die(msg) {
  console.error(`prebuild: ${msg}`);
  process.exit(2);
}

const nodeGyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
if (!existsSync(nodeGyp)) die('node-gyp not installed (run npm ci first)');
const nodedir = nodeDir();
if (!nodedir) die('no Node headers found (set npm_config_nodedir or install the nodejs headers)');
if (process.arch !== 'x64') die(`build host must be x64 (this is ${process.arch})`);

for (const arch of arches) {
  const tc = TOOLCHAINS[arch];
  if (!tc) die(`unknown arch ${arch} (x64 or arm64)`);
  if (!onPath(tc.CXX)) {
    die(`${tc.CXX} not on PATH${arch === 'arm64' ? ' (apt-get install g++-aarch64-linux-gnu)' : ''}`);
  }
  const scratch = mkdtempSync(join(tmpdir(), `edgegov-prebuild-${arch}-`));
  try {
    cpSync(join(root, 'binding.gyp'), join(scratch, 'binding.gyp'));
    cpSync(join(root, 'native'), join(scratch, 'native'), { recursive: true });
    // gyp writes its makefiles beside every .gyp it reads, node-addon-api's included: a copy keeps
    // them in the scratch directory instead of the checkout's node_modules/, where they would race
    // with any other build of the addon (the sanitizer build, npm ci's own) and outlive npm ci.
    cpSync(join(root, 'node_modules', 'node-addon-api'), join(scratch, 'node_modules', 'node-addon-api'), {
      recursive: true,
      filter: (src) => !/\.(target\.mk|Makefile)$/.test(src),
    });
    const r = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--arch=${arch}`, `--nodedir=${nodedir}`], {
      cwd: scratch,
      encoding: 'utf8',
      env: { ...process.env, ...tc },
    });
    if (r.status !== 0) {
      process.stderr.write(`${r.stdout}\n${r.stderr}`);
      die(`node-gyp rebuild --arch=${arch} failed (exit ${r.status})`);
    }
    const outDir = join(root, 'prebuilds', `linux-${arch}`);
    mkdirSync(outDir, { recursive: true });
    const out = join(outDir, PREBUILD_FILE);
    // Copy then rename: a process that has the old file mapped keeps its inode intact.
    copyFileSync(join(scratch, 'build', 'Release', 'edgegov_native.node'), `${out}.tmp`);
    renameSync(`${out}.tmp`, out);
    const file = spawnSync('file', ['-b', out], { encoding: 'utf8' }).stdout?.trim();
    console.log(`prebuild: linux-${arch} → prebuilds/linux-${arch}/${PREBUILD_FILE}${file ? ` (${file.split(',').slice(0, 2).join(',')})` : ''}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
