/**
 * The OpenAI chat-completions shapes `serve` speaks: request validation (every mistake is a
 * 400 with the field named, never a crash) and the response / SSE chunk builders.
 */
import { randomBytes } from 'node:crypto';
import type { ChatMessage, FinishReason } from '../engines/engine.js';

export interface ChatRequest {
  model?: string;
  messages: ChatMessage[];
  maxTokens: number;
  stream: boolean;
  includeUsage: boolean;
  temperature?: number;
  seed?: number;
  /** Marked private: never sent off the device. */
  private: boolean;
  /** edgegov extension: keep generating past end-of-sequence (benchmarks, tests). */
  ignoreEos: boolean;
  /** edgegov extension: what the request is, for its first-token target (the policy's `rules.qoe`). */
  kind: 'chat' | 'document';
  /** edgegov extension: the caller's own first-token target, ms (overrides the kind's). */
  firstTokenTargetMs?: number;
}

export class RequestError extends Error {
  constructor(readonly status: number, message: string, readonly param?: string, readonly code = 'invalid_request') {
    super(message);
  }
}

export const DEFAULT_MAX_TOKENS = 256;
export const MAX_MAX_TOKENS = 32_768;
const ROLES = new Set(['system', 'user', 'assistant', 'developer']);

function contentText(c: unknown, where: string): string {
  if (typeof c === 'string') return c;
  // The array form: [{type: 'text', text: '…'}]; other part types (images) are not supported locally.
  if (Array.isArray(c)) {
    return c.map((part, j) => {
      if (part && typeof part === 'object' && (part as { type?: unknown }).type === 'text' &&
          typeof (part as { text?: unknown }).text === 'string') {
        return (part as { text: string }).text;
      }
      throw new RequestError(400, `${where}.content[${j}] must be a {"type":"text","text":…} part`, `${where}.content`);
    }).join('');
  }
  if (c === null) return '';
  throw new RequestError(400, `${where}.content must be a string or an array of text parts`, `${where}.content`);
}

function truthyHeader(v: string | string[] | undefined): boolean {
  const s = (Array.isArray(v) ? v[0] : v)?.trim().toLowerCase();
  return s === '1' || s === 'true' || s === 'yes';
}

/** Validates a parsed JSON body; `privateHeader` is the X-Edgegov-Private header. */
export function parseChatRequest(body: unknown, privateHeader?: string | string[]): ChatRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new RequestError(400, 'the request body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.messages) || b.messages.length === 0) {
    throw new RequestError(400, '`messages` must be a non-empty array', 'messages');
  }
  const messages: ChatMessage[] = b.messages.map((m: unknown, i) => {
    const where = `messages[${i}]`;
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw new RequestError(400, `${where} must be an object`, where);
    const role = (m as { role?: unknown }).role;
    if (typeof role !== 'string' || !ROLES.has(role)) {
      throw new RequestError(400, `${where}.role must be one of system, developer, user, assistant`, `${where}.role`);
    }
    return { role: role === 'developer' ? 'system' : (role as ChatMessage['role']), content: contentText((m as { content?: unknown }).content, where) };
  });
  const maxRaw = b.max_completion_tokens ?? b.max_tokens;
  let maxTokens = DEFAULT_MAX_TOKENS;
  if (maxRaw !== undefined && maxRaw !== null) {
    if (typeof maxRaw !== 'number' || !Number.isInteger(maxRaw) || maxRaw < 1 || maxRaw > MAX_MAX_TOKENS) {
      throw new RequestError(400, `\`max_tokens\` must be an integer from 1 to ${MAX_MAX_TOKENS}`, 'max_tokens');
    }
    maxTokens = maxRaw;
  }
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw new RequestError(400, '`stream` must be a boolean', 'stream');
  if (b.temperature !== undefined && b.temperature !== null &&
      (typeof b.temperature !== 'number' || !(b.temperature >= 0 && b.temperature <= 2))) {
    throw new RequestError(400, '`temperature` must be a number from 0 to 2', 'temperature');
  }
  if (b.seed !== undefined && b.seed !== null && (typeof b.seed !== 'number' || !Number.isInteger(b.seed))) {
    throw new RequestError(400, '`seed` must be an integer', 'seed');
  }
  if (b.n !== undefined && b.n !== null && b.n !== 1) throw new RequestError(400, 'only `n: 1` is supported', 'n');
  if (b.model !== undefined && typeof b.model !== 'string') throw new RequestError(400, '`model` must be a string', 'model');
  let ext: Record<string, unknown> = {};
  if (b.edgegov !== undefined) {
    if (!b.edgegov || typeof b.edgegov !== 'object' || Array.isArray(b.edgegov)) throw new RequestError(400, '`edgegov` must be an object', 'edgegov');
    ext = b.edgegov as Record<string, unknown>;
    for (const k of ['private', 'ignore_eos'] as const) {
      if (ext[k] !== undefined && typeof ext[k] !== 'boolean') throw new RequestError(400, `\`edgegov.${k}\` must be a boolean`, `edgegov.${k}`);
    }
    if (ext.kind !== undefined && ext.kind !== 'chat' && ext.kind !== 'document') {
      throw new RequestError(400, '`edgegov.kind` must be "chat" or "document"', 'edgegov.kind');
    }
    const ft = ext.first_token_ms;
    if (ft !== undefined && (typeof ft !== 'number' || !Number.isFinite(ft) || ft <= 0 || ft > 3_600_000)) {
      throw new RequestError(400, '`edgegov.first_token_ms` must be a number of milliseconds from 1 to 3600000', 'edgegov.first_token_ms');
    }
  }
  const so = b.stream_options as { include_usage?: unknown } | undefined;
  return {
    model: b.model as string | undefined,
    messages,
    maxTokens,
    stream: b.stream === true,
    includeUsage: !!so && typeof so === 'object' && so.include_usage === true,
    temperature: (b.temperature ?? undefined) as number | undefined,
    seed: (b.seed ?? undefined) as number | undefined,
    private: ext.private === true || truthyHeader(privateHeader),
    ignoreEos: ext.ignore_eos === true,
    kind: ext.kind === 'document' ? 'document' : 'chat',
    firstTokenTargetMs: ext.first_token_ms as number | undefined,
  };
}

/**
 * OpenAI's finish reasons are stop/length/…; a generation cut by a pause is reported as
 * `length` (the answer is incomplete, not finished) and flagged `edgegov.paused`.
 */
export function openaiFinishReason(r: FinishReason): 'stop' | 'length' {
  return r === 'stop' ? 'stop' : 'length';
}

export function completionId(): string {
  return `chatcmpl-${randomBytes(12).toString('hex')}`;
}

export function errorBody(message: string, type: string, param?: string, code?: string): object {
  return { error: { message, type, param: param ?? null, code: code ?? null } };
}
