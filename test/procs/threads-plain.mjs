// A handler module of plain functions, for test/threads.test.ts: no delayd import at all. The
// main thread registers `plain_square` with app.task(); a worker thread finds it by its name.
import { threadId } from 'node:worker_threads';

export function plain_square(n) {
  return { square: n * n, threadId };
}
