// Pure game state: a snapshot plus the events applied after it. No DOM, no I/O.
//
// Every function returns a new state (inputs are never mutated), so a view can compare
// references to know what changed.

import type {
  Drive,
  GameEvent,
  GameSummary,
  MarketPoint,
  MarketStatusData,
  Play,
  Probability,
  Situation,
  Snapshot,
} from './types';

export interface GameView {
  game: GameSummary;
  /** Seq of the last event applied (the snapshot's seq right after a snapshot). */
  seq: number;
  situation: Situation | null;
  /** In game order (not by `sequence`, an edit order): a new play goes at the end, or right
   *  before the play its `before` names; a corrected play replaces the earlier one in place. */
  plays: readonly Play[];
  /** In arrival order, except that a point of a play that sits before the newest point's play
   *  goes in play order (after the points of earlier plays). */
  probabilities: readonly Probability[];
  /** Last known state of each drive, by id. */
  drives: Readonly<Record<string, Drive>>;
  /** Ids of plays that were corrected at least once (the completion of a preview is not). */
  corrected: ReadonlySet<string>;
  /** Every Kalshi market point (both team markets), in log order. */
  market: readonly MarketPoint[];
  /** The last `market_status` (null: markets off or not looked for yet). */
  marketStatus: MarketStatusData | null;
}

export type ApplyResult =
  | { kind: 'ok'; state: GameView; applied: number }
  /** A batch skipped seqs: `state` holds what could be applied; resume after `state.seq`. */
  | { kind: 'gap'; state: GameView; applied: number; expected: number; got: number };

export function fromSnapshot(snapshot: Snapshot): GameView {
  return {
    game: snapshot.game,
    seq: snapshot.seq,
    situation: snapshot.situation,
    // The server's log order is ESPN's game order (its sequence numbers are an edit order).
    plays: [...snapshot.plays],
    probabilities: [...snapshot.probabilities],
    drives: {},
    corrected: new Set(),
    market: [...(snapshot.market ?? [])],
    marketStatus: snapshot.market_status ?? null,
  };
}

/**
 * Applies a batch in seq order. Events with `seq <= state.seq` are duplicates and ignored.
 * If the next event is not `state.seq + 1`, application stops there and a gap is reported.
 */
export function applyEvents(state: GameView, events: readonly GameEvent[]): ApplyResult {
  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  const draft = new Draft(state);
  let applied = 0;
  for (const event of ordered) {
    if (event.seq <= draft.seq) continue;
    if (event.seq !== draft.seq + 1) {
      return { kind: 'gap', state: draft.finish(), applied, expected: draft.seq + 1, got: event.seq };
    }
    draft.apply(event);
    applied += 1;
  }
  return { kind: 'ok', state: applied === 0 ? state : draft.finish(), applied };
}

/**
 * The part of a batch that continues `seq` (what `applyEvents` would apply to a state at `seq`),
 * in seq order, and whether a gap stopped it. Lets a caller that holds events before applying them
 * (the viewer delay) detect gaps on arrival.
 */
export function continuingEvents(
  seq: number,
  events: readonly GameEvent[],
): { events: GameEvent[]; seq: number; gap: boolean } {
  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  const accepted: GameEvent[] = [];
  let last = seq;
  for (const event of ordered) {
    if (event.seq <= last) continue;
    if (event.seq !== last + 1) return { events: accepted, seq: last, gap: true };
    accepted.push(event);
    last = event.seq;
  }
  return { events: accepted, seq: last, gap: false };
}

/**
 * Copy-on-write working copy of a GameView: each collection is copied at most once per batch,
 * so a batch of n events costs O(n + size) rather than O(n * size).
 */
class Draft {
  seq: number;
  private game: GameSummary;
  private situation: Situation | null;
  private plays: Play[] | null = null;
  private probabilities: Probability[] | null = null;
  private drives: Record<string, Drive> | null = null;
  private corrected: Set<string> | null = null;
  private market: MarketPoint[] | null = null;
  private marketStatus: MarketStatusData | null;

  constructor(private readonly base: GameView) {
    this.seq = base.seq;
    this.game = base.game;
    this.situation = base.situation;
    this.marketStatus = base.marketStatus;
  }

  apply(event: GameEvent): void {
    this.seq = event.seq;
    switch (event.type) {
      case 'status':
        this.game = { ...this.game, status: event.data };
        break;
      case 'score':
        this.game = {
          ...this.game,
          home: { ...this.game.home, score: event.data.home },
          away: { ...this.game.away, score: event.data.away },
        };
        break;
      case 'situation':
        this.situation = event.data;
        break;
      case 'play_added': {
        const { before, ...play } = event.data;
        this.upsertPlay(play, before ?? null);
        break;
      }
      case 'play_corrected': {
        const { previous_text: _previous, completes, ...play } = event.data;
        this.upsertPlay(play, null);
        if (completes !== true) {
          this.corrected ??= new Set(this.base.corrected);
          this.corrected.add(play.id);
        }
        break;
      }
      case 'play_removed':
        this.removePlay(event.data.id);
        break;
      case 'probability':
        this.upsertProbability(event.data);
        break;
      case 'drive':
        this.drives ??= { ...this.base.drives };
        this.drives[event.data.id] = event.data;
        break;
      case 'market':
        (this.market ??= [...this.base.market]).push(event.data);
        break;
      case 'market_status':
        this.marketStatus = event.data;
        break;
      default:
        // Unknown event types (a newer server) only advance seq.
        break;
    }
  }

