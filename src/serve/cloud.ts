/**
 * Forwarding to the cloud: any OpenAI-compatible base URL (`…/v1`). The body goes on as the
 * client sent it (minus the edgegov extension field) and the answer — JSON or an SSE stream —
 * is passed through byte for byte, so streaming clients see the provider's own chunks.
 */
import type { ServerResponse } from 'node:http';

export class CloudUnreachableError extends Error {}

export interface CloudTarget {
  baseUrl: string;
  apiKey?: string;
  timeoutMs?: number;
}

export function chatCompletionsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/chat/completions`;
}

/**
 * Sends the request and streams the reply into `res`. Throws CloudUnreachableError when no
 * response arrived at all (so the caller can still answer another way); once headers are
 * written, failures end the response instead.
 */
export async function forwardToCloud(
  target: CloudTarget,
  body: Record<string, unknown>,
  res: ServerResponse,
  extraHeaders: Record<string, string>,
  signal: AbortSignal,
): Promise<{ status: number }> {
  const { edgegov: _ext, ...outgoing } = body;
  let upstream: Response;
  try {
    upstream = await fetch(chatCompletionsUrl(target.baseUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: outgoing.stream === true ? 'text/event-stream' : 'application/json',
        ...(target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}),
      },
      body: JSON.stringify(outgoing),
      signal: AbortSignal.any([signal, AbortSignal.timeout(target.timeoutMs ?? 30_000)]),
    });
  } catch (err) {
    throw new CloudUnreachableError(`cloud endpoint ${target.baseUrl} unreachable: ${(err as Error).message}`);
  }
  res.writeHead(upstream.status, {
    'content-type': upstream.headers.get('content-type') ?? 'application/json',
    'cache-control': 'no-cache',
    ...extraHeaders,
  });
  try {
    if (upstream.body) {
      for await (const chunk of upstream.body as unknown as AsyncIterable<Uint8Array>) {
        if (!res.write(chunk)) await new Promise<void>((r) => res.once('drain', r));
      }
    }
  } catch {
    // The provider or our client went away mid-answer: nothing more can be sent.
  }
  res.end();
  return { status: upstream.status };
}
