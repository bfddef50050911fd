import { describe, expect, it } from 'vitest';

import { ApiError, NetworkError } from '../api';
import type { StreamRow } from '../types';
import {
  compareValues,
  countText,
  failureText,
  leaseAge,
  matchesStatus,
  nextSort,
  refusalText,
  requestCount,
  serverTime,
  shownText,
  sortCaption,
  sortStreams,
  STREAM_COLUMNS,
  statusOptions,
  timeParts,
  timeValue,
} from './streamsPage';

function row(gameId: string, fields: Partial<StreamRow> = {}): StreamRow {
  return {
    game_id: gameId,
    name: `Game ${gameId}`,
    league: 'nfl',
    status: 'Scheduled',
    owner: null,
    lease_age_seconds: null,
    lease_expires_at: null,
    retries: 0,
    last_poll_at: null,
    fetches: {},
    degraded: [],
    unpublished: [],
    failure_reason: null,
    failure_cause: null,
    scheduled_at: '2025-08-23T15:50:00Z',
    started_at: null,
    ended_at: null,
    ...fields,
  };
}

const ids = (rows: readonly StreamRow[]): string[] => rows.map((r) => r.game_id);

describe('streams page text', () => {
  it('shows the server detail of a refusal with its status', () => {
    const refused = new ApiError(409, 'stream cannot go from Completed to Canceled');
    expect(refusalText('Cancel', 'ISU at KSU', refused, false)).toBe(
      'Cancel of “ISU at KSU” refused (409): stream cannot go from Completed to Canceled',
    );
  });

  it('hints at the token field when a call without token is refused', () => {
    const refused = new ApiError(401, 'missing or wrong admin token');
    expect(refusalText('Restart', 'G', refused, true)).toBe(
      'Restart of “G” refused (401): missing or wrong admin token (enter the admin token above)',
    );
    expect(refusalText('Restart', 'G', refused, false)).not.toContain('enter the admin token');
    const unconfigured = new ApiError(403, 'admin token not configured');
    expect(refusalText('Cancel', 'G', unconfigured, false)).toContain('(403): admin token not configured');
  });

  it('says when the server could not be reached', () => {
    const error = new NetworkError(new TypeError('Failed to fetch'));
    expect(refusalText('Cancel', 'G', error, false)).toBe(
      'Cancel of “G” failed: could not reach the server (Failed to fetch).',
    );
  });

  it('formats lease ages and server times', () => {
    expect(leaseAge(null)).toBe('—');
    expect(leaseAge(4.24)).toBe('4.2 s');
    expect(leaseAge(37.6)).toBe('38 s');
    expect(serverTime('2025-08-23T16:10:12Z')).toBe('2025-08-23 16:10:12 UTC');
    expect(serverTime('2025-08-23T16:10:12.532+00:00')).toBe('2025-08-23 16:10:12 UTC');
    expect(serverTime(null)).toBe('—');
    expect(serverTime('soon')).toBe('soon');
  });
});

describe('streams table columns', () => {
  it('has the operator columns in order, each a cell field', () => {
    expect(STREAM_COLUMNS.map((c) => c.key)).toEqual([
      'status',
      'game',
      'league',
      'owner',
      'lease',
      'last-poll',
      'requests',
      'degraded',
      'unpublished',
      'failure',
      'retries',
      'scheduled',
      'started',
      'ended',
    ]);
  });

  it('shows requests, lists and failures', () => {
    const text = (key: string, r: StreamRow): string =>
      (STREAM_COLUMNS.find((c) => c.key === key) as (typeof STREAM_COLUMNS)[number]).text(r);
    const busy = row('1', {
      fetches: { requests: 1069, bytes: 2104332, skipped: 38, waited: 12.5 },
      degraded: ['plays', 'situation'],
      unpublished: ['leaders'],
      failure_reason: 'ran 12 h',
      failure_cause: 'limit',
    });
    expect(requestCount(busy)).toBe(1069);
    expect(text('requests', busy)).toBe('1,069');
    expect(text('degraded', busy)).toBe('plays, situation');
    expect(text('unpublished', busy)).toBe('leaders');
    expect(text('failure', busy)).toBe('limit: ran 12 h');
    const fresh = row('2', { fetches: {}, unpublished: undefined });
    expect(requestCount(fresh)).toBeNull();
    expect(requestCount(row('3', { fetches: undefined }))).toBeNull();
    expect(text('requests', fresh)).toBe('—');
    expect(text('degraded', fresh)).toBe('—');
    expect(text('unpublished', fresh)).toBe('—');
    expect(failureText(row('4', { failure_reason: 'gone' }))).toBe('gone');
    expect(text('game', row('5', { name: '' }))).toBe('Game 5');
    expect(countText(0)).toBe('0');
    expect(countText(null)).toBe('—');
  });
});

