/**
 * The demo's load generator: simulated users speaking the OpenAI protocol to the gateway —
 * streaming chat completions (SSE), a share of them marked private (half by the
 * `X-Edgegov-Private` header, half by the `edgegov.private` body field), think times between
 * answers and bursts of back-to-back requests. It measures what a client sees: route, time to
 * the first token, tokens and tok/s, and the tier/knobs the gateway says produced the answer.
 * Seeded: the same seed gives the same request sequence (lengths, privacy, bursts).
 */
import { createRng, type Rng } from '../sim/rng.js';

export type DemoRoute = 'local' | 'cloud' | 'defer' | 'error';

export interface DemoRequestRecord {
  n: number;
  /** `#n`, also written into the prompt so the cloud stub can tell which requests it got. */
  tag: string;
  user: number;
  private: boolean;
  burst: boolean;
  maxTokens: number;
  /** Wall clock (epoch ms). */
  startedAt: number;
  endedAt: number;
  status: number;
  route: DemoRoute;
  /** Tier/knobs the gateway reported for a local answer (its `edgegov` object). */
  tier?: string;
  quant?: string;
  threads?: number;
  pacingMs?: number;
  /** As the client measured: request sent → first content token, ms. */
  firstTokenMs?: number;
  tokens: number;
  /** As the client measured: tokens after the first over the time after the first, tok/s. */
  tokS?: number;
  /** The engine's own decode tok/s for a local answer (gateway's `edgegov.decodeTokS`). */
  engineTokS?: number;
  totalMs: number;
  error?: string;
}

export interface LoadOptions {
  baseUrl: string;
  seed?: number;
  users?: number;
  /** Mean think time between a user's answers, ms (exponential). */
  thinkMeanMs?: number;
  privateShare?: number;
  burst?: { probability: number; min: number; max: number };
  maxTokens?: { median: number; p90: number };
  onRecord?: (r: DemoRequestRecord) => void;
}

export interface LoadGenerator {
  readonly records: DemoRequestRecord[];
  readonly inFlight: number;
  /** Stops the users and aborts requests in flight; resolves when all have ended. */
  stop(): Promise<void>;
}

const PROMPTS = [
  'Summarise the plot of a film about a road trip in three sentences.',
  'What should I pack for a weekend of hiking in the mountains?',
  'Explain how a heat pump works to a twelve-year-old.',
  'Write a short, friendly reply declining a meeting invitation.',
  'Give me three ideas for a quick vegetarian dinner.',
  'Translate "where is the train station" into French and Spanish.',
  'List the planets of the solar system with one fact each.',
  'Draft a two-line birthday message for a colleague.',
];

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  if (signal.aborted) return resolve();
  const onAbort = () => { clearTimeout(t); resolve(); };
  const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
  signal.addEventListener('abort', onAbort, { once: true });
});

export function startLoad(o: LoadOptions): LoadGenerator {
  const users = o.users ?? 2;
  const thinkMeanMs = o.thinkMeanMs ?? 400;
  const privateShare = o.privateShare ?? 0.25;
  const burst = o.burst ?? { probability: 0.1, min: 3, max: 6 };
  const lengths = o.maxTokens ?? { median: 96, p90: 220 };
  const rng: Rng = createRng(o.seed ?? 1, 7);
  const stopAc = new AbortController();
  const records: DemoRequestRecord[] = [];
  let n = 0;
  let inFlight = 0;

  const one = async (user: number, isBurst: boolean): Promise<void> => {
    const num = ++n;
    const priv = rng.next() < privateShare;
    const viaHeader = rng.next() < 0.5;
    const maxTokens = Math.max(8, Math.min(512, Math.round(rng.logNormal(lengths.median, lengths.p90))));
    const prompt = PROMPTS[Math.floor(rng.next() * PROMPTS.length)];
    const tag = `#${num}`;
    const body: Record<string, unknown> = {
      model: 'edgegov-synthetic',
      stream: true,
      max_tokens: maxTokens,
      messages: [
        { role: 'system', content: 'You are a helpful assistant on a phone.' },
        { role: 'user', content: `[demo ${tag}] ${prompt}` },
      ],
    };
    if (priv && !viaHeader) body.edgegov = { private: true };
    const rec: DemoRequestRecord = {
      n: num, tag, user, private: priv, burst: isBurst, maxTokens, startedAt: Date.now(), endedAt: 0,
      status: 0, route: 'error', tokens: 0, totalMs: 0,
    };
    const t0 = performance.now();
    let firstAt: number | undefined;
    let lastAt: number | undefined;
    inFlight++;
    try {
      const res = await fetch(`${o.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(priv && viaHeader ? { 'x-edgegov-private': '1' } : {}) },
        body: JSON.stringify(body),
        signal: stopAc.signal,
      });
      rec.status = res.status;
      const route = res.headers.get('x-edgegov-route');
      rec.route = res.status === 503 ? 'defer' : route === 'local' || route === 'cloud' ? route : res.ok ? 'local' : 'error';
      if (!res.ok || !res.body) {
        await res.text().catch(() => '');
        if (rec.route !== 'defer') rec.error = `HTTP ${res.status}`;
      } else {
        const decoder = new TextDecoder();
        let buf = '';
        for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(part, { stream: true });
          let cut: number;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const event = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            if (!event.startsWith('data: ')) continue;
            const data = event.slice(6);
            if (data === '[DONE]') continue;
            let chunk: { choices?: { delta?: { content?: string } }[]; edgegov?: Record<string, unknown> };
            try { chunk = JSON.parse(data); } catch { continue; }
            const content = chunk.choices?.[0]?.delta?.content;
            if (content) {
              const now = performance.now();
              firstAt ??= now;
              lastAt = now;
              rec.tokens++;
            }
            const ext = chunk.edgegov;
            if (ext && typeof ext.tier === 'string') {
              rec.tier = ext.tier;
              rec.quant = ext.quant as string;
              rec.threads = ext.threads as number;
              rec.pacingMs = ext.pacingMs as number;
              if (typeof ext.decodeTokS === 'number') rec.engineTokS = ext.decodeTokS;
            }
          }
        }
      }
    } catch (err) {
      if (!stopAc.signal.aborted) rec.error = String((err as Error)?.message ?? err);
      else rec.error = 'stopped';
    } finally {
      inFlight--;
    }
    rec.totalMs = performance.now() - t0;
    rec.endedAt = Date.now();
    if (firstAt !== undefined) rec.firstTokenMs = firstAt - t0;
    if (firstAt !== undefined && lastAt !== undefined && rec.tokens > 1 && lastAt > firstAt) rec.tokS = (rec.tokens - 1) / ((lastAt - firstAt) / 1000);
    records.push(rec);
    o.onRecord?.(rec);
  };

  const userLoop = async (user: number): Promise<void> => {
    // Users start a little apart, like people do.
    await sleep(rng.exponential(thinkMeanMs / 2), stopAc.signal);
    while (!stopAc.signal.aborted) {
      const count = rng.next() < burst.probability ? burst.min + Math.floor(rng.next() * (burst.max - burst.min + 1)) : 1;
      for (let i = 0; i < count && !stopAc.signal.aborted; i++) await one(user, count > 1);
      await sleep(rng.exponential(thinkMeanMs), stopAc.signal);
    }
  };

  const loops = Array.from({ length: users }, (_, u) => userLoop(u));
  return {
    records,
    get inFlight() { return inFlight; },
    async stop() {
      stopAc.abort();
      await Promise.all(loops);
    },
  };
}
