// Home-team win-probability chart (uPlot): ESPN's probability and the Kalshi market's implied
// probability on one axis. x = game minutes elapsed, y = 0..1 shown as %.
//
// Market points carry wall times; they are placed on game time through the plays' wallclocks
// (state.ts `marketChartSeries`), so both lines share the period markers and the hover. Without
// market points the chart says why (no market, stale, not followed) and draws no market line.
// Scoring plays are dots on ESPN's line (filled: home, hollow: away); hovering one names the play.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { h, setAttrs, setText } from '../dom';
import { gapPoints, marketNote, percent, playClock } from '../format';
import { scoringMarkers, type ScoringMarker } from '../scoring';
import { alignSeries, chartSeries, marketChartSeries, regulationSeconds } from '../state';
import type { MarketPoint, MarketStatusData, Play, Probability } from '../types';

const LINE = '#1d4ed8';
const FILL = 'rgba(29, 78, 216, 0.10)';
const MARKET_LINE = '#d97706';
const MIDLINE = 'rgba(17, 24, 39, 0.35)';
const PERIOD_LINE = 'rgba(17, 24, 39, 0.25)';
const HOME_SCORE = '#1e3a8a';
const AWAY_SCORE = '#ffffff';
const SCORE_EDGE = '#111827';
/** How near (CSS px) the cursor must come to a scoring dot to name its play. */
const HOVER_PX = 8;

function chartHeight(width: number): number {
  return width < 480 ? 180 : 240;
}

export class WinProbabilityChart {
  readonly element: HTMLElement;
  private readonly plotHost: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly note: HTMLElement;
  private readonly gap: HTMLElement;
  private readonly scoring: HTMLElement;
  private plot: uPlot | null = null;
  private resizeObserver: ResizeObserver | null = null;
  private probabilities: readonly Probability[] | null = null;
  private plays: readonly Play[] = [];
  private market: readonly MarketPoint[] = [];
  private marketStatus: MarketStatusData | null = null;
  private marketPoints = 0;
  private markers: ScoringMarker[] = [];
  private hovered: ScoringMarker | null = null;
  private homeName: string;
  private teams = { away: 'Away', home: 'Home' };
  private sport = 'football';
  private regulation = regulationSeconds('football');

  constructor(homeName: string) {
    this.homeName = homeName;
    this.caption = h('p', { class: 'wp-caption' }, 'Waiting for win probability…');
    this.note = h('p', { class: 'wp-market-note muted', 'data-testid': 'market-note' });
    this.gap = h('p', {
      class: 'wp-gap',
      'data-testid': 'market-gap',
      title: "ESPN's home win probability minus the Kalshi market's, now",
      hidden: true,
    });
    this.scoring = h('p', { class: 'wp-scoring muted', 'data-testid': 'scoring-markers', 'data-count': 0 });
    this.plotHost = h('div', { class: 'wp-plot' });
    this.element = h(
      'figure',
      {
        class: 'wp-chart',
        'data-testid': 'wp-chart',
        'data-points': 0,
        'data-market-points': 0,
        'data-market': 'unknown',
        'aria-label': 'Win probability',
      },
      this.caption,
      this.gap,
      this.note,
      this.plotHost,
      this.scoring,
    );
    this.updateNote();
    this.updateScoring();
  }

