import { describe, expect, it } from 'vitest';

import { ApiError, NetworkError } from '../api';
import type { Webhook, WebhookAttempt } from '../types';
import {
  answerText,
  cursorList,
  DELIVERY_COLUMNS,
  deliveriesCaption,
  detailRefusalText,
  detailSummary,
  eventsText,
  failingSinceText,
  leagueText,
  NO_WEBHOOKS,
  seqsText,
  WEBHOOK_COLUMNS,
  webhooksCountText,
  webhookStatusLabel,
  webhooksRefusalText,
  WEBHOOKS_NEED_TOKEN,
} from './webhooksSection';

function hook(fields: Partial<Webhook> = {}): Webhook {
  return {
    id: 3,
    url: 'https://example.com/hooks/pressbox',
    events: null,
    league: null,
    status: 'active',
    created_at: '2025-08-23T15:00:00Z',
    delivered: 1204,
    last_success_at: '2025-08-23T16:10:12.532000Z',
    failing_since: null,
    last_error: null,
    owner: 'runner-a:1234',
    lease_expires_at: '2025-08-23T16:10:42Z',
    ...fields,
  };
}

function attempt(fields: Partial<WebhookAttempt> = {}): WebhookAttempt {
  return {
    at: '2025-08-23T16:10:12Z',
    game_id: '401756846',
    first_seq: 42,
    last_seq: 57,
    events: 16,
    status_code: 200,
    error: null,
    duration_ms: 1234,
    ok: true,
    ...fields,
  };
}

const cells = <T>(columns: readonly { text: (row: T) => string }[], row: T): string[] =>
  columns.map((column) => column.text(row));

describe('webhooks section rows', () => {
  it('formats a subscription row', () => {
    expect(WEBHOOK_COLUMNS.map((c) => c.label)).toEqual([
      'ID',
      'URL',
      'Events',
      'League',
      'Status',
      'Delivered',
      'Last success',
      'Last error',
      'Held by',
    ]);
    expect(cells(WEBHOOK_COLUMNS, hook())).toEqual([
      '3',
      'https://example.com/hooks/pressbox',
      'all',
      'all',
      'Active',
      '1,204',
      '2025-08-23 16:10:12 UTC',
      '—',
      'runner-a:1234',
    ]);
  });

  it('shows filters, a failing subscription and one nobody holds', () => {
    const failing = hook({
      events: ['play_added', 'score'],
      league: 'nba',
      status: 'failing',
      failing_since: '2025-08-23T16:00:00Z',
      last_success_at: null,
      last_error: 'HTTP 500',
      owner: null,
      delivered: 0,
    });
    expect(cells(WEBHOOK_COLUMNS, failing)).toEqual([
      '3',
      'https://example.com/hooks/pressbox',
      'play_added, score',
      'nba',
      'Failing',
      '0',
      '—',
      'HTTP 500',
      '—',
    ]);
    expect(failingSinceText(failing)).toBe('since 2025-08-23 16:00:00 UTC');
    expect(failingSinceText(hook())).toBe('');
    expect(eventsText([])).toBe('all');
    expect(leagueText('')).toBe('all');
    expect(webhookStatusLabel('paused')).toBe('paused');
  });

  it('counts subscriptions and sums one up', () => {
    expect(webhooksCountText(1)).toBe('1 subscription');
    expect(webhooksCountText(2)).toBe('2 subscriptions');
    expect(detailSummary(hook())).toBe(
      'https://example.com/hooks/pressbox · 1,204 events delivered · created 2025-08-23 15:00:00 UTC',
    );
  });
});

describe('webhooks delivery log', () => {
  it('formats a delivered attempt', () => {
    expect(DELIVERY_COLUMNS.map((c) => c.label)).toEqual(['At', 'Game', 'Seqs', 'Events', 'Answer', 'ms']);
    expect(cells(DELIVERY_COLUMNS, attempt())).toEqual([
      '2025-08-23 16:10:12 UTC',
      '401756846',
      '42–57',
      '16',
      'ok',
      '1,234',
    ]);
  });

  it('answers with the error, the status, or that there was no answer', () => {
    expect(answerText(attempt({ ok: false, status_code: 500, error: 'HTTP 500' }))).toBe('HTTP 500');
    const refused = attempt({ ok: false, status_code: null, error: 'ConnectError: All connection attempts failed' });
    expect(answerText(refused)).toBe('ConnectError: All connection attempts failed');
    expect(answerText(attempt({ ok: false, status_code: 503, error: null }))).toBe('HTTP 503');
    expect(answerText(attempt({ ok: false, status_code: null, error: null }))).toBe('no answer');
  });

  it('formats seq ranges', () => {
    expect(seqsText(42, 57)).toBe('42–57');
    expect(seqsText(57, 57)).toBe('57');
    expect(seqsText(null, 57)).toBe('57');
    expect(seqsText(null, null)).toBe('—');
  });

  it('lists cursors by game id and captions the log', () => {
    expect(cursorList({ '401772994': 12, '401547417': 300, '99': 1 })).toEqual([
      { gameId: '99', seq: 1 },
      { gameId: '401547417', seq: 300 },
      { gameId: '401772994', seq: 12 },
    ]);
    expect(cursorList({})).toEqual([]);
    expect(deliveriesCaption(0)).toBe('No delivery attempts yet.');
    expect(deliveriesCaption(1)).toBe('1 attempt, newest first (the last 50).');
    expect(deliveriesCaption(50)).toBe('50 attempts, newest first (the last 50).');
  });
});

describe('webhooks section messages', () => {
  it('asks for the admin token without one, in one short line', () => {
    expect(WEBHOOKS_NEED_TOKEN).toBe('Webhook subscriptions need the admin token: enter it above to see them.');
    expect(NO_WEBHOOKS).toContain('No webhook subscriptions');
  });

  it('shows refusals as the stream operations do', () => {
    const wrong = new ApiError(401, 'missing or wrong admin token');
    expect(webhooksRefusalText(wrong, false)).toBe('Webhooks refused (401): missing or wrong admin token');
    expect(webhooksRefusalText(wrong, true)).toBe(
      'Webhooks refused (401): missing or wrong admin token (enter the admin token above)',
    );
    const unconfigured = new ApiError(403, 'admin token not configured');
    expect(webhooksRefusalText(unconfigured, false)).toBe('Webhooks refused (403): admin token not configured');
    const offline = new NetworkError(new TypeError('Failed to fetch'));
    expect(webhooksRefusalText(offline, false)).toBe('Webhooks failed: could not reach the server (Failed to fetch).');
    expect(detailRefusalText(3, new ApiError(500, 'boom'), false)).toBe('Webhook 3 refused (500): boom');
  });
});
