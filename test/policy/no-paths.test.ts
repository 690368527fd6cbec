/**
 * A policy can never name a file or a command (issue 13 item 5). What a policy names that
 * reaches the filesystem at all is a quant: `serve` picks `*-<quant>.gguf` (or the manifest's
 * entry for it) in the models directory. So quant names are plain identifiers, and a manifest
 * entry that leads out of the models directory is refused. (Sensor patterns match thermal-zone
 * *types* read by discovery, never paths; nothing in a policy is executed.)
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePolicy } from '../../src/policy/load.js';
import { listModelFiles, resolveModelFile } from '../../src/engines/llama-cpp/models.js';
import { EnvError } from '../../src/util/errors.js';
import { repoRoot } from '../helpers/cli.js';

const base = fs.readFileSync(path.join(repoRoot, 'test/fixtures/serve/policy.yaml'), 'utf8');

describe('policy quant names', () => {
  it('the fixture policy compiles as shipped', () => {
    expect(parsePolicy(base, 'serve.yaml').problems).toEqual([]);
  });

  for (const bad of ['../../etc/passwd', '/etc/shadow', 'q4_0/../../x', 'q4 0', '$(reboot)', 'a'.repeat(65)]) {
    it(`refuses the quant name ${JSON.stringify(bad).slice(0, 30)} with file:line:col`, () => {
      const text = base.replace(/\bq4_0\b/g, JSON.stringify(bad));
      expect(text).not.toBe(base);
      const r = parsePolicy(text, 'evil.yaml');
      expect(r.policy).toBeUndefined();
      const hit = r.problems.find((p) => /letters, digits and _ only/.test(p.message));
      expect(hit, JSON.stringify(r.problems)).toBeDefined();
      expect(hit!.file).toBe('evil.yaml');
      expect(hit!.line).toBeGreaterThan(1);
    });
  }
});

describe('models directory', () => {
  const mk = () => fs.mkdtempSync(path.join(os.tmpdir(), 'edgegov-models-'));

  it('a manifest entry that leads out of the directory is refused, naming it', () => {
    const outside = mk();
    fs.writeFileSync(path.join(outside, 'secret.gguf'), 'not yours');
    const dir = mk();
    for (const file of [`../${path.basename(outside)}/secret.gguf`, path.join(outside, 'secret.gguf'), '..']) {
      fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ files: [{ quant: 'q4_0', file }] }));
      expect(() => listModelFiles(dir)).toThrow(EnvError);
      expect(() => listModelFiles(dir)).toThrow(/manifest\.json: file .* is not a file inside the models directory/);
    }
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ files: [{ quant: '../q', file: 'a.gguf' }] }));
    expect(() => listModelFiles(dir)).toThrow(/not a plain quant name/);
  });

  it('a quant with path characters never matches a file', () => {
    const dir = mk();
    fs.writeFileSync(path.join(dir, 'm-q4_0.gguf'), 'x');
    expect(resolveModelFile(dir, 'q4_0').path).toBe(path.join(dir, 'm-q4_0.gguf'));
    expect(() => resolveModelFile(dir, '../m-q4_0')).toThrow(/no model file for quant/);
  });
});
