import { describe, expect, it } from 'vitest';

import {
  DELAY_STORAGE_KEY,
  DelayLine,
  loadDelaySeconds,
  parseDelaySeconds,
  saveDelaySeconds,
} from './delay';

class FakeClock {
  time = 1_000;
  now(): number {
    return this.time;
  }
}

class MemoryStorage {
  values = new Map<string, string>();
  getItem(key: string): string | null {
    return this.values.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.values.set(key, value);
  }
}

describe('DelayLine', () => {
  it('releases each item once its delay has passed since it arrived, in order', () => {
    const clock = new FakeClock();
    const line = new DelayLine<string>(5_000, clock);
    line.push('a', 2);
    clock.time += 1_000;
    line.push('b', 3);
    expect(line.held).toBe(5);
    expect(line.size).toBe(2);
    expect(line.takeDue()).toEqual([]);
    expect(line.nextDueAt()).toBe(6_000);

    clock.time = 5_999;
    expect(line.takeDue()).toEqual([]);
    clock.time = 6_000;
    expect(line.takeDue()).toEqual(['a']);
    expect(line.held).toBe(3);
    expect(line.nextDueAt()).toBe(7_000);

    clock.time = 10_000;
    expect(line.takeDue()).toEqual(['b']);
    expect(line.held).toBe(0);
    expect(line.nextDueAt()).toBeNull();
  });

  it('with no delay releases everything at once', () => {
    const clock = new FakeClock();
    const line = new DelayLine<number>(0, clock);
    line.push(1);
    line.push(2);
    expect(line.takeDue()).toEqual([1, 2]);
    expect(line.size).toBe(0);
  });

  it('a shorter delay releases held items sooner, a longer one holds them longer', () => {
    const clock = new FakeClock();
    const line = new DelayLine<string>(30_000, clock);
    line.push('old');
    clock.time += 10_000;
    line.push('new');
    line.setDelay(10_000);
    expect(line.takeDue()).toEqual(['old']);
    line.setDelay(60_000);
    clock.time += 20_000;
    expect(line.takeDue()).toEqual([]);
    expect(line.nextDueAt()).toBe(11_000 + 60_000);
    line.setDelay(0);
    expect(line.takeDue()).toEqual(['new']);
  });

  it('never releases out of order, even if an older item would be due later', () => {
    const clock = new FakeClock();
    const line = new DelayLine<string>(1_000, clock);
    line.push('first');
    line.push('second');
    clock.time += 1_000;
    expect(line.takeDue()).toEqual(['first', 'second']);
  });

  it('clears what it holds and ignores negative delays', () => {
    const clock = new FakeClock();
    const line = new DelayLine<string>(-5, clock);
    expect(line.delayMs).toBe(0);
    line.setDelay(1_000);
    line.push('x', 4);
    line.clear();
    expect(line.held).toBe(0);
    expect(line.nextDueAt()).toBeNull();
  });
});

describe('delay setting', () => {
  it('accepts whole seconds from 0 to 600 only', () => {
    expect(parseDelaySeconds('0')).toBe(0);
    expect(parseDelaySeconds(' 45 ')).toBe(45);
    expect(parseDelaySeconds(600)).toBe(600);
    expect(parseDelaySeconds('601')).toBeNull();
    expect(parseDelaySeconds('-1')).toBeNull();
    expect(parseDelaySeconds('2.5')).toBeNull();
    expect(parseDelaySeconds('')).toBeNull();
    expect(parseDelaySeconds('1e2')).toBeNull();
  });

  it('persists in storage and falls back to 0', () => {
    const storage = new MemoryStorage();
    expect(loadDelaySeconds(storage)).toBe(0);
    expect(saveDelaySeconds(storage, 30)).toBe(true);
    expect(storage.values.get(DELAY_STORAGE_KEY)).toBe('30');
    expect(loadDelaySeconds(storage)).toBe(30);
    storage.setItem(DELAY_STORAGE_KEY, 'junk');
    expect(loadDelaySeconds(storage)).toBe(0);
    expect(loadDelaySeconds(null)).toBe(0);
  });

  it('survives a browser that refuses storage', () => {
    const refusing = {
      getItem(): string | null {
        throw new Error('SecurityError');
      },
      setItem(): void {
        throw new Error('QuotaExceededError');
      },
    };
    expect(loadDelaySeconds(refusing)).toBe(0);
    expect(saveDelaySeconds(refusing, 10)).toBe(false);
    expect(saveDelaySeconds(null, 10)).toBe(false);
  });
});
