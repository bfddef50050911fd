import { describe, expect, it } from 'vitest';

import {
  applyEvents,
  chartSeries,
  clockSeconds,
  continuingEvents,
  fromSnapshot,
  probabilityKey,
  regulationSeconds,
} from './state';
import { event, play, probability, snapshot, status } from './test/fixtures';

describe('fromSnapshot', () => {
  it('takes the snapshot as the state at its seq, in its (game) order', () => {
    const state = fromSnapshot(snapshot({ plays: [play(2), play(1)] }));
    expect(state.seq).toBe(10);
    expect(state.plays.map((p) => p.id)).toEqual(['p2', 'p1']);
    expect(state.probabilities).toHaveLength(1);
    expect(state.game.home.score).toBe(7);
  });
});

describe('applyEvents', () => {
  it('applies a batch in seq order after the snapshot', () => {
    const state = fromSnapshot(snapshot());
    const result = applyEvents(state, [
      event(12, 'score', { home: 14, away: 7 }),
      event(11, 'play_added', play(3, { scoring: true, score_value: 7, home_score: 14, away_score: 7 })),
      event(13, 'status', status({ short_detail: '8:00 - 2nd', display_clock: '8:00' })),
      event(14, 'probability', probability(3, 0.71, '2025-08-23T16:30:00Z')),
    ]);
    expect(result.kind).toBe('ok');
    expect(result.applied).toBe(4);
    expect(result.state.seq).toBe(14);
    expect(result.state.game.seq).toBe(14);
    expect(result.state.game.home.score).toBe(14);
    expect(result.state.game.away.score).toBe(7);
    expect(result.state.game.status?.short_detail).toBe('8:00 - 2nd');
    expect(result.state.plays.map((p) => p.id)).toEqual(['p1', 'p2', 'p3']);
    expect(result.state.plays[2]?.scoring).toBe(true);
    expect(result.state.probabilities.map((p) => p.home)).toEqual([0.5, 0.71]);
  });

  it('does not mutate the previous state', () => {
    const state = fromSnapshot(snapshot());
    const plays = state.plays;
    const result = applyEvents(state, [event(11, 'play_added', play(3)), event(12, 'score', { home: 10, away: 7 })]);
    expect(result.state).not.toBe(state);
    expect(state.plays).toBe(plays);
    expect(state.plays).toHaveLength(2);
    expect(state.game.home.score).toBe(7);
    expect(state.seq).toBe(10);
  });

  it('ignores events with seq <= last applied (duplicates)', () => {
    const state = fromSnapshot(snapshot());
    const first = applyEvents(state, [event(11, 'play_added', play(3))]).state;
    const again = applyEvents(first, [
      event(9, 'score', { home: 0, away: 0 }),
      event(10, 'play_added', play(99)),
      event(11, 'play_added', play(3, { text: 'should not apply' })),
    ]);
    expect(again.kind).toBe('ok');
    expect(again.applied).toBe(0);
    expect(again.state).toBe(first); // nothing changed: same reference, no re-render
    expect(again.state.plays.map((p) => p.text)).toEqual(['Play 1', 'Play 2', 'Play 3']);
  });

  it('skips the duplicated prefix of an overlapping batch and applies the rest', () => {
    const state = applyEvents(fromSnapshot(snapshot()), [event(11, 'play_added', play(3))]).state;
    const result = applyEvents(state, [event(11, 'play_added', play(3)), event(12, 'play_added', play(4))]);
    expect(result.kind).toBe('ok');
    expect(result.applied).toBe(1);
    expect(result.state.plays.map((p) => p.id)).toEqual(['p1', 'p2', 'p3', 'p4']);
  });

  it('replaces a corrected play in place', () => {
    const state = fromSnapshot(snapshot({ plays: [play(1), play(2), play(3)] }));
    const result = applyEvents(state, [
      event(11, 'play_corrected', { ...play(2, { text: 'Corrected text', scoring: true }), previous_text: 'Play 2' }),
    ]);
    expect(result.kind).toBe('ok');
    expect(result.state.plays.map((p) => p.id)).toEqual(['p1', 'p2', 'p3']);
    expect(result.state.plays[1]?.text).toBe('Corrected text');
    expect(result.state.plays[1]?.scoring).toBe(true);
    expect(result.state.plays[1]).not.toHaveProperty('previous_text');
    expect(result.state.corrected.has('p2')).toBe(true);
    expect(state.corrected.has('p2')).toBe(false);
  });

  it('drops a removed play, and takes it back if ESPN lists it again', () => {
    const state = fromSnapshot(snapshot({ plays: [play(1), play(2), play(3)] }));
    const removed = applyEvents(state, [event(11, 'play_removed', { id: 'p2', previous_text: 'Play 2' })]);
    expect(removed.kind).toBe('ok');
    expect(removed.state.plays.map((p) => p.id)).toEqual(['p1', 'p3']);
    expect(state.plays.map((p) => p.id)).toEqual(['p1', 'p2', 'p3']); // the old view is untouched
    const back = applyEvents(removed.state, [event(12, 'play_added', play(2))]);
    expect(back.state.plays.map((p) => p.id)).toEqual(['p1', 'p3', 'p2']);
  });

  it('keeps a corrected play where it stands, even if its sequence number changed', () => {
    const state = fromSnapshot(snapshot({ plays: [play(1), play(2), play(3)] }));
    const moved = { ...play(2), sequence: 5, previous_text: 'Play 2' };
    const result = applyEvents(state, [event(11, 'play_corrected', moved)]);
    expect(result.state.plays.map((p) => `${p.id}@${p.sequence}`)).toEqual(['p1@1', 'p2@5', 'p3@3']);
  });

  it('appends new plays in arrival order and replaces a re-sent play_added', () => {
    const state = fromSnapshot(snapshot({ plays: [play(1), play(3)] }));
    const result = applyEvents(state, [
      event(11, 'play_added', play(2)),
      event(12, 'play_added', play(3, { text: 'Play 3 again' })),
    ]);
    expect(result.state.plays.map((p) => p.text)).toEqual(['Play 1', 'Play 3 again', 'Play 2']);
  });

  it('reports a gap when a batch starts after last + 1 and applies nothing past it', () => {
    const state = fromSnapshot(snapshot());
    const result = applyEvents(state, [event(12, 'play_added', play(3)), event(13, 'score', { home: 1, away: 2 })]);
    expect(result).toMatchObject({ kind: 'gap', applied: 0, expected: 11, got: 12 });
    expect(result.state.seq).toBe(10);
    expect(result.state.plays).toHaveLength(2);
  });

  it('reports a gap inside a batch, keeping what came before it', () => {
    const state = fromSnapshot(snapshot());
    const result = applyEvents(state, [
      event(11, 'play_added', play(3)),
      event(13, 'play_added', play(5)),
    ]);
    expect(result).toMatchObject({ kind: 'gap', applied: 1, expected: 12, got: 13 });
    expect(result.state.seq).toBe(11);
    expect(result.state.plays.map((p) => p.id)).toEqual(['p1', 'p2', 'p3']);
  });

  it('keeps situation and drives', () => {
    const state = fromSnapshot(snapshot());
    const situation = {
      down: 3,
      distance: 4,
      yard_line: 35,
      down_distance_text: '3rd & 4 at ISU 35',
      possession_text: 'ISU 35',
      possession_team_id: '2306',
      is_red_zone: false,
      home_timeouts: 3,
      away_timeouts: 2,
      last_play_id: 'p2',
    };
    const drive = {
      id: 'd1',
      team_id: '2306',
      description: '5 plays, 40 yards',
      result: null,
      is_score: false,
      start_text: 'KSU 25',
      end_text: null,
      plays: 5,
    };
    const result = applyEvents(state, [event(11, 'situation', situation), event(12, 'drive', drive)]);
    expect(result.state.situation).toEqual(situation);
    expect(result.state.drives.d1).toEqual(drive);
    expect(state.drives).toEqual({});
  });

  it('keeps probabilities that share a sequence but belong to different plays', () => {
    // Seen in the real NCAAF replay: ESPN gives several probabilities the same sequence.
    const state = fromSnapshot(snapshot({ probabilities: [] }));
    const a = { ...probability(7, 0.5, '2025-08-23T19:05:47Z'), play_id: 'a' };
    const b = { ...probability(7, 0.6, '2025-08-23T19:05:47Z'), play_id: 'b' };
    const result = applyEvents(state, [event(11, 'probability', a), event(12, 'probability', b)]);
    expect(result.state.probabilities.map((p) => p.play_id)).toEqual(['a', 'b']);
  });

  it('replaces a probability of the same play and appends new ones in arrival order', () => {
    const state = fromSnapshot(
      snapshot({
        probabilities: [probability(1, 0.5, '2025-08-23T16:05:00Z'), probability(3, 0.6, '2025-08-23T16:07:00Z')],
      }),
    );
    const result = applyEvents(state, [
      event(11, 'probability', probability(3, 0.65, '2025-08-23T16:07:00Z')),
      event(12, 'probability', probability(2, 0.55, '2025-08-23T16:06:00Z')),
    ]);
    expect(result.state.probabilities.map((p) => [p.sequence, p.home])).toEqual([
      [1, 0.5],
      [3, 0.65],
      [2, 0.55],
    ]);
  });
});

