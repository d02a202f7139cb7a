/**
 * The SQLite side of the dashboard's reads (contract.ts, Overview), used only by SqliteStore.
 *
 * slotLoad walks the wheel index (name, cycle, slot, due_ms) one served name at a time, each a
 * range scan of the window alone, so it costs what is scheduled in the window plus one index
 * seek per name, however many tasks wait in later hours. Tasks of the window still waiting in
 * an hour bucket (a bulk insert puts tasks two or more hours ahead there; the upkeep thread
 * joins them during the hour before) are counted from the buckets of the window's cycles.
 */
import type Database from 'better-sqlite3';
import { positionOf, SLOTS } from '../../slot.js';
import { checkBatchLimit, checkSlotRange } from '../overview.js';
import type { BatchRow, SlotCount } from '../types.js';

type Params = Record<string, unknown>;

const IN_WHEEL = `FROM tasks INDEXED BY tasks_wheel WHERE state = 'scheduled' AND in_wheel = 1`;

export class OverviewReads {
  readonly #firstName: Database.Statement<[], { name: string }>;
  readonly #nextName: Database.Statement<Params, { name: string }>;
  readonly #ofName: Database.Statement<Params, { second: number; n: number }>;
  readonly #inBuckets: Database.Statement<Params, { second: number; n: number }>;
  readonly #batches: Database.Statement<Params, BatchRow>;
  readonly #read: Database.Transaction<(from: number, to: number) => SlotCount[]>;

  constructor(db: Database.Database) {
    this.#firstName = db.prepare<[], { name: string }>(`SELECT name ${IN_WHEEL} ORDER BY name LIMIT 1`);
    this.#nextName = db.prepare<Params, { name: string }>(`SELECT name ${IN_WHEEL} AND name > @name ORDER BY name LIMIT 1`);
    this.#ofName = db.prepare<Params, { second: number; n: number }>(`
      SELECT cycle * ${SLOTS} + slot AS second, count(*) AS n ${IN_WHEEL}
        AND name = @name AND (cycle, slot) >= (@c1, @s1) AND (cycle, slot) <= (@c2, @s2)
      GROUP BY cycle, slot`);
    this.#inBuckets = db.prepare<Params, { second: number; n: number }>(`
      SELECT t.cycle * ${SLOTS} + t.slot AS second, count(*) AS n
      FROM cycle_buckets b, json_each(b.ids) j JOIN tasks t ON t.id = j.value
      WHERE b.cycle >= @c1 AND b.cycle <= @c2 AND t.state = 'scheduled' AND t.in_wheel = 0
        AND t.cycle * ${SLOTS} + t.slot BETWEEN @from AND @to
      GROUP BY second`);
    this.#batches = db.prepare<Params, BatchRow>(`
      SELECT id, name, total, done, ok, key, reduce_name AS reduceName, reduce_task_id AS reduceTaskId,
        created_ms AS createdMs, finished_ms AS finishedMs
      FROM batches ORDER BY id DESC LIMIT @limit`);
    // One read transaction: the wheel and the buckets are seen at the same moment.
    this.#read = db.transaction((from: number, to: number) => this.#load(from, to));
  }

  slotLoad(fromSecond: number, toSecond: number): SlotCount[] {
    checkSlotRange(fromSecond, toSecond);
    return this.#read(fromSecond, toSecond);
  }

  recentBatches(limit: number): BatchRow[] {
    checkBatchLimit(limit);
    return this.#batches.all({ limit });
  }

  #load(from: number, to: number): SlotCount[] {
    const a = positionOf(from);
    const b = positionOf(to);
    const range = { c1: a.cycle, s1: a.slot, c2: b.cycle, s2: b.slot };
    const counts = new Map<number, number>();
    const add = (second: number, n: number) => counts.set(second, (counts.get(second) ?? 0) + n);
    for (let row = this.#firstName.get(); row; row = this.#nextName.get({ name: row.name })) {
      for (const r of this.#ofName.all({ name: row.name, ...range })) add(r.second, r.n);
    }
    for (const r of this.#inBuckets.all({ c1: a.cycle, c2: b.cycle, from, to })) add(r.second, r.n);
    return [...counts].sort(([x], [y]) => x - y).map(([second, count]) => ({ second, count }));
  }
}
