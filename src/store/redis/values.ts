/**
 * Checks of values before anything is sent, so a refused value fails the whole call with
 * E_BAD_OPTION and nothing is written (the same rules as the SQLite backend's).
 */
import { DelaydError, describe } from '../../errors.js';
import { occurrenceKey, type Outcome } from '../types.js';

export const MAX_TIME_MS = 8.64e15;

export function checkTime(ms: number, what: string): void {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIME_MS) {
    throw new DelaydError('E_BAD_OPTION', `Expected ${what} to be a time in ms from 0 to ${MAX_TIME_MS}, got ${describe(ms)}`);
  }
}

export function checkOutcomes(outcomes: readonly Outcome[]): void {
  for (const outcome of outcomes) {
    checkTime(outcome.atMs, `the time of task ${outcome.id}'s ${outcome.kind} outcome`);
    if (!Number.isSafeInteger(outcome.attempt) || outcome.attempt < 1) {
      throw new DelaydError('E_BAD_OPTION', `Expected the attempt of task ${outcome.id}'s outcome to be an integer >= 1, got ${describe(outcome.attempt)}`);
    }
    if (outcome.kind === 'retry') checkTime(outcome.dueMs, `the retry due time of task ${outcome.id}`);
    if (outcome.kind === 'started' && outcome.next !== undefined) {
      const next = outcome.next;
      checkTime(next.dueMs, `the due time of the cron follower of task ${outcome.id}`);
      const expected = occurrenceKey(next.name, next.dueMs);
      if (next.key !== expected) {
        throw new DelaydError('E_BAD_OPTION', `Expected the cron follower of task ${outcome.id} to have key ${JSON.stringify(expected)}, got ${describe(next.key)}`);
      }
    }
  }
}

/** '' for null, else 'v' + text: lets a script tell null from the empty string. */
export const tag = (v: string | null): string => (v === null ? '' : `v${v}`);
/** '' for null, else the number. */
export const nul = (v: number | null): string => (v === null ? '' : String(v));
