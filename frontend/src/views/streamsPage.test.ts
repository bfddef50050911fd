import { describe, expect, it } from 'vitest';

import { ApiError, NetworkError } from '../api';
import { leaseAge, refusalText, serverTime } from './streamsPage';

describe('streams page text', () => {
  it('shows the server detail of a refusal with its status', () => {
    const refused = new ApiError(409, 'stream cannot go from Completed to Canceled');
    expect(refusalText('Cancel', 'ISU at KSU', refused, false)).toBe(
      'Cancel of “ISU at KSU” refused (409): stream cannot go from Completed to Canceled',
    );
  });

  it('hints at the token field when a call without token is refused', () => {
    const refused = new ApiError(401, 'missing or wrong admin token');
    expect(refusalText('Restart', 'G', refused, true)).toBe(
      'Restart of “G” refused (401): missing or wrong admin token (enter the admin token above)',
    );
    expect(refusalText('Restart', 'G', refused, false)).not.toContain('enter the admin token');
    const unconfigured = new ApiError(403, 'admin token not configured');
    expect(refusalText('Cancel', 'G', unconfigured, false)).toContain('(403): admin token not configured');
  });

  it('says when the server could not be reached', () => {
    const error = new NetworkError(new TypeError('Failed to fetch'));
    expect(refusalText('Cancel', 'G', error, false)).toBe(
      'Cancel of “G” failed: could not reach the server (Failed to fetch).',
    );
  });

  it('formats lease ages and server times', () => {
    expect(leaseAge(null)).toBe('—');
    expect(leaseAge(4.24)).toBe('4.2 s');
    expect(leaseAge(37.6)).toBe('38 s');
    expect(serverTime('2025-08-23T16:10:12Z')).toBe('2025-08-23 16:10:12 UTC');
    expect(serverTime('2025-08-23T16:10:12.532+00:00')).toBe('2025-08-23 16:10:12 UTC');
    expect(serverTime(null)).toBe('—');
    expect(serverTime('soon')).toBe('soon');
  });
});
