/**
 * The benches' like-for-like runs at 10 Hz rewrite a 2 Hz policy for 10 Hz samples
 * (bench/policy-at-period.js): the sample period changes, a sample-count stuck rule keeps its
 * duration, and everything else of the policy stays as written.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { repoRoot } from '../helpers/cli.js';
import { loadPolicyFile } from '../../src/policy/load.js';

type Rewrite = { writePolicyAtPeriod(file: string, periodMs: number, out: string): string };
const load = async (): Promise<Rewrite> => import(pathToFileURL(join(repoRoot, 'bench', 'policy-at-period.js')).href) as Promise<Rewrite>;

describe('bench policy at another sample period', () => {
  it('policies/default.yaml at 100 ms loads with that period and nothing else changed', async () => {
    const { writePolicyAtPeriod } = await load();
    const dir = mkdtempSync(join(tmpdir(), 'edgegov-policy-period-'));
    const file = join(repoRoot, 'policies', 'default.yaml');
    const before = await loadPolicyFile(file);
    const after = await loadPolicyFile(writePolicyAtPeriod(file, 100, join(dir, 'p.yaml')));
    expect(before.control.samplePeriodMs).toBe(500);
    expect(after.control.samplePeriodMs).toBe(100);
    expect({ ...after, file: '', control: { ...after.control, samplePeriodMs: 500 } }).toEqual({ ...before, file: '' });
  });
  it("a sample-count stuck rule (the baseline's stuckSamples) keeps its duration", async () => {
    const { writePolicyAtPeriod } = await load();
    const dir = mkdtempSync(join(tmpdir(), 'edgegov-policy-period-'));
    const src = join(dir, 'old.yaml');
    writeFileSync(src, 'control:\n  samplePeriod: 0.5s\n  stuckSamples: 240\n');
    const out = writePolicyAtPeriod(src, 100, join(dir, 'new.yaml'));
    expect(parse(readFileSync(out, 'utf8'))).toEqual({ control: { samplePeriod: '100ms', stuckSamples: 1200 } });
  });
  it('a sample period it cannot read is an error naming the file, not a guess', async () => {
    const { writePolicyAtPeriod } = await load();
    const dir = mkdtempSync(join(tmpdir(), 'edgegov-policy-period-'));
    const src = join(dir, 'bad.yaml');
    writeFileSync(src, 'control:\n  samplePeriod: fast\n');
    expect(() => writePolicyAtPeriod(src, 100, join(dir, 'out.yaml'))).toThrow(`${src}: control.samplePeriod "fast" is not a duration in ms or s`);
  });
});