describe('plays learnt late (before)', () => {
  // The scoreboard shows a game's last play (p5, a preview) before the plays document brings the
  // plays that came before it: those carry `before: "p5"`.
  const preview = play(5, { sequence: null, drive_id: null, preview: true, clock: '9:00' });
  const late = (n: number, before: string | null | undefined) => ({ ...play(n, { clock: `${15 - n}:00` }), before });

  it('inserts a play right before the play it precedes, in arrival order among them', () => {
    const state = fromSnapshot(snapshot({ plays: [play(1), play(2), preview] }));
    const result = applyEvents(state, [
      event(11, 'play_added', late(3, 'p5')),
      event(12, 'play_added', late(4, 'p5')),
      event(13, 'play_added', play(6)),
      event(14, 'play_added', late(0, 'p1')),
    ]);
    expect(result.state.plays.map((p) => p.id)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    expect(result.state.plays[3]).not.toHaveProperty('before');
    expect(state.plays.map((p) => p.id)).toEqual(['p1', 'p2', 'p5']); // the old view is untouched
  });

  it('appends when the play it precedes is not there, or before is null', () => {
    const state = fromSnapshot(snapshot({ plays: [play(1), preview] }));
    const result = applyEvents(state, [
      event(11, 'play_removed', { id: 'p5', previous_text: 'Play 5' }),
      event(12, 'play_added', late(3, 'p5')),
      event(13, 'play_added', late(4, 'p99')),
      event(14, 'play_added', late(6, null)),
    ]);
    expect(result.state.plays.map((p) => p.id)).toEqual(['p1', 'p3', 'p4', 'p6']);
  });

  it('keeps a known play where it stands, whatever its before says', () => {
    const state = fromSnapshot(snapshot({ plays: [play(1), play(2), preview] }));
    const result = applyEvents(state, [event(11, 'play_added', late(5, 'p1'))]);
    expect(result.state.plays.map((p) => p.id)).toEqual(['p1', 'p2', 'p5']);
    expect(result.state.plays[2]?.preview).toBeUndefined();
  });

  it("completes a preview in place without marking it corrected; a real correction is marked", () => {
    const state = fromSnapshot(snapshot({ plays: [play(1), preview] }));
    const full = { ...play(5, { clock: '9:00', text: 'Full text' }), previous_text: 'Play 5', completes: true };
    const completed = applyEvents(state, [event(11, 'play_corrected', full)]);
    expect(completed.state.plays.map((p) => [p.id, p.text, p.sequence, p.preview])).toEqual([
      ['p1', 'Play 1', 1, undefined],
      ['p5', 'Full text', 5, undefined],
    ]);
    expect(completed.state.plays[1]).not.toHaveProperty('completes');
    expect(completed.state.corrected.size).toBe(0);
    const fixed = { ...play(5, { text: 'Reviewed' }), previous_text: 'Full text', completes: false };
    expect(applyEvents(completed.state, [event(12, 'play_corrected', fixed)]).state.corrected.has('p5')).toBe(true);
  });

  it("puts a late play's probability before the points of the plays after it", () => {
    const at = (n: number, home: number) => ({ ...probability(n, home, '2025-08-23T16:05:00Z'), sequence: null });
    const state = fromSnapshot(
      snapshot({ plays: [late(1, null), late(2, null), preview], probabilities: [at(1, 0.5), at(5, 0.8)] }),
    );
    const result = applyEvents(state, [
      event(11, 'play_added', late(3, 'p5')),
      event(12, 'play_added', late(4, 'p5')),
      event(13, 'probability', at(4, 0.7)),
      event(14, 'probability', at(3, 0.6)),
      event(15, 'probability', at(2, 0.55)), // p2 came before p3: in play order too
      event(16, 'play_added', play(6, { clock: '8:00' })),
      event(17, 'probability', at(6, 0.9)),
    ]);
    expect(result.state.probabilities.map((p) => p.play_id)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    const x = chartSeries(result.state.probabilities, result.state.plays).x;
    expect(x).toEqual([...x].sort((a, b) => a - b));
    expect(new Set(x).size).toBe(x.length); // no point held at a later play's x
    expect(state.probabilities.map((p) => p.play_id)).toEqual(['p1', 'p5']);
  });

  it('appends a point whose play is unknown or null, and never passes over such a point', () => {
    const at = (n: number, playId: string | null) => ({ ...probability(n, 0.5, 't'), play_id: playId });
    const state = fromSnapshot(snapshot({ plays: [play(1), play(2), play(3)], probabilities: [at(1, 'p1')] }));
    const result = applyEvents(state, [
      event(11, 'probability', at(3, 'p3')),
      event(12, 'probability', at(9, 'p9')), // not a known play (yet): at the end
      event(13, 'probability', at(2, 'p2')), // would go before p3's point, but not past p9's
      event(14, 'probability', at(7, null)),
    ]);
    expect(result.state.probabilities.map((p) => p.play_id)).toEqual(['p1', 'p3', 'p9', 'p2', null]);
  });
});

describe('probabilityKey', () => {
  it('is the play when known, else the sequence, else nothing', () => {
    const p = probability(7, 0.5, 't');
    expect(probabilityKey(p)).toBe('play:p7');
    expect(probabilityKey({ ...p, sequence: null })).toBe('play:p7');
    expect(probabilityKey({ ...p, play_id: null })).toBe('seq:7');
    expect(probabilityKey({ ...p, play_id: null, sequence: null })).toBeNull();
  });

  it('replaces by play even without a sequence, and keeps points with no identity at all', () => {
    const state = fromSnapshot(snapshot({ probabilities: [] }));
    const bare = { ...probability(1, 0.5, 't'), play_id: null, sequence: null };
    const result = applyEvents(state, [
      event(11, 'probability', { ...probability(1, 0.5, 't'), sequence: null }),
      event(12, 'probability', { ...probability(1, 0.6, 't'), sequence: null }),
      event(13, 'probability', bare),
      event(14, 'probability', { ...bare, home: 0.7 }),
    ]);
    expect(result.state.probabilities.map((p) => [p.play_id, p.home])).toEqual([
      ['p1', 0.6],
      [null, 0.5],
      [null, 0.7],
    ]);
  });
});

describe('chartSeries', () => {
  const at = (sequence: number, home: number, secondsLeft: number | null, playId: string | null = null) => ({
    ...probability(sequence, home, '2025-08-23T16:05:00Z'),
    play_id: playId,
    seconds_left: secondsLeft,
  });

  it('places points at game minutes elapsed from seconds_left, never going back', () => {
    const series = chartSeries([at(1, 0.5, 3600), at(2, 0.6, 2700), at(3, 0.7, null), at(4, 0.4, 2760), at(5, 0.9, 60)]);
    expect(series.x).toEqual([0, 15, 15, 15, 59]);
    expect(series.y).toEqual([0.5, 0.6, 0.7, 0.4, 0.9]);
  });

  it("prefers the play's period and clock, and ignores a seconds_left of 0", () => {
    const plays = [{ ...play(1), id: 'a', period: 2, clock: '10:30' }, { ...play(2), id: 'b', period: 4, clock: '26.1' }];
    const series = chartSeries([at(1, 0.5, 0, 'a'), at(2, 0.6, 0, 'missing'), at(3, 0.7, 0, 'b')], plays, 2880);
    expect(series.x).toEqual([13.5, 13.5, (36 * 60 + 720 - 26.1) / 60]);
  });

  it('reads display clocks', () => {
    expect(clockSeconds('12:01')).toBe(721);
    expect(clockSeconds('26.1')).toBe(26.1);
    expect(clockSeconds('0:00')).toBe(0);
    expect(clockSeconds('soon')).toBeNull();
  });

  it('uses the regulation length of the sport', () => {
    expect(regulationSeconds('basketball')).toBe(2880);
    expect(regulationSeconds('football')).toBe(3600);
    expect(chartSeries([at(1, 0.5, 1440)], [], 2880).x).toEqual([24]);
  });
});

describe('continuingEvents', () => {
  it('keeps what continues the seq, in order, without duplicates', () => {
    const result = continuingEvents(10, [
      event(12, 'score', { home: 14, away: 7 }),
      event(9, 'score', { home: 7, away: 7 }),
      event(11, 'play_added', play(3)),
    ]);
    expect(result.gap).toBe(false);
    expect(result.seq).toBe(12);
    expect(result.events.map((e) => e.seq)).toEqual([11, 12]);
  });

  it('stops at a gap, as applyEvents does', () => {
    const batch = [event(11, 'play_added', play(3)), event(13, 'score', { home: 14, away: 7 })];
    const result = continuingEvents(10, batch);
    expect(result).toMatchObject({ gap: true, seq: 11 });
    expect(result.events.map((e) => e.seq)).toEqual([11]);
    const applied = applyEvents(fromSnapshot(snapshot()), batch);
    expect(applied.kind).toBe('gap');
    expect(applied.state.seq).toBe(result.seq);
  });
});
