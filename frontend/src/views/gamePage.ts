// `#/live/{id}`: one game, kept up to date by the live WebSocket. The score first (header:
// teams, score, status, situation, then a compact settings row with the source health and the
// viewer delay), then the linescore, the win-probability chart and the play-by-play. Renders at
// most once per animation frame.
//
// What the socket brings goes through the viewer-delay line before it is shown: gaps are detected
// on arrival (`receivedSeq`), the shown state (`view`) follows once the delay has passed.

import { browserLocalStorage, DelayLine, loadDelaySeconds, saveDelaySeconds } from '../delay';
import { h, setAttrs, setText } from '../dom';
import { frameScheduler } from '../frame';
import { healthText, situationText, statusText, scoreText, timeoutsText, isLive } from '../format';
import { LiveConnection, type ConnectionInfo } from '../live';
import { browserPerfClock, browserTimeline, RenderTimings } from '../perf';
import { applyEvents, continuingEvents, fromSnapshot, type GameView } from '../state';
import type { GameEvent, GameSummary, Snapshot, TeamSummary } from '../types';
import { ConnectionIndicator } from './connection';
import { DelayControl } from './delayControl';
import { LinescoreTable } from './linescore';
import { PlaysList } from './plays';
import { WinProbabilityChart } from './wpChart';