  finish(): GameView {
    return {
      game: this.game.seq === this.seq ? this.game : { ...this.game, seq: this.seq },
      seq: this.seq,
      situation: this.situation,
      plays: this.plays ?? this.base.plays,
      probabilities: this.probabilities ?? this.base.probabilities,
      drives: this.drives ?? this.base.drives,
      corrected: this.corrected ?? this.base.corrected,
      market: this.market ?? this.base.market,
      marketStatus: this.marketStatus,
    };
  }

  private removePlay(id: string): void {
    const plays = this.plays ?? this.base.plays;
    if (plays.some((p) => p.id === id)) {
      this.plays = plays.filter((p) => p.id !== id);
    }
  }

  /** A known play is replaced where it stands (a correction, a re-sent play); a new one goes
   *  right before the play `before` names when that play is there, else at the end. O(n). */
  private upsertPlay(play: Play, before: string | null): void {
    const plays = (this.plays ??= [...this.base.plays]);
    let at = -1;
    for (let i = plays.length - 1; i >= 0; i--) {
      const id = (plays[i] as Play).id;
      if (id === play.id) {
        plays[i] = play;
        return;
      }
      if (id === before) at = i;
    }
    if (at >= 0) plays.splice(at, 0, play);
    else plays.push(play);
  }

  private upsertProbability(probability: Probability): void {
    const probabilities = (this.probabilities ??= [...this.base.probabilities]);
    const key = probabilityKey(probability);
    // A re-sent probability (same play) replaces the earlier one; search from the newest.
    if (key !== null) {
      for (let i = probabilities.length - 1; i >= 0; i--) {
        if (probabilityKey(probabilities[i] as Probability) === key) {
          probabilities[i] = probability;
          return;
        }
      }
    }
    probabilities.splice(this.probabilityIndex(probabilities, probability.play_id), 0, probability);
  }

  /**
   * Where a new point of the play `playId` goes: at the end, unless its play sits before the
   * plays of the newest points (a play learnt late); then before those points, so that the
   * chart's x, which never goes back, is not held at the later play. A point whose play is not
   * in `plays` (or null) goes at the end, and is never passed over by a later one.
   * O(plays after `playId` + points passed).
   */
  private probabilityIndex(probabilities: readonly Probability[], playId: string | null): number {
    let at = probabilities.length;
    const newest = probabilities[at - 1];
    if (playId === null || newest === undefined || newest.play_id === null) return at;
    const plays = this.plays ?? this.base.plays;
    const later = new Set<string>(); // ids of the plays after the point's play
    for (let i = plays.length - 1; ; i--) {
      const play = plays[i];
      if (play === undefined) return at; // its play is not known (yet): no place to give it
      if (play.id === playId) break;
      later.add(play.id);
    }
    while (at > 0) {
      const id = (probabilities[at - 1] as Probability).play_id;
      if (id === null || !later.has(id)) break;
      at -= 1;
    }
    return at;
  }
}

/**
 * Identity of a probability: its play when known. ESPN's `sequence` is not unique (several
 * probabilities can carry the same sequence), so it is only the fallback; a point with neither
 * has no identity (null): it never replaces another.
 */
export function probabilityKey(p: Probability): string | null {
  if (p.play_id !== null) return `play:${p.play_id}`;
  return p.sequence !== null ? `seq:${p.sequence}` : null;
}

/** Points of the win-probability chart: x = unix seconds, y = home win probability (0..1). */
export interface ChartSeries {
  x: number[];
  y: number[];
}

/** Regulation length of a game in seconds: the chart's x axis is game time elapsed. */
export function regulationSeconds(sport: string): number {
  return sport === 'basketball' ? 48 * 60 : 60 * 60;
}

/** Seconds left in the period from a display clock: "12:01" -> 721, "26.1" -> 26.1. */
export function clockSeconds(clock: string): number | null {
  const match = /^(?:(\d+):)?(\d+(?:\.\d+)?)$/.exec(clock.trim());
  if (match === null) return null;
  return Number(match[1] ?? 0) * 60 + Number(match[2]);
}

/** Game minutes elapsed at a play, from its period and clock (null: the clock is unreadable). */
export function playMinutes(play: Play, regulation = 3600): number | null {
  const period = regulation / 4;
  const left = clockSeconds(play.clock);
  if (left === null || play.period < 1) return null;
  return ((play.period - 1) * period + (period - left)) / 60;
}

/**
 * Chart points: x = game minutes elapsed, y = home win probability.
 * Game time, not wall time: ESPN publishes probability points in bursts, so their observation times
 * bunch up. A point is placed at its play's period and clock when the play is known, else by ESPN's
 * `seconds_left` (not always filled: some feeds send 0 throughout). x never goes back.
 */
