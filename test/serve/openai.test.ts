/** Request validation: any JSON a client sends is either a valid request or a 4xx naming the field. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseChatRequest, RequestError } from '../../src/serve/openai.js';

describe('parseChatRequest', () => {
  it('never throws anything but a 4xx RequestError, whatever the JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.option(fc.string()), (body, header) => {
      try {
        const r = parseChatRequest(body, header ?? undefined);
        expect(r.messages.length).toBeGreaterThan(0);
      } catch (err) {
        expect(err).toBeInstanceOf(RequestError);
        expect((err as RequestError).status).toBeGreaterThanOrEqual(400);
        expect((err as RequestError).status).toBeLessThan(500);
      }
    }), { numRuns: 2000 });
  });

  it('fuzzes the message list the same way', () => {
    const msg = fc.record({ role: fc.oneof(fc.constantFrom('system', 'user', 'assistant', 'developer'), fc.string()), content: fc.jsonValue() }, { requiredKeys: [] });
    fc.assert(fc.property(fc.array(msg, { maxLength: 4 }), fc.jsonValue(), (messages, maxTokens) => {
      try {
        parseChatRequest({ messages, max_tokens: maxTokens });
      } catch (err) {
        expect(err).toBeInstanceOf(RequestError);
      }
    }), { numRuns: 2000 });
  });

  it('reads the request kind and a first-token target of the caller, and names the field when either is wrong', () => {
    const body = { messages: [{ role: 'user', content: 'x' }] };
    expect(parseChatRequest(body)).toMatchObject({ kind: 'chat', firstTokenTargetMs: undefined });
    expect(parseChatRequest({ ...body, edgegov: { kind: 'document', first_token_ms: 30_000 } })).toMatchObject({ kind: 'document', firstTokenTargetMs: 30_000 });
    for (const [ext, param] of [[{ kind: 'essay' }, 'edgegov.kind'], [{ first_token_ms: 0 }, 'edgegov.first_token_ms'], [{ first_token_ms: '5s' }, 'edgegov.first_token_ms']] as const) {
      let err: unknown;
      try { parseChatRequest({ ...body, edgegov: ext }); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(RequestError);
      expect((err as RequestError).status).toBe(400);
      expect((err as RequestError).param).toBe(param);
    }
  });

  it('reads the private marking from the header or the edgegov field', () => {
    const body = { messages: [{ role: 'user', content: 'x' }] };
    expect(parseChatRequest(body).private).toBe(false);
    expect(parseChatRequest(body, '1').private).toBe(true);
    expect(parseChatRequest(body, 'true').private).toBe(true);
    expect(parseChatRequest(body, '0').private).toBe(false);
    expect(parseChatRequest({ ...body, edgegov: { private: true } }).private).toBe(true);
    const parts = parseChatRequest({ messages: [{ role: 'developer', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }] });
    expect(parts.messages[0]).toEqual({ role: 'system', content: 'ab' });
    expect(parts.maxTokens).toBe(256);
  });
});
