/**
 * Lateness: n tasks with millisecond etas spread over 5-10 s from now, on a consumer already
 * running, Redis at its default `hz` (10). Start minus eta, both read on Redis's clock (this
 * host's clock plus the offset to Redis TIME, sampled with the half-round-trip correction), so
 * "early" means early by Redis TIME. delayd: a started scheduler, the tasks written by a second
 * one; BullMQ: a running Worker, the jobs written by addBulk with delay = eta - now, judged
 * against BullMQ's own due time (job.timestamp + delay, this host's clock: the same host as
 * Redis, within the sampled offset). Each run's consumer is a child process of its own, the
 * producer this one (consumerRun).
 */
import { progress } from '../lib.js';
import { adminClient, args64, bullQueue, bullWorker, delaydApp, inChild, latencyStats, serverOffset, until, vsBull, redisMain } from './lib.js';
import { startRedis } from './server.js';
import { measures } from './options.js';

const FROM_MS = 5000;
const SPAN_MS = 5000;

export async function measure(o) {
  const server = await startRedis({ appendfsync: 'everysec' });
  const admin = await adminClient(server.url);
  const d = { p50: [], p99: [], max: [], early: [] };
  const b = { p50: [], p99: [], max: [], early: [] };
  try {
    for (let run = 0; run < o.runs; run++) {
      const offset = await serverOffset(admin);
      await admin.flushAll();
      if (measures(o, 'delayd')) add(d, await consumerRun('delayd', server.url, etas(o.lateness, run), offset, o));
      await admin.flushAll();
      if (measures(o, 'bullmq')) add(b, await consumerRun('bullmq', server.url, etas(o.lateness, run), offset, o));
      progress(`lateness run ${run + 1}: delayd ${last(d)}; BullMQ ${last(b)}`);
    }
  } finally {
    await admin.quit();
    await server.stop();
  }
  const label = `${o.lateness.toLocaleString()} over 5-10 s, hz 10`;
  const targets = { p99: 10, max: 25 };
  const rows = ['p50', 'p99', 'max'].map((stat) =>
    vsBull({
      id: `redis.lateness.${stat}`,
      what: `lateness ${stat}, ${label}`,
      unit: 'ms',
      better: 'lower',
      delayd: d[stat],
      bull: b[stat],
      bullName: `ms BullMQ ${stat}`,
      target: targets[stat] ? { text: `<= ${targets[stat]} ms`, ok: (x) => x <= targets[stat] } : undefined,
    }),
  );
  rows.push(
    vsBull({
      id: 'redis.lateness.early',
      what: `started before eta by Redis TIME, ${label}`,
      unit: 'tasks',
      better: 'lower',
      delayd: d.early,
      bull: b.early,
      bullName: 'jobs BullMQ',
      target: { text: 'none', ok: (x) => x === 0 },
    }),
  );
  return rows;
}

/** Absolute etas (ms on Redis's clock) are made at write time from these offsets. */
function etas(n, seed) {
  let x = 0x9e3779b9 ^ (seed + 1);
  return Array.from({ length: n }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return FROM_MS + ((x >>> 0) % SPAN_MS);
  });
}

const last = (x) => `p50 ${x.p50.at(-1)} p99 ${x.p99.at(-1)} max ${x.max.at(-1)} early ${x.early.at(-1)} ms`;

function add(into, lateMs) {
  const s = latencyStats(lateMs);
  into.p50.push(s.p50);
  into.p99.push(s.p99);
  into.max.push(s.max);
  into.early.push(lateMs.filter((x) => x < 0).length);
}

/** One run of one system: its consumer in a child process (inChild), this one the producer. */
function consumerRun(system, url, offsets, offset, o) {
  return inChild(import.meta.url, 'consume', { system, url, offset, n: offsets.length, concurrency: o.concurrency }, () => produce(system, url, offsets, offset));
}

async function produce(system, url, offsets, offset) {
  const t0 = Date.now() + offset;
  if (system === 'delayd') {
    const producer = delaydApp(url);
    for (let from = 0; from < offsets.length; from += 1000) {
      await producer.noop.delayMany(offsets.slice(from, from + 1000).map((off, k) => ({ args: args64(from + k), when: { eta: t0 + off } })));
    }
    await producer.app.close();
    return;
  }
  const { queue, close } = await bullQueue(url);
  for (let from = 0; from < offsets.length; from += 1000) {
    const now = Date.now() + offset;
    await queue.addBulk(offsets.slice(from, from + 1000).map((off, k) => ({ name: 'noop', data: args64(from + k), opts: { delay: t0 + off - now } })));
  }
  await close();
}

/** In the child: a running consumer; once the tasks are written, the lateness of each of the n starts. */
async function consume({ system, url, offset, n, concurrency }, ready) {
  const late = [];
  let stop;
  if (system === 'delayd') {
    const { app } = delaydApp(url, { concurrency }, async function () {
      late.push(Date.now() + offset - this.eta.getTime());
    });
    await app.start();
    stop = () => app.close();
  } else {
    const worker = await bullWorker(url, async (job) => {
      // BullMQ's own due time: the job's timestamp (set by the producer's clock, this host's)
      // plus its delay.
      late.push(Date.now() - (job.timestamp + job.opts.delay));
    }, concurrency);
    worker.run();
    await worker.worker.waitUntilReady();
    stop = () => worker.close();
  }
  await ready();
  await until('every task to start', () => late.length >= n, FROM_MS + SPAN_MS + 20_000, 20);
  await stop();
  return late;
}

await redisMain(import.meta.url, measure, { consume });
