// Wire types of the Pressbox protocol v1 (docs/protocol.md). Kept in one place so that a
// protocol change shows up as a type error everywhere it matters.

export type GameState = 'pre' | 'in' | 'post';

export type Phase =
  | 'pregame'
  | 'live'
  | 'break'
  | 'halftime'
  | 'delayed'
  | 'final'
  | 'postponed'
  | 'canceled'
  | 'unknown';

export interface StatusData {
  state: GameState;
  name: string;
  detail: string;
  short_detail: string;
  period: number;
  clock: number;
  display_clock: string;
  completed: boolean;
  phase: Phase;
}

export interface ScoreData {
  home: number;
  away: number;
}

export interface Situation {
  down: number | null;
  distance: number | null;
  yard_line: number | null;
  down_distance_text: string | null;
  possession_text: string | null;
  possession_team_id: string | null;
  is_red_zone: boolean;
  home_timeouts: number | null;
  away_timeouts: number | null;
  last_play_id: string | null;
}

export interface Play {
  id: string;
  /** ESPN's sequence number (an edit order, not the game order); null on a scoreboard preview. */
  sequence: number | null;
  period: number;
  clock: string;
  text: string;
  short_text: string | null;
  type: string | null;
  scoring: boolean;
  score_value: number;
  home_score: number;
  away_score: number;
  team_id: string | null;
  drive_id: string | null;
  wallclock: string | null;
  modified: string | null;
  /** True: read off ESPN's scoreboard (its last play), with fewer details (sequence, drive_id,
   *  wallclock, modified, short_text null) until the full record arrives. Absent: false. */
  preview?: boolean;
}

/** A `play_added` event's data. */
export interface AddedPlay extends Play {
  /** The id of the known play this one precedes in game order (a play learnt late): the play
   *  goes right before it, or at the end when it is not there. Absent or null: at the end. */
  before?: string | null;
}

export interface CorrectedPlay extends Play {
  previous_text: string;
  /** True: the full record of a preview play, not a correction by ESPN. */
  completes?: boolean;
}

export interface Probability {
  /** ESPN's sequenceNumber (not unique); null for a point read off the scoreboard. */
  sequence: number | null;
  play_id: string | null;
  home: number;
  away: number;
  tie: number;
  seconds_left: number | null;
  time: string;
}

export interface Drive {
  id: string;
  team_id: string | null;
  description: string | null;
  result: string | null;
  is_score: boolean;
  start_text: string | null;
  end_text: string | null;
  plays: number;
}

/** One price point of one of the game's Kalshi team markets (prices 0..1). */
export interface MarketPoint {
  ticker: string;
  /** Kalshi's time of the point, else when Pressbox read it. */
  time: string;
  /** The team the market's yes pays on. */
  side: 'home' | 'away';
  bid: number | null;
  ask: number | null;
  last: number | null;
  /** The home team's win probability the market implies. */
  implied_home: number | null;
  volume: number | null;
}

export type MarketState = 'live' | 'absent' | 'stale';

export interface MarketStatusData {
  state: MarketState;
  event_ticker: string | null;
  tickers: string[];
  source: string | null;
  reason: string | null;
  /** What the markets say of themselves ("TICKER: note"), e.g. one derived from the other. */
  notes?: string[];
}

/** The game summary's market line (null: markets off or not looked for yet). */
export interface GameMarket {
  state: MarketState | null;
  reason: string | null;
  event_ticker: string | null;
  ticker: string | null;
  implied_home: number | null;
  last: number | null;
  time: string | null;
}

interface EventBase<T extends string, D> {
  seq: number;
  type: T;
  at: string;
  data: D;
}

/** ESPN no longer lists the play (a reconciliation found it gone). */
export interface RemovedPlay {
  id: string;
  previous_text: string;
}

export type GameEvent =
  | EventBase<'status', StatusData>
  | EventBase<'score', ScoreData>
  | EventBase<'situation', Situation>
  | EventBase<'play_added', AddedPlay>
  | EventBase<'play_corrected', CorrectedPlay>
  | EventBase<'play_removed', RemovedPlay>
  | EventBase<'probability', Probability>
  | EventBase<'drive', Drive>
  | EventBase<'market', MarketPoint>
  | EventBase<'market_status', MarketStatusData>;

export interface TeamSummary {
  id: string;
  name: string;
  abbreviation: string;
  score: number | null;
}

export interface StreamInfo {
  status: string;
  started_at: string | null;
  ended_at: string | null;
  failure_reason: string | null;
}

