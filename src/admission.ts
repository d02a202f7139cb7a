/**
 * The claimed tasks a scheduler holds in memory (waiting in its pool or running) and the
 * durable start of each attempt.
 *
 * Held: a task id is held at most once. A claim that returns a held id (our tasks were put back
 * while we were frozen, and we claimed them again) replaces a waiting item, or, for a running
 * one, is kept as `next` and queued when the running attempt ends: one process never runs one
 * task twice at once.
 *
 * Admit: the items one dispatch round of the pool would start have their `started` outcomes
 * written in ONE store.record call before any handler runs. That write is the fence (types.ts):
 * only the items whose start applied run; a task cancelled, rescheduled, put back or claimed
 * by another scheduler meanwhile is dropped. A task cut off `maxCutOffs` times already is not
 * run: its attempt is opened and failed with E_CUT_OFF in the same write. When the write
 * fails, nothing runs and the pool asks again shortly: nothing runs unrecorded.
 *
 * Cron (issue 14): the first start of a cron occurrence carries its follower (`next`), which
 * the store inserts in the same transaction, behind the same fence (types.ts), and an
 * occurrence that its missed policy says not to run (missed under 'skip', superseded by a
 * later one under 'once') is failed with E_CRON_MISSED in the same write, unrun
 * (src/cron/occurrence.ts). Later attempts carry nothing: the chain moves once.
 *
 * Ordering: an attempt's handler runs only once its `started` is committed (admit awaits the
 * write), and its later outcomes go to the journal only after the handler ends, so the store
 * can never see an attempt's `succeeded` (or failed, retry) before its `started`, whatever the
 * journal's batching. The pool sends one admit at a time, or on Redis two, each for its own
 * items (worker-pool.ts: admitsInFlight).
 */
import { cronStart, isOccurrence, type CronStart } from './cron/occurrence.js';
import type { CronSchedule } from './cron/schedule.js';
import type { Logger } from './logger.js';
import { isTransient } from './journal.js';
import type { Policy } from './policy.js';
import type { ClaimedTask, ErrorInfo, Outcome, Store } from './store/types.js';
import type { PoolItem, Verdict } from './worker-pool.js';

export interface Item extends PoolItem {
  readonly task: ClaimedTask;
  readonly policy: Policy;
}

interface Held {
  item: Item;
  running: boolean;
  /** A newer claim of the same task, made while this attempt runs. */
  next: ClaimedTask | undefined;
}

export interface AdmissionOptions {
  store: Store;
  owner: string;
  logger: Logger;
  now: () => number;
  /** Builds the pool item of a claimed task (resolving its policy). */
  item: (task: ClaimedTask) => Item;
  /** Each write's error or null, so the scheduler can count failures that will not pass. */
  onResult: (error: unknown) => void;
  /** The write scheduled tasks (cron followers): the earliest due time, to claim it if due. */
  onScheduled?: (dueMs: number) => void;
  /** A task failed for its cut-offs (logged and emitted by the scheduler). */
  onCutOff: (task: ClaimedTask, error: ErrorInfo) => void;
}

/** The schedule of a task name, if it is periodic. */
export type CronLookup = (name: string) => CronSchedule | undefined;

export class Admission {
  readonly #o: AdmissionOptions;
  readonly #held = new Map<number, Held>();
  #crons: CronLookup | undefined;

  constructor(options: AdmissionOptions) {
    this.#o = options;
  }

  /** Where the starts of cron occurrences find their schedule (set when the scheduler starts: cron/start.ts). */
  useCrons(lookup: CronLookup): void {
    this.#crons = lookup;
  }

  /** Whether this task is held here (waiting or running). */
  holds(id: number): boolean {
    return this.#held.has(id);
  }

  get size(): number {
    return this.#held.size;
  }

  /** The attempts running now (for logs about errors no attempt caught). */
  running(): { taskId: number; name: string; attempt: number }[] {
    const list: { taskId: number; name: string; attempt: number }[] = [];
    for (const held of this.#held.values()) {
      if (held.running) list.push({ taskId: held.item.task.id, name: held.item.task.name, attempt: held.item.task.attempts + 1 });
    }
    return list;
  }

  /** The items to queue for these claimed tasks: new ones, or replacements of waiting ones. */
  accept(tasks: readonly ClaimedTask[]): Item[] {
    const items: Item[] = [];
    for (const task of tasks) {
      const held = this.#held.get(task.id);
      if (held?.running) {
        held.next = task;
        continue;
      }
      const item = this.#o.item(task);
      // A held waiting item becomes stale: admit() drops it, since it is no longer the held one.
      if (held) held.item = item;
      else this.#held.set(task.id, { item, running: false, next: undefined });
      items.push(item);
    }
    return items;
  }

