// Formatting of times, ages, sizes and link states for display. Pure
// functions, no DOM; `now` is passed in so the 1-second tick and tests agree.

import type { LinkState, Risk } from '../app/types';

import { clock } from '../../../web-common/time';

export { clock, duration } from '../../../web-common/time';

/** "just now", "40 s ago", "2 min ago", "3 h ago". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr} h ago`;
  return `${Math.floor(hr / 24)} days ago`;
}

export function riskOf(r: Risk | null): Risk {
  return r ?? 'medium';
}

export function timeLeft(expiresAtMs: number, now: number): string {
  const left = expiresAtMs - now;
  return left <= 0 ? 'expired' : `${clock(left)} left`;
}

/** One line for a machine's link, e.g. "Reconnecting (attempt 3): refused · data from 2 min ago". */
export function linkText(link: LinkState, now: number): string {
  switch (link.kind) {
    case 'connecting':
      return 'Connecting…';
    case 'connected':
      return 'Connected';
    case 'reconnecting': {
      let t = `Reconnecting (attempt ${link.attempt})`;
      if (link.error) t += `: ${link.error}`;
      return t + dataAge(link.lastSyncMs, now);
    }
    case 'stale':
      return 'No news from the computer' + dataAge(link.lastSyncMs, now);
  }
}

function dataAge(lastSyncMs: number | null, now: number): string {
  return lastSyncMs === null ? ' · no data yet' : ` · data from ${ago(now - lastSyncMs)}`;
}

/** Short label for header chips. */
export function linkShort(link: LinkState): string {
  return link.kind === 'connected' ? 'connected' : link.kind;
}
