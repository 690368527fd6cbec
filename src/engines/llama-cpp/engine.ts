/**
 * The llama.cpp engine adapter (node-llama-cpp 3.21.1). How each knob acts (research/06 §4):
 * - quant tier: a different GGUF file → dispose the context and model, load the other file,
 *   create a context. The KV cache belongs to the old weights, so the conversation is carried
 *   over by re-prefilling it on the next request.
 * - context length, batch size, threads: a new context on the same model. The conversation's
 *   KV state is saved to a file and loaded into the new context (≈20 ms) when it fits;
 *   otherwise it is re-prefilled, oldest turns dropped first.
 * - pacing: a sleep between decoded tokens.
 * - pause: the running generation stops within one prompt chunk or one token. llama.cpp does
 *   not honour an abort inside one long prompt evaluation, so prompts are fed in chunks sized
 *   from the measured prefill speed to stay well under the 100 ms budget.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import {
  EnginePausedError,
  type ApplyResult, type EngineKnobs, type EngineStatus, type FinishReason,
  type GenerateRequest, type GenerateResult, type InferenceEngine, type KnobName,
} from '../engine.js';
import { fitConversation } from '../chat-format.js';
import { loadLlama } from './runtime.js';
import { resolveModelFile } from './models.js';

export interface LlamaCppEngineOptions {
  modelsDir: string;
  /** Thread budget for the llama.cpp runtime (the most any tier may ask for). */
  maxThreads?: number;
  /** Time one prompt chunk may take, ms: bounds how late a pause lands during prefill. */
  chunkBudgetMs?: number;
  /** Where conversation state is parked while a context is re-created. */
  stateDir?: string;
  log?: (level: 'debug' | 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
}

const MIN_CHUNK_TOKENS = 8;
const FIRST_CHUNK_TOKENS = 32;

