// The game page's linescore: one row per team, one column per period (overtimes after), then
// the total. Points come from `scoring.ts` `linescore`; the period in play is highlighted.

import { h, setAttrs, setText } from '../dom';
import { linescore, type LinescoreRow } from '../scoring';
import type { GameSummary, Play } from '../types';

export class LinescoreTable {
  readonly element: HTMLTableElement;
  private readonly head: HTMLTableRowElement;
  private readonly away: HTMLTableRowElement;
  private readonly home: HTMLTableRowElement;

  constructor() {
    this.head = h('tr');
    this.away = h('tr', { 'data-side': 'away' });
    this.home = h('tr', { 'data-side': 'home' });
    this.element = h(
      'table',
      { class: 'linescore', 'data-testid': 'linescore', 'data-periods': 0 },
      h('caption', { class: 'visually-hidden' }, 'Points per period'),
      h('thead', {}, this.head),
      h('tbody', {}, this.away, this.home),
    );
  }

  update(game: GameSummary, plays: readonly Play[]): void {
    const line = linescore(game, plays);
    const current = (i: number): string | undefined => (i === line.current ? 'current' : undefined);
    this.head.replaceChildren(
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Team')),
      ...line.periods.map((label, i) => h('th', { scope: 'col', class: current(i) }, label)),
      h('th', { scope: 'col', class: 'total', title: 'Total' }, 'T'),
    );
    this.fillRow(this.away, line.away, current, 'away');
    this.fillRow(this.home, line.home, current, 'home');
    setAttrs(this.element, { 'data-periods': line.periods.length });
  }

  private fillRow(
    row: HTMLTableRowElement,
    team: LinescoreRow,
    current: (i: number) => string | undefined,
    side: 'home' | 'away',
  ): void {
    const total = h('td', { class: 'total', 'data-testid': `linescore-total-${side}` });
    setText(total, team.total === null ? '–' : String(team.total));
    row.replaceChildren(
      h('th', { scope: 'row' }, team.abbreviation),
      ...team.points.map((points, i) => h('td', { class: current(i) }, points === null ? '' : String(points))),
      total,
    );
  }
}
