/**
 * `edgegov status --watch` against a real daemon (`edgegov run`, simulated device where the
 * host lacks sensors): on a terminal (a util-linux `script` pseudo-terminal) it draws the
 * dashboard; piped it prints the plain status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, repoRoot } from '../helpers/cli.js';

const script = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));
const tmp = mkdtempSync(join(tmpdir(), 'edgegov-watch-'));
const socket = join(tmp, 'edgegov.sock');
let daemon: ChildProcess | undefined;

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

describe.skipIf(!script)('status --watch', () => {
  beforeAll(async () => {
    daemon = spawn(process.execPath, [cliPath, 'run', '--policy', 'policies/default.yaml', '--socket', socket, '--hz', '5'], { cwd: repoRoot, stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(socket)).toBe(true);
    await new Promise((r) => setTimeout(r, 1500)); // a few samples and decisions
  }, 30_000);

  afterAll(() => {
    daemon?.kill('SIGTERM');
  });

  it('draws the dashboard on a terminal', () => {
    const cmd = `timeout -s INT 4 '${process.execPath}' '${cliPath}' status --watch --interval-ms 300 --socket '${socket}'`;
    const r = spawnSync(script!, ['-qec', `stty cols 120 2>/dev/null; ${cmd}`, '/dev/null'], { cwd: repoRoot, encoding: 'utf8', timeout: 20_000, env: { ...process.env, TERM: 'xterm' } });
    const out = plain(r.stdout);
    expect(out).toMatch(/severity\s+none\s+light\s+moderate\s+severe\s+critical\s+emergency\s+shutdown/);
    expect(out).toMatch(/tier\s+full\s+balanced\s+lean\s+minimal\s+tiny/); // the ladder, from the daemon's policy file
    expect(out).toMatch(/soc_c +\d+\.\d °C\*? .*▕[█░]+▏ \w+ at \d/); // a gauge against the next limit
    expect(out).toMatch(/why\s+\S+/);
    expect(r.stdout).toMatch(/\x1b\[\d+F/); // redrawn in place
  }, 30_000);

  it('prints the plain status when piped', () => {
    const r = spawnSync('timeout', ['-s', 'INT', '2', process.execPath, cliPath, 'status', '--watch', '--interval-ms', '300', '--socket', socket], { cwd: repoRoot, encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout).toMatch(/^edgegov .*pid/m);
    expect(r.stdout).toMatch(/, \d+ samples?, \d+ decision changes?$/m); // not "1 changes"
    expect(r.stdout).not.toMatch(/\x1b\[/);
    expect(r.stdout).not.toContain('▕');
  }, 30_000);

  it('ends quietly when the reader of the pipe goes away (status --watch | head)', () => {
    const cmd = `'${process.execPath}' '${cliPath}' status --watch --interval-ms 100 --socket '${socket}' | head -n 2; echo "watch exit \${PIPESTATUS[0]}" >&2`;
    const r = spawnSync('timeout', ['20', 'bash', '-c', cmd], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(2);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|at .*\.js:\d+/);
    expect(r.stderr).toMatch(/watch exit 0/);
  }, 30_000);
});

