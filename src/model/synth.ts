/**
 * Synthetic random-weight Llama models (SPEC §6 `model synth`): one GGUF file per quant tier,
 * all from the same underlying weights, deterministic for a seed. They exist so the real
 * llama.cpp engine can be exercised anywhere with no model download; they produce gibberish
 * and say so in their metadata (`general.description`, `edgegov.synthetic`).
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { GgufFileWriter, kv, type GgufValue, type TensorInfo } from './gguf.js';
import { encodeTensor, FILE_TYPE_ID, isQuantized, type GgmlType } from './quant.js';
import { streamSeed, Xoshiro128 } from './prng.js';
import { byteLevelVocabulary, TOKEN_BOS, TOKEN_EOS, TOKEN_UNK, VOCAB_SIZE } from './tokenizer.js';

export const SYNTH_QUANTS: readonly GgmlType[] = ['f32', 'f16', 'q8_0', 'q4_0'];
/** Std of the Gaussian weights; research/06 §2 measured quant fidelity at this value. */
export const WEIGHT_STD = 0.02;
export const SYNTH_TRAIN_CONTEXT = 4096;

export interface LlamaShape {
  embeddingLength: number;
  blockCount: number;
  feedForwardLength: number;
  headCount: number;
  headCountKv: number;
  vocabSize: number;
}

export function headDim(s: LlamaShape): number {
  return s.embeddingLength / s.headCount;
}

export function countParams(s: LlamaShape): number {
  const e = s.embeddingLength;
  const kvDim = headDim(s) * s.headCountKv;
  const perBlock = 2 * e + 2 * e * e + 2 * e * kvDim + 3 * e * s.feedForwardLength;
  return 2 * s.vocabSize * e + e + s.blockCount * perBlock;
}

function shapeFor(e: number): LlamaShape {
  const hd = e <= 256 ? 32 : 64;
  const heads = e / hd;
  return {
    embeddingLength: e,
    blockCount: Math.max(2, Math.min(16, Math.round(e / 64))),
    feedForwardLength: Math.ceil((8 / 3) * e / 32) * 32,
    headCount: heads,
    headCountKv: heads % 2 === 0 ? heads / 2 : heads,
    vocabSize: VOCAB_SIZE,
  };
}

/** The Llama shape whose parameter count is closest (in ratio) to the target. */
export function shapeForParams(targetParams: number): LlamaShape {
  let best = shapeFor(64);
  let bestErr = Infinity;
  for (let e = 64; e <= 4096; e += e < 256 ? 32 : 64) {
    const s = shapeFor(e);
    const err = Math.abs(Math.log(countParams(s) / targetParams));
    if (err < bestErr) { best = s; bestErr = err; }
  }
  return best;
}

/** "2M", "20m", "500K", "1.5M", "3000000" → a parameter count; undefined when not a size. */
export function parseParamCount(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMbB]?)\s*$/.exec(text);
  if (!m) return undefined;
  const mult = { '': 1, k: 1e3, m: 1e6, b: 1e9 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'b'];
  const n = Number(m[1]) * mult;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

export function formatParamCount(n: number): string {
  return n >= 1e9 ? `${+(n / 1e9).toFixed(1)}B` : n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : `${+(n / 1e3).toFixed(0)}K`;
}

export interface SynthOptions {
  outDir: string;
  /** Target parameter count; the nearest Llama shape is used. */
  params: number;
  quants: readonly GgmlType[];
  seed: number;
  /** Label used in file names; defaults to the requested size, e.g. "2M". */
  label?: string;
}

export interface SynthFile {
  quant: GgmlType;
  file: string;
  path: string;
  bytes: number;
}

export interface SynthManifest {
  synthetic: true;
  description: string;
  seed: number;
  params: number;
  shape: LlamaShape;
  weightStd: number;
  files: { quant: GgmlType; file: string; bytes: number }[];
}

export const MANIFEST_FILE = 'manifest.json';

function tensorList(s: LlamaShape, type: GgmlType): TensorInfo[] {
  const e = s.embeddingLength;
  const kvDim = headDim(s) * s.headCountKv;
  const f = s.feedForwardLength;
  const out: TensorInfo[] = [
    { name: 'token_embd.weight', dims: [e, s.vocabSize], type },
    { name: 'output_norm.weight', dims: [e], type: 'f32' },
    { name: 'output.weight', dims: [e, s.vocabSize], type },
  ];
  for (let b = 0; b < s.blockCount; b++) {
    const p = `blk.${b}.`;
    out.push(
      { name: `${p}attn_norm.weight`, dims: [e], type: 'f32' },
      { name: `${p}attn_q.weight`, dims: [e, e], type },
      { name: `${p}attn_k.weight`, dims: [e, kvDim], type },
      { name: `${p}attn_v.weight`, dims: [e, kvDim], type },
      { name: `${p}attn_output.weight`, dims: [e, e], type },
      { name: `${p}ffn_norm.weight`, dims: [e], type: 'f32' },
      { name: `${p}ffn_gate.weight`, dims: [e, f], type },
      { name: `${p}ffn_up.weight`, dims: [e, f], type },
      { name: `${p}ffn_down.weight`, dims: [f, e], type },
    );
  }
  return out;
}

