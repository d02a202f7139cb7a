/**
 * Checks of values every backend makes before it writes anything, so a refused value fails the
 * whole call with E_BAD_OPTION and nothing is applied (SQLite: before the transaction; Redis:
 * before any script is sent).
 */
import { DelaydError, describe } from '../errors.js';
import { occurrenceKey, type NewTask, type Outcome } from './types.js';

/** The largest time a Date can hold; a due time beyond it could not be shown. */
export const MAX_TIME_MS = 8.64e15;

/** Refuses a time a backend could not store (NaN: NULL in SQLite), or that no Date can show. */
export function checkTime(ms: number, what: string): void {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIME_MS) {
    throw new DelaydError('E_BAD_OPTION', `Expected ${what} to be a time in ms from 0 to ${MAX_TIME_MS}, got ${describe(ms)}`);
  }
}

/**
 * Checks every outcome before any is written: one bad value must fail the whole group commit
 * with a DelaydError (the caller then writes them one by one), never half of it.
 */
export function checkOutcomes(outcomes: readonly Outcome[]): void {
  for (const outcome of outcomes) {
    checkTime(outcome.atMs, `the time of task ${outcome.id}'s ${outcome.kind} outcome`);
    if (!Number.isSafeInteger(outcome.attempt) || outcome.attempt < 1) {
      throw new DelaydError('E_BAD_OPTION', `Expected the attempt of task ${outcome.id}'s outcome to be an integer >= 1, got ${describe(outcome.attempt)}`);
    }
    if (outcome.kind === 'retry') checkTime(outcome.dueMs, `the retry due time of task ${outcome.id}`);
    if (outcome.kind === 'started' && outcome.next !== undefined) checkFollower(outcome.id, outcome.next);
  }
}

/** A cron follower must be keyed as an occurrence of its own name, at its own due time. */
function checkFollower(id: number, next: NewTask): void {
  checkTime(next.dueMs, `the due time of the cron follower of task ${id}`);
  const expected = occurrenceKey(next.name, next.dueMs);
  if (next.key !== expected) {
    throw new DelaydError('E_BAD_OPTION', `Expected the cron follower of task ${id} to have key ${JSON.stringify(expected)}, got ${describe(next.key)}`);
  }
}

