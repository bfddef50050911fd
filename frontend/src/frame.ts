// Coalesces any number of state changes into at most one render per animation frame.

export interface FrameScheduler {
  /** Asks for a render on the next animation frame (no-op if one is already pending). */
  schedule(): void;
  /** Drops a pending render. */
  cancel(): void;
}

/** `render` gets the animation frame's timestamp. */
export function frameScheduler(
  render: (frameTime: number) => void,
  requestFrame: (cb: FrameRequestCallback) => number = (cb) => requestAnimationFrame(cb),
  cancelFrame: (handle: number) => void = (handle) => cancelAnimationFrame(handle),
): FrameScheduler {
  let pending: number | null = null;
  return {
    schedule() {
      if (pending !== null) return;
      pending = requestFrame((frameTime) => {
        pending = null;
        render(frameTime);
      });
    },
    cancel() {
      if (pending === null) return;
      cancelFrame(pending);
      pending = null;
    },
  };
}
