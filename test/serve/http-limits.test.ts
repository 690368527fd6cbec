/**
 * Slow and oversized clients against the two HTTP servers (metrics and the serve gateway), over
 * real TCP sockets on loopback: a client that trickles its headers or body is cut off with 408
 * within the configured time, an oversized header block gets 431, an oversized body 413 — and the
 * server keeps answering others meanwhile.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { Server } from 'node:http';
import { Metrics, serveMetrics, type MetricsServer } from '../../src/telemetry/metrics.js';
import { createServeServer, listen, MAX_BODY_BYTES } from '../../src/serve/server.js';
import type { Gateway } from '../../src/serve/gateway.js';
import type { HttpLimits } from '../../src/telemetry/http-limits.js';

const limits: HttpLimits = { headersTimeoutMs: 600, requestTimeoutMs: 1200, maxHeaderBytes: 4096, checkIntervalMs: 100 };
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Opens a raw socket, writes `head`, then one byte of `trickle` every `everyMs`; resolves with what came back and when. */
function slowClient(port: number, head: string, trickle: string, everyMs: number): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    let i = 0;
    const timer = setInterval(() => {
      if (!s.writable) return;
      s.write(trickle[i++ % trickle.length]!);
    }, everyMs);
    s.on('connect', () => s.write(head));
    s.on('data', (d) => (text += d));
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(timer);
      resolve({ text, closedAfterMs: performance.now() - t0 });
    });
  });
}

function rawRequest(port: number, req: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    s.on('connect', () => s.write(req));
    s.on('data', (d) => (text += d));
    s.on('error', () => {});
    s.on('close', () => resolve(text));
    setTimeout(() => s.destroy(), 5000);
  });
}

async function metricsServer(): Promise<MetricsServer & { port: number }> {
  const m = await serveMetrics(new Metrics('test-dev'), '127.0.0.1', 0, () => true, limits);
  cleanups.push(() => m.close());
  return Object.assign(m, { port: Number(m.address.split(':').pop()) });
}

async function gatewayServer(): Promise<number> {
  // The limits act before any route reaches the gateway: it is never called here.
  const server: Server = createServeServer({} as Gateway, 'test-model', limits);
  const addr = await listen(server, 0, '127.0.0.1');
  cleanups.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return addr.port;
}

describe('metrics server limits', () => {
  it('binds the address it was given (loopback) and serves /metrics', async () => {
    const m = await metricsServer();
    expect(m.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await rawRequest(m.port, 'GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(res).toMatch(/^HTTP\/1\.1 200/);
  });

  it('cuts off a client that trickles its headers (slowloris) with 408, and answers others meanwhile', async () => {
    const m = await metricsServer();
    const slow = slowClient(m.port, 'GET /metrics HTTP/1.1\r\nhost: x\r\n', 'x-a: b\r\n', 50);
    const other = await rawRequest(m.port, 'GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(other).toMatch(/^HTTP\/1\.1 200/);
    const r = await slow;
    expect(r.text).toMatch(/^HTTP\/1\.1 408/);
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(limits.headersTimeoutMs - 50);
    expect(r.closedAfterMs).toBeLessThan(limits.headersTimeoutMs + 5 * limits.checkIntervalMs + 1000);
  });

  it('refuses an oversized header block with 431 and a body with 413', async () => {
    const m = await metricsServer();
    const big = await rawRequest(m.port, `GET /metrics HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(8000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431/);
    const body = await rawRequest(m.port, 'GET /metrics HTTP/1.1\r\nhost: x\r\ncontent-length: 100000000\r\n\r\nabc');
    expect(body).toMatch(/^HTTP\/1\.1 413/);
  });
});

describe('gateway server limits', () => {
  it('cuts off a client that trickles its body with 408 within the request timeout', async () => {
    const port = await gatewayServer();
    const r = await slowClient(port, 'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{', ' ', 50);
    expect(r.text).toMatch(/^HTTP\/1\.1 408/);
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(limits.requestTimeoutMs - 50);
    expect(r.closedAfterMs).toBeLessThan(limits.requestTimeoutMs + 5 * limits.checkIntervalMs + 1000);
  });

  it('cuts off a client that trickles its headers with 408', async () => {
    const port = await gatewayServer();
    const r = await slowClient(port, 'POST /v1/chat/completions HTTP/1.1\r\n', 'x-a: b\r\n', 50);
    expect(r.text).toMatch(/^HTTP\/1\.1 408/);
    expect(r.closedAfterMs).toBeLessThan(limits.headersTimeoutMs + 5 * limits.checkIntervalMs + 1000);
  });

  it('refuses an announced oversized body with 413 before reading it, and closes', async () => {
    const port = await gatewayServer();
    const res = await rawRequest(port, `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: ${MAX_BODY_BYTES + 1}\r\n\r\n{"model":`);
    expect(res).toMatch(/^HTTP\/1\.1 413/);
    expect(res).toMatch(/body_too_large/);
    expect(res.toLowerCase()).toMatch(/connection: close/);
  });

  it('refuses a chunked body that grows past the cap with 413', async () => {
    const port = await gatewayServer();
    const chunk = 'a'.repeat(1024 * 1024);
    const parts = ['POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n'];
    for (let i = 0; i < 5; i++) parts.push(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    parts.push('0\r\n\r\n');
    const res = await rawRequest(port, parts.join(''));
    expect(res).toMatch(/^HTTP\/1\.1 413/);
  });
});
