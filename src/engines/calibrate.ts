/**
 * Measured knob costs on this machine's engine (`edgegov calibrate`, `npm run bench`).
 * For each tier: decode and prefill speed, first-token time and process RSS; per knob: what a
 * switch costs. The governor can read this table instead of guessing (format in
 * docs/inference.md, "Calibration table").
 */
import { cpus, availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type { TierSpec } from '../policy/types.js';
import type { EngineKnobs, InferenceEngine, KnobName } from './engine.js';
import { listModelFiles } from './llama-cpp/models.js';

export const CALIBRATION_VERSION = 1;

export interface TierMeasurement {
  tier: string;
  quant: string;
  modelFile?: string;
  modelBytes?: number;
  contextLength: number;
  batchSize: number;
  threads: number;
  pacingMs: number;
  /** Decode tok/s without pacing (what the hardware does). */
  decodeTokS: number;
  /** Decode tok/s a user sees with the tier's pacing. */
  pacedDecodeTokS: number;
  prefillTokS: number;
  firstTokenMs: number;
  /** Process RSS after the tier has run, bytes (weights are mmap'd: file-backed pages count). */
  rssBytes: number;
  /** Switching into this tier from the previous one, ms. */
  switchInMs: number;
}

export interface SwitchCost {
  knob: KnobName;
  from: string | number;
  to: string | number;
  ms: number;
  /** How the conversation survived (context re-creations). */
  carriedOver?: string;
  keptTokens?: number;
}

export interface CalibrationTable {
  version: typeof CALIBRATION_VERSION;
  engine: string;
  measuredAt: string;
  machine: { cpu: string; cores: number; node: string; platform: string };
  promptTokens: number;
  generatedTokens: number;
  tiers: TierMeasurement[];
  switches: SwitchCost[];
  /** Median switch cost per knob, ms — the figure a governor weighs against the benefit of a change. */
  switchCostMs: Partial<Record<KnobName, number>>;
}

export interface CalibrateOptions {
  engine: InferenceEngine;
  modelsDir: string;
  tiers: readonly Pick<TierSpec, 'name' | 'quant' | 'contextLength' | 'batchSize' | 'threads' | 'pacingMs'>[];
  threads: number;
  promptTokens: number;
  generatedTokens: number;
  onProgress?: (line: string) => void;
}

/** One tier per model file found, when no policy says otherwise. */
export function tiersFromModels(modelsDir: string, contextLength = 1024, batchSize = 256): CalibrateOptions['tiers'] {
  const order = ['f32', 'f16', 'bf16', 'q8_0', 'q6_k', 'q5_k_m', 'q5_0', 'q4_k_m', 'q4_0', 'q3_k_m', 'q2_k'];
  const rank = (q: string): number => (order.indexOf(q) < 0 ? order.length : order.indexOf(q));
  return listModelFiles(modelsDir)
    .sort((a, b) => rank(a.quant) - rank(b.quant))
    .map((f) => ({ name: f.quant, quant: f.quant, contextLength, batchSize, pacingMs: 0 }));
}

/** A user turn of about `tokens` byte tokens (byte-level vocabularies: one token per byte). */
export function fillerPrompt(tokens: number, salt: number): string {
  const words = ['governor', 'thermal', 'battery', 'context', 'tier', 'decode', 'prefill', 'memory'];
  let s = `Run ${salt}: `;
  for (let i = 0; s.length < tokens; i++) s += `${words[(i * 7 + salt) % words.length]} `;
  return s.slice(0, Math.max(1, tokens));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
}

export async function calibrate(o: CalibrateOptions): Promise<CalibrationTable> {
  const engine = o.engine;
  const files = listModelFiles(o.modelsDir);
  const tiers: TierMeasurement[] = [];
  const switches: SwitchCost[] = [];
  let salt = 0;
  const run = async (): Promise<Awaited<ReturnType<InferenceEngine['generate']>>> => {
    // A fresh prompt each time: nothing reused from the cache, so prefill is measured whole.
    salt++;
    return engine.generate({
      messages: [{ role: 'user', content: fillerPrompt(o.promptTokens, salt) }],
      maxTokens: o.generatedTokens,
      ignoreEos: true,
    });
  };
  let prev: EngineKnobs | undefined;
  for (const t of o.tiers) {
    const knobs: EngineKnobs = {
      tier: t.name, quant: t.quant, contextLength: t.contextLength, batchSize: t.batchSize,
      threads: Math.min(o.threads, t.threads ?? o.threads), pacingMs: 0,
    };
    const applied = await engine.apply(knobs);
    if (prev && prev.quant !== knobs.quant) {
      switches.push({ knob: 'quant', from: prev.quant, to: knobs.quant, ms: applied.switchMs, carriedOver: applied.carriedOver });
    }
    await run(); // warm-up: page in the weights, settle the prompt chunk size
    const r = await run();
    const decode = r.decodeTokS ?? NaN;
    const file = files.find((f) => f.quant === t.quant.toLowerCase());
    tiers.push({
      tier: t.name, quant: t.quant,
      modelFile: file ? basename(file.path) : undefined, modelBytes: file?.bytes,
      contextLength: knobs.contextLength, batchSize: knobs.batchSize, threads: knobs.threads, pacingMs: t.pacingMs,
      decodeTokS: decode,
      pacedDecodeTokS: t.pacingMs > 0 ? 1000 / (1000 / decode + t.pacingMs) : decode,
      prefillTokS: r.prefillTokS ?? NaN,
      firstTokenMs: r.firstTokenMs ?? NaN,
      rssBytes: engine.status().rssBytes,
      switchInMs: applied.switchMs,
    });
    o.onProgress?.(`${t.name} (${t.quant}): decode ${decode.toFixed(0)} tok/s, prefill ${(r.prefillTokS ?? NaN).toFixed(0)} tok/s`);
    prev = knobs;
  }

  // Per-knob costs on the last tier, each with a conversation in the KV cache so the
  // carry-over (state save/restore) is part of what is measured.
  if (prev) {
    const base = prev;
    const trial = async (knob: KnobName, to: EngineKnobs): Promise<void> => {
      await run();
      const a = await engine.apply(to);
      switches.push({ knob, from: base[knob], to: to[knob], ms: a.switchMs, carriedOver: a.carriedOver, keptTokens: a.keptTokens });
      await engine.apply(base);
    };
    const half = Math.max(o.promptTokens + o.generatedTokens + 64, Math.floor(base.contextLength / 2));
    await trial('contextLength', { ...base, contextLength: half === base.contextLength ? base.contextLength * 2 : half });
    await trial('batchSize', { ...base, batchSize: Math.max(8, Math.floor(base.batchSize / 2)) });
    await trial('threads', { ...base, threads: base.threads === 1 ? 2 : base.threads - 1 });
    await trial('pacingMs', { ...base, pacingMs: base.pacingMs + 20 });
  }
  const byKnob = new Map<KnobName, number[]>();
  for (const s of switches) byKnob.set(s.knob, [...(byKnob.get(s.knob) ?? []), s.ms]);
  const switchCostMs: Partial<Record<KnobName, number>> = {};
  for (const [k, v] of byKnob) switchCostMs[k] = median(v);
  return {
    version: CALIBRATION_VERSION,
    engine: engine.name,
    measuredAt: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), node: process.version, platform: `${process.platform}-${process.arch}` },
    promptTokens: o.promptTokens,
    generatedTokens: o.generatedTokens,
    tiers,
    switches,
    switchCostMs,
  };
}

/** A fixed-width text table for terminals and the bench output. */
export function formatCalibration(t: CalibrationTable): string {
  const rows = [['tier', 'quant', 'ctx', 'batch', 'thr', 'decode tok/s', 'paced tok/s', 'prefill tok/s', 'first token ms', 'RSS MiB', 'switch-in ms']];
  for (const m of t.tiers) {
    rows.push([m.tier, m.quant, String(m.contextLength), String(m.batchSize), String(m.threads), m.decodeTokS.toFixed(0),
      m.pacedDecodeTokS.toFixed(0), m.prefillTokS.toFixed(0), m.firstTokenMs.toFixed(1), (m.rssBytes / 1048576).toFixed(0), m.switchInMs.toFixed(1)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => c.padStart(widths[i]!)).join('  '));
  lines.push('', 'switch cost (median ms): ' + Object.entries(t.switchCostMs).map(([k, v]) => `${k} ${v!.toFixed(1)}`).join(', '));
  return lines.join('\n') + '\n';
}
