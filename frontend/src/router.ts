// Hash routes: `#/live` (games list), `#/live/{id}` (one game), `#/streams` (operations).

export type Route =
  | { name: 'list' }
  | { name: 'game'; id: string }
  | { name: 'streams' }
  | { name: 'not-found'; path: string };

export const DEFAULT_HASH = '#/live';
export const STREAMS_HASH = '#/streams';

/** Parses `location.hash`; an empty hash means the default route. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/\/+$/, '');
  if (path === '' || path === '/live') return { name: 'list' };
  if (path === '/streams') return { name: 'streams' };
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
