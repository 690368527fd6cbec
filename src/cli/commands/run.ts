/**
 * `edgegov run --policy <p>`: the daemon in the foreground (systemd / Android init supervise
 * it). SIGHUP reloads the policy; SIGTERM/SIGINT stop gracefully within a deadline, a second
 * signal forces exit.
 */
import type { Argv, CommandModule } from 'yargs';
import type { LiveView } from '../../daemon/live-view.js';
import { parseHostPort } from '../../telemetry/host-port.js';
import { defaultSocketPath } from '../../ipc/socket-path.js';
import { UserError } from '../../util/errors.js';
import { typedText } from '../typed.js';
import { resolveGroup } from '../../ipc/peer-auth.js';

interface RunArgs {
  policy: string;
  sysfsRoot: string;
  socket?: string;
  metrics: string;
  journal?: string;
  journalEverySample: boolean;
  journalMaxBytes: number;
  hz?: number;
  deviceId?: string;
  simulate: string;
  simDevice?: string;
  simScenario?: string;
  simSpeed: number;
  logLevel: string;
  logFile?: string;
  live?: boolean;
  shutdownDeadlineMs: number;
  adminGroup?: string;
}

/** A flag given twice: the last one wins (as with most daemons), never an array. */
function lastOf<T>(v: T | T[]): T {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run',
  describe: 'Run the governor daemon',
  builder: (y: Argv) =>
    y
      .option('policy', { type: 'string', coerce: lastOf, demandOption: true, describe: 'Policy YAML file' })
      .option('sysfs-root', { type: 'string', coerce: lastOf, default: '/', describe: 'Root under which sys/ and proc/ are read (a fixture tree in tests)' })
      .option('socket', { type: 'string', coerce: lastOf, describe: 'Unix socket path (default: $EDGEGOV_SOCKET, $XDG_RUNTIME_DIR/edgegov.sock, or /tmp/edgegov-<uid>.sock)' })
      .option('metrics', { type: 'string', coerce: lastOf, default: '127.0.0.1:9464', describe: 'host:port for /metrics and /healthz; "off" for none' })
      .option('journal', { type: 'string', coerce: lastOf, describe: 'Decision journal (JSONL, size-rotated)' })
      .option('journal-max-bytes', { type: 'number', coerce: lastOf, default: 16 * 1024 * 1024, describe: 'Rotate the journal at this size (keeps 3 old files)' })
      .option('journal-every-sample', { type: 'boolean', default: false, describe: 'Journal every sample, not only decision changes' })
      .option('hz', { type: 'number', coerce: lastOf, describe: 'Sample rate; overrides the policy\'s sample period' })
      .option('device-id', { type: 'string', coerce: lastOf, describe: 'Identity in metrics and status (default: hostname)' })
      .option('simulate', { type: 'string', coerce: lastOf, choices: ['auto', 'none'], default: 'auto', describe: 'Take signals the host lacks from the simulated device' })
      .option('sim-device', { type: 'string', coerce: lastOf, describe: 'Simulated device model for the missing signals' })
      .option('sim-scenario', { type: 'string', coerce: lastOf, describe: 'Run the simulated device through this scenario (sim/scenarios/), loaded by the engine\'s reports (edgegov demo)' })
      .option('sim-speed', { type: 'number', coerce: lastOf, default: 1, describe: 'With --sim-scenario: device seconds per wall second' })
      .option('log-level', { type: 'string', coerce: lastOf, default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] })
      .option('log-file', { type: 'string', coerce: lastOf, describe: 'Append JSON logs to this file instead of stderr' })
      .option('live', { type: 'boolean', describe: 'Live view on stdout (default: when stdout is a TTY)' })
      .option('admin-group', { type: 'string', coerce: lastOf, describe: 'Group (name or gid) whose members may reload and report besides the daemon\'s own user (checked with SO_PEERCRED)' })
      .option('shutdown-deadline-ms', { type: 'number', coerce: lastOf, default: 5000, describe: 'Force exit this long after SIGTERM' }) as unknown as Argv<RunArgs>,
  handler: async (argv) => {
    if (!(argv.journalMaxBytes >= 4096)) throw new UserError(`--journal-max-bytes: expected at least 4096, got ${typedText('--journal-max-bytes', argv.journalMaxBytes)}`);
    if (!(argv.shutdownDeadlineMs > 0)) throw new UserError(`--shutdown-deadline-ms: expected a positive number of milliseconds, got ${typedText('--shutdown-deadline-ms', argv.shutdownDeadlineMs)}`);
    if (argv.hz !== undefined && !(argv.hz > 0 && argv.hz <= 1000)) throw new UserError(`--hz: expected a rate in (0, 1000], got ${typedText('--hz', argv.hz)}`);
    if (!(argv.simSpeed > 0 && argv.simSpeed <= 1000)) throw new UserError(`--sim-speed: expected a factor in (0, 1000], got ${typedText('--sim-speed', argv.simSpeed)}`);
    const adminGid = argv.adminGroup === undefined ? undefined : resolveGroup(argv.adminGroup);
    if (argv.adminGroup !== undefined && adminGid === undefined) throw new UserError(`--admin-group: no group '${argv.adminGroup}' in /etc/group (give a name or a numeric gid)`);
    const metrics = argv.metrics === 'off' || argv.metrics === '' ? undefined : argv.metrics;
    if (metrics && !parseHostPort(metrics)) throw new UserError(`--metrics: expected host:port (or "off"), got '${argv.metrics}'`);
    // Loaded here, not at the top: other commands need not pay for the daemon's libraries.
    const [{ Daemon }, { createLiveView }, { createLogger }] = await Promise.all([
      import('../../daemon/daemon.js'), import('../../daemon/live-view.js'), import('../../telemetry/logger.js'),
    ]);
    const live = argv.live ?? Boolean(process.stdout.isTTY);
    let view: LiveView | undefined = live ? createLiveView() : undefined;
    const logger = createLogger({ level: argv.logLevel, file: argv.logFile, stream: argv.logFile ? undefined : view?.logStream });
    // Android init's `socket edgegov stream …` stanza hands us a listening fd.
    const androidFd = process.env.ANDROID_SOCKET_edgegov;
    const inheritedFd = androidFd !== undefined && /^\d+$/.test(androidFd) && !argv.socket ? Number(androidFd) : undefined;
    const daemon = new Daemon({
      logger,
      config: {
        policyPath: argv.policy,
        sysfsRoot: argv.sysfsRoot,
        socketPath: argv.socket ?? (inheritedFd !== undefined ? '/dev/socket/edgegov' : defaultSocketPath()),
        listenFd: inheritedFd,
        metrics,
        journal: argv.journal,
        journalEverySample: argv.journalEverySample,
        journalMaxBytes: argv.journalMaxBytes,
        hz: argv.hz,
        deviceId: argv.deviceId,
        simulate: argv.simulate as 'auto' | 'none',
        simDevice: argv.simDevice,
        simScenario: argv.simScenario,
        simSpeed: argv.simSpeed,
        adminGids: adminGid === undefined ? [] : [adminGid],
      },
    });

    let stopping = false;
    const onStop = (sig: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal: sig }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal: sig }, 'stopping');
      const force = setTimeout(() => {
        logger.error({ deadlineMs: argv.shutdownDeadlineMs }, 'graceful stop missed its deadline; exiting');
        process.exit(1);
      }, argv.shutdownDeadlineMs);
      force.unref();
      daemon.stop(sig).then(
        () => {
          view?.stop();
          view = undefined;
          process.exit(0);
        },
        (err) => {
          logger.error({ err: String(err) }, 'stop failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    let running = false;
    process.on('SIGHUP', () => {
      if (!running || stopping) {
        logger.warn('SIGHUP ignored: the daemon is not running yet (or stopping)');
        return;
      }
      logger.info('SIGHUP: reloading the policy');
      void daemon.reload();
    });
    process.on('uncaughtException', (err) => {
      logger.fatal({ err: String(err?.stack ?? err) }, 'uncaught exception; stopping');
      daemon.stop('uncaught exception').finally(() => process.exit(1));
    });
    process.on('unhandledRejection', (err) => {
      logger.error({ err: String((err as Error)?.stack ?? err) }, 'unhandled rejection');
    });

    await daemon.start();
    running = true;
    if (view) {
      process.stderr.write(
        daemon.simulated.length
          ? `edgegov: simulated signals (this host has no sensor for them): ${daemon.simulated.join(', ')}\n`
          : 'edgegov: all signals from real sensors\n',
      );
      view.start(daemon);
    }
    // Run until a signal stops us.
    await new Promise<never>(() => {});
  },
};
