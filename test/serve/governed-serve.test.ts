/**
 * Acceptance (issue 7): the daemon on a fixture sysfs root and `serve` in front of three
 * synthetic tiers (f16 → q8_0 → q4_0), real llama.cpp engine, 1 thread. One daemon + serve
 * pair runs through the scenarios in order, the way a device would live through them.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { join } from 'node:path';
import { synthesizeModels } from '../../src/model/synth.js';
import { EdgegovClient, requestOnce } from '../../src/ipc/client.js';
import {
  chat, chatStream, cleanup, FixtureRoot, serveStatus, startDaemon, startFakeCloud, startServe, tempDir, waitFor,
  type Proc, policyPath,
} from './harness.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { needBytes, MiB } from '../../src/core/memory.js';

const COOL_C = 40;
const MODERATE_C = 65; // moderate → lean, still local
const SEVERE_C = 72; // severe → lean + cloud offload
const EMERGENCY_C = 95; // emergency → pause
const PLENTY_MIB = 7000;
// From test/fixtures/serve/policy.yaml: the rich tier's context, the memory reserve, KV per token (64 KiB).
const FULL_CONTEXT = 2048;
const RESERVE_MIB = 100;
const KV_MIB_PER_TOKEN = 64 / 1024;

let dir: string;
let modelsDir: string;
let fx: FixtureRoot;
let socket: string;
let daemon: Proc;
let serve: Proc & { url: string };
let cloud: Awaited<ReturnType<typeof startFakeCloud>>;

async function decisionIs(pred: (d: any) => boolean, what: string, timeoutMs = 15_000): Promise<any> {
  return waitFor(what, async () => {
    const s = await serveStatus(serve.url);
    return pred(s.decision) ? s : undefined;
  }, timeoutMs);
}

const ask = (content: string, extra: Record<string, unknown> = {}) =>
  ({ messages: [{ role: 'user', content }], max_tokens: 8, ...extra });

beforeAll(async () => {
  dir = tempDir('edgegov-serve-e2e-');
  modelsDir = join(dir, 'models');
  // ~17 M params: f16 ≈ 35 MB, q4_0 ≈ 10 MB — big enough that the tier shows in RSS, small enough to write in ~2 s.
  await synthesizeModels({ outDir: modelsDir, params: 20e6, quants: ['f16', 'q8_0', 'q4_0'], seed: 7, label: '20M' });
  fx = new FixtureRoot(join(dir, 'sysfs'));
  fx.setTempC(COOL_C);
  fx.setMemAvailableMiB(PLENTY_MIB);
  socket = join(dir, 'edgegov.sock');
  cloud = await startFakeCloud();
  daemon = await startDaemon(fx, socket);
  serve = await startServe(modelsDir, socket, ['--cloud-url', cloud.url]);
  await decisionIs((d) => d?.tier === 'rich' && !d.safe, 'the first daemon decision (rich)');
}, 90_000);

afterAll(async () => {
  await serve?.stop();
  await daemon?.stop();
  await cloud?.close();
  if (dir) cleanup(dir);
});

describe('serve in front of the governed llama.cpp engine', () => {
  it('speaks the OpenAI API: models, completions, SSE with [DONE], clear 4xx errors', async () => {
    const models = (await (await fetch(`${serve.url}/v1/models`)).json()) as any;
    expect(models.object).toBe('list');
    expect(models.data[0].id).toBe('edgegov-synthetic');

    const r = await chat(serve.url, ask('Hello there'));
    expect(r.status).toBe(200);
    expect(r.json.object).toBe('chat.completion');
    expect(r.json.choices[0].message.role).toBe('assistant');
    expect(r.json.usage.completion_tokens).toBeGreaterThan(0);
    expect(r.headers.get('x-edgegov-route')).toBe('local');

    const s = await chatStream(serve.url, ask('Stream please', { max_tokens: 6, edgegov: { ignore_eos: true }, stream_options: { include_usage: true } }));
    expect(s.status).toBe(200);
    expect(s.done).toBe(true);
    const finals = s.events.filter((e) => e.choices?.[0]?.finish_reason);
    expect(finals).toHaveLength(1);
    expect(finals[0].choices[0].finish_reason).toBe('length');
    expect(s.events.at(-1).usage.completion_tokens).toBe(6);
    const text = s.events.map((e) => e.choices?.[0]?.delta?.content ?? '').join('');
    expect(text.length).toBeGreaterThan(0);

    for (const [body, param] of [
      [{ messages: [] }, 'messages'],
      [{ messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
      [{ messages: [{ role: 'user', content: 'x' }], max_tokens: -3 }, 'max_tokens'],
      [{ messages: [{ role: 'user', content: 'x' }], edgegov: { private: 'yes' } }, 'edgegov.private'],
    ] as const) {
      const bad = await chat(serve.url, body as Record<string, unknown>);
      expect(bad.status).toBe(400);
      expect(bad.json.error.param).toBe(param);
    }
    const notJson = await fetch(`${serve.url}/v1/chat/completions`, { method: 'POST', body: '{"messages": [' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as any).error.code).toBe('invalid_json');
    expect((await fetch(`${serve.url}/v1/nothing`)).status).toBe(404);
    expect((await fetch(`${serve.url}/v1/chat/completions`)).status).toBe(405);
    // Still serving after all that.
    expect((await chat(serve.url, ask('still there?'))).status).toBe(200);

    // What the engine measured went back to the governor (`report` → the daemon's tok_s feedback).
    const daemonStatus = await requestOnce<any>(socket, { op: 'status' });
    expect(daemonStatus.status.lastReport.tokS).toBeGreaterThan(0);
    expect(daemonStatus.status.lastReport.firstTokenMs).toBeGreaterThan(0);
    // …and so did what it holds: the footprint of the knobs it applied (`engine_mb`, docs/core.md §4).
    const policy = await loadPolicyFile(policyPath);
    const k = (await serveStatus(serve.url)).engine.knobs;
    const q = policy.model.quants.find((x) => x.name === k.quant)!;
    expect(daemonStatus.status.signals.engine_mb).toBeCloseTo(needBytes(policy.model, q.weightsBytes, k.contextLength, k.batchSize) / MiB, 6);
  });

  it('a client that goes away mid-stream stops its generation; the engine serves the next request', async () => {
    const ac = new AbortController();
    const r = await fetch(`${serve.url}/v1/chat/completions`, {
      method: 'POST', signal: ac.signal, headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ask('a very long answer please', { max_tokens: 1500, stream: true, edgegov: { ignore_eos: true } })),
    });
    const reader = r.body!.getReader();
    let seen = '';
    while (!seen.includes('"content":"') || seen.split('data: ').length < 6) seen += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    const st = await waitFor('the engine to go idle', async () => {
      const x = await serveStatus(serve.url);
      return x.engine.busy ? undefined : x;
    }, 5000);
    expect(st.lastResult.finishReason).toBe('abort');
    expect(st.lastResult.completionTokens).toBeLessThan(1500);
    expect((await chat(serve.url, ask('next'))).status).toBe(200);
  });

  it('heat → the next request runs on the leaner tier (model file and RSS change); cool → back to rich after hysteresis and dwell', async () => {
    const rich = await chat(serve.url, ask('warm-up on the rich tier', { max_tokens: 16, edgegov: { ignore_eos: true } }));
    expect(rich.json.edgegov.tier).toBe('rich');
    expect(rich.json.edgegov.modelFile).toBe('synthetic-20M-f16.gguf');
    const rssFileRich = rich.json.edgegov.rssFileBytes as number;

    fx.setTempC(MODERATE_C);
    await decisionIs((d) => d.tier === 'lean', 'a lean decision after heating');
    const lean = await chat(serve.url, ask('now on the lean tier', { max_tokens: 16, edgegov: { ignore_eos: true } }));
    expect(lean.json.edgegov.tier).toBe('lean');
    expect(lean.json.edgegov.quant).toBe('q4_0');
    expect(lean.json.edgegov.modelFile).toBe('synthetic-20M-q4_0.gguf');
    expect(lean.json.edgegov.pacingMs).toBe(2);
    // The f16 weights (~35 MB, mmap'd, all touched by the warm-up) are unmapped; q4_0 maps ~10 MB.
    // Measured as file-backed resident memory: whole-process RSS also carries allocator noise
    // (freed heap not returned, q4_0's repacked copy), which made a plain RSS comparison flaky.
    const MB = 1e6;
    expect(lean.json.edgegov.rssFileBytes).toBeLessThan(rssFileRich - 15 * MB);

    // Cooling: below the clear threshold, then one tier richer per dwell (1 s): lean → mid → rich.
    const cooledAt = Date.now();
    fx.setTempC(COOL_C);
    const seen = new Set<string>();
    await waitFor('rich again after cooling', async () => {
      const s = await serveStatus(serve.url);
      seen.add(s.decision.tier);
      return s.decision.tier === 'rich' || undefined;
    }, 20_000);
    const relaxMs = Date.now() - cooledAt;
    expect(seen.has('mid')).toBe(true); // relaxed one step at a time
    expect(relaxMs).toBeGreaterThanOrEqual(1000); // the dwell held it
    const back = await chat(serve.url, ask('rich again', { max_tokens: 16, edgegov: { ignore_eos: true } }));
    expect(back.json.edgegov.modelFile).toBe('synthetic-20M-f16.gguf');
    expect(back.json.edgegov.rssFileBytes).toBeGreaterThan(lean.json.edgegov.rssFileBytes + 15 * MB);
  });

  it('hot device with offload allowed → the request goes to the cloud; a private one stays on the device', async () => {
    fx.setTempC(SEVERE_C);
    onTestFinished(() => fx.setTempC(COOL_C));
    const hot = await decisionIs((d) => d.offload === 'cloud', 'a cloud decision');
    const before = cloud.requests.length;

    const r = await chat(serve.url, ask('route me to the cloud'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-edgegov-route')).toBe('cloud');
    expect(r.json.choices[0].message.content).toBe('from the cloud');
    expect(cloud.requests.length).toBe(before + 1);
    expect(cloud.requests.at(-1)!.path).toBe('/v1/chat/completions');

    const s = await chatStream(serve.url, ask('stream me from the cloud'));
    expect(s.headers.get('x-edgegov-route')).toBe('cloud');
    expect(s.events.map((e) => e.choices[0].delta.content ?? '').join('')).toBe('from the cloud');
    expect(s.done).toBe(true);
    expect(cloud.requests.length).toBe(before + 2);

    // Private: never to the cloud. It runs on the device at the tier the severity caps it to
    // (docs/core.md §6): the cap is what keeps the device safe; the cloud is for what may leave.
    const viaHeader = await chat(serve.url, ask('my secrets'), { 'x-edgegov-private': '1' });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.headers.get('x-edgegov-route')).toBe('local');
    expect(viaHeader.json.edgegov.tier).toBe(hot.decision.tier);
    const viaBody = await chat(serve.url, ask('more secrets', { edgegov: { private: true } }));
    expect(viaBody.headers.get('x-edgegov-route')).not.toBe('cloud');
    expect(cloud.requests.length).toBe(before + 2);
    expect(JSON.stringify(cloud.requests)).not.toContain('secrets');

    fx.setTempC(COOL_C);
    await decisionIs((d) => d.offload === 'local' && d.tier === 'rich', 'local and rich after cooling', 20_000);
  });

  it('an emergency stops a running generation within 100 ms — during a long prompt and during decode — and the stream ends cleanly', async () => {
    // The long prompt needs the rich tier's whole context: anything shorter and the daemon's
    // advice would (rightly) send it to the cloud.
    await decisionIs((d) => d.tier === 'rich' && d.offload === 'local' && d.contextLength === FULL_CONTEXT, 'rich and local at the full context');
    // ~1980 prompt tokens (one per byte) + 16 answer tokens fill the 2048 context: about a
    // second of prefill on one thread, several when the machine is loaded. The emergency is
    // set off by the first SSE event, which serve sends just before the prompt is evaluated;
    // the daemon sees it at its next 100 ms sample.
    const long = 'The governor watches the skin temperature and the battery. '.repeat(33);
    let heated = false;
    // A document with the caller's own first-token target of 10 min: it stays local however slow the
    // loaded machine makes the prefill look (the daemon's advice would otherwise send it to the cloud).
    const s = await chatStream(serve.url, { messages: [{ role: 'user', content: long }], max_tokens: 16, edgegov: { ignore_eos: true, kind: 'document', first_token_ms: 600_000 } }, () => {
      if (!heated) { heated = true; fx.setTempC(EMERGENCY_C); }
    });
    expect(s.headers.get('x-edgegov-route')).toBe('local');
    expect(heated).toBe(true);
    expect(s.done).toBe(true);
    const final = s.events.find((e) => e.choices?.[0]?.finish_reason);
    expect(final.choices[0].finish_reason).toBe('length');
    expect(final.edgegov.paused).toBe(true);
    expect(final.edgegov.tier).toBe('rich');
    console.info(`emergency during the prompt: generation stopped ${final.edgegov.pauseStopMs.toFixed(1)} ms after the pause decision`);
    expect(final.edgegov.pauseStopMs).toBeLessThanOrEqual(100);
    // Stopped inside the prompt: not a single answer token was produced.
    expect(s.events.filter((e) => e.choices?.[0]?.delta?.content).length).toBe(0);

    // While paused, new local work is deferred with a clear 503 and Retry-After.
    const deferred = await chat(serve.url, ask('anyone home?'), { 'x-edgegov-private': '1' });
    expect(deferred.status).toBe(503);
    expect(Number(deferred.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(deferred.json.error.code).toBe('deferred');

    fx.setTempC(COOL_C);
    await decisionIs((d) => d.offload === 'local', 'local again after the emergency', 20_000);

    // During decode: heated only once answer tokens are streaming, and the answer may run to
    // nearly the whole context of the tier in force (the relax dwell still holds a leaner one),
    // so it cannot end on its own before the pause lands, however slow the machine.
    const ctxNow = (await serveStatus(serve.url)).decision.contextLength as number;
    const maxTokens = ctxNow - 100;
    let tokens = 0;
    let heated2 = false;
    const d = await chatStream(serve.url, ask('talk for a long time', { max_tokens: maxTokens, edgegov: { ignore_eos: true }, stream_options: { include_usage: true } }), (ev) => {
      if (ev.choices?.[0]?.delta?.content) tokens++;
      if (tokens >= 10 && !heated2) { heated2 = true; fx.setTempC(EMERGENCY_C); }
    });
    expect(d.headers.get('x-edgegov-route')).toBe('local');
    expect(heated2).toBe(true);
    expect(d.done).toBe(true);
    const fin = d.events.find((e) => e.choices?.[0]?.finish_reason);
    expect(fin.edgegov.paused).toBe(true);
    const produced = d.events.at(-1).usage.completion_tokens as number;
    expect(produced).toBeGreaterThanOrEqual(10);
    expect(produced).toBeLessThan(maxTokens);
    console.info(`emergency during decode: generation stopped ${fin.edgegov.pauseStopMs.toFixed(1)} ms after the pause decision`);
    expect(fin.edgegov.pauseStopMs).toBeLessThanOrEqual(100);
    expect(fin.choices[0].finish_reason).toBe('length');

    fx.setTempC(COOL_C);
    await decisionIs((dd) => dd.offload === 'local', 'local again', 20_000);
  });

  it('less available memory → the context is re-created at the clamped length before the next request, and the conversation continues', async () => {
    // The emergencies before left the device on a leaner tier with the relax dwell backed off
    // (docs/core.md §3): wait for rich at its full context.
    await decisionIs((d) => d.tier === 'rich' && d.offload === 'local' && d.contextLength === FULL_CONTEXT, 'rich at the full context before the squeeze', 40_000);
    const history = [{ role: 'system', content: 'You are a test.' }, { role: 'user', content: 'First question about thermals?' }];
    const first = await chat(serve.url, { messages: history, max_tokens: 12, edgegov: { ignore_eos: true } });
    expect(first.status).toBe(200);
    expect(first.json.edgegov.tier).toBe('rich');
    expect(first.json.edgegov.contextLength).toBe(FULL_CONTEXT);

    // The fixture plays the OS. Another app squeezes MemAvailable to 5 MiB under the reserve
    // while the engine holds its full context; when the governor shrinks the engine's KV,
    // MemAvailable rises by what it frees. The governor counts its own footprint as available
    // and trusts only the least memory of the last 30 s (docs/core.md §4), so a fixture that
    // stayed low would be read as a fresh shortage every sample and the clamp would walk down
    // the ladder. The "OS" follows each decision as it is pushed (a client on the daemon's
    // socket), well within one 100 ms sample; should a sample slip through on a loaded
    // machine, it costs one more 256-token step, and the test allows six.
    const squeezedMiB = RESERVE_MIB - 5;
    const freedMiB = (ctx: number) => (FULL_CONTEXT - ctx) * KV_MIB_PER_TOKEN;
    const os = new EdgegovClient({ socketPath: socket, log: false, reconnect: false, clientName: 'test-os' });
    onTestFinished(() => os.close());
    await os.connect();
    let osFollowsCtx = FULL_CONTEXT;
    os.on('decision', (d) => {
      if (d.tier !== 'rich' || d.contextLength >= FULL_CONTEXT) return;
      fx.setMemAvailableMiB(squeezedMiB + freedMiB(d.contextLength));
      osFollowsCtx = d.contextLength;
    });
    fx.setMemAvailableMiB(squeezedMiB);
    const clamped = await decisionIs((d) => d.contextLength < FULL_CONTEXT, 'a clamped context', 10_000);
    expect(clamped.decision.tier).toBe('rich');
    expect(clamped.decision.reasons.some((r: any) => r.rule === 'memory')).toBe(true);

    // The engine re-creates its context on the decision, before any request arrives — and the
    // clamp holds still: the "OS" gave back what the engine freed, so no new shortage appears.
    const st = await waitFor('the engine at the clamped context', async () => {
      const s = await serveStatus(serve.url);
      const c = s.decision.contextLength;
      return s.engine.knobs.contextLength === c && c < FULL_CONTEXT && osFollowsCtx === c ? s : undefined;
    });
    const ctx = st.decision.contextLength as number;
    console.info(`MemAvailable 5 MiB under the reserve: context ${FULL_CONTEXT} → ${ctx}, re-created in ${st.lastApply.switchMs.toFixed(1)} ms with ${st.lastApply.keptTokens} tokens restored`);
    // 5 MiB short of the reserve = 80 tokens of this policy's 64 KiB/token KV: one 256-token
    // step (1792), a few more only if samples slipped past the emulated OS.
    expect(ctx).toBeLessThanOrEqual(FULL_CONTEXT - 256);
    expect(ctx).toBeGreaterThanOrEqual(256);
    expect(st.decision.tier).toBe('rich');
    expect(st.engine.modelFile).toBe('synthetic-20M-f16.gguf');
    expect(st.lastApply.changed).toContain('contextLength');
    expect(st.lastApply.changed).not.toContain('quant');
    expect(st.lastApply.knobs.contextLength).toBe(ctx);
    expect(st.lastApply.carriedOver).toBe('state-restored');
    expect(st.lastApply.keptTokens).toBeGreaterThan(0);

    const next = await chat(serve.url, {
      messages: [...history, { role: 'assistant', content: first.json.choices[0].message.content }, { role: 'user', content: 'And memory?' }],
      max_tokens: 8, edgegov: { ignore_eos: true },
    });
    expect(next.status).toBe(200);
    expect(next.json.edgegov.tier).toBe('rich');
    expect(next.json.edgegov.contextLength).toBe(ctx);
    // No switch on the request's path: the context was already re-created.
    expect(next.json.edgegov.switch).toBeUndefined();
    // The earlier turns came through the re-creation in the KV cache: only the new turn was evaluated.
    expect(next.json.edgegov.reusedPromptTokens).toBeGreaterThan(20);
    expect(next.json.edgegov.droppedMessages).toBe(0);

    // The other app lets go. Freed memory is trusted only once it has stayed free for
    // memTrustMs = max(30 s, 3 dwells) (docs/core.md §4), so the clamp outlasts the dwell
    // instead of bouncing back at once. The return to the full context after those 30 s is
    // the core's rule, shown by test/core/acceptance.test.ts ("grows a clamped context back
    // only after freed memory stayed free"); waiting it out here would triple this file's time.
    os.close();
    fx.setMemAvailableMiB(PLENTY_MIB);
    const freedAt = Date.now();
    while (Date.now() - freedAt < 1500) {
      const s = await serveStatus(serve.url);
      expect(s.decision.contextLength).toBe(ctx);
      expect(s.engine.knobs.contextLength).toBe(ctx);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('killing the daemon makes serve fall back to the safe tier within the lease', async () => {
    const before = await serveStatus(serve.url);
    expect(before.daemon.connected).toBe(true);
    const killedAt = Date.now();
    daemon.child.kill('SIGKILL');
    const s = await waitFor('the lease to expire', async () => {
      const st = await serveStatus(serve.url);
      return st.decisionSource === 'lease-expired' ? st : undefined;
    }, 10_000);
    const fellBackMs = Date.now() - killedAt;
    console.info(`daemon killed: serve on the safe tier after ${fellBackMs} ms (lease 1500 ms)`);
    // Lease 1.5 s; the last refresh came up to one sample (100 ms) before the kill.
    expect(fellBackMs).toBeLessThanOrEqual(1500 + 500);
    expect(s.decision.tier).toBe('lean');
    expect(s.decision.safe).toBe(true);
    const r = await chat(serve.url, ask('who governs now?'));
    expect(r.status).toBe(200);
    expect(r.json.edgegov.tier).toBe('lean');
    expect(r.json.edgegov.modelFile).toBe('synthetic-20M-q4_0.gguf');
    expect(r.json.edgegov.decisionSource).toBe('lease-expired');
  });
});
