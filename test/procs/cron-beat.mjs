// A periodic task for the cron kill -9 test (test/cron-kill.test.ts): every second, missed
// 'all' (so the chain has no gaps to explain), each run taking ~40 ms, so that a kill lands
// before a start, during a run, or between an end and the next start.
import { setTimeout as sleep } from 'node:timers/promises';
import { task } from 'delayd';

task('beat', { cron: '* * * * * *', tz: 'UTC', missed: 'all' })(async function () {
  await sleep(40);
  return this.eta.getTime();
});