  /** Creates the plot once the element is in the document (it needs a width). */
  mount(): void {
    if (this.plot !== null) return;
    const width = Math.max(this.plotHost.clientWidth, 280);
    this.plot = new uPlot(this.options(width), [[], [], []], this.plotHost);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.plotHost);
    this.redraw();
  }

  setHomeName(name: string): void {
    if (name === this.homeName) return;
    this.homeName = name; // only the caption names the team (the legend names the sources)
    this.updateCaption();
  }

  /** The teams' abbreviations, for the scoring plays' key and hover line. */
  setTeams(away: string, home: string): void {
    if (away === this.teams.away && home === this.teams.home) return;
    this.teams = { away, home };
    this.updateScoring();
  }

  /** The sport decides the length of a period on the x axis. */
  setSport(sport: string): void {
    this.sport = sport;
    const regulation = regulationSeconds(sport);
    if (regulation === this.regulation) return;
    this.regulation = regulation;
    if (this.plot !== null) {
      // The period length is baked into the axis options: rebuild the plot for the new sport.
      const width = this.plot.width;
      this.plot.destroy();
      this.plot = new uPlot(this.options(width), [[], [], []], this.plotHost);
    }
    this.redraw();
  }

  /** New points, placed on game time by their plays' periods and clocks (market points through
   *  the plays' wallclocks). */
  update(
    probabilities: readonly Probability[],
    plays: readonly Play[] = this.plays,
    market: readonly MarketPoint[] = this.market,
    marketStatus: MarketStatusData | null = this.marketStatus,
  ): void {
    if (
      probabilities === this.probabilities &&
      plays === this.plays &&
      market === this.market &&
      marketStatus === this.marketStatus
    ) {
      return;
    }
    this.probabilities = probabilities;
    this.plays = plays;
    this.market = market;
    this.marketStatus = marketStatus;
    this.redraw();
  }

  private redraw(): void {
    if (this.plot === null || this.probabilities === null) return;
    const espn = chartSeries(this.probabilities, this.plays, this.regulation);
    const market = marketChartSeries(this.market, this.plays, this.regulation);
    this.marketPoints = market.x.length;
    this.markers = scoringMarkers(this.plays, this.probabilities, this.regulation);
    this.hovered = null;
    this.plot.setData(alignSeries(espn, market));
    this.plot.setSeries(2, { show: market.x.length > 0 });
    this.element.dataset.points = String(espn.x.length);
    this.element.dataset.marketPoints = String(market.x.length);
    this.updateCaption();
    this.updateNote();
    this.updateScoring();
  }

  destroy(): void {
    this.resizeObserver?.disconnect();
    this.resizeObserver = null;
    this.plot?.destroy();
    this.plot = null;
  }

  private updateCaption(): void {
    const last = this.probabilities?.[this.probabilities.length - 1];
    const market = this.marketPoints > 0 ? lastImplied(this.market) : null;
    const parts: string[] = [];
    if (last !== undefined) parts.push(`ESPN ${percent(last.home, 1)}`);
    if (market !== null) parts.push(`Kalshi market ${percent(market, 1)}`);
    setText(
      this.caption,
      parts.length === 0 ? 'Waiting for win probability…' : `${this.homeName} win probability: ${parts.join(' · ')}`,
    );
    const both = last !== undefined && market !== null;
    setText(this.gap, both ? `ESPN − market: ${gapPoints(last.home, market)}` : '');
    this.gap.hidden = !both;
    this.gap.dataset.gap = both ? ((last.home - market) * 100).toFixed(1) : '';
  }

  /** Says plainly when there is no market line to draw, and why. */
  private updateNote(): void {
    const note = marketNote(this.marketStatus, this.market, this.marketPoints > 0);
    setText(this.note, note?.text ?? '');
    this.note.hidden = note === null;
    setAttrs(this.note, { title: note?.title ?? null });
    this.element.dataset.market = this.marketStatus?.state ?? 'unknown';
  }

  /** The scoring dots' key, or the hovered dot's play. */
  private updateScoring(): void {
    const { away, home } = this.teams;
    const count = this.markers.length;
    const hovered = this.hovered;
    let text = count === 0 ? '' : `Scoring plays (${count}): ● ${home} ○ ${away} · hover a dot for the play`;
    if (hovered !== null) {
      const { play } = hovered;
      const score = `${away} ${play.away_score} – ${play.home_score} ${home}`;
      text = `${playClock(play, this.sport)} · ${score} · ${play.text}`;
    }
    setText(this.scoring, text);
    this.scoring.hidden = count === 0;
    this.scoring.classList.toggle('hovered', hovered !== null);
    setAttrs(this.scoring, { 'data-count': count, 'data-hovered': hovered?.playId ?? null });
  }

  /** Names the scoring play under the cursor (the nearest dot within HOVER_PX), if any. */
  private hover(u: uPlot): void {
    const left = u.cursor.left;
    let nearest: ScoringMarker | null = null;
    if (left !== undefined && left >= 0) {
      let best = HOVER_PX;
      for (const marker of this.markers) {
        const distance = Math.abs(u.valToPos(marker.x, 'x') - left);
        if (distance <= best) {
          best = distance;
          nearest = marker;
        }
      }
    }
    if (nearest === this.hovered) return;
    this.hovered = nearest;
    this.updateScoring();
  }

  private resize(): void {
    if (this.plot === null) return;
    const width = Math.max(this.plotHost.clientWidth, 200);
    const height = chartHeight(width);
    if (width !== this.plot.width || height !== this.plot.height) this.plot.setSize({ width, height });
  }

  private options(width: number): uPlot.Options {
    // Legend values: the hovered point, or the latest point when the cursor is off the chart.
    const latest = (u: uPlot, seriesIdx: number): number | null => {
      const values = u.data[seriesIdx] ?? [];
      for (let i = values.length - 1; i >= 0; i--) {
        const value = values[i];
        if (value !== null && value !== undefined) return value;
      }
      return null;
    };
    const period = this.regulation / 60 / 4;
    const gameTime = (u: uPlot, value: number | null, _s: number, idx: number | null): string => {
      const t = idx === null ? latest(u, 0) : value;
      return t === null ? '–' : gameClock(t, period);
    };
    const percentValue = (u: uPlot, value: number | null, seriesIdx: number, idx: number | null): string => {
      const p = idx === null ? latest(u, seriesIdx) : value;
      return p === null ? '–' : percent(p, 1);
    };
    return {
      width,
      height: chartHeight(width),
      scales: { x: { time: false, range: (_u, _min, max) => [0, Math.max(4 * period, max)] }, y: { range: [0, 1] } },
      series: [
        { label: 'Game time', value: gameTime },
        {
          label: 'ESPN',
          stroke: LINE,
          width: 2,
          fill: FILL,
          value: percentValue,
          points: { show: false },
          spanGaps: true,
        },
        {
          label: 'Kalshi market',
          stroke: MARKET_LINE,
          width: 2,
          value: percentValue,
          points: { show: false },
          spanGaps: true,
        },
      ],
      axes: [
        {
          stroke: '#374151',
          grid: { stroke: '#e5e7eb' },
          ticks: { stroke: '#d1d5db' },
          splits: (_u, _i, _min, max) => periodStarts(max, period),
          values: (_u, splits) => splits.map((v) => periodLabel(v, period)),
        },
        {
          stroke: '#374151',
          size: 48,
          grid: { stroke: '#e5e7eb' },
          ticks: { stroke: '#d1d5db' },
          splits: () => [0, 0.25, 0.5, 0.75, 1],
          values: (_u, splits) => splits.map((v) => percent(v)),
        },
      ],
      // Hover: each line's nearest point (the aligned data holds nulls where the other has one).
      cursor: { drag: { x: false, y: false }, hover: { skip: [null, undefined] } },
      legend: { show: true, live: true },
      hooks: {
        draw: [
          drawMidline,
          (u) => drawPeriodMarkers(u, period),
          (u) => drawScoringMarkers(u, this.markers),
        ],
        setCursor: [(u) => this.hover(u)],
      },
    };
  }
}

