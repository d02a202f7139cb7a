/**
 * Runs one attempt of one claimed task and decides what it means: succeeded, retry at a later
 * time (when retries are left), or failed. A handler's throw, rejection or timeout is contained
 * here and becomes data; nothing a handler does can reach the ticker.
 */
import type { Clock } from './clock.js';
import { DelaydError, RetryLater } from './errors.js';
import type { ClaimedTask } from './store/types.js';

/** What a handler sees as `this` (Celery's bound task). */
export interface TaskContext {
  readonly id: number;
  readonly name: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** When the task was due. */
  readonly eta: Date;
  /** Aborted when the attempt times out or the scheduler stops. */
  readonly signal: AbortSignal;
  /** Ends this attempt and asks for another in `seconds` (counts against `retries`). */
  retry(seconds: number, reason?: string): never;
}

export type Handler = (this: TaskContext, ...args: never[]) => unknown;

/**
 * Runs the handler of one attempt. The default calls it in this thread; threads.ts runs it in
 * a worker thread instead, and must stop it when `context.signal` aborts (timeout, stop).
 * `started()` arms the timeout: a strategy that first waits for a free thread calls it only
 * once the handler really starts, so waiting does not use up the handler's time.
 */
export type Execute = (handler: Handler, context: TaskContext, args: unknown[], started: () => void) => Promise<unknown>;

const inThisThread: Execute = async (handler, context, args, started) => {
  started();
  return handler.apply(context, args as never[]);
};

export type AttemptResult =
  | { kind: 'succeeded'; result: string | null; durationMs: number }
  | { kind: 'retry'; error: string; durationMs: number; dueMs: number }
  | { kind: 'failed'; error: string; durationMs: number };

export interface AttemptInput {
  task: ClaimedTask;
  handler: Handler | undefined;
  clock: Clock;
  /** Aborts every running attempt when the scheduler stops. */
  stopSignal: AbortSignal;
  random?: () => number;
  /** @default the handler runs in this thread */
  execute?: Execute;
}

export async function runAttempt(input: AttemptInput): Promise<AttemptResult> {
  const { task, clock } = input;
  const startedMs = clock.now();
  const abort = new AttemptAbort(input.stopSignal);
  const limit = task.timeoutMs === null ? undefined : timeLimit(task, clock, abort);
  try {
    if (!input.handler) {
      throw new DelaydError('E_UNKNOWN_TASK', `No handler is registered for task "${task.name}"`);
    }
    const context = makeContext(task, abort);
    const execute = input.execute ?? inThisThread;
    const args = JSON.parse(task.args) as unknown[];
    const run = Promise.resolve().then(() => execute(input.handler!, context, args, () => limit?.arm()));
    const result = await (limit ? Promise.race([run, limit.expired]) : run);
    return { kind: 'succeeded', result: toResultJson(result), durationMs: clock.now() - startedMs };
  } catch (error) {
    return decide(input, error, clock.now() - startedMs);
  } finally {
    limit?.disarm();
    abort.dispose();
  }
}

/**
 * The attempt's AbortSignal, made only when something asks for it: most handlers never read
 * `this.signal`, and an AbortController with a listener on the stop signal per attempt was
 * about a tenth of the time of a no-op task. Aborted by a timeout or by the scheduler's stop.
 */
export class AttemptAbort {
  readonly #stop: AbortSignal;
  #controller: AbortController | undefined;
  #reason: unknown = undefined;
  #aborted = false;
  readonly #onStop = () => this.abort(this.#stop.reason);

  constructor(stop: AbortSignal) {
    this.#stop = stop;
  }

  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    this.#controller = new AbortController();
    if (this.#aborted) this.#controller.abort(this.#reason);
    else if (this.#stop.aborted) this.abort(this.#stop.reason);
    else this.#stop.addEventListener('abort', this.#onStop, { once: true });
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }

  dispose(): void {
    if (this.#controller) this.#stop.removeEventListener('abort', this.#onStop);
  }
}

export function makeContext(task: ClaimedTask, abort: { readonly signal: AbortSignal }): TaskContext {
  return new AttemptContext(task, abort);
}

/** A class rather than an object literal: its getters and retry() are shared, not made per attempt. */
class AttemptContext implements TaskContext {
  readonly #task: ClaimedTask;
  readonly #abort: { readonly signal: AbortSignal };

  constructor(task: ClaimedTask, abort: { readonly signal: AbortSignal }) {
    this.#task = task;
    this.#abort = abort;
  }

  get id(): number {
    return this.#task.id;
  }

  get name(): string {
    return this.#task.name;
  }

  get attempt(): number {
    return this.#task.attempts + 1;
  }

  get eta(): Date {
    return new Date(this.#task.dueMs);
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  retry(seconds: number, reason?: string): never {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
      throw new DelaydError('E_BAD_OPTION', `Expected retry seconds to be a finite number >= 0, got ${String(seconds)}`);
    }
    throw new RetryLater(Math.round(seconds * 1000), reason);
  }
}

/** The attempt's timeout: `expired` rejects `timeoutMs` after arm(), aborting the attempt. */
function timeLimit(task: ClaimedTask, clock: Clock, abort: AttemptAbort) {
  let timer: unknown;
  let reject: (error: DelaydError) => void = () => {};
  const expired = new Promise<never>((_, r) => (reject = r));
  return {
    expired,
    arm(): void {
      if (timer !== undefined) return;
      timer = clock.setTimeout(() => {
        const error = new DelaydError('E_TIMEOUT', `Task ${task.id} (${task.name}) timed out after ${task.timeoutMs} ms`);
        abort.abort(error);
        reject(error);
      }, task.timeoutMs as number);
    },
    disarm(): void {
      if (timer !== undefined) clock.clearTimeout(timer);
    },
  };
}

function decide(input: AttemptInput, error: unknown, durationMs: number): AttemptResult {
  const { task, clock } = input;
  const attempt = task.attempts + 1;
  const text = errorText(error);
  const retriesLeft = attempt <= task.retries;
  if (error instanceof DelaydError && error.code === 'E_UNKNOWN_TASK') return { kind: 'failed', error: text, durationMs };
  if (!retriesLeft) return { kind: 'failed', error: text, durationMs };
  const delayMs = error instanceof RetryLater ? error.delayMs : backoffMs(task.backoffMs, attempt, input.random ?? Math.random);
  return { kind: 'retry', error: text, durationMs, dueMs: clock.now() + delayMs };
}

/** `base` before the first retry, doubling for each next one, scaled by a jitter in [0.8, 1.2). */
export function backoffMs(baseMs: number, attempt: number, random: () => number): number {
  const exponential = baseMs * 2 ** Math.min(attempt - 1, 30);
  return Math.round(exponential * (0.8 + 0.4 * random()));
}

export function errorText(error: unknown): string {
  if (error instanceof RetryLater) return `RetryLater: ${error.message}`;
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return `Non-error thrown: ${String(error)}`;
}

export function toResultJson(result: unknown): string | null {
  if (result === undefined) return null;
  try {
    return JSON.stringify(result) ?? null;
  } catch {
    return JSON.stringify({ unserialisable: String(result) });
  }
}
