// The live WebSocket of one game (`WS /ws/live/{id}`): resume after `?after=<last seq>`,
// reconnect with backoff, gap detection, unknown-game handling, stale-connection watchdog.
//
// The connection does not own the game state: it asks the caller for the last applied seq and
// hands it snapshots and event batches to apply (see state.ts).

import { Backoff } from './backoff';
import type { GameEvent, ServerMessage, Snapshot } from './types';

export type ConnectionState = 'connected' | 'reconnecting' | 'offline';

export interface ConnectionInfo {
  state: ConnectionState;
  /** Health of the ESPN source from the last `status` message (null: not reported yet). */
  espn: string | null;
  /** Stream status from the last `status` message, e.g. "Active". */
  stream: string | null;
  /** The failing ESPN documents from the last `status` message. */
  degraded: readonly string[];
  /** ESPN documents not published yet (only 404 so far). */
  unpublished: readonly string[];
  /** The market line's state from the last `status` message: live, absent, stale, unknown. */
  market: string | null;
  /** Why (a reason, else the Kalshi event ticker) from the last `status` message. */
  marketDetail: string | null;
  /** Consecutive connection attempts that ended without hearing from the server. */
  failures: number;
  /** When the next attempt is due (epoch ms), while waiting to reconnect. */
  retryAt: number | null;
  /** Set when the server said the game does not exist (close code 4404): no more attempts. */
  unknownGame: boolean;
}

export type ApplyOutcome = 'ok' | 'gap';

export interface LiveHandlers {
  /** Seq of the last applied event, or null when there is no state yet (no snapshot). */
  lastSeq(): number | null;
  snapshot(snapshot: Snapshot): void;
  /**
   * Applies a batch; 'gap' if it does not continue the applied seqs (the connection resumes).
   * `message` is the whole `events` message (for its optional `sent` stamp).
   */
  events(events: GameEvent[], message?: Extract<ServerMessage, { type: 'events' }>): ApplyOutcome;
  connection(info: ConnectionInfo): void;
}

/** The part of the browser WebSocket the connection uses (so tests can pass a fake). */
export interface SocketLike {
  onopen: ((ev: Event) => unknown) | null;
  onmessage: ((ev: MessageEvent) => unknown) | null;
  onclose: ((ev: CloseEvent) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export interface LiveOptions {
  /** Page location (for ws:/wss: and host). Defaults to `window.location`. */
  location?: Pick<Location, 'protocol' | 'host'>;
  openSocket?: (url: string) => SocketLike;
  backoff?: Backoff;
  timers?: Timers;
  /** Drop and reconnect when nothing arrived for this long (heartbeats come every 15 s). */
  staleAfterMs?: number;
  /** Show "offline" after this many consecutive failed attempts. */
  offlineAfterFailures?: number;
  /** Send a `ping` this often: the server closes a client silent for its dead-peer time (60 s). */
  pingEveryMs?: number;
  /** Least wait before reconnecting after the server said it is busy (1013, 4429). */
  busyDelayMs?: number;
  isOnline?: () => boolean;
}

export const CLOSE_UNKNOWN_GAME = 4404;
/** The server does not allow this page's origin: retrying cannot help. */
export const CLOSE_ORIGIN_REFUSED = 4403;
/** The server is full or refuses a connection storm: back off longer. */
export const CLOSE_TRY_LATER = 1013;
/** Too many connections from this address: back off longer. */
export const CLOSE_TOO_MANY_FROM_IP = 4429;
// Others (1001 shutting down, 1011, 4008 slow consumer, 4408 dead peer) reconnect with `after`.
const CLOSE_NORMAL = 1000;
/** Private close code the client uses when it drops a connection to resume elsewhere. */
const CLOSE_CLIENT_RESUME = 4000;

/** `ws(s)://host/ws/live/{id}[?after=N]` for the page's own host. */
export function liveUrl(
  location: Pick<Location, 'protocol' | 'host'>,
  gameId: string,
  after: number | null,
): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = after === null ? '' : `?after=${after}`;
  return `${scheme}//${location.host}/ws/live/${encodeURIComponent(gameId)}${query}`;
}

const browserTimers: Timers = {
  setTimeout: (fn, ms) => window.setTimeout(fn, ms),
  clearTimeout: (handle) => window.clearTimeout(handle as number),
  now: () => Date.now(),
};

export class LiveConnection {
  private socket: SocketLike | null = null;
  private heardOnSocket = false;
  private retryTimer: unknown = null;
  private staleTimer: unknown = null;
  private pingTimer: unknown = null;
  private stopped = false;
  private info: ConnectionInfo = {
    state: 'reconnecting',
    espn: null,
    stream: null,
    degraded: [],
    unpublished: [],
    market: null,
    marketDetail: null,
    failures: 0,
    retryAt: null,
    unknownGame: false,
  };

  private readonly location: Pick<Location, 'protocol' | 'host'>;
  private readonly openSocket: (url: string) => SocketLike;
  private readonly backoff: Backoff;
  private readonly timers: Timers;
  private readonly staleAfterMs: number;
  private readonly offlineAfterFailures: number;
  private readonly pingEveryMs: number;
  private readonly busyDelayMs: number;
  private readonly isOnline: () => boolean;

  constructor(
    private readonly gameId: string,
    private readonly handlers: LiveHandlers,
    options: LiveOptions = {},
  ) {
    this.location = options.location ?? window.location;
    this.openSocket = options.openSocket ?? ((url) => new WebSocket(url));
    this.backoff = options.backoff ?? new Backoff();
    this.timers = options.timers ?? browserTimers;
    this.staleAfterMs = options.staleAfterMs ?? 40_000;
    this.offlineAfterFailures = options.offlineAfterFailures ?? 3;
    this.pingEveryMs = options.pingEveryMs ?? 15_000;
    this.busyDelayMs = options.busyDelayMs ?? 2_000;
    this.isOnline = options.isOnline ?? (() => navigator.onLine !== false);
  }

