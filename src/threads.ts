/**
 * Handlers of tasks with `isolation: 'thread'` run in a piscina pool of worker threads, so a
 * CPU-bound batch uses every core while the scheduler's own thread stays free to tick.
 *
 * A worker cannot receive a closure: each thread imports `threadModules` itself (once) and
 * finds the handler by task name (see thread-worker.ts). Only JSON goes back and forth: the
 * args in, the result as JSON text (or the error's text) out.
 *
 * At most `threads` attempts are handed to piscina at once; the others wait here for a free
 * thread, and their timeout starts only when they get one (Execute's `started`), so a batch
 * larger than the pool does not time out in the queue. The first attempt on a new thread does
 * count the thread's start-up and its import of the modules. The attempt's signal is
 * piscina's abort signal: a timeout or a stop terminates the thread running it, and piscina
 * starts a fresh one. A thread that dies (process.exit, an uncaught error, out of memory)
 * rejects only its own attempt, which the runner records as failed.
 * The pool opens on the first thread task, so schedulers without one start no thread, and
 * piscina itself is imported only then (it is not loaded by schedulers that never use it).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import { errorInfo } from './attempt-error.js';
import { DelaydError, RetryLater } from './errors.js';
import type { Logger } from './logger.js';
import type { Execute, TaskContext } from './runner.js';

/** What the main thread sends for one attempt. */
export interface ThreadRequest {
  modules: readonly string[];
  name: string;
  args: unknown[];
  id: number;
  attempt: number;
  dueMs: number;
}

/** What the worker answers: the handler's outcome as data (its errors do not cross as objects). */
export type ThreadReply =
  | { ok: true; json: string | null }
  | { ok: false; text: string; message?: string; code?: string | null; retryMs?: number; reason?: string; unknown?: boolean };

export interface ThreadPoolOptions {
  threads: number;
  /** Module URLs each worker imports to find the handlers. */
  modules: readonly string[];
  logger: Logger;
}

const WORKER = new URL('./thread-worker.js', import.meta.url);

export class ThreadPool {
  readonly #o: ThreadPoolOptions;
  readonly #slots: Slots;
  #pool: Promise<Piscina> | undefined;

  constructor(options: ThreadPoolOptions) {
    this.#o = options;
    this.#slots = new Slots(options.threads);
  }

  /** The Execute strategy for thread-isolated tasks (runner.ts). */
  readonly execute: Execute = async (_handler, context, args, started) => {
    const release = await this.#slots.acquire(context.signal);
    try {
      started();
      return await this.#run(context, args);
    } finally {
      release();
    }
  };

  async #run(context: TaskContext, args: unknown[]): Promise<unknown> {
    const request: ThreadRequest = {
      modules: this.#o.modules,
      name: context.name,
      args,
      id: context.id,
      attempt: context.attempt,
      dueMs: context.eta.getTime(),
    };
    let reply: ThreadReply;
    try {
      const pool = await this.#open();
      reply = (await pool.run(request, { signal: context.signal })) as ThreadReply;
    } catch (error) {
      if (context.signal.aborted) throw context.signal.reason;
      const why = errorInfo(error).message;
      throw new DelaydError('E_THREAD_CRASHED', `The worker thread running task ${context.id} (${context.name}) died: ${why}`, {
        cause: error,
      });
    }
    if (reply.ok) return reply.json === null ? undefined : JSON.parse(reply.json);
    throw replyError(reply);
  }

  /** Terminates the threads; running attempts are rejected. */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool) await pool.then((p) => p.destroy(), () => {});
  }

  #open(): Promise<Piscina> {
    this.#pool ??= this.#create();
    return this.#pool;
  }

  async #create(): Promise<Piscina> {
    if (!existsSync(fileURLToPath(WORKER))) {
      throw new DelaydError('E_THREAD_CRASHED', `The thread worker ${fileURLToPath(WORKER)} is missing; thread isolation runs from the built dist/`);
    }
    const { Piscina } = await import('piscina');
    const pool = new Piscina({
      filename: WORKER.href,
      minThreads: this.#o.threads,
      maxThreads: this.#o.threads,
      idleTimeout: 60_000,
    });
    // Emitted for a crash outside any task; without a listener it would end the process.
    pool.on('error', (error: unknown) => this.#o.logger.error({ err: error }, 'a worker thread failed outside a task'));
    return pool;
  }
}

function replyError(reply: Extract<ThreadReply, { ok: false }>): Error {
  if (reply.retryMs !== undefined) return new RetryLater(reply.retryMs, reply.reason);
  if (reply.unknown) return new DelaydError('E_UNKNOWN_TASK', reply.text);
  // Keep the handler's own stack (it names the thread's frames) and code as the recorded error.
  const error = new Error(reply.message ?? reply.text.split('\n', 1)[0]) as Error & { code?: string };
  error.stack = reply.text;
  if (reply.code) error.code = reply.code;
  return error;
}

/** A counting semaphore whose waiters leave the line when their signal aborts. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(count: number) {
    this.#free = count;
  }

  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(this.#releaser());
      };
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(grant), 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(grant);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }
}
