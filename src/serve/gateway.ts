/**
 * The governed gateway: for every chat request it asks the governor where to run it
 * (`advise`), then runs it on the local engine at the decided tier, forwards it to the cloud,
 * or defers it. Decisions pushed by the daemon reach the engine between requests (or at
 * once, for a pause). With no daemon — never reached, or lease expired — the client SDK's
 * safe tier governs.
 */
import { basename } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { Decision } from '../core/decision.js';
import type { Policy } from '../policy/types.js';
import type { EdgegovClient, Advice, DecisionSource } from '../ipc/client.js';
import { safeDecision } from '../ipc/client.js';
import { safeKnobsOf } from '../ipc/protocol.js';
import { EnginePausedError, type ApplyResult, type EngineKnobs, type GenerateResult, type InferenceEngine } from '../engines/engine.js';
import { formatChat } from '../engines/chat-format.js';
import { completionId, errorBody, openaiFinishReason, type ChatRequest } from './openai.js';
import { CloudUnreachableError, forwardToCloud, type CloudTarget } from './cloud.js';

export type Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export interface GatewayOptions {
  policy: Policy;
  engine: InferenceEngine;
  client?: EdgegovClient;
  cloud?: CloudTarget;
  /** Most threads the local engine may use here, whatever a tier asks for. */
  maxThreads: number;
  modelName: string;
  log: Log;
}

export type RouteName = 'local' | 'cloud' | 'defer';

export interface RoutePlan {
  route: RouteName;
  knobs: EngineKnobs;
  decision: Decision;
  decisionSource: DecisionSource | 'policy-safe-tier';
  advice?: Advice;
  /** The wait for the engine the advice was asked with, ms (the requests ahead of this one). */
  engineWaitMs?: number;
  /** Its place among the engine's local requests (held from planning, so a concurrent plan sees it). */
  slot?: { t0: number; expectedMs: number };
  why: string;
  retryAfterS?: number;
}

export class Gateway {
  private lastSource: DecisionSource | 'policy-safe-tier' = 'policy-safe-tier';
  private lastApply?: ApplyResult;
  private lastResult?: GenerateResult;
  /** When the last pause decision arrived (performance.now()), to measure how fast generation stopped. */
  private pausedAt?: number;
  private lastPauseStopMs?: number;
  private readonly safeAtStart: Decision;
  readonly counters = { local: 0, cloud: 0, deferred: 0, paused: 0, errors: 0 };
  /**
   * Local requests running or waiting for the engine (it serves one at a time): when each was
   * handed to it and how long it was expected to take (the advice's predicted total, ms).
   */
  private readonly localInFlight = new Set<{ t0: number; expectedMs: number }>();

  constructor(private readonly o: GatewayOptions) {
    this.safeAtStart = safeDecision(safeKnobsOf(o.policy), undefined, 'no decision from a daemon yet; running the policy safe tier');
    o.client?.on('decision', (d, source) => this.onDecision(d, source));
    // A (re)started daemon knows nothing of what the engine holds: tell it.
    o.client?.on('connected', () => this.reportApplied());
  }

  /**
   * Tells the daemon the knobs the engine holds now, as soon as they change. The governor counts
   * memory as ours by the knobs the engine has APPLIED (the `engine_mb` signal, docs/core.md §4):
   * a shrink it decided frees nothing until it is applied here, between requests.
   */
  reportApplied(): void {
    const client = this.o.client;
    const k = this.o.engine.status().knobs;
    if (!client?.connected || !k) return;
    client.report({
      applied: { tier: k.tier, quant: k.quant, contextLength: k.contextLength, batchSize: k.batchSize, threads: k.threads, pacingMs: k.pacingMs },
    }).catch((err: unknown) => this.o.log('debug', 'report failed', { err: String(err) }));
  }

  /** The decision in force: the daemon's, the SDK's safe tier after a lease expiry, or the policy's safe tier. */
  decision(): { decision: Decision; source: DecisionSource | 'policy-safe-tier' } {
    const d = this.o.client?.decision;
    return d ? { decision: d, source: this.lastSource } : { decision: this.safeAtStart, source: 'policy-safe-tier' };
  }

  knobsFor(d: Pick<Decision, 'tier' | 'quant' | 'contextLength' | 'batchSize' | 'threads' | 'pacingMs'>): EngineKnobs {
    const threads = Math.max(1, Math.min(this.o.maxThreads, d.threads ?? this.o.maxThreads));
    return { tier: d.tier, quant: d.quant, contextLength: d.contextLength, batchSize: d.batchSize, threads, pacingMs: d.pacingMs };
  }