export function chartSeries(
  probabilities: readonly Probability[],
  plays: readonly Play[] = [],
  regulation = 3600,
): ChartSeries {
  const byId = new Map(plays.map((p) => [p.id, p]));
  const x: number[] = [];
  const y: number[] = [];
  let last = 0;
  for (const p of probabilities) {
    const play = p.play_id === null ? undefined : byId.get(p.play_id);
    let elapsed = play === undefined ? null : playMinutes(play, regulation);
    if (elapsed === null && p.seconds_left !== null && p.seconds_left > 0) {
      elapsed = (regulation - p.seconds_left) / 60;
    }
    if (elapsed !== null) last = Math.max(last, elapsed);
    x.push(last);
    y.push(p.home);
  }
  return { x, y };
}

/** Where wall time meets game time: each play's wallclock (epoch ms) and game minutes. */
export interface TimeAnchors {
  wall: number[];
  minutes: number[];
}

/**
 * The plays' wallclocks against their game minutes, both ascending: a play whose wallclock or
 * clock is unknown, or whose wallclock goes back (a late correction), is left out; minutes never
 * go back.
 */
export function timeAnchors(plays: readonly Play[], regulation = 3600): TimeAnchors {
  const wall: number[] = [];
  const minutes: number[] = [];
  for (const play of plays) {
    const at = play.wallclock === null ? NaN : Date.parse(play.wallclock);
    const elapsed = playMinutes(play, regulation);
    if (Number.isNaN(at) || elapsed === null) continue;
    const lastWall = wall[wall.length - 1];
    if (lastWall !== undefined && at < lastWall) continue;
    wall.push(at);
    minutes.push(Math.max(elapsed, minutes[minutes.length - 1] ?? 0));
  }
  return { wall, minutes };
}

/**
 * Game minutes at wall time `at` (epoch ms): from the last play at or before it, moved towards
 * the next play in proportion to the wall time between the two (the clock runs between plays);
 * after the newest play, that play's minutes. Null before the first play (pregame).
 */
export function minutesAt(anchors: TimeAnchors, at: number): number | null {
  const { wall, minutes } = anchors;
  let lo = 0;
  let hi = wall.length; // first anchor after `at`
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((wall[mid] as number) <= at) lo = mid + 1;
    else hi = mid;
  }
  const before = lo - 1;
  if (before < 0) return null;
  const m0 = minutes[before] as number;
  const w0 = wall[before] as number;
  const w1 = wall[lo];
  const m1 = minutes[lo];
  if (w1 === undefined || m1 === undefined || w1 === w0) return m0;
  return m0 + ((at - w0) / (w1 - w0)) * (m1 - m0);
}

/**
 * Chart points of the market line on the same axis as `chartSeries`: x = game minutes, mapped from
 * each point's wall time through the plays' wallclocks (`minutesAt`), y = the market-implied home
 * win probability. Points without one are left out; of pregame points only the last is drawn, at
 * 0 (the price at the start); points on one x keep the last (the home market's point wins over
 * the away market's of the same time). x never goes back. Nothing is drawn without plays.
 */
export function marketChartSeries(
  market: readonly MarketPoint[],
  plays: readonly Play[] = [],
  regulation = 3600,
): ChartSeries {
  const anchors = timeAnchors(plays, regulation);
  const x: number[] = [];
  const y: number[] = [];
  if (anchors.wall.length === 0) return { x, y };
  let lastTime = '';
  let lastSide = '';
  for (const point of market) {
    const at = Date.parse(point.time);
    if (point.implied_home === null || Number.isNaN(at)) continue;
    const sameTime = point.time === lastTime;
    if (sameTime && lastSide === 'home' && point.side !== 'home') continue;
    const mapped = Math.max(minutesAt(anchors, at) ?? 0, x[x.length - 1] ?? 0);
    if (x.length > 0 && (sameTime || x[x.length - 1] === mapped)) {
      x[x.length - 1] = mapped;
      y[y.length - 1] = point.implied_home;
    } else {
      x.push(mapped);
      y.push(point.implied_home);
    }
    lastTime = point.time;
    lastSide = point.side;
  }
  return { x, y };
}

/** Two series on one x axis (uPlot's aligned data): x merged in order (`a`'s first on a tie),
 *  each series null where the other has the point. */
export function alignSeries(a: ChartSeries, b: ChartSeries): [number[], (number | null)[], (number | null)[]] {
  const x: number[] = [];
  const ya: (number | null)[] = [];
  const yb: (number | null)[] = [];
  let i = 0;
  let j = 0;
  while (i < a.x.length || j < b.x.length) {
    const ax = a.x[i];
    const bx = b.x[j];
    if (ax !== undefined && (bx === undefined || ax <= bx)) {
      x.push(ax);
      ya.push(a.y[i] as number);
      yb.push(null);
      i += 1;
    } else {
      x.push(bx as number);
      ya.push(null);
      yb.push(b.y[j] as number);
      j += 1;
    }
  }
  return [x, ya, yb];
}
