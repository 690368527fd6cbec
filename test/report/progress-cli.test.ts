/**
 * Progress bars of the long commands, through the built CLI: drawn on a terminal (a real
 * pseudo-terminal from util-linux `script`), absent when stderr is a pipe or with --json.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, repoRoot, runCli } from '../helpers/cli.js';
import { syntheticSamples } from './synthetic.js';

const PROGRESS = /\r\x1b\[K/;
const tmp = mkdtempSync(join(tmpdir(), 'edgegov-progress-'));
const trace = join(tmp, 't.csv');
const cols = ['t_ms', 'soc_c', 'skin_c', 'battery_pct'];
writeFileSync(trace, [cols.join(','), ...[...syntheticSamples(1800, 2)].map((s) => cols.map((c) => s[c] ?? '').join(','))].join('\n') + '\n');

const commands: [string, string[]][] = [
  ['replay', ['replay', trace, '--policy', 'policies/default.yaml']],
  ['simulate', ['simulate', '--device', 'flagship-phone', '--scenario', 'sustained-chat']],
  ['compare', ['compare', '--devices', 'flagship-phone', '--scenarios', 'sustained-chat', '--controllers', 'edgegov,static']],
];
const script = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));

describe('progress bars of replay, simulate and compare', () => {
  it.each(commands)('%s: nothing of a bar when stderr is a pipe', (_name, args) => {
    const r = runCli(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(PROGRESS);
    expect(r.stdout).not.toMatch(PROGRESS);
  });

  it.skipIf(!script).each(commands)('%s: a bar on a terminal, none with --json', (_name, args) => {
    const run = (extra: string[]) => {
      const cmd = [process.execPath, cliPath, ...args, ...extra].map((a) => `'${a}'`).join(' ');
      return spawnSync(script!, ['-qec', cmd, '/dev/null'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env: { ...process.env, TERM: 'xterm' } });
    };
    const tty = run([]);
    expect(tty.status, tty.stderr).toBe(0);
    expect(tty.stdout).toMatch(PROGRESS);
    expect(tty.stdout).toMatch(new RegExp(`${args[0]} \\[[#-]+\\]|${args[0]} +\\d+%|${args[0]} \\d`));
    const json = run(['--json']);
    expect(json.status).toBe(0);
    expect(json.stdout).not.toMatch(PROGRESS);
  });
});
