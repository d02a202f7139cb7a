// The dashboard's and the scrapes' reads of a SQLite store, in a worker thread with a read-only
// connection of its own (read-thread.ts): a read that scans the tasks table (stats, a list by
// state) then never stalls the scheduler's thread. Runs from dist/ only (it imports the built
// store); messages are { id, method, args } in and { id, value } or { id, error } out, and
// 'close' closes the connection before the thread ends.
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/open.js';

const READS = new Set(['stats', 'list', 'get', 'workers', 'slotLoad', 'recentBatches']);
const store = openStore({ db: workerData.db, readonly: true, mustExist: true, busyTimeoutMs: workerData.busyTimeoutMs });

parentPort.on('message', async (message) => {
  if (message === 'close') {
    await store.close();
    parentPort.close();
    return;
  }
  const { id, method, args } = message;
  try {
    if (!READS.has(method)) throw Object.assign(new Error(`Expected a read (${[...READS].join(', ')}), got ${method}`), { code: 'E_USAGE' });
    parentPort.postMessage({ id, value: await store[method](...args) });
  } catch (error) {
    parentPort.postMessage({ id, error: { code: typeof error?.code === 'string' ? error.code : null, message: String(error?.message ?? error) } });
  }
});