function now(): number {
  return performance.now();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class LlamaCppEngine implements InferenceEngine {
  readonly name = 'llama.cpp';
  private model?: LlamaModel;
  private modelFile?: string;
  private context?: LlamaContext;
  private seq?: LlamaContextSequence;
  private knobs?: EngineKnobs;
  private queue: Promise<unknown> = Promise.resolve();
  private busy = false;
  private paused = false;
  private pauseReason = '';
  private pauseWaiters: (() => void)[] = [];
  private current?: AbortController;
  private chunkTokens = FIRST_CHUNK_TOKENS;
  private closed = false;

  private constructor(private readonly llama: Llama, private readonly opts: LlamaCppEngineOptions) {}

  static async open(opts: LlamaCppEngineOptions): Promise<LlamaCppEngine> {
    const llama = await loadLlama(opts.maxThreads ?? 1, (level, message) => opts.log?.('debug', message, { llamaLevel: level }));
    return new LlamaCppEngine(llama, opts);
  }

  status(): EngineStatus {
    return {
      knobs: this.knobs ? { ...this.knobs } : undefined,
      modelFile: this.modelFile,
      paused: this.paused,
      busy: this.busy,
      contextTokens: this.seq && !this.seq.disposed ? this.seq.nextTokenIndex : 0,
      rssBytes: process.memoryUsage.rss(),
      rssFileBytes: residentFileBytes(),
    };
  }

  /** Actual llama.cpp context size (may be rounded up from the requested length). */
  get allocatedContextSize(): number | undefined {
    return this.context?.contextSize;
  }

  /** Runs `fn` after everything queued before it: switches only ever happen between requests. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  apply(knobs: EngineKnobs): Promise<ApplyResult> {
    return this.exclusive(() => this.applyNow(knobs));
  }

  private async applyNow(knobs: EngineKnobs): Promise<ApplyResult> {
    if (this.closed) throw new Error('engine closed');
    const t0 = now();
    const prev = this.knobs;
    const changed: KnobName[] = [];
    if (!prev || prev.quant !== knobs.quant) changed.push('quant');
    if (!prev || prev.contextLength !== knobs.contextLength) changed.push('contextLength');
    if (!prev || prev.batchSize !== knobs.batchSize) changed.push('batchSize');
    if (!prev || prev.threads !== knobs.threads) changed.push('threads');
    if (!prev || prev.pacingMs !== knobs.pacingMs) changed.push('pacingMs');
    let carriedOver: ApplyResult['carriedOver'] = 'none';
    let keptTokens = this.seq && !this.seq.disposed ? this.seq.nextTokenIndex : 0;

    if (changed.includes('quant') || !this.model) {
      const file = resolveModelFile(this.opts.modelsDir, knobs.quant);
      // Free the old tier first: a leaner tier is usually chosen because memory or heat is short,
      // and holding both models at once would make the switch itself the memory peak.
      await this.disposeContext();
      if (this.model) await this.model.dispose();
      this.model = undefined;
      this.modelFile = undefined;
      const model = await this.llama.loadModel({ modelPath: file.path, useMmap: true });
      this.model = model;
      this.modelFile = file.path;
      await this.createContext(knobs);
      carriedOver = keptTokens > 0 ? 'dropped' : 'none';
      keptTokens = 0;
    } else if (changed.some((k) => k === 'contextLength' || k === 'batchSize' || k === 'threads')) {
      const held = keptTokens;
      let statePath: string | undefined;
      if (held > 0 && held <= knobs.contextLength && this.seq) {
        statePath = join(this.opts.stateDir ?? tmpdir(), `edgegov-kv-${process.pid}-${randomBytes(4).toString('hex')}.bin`);
        await this.seq.saveStateToFile(statePath);
      }
      await this.disposeContext();
      await this.createContext(knobs);
      if (statePath) {
        try {
          await this.seq!.loadStateFromFile(statePath, { acceptRisk: true });
          carriedOver = 'state-restored';
        } catch (err) {
          this.opts.log?.('warn', 'conversation state could not be restored; it will be re-prefilled', { err: String(err) });
          await this.seq!.clearHistory();
          carriedOver = 'dropped';
          keptTokens = 0;
        } finally {
          await unlink(statePath).catch(() => undefined);
        }
      } else {
        carriedOver = held > 0 ? 'dropped' : 'none';
        keptTokens = 0;
      }
    }
    this.knobs = { ...knobs };
    const switchMs = changed.length ? now() - t0 : 0;
    const result: ApplyResult = { changed, switchMs, carriedOver, keptTokens, knobs: { ...knobs } };
    if (changed.length) this.opts.log?.('info', 'engine knobs applied', { ...result });
    return result;
  }

  private async createContext(knobs: EngineKnobs): Promise<void> {
    if (knobs.threads > this.llama.maxThreads) this.llama.maxThreads = knobs.threads;
    this.context = await this.model!.createContext({
      contextSize: knobs.contextLength,
      batchSize: Math.min(knobs.batchSize, knobs.contextLength),
      threads: { ideal: knobs.threads, min: knobs.threads },
      sequences: 1,
      // The governor decides what fits; node-llama-cpp's own estimate overshoots several-fold (research/06 §3).
      ignoreMemorySafetyChecks: true,
      failedCreationRemedy: false,
    });
    this.seq = this.context.getSequence();
    // The prefill rate changes with the context's batch and threads: start chunking cautiously again.
    this.chunkTokens = Math.min(FIRST_CHUNK_TOKENS, knobs.batchSize);
  }

  private async disposeContext(): Promise<void> {
    if (this.context && !this.context.disposed) await this.context.dispose();
    this.context = undefined;
    this.seq = undefined;
  }

  pause(reason = 'paused by the governor'): void {
    this.paused = true;
    this.pauseReason = reason;
    this.current?.abort(new EnginePausedError(reason));
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const waiters = this.pauseWaiters;
    this.pauseWaiters = [];
    for (const w of waiters) w();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Holds a new request while the engine is paused (or until the caller gives up). */
  private async waitUnpaused(signal?: AbortSignal): Promise<void> {
    while (this.paused) {
      if (signal?.aborted) throw new EnginePausedError(this.pauseReason);
      await new Promise<void>((resolve) => {
        this.pauseWaiters.push(resolve);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    await this.waitUnpaused(req.signal);
    return this.exclusive(() => this.generateNow(req));
  }

  private async generateNow(req: GenerateRequest): Promise<GenerateResult> {
    if (this.closed) throw new Error('engine closed');
    if (!this.model || !this.seq || !this.knobs) throw new Error('no tier applied yet: call apply() first');
    if (this.paused) throw new EnginePausedError(this.pauseReason);
    const model = this.model;
    const seq = this.seq;
    const knobs = { ...this.knobs };
    const t0 = now();
    const ac = new AbortController();
    this.current = ac;
    this.busy = true;
    const onCallerAbort = (): void => ac.abort(req.signal?.reason);
    if (req.signal?.aborted) ac.abort(req.signal.reason);
    req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const stopReason = (): FinishReason => (ac.signal.reason instanceof EnginePausedError ? 'paused' : 'abort');

    try {
      const fitted = fitConversation(req.messages, req.maxTokens, seq.contextSize,
        (text) => model.tokenize(text), model.tokens.bos as Token);
      const tokens = fitted.tokens;
      // Reuse the KV of the conversation so far; the last prompt token is always evaluated
      // again so that its logits produce the first answer token.
      const common = Math.min(seq.compareContextTokens(tokens).firstDifferentIndex, tokens.length - 1);
      if (common < seq.nextTokenIndex) {
        await seq.eraseContextTokenRanges([{ start: common, end: seq.nextTokenIndex }]);
      }
      const base = {
        promptTokens: tokens.length,
        reusedPromptTokens: common,
        droppedMessages: fitted.droppedMessages,
        knobs,
        modelFile: this.modelFile!,
      };

      // Prefill in chunks so a pause lands between chunks.
      const prefill = tokens.slice(common, tokens.length - 1);
      const tPrefill0 = now();
      for (let i = 0; i < prefill.length;) {
        if (ac.signal.aborted) {
          return { ...base, text: '', finishReason: stopReason(), completionTokens: 0, totalMs: now() - t0 };
        }
        const chunk = prefill.slice(i, i + this.chunkTokens);
        const tc = now();
        await seq.evaluateWithoutGeneratingNewTokens(chunk);
        this.adaptChunk(chunk.length, now() - tc, knobs.batchSize);
        i += chunk.length;
      }
      if (ac.signal.aborted) {
        return { ...base, text: '', finishReason: stopReason(), completionTokens: 0, totalMs: now() - t0 };
      }

      const out: Token[] = [];
      // Tokens up to here have been streamed; text is detokenized from here on (with the
      // preceding tokens as context) so streaming stays linear in the answer length.
      let emittedTokens = 0;
      let emitted = '';
      let finishReason: FinishReason = 'length';
      let firstAt: number | undefined;
      let lastAt = 0;
      const eos = model.tokens.eos;
      const gen = seq.evaluate([tokens[tokens.length - 1]!], {
        temperature: req.temperature ?? 0,
        ...(req.seed !== undefined ? { seed: req.seed } : {}),
      });
      for await (const token of gen) {
        if (ac.signal.aborted) { finishReason = stopReason(); break; }
        if (firstAt === undefined) firstAt = now();
        lastAt = now();
        if (token === eos && !req.ignoreEos) { finishReason = 'stop'; break; }
        out.push(token);
        const piece = model.detokenize(out.slice(emittedTokens), false, out.slice(Math.max(0, emittedTokens - 8), emittedTokens));
        // A byte token may end mid-character: hold it for the rest of the character — but no
        // longer than a UTF-8 sequence can be, or a model emitting invalid bytes would stall the stream.
        if (piece && (!piece.endsWith('\uFFFD') || out.length - emittedTokens >= 4)) {
          req.onText?.(piece);
          emitted += piece;
          emittedTokens = out.length;
        }
        if (out.length >= fitted.maxTokens) { finishReason = 'length'; break; }
        if (knobs.pacingMs > 0) await sleep(knobs.pacingMs, ac.signal);
        if (ac.signal.aborted) { finishReason = stopReason(); break; }
      }
      if (emittedTokens < out.length) {
        const rest = model.detokenize(out.slice(emittedTokens), false, out.slice(Math.max(0, emittedTokens - 8), emittedTokens));
        if (rest) req.onText?.(rest);
        emitted += rest;
      }
      // The reply is exactly what was streamed.
      const finalText = emitted;
      const prefillMs = (firstAt ?? now()) - tPrefill0;
      const decodeMs = lastAt - (firstAt ?? lastAt);
      return {
        ...base,
        text: finalText,
        finishReason,
        completionTokens: out.length,
        firstTokenMs: firstAt !== undefined ? firstAt - t0 : undefined,
        prefillTokS: prefillMs > 0 ? (prefill.length + 1) / (prefillMs / 1000) : undefined,
        decodeTokS: out.length > 1 && decodeMs > 0 ? (out.length - 1) / (decodeMs / 1000) : undefined,
        totalMs: now() - t0,
      };
    } finally {
      req.signal?.removeEventListener('abort', onCallerAbort);
      this.current = undefined;
      this.busy = false;
    }
  }

  /** Sizes the next prompt chunk so one chunk takes about `chunkBudgetMs`. */
  private adaptChunk(tokens: number, ms: number, batchSize: number): void {
    if (tokens < 4 || ms <= 0) return;
    const budget = this.opts.chunkBudgetMs ?? 20;
    const perToken = ms / tokens;
    const ideal = Math.floor(budget / perToken);
    // Grow gently (a single fast chunk may be a fluke), shrink at once.
    const next = ideal > this.chunkTokens ? Math.min(ideal, this.chunkTokens * 2) : ideal;
    this.chunkTokens = Math.max(MIN_CHUNK_TOKENS, Math.min(batchSize, next));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pause('engine closing');
    await this.queue;
    await this.disposeContext();
    if (this.model) await this.model.dispose();
    this.model = undefined;
  }
}

/** `RssFile` of /proc/self/status in bytes (file-backed resident pages), or undefined off Linux. */
function residentFileBytes(): number | undefined {
  try {
    const m = /^RssFile:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
