/**
 * The llama.cpp adapter on synthetic models (1 thread): knobs change the live engine,
 * conversations survive context re-creation, switches wait for the running reply, and a
 * pause stops generation mid-prompt and mid-decode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeModels } from '../../src/model/synth.js';
import { LlamaCppEngine } from '../../src/engines/llama-cpp/engine.js';
import { listModelFiles, resolveModelFile } from '../../src/engines/llama-cpp/models.js';
import { fitConversation, formatChat } from '../../src/engines/chat-format.js';
import type { EngineKnobs } from '../../src/engines/engine.js';
import { EnvError } from '../../src/util/errors.js';

let dir: string;
let engine: LlamaCppEngine;
const base: EngineKnobs = { tier: 'rich', quant: 'f16', contextLength: 1024, batchSize: 128, threads: 1, pacingMs: 0 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgegov-engine-'));
  await synthesizeModels({ outDir: join(dir, 'models'), params: 8e6, quants: ['f16', 'q8_0', 'q4_0'], seed: 4, label: '8M' });
  engine = await LlamaCppEngine.open({ modelsDir: join(dir, 'models'), maxThreads: 1, stateDir: dir });
}, 60_000);
afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

const user = (content: string) => [{ role: 'user' as const, content }];

describe('llama.cpp engine adapter', () => {
  it('quant tier = the loaded model file; generation reports knobs, speed and first-token time', async () => {
    const a = await engine.apply(base);
    expect(a.changed).toContain('quant');
    expect(engine.status().modelFile).toMatch(/synthetic-8M-f16\.gguf$/);
    const r = await engine.generate({ messages: user('hello'), maxTokens: 12, ignoreEos: true });
    expect(r.completionTokens).toBe(12);
    expect(r.finishReason).toBe('length');
    expect(r.knobs).toEqual(base);
    expect(r.firstTokenMs).toBeGreaterThan(0);
    expect(r.decodeTokS).toBeGreaterThan(0);
    expect(r.prefillTokS).toBeGreaterThan(0);

    const b = await engine.apply({ ...base, tier: 'lean', quant: 'q4_0' });
    expect(b.changed).toEqual(['quant']);
    expect(engine.status().modelFile).toMatch(/q4_0\.gguf$/);
    const r2 = await engine.generate({ messages: user('hello'), maxTokens: 4, ignoreEos: true });
    expect(r2.modelFile).toMatch(/q4_0\.gguf$/);
    await engine.apply(base);
  });

  it('same knobs → nothing changes; greedy output is reproducible', async () => {
    const same = await engine.apply(base);
    expect(same.changed).toEqual([]);
    const x = await engine.generate({ messages: user('repeat after me'), maxTokens: 10, ignoreEos: true });
    const y = await engine.generate({ messages: user('repeat after me'), maxTokens: 10, ignoreEos: true });
    expect(y.text).toBe(x.text);
  });

  it('context length change: new context, the conversation KV carried over by state save/restore', async () => {
    const h = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'What is a thermal zone?' }];
    const first = await engine.generate({ messages: h, maxTokens: 10, ignoreEos: true });
    const a = await engine.apply({ ...base, contextLength: 512 });
    expect(a.changed).toEqual(['contextLength']);
    expect(a.carriedOver).toBe('state-restored');
    expect(a.keptTokens).toBeGreaterThan(10);
    expect(engine.allocatedContextSize).toBe(512);
    const next = await engine.generate({
      messages: [...h, { role: 'assistant', content: first.text }, { role: 'user', content: 'Thanks.' }], maxTokens: 4, ignoreEos: true,
    });
    expect(next.reusedPromptTokens).toBeGreaterThanOrEqual(formatChat(h).length);
    // The state file is removed after the restore.
    expect(readdirSync(dir).filter((f) => f.startsWith('edgegov-kv-'))).toEqual([]);

    const t = await engine.apply({ ...base, contextLength: 512, batchSize: 64 });
    expect(t.changed).toEqual(['batchSize']);
    expect(t.carriedOver).toBe('state-restored');
    await engine.apply(base);
  });

  it('a switch requested mid-reply waits for the reply, which is identical to an undisturbed one', async () => {
    const req = { messages: user('tell me about batteries'), maxTokens: 40, ignoreEos: true };
    const alone = await engine.generate(req);
    const running = engine.generate(req);
    await new Promise((r) => setTimeout(r, 5));
    const switching = engine.apply({ ...base, tier: 'mid', quant: 'q8_0', contextLength: 768 });
    const [during, sw] = await Promise.all([running, switching]);
    expect(during.text).toBe(alone.text);
    expect(during.knobs.quant).toBe('f16');
    expect(sw.changed).toEqual(['quant', 'contextLength']);
    expect(engine.status().knobs?.quant).toBe('q8_0');
    await engine.apply(base);
  });

  it('pause stops a long prompt mid-prefill and a long answer mid-decode; new requests are held until resume', async () => {
    await engine.apply({ ...base, contextLength: 4096, batchSize: 512 });
    const long = 'lorem ipsum dolor sit amet, consectetur adipiscing elit '.repeat(60);
    const p = engine.generate({ messages: user(long), maxTokens: 8, ignoreEos: true });
    await new Promise((r) => setTimeout(r, 60));
    const t0 = performance.now();
    engine.pause('test');
    const r = await p;
    const stopMs = performance.now() - t0;
    expect(r.finishReason).toBe('paused');
    expect(r.completionTokens).toBe(0);
    expect(stopMs).toBeLessThan(100);

    let started = false;
    const held = engine.generate({ messages: user('x'), maxTokens: 2 }).then((g) => { started = true; return g; });
    await new Promise((r2) => setTimeout(r2, 100));
    expect(started).toBe(false);
    engine.resume();
    expect((await held).finishReason).not.toBe('paused');

    const texts: string[] = [];
    const d = engine.generate({ messages: user('go on'), maxTokens: 3000, ignoreEos: true, onText: (t) => texts.push(t) });
    while (texts.length < 5) await new Promise((r3) => setTimeout(r3, 2));
    engine.pause('test');
    const dr = await d;
    engine.resume();
    expect(dr.finishReason).toBe('paused');
    expect(dr.completionTokens).toBeGreaterThan(4);
    expect(dr.completionTokens).toBeLessThan(3000);
    expect(texts.join('')).toBe(dr.text);
    await engine.apply(base);
  });

  it('pacing slows decode; a caller abort ends the request without pausing the engine', async () => {
    const fast = await engine.generate({ messages: user('a'), maxTokens: 20, ignoreEos: true });
    await engine.apply({ ...base, pacingMs: 15 });
    const slow = await engine.generate({ messages: user('a'), maxTokens: 20, ignoreEos: true });
    expect(slow.decodeTokS!).toBeLessThan(1000 / 15);
    expect(slow.decodeTokS!).toBeLessThan(fast.decodeTokS!);
    const ac = new AbortController();
    const p = engine.generate({ messages: user('b'), maxTokens: 500, ignoreEos: true, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const r = await p;
    expect(r.finishReason).toBe('abort');
    expect(engine.status().paused).toBe(false);
    await engine.apply(base);
  });

  it('fits a long conversation by dropping the oldest turns first', () => {
    const tok = (s: string) => [...Buffer.from(s)];
    const msgs = [{ role: 'system' as const, content: 'sys' }, ...Array.from({ length: 10 }, (_, i) => ({ role: 'user' as const, content: `turn ${i} `.repeat(20) }))];
    const f = fitConversation(msgs, 50, 400, tok, 1);
    expect(f.tokens.length + f.maxTokens).toBeLessThanOrEqual(400);
    expect(f.droppedMessages).toBeGreaterThan(0);
    expect(Buffer.from(f.tokens.slice(1)).toString()).toContain('### System:\nsys');
    expect(Buffer.from(f.tokens.slice(1)).toString()).toContain('turn 9');
  });

  it('names the missing quant when a tier has no model file', () => {
    expect(listModelFiles(join(dir, 'models')).map((f) => f.quant).sort()).toEqual(['f16', 'q4_0', 'q8_0']);
    expect(() => resolveModelFile(join(dir, 'models'), 'q3_k_m')).toThrow(EnvError);
    expect(() => resolveModelFile(join(dir, 'models'), 'q3_k_m')).toThrow(/q3_k_m.*found: f16, q8_0, q4_0/);
    expect(() => listModelFiles(join(dir, 'nope'))).toThrow(/models directory not found/);
  });
});
