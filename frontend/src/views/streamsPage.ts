// `#/streams`: the operations page. Every stream in one dense table (status, owner, lease, health,
// upstream requests, times), refreshed every 2 s while the page is shown; sortable by any column,
// filtered by status; cancel (after a confirmation dialog) and restart behind the admin token. Below
// it, the webhook subscriptions and the delivery log of the one expanded (webhooksSection.ts), shown
// with the admin token and refreshed in the same cycle.
//
// The token lives in this module's memory (so it survives moving between pages of the app) and, if
// the operator asks, in this tab's sessionStorage. It is never put in the URL or in the markup: the
// password field's value is a property, not an attribute. The sort and the status filter are kept in
// this module's memory too.

import { ApiError, fetchStreams, operateStream, type StreamAction } from '../api';
import { h, reconcile, setAttrs, setText } from '../dom';
import { gameHref } from '../router';
import type { StreamRow } from '../types';
import { countText, refusalLine, serverTime, timeParts } from './opsText';
import { WebhooksSection } from './webhooksSection';

export { countText, serverTime, timeParts };

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

// ---------------------------------------------------------------------------------------------
// Pure helpers: formatting, columns, sorting and filtering (unit-tested in streamsPage.test.ts).

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

/** A time as epoch milliseconds, for sorting; null when absent or unreadable. */
export function timeValue(iso: string | null | undefined): number | null {
  if (iso === null || iso === undefined) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

/** The upstream requests a stream sent so far (`fetches.requests`); null before any report. */
export function requestCount(row: StreamRow): number | null {
  const value = row.fetches?.requests;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Stream statuses in lifecycle order (src/pressbox/domain/lifecycle.py): the status column's sort
 *  order and the filter's order. A status not listed here sorts after them. */
export const STATUS_ORDER: readonly string[] = [
  'Scheduled',
  'AwaitingStart',
  'Active',
  'Paused',
  'Delayed',
  'Postponed',
  'Canceled',
  'Completed',
  'Failed',
];

function statusRank(status: string): number {
  const rank = STATUS_ORDER.indexOf(status);
  return rank === -1 ? STATUS_ORDER.length : rank;
}

export type SortValue = string | number | null;
export type SortDirection = 'ascending' | 'descending';
export interface SortState {
  key: string;
  direction: SortDirection;
}

export interface Column {
  /** Also the `data-field` of the column's cells. */
  key: string;
  label: string;
  /** How the column compares: text (case-insensitive, digits as numbers), numbers, times
   *  (chronologically), statuses (lifecycle order) or lists of documents (by how many). */
  kind: 'text' | 'number' | 'time' | 'status' | 'list';
  /** What the column sorts by: null (empty) sorts last in either direction. */
  sortValue: (row: StreamRow) => SortValue;
  /** What the cell shows (the game column shows a link, the status column a badge). */
  text: (row: StreamRow) => string;
  /** A time column's ISO time (its cell shows the date and the clock time on two lines). */
  time?: (row: StreamRow) => string | null;
}

/** A column of server times: sorted chronologically, shown in UTC. */
function timeColumn(key: string, label: string, time: (row: StreamRow) => string | null): Column {
  return {
    key,
    label,
    kind: 'time',
    sortValue: (r) => timeValue(time(r)),
    text: (r) => serverTime(time(r)),
    time,
  };
}

function listText(values: readonly string[] | undefined): string {
  return values && values.length > 0 ? values.join(', ') : '—';
}

/** The table's columns, in order (the actions column follows them). */
export const STREAM_COLUMNS: readonly Column[] = [
  { key: 'status', label: 'Status', kind: 'status', sortValue: (r) => statusRank(r.status), text: (r) => r.status },
  { key: 'game', label: 'Game', kind: 'text', sortValue: (r) => gameName(r), text: (r) => gameName(r) },
  { key: 'league', label: 'League', kind: 'text', sortValue: (r) => r.league || null, text: (r) => r.league },
  { key: 'owner', label: 'Owner', kind: 'text', sortValue: (r) => r.owner, text: (r) => r.owner ?? '—' },
  {
    key: 'lease',
    label: 'Lease age',
    kind: 'number',
    sortValue: (r) => r.lease_age_seconds,
    text: (r) => leaseAge(r.lease_age_seconds),
  },
  timeColumn('last-poll', 'Last poll', (r) => r.last_poll_at),
  {
    key: 'requests',
    label: 'Requests',
    kind: 'number',
    sortValue: requestCount,
    text: (r) => countText(requestCount(r)),
  },
  {
    key: 'degraded',
    label: 'Degraded',
    kind: 'list',
    sortValue: (r) => r.degraded.length,
    text: (r) => listText(r.degraded),
  },
  {
    key: 'unpublished',
    label: 'Not published',
    kind: 'list',
    sortValue: (r) => (r.unpublished === undefined ? null : r.unpublished.length),
    text: (r) => listText(r.unpublished),
  },
  {
    key: 'failure',
    label: 'Failure',
    kind: 'text',
    sortValue: (r) => (r.failure_reason === null ? null : failureText(r)),
    text: failureText,
  },
  { key: 'retries', label: 'Retries', kind: 'number', sortValue: (r) => r.retries, text: (r) => String(r.retries) },
  timeColumn('scheduled', 'Scheduled', (r) => r.scheduled_at),
  timeColumn('started', 'Started', (r) => r.started_at),
  timeColumn('ended', 'Ended', (r) => r.ended_at),
];

function columnOf(key: string): Column | undefined {
  return STREAM_COLUMNS.find((c) => c.key === key);
}

/** The name a stream's game goes by (its id before the first ESPN documents named it). */
export function gameName(row: StreamRow): string {
  return row.name || `Game ${row.game_id}`;
}

const COLLATOR = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Compares two sort values: numbers numerically, text by the collator; null last either way. */
export function compareValues(a: SortValue, b: SortValue, direction: SortDirection): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const order = typeof a === 'number' && typeof b === 'number' ? a - b : COLLATOR.compare(String(a), String(b));
  return direction === 'ascending' ? order : -order;
}

/** The rows in the sort's order; equal values (and no sort at all) keep the served order, which is
 *  earliest scheduled first. Returns a new array. */
export function sortStreams(rows: readonly StreamRow[], sort: SortState | null): StreamRow[] {
  const column = sort === null ? undefined : columnOf(sort.key);
  if (sort === null || column === undefined) return rows.slice();
  return rows
    .map((row, index) => ({ row, index, value: column.sortValue(row) }))
    .sort((a, b) => compareValues(a.value, b.value, sort.direction) || a.index - b.index)
    .map((entry) => entry.row);
}

/** The sort after a click on a column's header: a new column sorts ascending, the same one flips. */
export function nextSort(current: SortState | null, key: string): SortState {
  if (current !== null && current.key === key) {
    return { key, direction: current.direction === 'ascending' ? 'descending' : 'ascending' };
  }
  return { key, direction: 'ascending' };
}

/** Whether a row passes the status filter ('' shows every status). */
export function matchesStatus(row: StreamRow, status: string): boolean {
  return status === '' || row.status === status;
}

export interface StatusOption {
  /** '' for every status. */
  value: string;
  label: string;
}

/** The filter's options: "All", then each status present (lifecycle order, then by name) with its
 *  count; the selected status stays listed (with 0) after its last stream moved on. */
export function statusOptions(rows: readonly StreamRow[], selected: string): StatusOption[] {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.status, (counts.get(row.status) ?? 0) + 1);
  if (selected !== '' && !counts.has(selected)) counts.set(selected, 0);
  const statuses = [...counts.keys()].sort((a, b) => statusRank(a) - statusRank(b) || COLLATOR.compare(a, b));
  return [
    { value: '', label: `All (${rows.length})` },
    ...statuses.map((status) => ({ value: status, label: `${status} (${counts.get(status) ?? 0})` })),
  ];
}

