/**
 * Checkpoints the WAL from a worker thread with a connection of its own, so that the
 * scheduler's thread never stalls on one.
 *
 * SQLite's autocheckpoint runs inside the COMMIT that crosses its threshold: it copies the
 * WAL's pages back into the database file and fsyncs both, and every task due meanwhile waits
 * (measured: 30-40 ms stalls every few seconds at 1,000 tasks a second). A PASSIVE checkpoint
 * on another connection does that work beside the writer without blocking it or its readers.
 * The store's own autocheckpoint stays on as the safety net: if this thread stops or falls
 * behind, the writer checkpoints as before.
 *
 * stop() returns only once the thread's connection is closed (or after STOP_WAIT_MS): the
 * last connection to close deletes the -wal and -shm files by name, and it must be the
 * store's own, before anyone can delete the database and create another at the same path.
 *
 * The worker is plain CommonJS evaluated from a string, so it runs the same from dist/ and
 * from the TypeScript sources under test; it loads the better-sqlite3 this module resolves.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const STOP_WAIT_MS = 2000;

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const closed = new Int32Array(workerData.closed);
let db;
let timer;
const finish = () => {
  clearInterval(timer);
  try { db?.close(); } catch {}
  Atomics.store(closed, 0, 1);
  Atomics.notify(closed, 0);
  parentPort.close();
};
parentPort.once('message', finish);
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('busy_timeout = 0');
  db.pragma('synchronous = ' + workerData.synchronous);
  timer = setInterval(() => {
    try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  }, workerData.everyMs);
} catch {
  finish();
}
`;

export interface CheckpointerOptions {
  path: string;
  everyMs: number;
  synchronous: 'NORMAL' | 'FULL';
}

export class Checkpointer {
  readonly #worker: Worker;
  readonly #closed = new Int32Array(new SharedArrayBuffer(4));

  constructor(options: CheckpointerOptions) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const workerData = { ...options, driver, closed: this.#closed.buffer };
    this.#worker = new Worker(SOURCE, { eval: true, workerData });
    // A failed checkpointer leaves checkpoints to the writer's autocheckpoint; nothing is lost.
    this.#worker.on('error', () => {});
    this.#worker.unref();
  }

  /** Closes the thread's connection, waiting for it (synchronously) at most STOP_WAIT_MS. */
  stop(): void {
    this.#worker.postMessage('stop');
    Atomics.wait(this.#closed, 0, 0, STOP_WAIT_MS);
  }
}
