import { describe, expect, it } from 'vitest';

import { linescore, regulationPeriods, scoringMarkers } from './scoring';
import { game, play, probability, status } from './test/fixtures';

/** A play `n` in `period` at `clock` with the running score after it. */
function at(n: number, period: number, clock: string, away: number, home: number, scoring = false) {
  return play(n, { period, clock, away_score: away, home_score: home, scoring });
}

/** The game with its status and score. */
function scored(s: ReturnType<typeof status> | null, away: number | null, home: number | null) {
  return game({ status: s, away: { ...game().away, score: away }, home: { ...game().home, score: home } });
}

const final = status({ state: 'post', name: 'STATUS_FINAL', period: 4, completed: true, phase: 'final' });

describe('linescore', () => {
  it('splits a final game into its quarters, the totals being the score', () => {
    const plays = [
      at(1, 1, '10:00', 0, 0),
      at(2, 1, '8:00', 0, 7, true),
      at(3, 1, '0:00', 0, 7),
      at(4, 2, '9:00', 3, 7, true),
      at(5, 2, '1:00', 10, 7, true),
      at(6, 3, '5:00', 10, 7), // a scoreless quarter
      at(7, 4, '2:00', 10, 14, true),
      at(8, 4, '0:00', 10, 14),
    ];
    const g = game({ status: final, away: { ...game().away, score: 10 }, home: { ...game().home, score: 14 } });
    const line = linescore(g, plays);
    expect(line.periods).toEqual(['Q1', 'Q2', 'Q3', 'Q4']);
    expect(line.away).toEqual({ abbreviation: 'ISU', points: [0, 10, 0, 0], total: 10 });
    expect(line.home).toEqual({ abbreviation: 'KSU', points: [7, 0, 0, 7], total: 14 });
    expect(line.current).toBeNull();
  });

  it('adds overtime columns after regulation', () => {
    const plays = [
      at(1, 1, '5:00', 7, 0, true),
      at(2, 3, '5:00', 7, 7, true),
      at(3, 5, '0:00', 7, 14, true),
      at(4, 6, '0:00', 15, 14, true),
    ];
    const g = game({
      status: { ...final, period: 6 },
      away: { ...game().away, score: 15 },
      home: { ...game().home, score: 14 },
    });
    const line = linescore(g, plays);
    expect(line.periods).toEqual(['Q1', 'Q2', 'Q3', 'Q4', 'OT', '2OT']);
    expect(line.away.points).toEqual([7, 0, 0, 0, 0, 8]);
    expect(line.home.points).toEqual([0, 0, 7, 0, 7, 0]);
    expect(line.away.total).toBe(15);
  });

  it('leaves the periods not begun empty and marks the one in play', () => {
    const plays = [at(1, 1, '3:00', 0, 3, true), at(2, 2, '11:00', 7, 3, true)];
    const g = scored(status({ period: 2 }), 7, 3);
    const line = linescore(g, plays);
    expect(line.away.points).toEqual([0, 7, null, null]);
    expect(line.home.points).toEqual([3, 0, null, null]);
    expect(line.current).toBe(1);
  });

  it('counts a score the scoreboard has before its play in the period in play', () => {
    const plays = [at(1, 1, '3:00', 0, 3, true), at(2, 2, '11:00', 0, 3)];
    const g = scored(status({ period: 2 }), 7, 3);
    expect(linescore(g, plays).away.points).toEqual([0, 7, null, null]);
  });

  it('passes over a play without a score (0–0 after points)', () => {
    const plays = [at(1, 1, '3:00', 0, 3, true), at(2, 1, '0:00', 0, 0), at(3, 2, '5:00', 0, 3)];
    const g = scored(status({ period: 2 }), 0, 3);
    expect(linescore(g, plays).home.points).toEqual([3, 0, null, null]);
  });

  it('is empty before kickoff', () => {
    const g = game({
      status: status({ state: 'pre', period: 0, phase: 'pregame' }),
      away: { ...game().away, score: null },
      home: { ...game().home, score: null },
    });
    const line = linescore(g, []);
    expect(line.home).toEqual({ abbreviation: 'KSU', points: [null, null, null, null], total: null });
    expect(line.current).toBeNull();
  });

  it('knows hockey has three periods', () => {
    expect(regulationPeriods('hockey')).toBe(3);
    expect(regulationPeriods('basketball')).toBe(4);
    expect(linescore(game({ sport: 'hockey', status: null }), []).periods).toEqual(['P1', 'P2', 'P3']);
  });
});

describe('scoringMarkers', () => {
  it('marks the flagged plays on their probability points', () => {
    const plays = [
      at(1, 1, '15:00', 0, 0),
      at(2, 1, '10:00', 0, 7, true),
      at(3, 2, '15:00', 0, 7),
      at(4, 2, '5:00', 3, 7, true),
    ];
    const probabilities = [
      probability(1, 0.5, 't1'),
      probability(2, 0.7, 't2'),
      probability(3, 0.68, 't3'),
      probability(4, 0.6, 't4'),
    ];
    const markers = scoringMarkers(plays, probabilities, 3600);
    expect(markers.map((m) => [m.playId, m.x, m.y, m.side])).toEqual([
      ['p2', 5, 0.7, 'home'],
      ['p4', 25, 0.6, 'away'],
    ]);
  });

  it('marks a score change the feed did not flag, and not a play without a score', () => {
    const plays = [at(1, 1, '10:00', 0, 6), at(2, 1, '9:00', 0, 0), at(3, 1, '8:00', 0, 6), at(4, 1, '5:00', 0, 7)];
    const markers = scoringMarkers(plays, [], 3600);
    expect(markers.map((m) => m.playId)).toEqual(['p1', 'p4']);
  });

  it('puts a play without a probability at its game minutes, on the last point before it', () => {
    const plays = [at(1, 1, '15:00', 0, 0), at(2, 1, '12:00', 0, 2, true), at(3, 1, '11:00', 0, 2)];
    const probabilities = [probability(1, 0.5, 't1'), probability(3, 0.55, 't3')];
    const [marker] = scoringMarkers(plays, probabilities, 3600);
    expect(marker).toMatchObject({ playId: 'p2', x: 3, y: 0.5 });
    expect(scoringMarkers(plays, [], 3600)[0]?.y).toBeNull();
  });

  it('leaves out a play whose clock cannot be read and has no point', () => {
    expect(scoringMarkers([at(1, 1, 'soon', 0, 7, true)], [], 3600)).toEqual([]);
  });
});
