// The "before" of a before/after benchmark: an older commit's sources, exported with
// `git archive` into the gitignored .bench-baseline/<sha>/ and built there once with this
// checkout's tsc (reused while the stamp file says it built). The benches run the baseline's
// dist/ next to the current one on the same workload in the same run, so a regression shows as a
// ratio on one noisy machine rather than as two figures from different days.
// Its package imports (yaml, zod, …) resolve to this checkout's node_modules, up the tree.
//
// BASELINE_COMMIT is main just before issue 11 (stuck-by-evidence, onFault): the merge base of
// that work. `EDGEGOV_BENCH_BASELINE=<commit>` picks another, `=off` skips the comparison.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BASELINE_COMMIT = '9a4c2ca';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const STAMP = '.built';
/** What the benches need from the baseline: sources, policies, the simulator's data files. */
const PATHS = ['src', 'policies', 'sim', 'tsconfig.json', 'package.json'];

const firstLine = (s) => String(s ?? '').trim().split('\n')[0];

/**
 * The built baseline: `{ dir, commit, sha }`, or `{ skip }` with the reason (no git, not a
 * checkout — a tarball install —, the commit is not in this clone, the build failed).
 */
export function prepareBaseline(commit = process.env.EDGEGOV_BENCH_BASELINE ?? BASELINE_COMMIT) {
  // The core and replay benches share one preparation per run.
  if (!prepared.has(commit)) prepared.set(commit, prepare(commit));
  return prepared.get(commit);
}

const prepared = new Map();

function prepare(commit) {
  if (commit === 'off') return { skip: 'EDGEGOV_BENCH_BASELINE=off' };
  const rev = spawnSync('git', ['-C', repo, 'rev-parse', '--verify', '--quiet', `${commit}^{commit}`], { encoding: 'utf8' });
  if (rev.error) return { skip: `git is not available (${rev.error.code ?? rev.error.message})` };
  if (rev.status !== 0) {
    const top = spawnSync('git', ['-C', repo, 'rev-parse', '--show-toplevel'], { encoding: 'utf8' });
    return { skip: top.status === 0 ? `commit ${commit} is not in this clone (a shallow clone? git fetch --unshallow)` : `${repo} is not a git checkout` };
  }
  const sha = rev.stdout.trim();
  const dir = join(repo, '.bench-baseline', sha);
  const stamp = join(dir, STAMP);
  // (a baseline exported before PATHS held `sim` is exported again)
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === sha && PATHS.every((p) => existsSync(join(dir, p)))) return { dir, commit, sha };

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tar = spawnSync('git', ['-C', repo, 'archive', '--format=tar', sha, '--', ...PATHS], { maxBuffer: 1 << 30 });
  if (tar.status !== 0) return { skip: `git archive ${commit} failed: ${firstLine(tar.stderr)}` };
  const untar = spawnSync('tar', ['-x', '-C', dir], { input: tar.stdout });
  if (untar.error || untar.status !== 0) return { skip: `unpacking ${commit} failed: ${firstLine(untar.stderr) || untar.error?.message}` };
  const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) return { skip: 'typescript is not installed (npm ci) to build the baseline' };
  const build = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', timeout: 600_000 });
  if (build.status !== 0) return { skip: `building ${commit} failed: ${firstLine(build.stdout) || firstLine(build.stderr)}` };
  writeFileSync(stamp, `${sha}\n`);
  return { dir, commit, sha };
}

/** One line saying the comparison was skipped and why. */
export function skipLine(name, reason) {
  return { name, skipped: true, reason, baseline: process.env.EDGEGOV_BENCH_BASELINE ?? BASELINE_COMMIT };
}

/**
 * For the before/after lines at 10 Hz under the 2 Hz default policy: there the baseline's slope
 * ring held 4 s of the 10 s window, so it never had a slope and did none of the forecast work.
 */
export const BASELINE_SKIPS_FORECAST = 'under the 2 Hz default policy the baseline has no slope at 10 Hz (its ring held 4 s of the 10 s window) and skips the forecast work; like for like: policy_rate and policy_at_10hz';
