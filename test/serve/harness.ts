/**
 * End-to-end harness for `serve`: synthetic models in a temp dir, a copy of a fixture sysfs
 * tree whose temperature and MemAvailable the test rewrites, F's daemon (`edgegov run`) and
 * `edgegov serve` as real child processes, and a fake OpenAI-compatible "cloud" that records
 * what reaches it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { cliPath, repoRoot } from '../helpers/cli.js';

export const policyPath = join(repoRoot, 'test/fixtures/serve/policy.yaml');
export const fixtureSysfs = join(repoRoot, 'test/fixtures/sysfs/rpi5');
export const ZONE_TEMP = 'sys/devices/virtual/thermal/thermal_zone0/temp';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A writable copy of the Raspberry Pi 5 fixture tree (one `cpu-thermal` zone, /proc/meminfo). */
export class FixtureRoot {
  constructor(readonly root: string) {
    cpSync(fixtureSysfs, root, { recursive: true, verbatimSymlinks: true });
  }
  setTempC(c: number): void {
    writeFileSync(join(this.root, ZONE_TEMP), `${Math.round(c * 1000)}\n`);
  }
  setMemAvailableMiB(mib: number): void {
    const p = join(this.root, 'proc/meminfo');
    const text = readFileSync(p, 'utf8').replace(/^MemAvailable:\s+\d+ kB$/m, `MemAvailable:   ${Math.round(mib * 1024)} kB`);
    writeFileSync(p, text);
  }
}

export interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: repoRoot,
    env: { ...process.env, FORCE_COLOR: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Thrown inside a waitFor predicate to stop waiting at once (a child process died). */
export class FatalWait extends Error {}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, everyMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      if (err instanceof FatalWait) throw err;
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function startDaemon(fx: FixtureRoot, socket: string, hz = 10): Promise<Proc> {
  const p = startCli(['run', '--policy', policyPath, '--sysfs-root', fx.root, '--socket', socket,
    '--metrics', 'off', '--simulate', 'none', '--hz', String(hz), '--log-level', 'warn', '--live', 'false']);
  await waitFor('the daemon socket', async () => {
    if (p.child.exitCode !== null) throw new FatalWait(`daemon exited: ${p.stderr()}`);
    const { existsSync } = await import('node:fs');
    return existsSync(socket) || undefined;
  });
  return p;
}

export async function startServe(modelsDir: string, socket: string, extra: string[] = [], daemonWaitMs = 3000): Promise<Proc & { url: string }> {
  const p = startCli(['serve', '--policy', policyPath, '--models', modelsDir, '--port', '0', '--socket', socket,
    '--max-threads', '1', '--daemon-wait-ms', String(daemonWaitMs), '--log-level', 'info', ...extra]);
  const url = await waitFor('serve to listen', () => {
    if (p.child.exitCode !== null) throw new FatalWait(`serve exited ${p.child.exitCode}: ${p.stderr()}`);
    return /listening on (http:\/\/\S+)/.exec(p.stdout())?.[1];
  }, 30_000);
  return Object.assign(p, { url });
}

export interface Recorded {
  path: string;
  body: Record<string, unknown>;
}

/** A tiny OpenAI-compatible server standing in for the cloud; records every request. */
export async function startFakeCloud(): Promise<{ url: string; requests: Recorded[]; close(): Promise<void> }> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => { raw += c.toString(); });
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      requests.push({ path: req.url ?? '', body });
      const id = `cloud-${requests.length}`;
      if (body.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const piece of ['from ', 'the ', 'cloud']) {
          res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}\n\n`);
        }
        res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
        res.end('data: [DONE]\n\n');
        return;
      }
      const text = JSON.stringify({ id, object: 'chat.completion', model: 'cloud-model',
        choices: [{ index: 0, message: { role: 'assistant', content: 'from the cloud' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 } });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

export interface ChatReply {
  status: number;
  headers: Headers;
  json: any;
}

export async function chat(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<ChatReply> {
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  const text = await r.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: r.status, headers: r.headers, json };
}

export interface StreamReply {
  status: number;
  headers: Headers;
  events: any[];
  done: boolean;
  raw: string;
}

/** Reads an SSE stream; `onEvent` may act mid-stream (e.g. heat the device). */
export async function chatStream(url: string, body: Record<string, unknown>, onEvent?: (ev: any, index: number) => void | Promise<void>, headers: Record<string, string> = {}): Promise<StreamReply> {
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ ...body, stream: true }),
  });
  const events: any[] = [];
  let raw = '';
  let done = false;
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    const s = decoder.decode(chunk, { stream: true });
    raw += s;
    buf += s;
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (!data) continue;
      if (data === '[DONE]') { done = true; continue; }
      const ev = JSON.parse(data);
      events.push(ev);
      await onEvent?.(ev, events.length - 1);
    }
  }
  return { status: r.status, headers: r.headers, events, done, raw };
}

export async function serveStatus(url: string): Promise<any> {
  const r = await fetch(`${url}/edgegov/status`);
  return r.json();
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