  private onDecision(d: Decision, source: DecisionSource): void {
    this.lastSource = source;
    if (d.offload === 'pause') {
      const why = d.reasons[0]?.message ?? `severity ${d.severity}`;
      this.o.log('warn', 'pause: stopping local generation', { severity: d.severity, why });
      if (!this.o.engine.status().paused) this.pausedAt = performance.now();
      this.o.engine.pause(why);
      return;
    }
    this.o.engine.resume();
    // Apply in the background: it waits for the running request, so the switch lands between
    // requests and its cost stays off the next request's path when the engine is idle.
    this.o.engine.apply(this.knobsFor(d)).then(
      (r) => { if (r.changed.length) { this.lastApply = r; this.reportApplied(); } },
      (err: unknown) => this.o.log('error', 'could not apply decision to the engine', { err: String(err) }),
    );
  }

  /** Decides where one request runs. */
  async plan(req: ChatRequest): Promise<RoutePlan> {
    const { decision, source } = this.decision();
    const client = this.o.client;
    let advice: Advice | undefined;
    let engineWaitMs = 0;
    // What the requests ahead of this one on the engine still need (it serves one at a time),
    // counted before this one takes its place, synchronously, so that two requests arriving
    // together do not both see an idle engine.
    const now = performance.now();
    for (const f of this.localInFlight) {
      if (now - f.t0 > 600_000) this.localInFlight.delete(f); // a request that never ended (no place lasts 10 min)
      else engineWaitMs += Math.max(0, f.expectedMs - (now - f.t0));
    }
    const slot = { t0: now, expectedMs: decodeGuessMs(req, decision) };
    this.localInFlight.add(slot);
    if (client?.connected && !client.leaseExpired) {
      try {
        // The prompt's byte length is the token count for byte-level vocabularies and an upper bound
        // otherwise; the conversation before the last message is the history the answer needs.
        const allTokens = Buffer.byteLength(formatChat(req.messages)) + 1;
        const historyTokens = req.messages.length > 1 ? Buffer.byteLength(formatChat(req.messages.slice(0, -1))) : 0;
        advice = await client.advise({
          promptTokens: Math.max(1, allTokens - historyTokens), historyTokens, expectedOutputTokens: req.maxTokens,
          private: req.private, kind: req.kind, firstTokenTargetMs: req.firstTokenTargetMs, engineWaitMs: Math.round(engineWaitMs),
        });
      } catch (err) {
        this.o.log('warn', 'advise failed; routing on the last decision', { err: String(err) });
      }
    }
    let route: RouteName = advice?.route ?? (decision.offload === 'pause' ? 'defer' : decision.offload);
    let why = advice ? `advise: ${advice.reasons[0]?.message ?? advice.route}` : `decision (${source}): offload ${decision.offload}`;
    if (decision.offload === 'pause' || this.o.engine.status().paused) {
      // A pause is an emergency stop for local work; cloud work may still go out (non-private).
      if (route === 'local') { route = 'defer'; why = 'local generation is paused by the governor'; }
    }
    if (route === 'cloud' && req.private) {
      // Never off the device: it runs here at the decided (capped) tier, as the daemon's advise
      // says (src/core/route.ts), or waits while local generation is paused.
      route = decision.offload !== 'pause' && !this.o.engine.status().paused ? 'local' : 'defer';
      why = 'private request: never leaves the device';
    }
    if (route === 'cloud' && !this.o.cloud) {
      route = decision.offload === 'pause' ? 'defer' : 'local';
      why = 'offload to the cloud advised, but serve has no --cloud-url';
    }
    // The advised tier may differ from the last pushed decision (the daemon answers from newer state).
    let knobs = this.knobsFor(decision);
    if (advice && advice.tier !== decision.tier) {
      const t = this.o.policy.tiers.find((x) => x.name === advice!.tier);
      if (t) knobs = this.knobsFor({ ...t, tier: t.name, quant: advice.quant, contextLength: advice.contextLength });
    } else if (advice) {
      knobs = { ...knobs, quant: advice.quant, contextLength: Math.min(knobs.contextLength, advice.contextLength) };
    }
    const retryAfterS = Math.max(1, Math.min(300, Math.ceil(this.o.policy.control.dwellMs / 1000)));
    if (route === 'local') {
      // Its own service time: the predicted total less the wait for the requests ahead of it.
      // It is done when those ahead of it are and its own service time after that (× 1.25: a
      // queue estimate that runs short puts the next request's first token late).
      if (advice) slot.expectedMs = engineWaitMs + 1.25 * Math.max(0, advice.predictedTotalMs - engineWaitMs);
      else slot.expectedMs += engineWaitMs;
    } else this.localInFlight.delete(slot);
    return { route, knobs, decision, decisionSource: source, advice, engineWaitMs, slot: route === 'local' ? slot : undefined, why, retryAfterS };
  }