/** "3 of 60 streams". */
export function shownText(shown: number, total: number): string {
  return `${shown} of ${total} ${total === 1 ? 'stream' : 'streams'}`;
}

/** The table's caption: how the rows are ordered, and how to change it. */
export function sortCaption(sort: SortState | null): string {
  const how = 'Choose a column header to sort by it (arrow keys move between the headers).';
  const column = sort === null ? undefined : columnOf(sort.key);
  if (sort === null || column === undefined) return `Streams in the server’s order, earliest scheduled first. ${how}`;
  return `Streams sorted by ${column.label}, ${sort.direction}, empty values last. ${how}`;
}

// ---------------------------------------------------------------------------------------------
// The page.

/** The view an operator chose (kept while moving between pages of the app). */
const viewInMemory: { sort: SortState | null; status: string } = { sort: null, status: '' };

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

/** A column's header cell and the button in it that sorts by the column. */
interface SortHeader {
  th: HTMLTableCellElement;
  button: HTMLButtonElement;
  icon: HTMLElement;
}

/** One stream's table row: built once, then updated in place (so focus stays on its buttons). */
class StreamTableRow {
  readonly element: HTMLTableRowElement;
  private readonly link: HTMLAnchorElement;
  private readonly gameIdText: HTMLElement;
  private readonly status: HTMLElement;
  private readonly cells = new Map<string, HTMLTableCellElement>();
  /** The two lines of each time cell (date, clock time). */
  private readonly times = new Map<string, { date: HTMLElement; clock: HTMLElement }>();
  readonly buttons: Record<StreamAction, HTMLButtonElement>;

