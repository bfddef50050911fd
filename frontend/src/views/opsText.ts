// Text shared by the sections of the operations page (`#/streams`): server times, counts and the
// line that tells why a call behind the admin token did not succeed. Pure functions.

import { ApiError, NetworkError } from '../api';

/** Times are on the server's clock (the replay clock during a replay): shown as they are, in UTC. */
export function serverTime(iso: string | null): string {
  if (iso === null) return '—';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

/** A server time split for a narrow cell: the date above, the clock time (UTC) below. */
export function timeParts(iso: string | null): { date: string; clock: string } | null {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2} UTC)$/.exec(serverTime(iso));
  return match ? { date: match[1] as string, clock: match[2] as string } : null;
}

const COUNT_FORMAT = new Intl.NumberFormat('en-US');

/** A count with thousands separators ("1,069"), or a dash. */
export function countText(value: number | null): string {
  return value === null ? '—' : COUNT_FORMAT.format(value);
}

/** Why `subject` ("Cancel of “G”", "Webhooks") did not succeed: the server's status and detail
 *  (with a hint at the token field when none was entered), or that it could not be reached. */
export function refusalLine(subject: string, error: unknown, noToken: boolean): string {
  if (error instanceof ApiError) {
    const hint = error.status === 401 && noToken ? ' (enter the admin token above)' : '';
    return `${subject} refused (${error.status}): ${error.message}${hint}`;
  }
  if (error instanceof NetworkError) return `${subject} failed: ${error.message}.`;
  return `${subject} failed: ${error instanceof Error ? error.message : String(error)}.`;
}
