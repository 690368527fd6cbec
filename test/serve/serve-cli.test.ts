/** `edgegov serve` / `calibrate` start-up errors: clear messages and exit codes, no stack traces. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { synthesizeModels } from '../../src/model/synth.js';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { chat, cleanup, policyPath, serveStatus, startServe, tempDir } from './harness.js';

let dir: string;
beforeAll(async () => {
  dir = tempDir('edgegov-serve-cli-');
  // Only two of the policy's three quants.
  await synthesizeModels({ outDir: join(dir, 'partial'), params: 5e5, quants: ['f16', 'q8_0'], seed: 1, label: 'tiny' });
  await synthesizeModels({ outDir: join(dir, 'full'), params: 5e5, quants: ['f16', 'q8_0', 'q4_0'], seed: 1, label: 'tiny' });
});
afterAll(() => cleanup(dir));

describe('serve and calibrate start-up errors', () => {
  it('a tier without a model file is an environment error naming the quant (exit 2)', () => {
    const r = runCli(['serve', '--policy', policyPath, '--models', join(dir, 'partial'), '--port', '0', '--socket', join(dir, 'none.sock')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no model file for quant\(s\) q4_0/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('a missing models directory is exit 2; a bad policy, host or port is exit 1', () => {
    const missing = runCli(['serve', '--policy', policyPath, '--models', join(dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/models directory not found/);
    const badPolicy = join(dir, 'bad.yaml');
    writeFileSync(badPolicy, 'version: 1\nname: x\ntiers: 3\n');
    const bp = runCli(['serve', '--policy', badPolicy, '--models', join(dir, 'partial')]);
    expect(bp.code).toBe(1);
    expect(bp.stderr).toMatch(/bad\.yaml:\d+:\d+/);
    const host = runCli(['serve', '--policy', policyPath, '--models', join(dir, 'partial'), '--host', '0.0.0.0']);
    expect(host.code).toBe(1);
    expect(host.stderr).toMatch(/loopback only/);
    const cloud = runCli(['serve', '--policy', policyPath, '--models', join(dir, 'partial'), '--cloud-url', 'not a url']);
    expect(cloud.code).toBe(1);
    for (const r of [missing, bp, host, cloud]) expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('calibrate: no models → exit 2; a context too small for the prompt → exit 1', () => {
    const none = runCli(['calibrate', '--models', dir]);
    expect(none.code, none.stderr).toBe(2);
    expect(none.stderr).toMatch(/no \.gguf model files/);
    const small = runCli(['calibrate', '--models', join(dir, 'partial'), '--prompt-tokens', '2000']);
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(/too small/);
  });

  it('with no daemon at all, serve answers on the policy\'s safe tier and keeps trying to connect', async () => {
    const serve = await startServe(join(dir, 'full'), join(dir, 'no-daemon.sock'), [], 200);
    try {
      const r = await chat(serve.url, { messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
      expect(r.status).toBe(200);
      expect(r.json.edgegov.tier).toBe('lean');
      expect(r.json.edgegov.modelFile).toBe('synthetic-tiny-q4_0.gguf');
      expect(r.json.edgegov.decisionSource).toBe('policy-safe-tier');
      const st = await serveStatus(serve.url);
      expect(st.daemon.connected).toBe(false);
      expect(serve.stderr()).toMatch(/serving the safe tier 'lean'/);
    } finally {
      await serve.stop();
    }
    expect(serve.child.exitCode).toBe(0);
  });
});