export interface GameSummary {
  id: string;
  sport: string;
  league: string;
  name: string;
  short_name: string;
  start_time: string | null;
  status: StatusData | null;
  home: TeamSummary;
  away: TeamSummary;
  stream: StreamInfo | null;
  /** Absent from servers before the market line. */
  market?: GameMarket | null;
  seq: number;
}

export interface Snapshot {
  game: GameSummary;
  seq: number;
  situation: Situation | null;
  plays: Play[];
  probabilities: Probability[];
  /** Every market point, in log order (absent from servers before the market line). */
  market?: MarketPoint[];
  /** The last market status; null: markets never looked for. */
  market_status?: MarketStatusData | null;
}

export interface LiveGamesResponse {
  games: GameSummary[];
}

// WebSocket, server to client.
export type ServerMessage =
  | { type: 'snapshot'; v: number; seq: number; snapshot: Snapshot }
  /** `sent`: server send time, epoch ms (absent from older servers). */
  | { type: 'events'; v: number; events: GameEvent[]; sent?: number }
  | {
      type: 'status';
      v: number;
      stream: string;
      espn: 'live' | 'degraded' | string;
      /** The failing ESPN documents. */
      degraded?: string[];
      /** The ESPN documents not published yet (only 404 so far): not a degradation. */
      unpublished?: string[];
      /** `unknown`: no market status yet (markets off); absent from older servers. */
      market?: MarketState | 'unknown';
      market_detail?: string | null;
    }
  | { type: 'heartbeat'; v: number; at: string }
  /** The answer to the client's `{"type": "ping", "v": 1}` (any client message proves it alive). */
  | { type: 'pong'; v: number }
  | { type: 'error'; v: number; code: string; message: string };

// Operations (`GET /api/streams`, `POST /api/streams/{id}/cancel|restart`).

/** What a stream's streamer asked of upstream so far, as of its owner's last lease renewal
 *  (`{}` before any): requests sent, body bytes, fetches skipped, seconds waited for the budget. */
export interface StreamFetches {
  requests?: number;
  bytes?: number;
  skipped?: number;
  waited?: number;
}

export interface StreamRow {
  game_id: string;
  name: string;
  league: string;
  status: string;
  owner: string | null;
  lease_age_seconds: number | null;
  lease_expires_at: string | null;
  retries: number;
  last_poll_at: string | null;
  /** Absent from older servers. */
  fetches?: StreamFetches;
  degraded: string[];
  /** Documents that have answered only 404 so far (absent from older servers). */
  unpublished?: string[];
  failure_reason: string | null;
  /** `limit`, `stall`, `takeovers` or `upstream` when Failed (absent from older servers). */
  failure_cause?: string | null;
  scheduled_at: string | null;
  started_at: string | null;
  ended_at: string | null;
}

export interface StreamsResponse {
  streams: StreamRow[];
}

export interface StreamResponse {
  stream: StreamRow;
}

// Webhooks (`GET /api/webhooks`, `GET /api/webhooks/{id}`, docs/webhooks.md), behind the admin token.

/** `failing`: every attempt has failed for PRESSBOX_WEBHOOK_FAILING_AFTER_SECONDS (still retried). */
export type WebhookStatus = 'active' | 'failing';

/** A webhook subscription, without its secret. */
export interface Webhook {
  id: number;
  url: string;
  /** The event types delivered; null: every type. */
  events: string[] | null;
  /** The only league delivered; null: every league. */
  league: string | null;
  status: WebhookStatus;
  created_at: string;
  /** Events delivered so far. */
  delivered: number;
  last_success_at: string | null;
  failing_since: string | null;
  last_error: string | null;
  /** The runner delivering it (null: none holds it). */
  owner: string | null;
  lease_expires_at: string | null;
}

/** One POST of a delivery, as the delivery log keeps it. */
export interface WebhookAttempt {
  at: string;
  game_id: string;
  first_seq: number | null;
  last_seq: number | null;
  /** Events in the batch. */
  events: number;
  /** Null: no answer (refused, timed out). */
  status_code: number | null;
  /** Null: delivered (a 2xx). */
  error: string | null;
  duration_ms: number;
  ok: boolean;
}

export interface WebhooksResponse {
  webhooks: Webhook[];
}

export interface WebhookDetail {
  webhook: Webhook;
  /** Game id -> the last seq delivered (or passed over). */
  cursors: Record<string, number>;
  /** The newest attempts first (the last 50). */
  deliveries: WebhookAttempt[];
}
