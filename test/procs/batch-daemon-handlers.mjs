// Handlers for test/batch-daemon.test.ts, served by `delayd daemon --handlers` and imported
// again by each of its worker threads: a CPU task in threads and its reduce in the daemon.
import { isMainThread, threadId } from 'node:worker_threads';
import { defaultScheduler, task } from 'delayd';

export const squareInThread = task('square_in_thread', { isolation: 'thread' })((n) => ({ square: n * n, threadId, isMainThread }));

export const totalOfSquares = task('total_of_squares')(async (batchId) => {
  let total = 0;
  for await (const item of (await defaultScheduler().batch(batchId)).results()) total += item.value.square;
  return total;
});
