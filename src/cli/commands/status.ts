/**
 * `edgegov status`: asks a running daemon for its state over the socket. `--json` prints the
 * status object; `--watch` keeps redrawing it (subscribing, so changes show at once).
 */
import type { Argv, CommandModule } from 'yargs';
import { EdgegovClient, EdgegovProtocolError, requestOnce } from '../../ipc/client.js';
import type { DaemonStatus } from '../../ipc/protocol.js';
import { defaultSocketPath } from '../../ipc/socket-path.js';
import { EnvError, UserError } from '../../util/errors.js';
import { loadPolicyFile } from '../../policy/load.js';
import type { Policy } from '../../policy/types.js';
import { DashboardHistory, renderDashboard } from '../../report/dashboard.js';
import { typedText } from '../typed.js';

interface StatusArgs { socket?: string; json: boolean; watch: boolean; intervalMs: number; timeoutMs: number }

function fmt(v: number | undefined, digits = 1): string {
  return v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
}

/** A compact human rendering of a status (also used by --watch). */
export function renderStatus(s: DaemonStatus): string {
  const d = s.decision;
  const sim = new Set(s.simulated);
  const lines: string[] = [];
  lines.push(`edgegov ${s.version} (protocol ${s.protocol}) pid ${s.pid} on ${s.deviceId}, up ${s.uptimeS} s, ${s.hz} Hz, ${s.samples} sample${s.samples === 1 ? '' : 's'}, ${s.decisionChanges} decision change${s.decisionChanges === 1 ? '' : 's'}`);
  lines.push(`policy   ${s.policy.name} (${s.policy.file})${s.policy.lastReloadOk ? '' : `  LAST RELOAD REJECTED: ${s.policy.lastReloadErrors[0] ?? ''}`}`);
  if (d) {
    lines.push(`decision ${d.severity} · tier ${d.tier} (${d.quant}, ctx ${d.contextLength}, batch ${d.batchSize}${d.threads !== undefined ? `, ${d.threads} threads` : ''}${d.pacingMs ? `, pacing ${d.pacingMs} ms` : ''}) · offload ${d.offload}${d.safe ? ' · SAFE' : ''} · ttl ${d.ttlMs} ms`);
    for (const r of d.reasons.slice(0, 3)) lines.push(`  why    ${r.message}`);
  }
  const sig = Object.entries(s.signals).filter(([k]) => !k.startsWith('zone.'));
  lines.push(`signals  ${sig.map(([k, v]) => `${k}=${fmt(v, k.endsWith('_mb') ? 0 : 1)}${sim.has(k) ? '*' : ''}`).join(' ') || '—'}`);
  const zones = Object.keys(s.signals).filter((k) => k.startsWith('zone.')).length;
  if (zones) lines.push(`zones    ${zones} thermal zones`);
  if (s.simulated.length) lines.push(`simulated (*) ${s.simulated.join(', ')}${s.sources.simulatedDevice ? ` from ${s.sources.simulatedDevice}` : ''}`);
  if (s.faults.length) lines.push(`faults   ${s.faults.map((f) => `${f.signal}: ${f.reason}${consequenceText(s, f.signal)}`).join('; ')}`);
  lines.push(`sources  ${s.sources.sensors}, ${s.sources.psiEvents} pressure events`);
  lines.push(`clients  ${s.clients} (${s.subscribers} subscribed) on ${s.socket}${s.metrics ? ` · metrics http://${s.metrics}/metrics` : ''}`);
  if (s.journal) lines.push(`journal  ${s.journal.file}: ${s.journal.lines} lines, ${s.journal.syncedLines} synced`);
  return lines.join('\n');
}

/** ` → onFault safe (default)` for a declared sensor; nothing for a signal no sensor declares. */
function consequenceText(s: DaemonStatus, signal: string): string {
  // Older daemons (before faultConsequences) send none.
  const c = s.faultConsequences?.find((x) => x.signal === signal);
  if (!c) return '';
  return ` → ${c.fallback !== undefined ? `fallback ${c.fallback}, then ` : ''}onFault ${c.onFault}${c.byDefault ? ' (default)' : ''}`;
}

export function unreachable(socket: string, err: unknown): EnvError {
  const why = err instanceof EdgegovProtocolError ? err.message : String((err as Error)?.message ?? err);
  return new EnvError(`no edgegov daemon answering on ${socket} (${why}); start one with 'edgegov run --policy <p>' or pass --socket`);
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: 'Ask a running daemon for its state',
  builder: (y: Argv) =>
    y
      .option('socket', { type: 'string', describe: 'Daemon socket (default as for run)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the status object as JSON' })
      .option('watch', { type: 'boolean', default: false, describe: 'Keep redrawing until interrupted' })
      .option('interval-ms', { type: 'number', default: 1000, describe: 'Refresh period for --watch' })
      .option('timeout-ms', { type: 'number', default: 3000, describe: 'How long to wait for the daemon' }) as unknown as Argv<StatusArgs>,
  handler: async (argv) => {
    positiveMs('--timeout-ms', argv.timeoutMs);
    positiveMs('--interval-ms', argv.intervalMs);
    const socket = argv.socket ?? defaultSocketPath();
    if (!argv.watch) {
      let r: { status: DaemonStatus };
      try {
        r = await requestOnce<{ status: DaemonStatus }>(socket, { op: 'status' }, argv.timeoutMs);
      } catch (err) {
        throw unreachable(socket, err);
      }
      process.stdout.write(argv.json ? JSON.stringify(r.status, null, 2) + '\n' : renderStatus(r.status) + '\n');
      return;
    }
    await watch(socket, argv);
  },
};

/** A wait or period flag: a typo ('abc' → NaN) must not become an instant timeout or a busy loop. */
export function positiveMs(flag: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new UserError(`${flag}: expected a positive number of milliseconds, got '${typedText(flag, v)}'`);
}

async function watch(socket: string, argv: StatusArgs): Promise<void> {
  const client = new EdgegovClient({ socketPath: socket, log: false, requestTimeoutMs: argv.timeoutMs });
  const tty = Boolean(process.stdout.isTTY) && !argv.json;
  let drawn = 0;
  // On a terminal: the dashboard (src/report/dashboard.ts), with a minute of history and the
  // daemon's policy (re-read when it reloads) for the limit gauges; best effort.
  const history = new DashboardHistory(60);
  let policy: Policy | undefined;
  let policyKey: string | undefined;
  const draw = async () => {
    if (!client.connected) {
      const msg = `waiting for the daemon on ${socket}…${client.leaseExpired ? ' (lease expired: clients are on the safe tier)' : ''}`;
      paint(msg);
      return;
    }
    try {
      const s = await client.status();
      if (tty) {
        history.push(s.signals);
        const key = `${s.policy.file}@${s.policy.loadedAt}`;
        if (key !== policyKey) {
          policyKey = key;
          policy = await loadPolicyFile(s.policy.file).catch(() => undefined);
        }
        paint(renderDashboard(s, history, { policy, width: process.stdout.columns, color: true }).join('\n'));
      } else paint(argv.json ? JSON.stringify(s) : renderStatus(s));
    } catch { /* disconnected mid-request: the next tick shows it */ }
  };
  const paint = (text: string) => {
    if (tty) {
      const out = (drawn ? `\x1b[${drawn}F` : '') + '\x1b[J' + text + '\n';
      process.stdout.write(out);
      drawn = text.split('\n').length;
    } else {
      process.stdout.write(text + '\n');
    }
  };
  client.on('decision', () => void draw());
  client.on('disconnected', () => void draw());
  try {
    await client.connect({ timeoutMs: argv.timeoutMs });
  } catch (err) {
    client.close();
    throw unreachable(socket, err);
  }
  const timer = setInterval(() => void draw(), argv.intervalMs);
  await new Promise<void>((resolve, reject) => {
    const end = () => { clearInterval(timer); client.close(); resolve(); };
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
    // `status --watch | head` closes the pipe: that is the reader being done, not a crash.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') end();
      else { clearInterval(timer); client.close(); reject(err); }
    });
  });
}
