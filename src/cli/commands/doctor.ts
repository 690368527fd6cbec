/**
 * `edgegov doctor`: the first command an integrator runs on a board. One line per check with
 * a status (ok, warn, fail, info) and what to change: every discovered zone and the battery,
 * memory and PSI (and whether a kernel trigger arms, or why not), the reader and engine backend
 * that would load, the socket directory and group, the metrics port, and which shipped policy
 * fits the device. Exit 1 when something blocks running; `--json` for scripts.
 */
import { existsSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { defaultSocketPath } from '../../ipc/socket-path.js';
import { resolveGroup } from '../../ipc/peer-auth.js';
import { openSensors } from '../../sensors/index.js';
import { EnvError, UserError } from '../../util/errors.js';
import { engineCheck } from '../doctor/engine-check.js';
import type { DoctorLine } from '../doctor/line.js';
import { line } from '../doctor/line.js';
import { metricsCheck } from '../doctor/metrics-check.js';
import { policyCheck } from '../doctor/policy-check.js';
import { readerCheck } from '../doctor/reader-check.js';
import { sensorLines } from '../doctor/sensor-checks.js';
import { socketCheck } from '../doctor/socket-check.js';

interface DoctorArgs {
  sysfsRoot: string;
  socket?: string;
  socketGroup?: string;
  metrics: string;
  policy?: string;
  engine: boolean;
  json: boolean;
}

export type Verdict = 'ok' | 'degraded' | 'blocked';

export function verdictOf(lines: readonly DoctorLine[]): Verdict {
  if (lines.some((l) => l.status === 'fail')) return 'blocked';
  return lines.some((l) => l.status === 'warn') ? 'degraded' : 'ok';
}

function render(root: string, lines: readonly DoctorLine[]): string {
  const w = Math.min(28, Math.max(...lines.map((l) => l.id.length)));
  const out = [`edgegov doctor: sensors under ${root}`];
  for (const l of lines) {
    out.push(`${l.status.padEnd(4)}  ${l.id.padEnd(w)}  ${l.detail}`);
    if (l.fix) out.push(`${' '.repeat(6 + w)}  fix: ${l.fix}`);
  }
  const v = verdictOf(lines);
  const blocking = lines.filter((l) => l.status === 'fail').map((l) => l.id);
  const warns = lines.filter((l) => l.status === 'warn').length;
  out.push(
    v === 'blocked' ? `verdict: blocked by ${blocking.join(', ')}: fix the fail lines before edgegov run`
    : v === 'degraded' ? `verdict: runs, degraded (${warns} warning${warns === 1 ? '' : 's'})`
    : 'verdict: ready to run',
  );
  return out.join('\n') + '\n';
}

export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: 'doctor',
  describe: 'Check this board for edgegov: sensors, PSI triggers, reader, engine, socket, metrics port, fitting policy',
  builder: (y: Argv) =>
    y
      .option('sysfs-root', { type: 'string', default: '/', describe: 'directory standing in for / (fixture trees)' })
      .option('socket', { type: 'string', describe: 'socket run will listen on (default as for run)' })
      .option('socket-group', { type: 'string', describe: 'group (name or gid) whose members should be able to connect' })
      .option('metrics', { type: 'string', default: '127.0.0.1:9464', describe: 'host:port run will serve /metrics on; "off" for none' })
      .option('policy', { type: 'string', describe: 'policy file to check against this device (default: suggest a shipped one)' })
      .option('engine', { type: 'boolean', default: true, describe: 'check that the llama.cpp backend loads (--no-engine skips it)' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output on stdout' })
      .example('$0 doctor', 'this board')
      .example('$0 doctor --sysfs-root test/fixtures/sysfs/rk3588-bsp --json', 'a fixture tree') as unknown as Argv<DoctorArgs>,
  handler: async (argv) => {
    const root = argv.sysfsRoot;
    if (!existsSync(root)) throw new EnvError(`--sysfs-root ${root}: no such directory`);
    const intendedGid = argv.socketGroup === undefined ? undefined : resolveGroup(argv.socketGroup);
    if (argv.socketGroup !== undefined && intendedGid === undefined) {
      throw new UserError(`--socket-group: no group '${argv.socketGroup}' in /etc/group (give a name or a numeric gid)`);
    }
    const reader = readerCheck();
    const src = await openSensors({ sysfsRoot: root, binding: reader.binding, log: () => {} });
    const lines: DoctorLine[] = [reader.line];
    let policy: Awaited<ReturnType<typeof policyCheck>>;
    try {
      const snap = src.read();
      lines.push(...sensorLines(src, snap));
      const types = src.discovery.zones.filter((z) => !z.skipped && z.role !== 'not-a-temperature').map((z) => z.type);
      policy = await policyCheck({ types, hasBattery: src.discovery.battery !== undefined, signals: snap.signals }, argv.policy);
      lines.push(policy.line);
    } finally {
      src.close();
      reader.binding.close();
    }
    lines.push(argv.engine ? await engineCheck() : line('engine', 'info', 'not checked (--no-engine)'));
    const androidFd = process.env.ANDROID_SOCKET_edgegov;
    const inherited = androidFd !== undefined && /^\d+$/.test(androidFd) && !argv.socket;
    lines.push(await socketCheck({
      socketPath: argv.socket ?? (inherited ? '/dev/socket/edgegov' : defaultSocketPath()),
      inheritedFd: inherited,
      intendedGid,
      intendedGroupText: argv.socketGroup,
    }));
    lines.push(await metricsCheck(argv.metrics));

    const verdict = verdictOf(lines);
    if (argv.json) {
      const c = policy.choice;
      process.stdout.write(JSON.stringify({
        root,
        verdict,
        blocking: lines.filter((l) => l.status === 'fail').map((l) => l.id),
        lines,
        policy: {
          suggested: policy.suggested ?? null,
          ...(c ? { chosen: c.chosen.name, clear: c.clear, why: c.why, fits: c.ranked } : {}),
        },
      }, null, 2) + '\n');
    } else {
      process.stdout.write(render(root, lines));
    }
    if (verdict === 'blocked') process.exitCode = 1;
  },
};
