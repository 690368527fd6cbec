/** `edgegov serve`: the OpenAI-compatible governed gateway on loopback (docs/inference.md). */
import type { Argv, CommandModule } from 'yargs';
import { availableParallelism } from 'node:os';
import { loadPolicyFile } from '../../policy/load.js';
import { EnvError, UserError } from '../../util/errors.js';
import { startServe } from '../../serve/start.js';
import { isLogLevel, stderrLog } from '../../serve/log.js';
import { typedText } from '../typed.js';

interface ServeArgs {
  policy: string;
  models: string;
  port: number;
  host: string;
  socket?: string;
  cloudUrl?: string;
  maxThreads?: number;
  daemonWaitMs: number;
  logLevel: string;
}

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'OpenAI-compatible governed gateway on loopback',
  builder: (y: Argv) =>
    y
      .option('policy', { type: 'string', demandOption: true, describe: 'Policy YAML (tiers, safe tier, offload rules)' })
      .option('models', { type: 'string', demandOption: true, describe: 'Directory with one GGUF per quant tier (e.g. from `model synth`)' })
      .option('port', { type: 'number', default: 8080, describe: 'TCP port on loopback (0 = any free port)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Loopback address to bind (127.0.0.1, ::1, localhost)' })
      .option('socket', { type: 'string', describe: 'The daemon\'s Unix socket (default: $EDGEGOV_SOCKET, $XDG_RUNTIME_DIR/edgegov.sock, /tmp/edgegov-<uid>.sock)' })
      .option('cloud-url', { type: 'string', describe: 'OpenAI-compatible base URL (…/v1) for offloaded requests; API key from $EDGEGOV_CLOUD_API_KEY' })
      .option('max-threads', { type: 'number', describe: 'Most llama.cpp threads any tier may use here (default: the CPU count)' })
      .option('daemon-wait-ms', { type: 'number', default: 1500, describe: 'How long to wait for the daemon at start before serving the safe tier' })
      .option('log-level', { type: 'string', default: 'info', describe: 'debug, info, warn or error (JSON lines on stderr)' })
      .strict() as unknown as Argv<ServeArgs>,
  handler: async (argv) => {
    if (!isLogLevel(argv.logLevel)) throw new UserError(`--log-level: '${argv.logLevel}' is not one of debug, info, warn, error`);
    const maxThreads = argv.maxThreads ?? availableParallelism();
    if (!Number.isInteger(maxThreads) || maxThreads < 1 || maxThreads > 256) throw new UserError(`--max-threads: '${typedText('--max-threads', argv.maxThreads)}' must be an integer from 1 to 256`);
    if (!(argv.daemonWaitMs >= 0)) throw new UserError(`--daemon-wait-ms: expected 0 or more milliseconds, got '${typedText('--daemon-wait-ms', argv.daemonWaitMs)}'`);
    if (!Number.isInteger(argv.port) || argv.port < 0 || argv.port > 65535) throw new UserError(`--port: '${typedText('--port', argv.port)}' is not a port number (0–65535)`);
    const policy = await loadPolicyFile(argv.policy);
    const log = stderrLog(argv.logLevel, 'serve');
    const running = await startServe({
      policy,
      modelsDir: argv.models,
      port: argv.port,
      host: argv.host,
      socketPath: argv.socket,
      cloudUrl: argv.cloudUrl,
      cloudApiKey: process.env.EDGEGOV_CLOUD_API_KEY,
      maxThreads,
      daemonWaitMs: argv.daemonWaitMs,
      log,
    }).catch((err: unknown) => {
      // A busy or forbidden port is the environment, not a bug: exit 2 with what to do.
      const code = (err as NodeJS.ErrnoException | undefined)?.code;
      const shown =
        code === 'EADDRINUSE' ? new EnvError(`--port ${argv.port}: ${argv.host}:${argv.port} is already in use (another serve?); pick another --port, or 0 for any free one`) :
        code === 'EACCES' ? new EnvError(`--port ${argv.port}: not allowed to listen on ${argv.host}:${argv.port} (ports below 1024 need privileges); pick another --port`) :
        err;
      throw shown;
    });
    process.stdout.write(`edgegov serve listening on ${running.url} (policy ${policy.name}, models ${argv.models})\n`);
    await new Promise<void>((resolve) => {
      const stop = (sig: string): void => {
        log('info', `${sig}: stopping`);
        running.close().then(resolve, resolve);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  },
};
