/**
 * Limits every edgegov HTTP server (metrics, the serve gateway) applies, so a slow or hostile
 * local client cannot hold connections open (slowloris) or make the daemon buffer without bound.
 * Node enforces them itself; the defaults are Node's own made much tighter, since both servers
 * answer on loopback and a legitimate client sends its request at once.
 */
import type { ServerOptions } from 'node:http';

export interface HttpLimits {
  /** The whole header block must arrive within this (Node answers 408 and closes), ms. */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this, ms. */
  requestTimeoutMs: number;
  /** Largest header block accepted (431 beyond), bytes. */
  maxHeaderBytes: number;
  /** How often Node checks the two timeouts (its default, 30 s, would let a slow client linger that long), ms. */
  checkIntervalMs: number;
}

export const METRICS_HTTP_LIMITS: HttpLimits = { headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, maxHeaderBytes: 8 * 1024, checkIntervalMs: 1_000 };
/** The gateway's body (up to 4 MiB) comes over loopback: 30 s is generous. */
export const GATEWAY_HTTP_LIMITS: HttpLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxHeaderBytes: 16 * 1024, checkIntervalMs: 1_000 };

export function httpServerOptions(l: HttpLimits): ServerOptions {
  return {
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    maxHeaderSize: l.maxHeaderBytes,
    connectionsCheckingInterval: l.checkIntervalMs,
  };
}

/**
 * A malformed request, an oversized header block or a timeout: answer with the fitting status
 * and close, never throw (Node's default handler would, for a custom server, only send 400/408).
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  const status =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' :
    err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  else socket.destroy();
}