describe('sorting streams', () => {
  it('compares numbers numerically and puts empty values last either way', () => {
    expect(compareValues(9, 10, 'ascending')).toBeLessThan(0);
    expect(compareValues(9, 10, 'descending')).toBeGreaterThan(0);
    expect(compareValues('game 9', 'Game 10', 'ascending')).toBeLessThan(0);
    expect(compareValues(null, 1, 'ascending')).toBeGreaterThan(0);
    expect(compareValues(null, 1, 'descending')).toBeGreaterThan(0);
    expect(compareValues(1, null, 'descending')).toBeLessThan(0);
    expect(compareValues(null, null, 'ascending')).toBe(0);
  });

  it('splits a server time into its date and clock time', () => {
    expect(timeParts('2025-08-23T16:10:12.532+00:00')).toEqual({ date: '2025-08-23', clock: '16:10:12 UTC' });
    expect(timeParts(null)).toBeNull();
    expect(timeParts('soon')).toBeNull();
  });

  it('reads times chronologically', () => {
    expect(timeValue('2025-08-23T16:10:12Z')).toBe(Date.UTC(2025, 7, 23, 16, 10, 12));
    expect(timeValue('2025-08-23T16:10:12.500+00:00')).toBe(Date.UTC(2025, 7, 23, 16, 10, 12, 500));
    expect(timeValue(null)).toBeNull();
    expect(timeValue('soon')).toBeNull();
  });

  const rows = [
    row('a', { lease_age_seconds: 9.5, fetches: { requests: 100 }, last_poll_at: '2025-08-23T16:00:00Z' }),
    row('b', { lease_age_seconds: null, fetches: {}, last_poll_at: null }),
    row('c', { lease_age_seconds: 12, fetches: { requests: 20 }, last_poll_at: '2025-08-23T15:59:59.900Z' }),
    row('d', { lease_age_seconds: 2, fetches: { requests: 3000 }, last_poll_at: '2025-08-23T16:00:00.100+00:00' }),
  ];

  it('keeps the served order without a sort, and returns a new array', () => {
    const sorted = sortStreams(rows, null);
    expect(ids(sorted)).toEqual(['a', 'b', 'c', 'd']);
    expect(sorted).not.toBe(rows);
    expect(ids(sortStreams(rows, { key: 'no-such-column', direction: 'ascending' }))).toEqual(['a', 'b', 'c', 'd']);
  });

  it('sorts numbers numerically, nulls last in both directions', () => {
    expect(ids(sortStreams(rows, { key: 'requests', direction: 'ascending' }))).toEqual(['c', 'a', 'd', 'b']);
    expect(ids(sortStreams(rows, { key: 'requests', direction: 'descending' }))).toEqual(['d', 'a', 'c', 'b']);
    expect(ids(sortStreams(rows, { key: 'lease', direction: 'ascending' }))).toEqual(['d', 'a', 'c', 'b']);
    expect(ids(sortStreams(rows, { key: 'lease', direction: 'descending' }))).toEqual(['c', 'a', 'd', 'b']);
  });

  it('sorts times chronologically, whatever their notation', () => {
    expect(ids(sortStreams(rows, { key: 'last-poll', direction: 'ascending' }))).toEqual(['c', 'a', 'd', 'b']);
    expect(ids(sortStreams(rows, { key: 'last-poll', direction: 'descending' }))).toEqual(['d', 'a', 'c', 'b']);
  });

  it('sorts statuses in lifecycle order and text case-insensitively; ties keep the served order', () => {
    const mixed = [
      row('1', { status: 'Failed', name: 'b game', owner: 'host-10' }),
      row('2', { status: 'Active', name: 'A game', owner: null }),
      row('3', { status: 'Scheduled', name: 'C game', owner: 'host-9' }),
      row('4', { status: 'Active', name: 'a game', owner: 'host-9' }),
    ];
    expect(ids(sortStreams(mixed, { key: 'status', direction: 'ascending' }))).toEqual(['3', '2', '4', '1']);
    expect(ids(sortStreams(mixed, { key: 'status', direction: 'descending' }))).toEqual(['1', '2', '4', '3']);
    expect(ids(sortStreams(mixed, { key: 'game', direction: 'ascending' }))).toEqual(['2', '4', '1', '3']);
    expect(ids(sortStreams(mixed, { key: 'owner', direction: 'ascending' }))).toEqual(['3', '4', '1', '2']);
    expect(ids(sortStreams(mixed, { key: 'owner', direction: 'descending' }))).toEqual(['1', '3', '4', '2']);
  });

  it('sorts the health columns by how many documents they list', () => {
    const health = [
      row('1', { degraded: ['plays'] }),
      row('2', { degraded: [] }),
      row('3', { degraded: ['plays', 'drives'] }),
    ];
    expect(ids(sortStreams(health, { key: 'degraded', direction: 'descending' }))).toEqual(['3', '1', '2']);
  });

  it('toggles the direction on the same column and starts ascending on another', () => {
    expect(nextSort(null, 'requests')).toEqual({ key: 'requests', direction: 'ascending' });
    expect(nextSort({ key: 'requests', direction: 'ascending' }, 'requests')).toEqual({
      key: 'requests',
      direction: 'descending',
    });
    expect(nextSort({ key: 'requests', direction: 'descending' }, 'requests')).toEqual({
      key: 'requests',
      direction: 'ascending',
    });
    expect(nextSort({ key: 'requests', direction: 'descending' }, 'lease')).toEqual({
      key: 'lease',
      direction: 'ascending',
    });
  });

  it('says how the table is ordered', () => {
    expect(sortCaption(null)).toContain('server’s order, earliest scheduled first');
    expect(sortCaption({ key: 'lease', direction: 'descending' })).toContain('sorted by Lease age, descending');
  });
});

