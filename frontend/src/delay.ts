// Viewer delay ("spoiler sync"): what the server sends is held until `delay` has passed since it
// arrived, so the page matches a TV stream that lags the data. Pure: the clock is injected.

export const MAX_DELAY_SECONDS = 600;
export const DELAY_STORAGE_KEY = 'pressbox.viewerDelaySeconds';

/** Milliseconds on a monotonic clock (`performance.now()` in the browser). */
export interface MonotonicClock {
  now(): number;
}

interface Held<T> {
  item: T;
  arrivedAt: number;
  weight: number;
}

/**
 * A first-in first-out line that releases each item `delayMs` after it was pushed. Items keep
 * their order; changing the delay re-times everything still held (shorter releases sooner).
 */
export class DelayLine<T> {
  private queue: Held<T>[] = [];
  private weight = 0;

  constructor(
    private delay: number,
    private readonly clock: MonotonicClock,
  ) {
    this.delay = Math.max(0, delay);
  }

  get delayMs(): number {
    return this.delay;
  }

  /** Sum of the weights of the held items (the page weighs a batch by its number of events). */
  get held(): number {
    return this.weight;
  }

  /** Number of held items. */
  get size(): number {
    return this.queue.length;
  }

  /** Holds `item` from now; `weight` counts towards `held`. */
  push(item: T, weight = 1): void {
    this.queue.push({ item, arrivedAt: this.clock.now(), weight });
    this.weight += weight;
  }

  /** Removes and returns the items whose delay has passed, oldest first. */
  takeDue(): T[] {
    const now = this.clock.now();
    let due = 0;
    while (due < this.queue.length && (this.queue[due] as Held<T>).arrivedAt + this.delay <= now) due++;
    if (due === 0) return [];
    const released = this.queue.splice(0, due);
    for (const held of released) this.weight -= held.weight;
    return released.map((held) => held.item);
  }

  /** When the oldest held item is due (clock ms), or null when nothing is held. */
  nextDueAt(): number | null {
    const first = this.queue[0];
    return first === undefined ? null : first.arrivedAt + this.delay;
  }

  setDelay(delayMs: number): void {
    this.delay = Math.max(0, delayMs);
  }

  clear(): void {
    this.queue = [];
    this.weight = 0;
  }
}

/** Whole seconds in 0..600 from what a viewer typed, or null if it is not one. */
export function parseDelaySeconds(input: string | number): number | null {
  const text = String(input).trim();
  if (!/^\d+$/.test(text)) return null;
  const seconds = Number(text);
  return seconds <= MAX_DELAY_SECONDS ? seconds : null;
}

/** The saved delay; 0 when none was saved, the value is invalid, or storage is unavailable. */
export function loadDelaySeconds(storage: Pick<Storage, 'getItem'> | null): number {
  try {
    const saved = storage?.getItem(DELAY_STORAGE_KEY);
    return (saved === null || saved === undefined ? null : parseDelaySeconds(saved)) ?? 0;
  } catch {
    return 0; // storage disabled (privacy settings)
  }
}

/** Saves the delay for every game; returns false when the browser refuses to store it. */
export function saveDelaySeconds(storage: Pick<Storage, 'setItem'> | null, seconds: number): boolean {
  try {
    if (storage === null) return false;
    storage.setItem(DELAY_STORAGE_KEY, String(seconds));
    return true;
  } catch {
    return false;
  }
}

/** The storage the page uses, or null when the browser forbids it. */
export function browserLocalStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
