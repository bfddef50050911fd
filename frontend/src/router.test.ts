import { describe, expect, it } from 'vitest';

import { gameHref, parseRoute } from './router';

describe('parseRoute', () => {
  it('defaults to the games list', () => {
    expect(parseRoute('')).toEqual({ name: 'list' });
    expect(parseRoute('#/')).toEqual({ name: 'list' });
    expect(parseRoute('#/live')).toEqual({ name: 'list' });
    expect(parseRoute('#/live/')).toEqual({ name: 'list' });
  });

  it('parses a game route', () => {
    expect(parseRoute('#/live/401756846')).toEqual({ name: 'game', id: '401756846' });
    expect(parseRoute(gameHref('a b/c'))).toEqual({ name: 'game', id: 'a b/c' });
  });

  it('parses the operations page', () => {
    expect(parseRoute('#/streams')).toEqual({ name: 'streams' });
    expect(parseRoute('#/streams/')).toEqual({ name: 'streams' });
    expect(parseRoute('#/streams/x')).toEqual({ name: 'not-found', path: '/streams/x' });
  });

  it('reports anything else as not found', () => {
    expect(parseRoute('#/nope')).toEqual({ name: 'not-found', path: '/nope' });
    expect(parseRoute('#/live/1/2')).toEqual({ name: 'not-found', path: '/live/1/2' });
    expect(parseRoute('#/live/%E0%A4%A')).toMatchObject({ name: 'not-found' });
  });
});
