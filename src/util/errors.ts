/**
 * Errors a user can cause (exit 1) or the environment can cause (exit 2).
 * The CLI prints their message and nothing else: no stack trace for user mistakes.
 */
export class UserError extends Error {
  readonly exitCode = 1;
  constructor(message: string, readonly details: readonly string[] = []) {
    super(message);
    this.name = 'UserError';
  }
}

export class EnvError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'EnvError';
  }
}

/** Wraps a Node system error (ENOENT, EACCES, …) reading `path` as an EnvError. */
export function envErrorFrom(err: unknown, path: string): EnvError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT' ? 'no such file' :
    code === 'EACCES' || code === 'EPERM' ? 'permission denied' :
    code === 'EISDIR' ? 'is a directory' :
    (err as Error | undefined)?.message ?? String(err);
  return new EnvError(`${path}: ${why}`);
}
