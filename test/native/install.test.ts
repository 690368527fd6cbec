/**
 * `npm ci` must succeed without a compiler: the package's install script (scripts/build-
 * native.mjs) is run in a copy of the package with a broken toolchain, must exit 0 with one
 * line saying why, and the loader in that copy must then fall back with one log line.
 * EDGEGOV_BUILD_NATIVE=required and EDGEGOV_NATIVE=required|off are checked too.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBinding, nativeAvailable } from '../../src/native/native.js';
import { EnvError, UserError } from '../../src/util/errors.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
let pkg = '';
let tmp = '';

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'edgegov-install-'));
  pkg = join(tmp, 'pkg');
  mkdirSync(pkg);
  for (const f of ['package.json', 'binding.gyp', 'native', 'scripts', 'dist']) {
    if (existsSync(join(repo, f))) cpSync(join(repo, f), join(pkg, f), { recursive: true });
  }
  symlinkSync(join(repo, 'node_modules'), join(pkg, 'node_modules'), 'dir');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function install(env: Record<string, string>) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete e.EDGEGOV_BUILD_NATIVE;
  Object.assign(e, env);
  return spawnSync(process.execPath, ['scripts/build-native.mjs'], { cwd: pkg, env: e, encoding: 'utf8', timeout: 120_000 });
}

describe('install without a working compiler', () => {
  it('CXX=/bin/false: exit 0, exactly one line naming the failure, no addon left behind', () => {
    const r = install({ CXX: '/bin/false', CC: '/bin/false' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^edgegov: native addon not built \(.+\); sensors will use the TypeScript fallback$/);
    expect(existsSync(join(pkg, 'build/Release/edgegov_native.node'))).toBe(false);
  });

  it('no compiler on PATH: exit 0 and says so', () => {
    const bin = join(tmp, 'bin');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['make', 'python3', 'sh']) {
      const real = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (real && !existsSync(join(bin, tool))) symlinkSync(real, join(bin, tool));
    }
    const env: Record<string, string> = { PATH: bin };
    const r = install(env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(
      'edgegov: native addon not built (no C++ compiler (c++, g++ or clang++) on PATH); sensors will use the TypeScript fallback',
    );
  });

  it('EDGEGOV_BUILD_NATIVE=required turns the same failure into a failed install', () => {
    const r = install({ CXX: '/bin/false', CC: '/bin/false', EDGEGOV_BUILD_NATIVE: 'required' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/build failed and EDGEGOV_BUILD_NATIVE=required/);
  });

  it('the loader in that package then falls back with one log line saying why', () => {
    expect(existsSync(join(pkg, 'dist/native/native.js')), 'build dist first (npm run build)').toBe(true);
    const script = `
      const { selectBinding } = await import('./dist/native/native.js');
      const lines = [];
      const a = selectBinding({ log: (l) => lines.push(l) });
      const b = selectBinding({ log: (l) => lines.push(l) });
      console.log(JSON.stringify({ a: a.name, b: b.name, lines }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: pkg, encoding: 'utf8', env: { ...process.env, EDGEGOV_NATIVE: '' } });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.a).toBe('fallback');
    expect(out.b).toBe('fallback');
    expect(out.lines).toEqual(['edgegov: native sensor addon unavailable (not built (no build/Release or prebuild)); using the TypeScript fallback']);
  });
});

describe('EDGEGOV_NATIVE', () => {
  it('off: the fallback, silently', () => {
    const lines: string[] = [];
    expect(selectBinding({ env: { EDGEGOV_NATIVE: 'off' }, log: (l) => lines.push(l) }).name).toBe('fallback');
    expect(lines).toEqual([]);
  });

  it('an unknown mode is a user error naming the accepted ones, not silently ignored', () => {
    expect(() => selectBinding({ env: { EDGEGOV_NATIVE: 'bogus' } })).toThrow(/EDGEGOV_NATIVE=bogus: not a mode; use required, off or auto/);
    expect(() => selectBinding({ env: { EDGEGOV_NATIVE: 'bogus' } })).toThrow(UserError);
  });

  it.skipIf(!nativeAvailable())('auto/required with the addon built: native', () => {
    expect(selectBinding({ env: {} }).name).toBe('native');
    expect(selectBinding({ env: { EDGEGOV_NATIVE: 'required' } }).name).toBe('native');
  });

  it('required without an addon is an environment error (exit 2), not a silent fallback', () => {
    const script = `
      const { selectBinding } = await import('./dist/native/native.js');
      try { selectBinding(); console.log('no error'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: pkg, encoding: 'utf8', env: { ...process.env, EDGEGOV_NATIVE: 'required' } });
    expect(r.stdout.trim()).toMatch(/^EnvError: native sensor addon required \(EDGEGOV_NATIVE=required\) but unavailable: not built/);
    expect(EnvError).toBeDefined();
  });
});
