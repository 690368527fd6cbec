/**
 * Structured logs (pino). JSON lines on stderr by default — journald (systemd) and logwrapper
 * (Android) collect stderr — or appended to a file with `--log-file`. Writes are synchronous
 * so the last lines before a crash are not lost in a buffer (research 04 §1.5); the daemon
 * logs a few lines a minute, so the cost is nil.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** Append to this file instead of stderr. */
  file?: string;
  /** A custom sink (the TTY live view shows log lines inside its frame). */
  stream?: DestinationStream;
  /** Bound fields on every line (e.g. the device id). */
  base?: Record<string, unknown>;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const dest = opts.stream ?? pino.destination({ dest: opts.file ?? 2, sync: true, mkdir: true, append: true });
  return pino({
    level: opts.level ?? 'info',
    base: { pid: process.pid, ...(opts.base ?? {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, dest);
}

/** A logger that drops everything (library use, tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
