// Hash routes: `#/live` (games list) and `#/live/{id}` (one game).

export type Route =
  | { name: 'list' }
  | { name: 'game'; id: string }
  | { name: 'not-found'; path: string };

export const DEFAULT_HASH = '#/live';

/** Parses `location.hash`; an empty hash means the default route. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/\/+$/, '');
  if (path === '' || path === '/live') return { name: 'list' };
  const match = /^\/live\/([^/]+)$/.exec(path);
  if (match?.[1]) {
    try {
      return { name: 'game', id: decodeURIComponent(match[1]) };
    } catch {
      // malformed percent-encoding
    }
  }
  return { name: 'not-found', path };
}

export function gameHref(id: string): string {
  return `#/live/${encodeURIComponent(id)}`;
}
