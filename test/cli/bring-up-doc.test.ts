/**
 * docs/bring-up.md runs as written: every ```sh block, in order, in one bash, on a fixture
 * tree (SYSFS_ROOT), a temp STATE directory, this checkout as EDGEGOV_HOME and an `edgegov`
 * on PATH that runs bin/edgegov.js. ```console blocks are board-only and not run.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot } from '../helpers/cli.js';

const DOC = join(repoRoot, 'docs/bring-up.md');

interface Block { line: number; text: string }

/** The fenced blocks of `lang` in a Markdown file, with the line each starts on. */
function fencedBlocks(markdown: string, lang: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```' + lang) continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && lines[j] !== '```') j++;
    out.push({ line: start + 1, text: lines.slice(start, j).join('\n') });
    i = j;
  }
  return out;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function runGuide(tree: string): Promise<{ code: number | null; stdout: string; stderr: string; state: string }> {
  const work = mkdtempSync(join(tmpdir(), 'edgegov-bringup-'));
  dirs.push(work);
  const bin = join(work, 'bin');
  const state = join(work, 'state');
  const shim = join(bin, 'edgegov');
  mkdirSync(bin);
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${cliPath}" "$@"\n`);
  chmodSync(shim, 0o755);
  const blocks = fencedBlocks(readFileSync(DOC, 'utf8'), 'sh');
  const script = ['set -euo pipefail', ...blocks.map((b) => `echo "### docs/bring-up.md:${b.line}" >&2\n${b.text}`)].join('\n');
  writeFileSync(join(work, 'guide.sh'), script);
  return new Promise((resolve) => {
    const child = spawn('bash', [join(work, 'guide.sh')], {
      cwd: work,
      detached: true, // its own process group: a daemon left behind by a failed step is killed with it
      env: {
        ...process.env,
        PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
        SYSFS_ROOT: join(repoRoot, 'test/fixtures/sysfs', tree),
        STATE: state,
        EDGEGOV_HOME: repoRoot,
        METRICS: '127.0.0.1:0',
        FORCE_COLOR: '0',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 100_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* the group is gone: nothing was left running */
      }
      resolve({ code, stdout, stderr, state });
    });
  });
}

describe('docs/bring-up.md', () => {
  it('has runnable sh blocks covering doctor → inventory → record → replay → run/status/SIGTERM', () => {
    const sh = fencedBlocks(readFileSync(DOC, 'utf8'), 'sh').map((b) => b.text).join('\n');
    const order = ['edgegov doctor', 'edgegov inventory', 'edgegov record', 'edgegov replay', 'dist/daemon/main.js', 'edgegov status', 'kill -TERM'];
    const at = order.map((s) => sh.indexOf(s));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // Board-only steps are there too, in console blocks.
    const consoleText = fencedBlocks(readFileSync(DOC, 'utf8'), 'console').map((b) => b.text).join('\n');
    for (const s of ['psi=1', 'systemctl enable --now edgegov', 'edgegov.rc', 'ls -Z /proc/pressure/memory']) expect(consoleText).toContain(s);
  });

  for (const [tree, policy] of [['rk3588-bsp', 'rk3588'], ['rpi5', 'rpi5']] as const) {
    it(`runs as written on the ${tree} fixture, with the policy doctor picks (${policy})`, async () => {
      const r = await runGuide(tree);
      expect(r.stderr.match(/### docs\/bring-up\.md:\d+/g)?.length, r.stderr).toBe(fencedBlocks(readFileSync(DOC, 'utf8'), 'sh').length);
      expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr.slice(-3000) }).toEqual({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^verdict: runs, degraded/m);
      expect(r.stdout).toContain(`doctor suggests ${join(repoRoot, 'policies', `${policy}.yaml`)}`);
      expect(r.stdout).toMatch(new RegExp(`^policy +${policy} \\(`, 'm')); // status names the daemon's policy
      expect(r.stdout).toContain('stopped cleanly');
      // The recording is a real trace with rows, and replay decided on it.
      const trace = readFileSync(join(r.state, 'first.csv'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
      expect(trace[0]).toMatch(/^t_ms,soc_c,/);
      expect(trace.length).toBeGreaterThan(5);
      expect(readFileSync(join(r.state, 'first-decisions.jsonl'), 'utf8').trim().split('\n').length).toBeGreaterThan(0);
      expect(existsSync(join(r.state, 'decisions.jsonl'))).toBe(true);
    }, 120_000);
  }
});
