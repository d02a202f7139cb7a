/**
 * Periodic tasks in the SQLite store (issue 14; the contract is Crons in contract.ts and
 * 'started'.next in types.ts). A cron is a chain of ordinary tasks keyed `cron:<name>:<dueMs>`.
 *
 * The head of a cron is its occurrence not yet started: state scheduled or running with
 * attempts = 0. Invariant: a synced cron has exactly one head, except after a removal (none).
 * - The follower is inserted by the start of its predecessor's first attempt, in the record()
 *   transaction (follow below): the start made the predecessor stop being a head, and the
 *   follower becomes the head, atomically. A refused start inserts nothing.
 * - syncCrons runs in one IMMEDIATE transaction: of daemons racing at start, the first
 *   inserts the head, the others find it.
 * Heads are found through tasks_key (every unfinished keyed task), by key range within the
 * name: `cron:a:` is also a prefix of `cron:a:b:...`, hence the name test beside it.
 */
import type Database from 'better-sqlite3';
import { DelaydError, describe } from '../../errors.js';
import { occurrenceKey, type CronDef, type CronOccurrence, type CronRow, type CronSync, type CronSynced, type Inserted, type NewTask, type TaskState } from '../types.js';

type Params = Record<string, unknown>;

interface RawCron {
  name: string;
  expression: string;
  tz: string;
  args: string;
  missed: CronDef['missed'];
  updated_ms: number;
  synced_ms: number;
  removed_ms: number | null;
  last_task_id: number | null;
}

interface RawOccurrence {
  id: number;
  due_ms: number;
  state: TaskState;
  attempts: number;
  started_ms: number | null;
  finished_ms: number | null;
  last_error_code: string | null;
}

const OCCURRENCE_COLUMNS = 'id, due_ms, state, attempts, started_ms, finished_ms, last_error_code';
/** Unfinished occurrences of @name, through tasks_key: @from is `cron:<name>:`, @to the same with ';' (':' + 1). */
const OCCURRENCES = `FROM tasks INDEXED BY tasks_key
  WHERE key >= @from AND key < @to AND (state = 'scheduled' OR state = 'running') AND name = @name`;

function range(name: string): { name: string; from: string; to: string } {
  return { name, from: `cron:${name}:`, to: `cron:${name};` };
}

export class CronBook {
  readonly #db: Database.Database;
  readonly #insertOne: (task: NewTask) => Inserted;
  readonly #get: Database.Statement<Params, RawCron>;
  readonly #all: Database.Statement<[], RawCron>;
  readonly #upsert: Database.Statement<Params>;
  readonly #remove: Database.Statement<Params>;
  readonly #heads: Database.Statement<Params, RawOccurrence>;
  readonly #cancelHeads: Database.Statement<Params>;
  readonly #startedKey: Database.Statement<Params, { key: string | null; name: string; due_ms: number }>;
  readonly #setLast: Database.Statement<Params>;
  readonly #occurrence: Database.Statement<Params, RawOccurrence>;
  readonly #syncTx: Database.Transaction<(sync: CronSync) => CronSynced[]>;

