// Handlers for test/threads.test.ts, imported by the test (to register them) and by every
// worker thread of the pool (to run them). Plain ESM over the built dist/.
import { isMainThread, threadId } from 'node:worker_threads';
import { task } from '../../dist/index.js';

const spinFor = (ms) => {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) n++;
  return n;
};

export const whereAmI = task('where_am_i', { isolation: 'thread' })(function (n) {
  return { n, threadId, isMainThread, attempt: this.attempt, id: this.id };
});

export const inProcess = task('in_process')(() => ({ threadId, isMainThread }));

export const spin = task('spin', { isolation: 'thread', timeout: 0.5 })((ms) => {
  spinFor(ms);
  return 'finished';
});

export const exitThread = task('exit_thread', { isolation: 'thread' })(() => process.exit(3));

export const throwInTimer = task('throw_in_timer', { isolation: 'thread' })(
  () =>
    new Promise(() => {
      setTimeout(() => {
        throw new Error('boom in a timer');
      }, 10);
    }),
);

export const throws = task('throws', { isolation: 'thread' })(() => {
  throw new TypeError('bad input');
});

export const retryOnce = task('retry_once', { isolation: 'thread', retries: 1 })(function () {
  if (this.attempt === 1) this.retry(0.1, 'not yet');
  return this.attempt;
});

export const crunch = task('crunch', { isolation: 'thread' })((ms) => ({ threadId, spins: spinFor(ms) > 0 }));
