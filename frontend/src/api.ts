// REST client for the Pressbox server (same origin).

import type {
  GameSummary,
  LiveGamesResponse,
  Snapshot,
  StreamResponse,
  StreamRow,
  StreamsResponse,
  Webhook,
  WebhookDetail,
  WebhooksResponse,
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
  const path = `/api/streams/${encodeURIComponent(gameId)}/${action}`;
  return (await adminJson<StreamResponse>(path, 'POST', token)).stream;
}

/** The headers of a call behind the admin token (none sent when empty, so the server answers 401). */
function adminHeaders(token: string): Record<string, string> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token !== '') headers.Authorization = `Bearer ${token}`;
  return headers;
}

/** A call behind the admin token: ApiError with the server's `detail` on a refusal (NotFoundError
 *  for a 404), NetworkError without answer. */
async function adminJson<T>(path: string, method: 'GET' | 'POST', token: string, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: adminHeaders(token),
      cache: 'no-store',
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new NetworkError(error);
  }
  if (!response.ok) {
    const detail = await errorDetail(response);
    if (response.status === 404) throw new NotFoundError(detail);
    throw new ApiError(response.status, detail);
  }
  return (await response.json()) as T;
}

/** `GET /api/webhooks` (admin token): every webhook subscription, oldest first. */
export async function fetchWebhooks(token: string, signal?: AbortSignal): Promise<Webhook[]> {
  return (await adminJson<WebhooksResponse>('/api/webhooks', 'GET', token, signal)).webhooks;
}

/** `GET /api/webhooks/{id}` (admin token): the subscription, its cursors and its last delivery
 *  attempts, newest first; throws NotFoundError once it is removed. */
export function fetchWebhook(id: number, token: string, signal?: AbortSignal): Promise<WebhookDetail> {
  return adminJson<WebhookDetail>(`/api/webhooks/${encodeURIComponent(String(id))}`, 'GET', token, signal);
}