  get connection(): ConnectionInfo {
    return this.info;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Closes the socket for good (leaving the page). */
  stop(): void {
    this.stopped = true;
    this.clearRetry();
    this.clearStale();
    this.dropSocket(CLOSE_NORMAL, 'client leaving');
  }

  /** Skips the remaining backoff delay (e.g. the browser came back online). */
  retryNow(): void {
    if (this.stopped || this.retryTimer === null) return;
    this.clearRetry();
    this.connect();
  }

  private connect(): void {
    this.clearRetry();
    const url = liveUrl(this.location, this.gameId, this.handlers.lastSeq());
    let socket: SocketLike;
    try {
      socket = this.openSocket(url);
    } catch {
      this.scheduleReconnect(); // e.g. a malformed URL or a blocked scheme
      return;
    }
    this.socket = socket;
    this.heardOnSocket = false;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.armStale();
      this.armPing();
      this.update({ state: 'connected', retryAt: null });
    };
    socket.onmessage = (ev) => {
      if (socket === this.socket) this.onMessage(ev.data);
    };
    socket.onclose = (ev) => {
      if (socket === this.socket) this.onClose(ev.code);
    };
    socket.onerror = () => {
      // A close event always follows; reconnecting is handled there.
    };
  }

  private onMessage(raw: unknown): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(String(raw)) as ServerMessage;
    } catch {
      console.warn('pressbox: ignoring a non-JSON message');
      return;
    }
    this.heardOnSocket = true;
    this.armStale();
    const heard: Partial<ConnectionInfo> = { state: 'connected', failures: 0, retryAt: null };
    switch (message.type) {
      case 'snapshot':
        this.handlers.snapshot(message.snapshot);
        this.backoff.reset();
        break;
      case 'events': {
        const outcome = this.handlers.lastSeq() === null ? 'gap' : this.handlers.events(message.events, message);
        if (outcome === 'gap') {
          // Missed something: resume from what was applied (a snapshot if nothing was).
          this.dropSocket(CLOSE_CLIENT_RESUME, 'resume after gap');
          this.update(heard);
          this.scheduleReconnect();
          return;
        }
        this.backoff.reset();
        break;
      }
      case 'status':
        heard.espn = message.espn;
        heard.stream = message.stream;
        heard.degraded = message.degraded ?? [];
        heard.unpublished = message.unpublished ?? [];
        heard.market = message.market ?? null;
        heard.marketDetail = message.market_detail ?? null;
        break;
      case 'heartbeat':
      case 'pong':
        break;
      case 'error':
        console.warn(`pressbox: server refused a message: ${message.code}: ${message.message}`);
        break;
      default:
        break; // newer message types are ignored
    }
    this.update(heard);
  }

  private onClose(code: number): void {
    this.socket = null;
    this.clearStale();
    this.clearPing();
    if (code === CLOSE_UNKNOWN_GAME || code === CLOSE_ORIGIN_REFUSED) {
      this.stopped = true;
      this.update({ state: 'offline', unknownGame: code === CLOSE_UNKNOWN_GAME, retryAt: null });
      return;
    }
    if (!this.heardOnSocket) this.info = { ...this.info, failures: this.info.failures + 1 };
    this.scheduleReconnect(code === CLOSE_TRY_LATER || code === CLOSE_TOO_MANY_FROM_IP);
  }

  /** `busy`: the server asked to come back later, so wait at least `busyDelayMs`. */
  private scheduleReconnect(busy = false): void {
    if (this.stopped || this.retryTimer !== null) return;
    const delay = busy ? this.backoff.nextAtLeast(this.busyDelayMs) : this.backoff.next();
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.connect();
    }, delay);
    const offline = this.info.failures >= this.offlineAfterFailures || !this.isOnline();
    this.update({ state: offline ? 'offline' : 'reconnecting', retryAt: this.timers.now() + delay });
  }

  /** Forgets the current socket (its late events are ignored) and closes it. */
  private dropSocket(code: number, reason: string): void {
    const socket = this.socket;
    this.socket = null;
    this.clearStale();
    this.clearPing();
    if (socket === null) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close(code, reason);
    } catch {
      // already closed
    }
  }

  private armStale(): void {
    this.clearStale();
    this.staleTimer = this.timers.setTimeout(() => {
      this.staleTimer = null;
      if (this.socket === null) return;
      this.dropSocket(CLOSE_CLIENT_RESUME, 'no heartbeat');
      this.scheduleReconnect();
    }, this.staleAfterMs);
  }

  /** Liveness the other way: the server closes (4408) a client that sends nothing. */
  private armPing(): void {
    this.clearPing();
    this.pingTimer = this.timers.setTimeout(() => {
      this.pingTimer = null;
      const socket = this.socket;
      if (socket === null) return;
      try {
        socket.send(JSON.stringify({ type: 'ping', v: 1 }));
      } catch {
        return; // closing: its close event reconnects
      }
      this.armPing();
    }, this.pingEveryMs);
  }

  private clearPing(): void {
    if (this.pingTimer !== null) this.timers.clearTimeout(this.pingTimer);
    this.pingTimer = null;
  }

  private clearStale(): void {
    if (this.staleTimer !== null) this.timers.clearTimeout(this.staleTimer);
    this.staleTimer = null;
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private update(patch: Partial<ConnectionInfo>): void {
    const next = { ...this.info, ...patch };
    const changed = (Object.keys(next) as (keyof ConnectionInfo)[]).some((k) => next[k] !== this.info[k]);
    this.info = next;
    if (changed) this.handlers.connection(next);
  }
}
