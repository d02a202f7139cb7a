/**
 * The bounds of the dashboard's reads (contract.ts, Overview), checked the same way by every
 * backend before it reads anything.
 */
import { DelaydError, describe } from '../errors.js';
import { RECENT_BATCHES_MAX, SLOT_LOAD_MAX_SECONDS } from './contract.js';

export function checkSlotRange(fromSecond: number, toSecond: number): void {
  const ok = Number.isSafeInteger(fromSecond) && Number.isSafeInteger(toSecond) && fromSecond <= toSecond && toSecond - fromSecond < SLOT_LOAD_MAX_SECONDS;
  if (!ok) {
    throw new DelaydError(
      'E_BAD_OPTION',
      `Expected a range of unix seconds from <= to, spanning at most ${SLOT_LOAD_MAX_SECONDS}, got ${describe(fromSecond)} to ${describe(toSecond)}`,
    );
  }
}

export function checkBatchLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > RECENT_BATCHES_MAX) {
    throw new DelaydError('E_BAD_OPTION', `Expected a limit from 1 to ${RECENT_BATCHES_MAX}, got ${describe(limit)}`);
  }
}