export function synthDescription(seed: number): string {
  return `SYNTHETIC MODEL: random Gaussian weights (std ${WEIGHT_STD}, seed ${seed}) written by edgegov model synth. ` +
    'It was never trained and produces gibberish; it exists to exercise real llama.cpp inference without a model download.';
}

function metadataFor(s: LlamaShape, type: GgmlType, opts: SynthOptions, label: string): [string, GgufValue][] {
  const vocab = byteLevelVocabulary();
  return [
    ['general.architecture', kv.str('llama')],
    ['general.name', kv.str(`edgegov-synthetic-${label}-${type} (random weights)`)],
    ['general.description', kv.str(synthDescription(opts.seed))],
    ['general.license', kv.str('Apache-2.0')],
    ['general.file_type', kv.u32(FILE_TYPE_ID[type])],
    ['general.quantization_version', kv.u32(2)],
    ['general.alignment', kv.u32(32)],
    ['edgegov.synthetic', kv.bool(true)],
    ['edgegov.seed', kv.u32(opts.seed >>> 0)],
    ['edgegov.weight_std', kv.f32(WEIGHT_STD)],
    ['llama.context_length', kv.u32(SYNTH_TRAIN_CONTEXT)],
    ['llama.embedding_length', kv.u32(s.embeddingLength)],
    ['llama.block_count', kv.u32(s.blockCount)],
    ['llama.feed_forward_length', kv.u32(s.feedForwardLength)],
    ['llama.attention.head_count', kv.u32(s.headCount)],
    ['llama.attention.head_count_kv', kv.u32(s.headCountKv)],
    ['llama.rope.dimension_count', kv.u32(headDim(s))],
    ['llama.rope.freq_base', kv.f32(10000)],
    ['llama.attention.layer_norm_rms_epsilon', kv.f32(1e-5)],
    ['llama.vocab_size', kv.u32(s.vocabSize)],
    ['tokenizer.ggml.model', kv.str('llama')],
    ['tokenizer.ggml.tokens', kv.strings(vocab.tokens)],
    ['tokenizer.ggml.scores', kv.f32s(vocab.scores)],
    ['tokenizer.ggml.token_type', kv.i32s(vocab.types)],
    ['tokenizer.ggml.bos_token_id', kv.u32(TOKEN_BOS)],
    ['tokenizer.ggml.eos_token_id', kv.u32(TOKEN_EOS)],
    ['tokenizer.ggml.unknown_token_id', kv.u32(TOKEN_UNK)],
    ['tokenizer.ggml.add_bos_token', kv.bool(true)],
    ['tokenizer.ggml.add_eos_token', kv.bool(false)],
    ['tokenizer.ggml.add_space_prefix', kv.bool(false)],
  ];
}

export function synthFileName(label: string, quant: GgmlType): string {
  return `synthetic-${label}-${quant}.gguf`;
}

/**
 * `mkdir -p` one level at a time. Node 20's `mkdir(…, { recursive: true })` spins forever at
 * 100 % CPU under a parent that refuses creation with ENOENT (e.g. `--out /proc/x`); created
 * level by level, that refusal is an error like any other.
 */
async function mkdirp(dir: string): Promise<void> {
  const abs = resolve(dir);
  const parent = dirname(abs);
  try {
    await mkdir(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || parent === abs) throw err;
    // The parent may be missing: create it, then retry once; a second ENOENT is final.
    let parentExisted = false;
    try {
      parentExisted = (await stat(parent)).isDirectory();
    } catch { /* missing: create it below */ }
    if (parentExisted) throw err;
    await mkdirp(parent);
    await mkdir(abs).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'EEXIST') throw e; });
  }
}

/** Writes one GGUF per quant plus `manifest.json` (quant → file) into `outDir`. */
export async function synthesizeModels(opts: SynthOptions): Promise<{ files: SynthFile[]; manifest: SynthManifest }> {
  const shape = shapeForParams(opts.params);
  const label = opts.label ?? formatParamCount(opts.params);
  const quants = [...new Set(opts.quants)];
  await mkdirp(opts.outDir);
  const writers = await Promise.all(quants.map(async (q) => {
    const path = join(opts.outDir, synthFileName(label, q));
    return { quant: q, path, w: await GgufFileWriter.create(path, metadataFor(shape, q, opts, label), tensorList(shape, q)) };
  }));
  const tensors = tensorList(shape, 'f32');
  for (const t of tensors) {
    const count = t.dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count);
    const isNorm = t.dims.length === 1;
    if (isNorm) values.fill(1);
    else new Xoshiro128(streamSeed(opts.seed, t.name)).fillNormal(values, WEIGHT_STD);
    for (const { quant, w } of writers) {
      const type: GgmlType = isNorm ? 'f32' : quant;
      await w.writeTensor(t.name, encodeTensor(type, values));
    }
  }
  const files: SynthFile[] = [];
  for (const { quant, path, w } of writers) {
    await w.close();
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(path));
    files.push({ quant, file: synthFileName(label, quant), path, bytes: size });
  }
  const manifest: SynthManifest = {
    synthetic: true,
    description: synthDescription(opts.seed),
    seed: opts.seed,
    params: countParams(shape),
    shape,
    weightStd: WEIGHT_STD,
    files: files.map(({ quant, file, bytes }) => ({ quant, file, bytes })),
  };
  await writeFile(join(opts.outDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return { files, manifest };
}

export { isQuantized };
