/**
 * The engine side of edgegov: what a governed inference runtime must offer so decisions
 * (SPEC §5) change real inference. llama.cpp (src/engines/llama-cpp/) is one implementation;
 * another runtime (MLC, ExecuTorch, a remote llama-server) implements the same interface.
 *
 * Contract:
 * - `apply` changes knobs only at a safe point: it waits for the running request to finish,
 *   so a reply is never produced half by one model and half by another.
 * - `pause` is the exception: it stops the running generation now (within one prefill chunk
 *   or one decoded token) and holds new requests until `resume`.
 * - Every generation reports what it actually ran with and how fast, so the governor's
 *   `tok_s` feedback and `report` messages come from measurement, not from the plan.
 */
import type { Decision } from '../core/decision.js';

export interface EngineKnobs {
  tier: string;
  quant: string;
  contextLength: number;
  batchSize: number;
  threads: number;
  /** Sleep between decoded tokens, ms: lowers average power at the cost of speed. */
  pacingMs: number;
}

export type KnobName = 'quant' | 'contextLength' | 'batchSize' | 'threads' | 'pacingMs';

export interface ApplyResult {
  /** Knobs that actually changed. */
  changed: KnobName[];
  /** Wall time of the switch, ms (0 when nothing changed). */
  switchMs: number;
  /** How the running conversation survived a context re-creation. */
  carriedOver: 'none' | 'state-restored' | 'dropped';
  /** Tokens of conversation kept in the KV cache across the switch. */
  keptTokens: number;
  knobs: EngineKnobs;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type FinishReason = 'stop' | 'length' | 'abort' | 'paused';

export interface GenerateRequest {
  messages: readonly ChatMessage[];
  maxTokens: number;
  temperature?: number;
  seed?: number;
  /** Keep generating past end-of-sequence (fixed-length benchmarks and tests). */
  ignoreEos?: boolean;
  /** Cancels this request (client went away). */
  signal?: AbortSignal;
  /** Called with each new piece of text, in order, as it is decoded. */
  onText?: (text: string) => void;
}

export interface GenerateResult {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  /** Prompt tokens whose KV was already in the cache (not re-evaluated). */
  reusedPromptTokens: number;
  /** Messages dropped from the front because the conversation did not fit the context. */
  droppedMessages: number;
  completionTokens: number;
  /** From the start of `generate` to the first decoded token, ms. */
  firstTokenMs?: number;
  /** Prompt tokens evaluated per second of prefill. */
  prefillTokS?: number;
  /** Decoded tokens per second as the user saw them (pacing included). */
  decodeTokS?: number;
  totalMs: number;
  knobs: EngineKnobs;
  /** Model file that produced the reply. */
  modelFile: string;
}

export interface EngineStatus {
  knobs?: EngineKnobs;
  modelFile?: string;
  paused: boolean;
  busy: boolean;
  /** Tokens currently held in the KV cache of the conversation. */
  contextTokens: number;
  /** Whole-process resident memory, bytes. */
  rssBytes: number;
  /**
   * File-backed resident memory, bytes (Linux `RssFile`): the mmap'd model weights plus shared
   * libraries. Unlike `rssBytes` it does not carry allocator noise, so it shows a model swap
   * plainly. Undefined where the OS does not say.
   */
  rssFileBytes?: number;
}

export interface InferenceEngine {
  readonly name: string;
  /** Applies knobs at the next safe point (between requests). */
  apply(knobs: EngineKnobs): Promise<ApplyResult>;
  generate(req: GenerateRequest): Promise<GenerateResult>;
  /** Stops the running generation promptly and holds new requests. */
  pause(reason?: string): void;
  resume(): void;
  status(): EngineStatus;
  close(): Promise<void>;
}

/** The knobs a decision asks of a local engine; threads default to the engine's own default. */
export function knobsFromDecision(d: Pick<Decision, 'tier' | 'quant' | 'contextLength' | 'batchSize' | 'threads' | 'pacingMs'>, defaultThreads: number): EngineKnobs {
  return {
    tier: d.tier,
    quant: d.quant,
    contextLength: d.contextLength,
    batchSize: d.batchSize,
    threads: d.threads ?? defaultThreads,
    pacingMs: d.pacingMs,
  };
}

export class EnginePausedError extends Error {
  constructor(reason: string) {
    super(`engine paused: ${reason}`);
    this.name = 'EnginePausedError';
  }
}
