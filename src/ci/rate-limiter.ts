/**
 * A token bucket per caller: `burst` requests at once, refilled at `perMinute`. A CI pipeline
 * stuck in a retry loop is slowed down instead of flooding Temporal with starts.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one request from the caller's bucket; returns the seconds to wait when it is empty. */
  take(caller: string): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const bucket = this.refilled(caller);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: this.secondsUntilOne(bucket) };
  }

  /** Like take, without taking: whether the caller's bucket has a request left. */
  peek(caller: string): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const bucket = this.refilled(caller);
    return bucket.tokens >= 1 ? { allowed: true } : { allowed: false, retryAfterSeconds: this.secondsUntilOne(bucket) };
  }

  private refilled(caller: string): { tokens: number; updatedAt: number } {
    const now = this.now();
    const bucket = this.buckets.get(caller) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 60_000) * this.perMinute);
    bucket.updatedAt = now;
    this.buckets.set(caller, bucket);
    return bucket;
  }

  private secondsUntilOne(bucket: { tokens: number }): number {
    return Math.ceil(((1 - bucket.tokens) / this.perMinute) * 60);
  }
}
