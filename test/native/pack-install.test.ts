/**
 * The package tarball on a machine with no compiler (acceptance, issue 12): `npm pack` carries
 * the linux-x64 and linux-arm64 prebuilds; installing the tarball in an empty directory with a
 * PATH that holds node, npm and sh but no compiler and no python, then running
 * `EDGEGOV_NATIVE=required npx edgegov inventory --sysfs-root <fixture>` reads through the
 * native binding, loaded from prebuilds/linux-x64 (no build/ directory exists there).
 *
 * Needs the cross compiler for the arm64 prebuild (.ci/run installs it in CI);
 * elsewhere it is skipped, never in CI.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
const haveCross = which('aarch64-linux-gnu-g++') !== '';
const runs = process.platform === 'linux' && process.arch === 'x64' && (haveCross || process.env.CI === 'true');

const tmp = mkdtempSync(join(tmpdir(), 'edgegov-pack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!runs)('npm pack → install without a compiler → native from the prebuild', () => {
  it('tarball has both prebuilds; inventory with EDGEGOV_NATIVE=required uses the native reader', () => {
    const pre = spawnSync(process.execPath, ['scripts/prebuild.mjs'], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
    expect(pre.status, pre.stderr).toBe(0);

    // --ignore-scripts: prepack would rebuild dist/ under the other tests' feet; the test run
    // has built dist/ already and the prebuilds were just made by the same script prepack runs.
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp, '--json'], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    expect(pack.status, pack.stderr).toBe(0);
    const info = JSON.parse(pack.stdout)[0] as { filename: string; files: { path: string }[] };
    const paths = info.files.map((f) => f.path);
    expect(paths).toContain('prebuilds/linux-x64/edgegov_native.napi.glibc.node');
    expect(paths).toContain('prebuilds/linux-arm64/edgegov_native.napi.glibc.node');
    expect(paths.some((p) => p.startsWith('build/'))).toBe(false);

    // A PATH with node, npm, npx and a shell only: no cc/gcc/g++/clang/make/python.
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    for (const tool of ['node', 'npm', 'npx', 'sh']) symlinkSync(realpathSync(which(tool)), join(bin, tool));
    const env: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: bin, FORCE_COLOR: '0', npm_config_nodedir: '/nonexistent' };
    for (const tool of ['cc', 'gcc', 'g++', 'c++', 'clang++', 'make', 'python', 'python3']) {
      expect(spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status, `${tool} reachable`).not.toBe(0);
    }

    const app = join(tmp, 'app');
    mkdirSync(app);
    // --omit=optional keeps out node-llama-cpp's GPU backends (and, since the engine's backend is
    // an optional per-arch package, the CPU one too), so its postinstall would try to build
    // llama.cpp from source; this test is about the sensor addon, so that step is skipped.
    const inst = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--omit=optional', '--node-llama-cpp-postinstall=skip', join(tmp, info.filename)], {
      cwd: app, env, encoding: 'utf8', timeout: 300_000,
    });
    expect(inst.status, inst.stderr).toBe(0);
    const installed = join(app, 'node_modules', 'edgegov');
    expect(existsSync(join(installed, 'build')), 'nothing may have been compiled').toBe(false);
    expect(readdirSync(join(installed, 'prebuilds')).sort()).toEqual(['linux-arm64', 'linux-x64']);

    const fixture = join(repoRoot, 'test/fixtures/sysfs/rk3588-mainline');
    const inv = spawnSync('npx', ['--no-install', 'edgegov', 'inventory', '--sysfs-root', fixture], {
      cwd: app, env: { ...env, EDGEGOV_NATIVE: 'required' }, encoding: 'utf8', timeout: 120_000,
    });
    expect(inv.status, inv.stderr).toBe(0);
    expect(inv.stdout).toMatch(/read via the native binding/);
    expect(inv.stderr).not.toMatch(/fallback/);
  }, 600_000);
});
