/**
 * The one typed interface between edgegov's sensor logic and whatever reads the files.
 * Three implementations: the native addon (`native.ts`), the pure-TS fallback (`fallback.ts`)
 * and an in-memory mock for tests (`mock.ts`). Consumers take a `SensorBinding` as a
 * defaulted parameter (the serialport pattern, research 04 §1.2) so tests inject the mock.
 */

/** How a file's content is returned: parsed as one integer, or as text. */
export type FileKind = 'int' | 'text';

export interface FileSpec {
  readonly path: string;
  readonly kind: FileKind;
  /**
   * Files that may stall (a fuel gauge on a wedged I2C bus, a modem zone) name a group: each
   * group is read away from the caller's thread (the addon's own thread per group; a worker in
   * the fallback), and `read()` returns that group's last completed values instead of waiting
   * on the driver. Files without a group are read in the call itself (the fast path).
   */
  readonly group?: string;
  /**
   * TEST HOOK ONLY: accept a FIFO or tty as if it were a regular file, so a test can stand in
   * a read that genuinely blocks. Discovery never sets it. Only honoured for grouped files.
   */
  readonly testAllowNonRegular?: boolean;
  /**
   * TEST HOOK ONLY (native): read that stand-in without the stop-aware poll, so the thread sits
   * in read() as on a wedged regular file that nothing can interrupt — exercises close() and
   * process/worker exit with a thread that cannot be joined.
   */
  readonly testUninterruptible?: boolean;
}

/**
 * One batched read. Per file i: `errnos[i]` is 0 on success, else the errno of the open or the
 * read (ENODATA for an empty read, EBADMSG for an integer file that did not parse, ESPIPE for a
 * file that is not a regular file and was never opened). `values[i]` is the integer (or NaN),
 * `texts[i]` the content of a text file (or undefined). Never throws for a read error.
 */
export interface ReadBatch {
  readonly values: ArrayLike<number>;
  readonly errnos: ArrayLike<number>;
  readonly texts: ReadonlyArray<string | undefined>;
  /** Time each file's read took, µs (0 for files not read); feeds the slow-read watchdog. */
  readonly durationsUs?: ArrayLike<number>;
  /** Grouped files: ms since the returned value was read (NaN: never yet); 0 for the rest. */
  readonly ageMs?: ArrayLike<number>;
  /** Grouped files: ms the read now in flight has been waiting on its driver; 0 when none is. */
  readonly pendingMs?: ArrayLike<number>;
}

export interface FileReader {
  read(): ReadBatch;
  /** Number of files held open (for leak checks and inventory). */
  readonly openCount: number;
  /**
   * Resolves true once every grouped file has completed its first read (false after
   * `timeoutMs`): lets an async open hand out a first snapshot with battery values in it.
   */
  settle?(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** A PSI trigger, written to a pressure file as `<kind> <stallUs> <windowUs>`. */
export interface PressureTriggerSpec {
  readonly path: string;
  readonly kind: 'some' | 'full';
  readonly stallUs: number;
  readonly windowUs: number;
}

export interface PressureEvent {
  /** `fired`: the stall threshold was crossed; `gone`: the trigger died (POLLERR) and was dropped. */
  readonly type: 'fired' | 'gone';
  /** CLOCK_MONOTONIC time the event was observed (same clock as `process.hrtime`), ms. */
  readonly monoMs: number;
}

/** Result of arming a trigger: either a live handle or the errno that refused it. */
export type PressureWatchResult =
  | { readonly ok: true; readonly handle: PressureWatchHandle }
  | { readonly ok: false; readonly errno: number; readonly code: string };

export interface PressureWatchHandle {
  /** `kernel-trigger` for a real PSI trigger, `poll-total` for the fallback that polls `total=`. */
  readonly mechanism: 'kernel-trigger' | 'poll-total';
  readonly spec: PressureTriggerSpec;
  close(): void;
}

/** The credentials of a Unix-socket peer, as the kernel recorded them at connect time. */
export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

/**
 * `ok: false` when the binding cannot ask the kernel (the TS fallback: Node has no API for
 * SO_PEERCRED) or the kernel refused; `why` says so and what access then rests on.
 */
export type PeerCredentialsResult =
  | ({ readonly ok: true } & PeerCredentials)
  | { readonly ok: false; readonly why: string; /** true: this binding can never ask; false: the kernel refused for this fd. */ readonly unsupported: boolean };

export interface SensorBinding {
  /** `native`, `fallback` or `mock`: shown in inventory, logs and metrics. */
  readonly name: 'native' | 'fallback' | 'mock';
  openReader(files: readonly FileSpec[]): FileReader;
  /**
   * Arms one trigger. Never throws for a kernel refusal: returns the errno instead.
   * EOPNOTSUPP when the path is not a procfs/cgroup2 pressure file (e.g. a fixture tree):
   * nothing is written to it.
   */
  watchPressure(spec: PressureTriggerSpec, cb: (ev: PressureEvent) => void): PressureWatchResult;
  /** SO_PEERCRED of a connected Unix-domain socket's fd (the IPC server's access check). */
  peerCredentials(fd: number): PeerCredentialsResult;
  /** Releases threads and fds the binding holds for pressure watching (idempotent). */
  close(): void;
}

/** The trigger text the kernel expects (without the NUL; the implementations add it). */
export function triggerText(spec: PressureTriggerSpec): string {
  return `${spec.kind} ${Math.round(spec.stallUs)} ${Math.round(spec.windowUs)}`;
}

/** Linux errno numbers used across the implementations (asm-generic/errno*.h). */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  EACCES: 13,
  EBUSY: 16,
  ENODEV: 19,
  EINVAL: 22,
  ESPIPE: 29,
  EROFS: 30,
  ENODATA: 61,
  EBADMSG: 74,
  EOPNOTSUPP: 95,
  ENOTSOCK: 88,
  ENOPROTOOPT: 92,
  ESTALE: 116,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(ERRNO).map(([k, v]) => [v, k]));

export function errnoName(errno: number): string {
  return NAMES[errno] ?? `errno ${errno}`;
}

/** Node's fs errors carry a negative `errno` and a string `code`; normalise to a positive errno. */
export function errnoOf(err: unknown): number {
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code && e.code in ERRNO) return ERRNO[e.code as keyof typeof ERRNO];
  if (typeof e?.errno === 'number') return Math.abs(e.errno);
  return ERRNO.EIO;
}
