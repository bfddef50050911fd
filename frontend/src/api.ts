// REST client for the Pressbox server (same origin).

import type { GameSummary, LiveGamesResponse, Snapshot } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class NotFoundError extends ApiError {
  constructor(message: string) {
    super(404, message);
    this.name = 'NotFoundError';
  }
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, {
    headers: { Accept: 'application/json' },
    ...(signal ? { signal } : {}),
  });
  if (!response.ok) {
    const detail = await errorDetail(response);
    if (response.status === 404) throw new NotFoundError(detail);
    throw new ApiError(response.status, detail);
  }
  return (await response.json()) as T;
}

async function errorDetail(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { detail?: unknown };
    if (typeof body.detail === 'string') return body.detail;
  } catch {
    // not JSON
  }
  return `${response.status} ${response.statusText}`.trim();
}

/** `GET /api/live/games`: live games first, then upcoming, then finished. */
export async function fetchLiveGames(signal?: AbortSignal): Promise<GameSummary[]> {
  const body = await getJson<LiveGamesResponse>('/api/live/games', signal);
  return body.games;
}

/** `GET /api/games/{id}`: the game's snapshot; throws NotFoundError for an unknown game. */
export function fetchGame(id: string, signal?: AbortSignal): Promise<Snapshot> {
  return getJson<Snapshot>(`/api/games/${encodeURIComponent(id)}`, signal);
}
