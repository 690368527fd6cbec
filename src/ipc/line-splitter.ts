/**
 * Splits a byte stream into `\n`-terminated lines with a hard cap on line length, so a
 * client can never make the daemon buffer an unbounded line (readline has no such cap).
 */
export type SplitResult = { lines: string[]; overflow: boolean };

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** Feeds a chunk; returns the complete lines in it, or `overflow` when a line passed the cap. */
  push(chunk: Buffer): SplitResult {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const partBytes = nl - start;
      if (this.pendingBytes + partBytes > this.maxLineBytes) return { lines, overflow: true };
      let line: Buffer;
      if (this.pendingBytes) {
        this.pending.push(chunk.subarray(start, nl));
        line = Buffer.concat(this.pending, this.pendingBytes + partBytes);
        this.pending = [];
        this.pendingBytes = 0;
      } else {
        line = chunk.subarray(start, nl);
      }
      // Tolerate CRLF from hand-typed clients (socat, nc).
      let end = line.length;
      if (end > 0 && line[end - 1] === 0x0d) end--;
      if (end > 0) lines.push(line.toString('utf8', 0, end));
      start = nl + 1;
    }
    const rest = chunk.length - start;
    if (rest > 0) {
      if (this.pendingBytes + rest > this.maxLineBytes) return { lines, overflow: true };
      // Copy: the socket may reuse its chunk buffers.
      this.pending.push(Buffer.from(chunk.subarray(start)));
      this.pendingBytes += rest;
    }
    return { lines, overflow: false };
  }
}
