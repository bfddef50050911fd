// Who scored when, read off the plays' running scores: the game page's linescore (points per
// period) and the chart's scoring markers. Pure functions; no DOM.

import { periodLabel } from './format';
import { chartSeries, playMinutes } from './state';
import type { GameSummary, Play, Probability } from './types';

/** Periods of regulation: what a linescore shows before any overtime. */
export function regulationPeriods(sport: string): number {
  return sport === 'hockey' ? 3 : 4;
}

export interface LinescoreRow {
  abbreviation: string;
  /** Points per period; null for a period not begun yet. */
  points: (number | null)[];
  total: number | null;
}

export interface Linescore {
  /** Column headings: "Q1".."Q4", then "OT", "2OT", ... */
  periods: string[];
  away: LinescoreRow;
  home: LinescoreRow;
  /** Index of the period in play (a live game), else null. */
  current: number | null;
}

/**
 * Points per period and team. A period ends at the running score of its last play (in game
 * order); the last period begun ends at the scoreboard's score, so the totals are the score the
 * page shows even when a score arrives before its play. A 0–0 play is passed over: it says no
 * more than the start of the game (and is what a play without score fields reads as).
 */
export function linescore(game: GameSummary, plays: readonly Play[]): Linescore {
  const ends: (RunningScore | undefined)[] = [];
  let begun = Math.max(0, game.status?.period ?? 0);
  for (const play of plays) {
    if (play.period < 1) continue;
    begun = Math.max(begun, play.period);
    if (play.home_score === 0 && play.away_score === 0) continue;
    ends[play.period - 1] = { home: play.home_score, away: play.away_score };
  }
  const count = Math.max(regulationPeriods(game.sport), begun);
  const row = (side: 'home' | 'away'): LinescoreRow => {
    const total = game[side].score ?? (begun > 0 ? endOf(ends, begun - 1, side) : null);
    const points: (number | null)[] = [];
    let before = 0;
    for (let i = 0; i < count; i++) {
      if (i >= begun) {
        points.push(null);
        continue;
      }
      const end = i === begun - 1 && total !== null ? total : endOf(ends, i, side);
      points.push(end - before);
      before = end;
    }
    return { abbreviation: game[side].abbreviation, points, total };
  };
  const live = game.status?.state === 'in' && begun > 0;
  return {
    periods: Array.from({ length: count }, (_, i) => periodLabel(i + 1, game.sport)),
    away: row('away'),
    home: row('home'),
    current: live ? begun - 1 : null,
  };
}

type RunningScore = { home: number; away: number };

/** The running score at the end of period `index` (0-based): the last one known up to it. */
function endOf(ends: readonly (RunningScore | undefined)[], index: number, side: 'home' | 'away'): number {
  for (let i = index; i >= 0; i--) {
    const end = ends[i];
    if (end !== undefined) return end[side];
  }
  return 0;
}

/** A scoring play's place on the win-probability chart. */
export interface ScoringMarker {
  playId: string;
  /** Game minutes, as the chart's x. */
  x: number;
  /** ESPN's home win probability there (the chart's y); null: no probability yet. */
  y: number | null;
  /** The team that scored (null: not known). */
  side: 'home' | 'away' | null;
  play: Play;
}

/**
 * The scoring plays, at their points on ESPN's line: a play flagged `scoring`, or one whose
 * running score goes past every score before it (a feed that leaves the flag off). A play with a
 * probability point sits on that point (the chart's x for it); another at its game minutes, on
 * the line's last point before it.
 */
export function scoringMarkers(
  plays: readonly Play[],
  probabilities: readonly Probability[],
  regulation = 3600,
): ScoringMarker[] {
  const series = chartSeries(probabilities, plays, regulation);
  const pointOf = new Map<string, number>();
  probabilities.forEach((p, i) => {
    if (p.play_id !== null) pointOf.set(p.play_id, i);
  });
  const markers: ScoringMarker[] = [];
  let home = 0;
  let away = 0;
  for (const play of plays) {
    const up = play.home_score + play.away_score > home + away;
    const side = scoringSide(play, home, away);
    if (up) {
      home = Math.max(home, play.home_score);
      away = Math.max(away, play.away_score);
    }
    if (!play.scoring && !up) continue;
    const at = pointOf.get(play.id);
    const x = at !== undefined ? (series.x[at] as number) : playMinutes(play, regulation);
    if (x === null) continue;
    const y = at !== undefined ? (series.y[at] as number) : lineAt(series, x);
    markers.push({ playId: play.id, x, y, side, play });
  }
  return markers;
}

/** Which team's score went up at the play (from the running score before it); null: neither or both. */
function scoringSide(play: Play, home: number, away: number): 'home' | 'away' | null {
  if (play.home_score > home && play.away_score <= away) return 'home';
  if (play.away_score > away && play.home_score <= home) return 'away';
  return null;
}

/** The line's y at its last point at or before `x` (x ascends), else null. */
function lineAt(series: { x: number[]; y: number[] }, x: number): number | null {
  let y: number | null = null;
  for (let i = 0; i < series.x.length && (series.x[i] as number) <= x; i++) y = series.y[i] as number;
  return y;
}
