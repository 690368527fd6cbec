/**
 * Where the daemon listens when `--socket` is not given: `$EDGEGOV_SOCKET`, else
 * `$XDG_RUNTIME_DIR/edgegov.sock` (a per-user 0700 directory under systemd), else
 * `/tmp/edgegov-<uid>.sock`. `status`, `reload` and the SDK use the same rule, so they
 * find the daemon without flags when run as the same user.
 */
import path from 'node:path';
import os from 'node:os';

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EDGEGOV_SOCKET) return env.EDGEGOV_SOCKET;
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'edgegov.sock');
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().uid;
  return path.join(os.tmpdir(), `edgegov-${uid}.sock`);
}
