/**
 * The addon under sanitizers, short form: scripts/sanitize-native.sh --short builds native/ with
 * ASan+UBSan into build-asan/, runs scripts/sanitize/driver.mjs (reader and PSI watcher
 * open/read/close cycles, a trigger killed by its cgroup's removal, a detached reader thread,
 * Worker teardown, SO_PEERCRED) under it and under valgrind memcheck with the shipped build, and
 * plants a leak, an overflow and a signed overflow that each tool must report.
 * Under CI=true it always runs (a missing tool fails); locally it skips only when a tool is absent.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const script = fileURLToPath(new URL('../../scripts/sanitize-native.sh', import.meta.url));
const ci = process.env.CI === 'true' || process.env.CI === '1';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing = (() => {
  for (const tool of ['g++', 'gcc', 'valgrind']) if (!have(tool)) return `${tool} not on PATH`;
  const lib = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();
  if (!existsSync(lib)) return 'libasan not installed';
  if (!existsSync(`${root}build/Release/edgegov_native.node`)) return 'the addon is not built (build/Release)';
  return undefined;
})();
if (missing && !ci) console.warn(`sanitizer tests skipped: ${missing}`);

interface Figures {
  ok: boolean;
  problems: string[];
  asan: { driverExit: number; asanErrors: number; ubsanErrors: number; leakReports: number; driver: Record<string, unknown> };
  asanCanaries: { leak: number; overflow: number; ub: number };
  valgrind: { driverExit: number; summaries: number; errors: number; definitelyLostBlocks: number; driver: Record<string, unknown> };
  valgrindCanary: { invalidAccesses: number; definitelyLostBytes: number };
}

describe.skipIf(missing !== undefined && !ci)('native addon under ASan+UBSan and valgrind (short form)', () => {
  it('reader and PSI-watcher cycles: 0 sanitizer errors, 0 leaks, 0 memcheck errors, 0 definite leaks; every planted defect is caught', () => {
    const r = spawnSync('bash', [script, '--short'], { cwd: root, encoding: 'utf8', timeout: 420_000 });
    expect(r.signal, `the script hung (stderr: ${r.stderr})`).toBeNull();
    const last = r.stdout.trim().split('\n').pop() ?? '';
    expect(last.startsWith('{'), `no figures (exit ${r.status}): ${r.stdout}\n${r.stderr}`).toBe(true);
    const f = JSON.parse(last) as Figures;
    expect(f.problems, r.stderr).toEqual([]);
    expect(r.status).toBe(0);

    // The harness was looking: each tool reported the defect planted for it.
    expect(f.asanCanaries.leak).toBeGreaterThan(0);
    expect(f.asanCanaries.overflow).toBeGreaterThan(0);
    expect(f.asanCanaries.ub).toBeGreaterThan(0);
    expect(f.valgrindCanary.invalidAccesses).toBeGreaterThan(0);
    expect(f.valgrindCanary.definitelyLostBytes).toBeGreaterThanOrEqual(4242);

    // ...and found nothing in the addon, over cycles that really ran.
    expect([f.asan.asanErrors, f.asan.ubsanErrors, f.asan.leakReports]).toEqual([0, 0, 0]);
    expect(f.valgrind.summaries).toBe(1);
    expect([f.valgrind.errors, f.valgrind.definitelyLostBlocks]).toEqual([0, 0]);
    for (const d of [f.asan.driver, f.valgrind.driver]) {
      expect(d.readerCycles).toBe(d.cycles);
      expect(d.watcherCycles).toBe(d.cycles);
      expect(d.argErrors as number).toBeGreaterThan(0);
      expect(d.detachedThreadAlive).toBe(true); // close() really detached a thread inside read()
      expect(d.detachedReleased).toBe(true); // which then exited by itself
      expect(d.workers).toBe(d === f.asan.driver ? 4 : 0); // Worker teardown: ASan here, valgrind in the full form
      expect(d.peerCredPid).toBe(true);
      if (d.realPsi) expect(d.realTriggers as number).toBeGreaterThan(0);
      if (!d.goneSkipped) expect(d.goneEvents).toBe(1);
    }
  }, 450_000);
});

/**
 * A checkout shaped like this one, in a scratch directory: the script, the addon's sources and a
 * node_modules/ laid out as `npm ci` leaves it (every package linked from this checkout's, but
 * node-addon-api a pristine copy, since gyp writes its generated makefiles beside that package's
 * .gyp files, and a link would let this test write into the real node_modules).
 */
