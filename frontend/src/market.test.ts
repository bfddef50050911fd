// The market line: folding `market`/`market_status` events, placing market points (wall time) on
// the chart's game-time axis, and what the list and the chart say about it.

import { describe, expect, it } from 'vitest';

import { gapPoints, healthText, marketCell, marketNote } from './format';
import {
  alignSeries,
  applyEvents,
  chartSeries,
  fromSnapshot,
  marketChartSeries,
  minutesAt,
  regulationSeconds,
  timeAnchors,
} from './state';
import { event, game, marketPoint, marketStatus, play, probability, snapshot } from './test/fixtures';

const NBA = regulationSeconds('basketball'); // 12-minute quarters

/** Plays of an NBA game with wallclocks: tip-off at 00:00, then as given. */
const plays = [
  play(1, { period: 1, clock: '12:00', wallclock: '2025-06-01T00:00:00Z' }),
  play(2, { period: 1, clock: '11:00', wallclock: '2025-06-01T00:02:00Z' }),
  play(3, { period: 1, clock: '10:00', wallclock: '2025-06-01T00:03:00Z' }),
  play(4, { period: 2, clock: '12:00', wallclock: '2025-06-01T00:30:00Z' }),
];

describe('folding market events', () => {
  it('takes the snapshot market line, then appends points and replaces the status in seq order', () => {
    const start = fromSnapshot(
      snapshot({ market: [marketPoint('2025-06-01T00:00:30Z', 0.6)], market_status: marketStatus() }),
    );
    expect(start.market).toHaveLength(1);
    expect(start.marketStatus?.state).toBe('live');

    const result = applyEvents(start, [
      event(11, 'market', marketPoint('2025-06-01T00:01:00Z', 0.62)),
      event(12, 'probability', probability(3, 0.55, '2025-06-01T00:01:05Z')),
      event(13, 'market_status', marketStatus({ state: 'stale', reason: 'Kalshi did not answer' })),
      event(14, 'market', marketPoint('2025-06-01T00:05:00Z', 0.64)),
    ]);
    expect(result.kind).toBe('ok');
    const state = result.state;
    expect(state.seq).toBe(14);
    expect(state.market.map((p) => p.implied_home)).toEqual([0.6, 0.62, 0.64]);
    expect(state.marketStatus).toEqual(marketStatus({ state: 'stale', reason: 'Kalshi did not answer' }));
    expect(state.probabilities).toHaveLength(2);
    // Inputs are never mutated: the earlier state still has its one point.
    expect(start.market).toHaveLength(1);
  });

  it('keeps the same market array when a batch has no market event', () => {
    const start = fromSnapshot(snapshot({ market: [marketPoint('2025-06-01T00:00:30Z', 0.6)] }));
    const next = applyEvents(start, [event(11, 'probability', probability(3, 0.5, '2025-06-01T00:01:00Z'))]).state;
    expect(next.market).toBe(start.market);
    expect(next.marketStatus).toBeNull();
  });

  it('reads a snapshot from a server without the market line as no market', () => {
    const state = fromSnapshot(snapshot());
    expect(state.market).toEqual([]);
    expect(state.marketStatus).toBeNull();
  });
});

describe('placing wall times on game time', () => {
  it('anchors each play wallclock to its game minutes, leaving out plays without one', () => {
    const anchors = timeAnchors([...plays.slice(0, 2), play(9, { clock: '10:30', wallclock: null }), ...plays.slice(2)], NBA);
    expect(anchors.minutes).toEqual([0, 1, 2, 12]);
    expect(anchors.wall).toEqual(plays.map((p) => Date.parse(p.wallclock as string)));
  });

  it('maps a time from the last play before it, moved towards the next one', () => {
    const anchors = timeAnchors(plays, NBA);
    expect(minutesAt(anchors, Date.parse('2025-05-31T23:59:00Z'))).toBeNull(); // pregame
    expect(minutesAt(anchors, Date.parse('2025-06-01T00:00:00Z'))).toBe(0);
    expect(minutesAt(anchors, Date.parse('2025-06-01T00:01:00Z'))).toBeCloseTo(0.5);
    expect(minutesAt(anchors, Date.parse('2025-06-01T00:02:30Z'))).toBeCloseTo(1.5);
    // Past the newest play: that play's minutes (the next one is not known yet).
    expect(minutesAt(anchors, Date.parse('2025-06-01T00:45:00Z'))).toBe(12);
  });

  it('puts market points on the ESPN axis: the last pregame price at 0, never going back', () => {
    const market = [
      marketPoint('2025-05-31T23:50:00Z', 0.58),
      marketPoint('2025-05-31T23:55:00Z', 0.59), // the price at tip-off
      marketPoint('2025-06-01T00:01:00Z', 0.61),
      marketPoint('2025-06-01T00:02:30Z', 0.63, { implied_home: null }), // no price: left out
      marketPoint('2025-06-01T00:02:30Z', 0.64),
      marketPoint('2025-06-01T00:45:00Z', 0.7),
    ];
    const series = marketChartSeries(market, plays, NBA);
    expect(series.x.map((x) => Number(x.toFixed(3)))).toEqual([0, 0.5, 1.5, 12]);
    expect(series.y).toEqual([0.59, 0.61, 0.64, 0.7]);
  });

  it('keeps one point per time: the home market over the away market of the same poll', () => {
    const time = '2025-06-01T00:01:00Z';
    const away = marketPoint(time, 0.6, { ticker: 'KXNBAGAME-25MAY31NYKIND-NYK', side: 'away' });
    const home = marketPoint(time, 0.61);
    expect(marketChartSeries([away, home], plays, NBA).y).toEqual([0.61]);
    expect(marketChartSeries([home, away], plays, NBA).y).toEqual([0.61]);
  });

  it('draws no market point without plays to place it (never invents a position)', () => {
    expect(marketChartSeries([marketPoint('2025-06-01T00:01:00Z', 0.6)], [], NBA)).toEqual({ x: [], y: [] });
  });

  it('merges both lines on one x axis, each null where the other has the point', () => {
    const probabilities = [probability(2, 0.55, 'x'), probability(3, 0.57, 'y')];
    const espn = chartSeries(probabilities, plays, NBA);
    expect(espn.x).toEqual([1, 2]);
    const market = marketChartSeries([marketPoint('2025-06-01T00:02:30Z', 0.6)], plays, NBA);
    expect(alignSeries(espn, market)).toEqual([
      [1, 1.5, 2],
      [0.55, null, 0.57],
      [null, 0.6, null],
    ]);
  });
});