  constructor(
    readonly gameId: string,
    onAction: (row: StreamTableRow, action: StreamAction) => void,
  ) {
    this.link = h('a', { href: gameHref(gameId) });
    this.gameIdText = h('span', { class: 'stream-id muted' }, `game ${gameId}`);
    this.status = h('span', { class: 'badge', 'data-testid': 'stream-status' });
    this.element = h('tr', { class: 'stream-row', 'data-testid': 'stream-row', 'data-game-id': gameId });
    for (const column of STREAM_COLUMNS) {
      // The game names the row: its cell is the row header.
      const cell = column.key === 'game' ? h('th', { scope: 'row' }) : h('td', {});
      setAttrs(cell, { 'data-field': column.key, class: `cell-${column.kind}` });
      if (column.key === 'game') cell.append(this.link, this.gameIdText);
      if (column.key === 'status') cell.append(this.status);
      if (column.time !== undefined) {
        const date = h('span', { class: 'time-date muted' });
        const clock = h('span', { class: 'time-clock' });
        this.times.set(column.key, { date, clock });
        cell.append(date, ' ', clock);
      }
      this.cells.set(column.key, cell);
      this.element.append(cell);
    }
    const button = (action: StreamAction, text: string): HTMLButtonElement => {
      const el = h('button', { type: 'button', class: `button button-${action}`, 'data-action': action }, text);
      el.addEventListener('click', () => onAction(this, action));
      return el;
    };
    this.buttons = { cancel: button('cancel', 'Cancel'), restart: button('restart', 'Restart') };
    this.element.append(
      h(
        'td',
        { class: 'cell-actions' },
        h('div', { class: 'stream-actions' }, this.buttons.cancel, this.buttons.restart),
      ),
    );
  }

  get name(): string {
    return this.link.textContent || `Game ${this.gameId}`;
  }

