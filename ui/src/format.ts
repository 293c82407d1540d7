// Formatting of times, durations, sizes and percentages for display. Pure
// functions, no DOM; `now` is passed in so the 1-second tick and tests agree.

export { clock, duration } from '../../web-common/time';

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago"; "never" for null. */
export function ago(atMs: number | null, now: number): string {
  if (atMs === null) return 'never';
  const s = Math.floor((now - atMs) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** "512 B", "1.5 KiB", "230 MiB", "1.2 GiB": one decimal below 10 units. */
export function bytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${Math.round(v)} B`;
  return `${v < 10 ? (Math.floor(v * 10) / 10).toFixed(1) : Math.floor(v)} ${units[i]}`;
}

/** "3 %", "0.4 %", "250 %" (percent of one core; a tree can pass 100). */
export function percent(p: number): string {
  if (!Number.isFinite(p) || p < 0) return '—';
  return p < 10 ? `${(Math.round(p * 10) / 10).toString()} %` : `${Math.round(p)} %`;
}

/** A local date and time, "2026-12-01 16:25:58", stable across locales. */
export function timestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "1 process", "12 processes". */
export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Characters that change how text looks without being seen: bidi controls, zero-width ones. */
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * Makes invisible and text-direction characters visible as `⟪U+202E⟫`, so a
 * command cannot look different from what runs (an RLO can show `exe.txt` as
 * `txt.exe`). `found` says whether there were any, for a warning.
 */
export function reveal(s: string): { text: string; found: boolean } {
  let found = false;
  const text = s.replace(INVISIBLE, (c) => {
    found = true;
    return `⟪U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟫`;
  });
  return { text, found };
}
