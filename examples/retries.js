// Retries with backoff, a per-attempt timeout, an idempotency key and a handler-requested retry.
// Run: node examples/retries.js   (uses a temporary database; finishes in about 10 seconds)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scheduler } from 'delayd';

const app = new Scheduler({ db: join(mkdtempSync(join(tmpdir(), 'delayd-')), 'retries.db') });

// Fails twice, then succeeds: retried after ~1 s, then ~2 s (doubling, with jitter).
let calls = 0;
const flaky = app.task('flaky', { retries: 3, backoff: 1 })(async function (order) {
  calls++;
  if (calls < 3) throw new Error(`payment gateway busy (call ${calls})`);
  return { order, charged: true };
});

// Asks for its own retry until the thing it waits for is ready.
const poll = app.task('poll', { retries: 5 })(function (job) {
  if (this.attempt < 3) this.retry(1, `${job} not ready`);
  return `${job} ready after ${this.attempt} attempts`;
});

// Gives up after 1 s: the handler sees the abort through this.signal.
const slow = app.task('slow', { timeout: 1 })(function () {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, 5_000);
    this.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(this.signal.reason);
    });
  });
});

app.start();
const a = await flaky.delay(['order-17'], 1);
const b = await poll.delay(['report'], { countdown: 1, key: 'report-2030-01' });
const again = await poll.delay(['report'], { key: 'report-2030-01' }); // same key: same task
console.log('same task for the same key:', again.id === b.id && !again.created);
const c = await slow.delay([], 1);

await new Promise((resolve) => setTimeout(resolve, 8_000));
for (const id of [a.id, b.id, c.id]) {
  const row = await app.get(id);
  console.log(`task ${id} ${row.name}: ${row.state} after ${row.attempts} attempts`, row.result ?? row.lastError?.split('\n')[0]);
}
await app.close();
