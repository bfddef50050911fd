// Home-team win-probability chart (uPlot). x = game minutes elapsed, y = 0..1 shown as %.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { h, setText } from '../dom';
import { percent } from '../format';
import { chartSeries, regulationSeconds } from '../state';
import type { Play, Probability } from '../types';

const LINE = '#1d4ed8';
const FILL = 'rgba(29, 78, 216, 0.10)';
const MIDLINE = 'rgba(17, 24, 39, 0.35)';

function chartHeight(width: number): number {
  return width < 480 ? 180 : 240;
}

export class WinProbabilityChart {
  readonly element: HTMLElement;
  private readonly plotHost: HTMLElement;
  private readonly caption: HTMLElement;
  private plot: uPlot | null = null;
  private resizeObserver: ResizeObserver | null = null;
  private probabilities: readonly Probability[] | null = null;
  private plays: readonly Play[] = [];
  private homeName: string;
  private regulation = regulationSeconds('football');

  constructor(homeName: string) {
    this.homeName = homeName;
    this.caption = h('p', { class: 'wp-caption' }, 'Waiting for win probability…');
    this.plotHost = h('div', { class: 'wp-plot' });
    this.element = h(
      'figure',
      { class: 'wp-chart', 'data-testid': 'wp-chart', 'data-points': 0, 'aria-label': 'Win probability' },
      this.caption,
      this.plotHost,
    );
  }

  /** Creates the plot once the element is in the document (it needs a width). */
  mount(): void {
    if (this.plot !== null) return;
    const width = Math.max(this.plotHost.clientWidth, 280);
    this.plot = new uPlot(this.options(width), [[], []], this.plotHost);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.plotHost);
    if (this.probabilities !== null) {
      const pending = this.probabilities;
      this.probabilities = null;
      this.update(pending, this.plays);
    }
  }

  setHomeName(name: string): void {
    if (name === this.homeName) return;
    this.homeName = name;
    if (this.plot !== null) {
      // The legend label is part of the series options: rebuild with the same data.
      const { data, width } = this.plot;
      this.plot.destroy();
      this.plot = new uPlot(this.options(width), data, this.plotHost);
    }
    this.updateCaption();
  }

  /** The sport decides the length of a period on the x axis. */
  setSport(sport: string): void {
    const regulation = regulationSeconds(sport);
    if (regulation === this.regulation) return;
    this.regulation = regulation;
    if (this.plot !== null) {
      // The period length is baked into the axis options: rebuild the plot for the new sport.
      const width = this.plot.width;
      this.plot.destroy();
      this.plot = new uPlot(this.options(width), [[], []], this.plotHost);
    }
    const pending = this.probabilities;
    this.probabilities = null;
    if (pending !== null) this.update(pending, this.plays);
  }

  /** New points, placed on game time by their plays' periods and clocks. */
  update(probabilities: readonly Probability[], plays: readonly Play[] = this.plays): void {
    if (probabilities === this.probabilities && plays === this.plays) return;
    this.probabilities = probabilities;
    this.plays = plays;
    if (this.plot === null) return;
    const series = chartSeries(probabilities, plays, this.regulation);
    this.plot.setData([series.x, series.y]);
    this.element.dataset.points = String(series.x.length);
    this.updateCaption();
  }

  destroy(): void {
    this.resizeObserver?.disconnect();
    this.resizeObserver = null;
    this.plot?.destroy();
    this.plot = null;
  }

  private updateCaption(): void {
    const last = this.probabilities?.[this.probabilities.length - 1];
    setText(
      this.caption,
      last === undefined
        ? 'Waiting for win probability…'
        : `${this.homeName} win probability: ${percent(last.home, 1)}`,
    );
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
      return (values[values.length - 1] as number | null | undefined) ?? null;
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
        { label: this.homeName, stroke: LINE, width: 2, fill: FILL, value: percentValue, points: { show: false } },
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
      cursor: { drag: { x: false, y: false } },
      legend: { show: true, live: true },
      hooks: { draw: [drawMidline] },
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