  constructor(db: Database.Database, insertOne: (task: NewTask) => Inserted) {
    this.#db = db;
    this.#insertOne = insertOne;
    this.#get = db.prepare<Params, RawCron>(`SELECT * FROM crons WHERE name = @name`);
    this.#all = db.prepare<[], RawCron>(`SELECT * FROM crons ORDER BY name`);
    this.#upsert = db.prepare<Params>(`
      INSERT INTO crons (name, expression, tz, args, missed, updated_ms, synced_ms, removed_ms)
      VALUES (@name, @expression, @tz, @args, @missed, @nowMs, @nowMs, NULL)
      ON CONFLICT (name) DO UPDATE SET expression = @expression, tz = @tz, args = @args, missed = @missed,
        updated_ms = CASE WHEN @changed THEN @nowMs ELSE updated_ms END, synced_ms = @nowMs, removed_ms = NULL`);
    this.#remove = db.prepare<Params>(`UPDATE crons SET removed_ms = @nowMs, updated_ms = @nowMs, synced_ms = @nowMs WHERE name = @name`);
    this.#heads = db.prepare<Params, RawOccurrence>(`SELECT ${OCCURRENCE_COLUMNS} ${OCCURRENCES} AND attempts = 0 ORDER BY due_ms`);
    // Only scheduled heads: a claimed one may be starting in its daemon right now; it runs.
    this.#cancelHeads = db.prepare<Params>(`
      UPDATE tasks SET state = 'cancelled', finished_ms = @nowMs
      WHERE id IN (SELECT id ${OCCURRENCES} AND attempts = 0) AND state = 'scheduled'`);
    this.#startedKey = db.prepare<Params, { key: string | null; name: string; due_ms: number }>(
      `SELECT key, name, due_ms FROM tasks WHERE id = @id`);
    this.#setLast = db.prepare<Params>(`UPDATE crons SET last_task_id = @id WHERE name = @name`);
    this.#occurrence = db.prepare<Params, RawOccurrence>(`SELECT ${OCCURRENCE_COLUMNS} FROM tasks WHERE id = @id`);
    this.#syncTx = db.transaction((sync) => this.#sync(sync));
  }

  /**
   * Inside record()'s transaction, after task `startedId`'s first attempt started: inserts its
   * follower per the rules of 'started'.next (types.ts). Returns the follower's due time when
   * it was inserted, else null.
   */
  follow(startedId: number, next: NewTask): number | null {
    const started = this.#startedKey.get({ id: startedId });
    if (!started || started.name !== next.name || started.key !== occurrenceKey(next.name, started.due_ms)) return null;
    const record = this.#get.get({ name: next.name });
    if (record) this.#setLast.run({ id: startedId, name: next.name });
    if (record?.removed_ms != null) return null;
    if (this.#heads.get(range(next.name))) return null;
    const inserted = this.#insertOne(next);
    return inserted.created ? inserted.dueMs : null;
  }

  sync(sync: CronSync): CronSynced[] {
    return this.#syncTx.immediate(sync);
  }

  list(): CronRow[] {
    return this.#all.all().map((raw) => {
      const head = this.#heads.get(range(raw.name));
      const last = raw.last_task_id === null ? undefined : this.#occurrence.get({ id: raw.last_task_id });
      return {
        name: raw.name,
        expression: raw.expression,
        tz: raw.tz,
        args: raw.args,
        missed: raw.missed,
        updatedMs: raw.updated_ms,
        syncedMs: raw.synced_ms,
        removedMs: raw.removed_ms,
        next: head ? toOccurrence(head) : null,
        last: last ? toOccurrence(last) : null,
      };
    });
  }

  #sync({ nowMs, crons, plain }: CronSync): CronSynced[] {
    const results: CronSynced[] = [];
    for (const { def, first } of crons) {
      if (first.name !== def.name || first.key !== occurrenceKey(def.name, first.dueMs)) {
        throw new DelaydError(
          'E_BAD_OPTION',
          `Expected the first occurrence of cron ${JSON.stringify(def.name)} to be named so and keyed ${JSON.stringify(occurrenceKey(def.name, first.dueMs))}, got ${describe(first.key)}`,
        );
      }
      const before = this.#get.get({ name: def.name });
      const changed = before !== undefined && (before.removed_ms !== null || differs(before, def));
      const cancelled = changed ? this.#cancelHeads.run({ ...range(def.name), nowMs }).changes : 0;
      this.#upsert.run({ ...def, nowMs, changed: changed ? 1 : 0 });
      let head = this.#heads.get(range(def.name));
      const inserted = head === undefined;
      if (inserted) this.#insertOne(first);
      head ??= this.#heads.get(range(def.name));
      const change = before === undefined ? 'created' : changed ? 'changed' : 'unchanged';
      results.push({ name: def.name, change, cancelled, headId: head?.id ?? null, inserted });
    }
    for (const name of plain) {
      const before = this.#get.get({ name });
      if (!before || before.removed_ms !== null) continue;
      const cancelled = this.#cancelHeads.run({ ...range(name), nowMs }).changes;
      this.#remove.run({ name, nowMs });
      results.push({ name, change: 'removed', cancelled, headId: this.#heads.get(range(name))?.id ?? null, inserted: false });
    }
    return results;
  }
}

function differs(row: RawCron, def: CronDef): boolean {
  return row.expression !== def.expression || row.tz !== def.tz || row.args !== def.args || row.missed !== def.missed;
}

function toOccurrence(raw: RawOccurrence): CronOccurrence {
  return {
    id: raw.id,
    dueMs: raw.due_ms,
    state: raw.state,
    attempts: raw.attempts,
    startedMs: raw.started_ms,
    finishedMs: raw.finished_ms,
    lastErrorCode: raw.last_error_code,
  };
}