describe('filtering streams by status', () => {
  const rows = [
    row('1', { status: 'Failed' }),
    row('2', { status: 'Active' }),
    row('3', { status: 'Active' }),
    row('4', { status: 'Weird' }),
    row('5', { status: 'Scheduled' }),
  ];

  it('lists All and each present status with its count, in lifecycle order', () => {
    expect(statusOptions(rows, '')).toEqual([
      { value: '', label: 'All (5)' },
      { value: 'Scheduled', label: 'Scheduled (1)' },
      { value: 'Active', label: 'Active (2)' },
      { value: 'Failed', label: 'Failed (1)' },
      { value: 'Weird', label: 'Weird (1)' },
    ]);
    expect(statusOptions([], '')).toEqual([{ value: '', label: 'All (0)' }]);
  });

  it('keeps the chosen status listed after its last stream moved on', () => {
    expect(statusOptions(rows, 'Canceled').map((o) => o.label)).toContain('Canceled (0)');
  });

  it('matches rows and counts what shows', () => {
    expect(rows.filter((r) => matchesStatus(r, 'Active')).map((r) => r.game_id)).toEqual(['2', '3']);
    expect(rows.filter((r) => matchesStatus(r, '')).length).toBe(5);
    expect(shownText(2, 60)).toBe('2 of 60 streams');
    expect(shownText(1, 1)).toBe('1 of 1 stream');
  });
});
