/**
 * The eta strings delayd accepts, the same in delay() and on the command line:
 *   - all digits: unix milliseconds (`1893456000000`);
 *   - a date, `YYYY-MM-DD`: 00:00 UTC of that day;
 *   - a date-time, `YYYY-MM-DDTHH:MM[:SS[.fff]]` with `Z` or an offset `±HH:MM`.
 * A date-time without an offset is refused rather than read in the host's zone, so one file
 * of etas means the same instants on every host. Impossible dates (2030-02-30) are refused,
 * not rolled over; fractions finer than a millisecond round up (never early).
 */
import { DelaydError, describe } from './errors.js';

/** The largest time a JavaScript Date can hold (+275760-09-13T00:00:00Z). */
export const MAX_DUE_MS = 8.64e15;

const FORMS = 'unix milliseconds, YYYY-MM-DD (00:00 UTC), or YYYY-MM-DDTHH:MM[:SS[.sss]] with Z or an offset such as +01:00';
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** Unix milliseconds of an eta string; `what` names it in messages (`eta`, `--eta`). */
export function parseEtaString(text: string, what = '`eta`'): number {
  const fail = (why?: string) =>
    new DelaydError('E_BAD_ETA', `Expected ${what} to be ${FORMS}, got ${describe(text)}${why ? `: ${why}` : ''}`);
  if (/^\d+$/.test(text)) return checkEtaMs(Number(text), text, what);
  const m = DATE_TIME.exec(text);
  if (!m) throw fail();
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12) throw fail(`there is no month ${m[2]}`);
  if (day < 1 || day > daysIn(year, month)) throw fail(`${m[1]}-${m[2]} has no day ${m[3]}`);
  if (m[4] === undefined) return checkEtaMs(utcMs(year, month, day, 0, 0, 0), text, what);
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (hour > 23 || minute > 59 || second > 59) throw fail(`${m[4]}:${m[5]}${m[6] ? `:${m[6]}` : ''} is not a time of day`);
  const zone = m[8];
  if (zone === undefined) {
    throw new DelaydError(
      'E_BAD_ETA',
      `Expected ${what} to say its zone, got ${describe(text)} without one: add Z for UTC (${text}Z) or an offset such as ${text}+01:00`,
    );
  }
  const offsetMs = zone === 'Z' ? 0 : offsetOf(zone, fail);
  const fraction = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000;
  return checkEtaMs(Math.ceil(utcMs(year, month, day, hour, minute, second) + fraction - offsetMs), text, what);
}

/** An eta in unix milliseconds must be a time a Date can hold, from 1970 on. */
export function checkEtaMs(ms: number, given: unknown, what = '`eta`'): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_DUE_MS) {
    throw new DelaydError(
      'E_BAD_ETA',
      `Expected ${what} to be a time from 1970-01-01T00:00:00Z to +275760-09-13T00:00:00Z (0 to ${MAX_DUE_MS} unix ms), got ${describe(given)}`,
    );
  }
  return Math.ceil(ms);
}

function offsetOf(zone: string, fail: (why: string) => DelaydError): number {
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  if (hours > 23 || minutes > 59) throw fail(`${zone} is not a UTC offset`);
  return (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

// Date.UTC reads years 0-99 as 1900-1999; setUTCFullYear does not.
function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}
