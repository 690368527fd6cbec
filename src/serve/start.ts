/**
 * Starting and stopping the gateway: policy, model files for every tier, the llama.cpp
 * engine at the first decision's tier, the daemon client (optional: a missing daemon means
 * the policy's safe tier), and the HTTP server.
 */
import type { Server } from 'node:http';
import { basename } from 'node:path';
import type { Policy } from '../policy/types.js';
import { EdgegovClient } from '../ipc/client.js';
import { EnvError, UserError } from '../util/errors.js';
import { LlamaCppEngine } from '../engines/llama-cpp/engine.js';
import { listModelFiles } from '../engines/llama-cpp/models.js';
import { Gateway, type Log } from './gateway.js';
import { safeKnobsOf } from '../ipc/protocol.js';
import { createServeServer, listen } from './server.js';

export interface ServeOptions {
  policy: Policy;
  modelsDir: string;
  port: number;
  host: string;
  socketPath?: string;
  cloudUrl?: string;
  cloudApiKey?: string;
  maxThreads: number;
  /** How long to wait for the daemon at start before serving on the safe tier. */
  daemonWaitMs: number;
  log: Log;
}

export interface RunningServe {
  url: string;
  port: number;
  gateway: Gateway;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function checkServeOptions(o: { host: string; port: number; cloudUrl?: string }): void {
  if (!LOOPBACK.has(o.host)) throw new UserError(`--host: serve listens on loopback only (127.0.0.1, ::1 or localhost), not '${o.host}'`);
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new UserError(`--port: '${o.port}' is not a port number (0–65535)`);
  if (o.cloudUrl !== undefined) {
    let u: URL;
    try { u = new URL(o.cloudUrl); } catch { throw new UserError(`--cloud-url: '${o.cloudUrl}' is not a URL`); }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UserError(`--cloud-url: '${o.cloudUrl}' must be http(s)`);
  }
}

export async function startServe(o: ServeOptions): Promise<RunningServe> {
  checkServeOptions(o);
  const files = listModelFiles(o.modelsDir);
  const missing = [...new Set(o.policy.tiers.map((t) => t.quant.toLowerCase()))].filter((q) => !files.some((f) => f.quant === q));
  if (missing.length) {
    throw new EnvError(
      `${o.modelsDir}: no model file for quant(s) ${missing.join(', ')} used by the policy's tiers ` +
      `(found: ${files.map((f) => `${f.quant}=${basename(f.path)}`).join(', ') || 'none'})`,
    );
  }
  let engine: LlamaCppEngine;
  try {
    engine = await LlamaCppEngine.open({ modelsDir: o.modelsDir, maxThreads: o.maxThreads, log: o.log });
  } catch (err) {
    throw new EnvError(`cannot load the llama.cpp runtime (prebuilt CPU backend, no source build): ${(err as Error).message}`);
  }

  const safe = safeKnobsOf(o.policy);
  const client = new EdgegovClient({
    socketPath: o.socketPath,
    fallback: safe,
    clientName: `edgegov-serve-${process.pid}`,
    log: (line) => o.log('warn', line),
  });
  client.on('warning', (m) => o.log('debug', `daemon client: ${m}`));
  client.on('disconnected', (why) => o.log('warn', 'daemon connection lost; the lease decides what runs', { why }));
  client.on('connected', () => o.log('info', 'connected to the daemon', { socket: client.socketPath }));
  const modelName = o.policy.model.name;
  const gateway = new Gateway({
    policy: o.policy,
    engine,
    client,
    cloud: o.cloudUrl ? { baseUrl: o.cloudUrl, apiKey: o.cloudApiKey } : undefined,
    maxThreads: o.maxThreads,
    modelName,
    log: o.log,
  });
  try {
    await client.connect({ timeoutMs: o.daemonWaitMs });
  } catch (err) {
    o.log('warn', `no daemon yet (${(err as Error).message}); serving the safe tier '${safe.tier}' and retrying in the background`);
  }
  // Load the first tier before listening, so the first request does not pay for it.
  const first = gateway.decision().decision;
  await engine.apply(gateway.knobsFor(first));
  gateway.reportApplied();
  if (first.offload === 'pause') engine.pause('the first decision is a pause');

  const server: Server = createServeServer(gateway, modelName);
  let addr: Awaited<ReturnType<typeof listen>>;
  try {
    addr = await listen(server, o.port, o.host);
  } catch (err) {
    // Nothing will serve: release the daemon connection (its reconnect timer) and the engine,
    // so the process can exit with the error instead of lingering.
    client.close();
    await engine.close();
    throw err;
  }
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    gateway,
    close: () => (closing ??= (async () => {
      client.close();
      await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
      await engine.close();
    })()),
  };
}