/** Dashed line at 50%. */
function drawMidline(u: uPlot): void {
  const y = Math.round(u.valToPos(0.5, 'y', true));
  const { left, width } = u.bbox;
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = MIDLINE;
  ctx.lineWidth = Math.max(1, devicePixelRatio);
  ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
  ctx.beginPath();
  ctx.moveTo(left, y);
  ctx.lineTo(left + width, y);
  ctx.stroke();
  ctx.restore();
}

/** A vertical line at the start of every period after the first. */
function drawPeriodMarkers(u: uPlot, period: number): void {
  const { top, height } = u.bbox;
  const max = u.scales.x?.max ?? 0;
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = PERIOD_LINE;
  ctx.lineWidth = Math.max(1, devicePixelRatio);
  for (const start of periodStarts(max, period).slice(1)) {
    const x = Math.round(u.valToPos(start, 'x', true));
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
  }
  ctx.restore();
}

/** A dot on ESPN's line at each scoring play (filled: home, hollow: away, grey: not known); a
 *  play without a probability yet gets a tick on the x axis. */
function drawScoringMarkers(u: uPlot, markers: readonly ScoringMarker[]): void {
  const { top, height } = u.bbox;
  const ctx = u.ctx;
  const r = 3.5 * devicePixelRatio;
  ctx.save();
  ctx.lineWidth = Math.max(1, devicePixelRatio);
  ctx.strokeStyle = SCORE_EDGE;
  for (const marker of markers) {
    const x = Math.round(u.valToPos(marker.x, 'x', true));
    ctx.beginPath();
    if (marker.y === null) {
      ctx.moveTo(x, top + height);
      ctx.lineTo(x, top + height - 2 * r);
      ctx.stroke();
      continue;
    }
    ctx.arc(x, Math.round(u.valToPos(marker.y, 'y', true)), r, 0, 2 * Math.PI);
    ctx.fillStyle = marker.side === 'home' ? HOME_SCORE : marker.side === 'away' ? AWAY_SCORE : '#9ca3af';
    ctx.fill();
    ctx.stroke();
  }
  ctx.restore();
}

/** The newest market point's home probability. */
function lastImplied(market: readonly MarketPoint[]): number | null {
  for (let i = market.length - 1; i >= 0; i--) {
    const value = market[i]?.implied_home;
    if (value !== null && value !== undefined) return value;
  }
  return null;
}

/** Period starts (in game minutes) up to `max`: the x axis ticks. */
function periodStarts(max: number, period: number): number[] {
  const starts: number[] = [];
  for (let t = 0; t <= max + 1e-9; t += period) starts.push(t);
  return starts;
}

function periodLabel(minutes: number, period: number): string {
  const index = Math.round(minutes / period);
  return index < 4 ? `Q${index + 1}` : index === 4 ? 'End' : `OT${index - 3}`;
}

/** "Q2 8:34" for a point `minutes` into the game. */
function gameClock(minutes: number, period: number): string {
  const index = Math.min(3, Math.floor(minutes / period));
  const left = Math.max(0, Math.round((period * (index + 1) - minutes) * 60));
  return `Q${index + 1} ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
}