describe('the gap between ESPN and the market', () => {
  it('is ESPN minus the market in percentage points, signed, one decimal', () => {
    expect(gapPoints(0.72, 0.685)).toBe('+3.5 pts');
    expect(gapPoints(0.4, 0.408)).toBe('−0.8 pts');
    expect(gapPoints(0.5, 0.5)).toBe('0.0 pts');
    expect(gapPoints(0.5, 0.5004)).toBe('0.0 pts'); // rounds to zero: no sign
  });
});

describe('saying what the market line is', () => {
  it('tells a game without a market plainly, with the reason as the title', () => {
    const absent = marketStatus({ state: 'absent', event_ticker: null, reason: 'Kalshi lists no market' });
    expect(marketNote(absent, [], false)).toEqual({ text: 'No Kalshi market for this game', title: 'Kalshi lists no market' });
    expect(marketNote(null, [], false)?.text).toMatch(/not followed/);
  });

  it('says since when a stale market has no new price, and nothing while a live one is drawn', () => {
    const points = [marketPoint('2025-06-01T00:41:00Z', 0.6)];
    expect(marketNote(marketStatus({ state: 'stale' }), points, true)?.text).toBe(
      'Kalshi market stale since 00:41:00 UTC: no new price',
    );
    expect(marketNote(marketStatus(), points, true)).toBeNull();
    expect(marketNote(marketStatus(), [], false)?.text).toMatch(/waiting/);
  });

  it('shows what a drawn market says of itself, such as being derived from the other team', () => {
    const note = 'KXNBAGAME-25MAY31NYKIND-IND: not recorded: derived as 100 − the prices of KXNBAGAME-25MAY31NYKIND-NYK';
    const points = [marketPoint('2025-06-01T00:41:00Z', 0.6)];
    expect(marketNote(marketStatus({ notes: [note] }), points, true)).toEqual({
      text: note,
      title: 'KXNBAGAME-25MAY31NYKIND',
    });
    // Before any price the note waits: the line it explains is not drawn yet.
    expect(marketNote(marketStatus({ notes: [note] }), [], false)?.text).toMatch(/waiting/);
  });

  it('shows the implied home price in the list, or a dash with the reason', () => {
    const base = { reason: null, event_ticker: null, ticker: null, last: null, time: '2025-06-01T00:41:00Z' };
    const live = game({ market: { ...base, state: 'live', implied_home: 0.62 } });
    expect(marketCell(live)).toMatchObject({ text: 'KSU 62%', state: 'live' });
    const absent = game({ market: { ...base, state: 'absent', implied_home: null, reason: 'none listed' } });
    expect(marketCell(absent)).toEqual({
      text: '—',
      title: 'No Kalshi market for this game (none listed)',
      state: 'absent',
    });
    expect(marketCell(game({ market: null }))).toMatchObject({ text: '—', state: 'unknown' });
  });

  it('writes the source-health line', () => {
    expect(healthText('live', [], 'live')).toBe('ESPN live · Market live');
    expect(healthText('degraded', ['plays', 'probabilities'], 'absent')).toBe(
      'ESPN degraded (plays, probabilities) · Market absent',
    );
    expect(healthText(null, [], null)).toBe('ESPN … · Market …');
    // Not published yet is said apart from degraded, and does not make ESPN degraded.
    expect(healthText('live', [], 'live', ['leaders'])).toBe(
      'ESPN live, not published yet: leaders · Market live',
    );
  });
});
