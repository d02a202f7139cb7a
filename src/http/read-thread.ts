/**
 * The reads the HTTP server makes for dashboards and scrapers (stats, lists, the ring's load),
 * answered by a worker thread with its own read-only connection to a SQLite file
 * (read-worker.js). On SQLite, stats() and a list by state scan the tasks table (128 ms at
 * 100k tasks, measured): in the scheduler's thread that would delay every task due meanwhile;
 * in this thread it costs a core, not punctuality. WAL lets this reader see every commit.
 */
import { Worker } from 'node:worker_threads';
import { DelaydError, type DelaydErrorCode } from '../errors.js';
import type { Store } from '../store/types.js';

export type ReadStore = Pick<Store, 'stats' | 'list' | 'get' | 'workers' | 'slotLoad' | 'recentBatches'>;

const CLOSE_WAIT_MS = 2000;

export class ReadThread implements ReadStore {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (value: any) => void; reject: (error: unknown) => void }>();
  readonly #exited: Promise<void>;
  #next = 0;
  #failed: Error | undefined;

  constructor(target: { db: string; busyTimeoutMs?: number }) {
    this.#worker = new Worker(new URL('./read-worker.js', import.meta.url), { workerData: target });
    this.#worker.on('message', ({ id, value, error }: { id: number; value?: unknown; error?: { code: string | null; message: string } }) => {
      const waiting = this.#pending.get(id);
      this.#pending.delete(id);
      if (!waiting) return;
      if (error) waiting.reject(new DelaydError((error.code ?? 'E_DB') as DelaydErrorCode, error.message));
      else waiting.resolve(value);
    });
    this.#worker.on('error', (error) => this.#fail(error));
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => {
      this.#fail(new Error('the read thread ended'));
      resolve();
    }));
  }

  stats = () => this.#call<Awaited<ReturnType<Store['stats']>>>('stats', []);
  list = (...args: Parameters<Store['list']>) => this.#call<Awaited<ReturnType<Store['list']>>>('list', args);
  get = (...args: Parameters<Store['get']>) => this.#call<Awaited<ReturnType<Store['get']>>>('get', args);
  workers = () => this.#call<Awaited<ReturnType<Store['workers']>>>('workers', []);
  slotLoad = (...args: Parameters<Store['slotLoad']>) => this.#call<Awaited<ReturnType<Store['slotLoad']>>>('slotLoad', args);
  recentBatches = (...args: Parameters<Store['recentBatches']>) => this.#call<Awaited<ReturnType<Store['recentBatches']>>>('recentBatches', args);

  /** Closes the thread's connection, then the thread (terminated if it does not end in time). */
  async close(): Promise<void> {
    this.#worker.postMessage('close');
    const timer = setTimeout(() => void this.#worker.terminate(), CLOSE_WAIT_MS);
    await this.#exited;
    clearTimeout(timer);
  }

  #call<T>(method: string, args: unknown[]): Promise<T> {
    if (this.#failed) return Promise.reject(new DelaydError('E_BACKEND_UNAVAILABLE', `The HTTP server's read thread failed: ${this.#failed.message}`));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, method, args });
    });
  }

  #fail(error: Error): void {
    this.#failed ??= error;
    for (const waiting of this.#pending.values()) waiting.reject(new DelaydError('E_BACKEND_UNAVAILABLE', `The HTTP server's read thread failed: ${error.message}`));
    this.#pending.clear();
  }
}