/** What the socket brought, held until the viewer delay has passed. */
type Incoming =
  | { kind: 'snapshot'; snapshot: Snapshot }
  | { kind: 'events'; events: GameEvent[]; arrival: number; sent: unknown };

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
  /** Seq of the last event received (shown or still held): what the connection resumes from. */
  private receivedSeq: number | null = null;
  private rendered: Partial<GameView> & {
    connection?: ConnectionInfo;
    held?: number;
    delay?: number;
    /** Whether the source-health line was rendered with the current view. */
    health?: boolean;
  } = {};
  private readonly live: LiveConnection;
  private readonly scheduler = frameScheduler((frameTime) => this.render(frameTime));
  private readonly onOnline = (): void => this.live.retryNow();
  private delaySeconds = loadDelaySeconds(browserLocalStorage());
  private readonly line = new DelayLine<Incoming>(this.delaySeconds * 1000, browserPerfClock);
  private releaseTimer: number | null = null;
  private readonly timings = new RenderTimings(browserPerfClock, browserTimeline());
  private readonly delayControl = new DelayControl(this.delaySeconds, (seconds) => this.setDelay(seconds));

  private readonly indicator = new ConnectionIndicator();
  private readonly title = h('h1', { class: 'game-title' }, 'Loading game…');
  private readonly home = teamBlock('home');
  private readonly away = teamBlock('away');
  private readonly status = h('span', { class: 'status-detail', 'data-testid': 'status-detail' }, '…');
  private readonly situation = h('p', { class: 'situation', 'data-testid': 'situation' });
  private readonly timeouts = h('p', { class: 'timeouts muted' });
  /** Source health: ESPN from the socket's `status`; the market from it, else from the log. */
  private readonly health = h('p', { class: 'source-health muted', 'data-testid': 'source-health', role: 'status' });
  private readonly linescore = new LinescoreTable();
  private readonly chart = new WinProbabilityChart('Home');
  private readonly plays = new PlaysList();
  private readonly body: HTMLElement;

  constructor(private readonly gameId: string) {
    this.body = h(
      'div',
      { class: 'game-body' },
      h(
        'header',
        { class: 'game-header', 'data-testid': 'game-header' },
        h(
          'div',
          { class: 'scoreboard' },
          this.away.root,
          h('div', { class: 'status' }, this.status),
          this.home.root,
        ),
        this.situation,
        this.timeouts,
        h('div', { class: 'game-settings', 'data-testid': 'game-settings' }, this.health, this.delayControl.element),
      ),
      h('div', { class: 'linescore-wrap' }, this.linescore.element),
      h('section', { class: 'panel panel-chart' }, h('h2', {}, 'Win probability'), this.chart.element),
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
      lastSeq: () => this.receivedSeq,
      snapshot: (snapshot) => {
        this.receivedSeq = snapshot.seq;
        this.hold({ kind: 'snapshot', snapshot }, 0);
      },
      events: (events, message) => {
        if (this.receivedSeq === null) return 'gap';
        const arrival = browserPerfClock.now();
        const next = continuingEvents(this.receivedSeq, events);
        if (next.events.length > 0) {
          this.receivedSeq = next.seq;
          this.timings.arrived(next.seq, arrival);
          this.hold({ kind: 'events', events: next.events, arrival, sent: message?.sent }, next.events.length);
        }
        return next.gap ? 'gap' : 'ok';
      },
      connection: () => this.scheduler.schedule(),
    });
    // Test hooks (read by the browser tests): this page's render timings.
    window.__pressboxPerf = this.timings.samples;
    window.__pressboxRenderFrames = this.timings.renderFrames;
  }

  /** Call after `element` is in the document. */
  start(): void {
    this.chart.mount();
    window.addEventListener('online', this.onOnline);
    this.live.start();
    this.scheduler.schedule();
  }

  destroy(): void {
    window.removeEventListener('online', this.onOnline);
    this.live.stop();
    this.scheduler.cancel();
    if (this.releaseTimer !== null) window.clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    this.line.clear();
    this.timings.dispose();
    this.chart.destroy();
  }

  private hold(item: Incoming, events: number): void {
    this.line.push(item, events);
    this.release();
  }

  /** Shows what the delay no longer holds back, and waits for the next held item. */
  private release(): void {
    for (const item of this.line.takeDue()) {
      if (item.kind === 'snapshot') {
        this.view = fromSnapshot(item.snapshot);
      } else if (this.view !== null) {
        this.view = applyEvents(this.view, item.events).state;
        this.timings.applied(this.view.seq, item.arrival, item.sent);
      }
    }
    this.scheduler.schedule();
    if (this.releaseTimer !== null) window.clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    const due = this.line.nextDueAt();
    if (due !== null) {
      // +1 ms: a timer may fire a fraction of a millisecond before the monotonic clock says due.
      const wait = Math.max(0, due - browserPerfClock.now()) + 1;
      this.releaseTimer = window.setTimeout(() => this.release(), wait);
    }
  }

  private setDelay(seconds: number): void {
    this.delaySeconds = seconds;
    saveDelaySeconds(browserLocalStorage(), seconds);
    this.line.setDelay(seconds * 1000);
    this.release();
  }

  private render(frameTime: number): void {
    const connection = this.live.connection;
    const connectionChanged = connection !== this.rendered.connection || this.rendered.health !== true;
    if (connection !== this.rendered.connection) {
      this.indicator.update(connection);
      if (connection.unknownGame) this.showUnknownGame();
      this.rendered.connection = connection;
    }
    if (this.line.held !== this.rendered.held || this.delaySeconds !== this.rendered.delay) {
      this.delayControl.update(this.delaySeconds, this.line.held, this.view === null && this.line.size > 0);
      this.rendered.held = this.line.held;
      this.rendered.delay = this.delaySeconds;
    }
    const view = this.view;
    if (view === null || connection.unknownGame) {
      this.timings.rendered(frameTime);
      return;
    }
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
    if (
      view.probabilities !== r.probabilities ||
      view.plays !== r.plays ||
      view.market !== r.market ||
      view.marketStatus !== r.marketStatus
    ) {
      this.chart.update(view.probabilities, view.plays, view.market, view.marketStatus);
    }
    if (connectionChanged || view.marketStatus !== r.marketStatus) this.renderHealth(connection, view);
    if (view.game !== r.game || view.plays !== r.plays) this.linescore.update(view.game, view.plays);
    if (view.plays !== r.plays || view.corrected !== r.corrected) {
      this.plays.update(view.plays, view.game, view.corrected);
    }
    this.rendered = { ...view, connection, held: this.line.held, delay: this.delaySeconds, health: true };
    this.timings.rendered(frameTime);
  }

  private renderGame(game: GameSummary): void {
    setText(this.title, game.name);
    this.renderTeam(this.home, game.home);
    this.renderTeam(this.away, game.away);
    setText(this.status, statusText(game));
    this.status.classList.toggle('live', isLive(game.status));
    this.chart.setHomeName(game.home.name);
    this.chart.setTeams(game.away.abbreviation, game.home.abbreviation);
    this.chart.setSport(game.sport);
    document.title = `${game.away.abbreviation} ${scoreText(game.away)} – ${scoreText(game.home)} ${game.home.abbreviation} · Pressbox`;
  }

  private renderHealth(connection: ConnectionInfo, view: GameView): void {
    const market = connection.market ?? view.marketStatus?.state ?? null;
    const detail = connection.market !== null ? connection.marketDetail : (view.marketStatus?.reason ?? null);
    setText(this.health, healthText(connection.espn, connection.degraded, market, connection.unpublished));
    setAttrs(this.health, {
      'data-espn': connection.espn ?? 'pending',
      'data-market': market ?? 'pending',
      title: detail,
    });
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
