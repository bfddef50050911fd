// The Webhooks section of the operations page (`#/streams`), below the streams table: every webhook
// subscription in a compact table (`GET /api/webhooks`), and for the one an operator expands, its
// cursors and its delivery log (`GET /api/webhooks/{id}`). Both calls need the admin token: without
// one the section says so and asks nothing of the server. It refreshes with the page's refresh
// cycle; only the expanded subscription's detail is fetched.

import { ApiError, fetchWebhook, fetchWebhooks, NotFoundError } from '../api';
import { h, reconcile, setAttrs, setText } from '../dom';
import { gameHref } from '../router';
import type { Webhook, WebhookAttempt, WebhookDetail } from '../types';
import { countText, refusalLine, serverTime, timeParts } from './opsText';

// ---------------------------------------------------------------------------------------------
// Pure helpers (unit-tested in webhooksSection.test.ts).

/** What the section says without an admin token (it fetches nothing then). */
export const WEBHOOKS_NEED_TOKEN = 'Webhook subscriptions need the admin token: enter it above to see them.';

/** What the section says when there is no subscription. */
export const NO_WEBHOOKS = 'No webhook subscriptions (add one with `pressbox webhooks add URL`).';

/** Why the subscriptions could not be shown, in the style of the stream operations' refusals. */
export function webhooksRefusalText(error: unknown, noToken: boolean): string {
  return refusalLine('Webhooks', error, noToken);
}

/** Why one subscription's detail could not be shown. */
export function detailRefusalText(id: number, error: unknown, noToken: boolean): string {
  return refusalLine(`Webhook ${id}`, error, noToken);
}

/** A subscription's event types: "all" (null), or the types ("play_added, score"). */
export function eventsText(events: readonly string[] | null): string {
  return events === null || events.length === 0 ? 'all' : events.join(', ');
}

/** A subscription's league: "all" (null), or its slug. */
export function leagueText(league: string | null): string {
  return league === null || league === '' ? 'all' : league;
}

/** The status badge's text: "Active", "Failing" (as served when unknown). */
export function webhookStatusLabel(status: string): string {
  if (status === 'active') return 'Active';
  if (status === 'failing') return 'Failing';
  return status;
}

/** Since when a failing subscription has failed ("since 2025-08-23 16:10:12 UTC"), else ''. */
export function failingSinceText(hook: Webhook): string {
  return hook.status === 'failing' && hook.failing_since !== null ? `since ${serverTime(hook.failing_since)}` : '';
}

/** The seqs a delivery attempt covered: "41–57", "57", or a dash. */
export function seqsText(first: number | null, last: number | null): string {
  if (first === null && last === null) return '—';
  if (first === null || last === null || first === last) return String(first ?? last);
  return `${first}–${last}`;
}

/** A delivery attempt's answer: "ok", else its error ("HTTP 500", "ConnectError: …"). */
export function answerText(attempt: WebhookAttempt): string {
  if (attempt.ok) return 'ok';
  if (attempt.error !== null) return attempt.error;
  return attempt.status_code === null ? 'no answer' : `HTTP ${attempt.status_code}`;
}

/** "1 subscription", "3 subscriptions". */
export function webhooksCountText(count: number): string {
  return `${count} ${count === 1 ? 'subscription' : 'subscriptions'}`;
}

/** A subscription's cursors (game id -> last seq delivered or passed over), by game id. */
export function cursorList(cursors: Readonly<Record<string, number>>): { gameId: string; seq: number }[] {
  return Object.entries(cursors)
    .map(([gameId, seq]) => ({ gameId, seq }))
    .sort((a, b) => COLLATOR.compare(a.gameId, b.gameId));
}

/** The detail's line under its title: "https://… · 1,204 events delivered · created …". */
export function detailSummary(hook: Webhook): string {
  return `${hook.url} · ${countText(hook.delivered)} events delivered · created ${serverTime(hook.created_at)}`;
}

/** The delivery log's caption. */
export function deliveriesCaption(count: number): string {
  if (count === 0) return 'No delivery attempts yet.';
  return `${count === 1 ? '1 attempt' : `${count} attempts`}, newest first (the last 50).`;
}

const COLLATOR = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

export interface TableColumn<T> {
  /** Also the `data-field` of the column's cells. */
  key: string;
  label: string;
  kind: 'text' | 'number' | 'time' | 'status';
  text: (row: T) => string;
  /** A time column's ISO time (its cell shows the date and the clock time on two lines). */
  time?: (row: T) => string | null;
}

