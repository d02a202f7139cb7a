/**
 * The hour buckets of the two-level wheel (see migration 4 in schema.ts). A bulk insert keeps a
 * task due two or more cycles ahead out of the wheel index and writes its id into a bucket of
 * its cycle instead; a cycle's buckets are joined to the wheel before any claim reaches it.
 *
 * The join statements are plain SQL strings so that the background thread (upkeep.ts), which
 * joins the next cycle's buckets ahead of time, runs exactly the same ones.
 */
import type Database from 'better-sqlite3';
import { positionOfMs } from '../../slot.js';

/** Ids per bucket row: a join of one bucket is one short write transaction. */
export const BUCKET_IDS = 1000;

export const BUCKET_SQL = {
  add: `INSERT INTO cycle_buckets (cycle, n, ids) VALUES (?, ?, ?)`,
  // `in_wheel = 0` skips ids already joined by a claim or another thread.
  joinUpTo: `
    UPDATE tasks SET in_wheel = 1 WHERE in_wheel = 0 AND id IN (
      SELECT j.value FROM cycle_buckets b, json_each(b.ids) j WHERE b.cycle <= ?)`,
  dropUpTo: `DELETE FROM cycle_buckets WHERE cycle <= ?`,
  joinOne: `
    UPDATE tasks SET in_wheel = 1 WHERE in_wheel = 0 AND id IN (
      SELECT value FROM json_each((SELECT ids FROM cycle_buckets WHERE id = ?)))`,
  dropOne: `DELETE FROM cycle_buckets WHERE id = ?`,
  /** The buckets to join next, earliest cycle first, with their number of ids. */
  upNext: `SELECT id, n FROM cycle_buckets WHERE cycle <= ? ORDER BY cycle, id LIMIT ?`,
} as const;

/** Whether a task of a bulk insert goes into a bucket: it is due beyond `now`'s next cycle. */
export function isBeyondNextCycle(dueCycle: number, nowMs: number): boolean {
  return dueCycle > positionOfMs(nowMs).cycle + 1;
}

type Stmt<R = unknown> = Database.Statement<unknown[], R>;

export class CycleBuckets {
  readonly #add: Stmt;
  readonly #joinUpTo: Stmt;
  readonly #dropUpTo: Stmt;
  readonly #cycles: Stmt<number>;
  readonly #firstDue: Stmt<number | null>;

  constructor(db: Database.Database) {
    const prepare = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
    this.#add = prepare(BUCKET_SQL.add);
    this.#joinUpTo = prepare(BUCKET_SQL.joinUpTo);
    this.#dropUpTo = prepare(BUCKET_SQL.dropUpTo);
    this.#cycles = prepare<number>(`SELECT DISTINCT cycle FROM cycle_buckets ORDER BY cycle`).pluck();
    this.#firstDue = prepare<number | null>(`
      SELECT min(due_ms) FROM tasks WHERE state = 'scheduled' AND in_wheel = 0 AND id IN (
        SELECT j.value FROM cycle_buckets b, json_each(b.ids) j WHERE b.cycle = ?)`).pluck();
  }

  /** Writes ids (all of one cycle) into buckets of at most BUCKET_IDS each. */
  add(cycle: number, ids: readonly number[]): void {
    for (let from = 0; from < ids.length; from += BUCKET_IDS) {
      const part = ids.slice(from, from + BUCKET_IDS);
      this.#add.run(cycle, part.length, `[${part.join(',')}]`);
    }
  }

  /** Joins every bucket of a cycle at or before `cycle` to the wheel; inside a write transaction. */
  joinUpTo(cycle: number): void {
    this.#joinUpTo.run(cycle);
    this.#dropUpTo.run(cycle);
  }

  /**
   * The earliest due time among tasks still waiting in a bucket. Cycles are read in order
   * until one holds a task still waiting: the others' tasks were cancelled or rescheduled.
   */
  firstDueMs(): number | null {
    for (const cycle of this.#cycles.all()) {
      const due = this.#firstDue.get(cycle);
      if (due !== null && due !== undefined) return due;
    }
    return null;
  }
}
