/**
 * `edgegov compare --json | head` closes stdout before everything is written. Node then emits
 * EPIPE as an unhandled 'error' event: a stack trace and exit 1 for what is only the reader
 * being done. One-shot commands end quietly instead, with the exit code they had so far.
 * The long-running `run` and `serve` are left alone: their stdout going away (a restarted log
 * collector) must not stop a governor.
 */
const LONG_RUNNING = new Set(['run', 'serve']);

export function endQuietlyWhenStdoutCloses(command: string | undefined): void {
  if (command !== undefined && LONG_RUNNING.has(command)) return;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw err;
  });
}
