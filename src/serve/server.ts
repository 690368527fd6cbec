/**
 * The HTTP side of `serve` (node:http, loopback): OpenAI-compatible routes plus two small
 * edgegov ones for operators and tests. Every malformed request gets a JSON 4xx naming the
 * problem; nothing a client sends can crash the process.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gateway, sendJson } from './gateway.js';
import { errorBody, parseChatRequest, RequestError } from './openai.js';
import { GATEWAY_HTTP_LIMITS, answerClientError, httpServerOptions, type HttpLimits } from '../telemetry/http-limits.js';

export const MAX_BODY_BYTES = 4 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Announced too large: refuse before reading a byte of it.
    const announced = Number(req.headers['content-length']);
    if (announced > MAX_BODY_BYTES) {
      reject(new RequestError(413, `request body of ${announced} bytes is larger than ${MAX_BODY_BYTES} bytes`, undefined, 'body_too_large'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RequestError(413, `request body larger than ${MAX_BODY_BYTES} bytes`, undefined, 'body_too_large'));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function createServeServer(gateway: Gateway, modelName: string, limits: HttpLimits = GATEWAY_HTTP_LIMITS): Server {
  const server = createServer(httpServerOptions(limits), (req, res) => {
    route(gateway, modelName, req, res).catch((err: unknown) => {
      if (err instanceof RequestError) {
        // An unread body stays on the connection: close it rather than parse the rest as a request.
        sendJson(res, err.status, errorBody(err.message, 'invalid_request_error', err.param, err.code), err.status === 413 ? { connection: 'close' } : {});
      } else {
        sendJson(res, 500, errorBody(`internal error: ${(err as Error)?.message ?? String(err)}`, 'server_error'));
      }
    });
  });
  // A broken HTTP request line or header: answer 400 and drop it, never throw.
  server.on('clientError', answerClientError);
  return server;
}

async function route(gateway: Gateway, modelName: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
  if (path === '/v1/chat/completions') {
    if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
    // Lenient about content-type (curl sends form encoding by default): the body must parse as JSON.
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new RequestError(400, `the body is not valid JSON: ${(err as Error).message}`, undefined, 'invalid_json');
    }
    const chat = parseChatRequest(body, req.headers['x-edgegov-private']);
    return gateway.handle(chat, body as Record<string, unknown>, res);
  }
  if (path === '/v1/models') {
    if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
    return sendJson(res, 200, {
      object: 'list',
      data: [{ id: modelName, object: 'model', created: Math.floor(Date.now() / 1000), owned_by: 'edgegov' }],
    });
  }
  if (path === '/edgegov/status') {
    if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
    return sendJson(res, 200, gateway.status());
  }
  if (path === '/healthz') return sendJson(res, 200, { ok: true });
  sendJson(res, 404, errorBody(`no route ${req.method} ${path} (try POST /v1/chat/completions or GET /v1/models)`, 'invalid_request_error', undefined, 'not_found'));
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  sendJson(res, 405, errorBody(`method not allowed; use ${allow}`, 'invalid_request_error', undefined, 'method_not_allowed'), { allow });
}

export function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