  update(row: StreamRow): void {
    setText(this.link, gameName(row));
    setText(this.status, row.status);
    this.status.className = statusClass(row.status);
    for (const column of STREAM_COLUMNS) {
      if (column.key === 'game' || column.key === 'status') continue;
      const time = this.times.get(column.key);
      if (time === undefined || column.time === undefined) {
        setText(this.cells.get(column.key) as HTMLTableCellElement, column.text(row));
        continue;
      }
      const parts = timeParts(column.time(row));
      setText(time.date, parts?.date ?? '');
      setText(time.clock, parts?.clock ?? column.text(row));
    }
    setAttrs(this.cells.get('degraded') as HTMLTableCellElement, { 'data-warn': row.degraded.length > 0 });
    setAttrs(this.cells.get('failure') as HTMLTableCellElement, { 'data-bad': row.failure_reason !== null });
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

/** The modal that asks before a stream is cancelled: "Cancel stream" or "Keep it" (or Escape). */
class CancelDialog {
  readonly element: HTMLDialogElement;
  private readonly title: HTMLElement;

  constructor() {
    this.title = h('h2', { id: 'cancel-dialog-title' });
    const keep = h(
      'button',
      { type: 'submit', value: 'keep', class: 'button', autofocus: true, 'data-testid': 'cancel-keep' },
      'Keep it',
    );
    const confirm = h(
      'button',
      { type: 'submit', value: 'confirm', class: 'button button-cancel', 'data-testid': 'cancel-confirm' },
      'Cancel stream',
    );
    this.element = h(
      'dialog',
      {
        class: 'confirm-dialog',
        role: 'alertdialog',
        'data-testid': 'cancel-dialog',
        'aria-labelledby': 'cancel-dialog-title',
        'aria-describedby': 'cancel-dialog-text',
      },
      h(
        'form',
        { method: 'dialog' },
        this.title,
        h(
          'p',
          { id: 'cancel-dialog-text' },
          'Its runner stops following the game and no more events are recorded. Restart schedules it again.',
        ),
        h('div', { class: 'dialog-actions' }, keep, confirm),
      ),
    );
  }

  /** Resolves true only when the operator chose "Cancel stream". */
  ask(name: string): Promise<boolean> {
    const question = `Cancel the stream of “${name}”?`;
    if (typeof this.element.showModal !== 'function') return Promise.resolve(window.confirm(question));
    setText(this.title, question);
    this.element.returnValue = '';
    return new Promise((resolve) => {
      this.element.addEventListener('close', () => resolve(this.element.returnValue === 'confirm'), { once: true });
      this.element.showModal();
    });
  }

  close(): void {
    if (this.element.open) this.element.close();
  }
}

export class StreamsPage {
  readonly element: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly caption: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly headers = new Map<string, SortHeader>();
  private readonly filter: HTMLSelectElement;
  private readonly filterOptions = new Map<string, { item: StatusOption; el: HTMLOptionElement }>();
  private readonly resetSort: HTMLButtonElement;
  private readonly shown: HTMLElement;
  private readonly message: HTMLElement;
  private readonly updated: HTMLElement;
  private readonly feedback: HTMLElement;
  private readonly tokenInput: HTMLInputElement;
  private readonly remember: HTMLInputElement;
  private readonly dialog = new CancelDialog();
  private readonly webhooks: WebhooksSection;
  private readonly entries = new Map<string, { item: StreamRow; el: HTMLTableRowElement }>();
  private readonly byId = new Map<string, StreamTableRow>();
  private rows: readonly StreamRow[] = [];
  /** The header in the Tab order (one at a time: arrow keys move between them). */
  private headerFocus: string;
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
        'Needed to cancel or restart a stream and to see the webhooks. It stays in this page’s memory, ' +
          'and in this tab’s session storage only if you tick the box.',
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

    // The toolbar: status filter, a way back to the served order, and how many rows show.
    this.filter = h('select', { id: 'status-filter', 'data-testid': 'status-filter' });
    this.filter.addEventListener('change', () => {
      viewInMemory.status = this.filter.value;
      this.draw();
    });
    this.resetSort = h(
      'button',
      { type: 'button', class: 'button', 'data-testid': 'sort-reset', hidden: true },
      'Server order',
    );
    this.resetSort.addEventListener('click', () => {
      const column = viewInMemory.sort?.key;
      viewInMemory.sort = null;
      this.draw();
      // The button hides itself: the focus goes to the header that was sorted.
      if (column !== undefined) this.headers.get(column)?.button.focus();
    });
    this.shown = h('p', { class: 'streams-shown', 'data-testid': 'streams-count', 'aria-live': 'polite' });
    const toolbar = h(
      'div',
      { class: 'streams-toolbar' },
      h('label', { for: 'status-filter' }, 'Status'),
      this.filter,
      this.resetSort,
      this.shown,
    );

    // The table: one sortable header per column, then the actions.
    // Outside the table, so that it stays in view when the table scrolls sideways.
    this.caption = h('p', { id: 'streams-caption', class: 'streams-caption muted', 'data-testid': 'streams-caption' });
    const headRow = h('tr', {});
    for (const column of STREAM_COLUMNS) {
      const icon = h('span', { class: 'sort-icon', 'aria-hidden': 'true' });
      const button = h(
        'button',
        { type: 'button', class: 'sort-button', 'data-sort': column.key, tabindex: -1 },
        column.label,
        icon,
      );
      button.addEventListener('click', () => this.sortBy(column.key));
      const th = h('th', { scope: 'col', class: `cell-${column.kind}`, 'data-column': column.key }, button);
      this.headers.set(column.key, { th, button, icon });
      headRow.append(th);
    }
    headRow.append(h('th', { scope: 'col', class: 'cell-actions' }, 'Actions'));
    const head = h('thead', {}, headRow);
    head.addEventListener('keydown', (ev) => this.onHeaderKey(ev));
    this.headerFocus = viewInMemory.sort?.key ?? (STREAM_COLUMNS[0] as Column).key;
    this.body = h('tbody', {});
    this.table = h(
      'table',
      {
        class: 'streams-table',
        'data-testid': 'streams-table',
        'aria-label': 'Streams',
        'aria-describedby': 'streams-caption',
      },
      head,
      this.body,
    );
    const scroller = h('div', { class: 'streams-scroll', 'data-testid': 'streams-list' }, this.table);
    this.webhooks = new WebhooksSection(() => this.tokenInput.value.trim());

    this.element = h(
      'section',
      { class: 'streams-page', 'data-testid': 'streams-page' },
      h('h1', {}, 'Streams'),
      tokenForm,
      this.feedback,
      this.updated,
      toolbar,
      this.caption,
      this.message,
      scroller,
      this.webhooks.element,
      this.dialog.element,
    );
    this.draw();
  }

  start(): void {
    document.title = 'Streams · Pressbox';
    document.addEventListener('visibilitychange', this.onVisibility);
    void this.refresh();
  }

  destroy(): void {
    this.stopped = true;
    this.dialog.close();
    document.removeEventListener('visibilitychange', this.onVisibility);
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    this.abort?.abort();
    this.webhooks.destroy();
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
    if (token === '') this.webhooks.showNeedToken();
    try {
      const store = sessionStore();
      if (this.remember.checked && token !== '') store?.setItem(TOKEN_SESSION_KEY, token);
      else store?.removeItem(TOKEN_SESSION_KEY);
    } catch {
      // session storage refused: the token stays in memory only
    }
  }

  /** One round of the refresh cycle: the streams and the webhooks together, then the next round. */
  private async refresh(): Promise<void> {
    this.timer = null;
    this.abort = new AbortController();
    const { signal } = this.abort;
    await Promise.all([this.refreshStreams(signal), this.webhooks.refresh(signal)]);
    // Paused while the tab is hidden; `onVisibility` resumes it.
    if (!this.stopped) this.timer = window.setTimeout(() => void this.poll(), STREAMS_REFRESH_MS);
  }

  private async refreshStreams(signal: AbortSignal): Promise<void> {
    try {
      const rows = await fetchStreams(signal);
      if (this.stopped) return;
      this.refreshes += 1;
      this.render(rows);
    } catch (error) {
      if (this.stopped) return;
      const reason = error instanceof ApiError ? error.message : 'could not reach the server';
      setText(this.message, `Could not refresh the streams (${reason}); retrying…`);
      this.message.hidden = false;
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
    this.rows = rows;
    this.draw();
  }

  /** Lays the known rows out in the chosen order and filter; rows keep their elements. */
  private draw(): void {
    const { sort, status } = viewInMemory;
    // Moving a focused element drops its focus: remember it, give it back after.
    const active = document.activeElement;
    const focused = active instanceof HTMLElement && this.body.contains(active) ? active : null;
    reconcile(
      this.body,
      sortStreams(this.rows, sort),
      this.entries,
      (row) => row.game_id,
      (row) => {
        const view = new StreamTableRow(row.game_id, (v, action) => void this.operate(v, action));
        this.byId.set(row.game_id, view);
        return view.element;
      },
      (_el, row) => this.byId.get(row.game_id)?.update(row),
    );
    for (const id of this.byId.keys()) if (!this.entries.has(id)) this.byId.delete(id);

    let shown = 0;
    for (const { item, el } of this.entries.values()) {
      const visible = matchesStatus(item, status);
      el.hidden = !visible;
      if (visible) shown += 1;
    }
    setText(this.shown, shownText(shown, this.rows.length));

    reconcile(
      this.filter,
      statusOptions(this.rows, status),
      this.filterOptions,
      (option) => option.value,
      (option) => h('option', { value: option.value }),
      (el, option) => setText(el, option.label),
    );
    if (this.filter.value !== status) this.filter.value = status;

    this.drawHeaders(sort);
    if (focused !== null && focused.isConnected && document.activeElement !== focused) {
      focused.focus({ preventScroll: true });
    }
  }

  private drawHeaders(sort: SortState | null): void {
    setText(this.caption, sortCaption(sort));
    this.resetSort.hidden = sort === null;
    for (const [key, { th, button, icon }] of this.headers) {
      const direction = sort !== null && sort.key === key ? sort.direction : null;
      setAttrs(th, { 'aria-sort': direction });
      setText(icon, direction === 'ascending' ? '▲' : direction === 'descending' ? '▼' : '');
      button.tabIndex = key === this.headerFocus ? 0 : -1;
    }
  }

  private sortBy(key: string): void {
    viewInMemory.sort = nextSort(viewInMemory.sort, key);
    this.headerFocus = key;
    this.draw();
  }

  /** Left/Right (Home/End) move between the header buttons, which are one stop in the Tab order. */
  private onHeaderKey(ev: KeyboardEvent): void {
    const keys = STREAM_COLUMNS.map((c) => c.key);
    const at = keys.indexOf(this.headerFocus);
    let next: number;
    if (ev.key === 'ArrowRight') next = Math.min(at + 1, keys.length - 1);
    else if (ev.key === 'ArrowLeft') next = Math.max(at - 1, 0);
    else if (ev.key === 'Home') next = 0;
    else if (ev.key === 'End') next = keys.length - 1;
    else return;
    ev.preventDefault();
    this.headerFocus = keys[next] as string;
    this.drawHeaders(viewInMemory.sort);
    this.headers.get(this.headerFocus)?.button.focus();
  }

  private async operate(view: StreamTableRow, action: StreamAction): Promise<void> {
    const opener = view.buttons[action];
    const name = view.name;
    if (action === 'cancel' && !(await this.dialog.ask(name))) {
      // "Keep it" or Escape: nothing is sent.
      if (!this.stopped && opener.isConnected) opener.focus();
      return;
    }
    if (this.stopped) return;
    const token = this.tokenInput.value.trim();
    const verb = action === 'cancel' ? 'Cancel' : 'Restart';
    view.setBusy(true);
    this.show('pending', `${verb} of “${name}”…`);
    try {
      const row = await operateStream(view.gameId, action, token);
      if (this.stopped) return;
      this.rows = this.rows.map((r) => (r.game_id === row.game_id ? row : r));
      this.draw();
      this.show('success', `${verb} of “${name}” done: the stream is now ${row.status}.`);
    } catch (error) {
      if (this.stopped) return;
      this.show('error', refusalText(verb, name, error, token === ''));
    } finally {
      view.setBusy(false);
      // A disabled button loses the focus: give it back unless the operator moved on.
      const active = document.activeElement;
      if (!this.stopped && opener.isConnected && (active === null || active === document.body)) {
        opener.focus({ preventScroll: true });
      }
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
  return refusalLine(`${verb} of “${name}”`, error, noToken);
}