  status(): Record<string, unknown> {
    const { decision, source } = this.decision();
    const es = this.o.engine.status();
    return {
      engine: { name: this.o.engine.name, ...es, modelFile: es.modelFile ? basename(es.modelFile) : undefined },
      decision,
      decisionSource: source,
      daemon: { connected: this.o.client?.connected ?? false, leaseExpired: this.o.client?.leaseExpired ?? false, socket: this.o.client?.socketPath },
      cloud: this.o.cloud ? { url: this.o.cloud.baseUrl } : undefined,
      lastApply: this.lastApply,
      lastPauseStopMs: this.lastPauseStopMs,
      lastResult: this.lastResult ? { ...this.lastResult, text: undefined } : undefined,
      counters: this.counters,
    };
  }

  /** Handles one validated chat request end to end. Never throws. */
  async handle(req: ChatRequest, rawBody: Record<string, unknown>, res: ServerResponse): Promise<void> {
    const ac = new AbortController();
    res.on('close', () => { if (!res.writableFinished) ac.abort(new Error('client went away')); });
    try {
      const plan = await this.plan(req);
      this.o.log('debug', 'request routed', { route: plan.route, tier: plan.knobs.tier, private: req.private, why: plan.why });
      if (plan.route === 'defer') return this.defer(res, plan);
      if (plan.route === 'cloud') {
        try {
          const t0 = performance.now();
          await forwardToCloud(this.o.cloud!, rawBody, res, { 'x-edgegov-route': 'cloud', 'x-edgegov-tier': plan.knobs.tier }, ac.signal);
          this.counters.cloud++;
          // The device's radio was on while the answer streamed (what a simulated device feels).
          this.o.client?.report({ radioMs: performance.now() - t0 })
            .catch((err: unknown) => this.o.log('debug', 'report failed', { err: String(err) }));
          return;
        } catch (err) {
          if (!(err instanceof CloudUnreachableError) || res.headersSent) throw err;
          this.o.log('warn', 'cloud unreachable; answering locally instead', { err: err.message });
          if (this.decision().decision.offload === 'pause') return this.defer(res, { ...plan, why: `${err.message}; local generation is paused` });
          plan.why = `${err.message}; answered locally`;
        }
      }
      await this.runLocal(req, res, plan, ac.signal);
    } catch (err) {
      this.counters.errors++;
      this.o.log('error', 'request failed', { err: (err as Error)?.stack ?? String(err) });
      if (!res.headersSent) {
        sendJson(res, 500, errorBody(`internal error: ${(err as Error)?.message ?? String(err)}`, 'server_error'));
      } else if (!res.writableEnded) {
        res.end();
      }
    }
  }

  private defer(res: ServerResponse, plan: RoutePlan): void {
    this.counters.deferred++;
    sendJson(res, 503, {
      ...errorBody(`deferred by the governor: ${plan.why}`, 'edgegov_deferred', undefined, 'deferred'),
      edgegov: { route: 'defer', severity: plan.decision.severity, tier: plan.decision.tier, retryAfterS: plan.retryAfterS },
    }, { 'retry-after': String(plan.retryAfterS ?? 1), 'x-edgegov-route': 'defer' });
  }

  private async runLocal(req: ChatRequest, res: ServerResponse, plan: RoutePlan, signal: AbortSignal): Promise<void> {
    // (a cloud answer that fell back here had given its place up: it takes one again)
    const entry = plan.slot ?? { t0: performance.now(), expectedMs: decodeGuessMs(req, plan.decision) };
    this.localInFlight.add(entry);
    try {
      await this.runLocalQueued(req, res, plan, signal);
    } finally {
      this.localInFlight.delete(entry);
    }
  }

