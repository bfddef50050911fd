// Display strings derived from protocol data. Pure functions.

import type { GameSummary, MarketPoint, MarketStatusData, Play, Situation, StatusData, TeamSummary } from './types';

export function periodLabel(period: number, sport: string): string {
  if (period <= 0) return '';
  if (sport === 'hockey') return period <= 3 ? `P${period}` : period === 4 ? 'OT' : `${period - 3}OT`;
  if (period <= 4) return `Q${period}`;
  return period === 5 ? 'OT' : `${period - 4}OT`;
}

/** Short status line: ESPN's short detail ("2nd 10:21", "Halftime", "Final"). */
export function statusText(game: GameSummary): string {
  const status = game.status;
  if (status === null) return game.start_time ? `Starts ${formatStart(game.start_time)}` : 'Scheduled';
  if (status.short_detail) return status.short_detail;
  if (status.state === 'in') return `${periodLabel(status.period, game.sport)} ${status.display_clock}`.trim();
  return status.detail || status.name;
}

export function isLive(status: StatusData | null): boolean {
  return status?.state === 'in';
}

export function stateRank(status: StatusData | null): number {
  switch (status?.state) {
    case 'in':
      return 0;
    case 'post':
      return 2;
    default:
      return 1; // pre, or no status yet
  }
}

export function formatStart(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { weekday: 'short', hour: 'numeric', minute: '2-digit' });
}

export function scoreText(team: TeamSummary): string {
  return team.score === null || team.score === undefined ? '–' : String(team.score);
}

export function percent(p: number, digits = 0): string {
  return `${(p * 100).toFixed(digits)}%`;
}

/**
 * ESPN's home win probability minus the market's, in percentage points ("+3.5 pts", "−0.8 pts",
 * "0.0 pts"): how far ESPN's model is from the money.
 */
export function gapPoints(espn: number, market: number): string {
  const points = (espn - market) * 100;
  const shown = points.toFixed(1);
  if (shown === '0.0' || shown === '-0.0') return '0.0 pts';
  return points > 0 ? `+${shown} pts` : `−${shown.slice(1)} pts`;
}

export function teamAbbreviation(game: GameSummary, teamId: string | null): string | null {
  if (teamId === null) return null;
  if (teamId === game.home.id) return game.home.abbreviation;
  if (teamId === game.away.id) return game.away.abbreviation;
  return null;
}

/** "KSU ball · 1st & 10 at KSU 25", or null when there is nothing to show. */
export function situationText(game: GameSummary, situation: Situation | null): string | null {
  if (situation === null || game.status?.state !== 'in') return null;
  const parts: string[] = [];
  const team = teamAbbreviation(game, situation.possession_team_id);
  if (team) parts.push(`${team} ball`);
  if (situation.down_distance_text) parts.push(situation.down_distance_text);
  else if (situation.possession_text) parts.push(situation.possession_text);
  return parts.length > 0 ? parts.join(' · ') : null;
}

export function timeoutsText(situation: Situation | null, game: GameSummary): string | null {
  if (situation === null || game.status?.state !== 'in') return null;
  const { home_timeouts: home, away_timeouts: away } = situation;
  if (home === null && away === null) return null;
  return `Timeouts: ${game.away.abbreviation} ${away ?? '–'}, ${game.home.abbreviation} ${home ?? '–'}`;
}

export function playClock(play: Play, sport: string): string {
  return `${periodLabel(play.period, sport)} ${play.clock}`.trim();
}

/** "19:05:09 UTC" of an ISO time (the time of day the replay or the game is at). */
export function clockTimeUtc(iso: string): string {
  const match = /T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} UTC` : iso;
}

/**
 * What the chart says instead of a market line, or null when it draws one (`drawn`): no market
 * for the game, a stale one (since its last point), markets not followed, or no price yet; beside
 * a drawn line, the markets' own notes (a market derived from the other team's).
 */
export function marketNote(
  status: MarketStatusData | null,
  market: readonly MarketPoint[],
  drawn: boolean,
): { text: string; title: string | null } | null {
  const lastPoint = market[market.length - 1];
  switch (status?.state) {
    case undefined:
      return drawn ? null : { text: 'No Kalshi market data: markets are not followed for this game', title: null };
    case 'absent':
      return { text: 'No Kalshi market for this game', title: status.reason };
    case 'stale': {
      const since = lastPoint === undefined ? '' : ` since ${clockTimeUtc(lastPoint.time)}`;
      return { text: `Kalshi market stale${since}: no new price`, title: status.reason };
    }
    case 'live': {
      if (!drawn) return { text: 'Kalshi market: waiting for prices…', title: status.event_ticker };
      // A market the replay made up from the other team's says so beside the line.
      const notes = status.notes ?? [];
      return notes.length === 0 ? null : { text: notes.join(' · '), title: status.event_ticker };
    }
  }
}

/**
 * The games list's market cell: the market-implied home win probability ("IND 62%"), or "—"
 * with a title saying why there is none.
 */
export function marketCell(game: GameSummary): { text: string; title: string; state: string } {
  const market = game.market ?? null;
  const home = game.home.abbreviation || 'Home';
  if (market === null) return { text: '—', title: 'No Kalshi market data: markets are not followed', state: 'unknown' };
  const state = market.state ?? 'unknown';
  if (state === 'absent') {
    return { text: '—', title: `No Kalshi market for this game${market.reason ? ` (${market.reason})` : ''}`, state };
  }
  if (market.implied_home === null) return { text: '—', title: 'Kalshi market: no price yet', state };
  const text = `${home} ${percent(market.implied_home)}`;
  const at = market.time === null ? '' : ` at ${clockTimeUtc(market.time)}`;
  const stale = state === 'stale' ? ' (stale: no new price)' : '';
  return { text, title: `Kalshi market-implied ${home} win probability${at}${stale}`, state };
}

/** The game page's source-health line: "ESPN live · Market live". */
export function healthText(
  espn: string | null,
  degraded: readonly string[],
  market: string | null,
  unpublished: readonly string[] = [],
): string {
  let espnText = espn === null ? 'ESPN …' : `ESPN ${espn}`;
  if (espn === 'degraded' && degraded.length > 0) espnText += ` (${degraded.join(', ')})`;
  if (unpublished.length > 0) espnText += `, not published yet: ${unpublished.join(', ')}`;
  return `${espnText} · Market ${market ?? '…'}`;
}
