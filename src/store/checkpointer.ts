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
 * The worker is plain CommonJS evaluated from a string, so it runs the same from dist/ and
 * from the TypeScript sources under test; it loads the better-sqlite3 this module resolves.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('synchronous = ' + workerData.synchronous);
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.everyMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface CheckpointerOptions {
  path: string;
  everyMs: number;
  synchronous: 'NORMAL' | 'FULL';
}

export class Checkpointer {
  readonly #worker: Worker;

  constructor(options: CheckpointerOptions) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(SOURCE, { eval: true, workerData: { ...options, driver } });
    // A failed checkpointer leaves checkpoints to the writer's autocheckpoint; nothing is lost.
    this.#worker.on('error', () => {});
    this.#worker.unref();
  }

  /** Asks the thread to close its connection and end; returns at once. */
  stop(): void {
    this.#worker.postMessage('stop');
  }
}
