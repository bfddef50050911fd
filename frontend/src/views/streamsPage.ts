// `#/streams`: the operations page. Every stream with its status, owner, lease and health, refreshed
// every 2 s while the page is shown; cancel and restart behind the admin token.
//
// The token lives in this module's memory (so it survives moving between pages of the app) and, if
// the operator asks, in this tab's sessionStorage. It is never put in the URL or in the markup: the
// password field's value is a property, not an attribute.

import { ApiError, fetchStreams, NetworkError, operateStream, type StreamAction } from '../api';
import { h, reconcile, setAttrs, setText } from '../dom';
import { gameHref } from '../router';
import type { StreamRow } from '../types';

export const STREAMS_REFRESH_MS = 2_000;
const TOKEN_SESSION_KEY = 'pressbox.adminToken';

let tokenInMemory: string | null = null;

function sessionStore(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

function rememberedToken(): string {
  if (tokenInMemory !== null) return tokenInMemory;
  try {
    return sessionStore()?.getItem(TOKEN_SESSION_KEY) ?? '';
  } catch {
    return '';
  }
}

/** The facts shown for each stream, in order (status and game are in the card's heading). */
const FIELDS: readonly { key: string; label: string; value: (row: StreamRow) => string }[] = [
  { key: 'owner', label: 'Owner', value: (r) => r.owner ?? '—' },
  { key: 'lease', label: 'Lease age', value: (r) => leaseAge(r.lease_age_seconds) },
  { key: 'retries', label: 'Retries', value: (r) => String(r.retries) },
  { key: 'last-poll', label: 'Last poll', value: (r) => serverTime(r.last_poll_at) },
  { key: 'degraded', label: 'Degraded', value: (r) => (r.degraded.length > 0 ? r.degraded.join(', ') : 'none') },
  { key: 'unpublished', label: 'Not published', value: (r) => (r.unpublished?.length ? r.unpublished.join(', ') : '—') },
  { key: 'failure', label: 'Failure', value: failureText },
  { key: 'scheduled', label: 'Scheduled', value: (r) => serverTime(r.scheduled_at) },
  { key: 'started', label: 'Started', value: (r) => serverTime(r.started_at) },
  { key: 'ended', label: 'Ended', value: (r) => serverTime(r.ended_at) },
];

/** A failure's reason, prefixed by its cause when the server names one. */
export function failureText(row: StreamRow): string {
  if (row.failure_reason === null) return '—';
  return row.failure_cause ? `${row.failure_cause}: ${row.failure_reason}` : row.failure_reason;
}

/** A lease age: "4.2 s", "37 s", or a dash without an owner. */
export function leaseAge(value: number | null): string {
  if (value === null) return '—';
  return value < 10 ? `${value.toFixed(1)} s` : `${Math.round(value)} s`;
}

/** Times are on the server's clock (the replay clock during a replay): shown as they are, in UTC. */
export function serverTime(iso: string | null): string {
  if (iso === null) return '—';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

function statusClass(status: string): string {
  switch (status) {
    case 'Active':
      return 'badge badge-ok';
    case 'Failed':
    case 'Canceled':
      return 'badge badge-bad';
    case 'Paused':
    case 'Delayed':
    case 'Postponed':
      return 'badge badge-warn';
    default:
      return 'badge';
  }
}

/** One stream's card: built once, then updated in place (so focus stays on its buttons). */
class StreamCard {
  readonly element: HTMLLIElement;
  private readonly link: HTMLAnchorElement;
  private readonly league: HTMLElement;
  private readonly status: HTMLElement;
  private readonly health: HTMLElement;
  private readonly values = new Map<string, HTMLElement>();
  readonly buttons: Record<StreamAction, HTMLButtonElement>;

  constructor(
    readonly gameId: string,
    onAction: (card: StreamCard, action: StreamAction) => void,
  ) {
    this.link = h('a', { href: gameHref(gameId) });
    this.league = h('span', { class: 'stream-league muted' });
    this.status = h('span', { class: 'badge', 'data-testid': 'stream-status' });
    this.health = h('span', { class: 'badge badge-warn', hidden: true }, 'Degraded');
    const fields = h('dl', { class: 'stream-fields' });
    for (const field of FIELDS) {
      const value = h('dd', { 'data-field': field.key });
      this.values.set(field.key, value);
      fields.append(h('div', { class: 'stream-field' }, h('dt', {}, field.label), value));
    }
    const button = (action: StreamAction, text: string): HTMLButtonElement => {
      const el = h('button', { type: 'button', class: `button button-${action}`, 'data-action': action }, text);
      el.addEventListener('click', () => onAction(this, action));
      return el;
    };
    this.buttons = { cancel: button('cancel', 'Cancel'), restart: button('restart', 'Restart') };
    this.element = h(
      'li',
      { class: 'stream-card', 'data-testid': 'stream-row', 'data-game-id': gameId },
      h(
        'div',
        { class: 'stream-head' },
        h('h2', { class: 'stream-name' }, this.link),
        h('span', { class: 'stream-badges' }, this.status, this.health),
      ),
      this.league,
      fields,
      h('div', { class: 'stream-actions' }, this.buttons.cancel, this.buttons.restart),
    );
  }

  get name(): string {
    return this.link.textContent ?? this.gameId;
  }

  update(row: StreamRow): void {
    setText(this.link, row.name || `Game ${row.game_id}`);
    setText(this.league, `${row.league} · game ${row.game_id}`);
    setText(this.status, row.status);
    this.status.className = statusClass(row.status);
    this.health.hidden = row.degraded.length === 0;
    for (const field of FIELDS) setText(this.values.get(field.key) as HTMLElement, field.value(row));
    setAttrs(this.element, { 'data-status': row.status, 'data-degraded': row.degraded.join(',') });
    setAttrs(this.buttons.cancel, { 'aria-label': `Cancel the stream of ${this.name}` });
    setAttrs(this.buttons.restart, { 'aria-label': `Restart the stream of ${this.name}` });
  }

  setBusy(busy: boolean): void {
    this.buttons.cancel.disabled = busy;
    this.buttons.restart.disabled = busy;
    setAttrs(this.element, { 'aria-busy': busy ? 'true' : null });
  }
}

export class StreamsPage {
  readonly element: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly message: HTMLElement;
  private readonly updated: HTMLElement;
  private readonly feedback: HTMLElement;
  private readonly tokenInput: HTMLInputElement;
  private readonly remember: HTMLInputElement;
  private readonly cards = new Map<string, { item: StreamRow; el: HTMLLIElement }>();
  private readonly byId = new Map<string, StreamCard>();
  private timer: number | null = null;
  private abort: AbortController | null = null;
  private stopped = false;
  private refreshes = 0;
  private readonly onVisibility = (): void => {
    if (document.visibilityState === 'visible' && this.timer !== null) {
      window.clearTimeout(this.timer);
      void this.refresh();
    }
  };

  constructor() {
    this.tokenInput = h('input', {
      id: 'admin-token',
      type: 'password',
      autocomplete: 'off',
      spellcheck: 'false',
      'data-testid': 'admin-token',
      'aria-describedby': 'admin-token-help',
    });
    this.tokenInput.value = rememberedToken();
    this.remember = h('input', { id: 'remember-token', type: 'checkbox', 'data-testid': 'remember-token' });
    this.remember.checked = this.storedInSession();
    const forget = h('button', { type: 'button', class: 'button', 'data-testid': 'forget-token' }, 'Forget token');
    this.tokenInput.addEventListener('input', () => this.keepToken());
    this.remember.addEventListener('change', () => this.keepToken());
    forget.addEventListener('click', () => {
      this.tokenInput.value = '';
      this.remember.checked = false;
      this.keepToken();
      this.show('success', 'The admin token was forgotten.');
    });
    const tokenForm = h(
      'form',
      { class: 'token-form panel', 'data-testid': 'token-form', autocomplete: 'off' },
      h('label', { for: 'admin-token' }, 'Admin token'),
      h('div', { class: 'token-row' }, this.tokenInput, forget),
      h('label', { class: 'checkbox', for: 'remember-token' }, this.remember, ' Keep it for this browser tab'),
      h(
        'p',
        { id: 'admin-token-help', class: 'muted help' },
        'Needed to cancel or restart a stream. It stays in this page’s memory, and in this tab’s ' +
          'session storage only if you tick the box.',
      ),
    );
    tokenForm.addEventListener('submit', (ev) => ev.preventDefault());

    this.feedback = h('p', {
      class: 'feedback',
      'data-testid': 'ops-feedback',
      role: 'status',
      'aria-live': 'polite',
      hidden: true,
    });
    this.message = h('p', { class: 'muted' }, 'Loading streams…');
    this.updated = h('p', { class: 'muted updated', 'data-testid': 'streams-updated', 'data-refreshes': 0 });
    this.list = h('ul', { class: 'streams', 'data-testid': 'streams-list', 'aria-label': 'Streams' });
    this.element = h(
      'section',
      { class: 'streams-page', 'data-testid': 'streams-page' },
      h('h1', {}, 'Streams'),
      tokenForm,
      this.feedback,
      this.updated,
      this.message,
      this.list,
    );
  }

  start(): void {
    document.title = 'Streams · Pressbox';
    document.addEventListener('visibilitychange', this.onVisibility);
    void this.refresh();
  }

  destroy(): void {
    this.stopped = true;
    document.removeEventListener('visibilitychange', this.onVisibility);
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    this.abort?.abort();
  }

  private storedInSession(): boolean {
    try {
      const store = sessionStore();
      return store !== null && store.getItem(TOKEN_SESSION_KEY) !== null;
    } catch {
      return false;
    }
  }

  private keepToken(): void {
    const token = this.tokenInput.value.trim();
    tokenInMemory = token;
    try {
      const store = sessionStore();
      if (this.remember.checked && token !== '') store?.setItem(TOKEN_SESSION_KEY, token);
      else store?.removeItem(TOKEN_SESSION_KEY);
    } catch {
      // session storage refused: the token stays in memory only
    }
  }

  private async refresh(): Promise<void> {
    this.timer = null;
    this.abort = new AbortController();
    try {
      const rows = await fetchStreams(this.abort.signal);
      if (this.stopped) return;
      this.refreshes += 1;
      this.render(rows);
    } catch (error) {
      if (this.stopped) return;
      const reason = error instanceof ApiError ? error.message : 'could not reach the server';
      setText(this.message, `Could not refresh the streams (${reason}); retrying…`);
      this.message.hidden = false;
    } finally {
      // Paused while the tab is hidden; `onVisibility` resumes it.
      if (!this.stopped) this.timer = window.setTimeout(() => void this.poll(), STREAMS_REFRESH_MS);
    }
  }

  private poll(): void {
    if (document.visibilityState === 'hidden') {
      this.timer = window.setTimeout(() => void this.poll(), STREAMS_REFRESH_MS);
      return;
    }
    void this.refresh();
  }

  private render(rows: readonly StreamRow[]): void {
    setText(this.message, rows.length === 0 ? 'No streams yet.' : '');
    this.message.hidden = rows.length > 0;
    const now = new Date();
    setText(this.updated, `Updated ${now.toLocaleTimeString()} · refreshes every ${STREAMS_REFRESH_MS / 1000} s`);
    setAttrs(this.updated, { 'data-refreshes': this.refreshes });
    reconcile(
      this.list,
      rows,
      this.cards,
      (row) => row.game_id,
      (row) => {
        const card = new StreamCard(row.game_id, (c, action) => void this.operate(c, action));
        this.byId.set(row.game_id, card);
        return card.element;
      },
      (_el, row) => this.byId.get(row.game_id)?.update(row),
    );
    for (const id of this.byId.keys()) if (!this.cards.has(id)) this.byId.delete(id);
  }

  private async operate(card: StreamCard, action: StreamAction): Promise<void> {
    const token = this.tokenInput.value.trim();
    const verb = action === 'cancel' ? 'Cancel' : 'Restart';
    card.setBusy(true);
    this.show('pending', `${verb} of “${card.name}”…`);
    try {
      const row = await operateStream(card.gameId, action, token);
      if (this.stopped) return;
      card.update(row);
      const entry = this.cards.get(row.game_id);
      if (entry) entry.item = row;
      this.show('success', `${verb} of “${card.name}” done: the stream is now ${row.status}.`);
    } catch (error) {
      if (this.stopped) return;
      this.show('error', refusalText(verb, card.name, error, token === ''));
    } finally {
      card.setBusy(false);
    }
  }

  private show(kind: 'pending' | 'success' | 'error', text: string): void {
    this.feedback.hidden = false;
    setText(this.feedback, text);
    setAttrs(this.feedback, { 'data-kind': kind, role: kind === 'error' ? 'alert' : 'status' });
  }
}

/** The feedback line for an operation that did not succeed. */
export function refusalText(verb: string, name: string, error: unknown, noToken: boolean): string {
  const what = `${verb} of “${name}” refused`;
  if (error instanceof ApiError) {
    const hint = error.status === 401 && noToken ? ' (enter the admin token above)' : '';
    return `${what} (${error.status}): ${error.message}${hint}`;
  }
  if (error instanceof NetworkError) return `${verb} of “${name}” failed: ${error.message}.`;
  return `${verb} of “${name}” failed: ${error instanceof Error ? error.message : String(error)}.`;
}
