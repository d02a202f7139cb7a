// Seed 003's validation: every other value fails its first attempt; the retry policy is only
// here, in task() options, never in what the producer enqueued.
import { task } from 'delayd';
import { mark, sleep } from './issue10-lib.mjs';

task('val', { retries: 3, backoff: 0.2 })(async function (value) {
  mark('S', this.id);
  await sleep(15);
  if (value % 2 === 1 && this.attempt === 1) throw new Error(`value ${value} fails its first attempt`);
  mark('E', this.id);
  return value;
});
