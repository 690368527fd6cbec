/**
 * The decision journal: one JSON object per line, appended with ONE `write(2)` per line on
 * an O_APPEND fd, so a crash (even `kill -9`) can never leave half a line from us — the
 * kernel has either taken the whole buffer into the page cache or none of it.
 *
 * Durability promise (docs/deploy.md): every line is durable against a process crash as
 * soon as `append()` returns (it is in the kernel). Against power loss, lines are durable
 * once fsynced: we `fdatasync` after every `fsyncEveryLines` lines or `fsyncEveryMs` ms,
 * whichever comes first, and before every rotation and at close. `syncedLines` (reported in
 * `status`) is the last fsync point.
 *
 * Rotation by size: when a line would take the file past `maxBytes`, the file is synced and
 * renamed `<file>.1` (older ones shift to `.2` … `.<keep>`), and a fresh file is opened —
 * always between lines.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface JournalOptions {
  file: string;
  maxBytes?: number;
  keep?: number;
  fsyncEveryLines?: number;
  fsyncEveryMs?: number;
}

export class Journal {
  readonly file: string;
  readonly maxBytes: number;
  readonly keep: number;
  readonly fsyncEveryLines: number;
  readonly fsyncEveryMs: number;
  private fd: number;
  private sizeBytes: number;
  private unsyncedLines = 0;
  private timer?: NodeJS.Timeout;
  /** Lines appended since start (all files). */
  lines = 0;
  /** Lines known durable (fsynced). */
  syncedLines = 0;
  lastSyncAt?: Date;
  rotations = 0;

  constructor(opts: JournalOptions) {
    this.file = opts.file;
    this.maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    this.keep = Math.max(1, opts.keep ?? 3);
    this.fsyncEveryLines = opts.fsyncEveryLines ?? 100;
    this.fsyncEveryMs = opts.fsyncEveryMs ?? 1000;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    // a+ = O_APPEND (every write lands at the end, whole) and readable for the tail check.
    this.fd = fs.openSync(this.file, 'a+', 0o640);
    this.sizeBytes = fs.fstatSync(this.fd).size;
    this.repairTail();
    this.timer = setInterval(() => this.sync(), this.fsyncEveryMs);
    this.timer.unref();
  }

  /**
   * A previous power loss may have left a partial last line; start ours on a fresh line
   * so they don't glue to it (readers skip the one unparsable line a power cut can leave).
   */
  private repairTail(): void {
    if (this.sizeBytes === 0) return;
    const b = Buffer.alloc(1);
    fs.readSync(this.fd, b, 0, 1, this.sizeBytes - 1);
    if (b[0] !== 0x0a) this.writeAll(Buffer.from('\n'));
  }

  private writeAll(buf: Buffer): void {
    // One write(2) for the whole line; a regular file takes it whole. The loop only
    // matters for the (theoretical) short write on a full disk.
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
    this.sizeBytes += buf.length;
  }

  append(record: object): void {
    const buf = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    if (this.sizeBytes > 0 && this.sizeBytes + buf.length > this.maxBytes) this.rotate();
    this.writeAll(buf);
    this.lines++;
    this.unsyncedLines++;
    if (this.unsyncedLines >= this.fsyncEveryLines) this.sync();
  }

  sync(): void {
    if (this.unsyncedLines === 0) return;
    fs.fdatasyncSync(this.fd);
    this.syncedLines = this.lines;
    this.unsyncedLines = 0;
    this.lastSyncAt = new Date();
  }

  private rotate(): void {
    this.sync();
    fs.closeSync(this.fd);
    for (let i = this.keep - 1; i >= 1; i--) {
      try { fs.renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`); } catch { /* absent */ }
    }
    fs.renameSync(this.file, `${this.file}.1`);
    try { fs.unlinkSync(`${this.file}.${this.keep + 1}`); } catch { /* absent */ }
    this.fd = fs.openSync(this.file, 'a', 0o640);
    this.sizeBytes = 0;
    this.rotations++;
  }

  close(): void {
    clearInterval(this.timer);
    try {
      this.sync();
      fs.closeSync(this.fd);
    } catch { /* already closed */ }
  }
}
