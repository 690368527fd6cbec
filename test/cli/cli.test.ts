import { describe, expect, it } from 'vitest';
import { hasStackTrace, runCli } from '../helpers/cli.js';

const SPEC_COMMANDS = [
  'run', 'validate', 'schema', 'replay', 'simulate', 'compare', 'trace', 'policy',
  'record', 'inventory', 'status', 'reload', 'model', 'serve',
];

describe('edgegov CLI', () => {
  it('--help lists every command of SPEC §6 and exits 0', () => {
    const r = runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of SPEC_COMMANDS) expect(r.stdout).toMatch(new RegExp(`edgegov ${c}\\b`));
  });

  it('an unknown command exits 1 with a message, no stack trace', () => {
    const r = runCli(['frobnicate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unknown argument: frobnicate/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('a near-miss command suggests the right one', () => {
    const r = runCli(['valdate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Did you mean validate/);
  });

  it('an unknown flag exits 1 and names it', () => {
    const r = runCli(['validate', 'policies/default.yaml', '--frobnicate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unknown argument: frobnicate/);
    expect(r.stdout).not.toMatch(/valid/);
  });

  it('a flag error stops the command before it runs', () => {
    const r = runCli(['schema', 'extra']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unknown argument: extra/);
    expect(r.stdout).toBe('');
  });

  it('a missing positional argument says so in plain words', () => {
    const r = runCli(['replay']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing a required argument .*--help/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('no command exits 1 and says what to do', () => {
    const r = runCli([]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/command/);
  });
});
