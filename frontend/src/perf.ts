// Render timings of the game page: for each applied `events` message, the time from its arrival
// (and from the server's send time, when the message carries `sent`) to the frame that shows it.
// Read by the browser tests from `window.__pressboxPerf`; also recorded as User Timing measures.

export interface PerfSample {
  /** Seq of the last event of the message. */
  seq: number;
  arrival_to_render_ms: number;
  /** From the server's `sent` stamp (epoch ms) to the render; null when the message had none. */
  sent_to_render_ms: number | null;
}

export interface PerfClock {
  /** Monotonic ms (`performance.now()`). */
  now(): number;
  /** Wall-clock epoch ms, comparable with the server's `sent`. */
  epochNow(): number;
}

/** The User Timing calls used (so tests can pass a fake, or nothing). */
export interface Timeline {
  mark(name: string, options: { startTime: number; detail: unknown }): unknown;
  measure(name: string, options: { start: number; end: number; detail: unknown }): unknown;
  clearMarks(name: string): void;
  clearMeasures(name: string): void;
}

export const ARRIVAL_MARK = 'pressbox:events-arrived';
export const RENDER_MEASURE = 'pressbox:arrival-to-render';
/** Samples kept per page (a long game sends a few thousand messages). */
const MAX_SAMPLES = 20_000;

interface Pending {
  seq: number;
  arrival: number;
  sent: number | null;
}

export class RenderTimings {
  /** Collected samples, oldest first (exposed as `window.__pressboxPerf`). */
  readonly samples: PerfSample[] = [];
  /** Animation-frame time of every render (two equal entries would mean two renders in a frame). */
  readonly renderFrames: number[] = [];
  private pending: Pending[] = [];

  constructor(
    private readonly clock: PerfClock,
    private readonly timeline: Timeline | null = null,
  ) {}

  /** An `events` message whose last event is `seq` arrived `arrival` (monotonic ms). */
  arrived(seq: number, arrival: number): void {
    this.timeline?.mark(ARRIVAL_MARK, { startTime: arrival, detail: { seq } });
  }

  /** The message was applied to the shown state; it is measured at the next render. */
  applied(seq: number, arrival: number, sent: unknown): void {
    const stamp = typeof sent === 'number' && Number.isFinite(sent) ? sent : null;
    this.pending.push({ seq, arrival, sent: stamp });
  }

  /** Called at the end of a render, inside the animation frame `frameTime`. */
  rendered(frameTime: number): void {
    if (this.renderFrames.length < MAX_SAMPLES) this.renderFrames.push(frameTime);
    if (this.pending.length === 0) return;
    const end = this.clock.now();
    const epoch = this.clock.epochNow();
    for (const p of this.pending) {
      const sample: PerfSample = {
        seq: p.seq,
        arrival_to_render_ms: round(end - p.arrival),
        sent_to_render_ms: p.sent === null ? null : round(epoch - p.sent),
      };
      this.timeline?.measure(RENDER_MEASURE, { start: p.arrival, end, detail: sample });
      if (this.samples.length < MAX_SAMPLES) this.samples.push(sample);
    }
    this.pending = [];
  }

  /** Forgets the User Timing entries (leaving the page), so they do not pile up. */
  dispose(): void {
    this.pending = [];
    this.timeline?.clearMarks(ARRIVAL_MARK);
    this.timeline?.clearMeasures(RENDER_MEASURE);
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

export const browserPerfClock: PerfClock = {
  now: () => performance.now(),
  epochNow: () => performance.timeOrigin + performance.now(),
};

export function browserTimeline(): Timeline | null {
  if (typeof performance === 'undefined' || typeof performance.mark !== 'function') return null;
  return performance;
}

declare global {
  interface Window {
    /** The current game page's samples (see `RenderTimings.samples`). */
    __pressboxPerf?: PerfSample[];
    /** The current game page's render frame times (see `RenderTimings.renderFrames`). */
    __pressboxRenderFrames?: number[];
  }
}
