/**
 * `edgegov demo`: the whole loop in one process tree. It synthesizes (or reuses) the models,
 * starts the daemon (`edgegov run`) on a simulated device running a scenario at a chosen speed
 * and loaded by the real engine's reports, starts the governed gateway (`edgegov serve`) on
 * the real llama.cpp engine, drives it with a load generator speaking the OpenAI protocol, and
 * answers offloaded requests with a local cloud stub unless `--cloud-url` is given. Daemon and
 * gateway are real child processes talking over the real socket and HTTP; the demo only
 * watches them through their public interfaces (status op, /edgegov/status) and records.
 * It stops at the scenario's end (or `--duration`) or on SIGINT/SIGTERM, stops every child and
 * waits for it, then writes the trace, the report and the summary.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Decision } from '../core/decision.js';
import type { DaemonStatus } from '../ipc/protocol.js';
import { requestOnce } from '../ipc/client.js';
import { loadPolicyFile } from '../policy/load.js';
import type { Policy } from '../policy/types.js';
import { loadDevice, repoRoot } from '../sim/device.js';
import { loadScenario } from '../sim/scenario.js';
import { EnvError, UserError } from '../util/errors.js';
import { analyse, decisionChanges, DEMO_TARGET, readJournal, type EngineChange } from './analyse.js';
import { spawnNode, type DemoChild } from './children.js';
import { startCloudStub, type CloudStub } from './cloud-stub.js';
import { startLoad, type LoadGenerator } from './load.js';
import { ensureModels } from './models.js';
import { writeDemoReport, writeTrace } from './outputs.js';
import { writeSpeedAdaptedPolicy } from './policy.js';
import { decisionLine, engineLine, renderFrame, statusLine, type EngineKnobsView, type ViewState } from './view.js';
import { formatSummary } from './summary.js';

export interface DemoOptions {
  device: string;
  scenario: string;
  speed: number;
  /** Wall time; default the scenario's length ÷ speed. */
  durationMs?: number;
  cloudUrl?: string;
  dataDir: string;
  out?: string;
  seed: number;
  params: number;
  paramsLabel: string;
  maxThreads: number;
  users: number;
  live: boolean;
  policyPath: string;
}

export interface DemoIo {
  out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean; columns?: number };
  err: { write(s: string): boolean };
}

