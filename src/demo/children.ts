/**
 * The demo's child processes (daemon, gateway): `node` run directly, each in its own process
 * group, stdout/stderr appended to a log file. Stopping is SIGTERM to the group, a wait for the
 * exit, then SIGKILL to whatever is left; the demo waits for every child before it exits. If
 * the demo itself dies first, an exit hook SIGKILLs the groups still alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';

export interface ChildExit { code: number | null; signal: NodeJS.Signals | null }

export interface DemoChild {
  readonly name: string;
  readonly pid: number;
  readonly proc: ChildProcess;
  readonly exited: Promise<ChildExit>;
  exit?: ChildExit;
  /** Resolves with the first stdout line matching `re` (or rejects on exit / timeout). */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  stop(graceMs?: number): Promise<ChildExit>;
}

const live = new Set<DemoChild>();
let hooked = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pid, signal); } catch { /* already gone */ }
}

export function spawnNode(name: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): DemoChild {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => { for (const c of live) killGroup(c.pid, 'SIGKILL'); });
  }
  const logFd = openSync(logFile, 'a');
  const proc = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', logFd], env });
  closeSync(logFd);
  if (proc.pid === undefined) throw new Error(`could not start ${name}`);
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  let partial = '';
  const out = openSync(logFile, 'a');
  proc.stdout!.on('data', (b: Buffer) => {
    writeSync(out, b);
    partial += b.toString('utf8');
    let cut: number;
    while ((cut = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, cut);
      partial = partial.slice(cut + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        const m = w.re.exec(line);
        if (m) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
      }
    }
  });
  const child: DemoChild = {
    name,
    pid: proc.pid,
    proc,
    exited: new Promise<ChildExit>((resolve) => {
      proc.on('exit', (code, signal) => {
        child.exit = { code, signal };
        live.delete(child);
        resolve(child.exit);
      });
    }),
    waitForLine(re, timeoutMs) {
      for (const l of lines) { const m = re.exec(l); if (m) return Promise.resolve(m); }
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${name} did not print ${re} within ${timeoutMs} ms`)), timeoutMs);
        const w = { re, resolve: (m: RegExpExecArray) => { clearTimeout(t); resolve(m); } };
        waiters.push(w);
        void child.exited.then((e) => {
          if (!waiters.includes(w)) return;
          clearTimeout(t);
          reject(new Error(`${name} exited (${e.signal ?? `code ${e.code}`}) before printing ${re}`));
        });
      });
    },
    async stop(graceMs = 8000) {
      if (child.exit) return child.exit;
      killGroup(child.pid, 'SIGTERM');
      const timer = new Promise<'late'>((r) => setTimeout(() => r('late'), graceMs).unref());
      if ((await Promise.race([child.exited, timer])) === 'late') killGroup(child.pid, 'SIGKILL');
      const e = await child.exited;
      // The group may hold more than the leader (none today): make sure nothing outlives it.
      killGroup(child.pid, 'SIGKILL');
      return e;
    },
  };
  void child.exited.then(() => { try { closeSync(out); } catch { /* closed */ } });
  live.add(child);
  return child;
}