/** The subscriptions table's columns, in order (the disclosure column follows them). */
export const WEBHOOK_COLUMNS: readonly TableColumn<Webhook>[] = [
  { key: 'id', label: 'ID', kind: 'number', text: (w) => String(w.id) },
  { key: 'url', label: 'URL', kind: 'text', text: (w) => w.url },
  { key: 'events', label: 'Events', kind: 'text', text: (w) => eventsText(w.events) },
  { key: 'league', label: 'League', kind: 'text', text: (w) => leagueText(w.league) },
  { key: 'status', label: 'Status', kind: 'status', text: (w) => webhookStatusLabel(w.status) },
  { key: 'delivered', label: 'Delivered', kind: 'number', text: (w) => countText(w.delivered) },
  {
    key: 'last-success',
    label: 'Last success',
    kind: 'time',
    text: (w) => serverTime(w.last_success_at),
    time: (w) => w.last_success_at,
  },
  { key: 'last-error', label: 'Last error', kind: 'text', text: (w) => w.last_error ?? '—' },
  { key: 'owner', label: 'Held by', kind: 'text', text: (w) => w.owner ?? '—' },
];

/** The delivery log's columns, in order. */
export const DELIVERY_COLUMNS: readonly TableColumn<WebhookAttempt>[] = [
  // One line per attempt: the time on one line too.
  { key: 'at', label: 'At', kind: 'time', text: (a) => serverTime(a.at) },
  { key: 'game', label: 'Game', kind: 'text', text: (a) => a.game_id },
  { key: 'seqs', label: 'Seqs', kind: 'text', text: (a) => seqsText(a.first_seq, a.last_seq) },
  { key: 'events', label: 'Events', kind: 'number', text: (a) => countText(a.events) },
  { key: 'answer', label: 'Answer', kind: 'text', text: answerText },
  { key: 'ms', label: 'ms', kind: 'number', text: (a) => countText(a.duration_ms) },
];

// ---------------------------------------------------------------------------------------------
// The section.

/** The subscription whose detail is shown (kept while moving between pages of the app). */
const expandedInMemory: { id: number | null } = { id: null };

const DETAIL_ID = 'webhook-detail';

/** A table cell for `column`: a time cell holds two lines (date, clock time). */
function columnCell<T>(column: TableColumn<T>, header = false): HTMLTableCellElement {
  const cell = header ? h('th', { scope: 'row' }) : h('td', {});
  setAttrs(cell, { 'data-field': column.key, class: `cell-${column.kind}` });
  return cell;
}

/** Fills a cell with the column's text (a time cell: the date above the clock time). */
function fillCell<T>(cell: HTMLTableCellElement, column: TableColumn<T>, row: T): void {
  const parts = column.time === undefined ? null : timeParts(column.time(row));
  if (parts === null) {
    setText(cell, column.text(row));
    return;
  }
  if (cell.childElementCount !== 2) {
    cell.replaceChildren(h('span', { class: 'time-date muted' }), ' ', h('span', { class: 'time-clock' }));
  }
  setText(cell.children[0] as Element, parts.date);
  setText(cell.children[1] as Element, parts.clock);
}

function headRow<T>(columns: readonly TableColumn<T>[], ...more: HTMLTableCellElement[]): HTMLTableSectionElement {
  const row = h('tr', {});
  for (const column of columns) {
    row.append(h('th', { scope: 'col', class: `cell-${column.kind}`, 'data-column': column.key }, column.label));
  }
  row.append(...more);
  return h('thead', {}, row);
}

/** One subscription's table row: built once, then updated in place (so focus stays on its button). */
class WebhookTableRow {
  readonly element: HTMLTableRowElement;
  readonly toggle: HTMLButtonElement;
  private readonly cells = new Map<string, HTMLTableCellElement>();
  private readonly badge: HTMLElement;
  private readonly since: HTMLElement;

