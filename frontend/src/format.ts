// Display strings derived from protocol data. Pure functions.

import type { GameSummary, Play, Situation, StatusData, TeamSummary } from './types';

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
