import { describe, expect, it } from 'vitest';

import { ARRIVAL_MARK, RENDER_MEASURE, RenderTimings, type Timeline } from './perf';

class FakeClock {
  time = 100;
  epoch = 1_700_000_000_000;
  now(): number {
    return this.time;
  }
  epochNow(): number {
    return this.epoch;
  }
}

class FakeTimeline implements Timeline {
  marks: { name: string; startTime: number }[] = [];
  measures: { name: string; start: number; end: number }[] = [];
  cleared: string[] = [];
  mark(name: string, options: { startTime: number }): void {
    this.marks.push({ name, startTime: options.startTime });
  }
  measure(name: string, options: { start: number; end: number }): void {
    this.measures.push({ name, ...options });
  }
  clearMarks(name: string): void {
    this.cleared.push(name);
  }
  clearMeasures(name: string): void {
    this.cleared.push(name);
  }
}

describe('RenderTimings', () => {
  it('measures each applied message from its arrival (and send time) to the next render', () => {
    const clock = new FakeClock();
    const timeline = new FakeTimeline();
    const timings = new RenderTimings(clock, timeline);
    timings.arrived(5, 100);
    timings.applied(5, 100, clock.epoch - 30);
    clock.time = 104;
    timings.arrived(7, 104);
    timings.applied(7, 104, undefined);
    clock.time = 116.5;
    clock.epoch += 16.5;
    timings.rendered(116);

    expect(timings.samples).toEqual([
      { seq: 5, arrival_to_render_ms: 16.5, sent_to_render_ms: 46.5 },
      { seq: 7, arrival_to_render_ms: 12.5, sent_to_render_ms: null },
    ]);
    expect(timings.renderFrames).toEqual([116]);
    expect(timeline.marks).toEqual([
      { name: ARRIVAL_MARK, startTime: 100 },
      { name: ARRIVAL_MARK, startTime: 104 },
    ]);
    expect(timeline.measures.map((m) => [m.name, m.start, m.end])).toEqual([
      [RENDER_MEASURE, 100, 116.5],
      [RENDER_MEASURE, 104, 116.5],
    ]);

    // Nothing pending: a render adds a frame but no sample.
    timings.rendered(133);
    expect(timings.samples).toHaveLength(2);
    expect(timings.renderFrames).toEqual([116, 133]);
  });

  it('ignores a send time that is not a number', () => {
    const timings = new RenderTimings(new FakeClock());
    timings.applied(1, 100, '1700000000000');
    timings.rendered(0);
    expect(timings.samples[0]?.sent_to_render_ms).toBeNull();
  });

  it('clears its timeline entries when disposed', () => {
    const timeline = new FakeTimeline();
    const timings = new RenderTimings(new FakeClock(), timeline);
    timings.applied(1, 100, null);
    timings.dispose();
    timings.rendered(0);
    expect(timings.samples).toEqual([]);
    expect(timeline.cleared).toEqual([ARRIVAL_MARK, RENDER_MEASURE]);
  });
});
