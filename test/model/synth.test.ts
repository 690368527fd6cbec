/**
 * The synthetic GGUF writer, checked through the real engine: quantized files must predict
 * like the unquantized copy of the same weights (an encoder bug — a wrong nibble order, a bad
 * scale — drops the correlation to ~0, research/06 §2), files are byte-identical for a seed,
 * and the metadata says they are synthetic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, readGgufFileInfo, type Llama, type Token } from 'node-llama-cpp';
import { synthesizeModels, shapeForParams, countParams, parseParamCount } from '../../src/model/synth.js';
import { encodeQ4_0, encodeQ8_0 } from '../../src/model/quant.js';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../src/model/f16.js';
import { LLAMA_LOAD_OPTIONS } from '../../src/engines/llama-cpp/runtime.js';
import { runCli, hasStackTrace } from '../helpers/cli.js';

let dir: string;
let llama: Llama;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgegov-synth-'));
  llama = await getLlama({ ...LLAMA_LOAD_OPTIONS, maxThreads: 1 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

function pearson(a: Float64Array, b: Float64Array): number {
  let ma = 0, mb = 0;
  for (let i = 0; i < a.length; i++) { ma += a[i]!; mb += b[i]!; }
  ma /= a.length; mb /= b.length;
  let s = 0, sa = 0, sb = 0;
  for (let i = 0; i < a.length; i++) {
    s += (a[i]! - ma) * (b[i]! - mb); sa += (a[i]! - ma) ** 2; sb += (b[i]! - mb) ** 2;
  }
  return s / Math.sqrt(sa * sb);
}

/** Log-probabilities of the next token after each of a few prompt positions, through llama.cpp. */
async function nextTokenLogProbs(path: string, text: string): Promise<Float64Array[]> {
  const model = await llama.loadModel({ modelPath: path });
  const ctx = await model.createContext({ contextSize: 256, threads: 1 });
  try {
    const tokens = [model.tokens.bos as Token, ...model.tokenize(text)];
    const probe = new Set([3, Math.floor(tokens.length / 2), tokens.length - 1]);
    const out = await ctx.getSequence().controlledEvaluate(
      tokens.map((t, i) => (probe.has(i) ? [t, { generateNext: { probabilities: true } }] : t)),
    );
    return [...probe].map((i) => {
      const v = new Float64Array(model.tokens.bos !== null ? 260 : 0);
      for (const [tok, p] of out[i]!.next.probabilities!) v[tok] = Math.log(Math.max(p, 1e-30));
      return v;
    });
  } finally {
    await ctx.dispose();
    await model.dispose();
  }
}

