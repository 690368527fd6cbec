/**
 * `edgegov reload`: asks the daemon to re-read its policy (the same as SIGHUP, but with an
 * answer). An invalid policy is rejected — the daemon keeps the last good one — and the
 * problems are printed as `file:line:col: message`, exit 1.
 */
import type { Argv, CommandModule } from 'yargs';
import { EdgegovProtocolError, requestOnce } from '../../ipc/client.js';
import type { ReloadReply } from '../../ipc/protocol.js';
import { defaultSocketPath } from '../../ipc/socket-path.js';
import { UserError, EnvError } from '../../util/errors.js';
import { positiveMs, unreachable } from './status.js';

interface ReloadArgs { socket?: string; json: boolean; timeoutMs: number }

export const reloadCommand: CommandModule<object, ReloadArgs> = {
  command: 'reload',
  describe: 'Ask a running daemon to re-read its policy',
  builder: (y: Argv) =>
    y
      .option('socket', { type: 'string', describe: 'Daemon socket (default as for run)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the reply as JSON' })
      .option('timeout-ms', { type: 'number', default: 10000, describe: 'How long to wait for the daemon to answer' }) as unknown as Argv<ReloadArgs>,
  handler: async (argv) => {
    positiveMs('--timeout-ms', argv.timeoutMs);
    const socket = argv.socket ?? defaultSocketPath();
    let r: ReloadReply;
    try {
      r = await requestOnce<ReloadReply>(socket, { op: 'reload' }, argv.timeoutMs);
    } catch (err) {
      if (err instanceof EdgegovProtocolError && (err.code === 'policy_invalid' || err.code === 'policy_unreadable')) {
        if (argv.json) process.stdout.write(JSON.stringify({ ok: false, error: { code: err.code, message: err.message, details: err.details } }) + '\n');
        if (err.code === 'policy_unreadable') throw new EnvError(`reload rejected: ${err.message}`);
        throw new UserError(`reload rejected: ${err.message}`, err.details);
      }
      throw unreachable(socket, err);
    }
    process.stdout.write(argv.json ? JSON.stringify(r) + '\n' : `reloaded policy '${r.policy}' from ${r.file}\n`);
  },
};