  /** Writes the starts of one dispatch round; see the top of this file. */
  async admit(items: readonly Item[]): Promise<Verdict> {
    const verdict: boolean[] = items.map(() => false);
    const outcomes: Outcome[] = [];
    const starts: number[] = [];
    const missed: (CronStart | undefined)[] = [];
    const atMs = this.#o.now();
    items.forEach((item, i) => {
      if (this.#held.get(item.task.id)?.item !== item) return; // stale: replaced or dropped
      const { task, policy } = item;
      const attempt = task.attempts + 1;
      const cron = attempt === 1 ? this.#cronStart(task, atMs) : undefined;
      starts[i] = outcomes.length;
      const started: Outcome = { kind: 'started', id: task.id, owner: this.#o.owner, attempt, atMs };
      if (cron?.next) started.next = cron.next;
      outcomes.push(started);
      if (task.cutOffs >= policy.maxCutOffs) {
        outcomes.push({ kind: 'failed', id: task.id, owner: this.#o.owner, attempt, atMs, error: cutOffError(task, policy.maxCutOffs) });
      } else if (cron?.missed) {
        missed[i] = cron;
        outcomes.push({ kind: 'failed', id: task.id, owner: this.#o.owner, attempt, atMs, error: cron.missed });
      }
    });
    if (outcomes.length === 0) return verdict;
    let applied: boolean[];
    try {
      const result = await this.#o.store.record(outcomes);
      applied = result.applied;
      this.#o.onResult(null);
      // A cron follower already due ('all' catching up) is claimed now, not at the next tick.
      if (result.earliestDueMs !== null) this.#o.onScheduled?.(result.earliestDueMs);
    } catch (error) {
      this.#o.onResult(error);
      const why = isTransient(error) ? 'will try again shortly' : 'will try again shortly (not a passing error)';
      this.#o.logger.error({ err: error, count: items.length }, `could not record the start of attempts; nothing started, ${why}`);
      return 'later';
    }
    items.forEach((item, i) => {
      const at = starts[i];
      if (at === undefined) return;
      const held = this.#held.get(item.task.id);
      // Dropped while its start was being written (stop, lease lost): its row is or will be put back.
      if (held?.item !== item) return;
      const cutOff = item.task.cutOffs >= item.policy.maxCutOffs;
      const skipped = missed[i];
      if (applied[at] === true && !cutOff && !skipped) {
        held.running = true;
        verdict[i] = true;
        return;
      }
      this.#held.delete(item.task.id);
      if (cutOff && applied[at + 1] === true) this.#o.onCutOff(item.task, cutOffError(item.task, item.policy.maxCutOffs));
      if (skipped && applied[at + 1] === true) {
        const { id: taskId, name, dueMs } = item.task;
        this.#o.logger.info({ taskId, name, dueMs, lateMs: atMs - dueMs, errorCode: 'E_CRON_MISSED' }, 'missed cron occurrence not run (its missed policy says so)');
      }
    });
    return verdict;
  }

  /** The cron part of an occurrence's first start (none for a plain task, or with no cron wired). */
  #cronStart(task: ClaimedTask, atMs: number): CronStart | undefined {
    const schedule = this.#crons?.(task.name);
    return schedule && isOccurrence(task) ? cronStart(schedule, task, atMs) : undefined;
  }

  /** An attempt ended: the next claim of the task (to queue), if one came while it ran. */
  finished(item: Item): Item | undefined {
    const held = this.#held.get(item.task.id);
    if (!held || held.item !== item) return undefined;
    if (!held.next) {
      this.#held.delete(item.task.id);
      return undefined;
    }
    const next = this.#o.item(held.next);
    this.#held.set(item.task.id, { item: next, running: false, next: undefined });
    return next;
  }

  /** Forgets every task not running (the pool's waiting items are taken by the caller). */
  dropWaiting(): number {
    let dropped = 0;
    for (const [id, held] of this.#held) {
      if (held.next) dropped++;
      held.next = undefined;
      if (held.running) continue;
      this.#held.delete(id);
      dropped++;
    }
    return dropped;
  }

  /** Forgets everything (after stop: abandoned attempts may still end, unrecorded). */
  clear(): void {
    this.#held.clear();
  }
}

export function cutOffError(task: ClaimedTask, maxCutOffs: number): ErrorInfo {
  const message =
    `Task ${task.id} (${task.name}) was cut off ${task.cutOffs} times: its daemon died or stopped during each of those attempts; ` +
    `not run again (maxCutOffs ${maxCutOffs})`;
  return { code: 'E_CUT_OFF', message, stack: `DelaydError [E_CUT_OFF]: ${message}` };
}