const BIN = join(repoRoot, 'bin', 'edgegov.js');
const ESC = '\x1b[';

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitForDaemon(socket: string, daemon: DemoChild, timeoutMs: number, stopped: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!stopped()) {
    if (daemon.exit) throw new EnvError(`the daemon exited during start (${daemon.exit.signal ?? `code ${daemon.exit.code}`}); see its log`);
    try {
      const r = await requestOnce<{ ok: boolean; status?: DaemonStatus }>(socket, { op: 'status' }, 1000);
      if (r.ok && r.status?.decision) return;
    } catch { /* not listening yet */ }
    if (Date.now() > until) throw new EnvError(`the daemon did not answer on ${socket} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function sameEngine(a: EngineKnobsView | undefined, b: EngineKnobsView): boolean {
  return !!a && a.tier === b.tier && a.quant === b.quant && a.contextLength === b.contextLength &&
    a.batchSize === b.batchSize && a.threads === b.threads && a.pacingMs === b.pacingMs;
}

export async function runDemo(o: DemoOptions, io: DemoIo): Promise<number> {
  // Bad names fail here, before anything starts (exit 1 naming the flag).
  const named = <T>(flag: string, load: () => T): T => {
    try { return load(); } catch (err) {
      if (err instanceof UserError) throw new UserError(`${flag}: ${err.message}`, err.details);
      throw err;
    }
  };
  const device = named('--device', () => loadDevice(o.device));
  const scenario = named('--scenario', () => loadScenario(o.scenario));
  const durationMs = o.durationMs ?? (scenario.durationS * 1000) / o.speed;
  const runDir = resolve(o.out ?? join(o.dataDir, 'demo', stamp()));
  mkdirSync(runDir, { recursive: true });
  const say = (line: string) => io.out.write(`${line}\n`);

  // From here on Ctrl-C means "stop and clean up": whatever has started is stopped and waited for.
  let stopReason: string | undefined;
  let interrupted = false;
  let hardStops = 0;
  const children: DemoChild[] = [];
  let sockDir: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = true;
    stopReason ??= sig;
    if (++hardStops >= 2) {
      for (const c of children) { try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ } }
      if (sockDir) rmSync(sockDir, { recursive: true, force: true });
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const t0 = performance.now();
  const models = await ensureModels(o.dataDir, o.params, o.paramsLabel, 1);
  if (interrupted) {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    say(`demo: stopped by ${stopReason} before anything started`);
    return 130;
  }
  say(`demo: models ${models.reused ? 'reused from' : `synthesized in ${((performance.now() - t0) / 1000).toFixed(1)} s into`} ${models.dir} (random weights: gibberish by design)`);

  const policyFile = join(runDir, 'policy.yaml');
  const scaled = writeSpeedAdaptedPolicy(o.policyPath, o.speed, policyFile);
  const policy: Policy = await loadPolicyFile(policyFile);
  say(`demo: policy ${relative(process.cwd(), o.policyPath) || o.policyPath} → ${policyFile}${scaled.length ? ` (maxSlew ×${o.speed} for the ${o.speed}× device clock)` : ''}`);

  sockDir = mkdtempSync(join(tmpdir(), 'edgegov-demo-'));
  const socket = join(sockDir, 'edgegov.sock');
  // An empty sensor root: every signal comes from the simulated device, whatever this host has.
  const sysfsRoot = join(runDir, 'no-sensors');
  mkdirSync(sysfsRoot, { recursive: true });
  const journal = join(runDir, 'journal.jsonl');
  rmSync(journal, { force: true });

  let stub: CloudStub | undefined;
  let load: LoadGenerator | undefined;
  let daemon: DemoChild | undefined;
  let gateway: DemoChild | undefined;
  let gatewayUrl = '';
  const engineChanges: EngineChange[] = [];
  const view: ViewState = {
    device: device.name, scenario: scenario.name, speed: o.speed, wallS: 0, durationS: durationMs / 1000,
    signals: {}, records: [], cloudLabel: o.cloudUrl ? 'cloud' : 'cloud STUB',
  };
  const tty = o.live;
  let drawn = 0;
  let startedAt = Date.now();

  try {
    if (!o.cloudUrl) {
      stub = await startCloudStub();
      say(`demo: cloud STUB (a local stand-in, no model behind it; its answers read "[cloud stub] …") at ${stub.url}`);
    }
    const cloudUrl = o.cloudUrl ?? stub!.url;
    daemon = spawnNode('daemon', [
      BIN, 'run', '--policy', policyFile, '--socket', socket, '--metrics', 'off', '--journal', journal,
      '--journal-every-sample', '--sysfs-root', sysfsRoot, '--sim-device', o.device, '--sim-scenario', o.scenario,
      '--sim-speed', String(o.speed), '--no-live', '--log-level', 'info',
    ], join(runDir, 'daemon.log'));
    children.push(daemon);
    await waitForDaemon(socket, daemon, 20_000, () => interrupted);
    if (!interrupted) {
      gateway = spawnNode('gateway', [
        BIN, 'serve', '--policy', policyFile, '--models', models.dir, '--socket', socket, '--port', '0',
        '--cloud-url', cloudUrl, '--max-threads', String(o.maxThreads), '--log-level', 'info',
      ], join(runDir, 'gateway.log'));
      children.push(gateway);
      let listening = false;
      const m = await Promise.race([
        gateway.waitForLine(/listening on (http:\/\/[^\s]+)/, 90_000).finally(() => { listening = true; }),
        (async () => { while (!interrupted && !listening) await sleep(50); return undefined; })(),
      ]);
      if (m) gatewayUrl = m[1];
    }
    say(`demo: children daemon=${daemon.pid}${gateway ? ` gateway=${gateway.pid}` : ''} socket=${socket}` +
      `${gatewayUrl ? ` gateway-url=${gatewayUrl}` : ''}${stub ? ` stub-url=${stub.url}` : ''}`);
    if (!interrupted && gatewayUrl) {
      say(`demo: ${device.name} · ${scenario.name} at ${o.speed}× for ${(durationMs / 1000).toFixed(0)} s ` +
        `(${((durationMs / 1000) * o.speed / 60).toFixed(1)} device min); ${o.users} users, streaming, some private; Ctrl-C stops`);
      startedAt = Date.now();
      load = startLoad({ baseUrl: gatewayUrl, seed: o.seed, users: o.users });
      view.records = load.records;
      if (tty) io.out.write(`${ESC}?25l`);
      let lastSeq = -1;
      let lastLine = 0;
      while (!interrupted && Date.now() - startedAt < durationMs) {
        if (daemon.exit || gateway?.exit) throw new EnvError(`${daemon.exit ? 'the daemon' : 'the gateway'} exited during the demo; see ${runDir}`);
        view.wallS = (Date.now() - startedAt) / 1000;
        try {
          const r = await requestOnce<{ ok: boolean; status?: DaemonStatus }>(socket, { op: 'status' }, 1000);
          if (r.ok && r.status) {
            view.signals = r.status.signals;
            view.decision = r.status.decision as Decision | undefined;
            if (!tty && r.status.seq !== lastSeq && view.decision) say(decisionLine(view.wallS, view.decision));
            lastSeq = r.status.seq;
          }
        } catch { /* a busy moment; next poll */ }
        try {
          const res = await fetch(`${gatewayUrl}/edgegov/status`, { signal: AbortSignal.timeout(1000) });
          const st = (await res.json()) as { engine?: { knobs?: EngineKnobsView } };
          const k = st.engine?.knobs;
          if (k && !sameEngine(view.engine, k)) {
            view.engine = { ...k };
            engineChanges.push({ t_s: Math.round(view.wallS * 10) / 10, ...k });
            if (!tty) say(engineLine(view.wallS, k));
          }
        } catch { /* the gateway is busy switching; next poll */ }
        if (tty) {
          const frame = renderFrame(view, policy, Math.max(60, Math.min((io.out as NodeJS.WriteStream).columns || 100, 180)));
          io.out.write((drawn ? `${ESC}${drawn}F` : '') + `${ESC}J` + frame.join('\n') + '\n');
          drawn = frame.length;
        } else if (Date.now() - lastLine >= 5000) {
          lastLine = Date.now();
          say(statusLine(view));
        }
        await sleep(tty ? 250 : 500);
      }
      stopReason ??= 'duration';
    }
  } finally {
    if (tty) io.out.write(`${ESC}?25h`);
    await load?.stop();
    // Gateway first (it stops its engine and leaves the socket), then the daemon (safe tier, journal synced).
    if (gateway) await gateway.stop();
    if (daemon) await daemon.stop();
    await stub?.close();
    rmSync(sockDir, { recursive: true, force: true });
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }

  // ---- what happened -------------------------------------------------------------------------
  const lines = readJournal(journal);
  const records = load?.records ?? [];
  const chat = scenario.workload.requests.find((k) => k.kind === 'chat');
  const a = analyse(lines, records, stub?.received ?? [], engineChanges,
    { firstTokenS: chat?.firstTokenS ?? DEMO_TARGET.firstTokenS, readTokS: scenario.workload.readTokS }, policy.rules.offload.cloudAllowed);
  const traceFile = join(runDir, 'trace.csv');
  const reportFile = join(runDir, 'report.html');
  const wallS = (Date.now() - startedAt) / 1000;
  const summary = {
    device: device.name, scenario: scenario.name, speed: o.speed, stoppedBy: stopReason, wallS: Math.round(wallS * 10) / 10,
    deviceS: Math.round(wallS * o.speed), cloudTarget: o.cloudUrl ? { url: o.cloudUrl } : { stub: stub?.url },
    models: models.dir, policy: policyFile,
    children: children.map((c) => ({ name: c.name, pid: c.pid, exit: c.exit })),
    ...a,
    cloudStubTags: stub?.received ?? [],
    decisionChangeList: decisionChanges(lines),
  };
  writeFileSync(join(runDir, 'requests.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
  writeFileSync(join(runDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  let reportBytes = 0;
  if (lines.length) {
    await writeTrace(traceFile, lines, [
      `edgegov demo: ${device.name} · ${scenario.name} ×${o.speed}; samples of the daemon (simulated device, real engine reports)`,
      `replay: edgegov replay ${traceFile} --policy ${policyFile}`,
    ]);
    reportBytes = writeDemoReport(reportFile, {
      lines, records, policy,
      title: `edgegov demo — ${device.name} · ${scenario.name} ×${o.speed}`,
      subtitle: `${a.durationS} s wall (${Math.round(a.durationS * o.speed / 60)} device min) · real llama.cpp engine on synthetic models · ${o.cloudUrl ? 'cloud' : 'cloud STUB'}`,
      summary: { ...a, engineChanges: a.engineChanges.length, decisionChangeList: undefined } as Record<string, unknown>,
    });
  }
  say('');
  for (const l of formatSummary(summary as Parameters<typeof formatSummary>[0])) say(l);
  say('');
  say(`files    ${runDir}/ (summary.json, requests.jsonl, journal.jsonl, daemon.log, gateway.log)`);
  if (reportBytes) say(`report   ${reportFile} (${(reportBytes / 1024).toFixed(0)} KiB, open in a browser)`);
  if (existsSync(traceFile)) say(`replay   npx edgegov replay ${traceFile} --policy ${policyFile}`);
  return interrupted ? 130 : 0;
}
