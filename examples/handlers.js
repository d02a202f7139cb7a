// The origin example's handler, as a module the daemon imports:
//   npx delayd daemon --handlers ./examples/handlers.js
// A handler module is plain ESM that registers tasks with task(); the daemon installs its own
// scheduler before importing it, so `test.delay(...)` here and from the shell reach one database.
import { setTimeout as sleep } from 'node:timers/promises';
import { task } from 'delayd';

export const test = task('test')(async function test(num) {
  // `this.signal` aborts when the daemon gives up waiting at shutdown; the task then runs again
  // on the next start, since it did not finish.
  await sleep(2000, undefined, { signal: this.signal });
  console.log(`test: ${num}`);
  return num;
});