  constructor(
    readonly id: number,
    onToggle: (id: number) => void,
  ) {
    this.element = h('tr', { class: 'webhook-row', 'data-testid': 'webhook-row', 'data-webhook-id': id });
    this.badge = h('span', { class: 'badge', 'data-testid': 'webhook-status' });
    this.since = h('span', { class: 'webhook-since muted' });
    for (const column of WEBHOOK_COLUMNS) {
      // The URL names the row: its cell is the row header.
      const cell = columnCell(column, column.key === 'url');
      if (column.key === 'status') cell.append(this.badge, this.since);
      this.cells.set(column.key, cell);
      this.element.append(cell);
    }
    this.toggle = h(
      'button',
      {
        type: 'button',
        class: 'button webhook-toggle',
        'data-testid': 'webhook-toggle',
        'aria-expanded': 'false',
        'aria-label': `Deliveries of webhook ${id}`,
      },
      h('span', { class: 'toggle-icon', 'aria-hidden': 'true' }, '▸'),
      ' Deliveries',
    );
    this.toggle.addEventListener('click', () => onToggle(this.id));
    this.element.append(h('td', { class: 'cell-actions' }, this.toggle));
  }

  update(hook: Webhook): void {
    for (const column of WEBHOOK_COLUMNS) {
      if (column.key !== 'status') fillCell(this.cells.get(column.key) as HTMLTableCellElement, column, hook);
    }
    const failing = hook.status === 'failing';
    setText(this.badge, `${failing ? '⚠ ' : ''}${webhookStatusLabel(hook.status)}`);
    this.badge.className = failing ? 'badge badge-bad' : hook.status === 'active' ? 'badge badge-ok' : 'badge';
    setText(this.since, failingSinceText(hook));
    this.since.hidden = !failing;
    setAttrs(this.cells.get('last-error') as HTMLTableCellElement, { 'data-bad': failing && hook.last_error !== null });
    setAttrs(this.element, { 'data-status': hook.status });
  }

  setExpanded(expanded: boolean): void {
    setAttrs(this.toggle, { 'aria-expanded': String(expanded), 'aria-controls': expanded ? DETAIL_ID : null });
    setText(this.toggle.firstElementChild as Element, expanded ? '▾' : '▸');
    setAttrs(this.element, { 'data-expanded': expanded });
  }
}

/** The expanded subscription: its cursors and its delivery log. */
class WebhookDetailView {
  readonly element: HTMLElement;
  private readonly title: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly message: HTMLElement;
  private readonly cursorsEmpty: HTMLElement;
  private readonly cursors: HTMLTableSectionElement;
  private readonly cursorsTable: HTMLTableElement;
  private readonly deliveriesCaption: HTMLElement;
  private readonly deliveries: HTMLTableSectionElement;
  private readonly deliveriesTable: HTMLTableElement;
  /** The subscription shown (null: none). */
  private shownId: number | null = null;
  /** What is drawn (skips rebuilding unchanged rows at every refresh). */
  private drawn = '';

  constructor() {
    this.title = h('h3', { id: `${DETAIL_ID}-title` });
    this.summary = h('p', { class: 'muted webhook-summary' });
    this.message = h('p', { class: 'muted', 'data-testid': 'webhook-detail-message', role: 'status' });
    this.cursorsEmpty = h(
      'p',
      { class: 'muted webhook-note', 'data-testid': 'webhook-no-cursor' },
      'No cursors yet: nothing delivered or passed over.',
    );
    this.cursors = h('tbody', {});
    this.cursorsTable = h(
      'table',
      { class: 'ops-table webhook-cursors', 'data-testid': 'webhook-cursors', 'aria-label': 'Cursors' },
      h(
        'thead',
        {},
        h('tr', {}, h('th', { scope: 'col' }, 'Game'), h('th', { scope: 'col', class: 'cell-number' }, 'Seq')),
      ),
      this.cursors,
    );
    this.deliveriesCaption = h('p', { id: `${DETAIL_ID}-caption`, class: 'muted streams-caption' });
    this.deliveries = h('tbody', {});
    this.deliveriesTable = h(
      'table',
      {
        class: 'ops-table webhook-deliveries',
        'data-testid': 'webhook-deliveries',
        'aria-label': 'Delivery log',
        'aria-describedby': `${DETAIL_ID}-caption`,
      },
      headRow(DELIVERY_COLUMNS),
      this.deliveries,
    );
    this.element = h(
      'section',
      {
        id: DETAIL_ID,
        class: 'panel webhook-detail',
        'data-testid': 'webhook-detail',
        'aria-labelledby': `${DETAIL_ID}-title`,
        hidden: true,
      },
      this.title,
      this.summary,
      this.message,
      h('h4', {}, 'Cursors'),
      this.cursorsEmpty,
      this.cursorsTable,
      h('h4', {}, 'Delivery log'),
      this.deliveriesCaption,
      h('div', { class: 'streams-scroll webhook-deliveries-scroll' }, this.deliveriesTable),
    );
  }

