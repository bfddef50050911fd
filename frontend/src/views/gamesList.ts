// `#/live`: the games Pressbox streams, live first, refreshed every 5 s.

import { fetchLiveGames } from '../api';
import { h, reconcile, setText } from '../dom';
import { isLive, marketCell, scoreText, stateRank, statusText } from '../format';
import { gameHref } from '../router';
import type { GameSummary } from '../types';

export const REFRESH_MS = 5_000;

/** Live first, then upcoming, then finished; the server's order within each group. */
export function orderGames(games: readonly GameSummary[]): GameSummary[] {
  return games
    .map((game, index) => ({ game, index }))
    .sort((a, b) => stateRank(a.game.status) - stateRank(b.game.status) || a.index - b.index)
    .map(({ game }) => game);
}

export class GamesListPage {
  readonly element: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly message: HTMLElement;
  private readonly rows = new Map<string, { item: GameSummary; el: HTMLLIElement }>();
  private timer: number | null = null;
  private abort: AbortController | null = null;
  private stopped = false;
  private loaded = false;

  constructor() {
    this.list = h('ul', { class: 'games', 'data-testid': 'games-list', 'aria-label': 'Games' });
    this.message = h('p', { class: 'muted', role: 'status' }, 'Loading games…');
    this.element = h('section', { class: 'games-page' }, h('h1', {}, 'Games'), this.message, this.list);
  }

  start(): void {
    void this.refresh();
  }

  destroy(): void {
    this.stopped = true;
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.abort?.abort();
  }

  private async refresh(): Promise<void> {
    this.abort = new AbortController();
    try {
      const games = await fetchLiveGames(this.abort.signal);
      if (this.stopped) return;
      this.loaded = true;
      this.render(orderGames(games));
    } catch (error) {
      if (this.stopped) return;
      console.warn('pressbox: could not load games', error);
      setText(
        this.message,
        this.loaded ? 'Could not refresh the games; retrying…' : 'Could not load the games; retrying…',
      );
      this.message.hidden = false;
    } finally {
      if (!this.stopped) this.timer = window.setTimeout(() => void this.refresh(), REFRESH_MS);
    }
  }

  private render(games: GameSummary[]): void {
    setText(this.message, games.length === 0 ? 'No games right now.' : '');
    this.message.hidden = games.length > 0;
    reconcile(
      this.list,
      games,
      this.rows,
      (game) => game.id,
      () => h('li', { class: 'game-item' }),
      (el, game) => el.replaceChildren(gameRow(game)),
    );
  }
}

function gameRow(game: GameSummary): HTMLAnchorElement {
  const live = isLive(game.status);
  const state = game.status?.state ?? 'pre';
  const market = marketCell(game);
  const badge = live
    ? h('span', { class: 'badge badge-live' }, 'Live')
    : state === 'post'
      ? h('span', { class: 'badge' }, 'Final')
      : h('span', { class: 'badge badge-muted' }, 'Upcoming');
  const team = (side: 'away' | 'home') =>
    h(
      'span',
      { class: `row-team row-${side}` },
      h('span', { class: 'row-abbr' }, game[side].abbreviation),
      h('span', { class: 'row-name' }, game[side].name),
      h('span', { class: 'row-score' }, scoreText(game[side])),
    );
  return h(
    'a',
    {
      class: `game-row state-${state}`,
      href: gameHref(game.id),
      'data-testid': 'game-row',
      'data-game-id': game.id,
      'aria-label': `${game.name}: ${game.away.abbreviation} ${scoreText(game.away)}, ${game.home.abbreviation} ${scoreText(game.home)}, ${statusText(game)}, market ${market.text === '—' ? 'none' : market.text}`,
    },
    h('span', { class: 'row-status' }, badge, h('span', { class: 'row-detail' }, statusText(game))),
    h('span', { class: 'row-teams' }, team('away'), team('home')),
    h(
      'span',
      { class: `row-market market-${market.state}`, 'data-testid': 'game-market', 'data-market': market.state, title: market.title },
      h('span', { class: 'row-market-label' }, 'Market'),
      h('span', { class: 'row-market-value' }, market.text),
    ),
  );
}
