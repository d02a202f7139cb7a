/**
 * How a staged write is cut: staging chunks and the INSERT limit by items and args bytes
 * (chunkEnd), publish steps by the live-index zsets they fill and what their items cost
 * (stepEnd).
 */
import type { NewTask } from '../types.js';

/** The end of the chunk that starts at `from`: at most `items` items and about `bytes` of args (at least one). */
export function chunkEnd(tasks: readonly NewTask[], from: number, items: number, bytes: number): number {
  let size = 0;
  let to = from;
  while (to < tasks.length && to - from < items) {
    size += tasks[to]!.args.length;
    if (size > bytes && to > from) break;
    to++;
  }
  return to;
}

/**
 * Items and args bytes per publish step (each item written as insert writes a task: ~5-15 µs).
 * A step ends where a live-index zset does (LIVE_SEQS consecutive seqs, scripts/lib.ts), so
 * that each step fills zsets of its own from empty, the cheap way (scripts/stage-publish.ts, addAll),
 * or at its middle when the items to its end would cost more than STEP_COST (stepEnd).
 */
export const STEP_ITEMS = 128;
export const STEP_BYTES = 128 * 1024;
export const LIVE_SEQS = 128;
/**
 * A step's cost budget in items whose dues follow one another: an item due in another hour than
 * the one before it lands in another zset (scattered over large zsets, cache misses: twice the
 * time a task inside Redis), a keyed one costs a GET and a SET more. 128 neighbours fit (~1 ms);
 * 128 scattered or keyed ones do not (~2 ms), and get steps of 64.
 */
const STEP_COST = 160;
const SCATTERED = 1;
const KEYED = 0.5;

/** The end of the publish step that starts at item `from` (seq fs + from). */
export function stepEnd(items: readonly NewTask[], from: number, fs: number): number {
  const toEnd = LIVE_SEQS - ((fs + from) % LIVE_SEQS);
  const toMiddle = toEnd > LIVE_SEQS / 2 ? toEnd - LIVE_SEQS / 2 : toEnd;
  let cost = 0;
  let hour = Number.NaN;
  let to = from;
  for (const end = Math.min(items.length, from + toEnd); to < end; to++) {
    const t = items[to]!;
    const h = Math.floor(t.dueMs / 3_600_000);
    cost += 1 + (h !== hour ? SCATTERED : 0) + (t.key !== null ? KEYED : 0);
    hour = h;
    if (cost > STEP_COST && to > from) {
      if (to >= from + toMiddle) to = from + toMiddle;
      break;
    }
  }
  return chunkEnd(items, from, to - from, STEP_BYTES);
}