  /** Shows the subscription `id` (its detail follows with `draw`). */
  open(hook: Webhook | undefined, id: number): void {
    if (this.shownId === id) return;
    this.shownId = id;
    this.element.hidden = false;
    setText(this.title, `Webhook ${id}`);
    setText(this.summary, hook === undefined ? '' : hook.url);
  }

  close(): void {
    this.element.hidden = true;
    this.shownId = null;
    this.drawn = '';
    this.cursors.replaceChildren();
    this.deliveries.replaceChildren();
    this.say('');
  }

  /** A line above the detail ('' hides it): loading, or why it could not be refreshed. */
  say(text: string, kind: 'info' | 'error' = 'info'): void {
    setText(this.message, text);
    this.message.hidden = text === '';
    this.message.className = kind === 'error' ? 'feedback' : 'muted';
    setAttrs(this.message, { 'data-kind': kind === 'error' ? 'error' : null });
  }

  draw(detail: WebhookDetail): void {
    this.say('');
    setText(this.summary, detailSummary(detail.webhook));
    const drawn = JSON.stringify([detail.cursors, detail.deliveries]);
    if (drawn === this.drawn) return;
    this.drawn = drawn;
    const cursors = cursorList(detail.cursors);
    this.cursorsEmpty.hidden = cursors.length > 0;
    this.cursorsTable.hidden = cursors.length === 0;
    this.cursors.replaceChildren(...cursors.map(cursorRow));
    setText(this.deliveriesCaption, deliveriesCaption(detail.deliveries.length));
    this.deliveriesTable.hidden = detail.deliveries.length === 0;
    this.deliveries.replaceChildren(...detail.deliveries.map(deliveryRow));
  }
}

function gameLink(gameId: string): HTMLAnchorElement {
  return h('a', { href: gameHref(gameId) }, gameId);
}

function cursorRow(cursor: { gameId: string; seq: number }): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-testid': 'webhook-cursor', 'data-game-id': cursor.gameId },
    h('td', { 'data-field': 'game' }, gameLink(cursor.gameId)),
    h('td', { 'data-field': 'seq', class: 'cell-number' }, String(cursor.seq)),
  );
}

function deliveryRow(attempt: WebhookAttempt): HTMLTableRowElement {
  const row = h('tr', {
    'data-testid': 'webhook-delivery',
    'data-ok': String(attempt.ok),
    'data-game-id': attempt.game_id,
  });
  for (const column of DELIVERY_COLUMNS) {
    const cell = columnCell(column);
    if (column.key === 'game') cell.append(gameLink(attempt.game_id));
    else fillCell(cell, column, attempt);
    if (column.key === 'answer') setAttrs(cell, { 'data-bad': !attempt.ok });
    row.append(cell);
  }
  return row;
}

export class WebhooksSection {
  readonly element: HTMLElement;
  private readonly message: HTMLElement;
  private readonly count: HTMLElement;
  private readonly list: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly detail = new WebhookDetailView();
  private readonly entries = new Map<string, { item: Webhook; el: HTMLTableRowElement }>();
  private readonly byId = new Map<number, WebhookTableRow>();
  private rows: readonly Webhook[] = [];
  private detailAbort: AbortController | null = null;
  private stopped = false;

  /** `token`: the admin token as entered now ('' for none). */
  constructor(private readonly token: () => string) {
    this.message = h('p', { class: 'muted', 'data-testid': 'webhooks-message', role: 'status' });
    this.count = h('p', { class: 'streams-shown', 'data-testid': 'webhooks-count' });
    this.body = h('tbody', {});
    const toggleHead = h('th', { scope: 'col', class: 'cell-actions' }, 'Detail');
    const table = h(
      'table',
      { class: 'ops-table webhooks-table', 'data-testid': 'webhooks-table', 'aria-label': 'Webhook subscriptions' },
      headRow(WEBHOOK_COLUMNS, toggleHead),
      this.body,
    );
    this.list = h(
      'div',
      { class: 'webhooks-list', hidden: true },
      this.count,
      h('div', { class: 'streams-scroll webhooks-scroll' }, table),
    );
    this.element = h(
      'section',
      { class: 'webhooks-section', 'data-testid': 'webhooks', 'aria-labelledby': 'webhooks-title' },
      h('h2', { id: 'webhooks-title' }, 'Webhooks'),
      this.message,
      this.list,
      this.detail.element,
    );
    this.showNeedToken();
  }

  destroy(): void {
    this.stopped = true;
    this.detailAbort?.abort();
  }

