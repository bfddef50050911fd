import { describe, expect, it } from 'vitest';

import { Backoff, backoffCeiling, backoffDelay, DEFAULT_BACKOFF } from './backoff';

describe('backoffCeiling', () => {
  it('doubles from the base up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffCeiling(n))).toEqual([
      500, 1000, 2000, 4000, 8000, 15000, 15000, 15000,
    ]);
  });

  it('stays at the cap for huge attempt numbers and treats bad input as 0', () => {
    expect(backoffCeiling(10_000)).toBe(15_000);
    expect(backoffCeiling(-3)).toBe(500);
  });
});

describe('backoffDelay', () => {
  it('is full jitter: anywhere in [0, ceiling)', () => {
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5)).toBe(2000);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.999999)).toBe(3999);
    expect(backoffDelay(50, DEFAULT_BACKOFF, () => 0.999999)).toBeLessThan(15_000);
  });

  it('stays within bounds with the real random source', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = backoffCeiling(attempt);
      for (let i = 0; i < 200; i++) {
        const delay = backoffDelay(attempt);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
  });

  it('spreads delays over the range (not a fixed value)', () => {
    const delays = new Set(Array.from({ length: 100 }, () => backoffDelay(6)));
    expect(delays.size).toBeGreaterThan(50);
  });
});

describe('Backoff', () => {
  it('grows with each attempt and starts over after reset', () => {
    const backoff = new Backoff({ baseMs: 500, capMs: 15_000 }, () => 0.5);
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([250, 500, 1000, 2000]);
    expect(backoff.attempts).toBe(4);
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBe(250);
  });

  it('never exceeds the cap', () => {
    const backoff = new Backoff(DEFAULT_BACKOFF, () => 0.9999);
    for (let i = 0; i < 40; i++) expect(backoff.next()).toBeLessThan(15_000);
  });
});

describe('Backoff.nextAtLeast', () => {
  it('waits at least the floor, with jitter up to the larger of twice it and the ceiling', () => {
    const low = new Backoff(DEFAULT_BACKOFF, () => 0);
    expect([low.nextAtLeast(2000), low.nextAtLeast(2000)]).toEqual([2000, 2000]);
    const high = new Backoff(DEFAULT_BACKOFF, () => 0.999999);
    const waits = [0, 1, 2, 3, 4, 5, 6].map(() => high.nextAtLeast(2000));
    expect(waits).toEqual([3999, 3999, 3999, 3999, 7999, 14999, 14999]);
    expect(high.attempts).toBe(7);
    high.reset();
    expect(high.nextAtLeast(2000)).toBe(3999);
  });
});
