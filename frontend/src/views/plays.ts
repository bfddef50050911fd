// Play-by-play list: newest first, scoring plays marked, corrected plays replaced in place.

import { h, reconcile, setAttrs } from '../dom';
import { playClock, teamAbbreviation } from '../format';
import type { GameSummary, Play } from '../types';

export class PlaysList {
  readonly element: HTMLOListElement;
  private readonly empty: HTMLElement;
  private readonly rows = new Map<string, { item: Play; el: HTMLLIElement }>();
  private game: GameSummary | null = null;
  private corrected: ReadonlySet<string> = new Set();

  constructor() {
    this.element = h('ol', { class: 'plays', 'data-testid': 'plays-list', 'aria-label': 'Plays, newest first' });
    this.empty = h('p', { class: 'muted plays-empty' }, 'No plays yet.');
  }

  /** The element to insert in the page (the list plus its empty-state line). */
  get nodes(): Node[] {
    return [this.empty, this.element];
  }

  update(plays: readonly Play[], game: GameSummary, corrected: ReadonlySet<string>): void {
    this.game = game;
    this.corrected = corrected;
    this.empty.hidden = plays.length > 0;
    const newestFirst = [...plays].reverse();
    reconcile(
      this.element,
      newestFirst,
      this.rows,
      (play) => play.id,
      () => h('li', { class: 'play', 'data-testid': 'play' }),
      (el, play) => this.fill(el, play),
    );
  }

  private fill(el: HTMLLIElement, play: Play): void {
    const game = this.game as GameSummary;
    const corrected = this.corrected.has(play.id);
    setAttrs(el, { 'data-play-id': play.id, 'data-scoring': play.scoring ? 'true' : 'false' });
    el.classList.toggle('scoring', play.scoring);
    el.classList.toggle('corrected', corrected);

    const team = teamAbbreviation(game, play.team_id);
    const meta = h(
      'div',
      { class: 'play-meta' },
      h('span', { class: 'play-clock' }, playClock(play, game.sport)),
      team ? h('span', { class: 'play-team' }, team) : null,
      play.type ? h('span', { class: 'play-type' }, play.type) : null,
      play.scoring
        ? h(
            'span',
            { class: 'badge badge-score', title: 'Scoring play' },
            `Score${play.score_value > 0 ? ` +${play.score_value}` : ''}`,
          )
        : null,
      corrected ? h('span', { class: 'badge badge-corrected', title: 'This play was corrected' }, 'Corrected') : null,
    );
    const text = h('p', { class: 'play-text' }, play.text);
    const children: Node[] = [meta, text];
    if (play.scoring) {
      children.push(
        h(
          'p',
          { class: 'play-score' },
          `${game.away.abbreviation} ${play.away_score} – ${play.home_score} ${game.home.abbreviation}`,
        ),
      );
    }
    // Only runs when the play object changed (new or corrected play), so rebuilding is cheap.
    el.replaceChildren(...children);
  }
}
