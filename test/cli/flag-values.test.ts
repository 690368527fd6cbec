/**
 * Wrong flag values and unwritable outputs, as a user types them: exit 1 (or 2 for the
 * environment), the message quotes what was typed, no stack trace. yargs turns a non-number
 * into NaN before handlers run, so without care these said "got NaN" or slipped through.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTraceWriter } from '../../src/trace/writer.js';
import { openDecisionsOut } from '../../src/replay/decisions-out.js';
import { typedText } from '../../src/cli/typed.js';
import { hasStackTrace, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'edgegov-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const missingDir = join(dir, 'no-such-dir');
const trace = join(dir, 't.csv');
writeFileSync(trace, 't_ms,soc_c\n0,40\n500,41\n');

describe('numeric flags quote what was typed', () => {
  const cases: [string[], RegExp][] = [
    [['simulate', '--seed', 'abc'], /--seed must be an integer, got 'abc'/],
    [['status', '--timeout-ms', 'soon', '--socket', join(dir, 'none.sock')], /--timeout-ms: expected a positive number of milliseconds, got 'soon'/],
    [['status', '--watch', '--interval-ms', '0', '--socket', join(dir, 'none.sock')], /--interval-ms: expected a positive number of milliseconds, got '0'/],
    [['reload', '--timeout-ms=-5', '--socket', join(dir, 'none.sock')], /--timeout-ms: expected a positive number of milliseconds, got '-5'/],
    [['record', '--out', join(dir, 'r.csv'), '--hz', 'ten'], /--hz: ten is not a rate/],
    [['calibrate', '--models', dir, '--gen-tokens', 'many'], /--gen-tokens: 'many' must be an integer from 1 to 4096/],
    [['model', 'synth', '--out', join(dir, 'm'), '--seed', 'abc'], /--seed: 'abc' must be an integer/],
    [['trace', 'convert', trace, '--out', join(dir, 'o.csv'), '--map', 't_ms=t_ms', '--header-line', 'two'], /--header-line: 'two' must be a line number/],
    [['serve', '--policy', 'policies/default.yaml', '--models', dir, '--daemon-wait-ms', 'soon'], /--daemon-wait-ms: expected 0 or more milliseconds, got 'soon'/],
    [['run', '--policy', 'policies/default.yaml', '--socket', join(dir, 'r.sock'), '--metrics', 'off', '--shutdown-deadline-ms', 'later'], /--shutdown-deadline-ms: expected a positive number of milliseconds, got later/],
    [['record', '--out', join(dir, 'r.csv'), '--duration', '0'], /--duration: must be longer than 0, got '0' \(omit it to record until Ctrl-C\)/],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), () => {
      const r = runCli(args);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/NaN/);
      expect(hasStackTrace(r.stderr)).toBe(false);
    });
  }

  it('typedText finds --flag value and --flag=value, the last one winning', () => {
    expect(typedText('--seed', Number.NaN, ['node', 'x', '--seed', 'a', '--seed=b'])).toBe('b');
    expect(typedText('--seed', Number.NaN, ['node', 'x', '--seed', 'a'])).toBe('a');
    expect(typedText('--seed', 7, ['node', 'x'])).toBe('7');
  });
});

describe('an output in a missing directory names the directory (exit 2)', () => {
  it('replay --decisions', () => {
    const r = runCli(['replay', trace, '--decisions', join(missingDir, 'd.jsonl')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`d.jsonl: cannot create it: directory ${missingDir} does not exist`);
    expect(r.stderr).not.toMatch(/no such file/);
  });

  it('trace convert --out', () => {
    const r = runCli(['trace', 'convert', trace, '--out', join(missingDir, 'o.csv'), '--map', 't_ms=t_ms']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`o.csv: cannot create it: directory ${missingDir} does not exist`);
  });

  it('run --socket (libuv says EACCES for a missing directory; the message must not blame permissions)', () => {
    const r = runCli(['run', '--policy', 'policies/default.yaml', '--socket', join(missingDir, 'x.sock'), '--metrics', 'off']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`x.sock: directory ${missingDir} does not exist`);
    expect(r.stderr).not.toMatch(/^edgegov: .*permission denied/m);
  });

  it('the writers themselves', () => {
    expect(() => createTraceWriter(join(missingDir, 'x.csv'), ['t_ms'])).toThrow(/cannot create it: directory .*no-such-dir does not exist/);
    expect(() => openDecisionsOut(join(missingDir, 'x.jsonl'))).toThrow(/cannot create it: directory .*no-such-dir does not exist/);
  });
});

describe('serve on a port that is taken', () => {
  it('exits 2 promptly with what to do, no internal error', async () => {
    const { createServer } = await import('node:net');
    const { cliPath, repoRoot } = await import('../helpers/cli.js');
    const models = join(dir, 'models');
    const synth = runCli(['model', 'synth', '--out', models, '--params', '200K']);
    expect(synth.code, synth.stderr).toBe(0);
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      // Async: the port's holder is this process, and a hung child must fail the test, not stall it.
      const { spawn } = await import('node:child_process');
      const child = spawn(process.execPath, [cliPath, 'serve', '--policy', 'test/fixtures/serve/policy.yaml', '--models', models,
        '--port', String(port), '--daemon-wait-ms', '50', '--socket', join(dir, 'none.sock'), '--log-level', 'error'], { cwd: repoRoot });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
      const code = await new Promise<number | null>((resolve) => {
        const t = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 30_000);
        child.on('exit', (c) => { clearTimeout(t); resolve(c); });
      });
      expect(code, stderr).toBe(2);
      expect(stderr).toContain(`--port ${port}: 127.0.0.1:${port} is already in use`);
      expect(stderr).not.toMatch(/internal error/);
      expect(hasStackTrace(stderr)).toBe(false);
    } finally {
      busy.close();
    }
  }, 60_000);
});

describe('tool groups without an action', () => {
  for (const [group, action] of [['trace', 'convert'], ['policy', 'import-pixel'], ['model', 'synth']]) {
    it(`${group} names its actions`, () => {
      const r = runCli([group]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Name a ${group} action: ${action}`);
    });
  }
});

describe('inventory text', () => {
  it('writes temperatures with °C, as the zone lines do', () => {
    const r = runCli(['inventory', '--sysfs-root', 'test/fixtures/sysfs/pixel8']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}soc_c +\d+(\.\d+)? °C$/m);
    expect(r.stdout).not.toMatch(/^ {2}\w+_c +\d+(\.\d+)? C$/m);
  });
});

describe('model synth output directory', () => {
  it('creates missing parents, and a directory that cannot be made is exit 2 at once (not a 100 % CPU hang)', async () => {
    const deep = join(dir, 'a', 'b', 'c');
    const ok = runCli(['model', 'synth', '--out', deep, '--params', '200K', '--quants', 'q4_0']);
    expect(ok.code, ok.stderr).toBe(0);
    const again = runCli(['model', 'synth', '--out', deep, '--params', '200K', '--quants', 'q4_0']);
    expect(again.code, again.stderr).toBe(0);
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const r = runCli(['model', 'synth', '--out', join(file, 'sub'), '--params', '200K', '--quants', 'q4_0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot create the output directory \(a part of the path is a file\)/);
    const { existsSync } = await import('node:fs');
    if (existsSync('/proc/self')) {
      // Node's recursive mkdir spins forever here; runCli's timeout would turn that into a failure.
      const p = runCli(['model', 'synth', '--out', '/proc/edgegov-test-out', '--params', '200K', '--quants', 'q4_0'], { timeout: 20_000 });
      expect(p.code).toBe(2);
      expect(p.stderr).toMatch(/cannot create the output directory/);
    }
  }, 60_000);
});

describe('a reader that stops early (… | head)', () => {
  it('ends the command quietly: no EPIPE stack trace, exit 0', async () => {
    const { cliPath, repoRoot } = await import('../helpers/cli.js');
    const { spawnSync } = await import('node:child_process');
    // compare --json writes ~160 KB in one go, more than a pipe buffers (64 KiB) once head has gone.
    const cmd = `'${process.execPath}' '${cliPath}' compare --json | head -c 10 >/dev/null; echo "exit \${PIPESTATUS[0]}" >&2`;
    const r = spawnSync('bash', ['-c', cmd], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled 'error'/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.stderr).toMatch(/exit 0/);
  }, 60_000);
});
