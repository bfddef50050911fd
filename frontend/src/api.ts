// REST client for the Pressbox server (same origin).

import type {
  GameSummary,
  LiveGamesResponse,
  Snapshot,
  StreamResponse,
  StreamRow,
  StreamsResponse,
} from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The request never got an answer (server down, connection refused, offline). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super(`could not reach the server (${cause instanceof Error ? cause.message : String(cause)})`);
    this.name = 'NetworkError';
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

/** `GET /api/streams`: every stream, earliest scheduled first. */
export async function fetchStreams(signal?: AbortSignal): Promise<StreamRow[]> {
  const body = await getJson<StreamsResponse>('/api/streams', signal);
  return body.streams;
}

export type StreamAction = 'cancel' | 'restart';

/**
 * `POST /api/streams/{id}/cancel|restart` with the admin token (none sent when empty, so the server
 * answers 401). Throws ApiError with the server's `detail` on a refusal, NetworkError without answer.
 */
export async function operateStream(gameId: string, action: StreamAction, token: string): Promise<StreamRow> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token !== '') headers.Authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(`/api/streams/${encodeURIComponent(gameId)}/${action}`, {
      method: 'POST',
      headers,
      cache: 'no-store',
    });
  } catch (error) {
    throw new NetworkError(error);
  }
  if (!response.ok) throw new ApiError(response.status, await errorDetail(response));
  return ((await response.json()) as StreamResponse).stream;
}
