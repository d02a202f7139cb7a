/**
 * Durations as people type them on a command line (`90s`, `30m`, `12h`, `7d`, `1h30m`) and
 * as the CLI prints them back. Units are required: a bare `7` could mean seconds or days.
 */
import { DelaydError, describe } from '../../errors.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/** Milliseconds of a duration such as `7d`, `12h`, `30m`, `45s`, `1h30m` or `250ms`. */
export function parseDuration(text: unknown, flag = 'duration'): number {
  const fail = () =>
    new DelaydError('E_BAD_OPTION', `Expected \`${flag}\` to be a duration such as 30s, 15m, 12h or 7d, got ${describe(text)}`);
  if (typeof text !== 'string') throw fail();
  const source = text.trim().toLowerCase();
  if (source === '') throw fail();
  PART.lastIndex = 0;
  let total = 0;
  let end = 0;
  for (let match = PART.exec(source); match; match = PART.exec(source)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    end = PART.lastIndex;
  }
  if (end !== source.length || !Number.isFinite(total)) throw fail();
  return Math.round(total);
}

/** A short human form of a span of milliseconds: `850ms`, `4s`, `3m20s`, `2h5m`, `3d4h`. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(Math.round(ms));
  if (abs < 1000) return `${abs}ms`;
  const s = Math.floor(abs / 1000);
  if (s < 60) return `${s}s`;
  const [big, bigUnit, small, smallUnit] =
    s < 3600 ? [Math.floor(s / 60), 'm', s % 60, 's']
    : s < 86_400 ? [Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'm']
    : [Math.floor(s / 86_400), 'd', Math.floor((s % 86_400) / 3600), 'h'];
  return small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${small}${smallUnit}`;
}

/** `in 4s`, `3m20s ago` or `now`, relative to `nowMs`. */
export function relativeTime(ms: number, nowMs: number): string {
  const delta = ms - nowMs;
  if (Math.abs(delta) < 1000) return 'now';
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(delta)} ago`;
}
