/**
 * The store's upkeep, done in a worker thread with a connection of its own so that the
 * scheduler's thread never stalls on it: WAL checkpoints, and joining the next cycle's hour
 * buckets to the wheel (buckets.ts) ahead of the claims that reach it.
 *
 * Checkpoints.
 * SQLite's autocheckpoint runs inside the COMMIT that crosses its threshold: it copies the
 * WAL's pages back into the database file and fsyncs both, and every task due meanwhile waits
 * (measured: 30-40 ms stalls every few seconds at 1,000 tasks a second). A PASSIVE checkpoint
 * on another connection does that work beside the writer without blocking it or its readers.
 * The store's own autocheckpoint stays on as the safety net: if this thread stops or falls
 * behind, the writer checkpoints as before.
 *
 * Buckets. Every round joins up to JOIN_BUDGET ids from buckets of cycles up to the one after
 * the cursor's, one bucket per write transaction (each a few milliseconds, which is all a claim
 * may wait on it). That keeps up with 9M tasks per hour; whatever is left when a claim reaches a
 * cycle, the claim joins itself. With busy_timeout 0 a round that meets the scheduler's lock
 * gives up until the next one.
 *
 * stop() returns only once the thread's connection is closed (or after STOP_WAIT_MS): the
 * last connection to close deletes the -wal and -shm files by name, and it must be the
 * store's own, before anyone can delete the database and create another at the same path.
 *
 * The worker is upkeep-thread.cjs, plain CommonJS, so it runs the same from dist/ and from the
 * TypeScript sources under test; it loads the better-sqlite3 this module resolves. Its
 * failures (other than a busy lock, which the next round retries) go to onError.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { SLOTS } from '../../slot.js';
import { BUCKET_SQL } from './buckets.js';
import { CURSOR_SQL } from './statements.js';

const STOP_WAIT_MS = 2000;
const JOIN_BUDGET = 500;

/** The thread's code, a real file beside this one (in dist/ as in src/). */
const THREAD = new URL('./upkeep-thread.cjs', import.meta.url);

export interface UpkeepOptions {
  path: string;
  everyMs: number;
  synchronous: 'NORMAL' | 'FULL';
  /** Told of the thread's failures (each distinct one once); the store goes on without it. */
  onError?: (error: Error) => void;
}

export class Upkeep {
  readonly #worker: Worker;
  readonly #closed = new Int32Array(new SharedArrayBuffer(4));

  constructor(options: UpkeepOptions) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const workerData = {
      ...options,
      driver,
      closed: this.#closed.buffer,
      sql: { ...BUCKET_SQL, cursor: CURSOR_SQL },
      joinBudget: JOIN_BUDGET,
      secondsPerCycle: SLOTS,
    };
    const { onError, ...data } = workerData;
    this.#worker = new Worker(THREAD, { workerData: data });
    // A failed thread leaves checkpoints to the writer's autocheckpoint and joins to the claims.
    const report = (error: Error) => {
      try {
        onError?.(error);
      } catch {
        // a failing logger must not take the store down
      }
    };
    this.#worker.on('error', report);
    this.#worker.on('message', (m: { message: string; code?: string }) =>
      report(Object.assign(new Error(`delayd upkeep thread: ${m.message}`), { code: m.code })),
    );
    this.#worker.unref();
  }

  /** Closes the thread's connection, waiting for it (synchronously) at most STOP_WAIT_MS. */
  stop(): void {
    this.#worker.postMessage('stop');
    Atomics.wait(this.#closed, 0, 0, STOP_WAIT_MS);
  }
}
