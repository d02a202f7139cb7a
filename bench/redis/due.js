/**
 * Due tasks through no-op handlers, one shard, concurrency 50: n tasks already due when the
 * consumer starts, timed from start to the last outcome counted in Redis, against a BullMQ
 * Worker (concurrency 50, defaults otherwise) over n delayed jobs already due (so both pay for
 * moving due work out of a time-ordered set, not only for popping a list).
 */
import { args64, bullQueue, bullWorker, delaydApp, redisMain, sideBySide, sleep, until, vsBull } from './lib.js';

const CALL = 1000;

export async function measure(o) {
  const n = o.due;
  const { d, b } = await sideBySide(o, { label: 'due', delayd: (url) => delaydDue(url, n, o), bullmq: (url) => bullDue(url, n, o) });
  return [
    vsBull({
      id: 'redis.due.one-shard',
      what: `due tasks through no-op handlers, 1 shard, concurrency ${o.concurrency} (${n.toLocaleString()})`,
      unit: 'tasks/s',
      better: 'higher',
      delayd: d,
      bull: b,
      bullName: 'jobs/s BullMQ Worker',
      target: { text: '>= 3x BullMQ', ok: (_x, ratio) => ratio >= 3 },
    }),
  ];
}

async function delaydDue(url, n, o) {
  const producer = delaydApp(url, { ...o, shards: 1 });
  const now = Date.now();
  for (let from = 0; from < n; from += CALL) {
    const items = Array.from({ length: Math.min(CALL, n - from) }, (_, k) => ({ args: args64(from + k), when: { eta: now - 1 - ((from + k) % 5000) } }));
    await producer.noop.delayMany(items);
  }
  await producer.app.close();
  const { app } = delaydApp(url, { ...o, shards: 1 });
  let succeeded = 0;
  app.on('succeeded', () => succeeded++);
  const t0 = performance.now();
  await app.start();
  await until('delayd to run every due task', () => succeeded >= n, 120_000, 1);
  await until('every outcome to be in Redis', async () => (await app.stats()).counts.succeeded >= n, 30_000, 1);
  const rate = n / ((performance.now() - t0) / 1000);
  await app.close();
  return rate;
}

async function bullDue(url, n, o) {
  const { queue, close } = await bullQueue(url);
  for (let from = 0; from < n; from += CALL) {
    await queue.addBulk(Array.from({ length: Math.min(CALL, n - from) }, (_, k) => ({ name: 'noop', data: args64(from + k), opts: { delay: 1 } })));
  }
  await sleep(50); // every job's delay has passed
  let done = 0;
  const worker = await bullWorker(url, async () => {}, o.concurrency);
  worker.worker.on('completed', () => done++);
  const t0 = performance.now();
  worker.run();
  await until('BullMQ to run every due job', () => done >= n, 120_000, 1);
  await until('every outcome to be in Redis', async () => (await queue.getJobCounts('completed')).completed >= n, 30_000, 1);
  const rate = n / ((performance.now() - t0) / 1000);
  await worker.close();
  await close();
  return rate;
}

await redisMain(import.meta.url, measure);