function scratchCheckout(): { dir: string; npmCi: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'edgegov-sanitize-ci-'));
  mkdirSync(join(dir, 'scripts'));
  cpSync(join(root, 'scripts/sanitize-native.sh'), join(dir, 'scripts/sanitize-native.sh'));
  cpSync(join(root, 'scripts/sanitize'), join(dir, 'scripts/sanitize'), { recursive: true });
  cpSync(join(root, 'native'), join(dir, 'native'), { recursive: true });
  cpSync(join(root, 'binding.gyp'), join(dir, 'binding.gyp'));
  mkdirSync(join(dir, 'test/fixtures/sysfs'), { recursive: true });
  symlinkSync(join(root, 'test/fixtures/sysfs/sd8elite-dev'), join(dir, 'test/fixtures/sysfs/sd8elite-dev'), 'dir');
  // What `npm ci` does to node_modules/: deletes it, then lays every package out afresh.
  const npmCi = () => {
    const modules = join(dir, 'node_modules');
    rmSync(modules, { recursive: true, force: true });
    mkdirSync(modules);
    for (const name of readdirSync(join(root, 'node_modules'))) {
      if (name === 'node-addon-api') continue;
      symlinkSync(join(root, 'node_modules', name), join(modules, name));
    }
    cpSync(join(root, 'node_modules/node-addon-api'), join(modules, 'node-addon-api'), {
      recursive: true,
      preserveTimestamps: true,
      filter: (src) => !/\.(target\.mk|Makefile)$/.test(src), // as published: no gyp output
    });
  };
  npmCi();
  return { dir, npmCi };
}

const asanMissing = (() => {
  for (const tool of ['g++', 'gcc']) if (!have(tool)) return `${tool} not on PATH`;
  const lib = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();
  return existsSync(lib) ? undefined : 'libasan not installed';
})();

describe.skipIf(asanMissing !== undefined && !ci)('the sanitizer build survives npm ci (issue 25)', () => {
  it('build, npm ci, short form again: it configures afresh, passes and prints its figures; unchanged, it does not configure', () => {
    const { dir, npmCi } = scratchCheckout();
    const short = () => {
      const r = spawnSync('bash', [join(dir, 'scripts/sanitize-native.sh'), '--short', '--only', 'asan'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
      const last = r.stdout.trim().split('\n').pop() ?? '';
      expect(last.startsWith('{'), `no figures (exit ${r.status}): ${r.stdout}\n${r.stderr}`).toBe(true);
      const f = JSON.parse(last) as Figures;
      expect(f.problems, r.stderr).toEqual([]);
      expect(r.status).toBe(0);
      expect(f.asan.driver.readerCycles).toBe(60);
      return r.stdout;
    };
    try {
      expect(short()).toContain('== asan+ubsan configure: no configuration yet');
      // gyp's output stayed inside build-asan/, none of it in the installed packages.
      expect(readdirSync(join(dir, 'node_modules/node-addon-api')).filter((f) => f.endsWith('.mk'))).toEqual([]);
      expect(short()).not.toContain('asan+ubsan configure');

      npmCi();
      const again = short();
      expect(again).toMatch(/== asan\+ubsan configure: node_modules(\/node-addon-api)? is newer than the configuration/);

      // A configuration whose generated makefile went missing is rebuilt too, and says which.
      const mk = readdirSync(join(dir, 'build-asan/build/node_modules/node-addon-api')).find((f) => f.endsWith('.target.mk'));
      expect(mk).toBeDefined();
      rmSync(join(dir, 'build-asan/build/node_modules/node-addon-api', mk!));
      expect(short()).toContain(`== asan+ubsan configure: node_modules/node-addon-api/${mk}, which the configuration includes, is gone`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});

// The valgrind check comes after the compiler checks, so this needs gcc and g++.
describe.skipIf(!(have('gcc') && have('g++')) && !ci)('scripts/sanitize-native.sh refuses plainly', () => {
  it('an unknown argument exits 1 naming it; a missing valgrind exits 2 naming it, before any build', () => {
    const bad = spawnSync('bash', [script, '--only', 'tsan'], { cwd: root, encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("--only takes asan or valgrind, not 'tsan'");

    // A PATH holding everything the script needs except valgrind.
    const bin = mkdtempSync(join(tmpdir(), 'edgegov-nopath-'));
    try {
      for (const tool of ['node', 'gcc', 'g++', 'dirname', 'mkdir', 'rm', 'date']) {
        const where = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
        if (where) symlinkSync(where, join(bin, tool));
      }
      const r = spawnSync('/bin/bash', [script, '--short'], { cwd: root, encoding: 'utf8', env: { ...process.env, PATH: bin } });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain('no valgrind on PATH');
      expect(r.stdout).not.toContain('asan+ubsan build');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
