import { describe, expect, it } from 'vitest';

import { frameScheduler } from './frame';

describe('frameScheduler', () => {
  it('renders once per frame however many changes were scheduled', () => {
    const frames: FrameRequestCallback[] = [];
    let renders = 0;
    const scheduler = frameScheduler(
      () => renders++,
      (cb) => frames.push(cb),
      () => {},
    );
    for (let i = 0; i < 100; i++) scheduler.schedule();
    expect(frames).toHaveLength(1);
    frames.shift()?.(0);
    expect(renders).toBe(1);
    scheduler.schedule();
    expect(frames).toHaveLength(1);
  });

  it('cancel drops the pending frame', () => {
    const cancelled: number[] = [];
    const scheduler = frameScheduler(
      () => {},
      () => 7,
      (h) => cancelled.push(h),
    );
    scheduler.schedule();
    scheduler.cancel();
    expect(cancelled).toEqual([7]);
  });
});