  private async runLocalQueued(req: ChatRequest, res: ServerResponse, plan: RoutePlan, signal: AbortSignal): Promise<void> {
    const engine = this.o.engine;
    const applied = await engine.apply(plan.knobs);
    if (applied.changed.length) { this.lastApply = applied; this.reportApplied(); }
    const id = completionId();
    const created = Math.floor(Date.now() / 1000);
    const model = this.o.modelName;
    const headers = { 'x-edgegov-route': 'local', 'x-edgegov-tier': plan.knobs.tier };
    const chunk = (delta: object, finish: string | null, extra: object = {}): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra })}\n\n`;

    let result: GenerateResult;
    if (req.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
      res.write(chunk({ role: 'assistant', content: '' }, null));
      try {
        result = await engine.generate({
          messages: req.messages, maxTokens: req.maxTokens, temperature: req.temperature, seed: req.seed,
          ignoreEos: req.ignoreEos, signal,
          onText: (t) => { if (!res.writableEnded) res.write(chunk({ content: t }, null)); },
        });
      } catch (err) {
        if (!(err instanceof EnginePausedError)) throw err;
        result = this.emptyResult(plan.knobs, 'paused');
      }
      this.afterLocal(result);
      if (!res.writableEnded) {
        res.write(chunk({}, openaiFinishReason(result.finishReason), { edgegov: this.ext(plan, result, applied) }));
        if (req.includeUsage) {
          res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: usage(result) })}\n\n`);
        }
        res.write('data: [DONE]\n\n');
        res.end();
      }
      return;
    }
    try {
      result = await engine.generate({
        messages: req.messages, maxTokens: req.maxTokens, temperature: req.temperature, seed: req.seed,
        ignoreEos: req.ignoreEos, signal,
      });
    } catch (err) {
      if (!(err instanceof EnginePausedError)) throw err;
      result = this.emptyResult(plan.knobs, 'paused');
    }
    this.afterLocal(result);
    if (result.finishReason === 'paused' && result.completionTokens === 0) {
      return this.defer(res, { ...plan, why: 'local generation was paused by the governor before an answer began' });
    }
    sendJson(res, 200, {
      id, object: 'chat.completion', created, model,
      choices: [{ index: 0, message: { role: 'assistant', content: result.text }, finish_reason: openaiFinishReason(result.finishReason), logprobs: null }],
      usage: usage(result),
      edgegov: this.ext(plan, result, applied),
    }, headers);
  }

  private emptyResult(knobs: EngineKnobs, finishReason: GenerateResult['finishReason']): GenerateResult {
    return {
      text: '', finishReason, promptTokens: 0, reusedPromptTokens: 0, droppedMessages: 0, completionTokens: 0,
      totalMs: 0, knobs, modelFile: this.o.engine.status().modelFile ?? '',
    };
  }

  private afterLocal(result: GenerateResult): void {
    this.lastResult = result;
    this.counters.local++;
    if (result.finishReason === 'paused') {
      this.counters.paused++;
      if (this.pausedAt !== undefined && result.promptTokens > 0) {
        this.lastPauseStopMs = performance.now() - this.pausedAt;
        this.o.log('info', 'generation stopped by a pause', { pauseStopMs: this.lastPauseStopMs, completionTokens: result.completionTokens });
      }
    }
    const client = this.o.client;
    if (client?.connected && result.completionTokens > 0) {
      const k = result.knobs;
      // Compute time: the request's wall time less the pacing sleeps between its tokens.
      const busyMs = Math.max(0, result.totalMs - k.pacingMs * Math.max(0, result.completionTokens - 1));
      client.report({
        applied: { tier: k.tier, quant: k.quant, contextLength: k.contextLength, batchSize: k.batchSize, threads: k.threads, pacingMs: k.pacingMs, offload: 'local' },
        busyMs,
        ...(result.decodeTokS !== undefined ? { tokS: result.decodeTokS } : {}),
        ...(result.firstTokenMs !== undefined ? { firstTokenMs: result.firstTokenMs } : {}),
        ...(result.prefillTokS !== undefined ? { prefillTokS: result.prefillTokS } : {}),
        contextTokens: result.promptTokens,
      }).catch((err: unknown) => this.o.log('debug', 'report failed', { err: String(err) }));
    }
  }

  private ext(plan: RoutePlan, r: GenerateResult, applied: ApplyResult): Record<string, unknown> {
    const es = this.o.engine.status();
    return {
      route: 'local',
      why: plan.why,
      severity: plan.decision.severity,
      decisionSource: plan.decisionSource,
      tier: r.knobs.tier,
      quant: r.knobs.quant,
      contextLength: r.knobs.contextLength,
      batchSize: r.knobs.batchSize,
      threads: r.knobs.threads,
      pacingMs: r.knobs.pacingMs,
      modelFile: basename(r.modelFile),
      rssBytes: es.rssBytes,
      rssFileBytes: es.rssFileBytes,
      promptTokens: r.promptTokens,
      reusedPromptTokens: r.reusedPromptTokens,
      droppedMessages: r.droppedMessages,
      firstTokenMs: r.firstTokenMs,
      prefillTokS: r.prefillTokS,
      decodeTokS: r.decodeTokS,
      paused: r.finishReason === 'paused',
      // From the pause decision reaching serve to the generation having stopped, ms.
      pauseStopMs: r.finishReason === 'paused' ? this.lastPauseStopMs : undefined,
      switch: applied.changed.length ? { changed: applied.changed, switchMs: applied.switchMs, carriedOver: applied.carriedOver, keptTokens: applied.keptTokens } : undefined,
    };
  }
}

function usage(r: GenerateResult): object {
  return { prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) { if (!res.writableEnded) res.end(); return; }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A local request's service time before any advice, ms: its answer at the decision's expected decode speed (0 without one). */
function decodeGuessMs(req: ChatRequest, decision: Decision): number {
  return decision.expect ? (req.maxTokens / Math.max(1e-3, decision.expect.decodeTokS)) * 1000 : 0;
}
