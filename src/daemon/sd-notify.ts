/**
 * sd_notify for `Type=notify` units. `$NOTIFY_SOCKET` is an AF_UNIX *datagram* socket and
 * Node's `net`/`dgram` cannot send to one (research 04 §6), and the sensors addon has no
 * sender, so we hand the message to the `systemd-notify` binary with `--pid=<our pid>`
 * (the unit sets `NotifyAccess=all` so systemd accepts it from the helper). Without
 * `$NOTIFY_SOCKET` this is a no-op; with it but no `systemd-notify` on PATH, we say so once
 * and carry on (run the unit as `Type=exec` then).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Notifier {
  readonly enabled: boolean;
  /** Sends `VAR=value` assignments (e.g. `READY=1`); resolves when the helper has run. */
  send(...assignments: string[]): Promise<void>;
  /** Starts `WATCHDOG=1` pings at half of `$WATCHDOG_USEC`, when systemd asked for them. */
  startWatchdog(): void;
  stop(): void;
}

interface NotifyLog { info(o: object, m?: string): void; warn(o: object, m?: string): void }

export function findOnPath(bin: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return undefined;
}

export function createNotifier(log: NotifyLog, env: NodeJS.ProcessEnv = process.env): Notifier {
  const socket = env.NOTIFY_SOCKET;
  const noop: Notifier = { enabled: false, send: async () => {}, startWatchdog() {}, stop() {} };
  if (!socket) return noop;
  const helper = findOnPath('systemd-notify', env.PATH);
  if (!helper) {
    log.warn({ notifySocket: socket }, 'NOTIFY_SOCKET is set but systemd-notify is not on PATH: sd_notify skipped (use Type=exec)');
    return noop;
  }
  let failedOnce = false;
  let watchdog: NodeJS.Timeout | undefined;
  const send = (...assignments: string[]) => new Promise<void>((resolve) => {
    execFile(helper, [`--pid=${process.pid}`, ...assignments], { env, timeout: 5000 }, (err) => {
      if (err && !failedOnce) {
        failedOnce = true;
        log.warn({ err: err.message, assignments }, 'systemd-notify failed; sd_notify messages may be lost');
      }
      resolve();
    });
  });
  return {
    enabled: true,
    send,
    startWatchdog() {
      const usec = Number(env.WATCHDOG_USEC);
      const pid = env.WATCHDOG_PID ? Number(env.WATCHDOG_PID) : process.pid;
      if (!(usec > 0) || pid !== process.pid) return;
      const everyMs = Math.max(100, usec / 1000 / 2);
      watchdog = setInterval(() => void send('WATCHDOG=1'), everyMs);
      watchdog.unref();
      log.info({ everyMs }, 'systemd watchdog pings enabled');
    },
    stop() {
      clearInterval(watchdog);
    },
  };
}
