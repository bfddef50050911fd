// `#/live/{id}`: scoreboard, situation, win-probability chart and play-by-play of one game,
// kept up to date by the live WebSocket. Renders at most once per animation frame.

import { h, setAttrs, setText } from '../dom';
import { frameScheduler } from '../frame';
import { situationText, statusText, scoreText, timeoutsText, isLive } from '../format';
import { LiveConnection, type ConnectionInfo } from '../live';
import { applyEvents, fromSnapshot, type GameView } from '../state';
import type { GameSummary, TeamSummary } from '../types';
import { ConnectionIndicator } from './connection';
import { PlaysList } from './plays';
import { WinProbabilityChart } from './wpChart';

interface TeamBlock {
  root: HTMLElement;
  name: HTMLElement;
  abbr: HTMLElement;
  score: HTMLElement;
}

function teamBlock(side: 'home' | 'away'): TeamBlock {
  const name = h('span', { class: 'team-name' }, side === 'home' ? 'Home' : 'Away');
  const abbr = h('span', { class: 'team-abbr' });
  const score = h('span', { class: 'team-score', 'data-testid': `score-${side}` }, '–');
  const root = h('div', { class: `team team-${side}` }, h('div', { class: 'team-id' }, abbr, name), score);
  return { root, name, abbr, score };
}

export class GamePage {
  readonly element: HTMLElement;
  private view: GameView | null = null;
  private rendered: Partial<GameView> & { connection?: ConnectionInfo } = {};
  private readonly live: LiveConnection;
  private readonly scheduler = frameScheduler(() => this.render());
  private readonly onOnline = (): void => this.live.retryNow();

  private readonly indicator = new ConnectionIndicator();
  private readonly title = h('h1', { class: 'game-title' }, 'Loading game…');
  private readonly home = teamBlock('home');
  private readonly away = teamBlock('away');
  private readonly status = h('span', { class: 'status-detail', 'data-testid': 'status-detail' }, '…');
  private readonly situation = h('p', { class: 'situation', 'data-testid': 'situation' });
  private readonly timeouts = h('p', { class: 'timeouts muted' });
  private readonly chart = new WinProbabilityChart('Home');
  private readonly plays = new PlaysList();
  private readonly body: HTMLElement;

  constructor(private readonly gameId: string) {
    this.body = h(
      'div',
      { class: 'game-body' },
      h(
        'div',
        { class: 'scoreboard' },
        this.away.root,
        h('div', { class: 'status' }, this.status),
        this.home.root,
      ),
      this.situation,
      this.timeouts,
      h('section', { class: 'panel' }, h('h2', {}, 'Win probability'), this.chart.element),
      h('section', { class: 'panel' }, h('h2', {}, 'Play-by-play'), ...this.plays.nodes),
    );
    this.element = h(
      'section',
      { class: 'game-page', 'data-testid': 'game-page', 'data-game-id': gameId },
      h('div', { class: 'topbar' }, h('a', { href: '#/live', class: 'back' }, '← All games'), this.indicator.element),
      this.title,
      this.body,
    );
    this.live = new LiveConnection(gameId, {
      lastSeq: () => this.view?.seq ?? null,
      snapshot: (snapshot) => {
        this.view = fromSnapshot(snapshot);
        this.scheduler.schedule();
      },
      events: (events) => {
        if (this.view === null) return 'gap';
        const result = applyEvents(this.view, events);
        if (result.state !== this.view) {
          this.view = result.state;
          this.scheduler.schedule();
        }
        return result.kind;
      },
      connection: () => this.scheduler.schedule(),
    });
  }

  /** Call after `element` is in the document. */
  start(): void {
    this.chart.mount();
    window.addEventListener('online', this.onOnline);
    this.live.start();
    this.render();
  }

  destroy(): void {
    window.removeEventListener('online', this.onOnline);
    this.live.stop();
    this.scheduler.cancel();
    this.chart.destroy();
  }

  private render(): void {
    const connection = this.live.connection;
    if (connection !== this.rendered.connection) {
      this.indicator.update(connection);
      if (connection.unknownGame) this.showUnknownGame();
      this.rendered.connection = connection;
    }
    const view = this.view;
    if (view === null || connection.unknownGame) return;
    const r = this.rendered;
    if (view.game !== r.game) this.renderGame(view.game);
    if (view.game !== r.game || view.situation !== r.situation) {
      const text = situationText(view.game, view.situation);
      setText(this.situation, text ?? (view.game.status?.state === 'post' ? 'Game over' : ''));
      this.situation.classList.toggle('red-zone', text !== null && view.situation?.is_red_zone === true);
      const timeouts = timeoutsText(view.situation, view.game);
      setText(this.timeouts, timeouts ?? '');
      this.timeouts.hidden = timeouts === null;
      this.renderPossession(view);
    }
    if (view.probabilities !== r.probabilities || view.plays !== r.plays) {
      this.chart.update(view.probabilities, view.plays);
    }
    if (view.plays !== r.plays || view.corrected !== r.corrected) {
      this.plays.update(view.plays, view.game, view.corrected);
    }
    this.rendered = { ...view, connection };
  }

  private renderGame(game: GameSummary): void {
    setText(this.title, game.name);
    this.renderTeam(this.home, game.home);
    this.renderTeam(this.away, game.away);
    setText(this.status, statusText(game));
    this.status.classList.toggle('live', isLive(game.status));
    this.chart.setHomeName(game.home.name);
    this.chart.setSport(game.sport);
    document.title = `${game.away.abbreviation} ${scoreText(game.away)} – ${scoreText(game.home)} ${game.home.abbreviation} · Pressbox`;
  }

  private renderTeam(block: TeamBlock, team: TeamSummary): void {
    setText(block.name, team.name);
    setText(block.abbr, team.abbreviation);
    setText(block.score, scoreText(team));
  }

  private renderPossession(view: GameView): void {
    const live = view.game.status?.state === 'in';
    const team = live ? view.situation?.possession_team_id : null;
    this.home.root.classList.toggle('has-ball', team === view.game.home.id);
    this.away.root.classList.toggle('has-ball', team === view.game.away.id);
  }

  private showUnknownGame(): void {
    setText(this.title, 'Unknown game');
    setAttrs(this.element, { 'data-unknown': 'true' });
    this.body.replaceChildren(
      h(
        'div',
        { class: 'notice', role: 'alert', 'data-testid': 'not-found' },
        h('p', {}, `There is no game with id “${this.gameId}”.`),
        h('p', {}, h('a', { href: '#/live' }, 'See the games being streamed')),
      ),
    );
  }
}
