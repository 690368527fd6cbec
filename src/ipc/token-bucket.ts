/**
 * A token bucket: `capacity` messages at once, refilled at `ratePerS`. Time is passed in so
 * the bucket is deterministic under test.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(private readonly capacity: number, private readonly ratePerS: number, nowMs: number) {
    this.tokens = capacity;
    this.lastMs = nowMs;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    const elapsedMs = Math.max(0, nowMs - this.lastMs);
    this.lastMs = nowMs;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs * this.ratePerS) / 1000);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}