describe('model synth', () => {
  it('quantized files predict like the f32 copy of the same weights (log-prob correlation through llama.cpp)', async () => {
    const { files } = await synthesizeModels({ outDir: join(dir, 'a'), params: 3e6, quants: ['f32', 'f16', 'q8_0', 'q4_0'], seed: 11 });
    const path = (q: string) => files.find((f) => f.quant === q)!.path;
    const text = 'The skin passes 43 degrees; the governor steps down.';
    const ref = await nextTokenLogProbs(path('f32'), text);
    const r: Record<string, number> = {};
    for (const q of ['f16', 'q8_0', 'q4_0']) {
      const got = await nextTokenLogProbs(path(q), text);
      r[q] = Math.min(...got.map((g, i) => pearson(ref[i]!, g)));
    }
    // research/06 §2 measured 1.0000 / 0.9998 / 0.97 at std 0.02; a wrong Q4_0 layout gives ≈ −0.02.
    expect(r.f16).toBeGreaterThan(0.9999);
    expect(r.q8_0).toBeGreaterThan(0.999);
    expect(r.q4_0).toBeGreaterThan(0.9);
  });

  it('the same seed gives byte-identical files; another seed does not', async () => {
    const a = await synthesizeModels({ outDir: join(dir, 's1'), params: 1e6, quants: ['f16', 'q4_0'], seed: 5 });
    const b = await synthesizeModels({ outDir: join(dir, 's2'), params: 1e6, quants: ['q4_0', 'f16'], seed: 5 });
    const c = await synthesizeModels({ outDir: join(dir, 's3'), params: 1e6, quants: ['f16'], seed: 6 });
    for (const f of a.files) expect(sha(f.path)).toBe(sha(b.files.find((x) => x.quant === f.quant)!.path));
    expect(sha(c.files[0]!.path)).not.toBe(sha(a.files.find((x) => x.quant === 'f16')!.path));
  });

  it('is labelled synthetic, Llama architecture, byte-level SPM vocabulary that round-trips text', async () => {
    const { files, manifest } = await synthesizeModels({ outDir: join(dir, 'm'), params: 1e6, quants: ['q8_0'], seed: 2 });
    expect(manifest.synthetic).toBe(true);
    const info = await readGgufFileInfo(files[0]!.path);
    const md = info.metadata as any;
    expect(info.version).toBe(3);
    expect(md.general.architecture).toBe('llama');
    expect(md.general.name).toMatch(/synthetic/i);
    expect(md.general.description).toMatch(/SYNTHETIC MODEL: random Gaussian weights/);
    expect(md.general.file_type).toBe(7);
    expect(md.edgegov.synthetic).toBe(true);
    expect(md.tokenizer.ggml.tokens).toHaveLength(260);
    expect(md.tokenizer.ggml.tokens[259]).toBe('\u2581');
    const model = await llama.loadModel({ modelPath: files[0]!.path });
    try {
      const text = 'Hello world, héllo! 43 °C';
      const toks = model.tokenize(text);
      expect(toks).toHaveLength(Buffer.byteLength(text) );
      expect(model.detokenize(toks)).toBe(text);
    } finally {
      await model.dispose();
    }
  });

  it('picks a Llama shape near the requested size', () => {
    for (const p of [2e6, 20e6, 100e6]) {
      const s = shapeForParams(p);
      expect(s.embeddingLength % 32).toBe(0);
      expect(s.feedForwardLength % 32).toBe(0);
      expect(Math.abs(Math.log(countParams(s) / p))).toBeLessThan(Math.log(1.6));
    }
    expect(parseParamCount('20M')).toBe(20e6);
    expect(parseParamCount('1.5m')).toBe(1.5e6);
    expect(parseParamCount('500K')).toBe(5e5);
    expect(parseParamCount('2X')).toBeUndefined();
  });

  it('encodes blocks that decode back close to the input (Q8_0, Q4_0 with j / j+16 nibbles, f16)', () => {
    const x = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 1.7) * 0.05);
    const q8 = encodeQ8_0(x);
    const q4 = encodeQ4_0(x);
    for (let b = 0; b < 2; b++) {
      const d8 = float16BitsToFloat32(q8.readUInt16LE(b * 34));
      const d4 = float16BitsToFloat32(q4.readUInt16LE(b * 18));
      for (let j = 0; j < 32; j++) {
        const v = x[b * 32 + j]!;
        expect(Math.abs(q8.readInt8(b * 34 + 2 + j) * d8 - v)).toBeLessThanOrEqual(Math.abs(d8) * 0.51 + 1e-4);
        const byte = q4[b * 18 + 2 + (j % 16)]!;
        const nib = j < 16 ? byte & 15 : byte >> 4;
        expect(Math.abs((nib - 8) * d4 - v)).toBeLessThanOrEqual(Math.abs(d4) * 1.01 + 1e-4);
      }
    }
    for (const v of [0, 1, -2.5, 65504, 1e-7, 0.1]) {
      expect(float16BitsToFloat32(float32ToFloat16Bits(v))).toBeCloseTo(v, v > 1000 ? -1 : 3);
    }
  });

  it('CLI: writes the files, and bad flags are one-line user errors', () => {
    const out = join(dir, 'cli');
    const ok = runCli(['model', 'synth', '--out', out, '--params', '1M', '--quants', 'f16,q4_0', '--seed', '3']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/synthetic-1M-q4_0\.gguf/);
    expect(ok.stdout).toMatch(/gibberish/);
    for (const args of [['--params', 'lots'], ['--quants', 'q5_k'], ['--seed', '-1'], ['--params', '10B']]) {
      const bad = runCli(['model', 'synth', '--out', out, ...args]);
      expect(bad.code).toBe(1);
      expect(hasStackTrace(bad.stderr)).toBe(false);
    }
  });
});
