// Handlers of the Redis failure tests, served by `delayd daemon --handlers`. Each start and end
// of an attempt is one line in $RTEST_RUNS ("S|E id pid ms", as test/procs/harness.ts
// readExecutions() reads); `stamp` also asks Redis ($RTEST_REDIS) for its TIME at the start,
// so "early" is judged on Redis's clock even in a daemon whose own clock is skewed.
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { task } from 'delayd';

const RUNS = process.env.RTEST_RUNS;
function mark(kind, id) {
  if (RUNS) appendFileSync(RUNS, `${kind} ${id} ${process.pid} ${Date.now()}\n`);
}

/** args [n, ms]: runs for ms and returns n. */
task('work')(async function (n, ms = 0) {
  mark('S', this.id);
  if (ms > 0) await sleep(ms);
  mark('E', this.id);
  return n;
});

/** Seed 003's validation: an odd value fails its first attempt; the policy is only here. */
task('val', { retries: 3, backoff: 0.2 })(async function (value) {
  mark('S', this.id);
  await sleep(10);
  if (value % 2 === 1 && this.attempt === 1) throw new Error(`value ${value} fails its first attempt`);
  mark('E', this.id);
  return value;
});

let client;
async function redisTimeMs() {
  if (!client) {
    const { createClient } = await import('redis');
    client = createClient({ url: process.env.RTEST_REDIS });
    client.on('error', () => {});
    await client.connect();
  }
  const [s, us] = await client.sendCommand(['TIME']);
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** Records "T id pid redisTimeMs etaMs" before anything else. */
task('stamp')(async function () {
  const at = await redisTimeMs();
  if (RUNS) appendFileSync(RUNS, `T ${this.id} ${process.pid} ${at} ${this.eta.getTime()}\n`);
});
