import { beforeEach, describe, expect, it } from 'vitest';

import { Backoff } from './backoff';
import { type ConnectionInfo, LiveConnection, type LiveHandlers, liveUrl, type SocketLike, type Timers } from './live';
import { applyEvents, fromSnapshot, type GameView } from './state';
import { event, play, snapshot } from './test/fixtures';
import type { ServerMessage } from './types';

class FakeSocket implements SocketLike {
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  closedWith: number | null = null;

  constructor(readonly url: string) {}

  open(): void {
    this.onopen?.(new Event('open'));
  }
  /** Messages the client sent. */
  sent: unknown[] = [];
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  /** A message from the server. */
  deliver(message: ServerMessage): void {
    this.onmessage?.({ data: JSON.stringify(message) } as MessageEvent);
  }
  serverClose(code: number, reason = ''): void {
    this.onclose?.({ code, reason } as CloseEvent);
  }
  close(code?: number): void {
    this.closedWith = code ?? 1005;
  }
}

class FakeTimers implements Timers {
  time = 0;
  private queue: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.queue.push({ at: this.time + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.queue = this.queue.filter((t) => t.id !== handle);
  }
  now(): number {
    return this.time;
  }
  /** Runs due timers, in time order, up to `ms` from now. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.queue.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.queue = this.queue.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
    }
    this.time = end;
  }
  pending(): number {
    return this.queue.length;
  }
}

describe('liveUrl', () => {
  it('uses ws: or wss: following the page and the page host', () => {
    expect(liveUrl({ protocol: 'http:', host: 'localhost:8765' }, '401756846', null)).toBe(
      'ws://localhost:8765/ws/live/401756846',
    );
    expect(liveUrl({ protocol: 'https:', host: 'pressbox.example' }, 'a/b', 42)).toBe(
      'wss://pressbox.example/ws/live/a%2Fb?after=42',
    );
  });
});

describe('LiveConnection', () => {
  let sockets: FakeSocket[];
  let timers: FakeTimers;
  let view: GameView | null;
  let infos: ConnectionInfo[];
  let connection: LiveConnection;

  const latest = (): FakeSocket => sockets[sockets.length - 1] as FakeSocket;
  const info = (): ConnectionInfo => infos[infos.length - 1] as ConnectionInfo;

  beforeEach(() => {
    sockets = [];
    timers = new FakeTimers();
    view = null;
    infos = [];
    const handlers: LiveHandlers = {
      lastSeq: () => view?.seq ?? null,
      snapshot: (s) => {
        view = fromSnapshot(s);
      },
      events: (events) => {
        if (view === null) return 'gap';
        const result = applyEvents(view, events);
        view = result.state;
        return result.kind;
      },
      connection: (i) => infos.push(i),
    };
    connection = new LiveConnection('401756846', handlers, {
      location: { protocol: 'http:', host: 'test:1' },
      openSocket: (url) => {
        const socket = new FakeSocket(url);
        sockets.push(socket);
        return socket;
      },
      backoff: new Backoff({ baseMs: 500, capMs: 15_000 }, () => 0.5),
      timers,
      isOnline: () => true,
    });
  });

  it('connects without after, applies the snapshot then events, and resumes after the last seq', () => {
    connection.start();
    expect(latest().url).toBe('ws://test:1/ws/live/401756846');
    latest().open();
    expect(info().state).toBe('connected');
    latest().deliver({ type: 'snapshot', v: 1, seq: 10, snapshot: snapshot() });
    latest().deliver({ type: 'events', v: 1, events: [event(11, 'play_added', play(3))] });
    expect(view?.seq).toBe(11);

    latest().serverClose(1006);
    expect(info().state).toBe('reconnecting');
    expect(sockets).toHaveLength(1);
    timers.advance(250); // first delay: 0.5 * 500
    expect(sockets).toHaveLength(2);
    expect(latest().url).toBe('ws://test:1/ws/live/401756846?after=11');
    latest().open();
    latest().deliver({ type: 'events', v: 1, events: [event(12, 'play_added', play(4))] });
    expect(view?.plays.map((p) => p.id)).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(info().state).toBe('connected');
  });

  it('backs off exponentially while failing and resets after a snapshot', () => {
    connection.start();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      latest().serverClose(1006);
      const before = sockets.length;
      let waited = 0;
      while (sockets.length === before) {
        timers.advance(10);
        waited += 10;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([250, 500, 1000, 2000]);
    expect(info().state).toBe('offline'); // 3+ failures in a row without hearing from the server
    latest().open();
    latest().deliver({ type: 'snapshot', v: 1, seq: 10, snapshot: snapshot() });
    expect(info()).toMatchObject({ state: 'connected', failures: 0 });
    latest().serverClose(1006);
    expect(info().retryAt).toBe(timers.now() + 250);
  });

  it('reconnects with after=<last applied> when a batch skips seqs', () => {
    connection.start();
    latest().open();
    latest().deliver({ type: 'snapshot', v: 1, seq: 10, snapshot: snapshot() });
    const first = latest();
    first.deliver({ type: 'events', v: 1, events: [event(13, 'play_added', play(3))] });
    expect(first.closedWith).toBe(4000);
    expect(view?.seq).toBe(10);
    // Late messages from the dropped socket are ignored.
    first.deliver({ type: 'events', v: 1, events: [event(11, 'play_added', play(9))] });
    expect(view?.seq).toBe(10);
    timers.advance(500);
    expect(latest()).not.toBe(first);
    expect(latest().url).toBe('ws://test:1/ws/live/401756846?after=10');
  });

  it('asks for a snapshot again when events arrive before any snapshot', () => {
    connection.start();
    latest().open();
    latest().deliver({ type: 'events', v: 1, events: [event(1, 'play_added', play(1))] });
    timers.advance(500);
    expect(sockets).toHaveLength(2);
    expect(latest().url).toBe('ws://test:1/ws/live/401756846');
  });

  it('stops for good on close code 4404 (unknown game)', () => {
    connection.start();
    latest().open();
    latest().serverClose(4404, 'unknown game 401756846');
    expect(info()).toMatchObject({ state: 'offline', unknownGame: true });
    timers.advance(60_000);
    expect(sockets).toHaveLength(1);
    expect(timers.pending()).toBe(0);
  });

  it('stops for good on close code 4403 (origin not allowed)', () => {
    connection.start();
    latest().open();
    latest().serverClose(4403, 'origin not allowed: https://evil.example');
    expect(info()).toMatchObject({ state: 'offline', unknownGame: false, retryAt: null });
    timers.advance(60_000);
    expect(sockets).toHaveLength(1);
    expect(timers.pending()).toBe(0);
  });

  it.each([1013, 4429])('backs off at least 2 s, doubling, when the server is busy (%i)', (code) => {
    connection.start();
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      latest().open();
      latest().serverClose(code, 'too many new connections: retry later');
      waits.push((info().retryAt as number) - timers.now());
      timers.advance(waits[i] as number);
    }
    // random() = 0.5: halfway through [2000, max(4000, ceiling)), ceilings 500, 1000, 2000, 4000.
    expect(waits).toEqual([3000, 3000, 3000, 3000]);
    latest().open();
    latest().serverClose(code);
    expect((info().retryAt as number) - timers.now()).toBe(5000); // ceiling 8000
    expect(sockets).toHaveLength(5);
  });

  it.each([4008, 4408, 1001])('reconnects with after=<last applied> after close code %i', (code) => {
    connection.start();
    latest().open();
    latest().deliver({ type: 'snapshot', v: 1, seq: 10, snapshot: snapshot() });
    latest().serverClose(code, 'slow consumer');
    timers.advance(1_000);
    expect(latest().url).toBe('ws://test:1/ws/live/401756846?after=10');
  });

  it('pings every 15 s while connected, and stops when the socket goes', () => {
    connection.start();
    const socket = latest();
    timers.advance(20_000);
    expect(socket.sent).toEqual([]); // not open yet
    socket.open();
    timers.advance(14_999);
    expect(socket.sent).toEqual([]);
    timers.advance(1);
    expect(socket.sent).toEqual([{ type: 'ping', v: 1 }]);
    socket.deliver({ type: 'heartbeat', v: 1, at: '2025-08-23T16:00:00Z' });
    timers.advance(15_000);
    expect(socket.sent).toHaveLength(2);
    socket.serverClose(1006);
    timers.advance(15_000);
    expect(socket.sent).toHaveLength(2);
  });

  it('reports ESPN health from status messages; heartbeats keep it connected', () => {
    connection.start();
    latest().open();
    latest().deliver({ type: 'status', v: 1, stream: 'Active', espn: 'degraded' });
    expect(info()).toMatchObject({ state: 'connected', espn: 'degraded', stream: 'Active' });
    latest().deliver({ type: 'heartbeat', v: 1, at: '2025-08-23T16:00:00Z' });
    timers.advance(30_000);
    latest().deliver({ type: 'heartbeat', v: 1, at: '2025-08-23T16:00:30Z' });
    timers.advance(30_000);
    expect(sockets).toHaveLength(1);
    latest().deliver({ type: 'status', v: 1, stream: 'Active', espn: 'live' });
    expect(info().espn).toBe('live');
  });

  it('reports the market line and the failing ESPN documents from status messages', () => {
    connection.start();
    latest().open();
    expect(info()).toMatchObject({ market: null, degraded: [] });
    latest().deliver({
      type: 'status',
      v: 1,
      stream: 'Active',
      espn: 'degraded',
      degraded: ['plays'],
      market: 'absent',
      market_detail: 'Kalshi lists no market for this game',
    });
    expect(info()).toMatchObject({
      degraded: ['plays'],
      market: 'absent',
      marketDetail: 'Kalshi lists no market for this game',
    });
  });

  it('drops a silent connection and resumes', () => {
    connection.start();
    latest().open();
    latest().deliver({ type: 'snapshot', v: 1, seq: 10, snapshot: snapshot() });
    const silent = latest();
    timers.advance(40_000);
    expect(silent.closedWith).toBe(4000);
    expect(info().state).toBe('reconnecting');
    timers.advance(1_000);
    expect(latest().url).toBe('ws://test:1/ws/live/401756846?after=10');
  });

  it('stop() closes the socket and cancels pending reconnects', () => {
    connection.start();
    latest().serverClose(1006);
    expect(timers.pending()).toBe(1);
    connection.stop();
    expect(timers.pending()).toBe(0);
    connection.start();
    const socket = latest();
    connection.stop();
    expect(socket.closedWith).toBe(1000);
    timers.advance(60_000);
    expect(sockets).toHaveLength(2);
  });

  it('retryNow() skips the backoff wait', () => {
    connection.start();
    latest().serverClose(1006);
    connection.retryNow();
    expect(sockets).toHaveLength(2);
  });
});
