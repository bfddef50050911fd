// Entry point: hash router mounting one page at a time.

import './styles.css';

import { DEFAULT_HASH, parseRoute, type Route } from './router';
import { h } from './dom';
import { GamePage } from './views/gamePage';
import { GamesListPage } from './views/gamesList';
import { StreamsPage } from './views/streamsPage';

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

/** Marks the header link of the current section (`aria-current="page"`). */
function markNav(route: Route): void {
  const section = route.name === 'streams' ? 'streams' : route.name === 'not-found' ? null : 'live';
  for (const link of document.querySelectorAll<HTMLAnchorElement>('.site-nav a[data-nav]')) {
    if (link.dataset.nav === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function createPage(route: Route): Page {
  switch (route.name) {
    case 'list':
      return new GamesListPage();
    case 'game':
      return new GamePage(route.id);
    case 'streams':
      return new StreamsPage();
    case 'not-found':
      return new NotFoundPage(route.path);
  }
}

function navigate(): void {
  if (location.hash === '' || location.hash === '#' || location.hash === '#/') {
    history.replaceState(null, '', DEFAULT_HASH);
  }
  const route = parseRoute(location.hash);
  current?.destroy();
  document.title = 'Pressbox';
  current = createPage(route);
  markNav(route);
  root.replaceChildren(current.element);
  current.start();
  window.scrollTo(0, 0);
}

window.addEventListener('hashchange', navigate);
navigate();
