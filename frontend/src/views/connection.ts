// Connection indicator: connected / reconnecting / offline, plus the ESPN source health.

import { h, setAttrs, setText } from '../dom';
import type { ConnectionInfo } from '../live';

const LABELS = {
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
} as const;

export class ConnectionIndicator {
  readonly element: HTMLElement;
  private readonly label: HTMLElement;
  private readonly degraded: HTMLElement;

  constructor() {
    this.label = h('span', { class: 'conn-label' }, 'Connecting…');
    this.degraded = h('span', { class: 'badge badge-warn', hidden: true }, 'ESPN degraded');
    this.element = h(
      'div',
      {
        class: 'conn',
        'data-testid': 'connection',
        'data-state': 'reconnecting',
        role: 'status',
        'aria-live': 'polite',
        'aria-label': 'Connection: connecting',
      },
      h('span', { class: 'conn-dot', 'aria-hidden': 'true' }),
      this.label,
      this.degraded,
    );
  }

  update(info: ConnectionInfo): void {
    const degraded = info.espn === 'degraded';
    let text: string = LABELS[info.state];
    if (info.unknownGame) text = 'Not connected';
    else if (info.state === 'offline') text = 'Offline – retrying';
    const parts = [`Connection: ${info.unknownGame ? 'not connected (unknown game)' : info.state}`];
    if (degraded) parts.push('ESPN data degraded');
    if (info.stream && info.stream !== 'Active') parts.push(`stream ${info.stream}`);
    setText(this.label, text);
    this.degraded.hidden = !degraded;
    setAttrs(this.element, {
      'data-state': info.state,
      'data-espn': info.espn,
      'aria-label': parts.join(', '),
      title: parts.join(', '),
    });
  }
}
