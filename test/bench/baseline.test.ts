/**
 * The before/after benchmark's baseline (bench/baseline.js) says clearly when it cannot run:
 * no such commit in the clone, switched off, or not a git checkout at all (a tarball install).
 * `npm run bench` then prints a skip line in place of the comparison. The build itself is
 * exercised by `npm run bench`, not here (it compiles a whole older tree).
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../helpers/cli.js';

interface Prepared { dir?: string; sha?: string; skip?: string }
type Baseline = { prepareBaseline(commit?: string): Prepared; BASELINE_COMMIT: string };

const load = async (file: string): Promise<Baseline> => import(pathToFileURL(file).href) as Promise<Baseline>;

describe('bench baseline', () => {
  it('names 9a4c2ca, main before issue 11 (stuck by evidence), which this clone has', async () => {
    const b = await load(join(repoRoot, 'bench', 'baseline.js'));
    expect(b.BASELINE_COMMIT).toBe('9a4c2ca');
    const has = spawnSync('git', ['-C', repoRoot, 'cat-file', '-e', '9a4c2ca^{commit}']);
    if (has.status !== 0) return; // a shallow clone: the skip line below covers it
    const show = spawnSync('git', ['-C', repoRoot, 'show', '9a4c2ca:src/estimator/stuck.ts']);
    expect(show.status).not.toBe(0); // stuck.ts came with issue 11
  });
  it('a commit the clone lacks, or off, is a skip with the reason', async () => {
    const b = await load(join(repoRoot, 'bench', 'baseline.js'));
    expect(b.prepareBaseline('0000000000000000000000000000000000000bad').skip).toMatch(/commit 0{37}bad is not in this clone/);
    expect(b.prepareBaseline('off').skip).toBe('EDGEGOV_BENCH_BASELINE=off');
  });
  it('outside a git checkout (a tarball install) it says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgegov-bench-nogit-'));
    mkdirSync(join(dir, 'bench'));
    copyFileSync(join(repoRoot, 'bench', 'baseline.js'), join(dir, 'bench', 'baseline.js'));
    const b = await load(join(dir, 'bench', 'baseline.js'));
    expect(b.prepareBaseline().skip).toBe(`${dir} is not a git checkout`);
  });
  it('npm run bench prints a skip line for the comparison instead of failing', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'bench', 'run.js'), 'core'], {
      cwd: repoRoot, encoding: 'utf8', timeout: 120_000, env: { ...process.env, EDGEGOV_BENCH_BASELINE: 'no-such-ref' },
    });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.name)).toEqual(['core.throughput', 'core.throughput.before_after']);
    expect(lines[1]).toEqual({ name: 'core.throughput.before_after', skipped: true, reason: 'commit no-such-ref is not in this clone (a shallow clone? git fetch --unshallow)', baseline: 'no-such-ref' });
  }, 120_000);
});
