// Reconnect delays: exponential backoff with "full jitter"
// (delay = random(0, min(cap, base * 2^attempt))), see
// https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/

export interface BackoffOptions {
  /** Ceiling of the first delay, in ms. */
  baseMs: number;
  /** Largest ceiling, in ms. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 15_000 };

/** Upper bound of the delay for a given attempt (0-based). */
export function backoffCeiling(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const exponent = Math.max(0, Math.floor(attempt));
  // 2^exponent overflows to Infinity for huge attempts; min() keeps it at the cap.
  return Math.min(options.capMs, options.baseMs * 2 ** exponent);
}

/** A delay in [0, ceiling) for a given attempt; `random` returns a number in [0, 1). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * backoffCeiling(attempt, options));
}

/** Stateful helper: `next()` gives the next delay, `reset()` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** Number of delays handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  next(): number {
    const delay = backoffDelay(this.attempt, this.options, this.random);
    this.attempt += 1;
    return delay;
  }

  /**
   * A delay of at least `floorMs` (the server said it is busy): full jitter over
   * [floorMs, max(2 * floorMs, ceiling)), so a reconnect storm spreads out and still backs off.
   */
  nextAtLeast(floorMs: number): number {
    const ceiling = Math.max(2 * floorMs, backoffCeiling(this.attempt, this.options));
    const delay = floorMs + Math.floor(this.random() * (ceiling - floorMs));
    this.attempt += 1;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }
}
