/**
 * Offline-clean install and run (research/06 §1): the slim install (only the CPU prebuilt
 * among @node-llama-cpp/*), llama.cpp always loaded with build 'never', and real inference
 * working inside a network namespace with no network at all.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LLAMA_LOAD_OPTIONS } from '../../src/engines/llama-cpp/runtime.js';
import { cliPath, repoRoot } from '../helpers/cli.js';

function tsFiles(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []);
}

const canUnshare = spawnSync('unshare', ['-n', 'true']).status === 0;

describe('offline-clean llama.cpp', () => {
  it('uses the slim install: node-llama-cpp pinned, only the linux-x64 prebuilt, optional packages omitted', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.dependencies['node-llama-cpp']).toBe('3.21.1');
    // Installers get the backend of their arch (npm skips the other by its cpu field); this
    // repo's own install omits optional packages, so the x64 backend is pinned as a dev dependency.
    expect(pkg.optionalDependencies).toEqual({ '@node-llama-cpp/linux-arm64': '3.21.1', '@node-llama-cpp/linux-x64': '3.21.1' });
    expect(pkg.dependencies['@node-llama-cpp/linux-x64']).toBeUndefined();
    expect(pkg.devDependencies['@node-llama-cpp/linux-x64']).toBe('3.21.1');
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'));
    for (const arch of ['linux-arm64', 'linux-x64']) expect(lock.packages[`node_modules/@node-llama-cpp/${arch}`]?.version, arch).toBe('3.21.1');
    expect(readFileSync(join(repoRoot, '.npmrc'), 'utf8')).toMatch(/^omit=optional$/m);
    if (process.platform === 'linux' && process.arch === 'x64') {
      expect(readdirSync(join(repoRoot, 'node_modules/@node-llama-cpp'))).toEqual(['linux-x64']);
    }
  });

  it('loads llama.cpp only with build "never" and no GPU probing, from one place', () => {
    expect(LLAMA_LOAD_OPTIONS.build).toBe('never');
    expect(LLAMA_LOAD_OPTIONS.gpu).toBe(false);
    const callers = tsFiles(join(repoRoot, 'src')).filter((f) => /\bgetLlama\s*\(/.test(readFileSync(f, 'utf8')));
    expect(callers.map((f) => f.slice(repoRoot.length))).toEqual(['src/engines/llama-cpp/runtime.ts']);
  });

  it.skipIf(!canUnshare)('runs real inference with no network at all (unshare -n) and builds nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgegov-offline-'));
    try {
      const run = (args: string[]) => spawnSync('unshare', ['-n', process.execPath, cliPath, ...args], {
        cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env: { ...process.env, FORCE_COLOR: '0' },
      });
      const synth = run(['model', 'synth', '--out', join(dir, 'm'), '--params', '1M', '--quants', 'q8_0,q4_0']);
      expect(synth.status, synth.stderr).toBe(0);
      const cal = run(['calibrate', '--models', join(dir, 'm'), '--prompt-tokens', '32', '--gen-tokens', '8', '--json']);
      expect(cal.status, cal.stderr).toBe(0);
      const table = JSON.parse(cal.stdout);
      expect(table.tiers.map((t: { quant: string }) => t.quant)).toEqual(['q8_0', 'q4_0']);
      expect(table.tiers[0].decodeTokS).toBeGreaterThan(0);
      // No source build was attempted (it would have created local build output).
      expect(existsSync(join(repoRoot, 'node_modules/node-llama-cpp/llama/localBuilds'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