  /** Without a token: says so, and forgets what a token showed. */
  showNeedToken(): void {
    this.say(WEBHOOKS_NEED_TOKEN);
    this.clear();
  }

  /** One round of the page's refresh cycle: the list, then the expanded subscription's detail. */
  async refresh(signal: AbortSignal): Promise<void> {
    const token = this.token();
    if (token === '') {
      this.showNeedToken();
      return;
    }
    let rows: Webhook[];
    try {
      rows = await fetchWebhooks(token, signal);
    } catch (error) {
      if (!this.stopped && !signal.aborted && token === this.token()) this.refused(error);
      return;
    }
    // A token changed meanwhile: its own round shows what it may see.
    if (this.stopped || token !== this.token()) return;
    this.render(rows);
    if (expandedInMemory.id !== null) await this.loadDetail();
  }

  private say(text: string, kind: 'info' | 'error' = 'info'): void {
    setText(this.message, text);
    this.message.hidden = text === '';
    this.message.className = kind === 'error' ? 'feedback' : 'muted';
    setAttrs(this.message, { 'data-kind': kind === 'error' ? 'error' : null });
  }

  private clear(): void {
    this.rows = [];
    this.list.hidden = true;
    this.body.replaceChildren();
    this.entries.clear();
    this.byId.clear();
    this.detailAbort?.abort();
    this.detail.close();
  }

  /** A refused token shows nothing but the refusal; another failure keeps the last rows. */
  private refused(error: unknown): void {
    this.say(webhooksRefusalText(error, false), 'error');
    if (error instanceof ApiError && isRefusal(error.status)) this.clear();
  }

  private render(rows: readonly Webhook[]): void {
    this.rows = rows;
    this.say(rows.length === 0 ? NO_WEBHOOKS : '');
    this.list.hidden = rows.length === 0;
    setText(this.count, webhooksCountText(rows.length));
    reconcile(
      this.body,
      rows,
      this.entries,
      (hook) => String(hook.id),
      (hook) => {
        const view = new WebhookTableRow(hook.id, (id) => this.toggle(id));
        this.byId.set(hook.id, view);
        return view.element;
      },
      (_el, hook) => this.byId.get(hook.id)?.update(hook),
    );
    for (const id of this.byId.keys()) if (!this.entries.has(String(id))) this.byId.delete(id);
    // The expanded subscription was removed: nothing to show any more.
    if (expandedInMemory.id !== null && !this.byId.has(expandedInMemory.id)) expandedInMemory.id = null;
    this.drawExpanded();
  }

  private drawExpanded(): void {
    const id = expandedInMemory.id;
    for (const [rowId, view] of this.byId) view.setExpanded(rowId === id);
    if (id === null) {
      this.detailAbort?.abort();
      this.detail.close();
      return;
    }
    this.detail.open(
      this.rows.find((hook) => hook.id === id),
      id,
    );
  }

  /** Expands a subscription (fetching its detail now) or collapses the expanded one. */
  private toggle(id: number): void {
    const opening = expandedInMemory.id !== id;
    if (opening) this.detail.close();
    expandedInMemory.id = opening ? id : null;
    this.drawExpanded();
    if (opening) {
      this.detail.say('Loading the delivery log…');
      void this.loadDetail();
    }
  }

  /** Fetches the expanded subscription's detail (a newer call supersedes an older one). */
  private async loadDetail(): Promise<void> {
    const id = expandedInMemory.id;
    const token = this.token();
    if (id === null || token === '') return;
    this.detailAbort?.abort();
    const abort = new AbortController();
    this.detailAbort = abort;
    try {
      const detail = await fetchWebhook(id, token, abort.signal);
      if (this.isCurrent(abort, id, token)) this.detail.draw(detail);
    } catch (error) {
      if (!this.isCurrent(abort, id, token)) return;
      if (error instanceof NotFoundError) {
        // Removed since the list was fetched.
        expandedInMemory.id = null;
        this.drawExpanded();
        return;
      }
      this.detail.say(detailRefusalText(id, error, false), 'error');
    } finally {
      if (this.detailAbort === abort) this.detailAbort = null;
    }
  }

  private isCurrent(abort: AbortController, id: number, token: string): boolean {
    return !this.stopped && !abort.signal.aborted && expandedInMemory.id === id && token === this.token();
  }
}

/** A refusal of the token itself (401: wrong or missing, 403: none configured). */
function isRefusal(status: number): boolean {
  return status === 401 || status === 403;
}
