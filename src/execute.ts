/**
 * One claimed task's attempt, from its handler to its recorded outcome: runs it (runner.ts,
 * in-process or in a thread), hands the outcome to the journal's group commit, and logs and
 * emits it only once it is committed, never before. An outcome the fence refuses (the task
 * was put back or taken over meanwhile) is logged and dropped: that attempt no longer holds
 * its task.
 *
 * A stop abandons attempts that outlive its drain: they were put back, so whatever they end
 * with records nothing (the generation check).
 */
import type { Admission, Item } from './admission.js';
import type { Clock } from './clock.js';
import { safeEmit, type SchedulerEvents } from './events.js';
import type { Journal } from './journal.js';
import type { Logger } from './logger.js';
import { runAttempt, type AttemptResult } from './runner.js';
import type { ClaimedTask, ErrorInfo } from './store/types.js';
import type { Registry } from './task.js';
import type { ThreadPool } from './threads.js';
import type { EventEmitter } from 'node:events';

export interface ExecutorOptions {
  clock: Clock;
  logger: Logger;
  owner: string;
  registry: Registry;
  journal: Journal;
  admission: Admission;
  threads: ThreadPool;
  /** Where events go (the scheduler), and whether anyone listens to one. */
  events: EventEmitter;
  /** Aborted when a stop gives up draining: every running attempt listens to it. */
  stopSignal: () => AbortSignal;
  /** Bumped at every stop. */
  generation: () => number;
  /** Whether the scheduler still runs: a stopping one starts nothing more. */
  running: () => boolean;
  /** Queues the next item the admission hands back after an attempt (a task that waited its turn). */
  push: (item: Item) => void;
  /** A retry was written due at `dueMs`: claim it now if it is due behind the cursor. */
  pokeIfBehind: (dueMs: number) => void;
}

type Fields = { taskId: number; name: string; attempt: number };

export class Executor {
  readonly #o: ExecutorOptions;

  constructor(options: ExecutorOptions) {
    this.#o = options;
  }

  async execute(item: Item): Promise<void> {
    const { clock, logger, registry } = this.#o;
    const { task, policy } = item;
    const generation = this.#o.generation();
    try {
      const startedMs = clock.now();
      const fields = { taskId: task.id, name: task.name, attempt: task.attempts + 1 };
      // Per task, so the log line and the event are built only for someone who takes them.
      if (logger.isLevelEnabled('info')) logger.info({ ...fields, lateMs: startedMs - task.dueMs }, 'accepted');
      if (this.#o.events.listenerCount('accepted') > 0) {
        this.#emit('accepted', { ...fields, dueMs: task.dueMs, startedMs, lateMs: startedMs - task.dueMs });
      }
      const definition = registry.get(task.name);
      const result = await runAttempt({
        task,
        policy,
        handler: definition?.handler,
        clock,
        stopSignal: this.#o.stopSignal(),
        execute: definition?.options.isolation === 'thread' ? this.#o.threads.execute : undefined,
      });
      if (generation !== this.#o.generation()) return; // abandoned by a stop: its task was put back
      this.#finish(task, result, fields);
      const next = this.#o.admission.finished(item);
      if (next && this.#o.running()) this.#o.push(next);
    } catch (error) {
      logger.error({ err: error, taskId: task.id }, 'an attempt could not be completed');
    }
  }

  /** Logs and emits a final failure (also what the admission reports for a task cut off too often). */
  reportFailed(task: ClaimedTask, error: ErrorInfo): void {
    const fields = { taskId: task.id, name: task.name, attempt: task.attempts + 1 };
    // In the log, the stack as text (as before) and the code beside it; events carry the ErrorInfo.
    this.#o.logger.error({ ...fields, errorCode: error.code, error: error.stack }, 'failed');
    this.#emit('failed', { ...fields, error });
  }

  #finish(task: ClaimedTask, result: AttemptResult, fields: Fields): void {
    const { logger, journal } = this.#o;
    const base = { id: task.id, owner: this.#o.owner, attempt: fields.attempt, atMs: this.#o.clock.now() };
    switch (result.kind) {
      case 'succeeded': {
        const outcome = { kind: 'succeeded', ...base, result: result.result } as const;
        // Per task: no callback to keep when neither a log line nor a listener would take it.
        if (!logger.isLevelEnabled('info') && this.#o.events.listenerCount('succeeded') === 0) return journal.push(outcome);
        return journal.push(outcome, (applied) => {
          if (!applied) return this.#refused(fields, 'succeeded');
          if (logger.isLevelEnabled('info')) logger.info({ ...fields, durationMs: result.durationMs }, 'succeeded');
          this.#emit('succeeded', { ...fields, durationMs: result.durationMs, result: result.result });
        });
      }
      case 'retry':
        return journal.push({ kind: 'retry', ...base, error: result.error, dueMs: result.dueMs }, (applied) => {
          if (!applied) return this.#refused(fields, 'retry');
          logger.warn({ ...fields, errorCode: result.error.code, error: result.error.stack, retryAt: new Date(result.dueMs) }, 'failed; will retry');
          this.#o.pokeIfBehind(result.dueMs);
          this.#emit('retrying', { ...fields, error: result.error, dueMs: result.dueMs });
        });
      case 'failed':
        return journal.push({ kind: 'failed', ...base, error: result.error }, (applied) => {
          if (!applied) return this.#refused(fields, 'failed');
          this.reportFailed(task, result.error);
        });
    }
  }

  #refused(fields: Fields, kind: string): void {
    this.#o.logger.warn({ ...fields, kind }, 'outcome not recorded: this attempt no longer holds its task (put back or taken over)');
  }

  #emit<E extends keyof SchedulerEvents>(event: E, payload: SchedulerEvents[E]): void {
    safeEmit(this.#o.events, this.#o.logger, event, payload);
  }
}
