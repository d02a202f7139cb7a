/**
 * Runs one attempt of one claimed task and decides what it means: succeeded, retry at a later
 * time (when retries are left), or failed. A handler's throw, rejection or timeout is contained
 * here and becomes data; nothing a handler does can reach the ticker.
 */
import { errorInfo, resultJson } from './attempt-error.js';
import type { Clock } from './clock.js';
import { DelaydError, RetryLater } from './errors.js';
import type { Policy } from './policy.js';
import type { ClaimedTask, ErrorInfo } from './store/types.js';
import { setLongTimeout } from './ticker.js';

export { errorText } from './attempt-error.js';

/** The latest due time a retry may have: the end of JavaScript's Date range. */
export const MAX_DUE_MS = 8.64e15;

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
  /**
   * Ends this attempt and asks for another in `seconds` (counts against `retries`); the due
   * time must stay within the Date range (E_BAD_OPTION otherwise).
   */
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
  | { kind: 'retry'; error: ErrorInfo; durationMs: number; dueMs: number }
  | { kind: 'failed'; error: ErrorInfo; durationMs: number };

export interface AttemptInput {
  task: ClaimedTask;
  /** The task's effective policy (policy.ts): the row's overrides, the handler's, the defaults. */
  policy: Policy;
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
  const timeoutMs = input.policy.timeoutMs;
  const limit = timeoutMs === null ? undefined : timeLimit(task, timeoutMs, clock, abort);
  try {
    if (!input.handler) {
      throw new DelaydError('E_UNKNOWN_TASK', `No handler is registered for task "${task.name}"`);
    }
    const context = makeContext(task, abort, clock.now);
    const execute = input.execute ?? inThisThread;
    const args = JSON.parse(task.args) as unknown[];
    const run = Promise.resolve().then(() => execute(input.handler!, context, args, () => limit?.arm()));
    const result = await (limit ? Promise.race([run, limit.expired]) : run);
    return { kind: 'succeeded', result: resultJson(result), durationMs: clock.now() - startedMs };
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

/** `now` bounds this.retry(): its due time must stay within the Date range. */
export function makeContext(task: ClaimedTask, abort: { readonly signal: AbortSignal }, now: () => number = Date.now): TaskContext {
  return new AttemptContext(task, abort, now);
}

/** A class rather than an object literal: its getters and retry() are shared, not made per attempt. */
class AttemptContext implements TaskContext {
  readonly #task: ClaimedTask;
  readonly #abort: { readonly signal: AbortSignal };
  readonly #now: () => number;

  constructor(task: ClaimedTask, abort: { readonly signal: AbortSignal }, now: () => number) {
    this.#task = task;
    this.#abort = abort;
    this.#now = now;
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
    const delayMs = Math.round(seconds * 1000);
    if (this.#now() + delayMs > MAX_DUE_MS) {
      throw new DelaydError('E_BAD_OPTION', `Expected retry seconds to put the due time within the Date range (at most ${MAX_DUE_MS} ms), got ${seconds}`);
    }
    throw new RetryLater(delayMs, reason);
  }
}

/** The attempt's timeout: `expired` rejects `timeoutMs` after arm(), aborting the attempt. */
function timeLimit(task: ClaimedTask, timeoutMs: number, clock: Clock, abort: AttemptAbort) {
  let cancel: (() => void) | undefined;
  let reject: (error: DelaydError) => void = () => {};
  const expired = new Promise<never>((_, r) => (reject = r));
  return {
    expired,
    arm(): void {
      if (cancel !== undefined) return;
      cancel = setLongTimeout(clock, () => {
        const error = new DelaydError('E_TIMEOUT', `Task ${task.id} (${task.name}) timed out after ${timeoutMs} ms`);
        abort.abort(error);
        reject(error);
      }, timeoutMs);
    },
    disarm(): void {
      cancel?.();
    },
  };
}

function decide(input: AttemptInput, error: unknown, durationMs: number): AttemptResult {
  const { task, clock, policy } = input;
  const attempt = task.attempts + 1;
  const info = errorInfo(error);
  // Attempts cut off by the death of their owner do not count against retries.
  const retriesLeft = attempt - task.cutOffs <= policy.retries;
  if (error instanceof DelaydError && error.code === 'E_UNKNOWN_TASK') return { kind: 'failed', error: info, durationMs };
  if (!retriesLeft) return { kind: 'failed', error: info, durationMs };
  const delayMs = error instanceof RetryLater ? error.delayMs : backoffMs(policy.backoffMs, attempt - task.cutOffs, input.random ?? Math.random);
  const nowMs = clock.now();
  return { kind: 'retry', error: info, durationMs, dueMs: Math.min(nowMs + Math.max(0, delayMs), MAX_DUE_MS) };
}

/** The longest backoff computed (about 31 years): a finite number however many retries. */
const MAX_BACKOFF_MS = 1e12;

/** `base` before the first retry, doubling for each next one, scaled by a jitter in [0.8, 1.2). */
export function backoffMs(baseMs: number, attempt: number, random: () => number): number {
  const exponential = Math.min(baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30), MAX_BACKOFF_MS);
  const delay = Math.round(exponential * (0.8 + 0.4 * random()));
  return Number.isFinite(delay) ? Math.min(Math.max(delay, 0), MAX_BACKOFF_MS) : MAX_BACKOFF_MS;
}

/** The result as JSON text; see attempt-error.ts (throws E_BAD_RESULT for what is not JSON). */
export const toResultJson = resultJson;
