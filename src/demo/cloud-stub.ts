/**
 * The demo's cloud stand-in: a local OpenAI-compatible endpoint (`POST /v1/chat/completions`,
 * JSON or SSE) that answers the requests the gateway offloads when no `--cloud-url` is given.
 * It is a STUB — no model behind it — and says so in every answer (`model:
 * "edgegov-demo-cloud-stub"`, content starting "[cloud stub]"). It streams at a fixed, cloud-like
 * pace so the cloud route costs real wall time, and it records the demo request tag of every
 * request it received, so the demo can show which requests left the device.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const STUB_MODEL = 'edgegov-demo-cloud-stub';

export interface CloudStubOptions {
  /** Time to the first token, ms (research/03 §4: frontier APIs 0.3–2 s p50). */
  firstTokenMs?: number;
  /** Streaming speed, tok/s (research/03 §4: 30–100). */
  tokS?: number;
  /** Most tokens per answer, whatever max_tokens asks. */
  maxTokens?: number;
}

export interface CloudStub {
  /** Base URL for serve's `--cloud-url` (ends in /v1). */
  readonly url: string;
  readonly port: number;
  /** Request tags (`#17`) received, in order. */
  readonly received: string[];
  close(): Promise<void>;
}

const TAG = /\[demo (#\d+)\]/;
const WORDS = ['[cloud', 'stub]', 'this', 'answer', 'came', 'from', 'the', 'local', 'stand-in', 'for', 'a', 'cloud', 'model,', 'not', 'a', 'real', 'one.'];

function readBody(req: IncomingMessage, limit = 4 << 20): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => { size += c.length; if (size > limit) { reject(new Error('body too large')); req.destroy(); } else parts.push(c); });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const onAbort = () => { clearTimeout(t); resolve(); };
  const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
  signal.addEventListener('abort', onAbort, { once: true });
});

export async function startCloudStub(opts: CloudStubOptions = {}): Promise<CloudStub> {
  const firstTokenMs = opts.firstTokenMs ?? 300;
  const tokS = opts.tokS ?? 100;
  const maxTokens = opts.maxTokens ?? 64;
  const received: string[] = [];
  const open = new Set<ServerResponse>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `the cloud stub answers POST /v1/chat/completions only, not ${req.method} ${path}`, type: 'invalid_request_error' } }));
      return;
    }
    let body: { messages?: { content?: unknown }[]; stream?: boolean; max_tokens?: number };
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'bad JSON', type: 'invalid_request_error' } }));
      return;
    }
    const text = (body.messages ?? []).map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n');
    received.push(TAG.exec(text)?.[1] ?? '(untagged)');
    const n = Math.max(1, Math.min(maxTokens, Number.isFinite(body.max_tokens) ? Number(body.max_tokens) : maxTokens));
    const tokens = Array.from({ length: n }, (_, i) => (i === 0 ? WORDS[0] : ` ${WORDS[i % WORDS.length]}`));
    const id = `chatcmpl-stub-${received.length}`;
    const created = Math.floor(Date.now() / 1000);
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    open.add(res);
    try {
      await sleep(firstTokenMs, ac.signal);
      if (body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const chunk = (delta: object, finish: string | null) =>
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: STUB_MODEL, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        res.write(chunk({ role: 'assistant', content: '' }, null));
        for (const t of tokens) {
          if (ac.signal.aborted) return;
          res.write(chunk({ content: t }, null));
          await sleep(1000 / tokS, ac.signal);
        }
        res.write(chunk({}, 'length'));
        res.end('data: [DONE]\n\n');
      } else {
        await sleep((n * 1000) / tokS, ac.signal);
        if (ac.signal.aborted) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({
          id, object: 'chat.completion', created, model: STUB_MODEL,
          choices: [{ index: 0, message: { role: 'assistant', content: tokens.join('') }, finish_reason: 'length' }],
          usage: { prompt_tokens: Buffer.byteLength(text), completion_tokens: n, total_tokens: Buffer.byteLength(text) + n },
        }));
      }
    } finally {
      open.delete(res);
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => { if (!res.headersSent) res.writeHead(500); res.end(); });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    received,
    close: () => new Promise<void>((resolve) => {
      for (const r of open) r.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
