// Protocol-shaped test data.

import type {
  GameEvent,
  GameSummary,
  MarketPoint,
  MarketStatusData,
  Play,
  Probability,
  Snapshot,
  StatusData,
} from '../types';

export function status(overrides: Partial<StatusData> = {}): StatusData {
  return {
    state: 'in',
    name: 'STATUS_IN_PROGRESS',
    detail: '10:21 - 2nd Quarter',
    short_detail: '10:21 - 2nd',
    period: 2,
    clock: 621,
    display_clock: '10:21',
    completed: false,
    phase: 'live',
    ...overrides,
  };
}

export function game(overrides: Partial<GameSummary> = {}): GameSummary {
  return {
    id: '401756846',
    sport: 'football',
    league: 'college-football',
    name: 'Iowa State Cyclones at Kansas State Wildcats',
    short_name: 'ISU VS KSU',
    start_time: '2025-08-23T16:00:00Z',
    status: status(),
    home: { id: '2306', name: 'Kansas State Wildcats', abbreviation: 'KSU', score: 7 },
    away: { id: '66', name: 'Iowa State Cyclones', abbreviation: 'ISU', score: 7 },
    stream: { status: 'Active', started_at: '2025-08-23T16:00:00Z', ended_at: null, failure_reason: null },
    seq: 10,
    ...overrides,
  };
}

export function play(sequence: number, overrides: Partial<Play> = {}): Play {
  return {
    id: `p${sequence}`,
    sequence,
    period: 1,
    clock: '12:01',
    text: `Play ${sequence}`,
    short_text: null,
    type: 'Rush',
    scoring: false,
    score_value: 0,
    home_score: 0,
    away_score: 0,
    team_id: '2306',
    drive_id: 'd1',
    wallclock: null,
    modified: null,
    ...overrides,
  };
}

export function probability(sequence: number, home: number, time: string): Probability {
  return { sequence, play_id: `p${sequence}`, home, away: 1 - home, tie: 0, seconds_left: null, time };
}

export function snapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return {
    game: game(),
    seq: 10,
    situation: null,
    plays: [play(1), play(2)],
    probabilities: [probability(1, 0.5, '2025-08-23T16:05:00Z')],
    ...overrides,
  };
}

let at = Date.parse('2025-08-23T16:10:00Z');

export function event<T extends GameEvent['type']>(
  seq: number,
  type: T,
  data: Extract<GameEvent, { type: T }>['data'],
): GameEvent {
  at += 1000;
  return { seq, type, at: new Date(at).toISOString(), data } as GameEvent;
}

/** A market point of the home team's market (test data, not Kalshi's). */
export function marketPoint(time: string, implied_home: number, overrides: Partial<MarketPoint> = {}): MarketPoint {
  return {
    ticker: 'KXNBAGAME-25MAY31NYKIND-IND',
    time,
    side: 'home',
    bid: implied_home - 0.01,
    ask: implied_home + 0.01,
    last: implied_home,
    implied_home,
    volume: 100,
    ...overrides,
  };
}

export function marketStatus(overrides: Partial<MarketStatusData> = {}): MarketStatusData {
  return {
    state: 'live',
    event_ticker: 'KXNBAGAME-25MAY31NYKIND',
    tickers: ['KXNBAGAME-25MAY31NYKIND-IND', 'KXNBAGAME-25MAY31NYKIND-NYK'],
    source: 'kalshi',
    reason: null,
    notes: [],
    ...overrides,
  };
}
