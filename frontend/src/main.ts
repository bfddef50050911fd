// Entry point: hash router mounting one page at a time.

import './styles.css';

import { DEFAULT_HASH, parseRoute } from './router';
import { h } from './dom';
import { GamePage } from './views/gamePage';
import { GamesListPage } from './views/gamesList';

interface Page {
  readonly element: HTMLElement;
  start(): void;
  destroy(): void;
}

class NotFoundPage implements Page {
  readonly element: HTMLElement;
  constructor(path: string) {
    this.element = h(
      'section',
      { class: 'notice', role: 'alert', 'data-testid': 'not-found' },
      h('h1', {}, 'Page not found'),
      h('p', {}, `Nothing lives at “${path}”.`),
      h('p', {}, h('a', { href: DEFAULT_HASH }, 'See the games being streamed')),
    );
  }
  start(): void {}
  destroy(): void {}
}

const root = document.getElementById('app') as HTMLElement;
let current: Page | null = null;

function navigate(): void {
  if (location.hash === '' || location.hash === '#' || location.hash === '#/') {
    history.replaceState(null, '', DEFAULT_HASH);
  }
  const route = parseRoute(location.hash);
  current?.destroy();
  document.title = 'Pressbox';
  switch (route.name) {
    case 'list':
      current = new GamesListPage();
      break;
    case 'game':
      current = new GamePage(route.id);
      break;
    case 'not-found':
      current = new NotFoundPage(route.path);
      break;
  }
  root.replaceChildren(current.element);
  current.start();
  window.scrollTo(0, 0);
}

window.addEventListener('hashchange', navigate);
navigate();
