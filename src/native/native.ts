/**
 * Loads the addon with node-gyp-build (build/Release, build/Debug, then prebuilds/<platform>-
 * <arch>) and wraps it as a SensorBinding. `selectBinding()` picks native and falls back to the
 * TypeScript implementation with exactly one log line saying why.
 *
 *   EDGEGOV_NATIVE=required  no fallback: a missing/broken addon is an EnvError (exit 2)
 *   EDGEGOV_NATIVE=off       always the fallback (no log line: it was asked for)
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type {
  FileReader,
  FileSpec,
  PressureEvent,
  PressureWatchResult,
  SensorBinding,
} from './binding-interface.js';
import { errnoName, triggerText } from './binding-interface.js';
import { createFallbackBinding } from './fallback.js';
import { settleBy } from './fallback-offthread.js';
import { EnvError, UserError } from '../util/errors.js';

/** The raw addon surface (native/*.cc). */
export interface NativeAddon {
  readonly abiVersion: number;
  monotonicMs(): number;
  Reader: new (paths: string[], kinds: number[], groups?: number[], waitMs?: number) => FileReader & { settled(): boolean };
  PsiWatcher: new (cb: (id: number, kind: number, monoMs: number) => void) => {
    add(path: string, text: string): number;
    remove(id: number): boolean;
    close(): void;
    readonly count: number;
  };
  probeTrigger(path: string, text: string, withNul: boolean): number;
  /** SO_PEERCRED: `{pid, uid, gid}` or a negative errno. */
  peerCredentials?(fd: number): { pid: number; uid: number; gid: number } | number;
}

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const EXPECTED_ABI = 1;

export type LoadResult = { addon: NativeAddon; why?: undefined } | { addon?: undefined; why: string };

let cached: LoadResult | undefined;

/** Tries to load the addon once per process; never throws. */
export function loadNativeAddon(): LoadResult {
  if (cached) return cached;
  if (!['linux', 'android'].includes(process.platform)) {
    return (cached = { why: `platform ${process.platform} has no sysfs/PSI` });
  }
  try {
    const require = createRequire(import.meta.url);
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    const addon = nodeGypBuild(packageRoot) as NativeAddon;
    if (addon?.abiVersion !== EXPECTED_ABI) {
      return (cached = { why: `addon ABI ${String(addon?.abiVersion)} does not match ${EXPECTED_ABI}; rebuild it` });
    }
    return (cached = { addon });
  } catch (err) {
    const msg = (err as Error)?.message?.split('\n')[0] ?? String(err);
    return (cached = { why: /No native build was found/.test(msg) ? 'not built (no build/Release or prebuild)' : msg });
  }
}

/** True when the native addon is loadable in this process (tests use it for skipIf). */
export function nativeAvailable(): boolean {
  return loadNativeAddon().addon !== undefined;
}

export function createNativeBinding(addon: NativeAddon): SensorBinding {
  let watcher: InstanceType<NativeAddon['PsiWatcher']> | undefined;
  const listeners = new Map<number, (ev: PressureEvent) => void>();
  const dispatch = (id: number, kind: number, monoMs: number) => {
    const cb = listeners.get(id);
    if (!cb) return;
    if (kind === 1) listeners.delete(id);
    cb({ type: kind === 1 ? 'gone' : 'fired', monoMs });
  };
  return {
    name: 'native',
    openReader(files: readonly FileSpec[]): FileReader {
      const ids = new Map<string, number>();
      const groups = files.map((f) => (f.group === undefined ? -1 : ids.get(f.group) ?? (ids.set(f.group, ids.size), ids.size - 1)));
      const r = new addon.Reader(
        files.map((f) => f.path),
        files.map(
          (f) =>
            (f.kind === 'text' ? 1 : 0) |
            (f.group !== undefined && f.testAllowNonRegular ? 2 : 0) |
            (f.group !== undefined && f.testUninterruptible ? 4 : 0),
        ),
        groups,
        OFF_THREAD_WAIT_MS,
      );
      return {
        read: () => r.read(),
        get openCount() {
          return r.openCount;
        },
        settle: (timeoutMs) => settleBy(() => r.settled(), timeoutMs),
        close: () => r.close(),
      };
    },
    watchPressure(spec, cb): PressureWatchResult {
      watcher ??= new addon.PsiWatcher(dispatch);
      const id = watcher.add(spec.path, triggerText(spec));
      if (id < 0) return { ok: false, errno: -id, code: errnoName(-id) };
      listeners.set(id, cb);
      const w = watcher;
      return {
        ok: true,
        handle: {
          mechanism: 'kernel-trigger',
          spec,
          close: () => {
            listeners.delete(id);
            w.remove(id);
          },
        },
      };
    },
    peerCredentials(fd) {
      // Feature-detected rather than an ABI bump: an older prebuild still loads and says so.
      if (!addon.peerCredentials) return { ok: false, unsupported: true, why: 'this build of the native addon predates peerCredentials (rebuild it); access rests on the socket file mode 0660 and its group alone' };
      const r = addon.peerCredentials(fd);
      if (typeof r === 'number') return { ok: false, unsupported: false, why: `SO_PEERCRED on fd ${fd} failed: ${errnoName(-r)}` };
      return { ok: true, pid: r.pid, uid: r.uid, gid: r.gid };
    },
    close() {
      listeners.clear();
      watcher?.close();
      watcher = undefined;
    },
  };
}

/**
 * How long `read()` may wait for a group's fresh read (a normal sysfs battery read takes
 * tens of µs on the other thread). A group that is already slow or hung is never waited for.
 */
export const OFF_THREAD_WAIT_MS = 5;

let fallbackLogged = false;

const NATIVE_MODES = new Set(['auto', 'required', '1', 'off', '0']);

/**
 * The binding the daemon should use. `log` receives one line when the native addon was
 * expected but is not used. `env` is injectable for tests.
 */
export function selectBinding(
  opts: { log?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): SensorBinding {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const mode = (env.EDGEGOV_NATIVE || 'auto').toLowerCase();
  if (!NATIVE_MODES.has(mode)) {
    // A typo here would otherwise silently pick whatever the loader finds.
    throw new UserError(`EDGEGOV_NATIVE=${env.EDGEGOV_NATIVE}: not a mode; use required, off or auto (or 1, 0)`);
  }
  if (mode === 'off' || mode === '0') return createFallbackBinding();
  const r = loadNativeAddon();
  if (r.addon) return createNativeBinding(r.addon);
  if (mode === 'required' || mode === '1') {
    throw new EnvError(`native sensor addon required (EDGEGOV_NATIVE=required) but unavailable: ${r.why}`);
  }
  if (!fallbackLogged) {
    fallbackLogged = true; // one line per process, however many sources are opened
    log(`edgegov: native sensor addon unavailable (${r.why}); using the TypeScript fallback`);
  }
  return createFallbackBinding();
}
