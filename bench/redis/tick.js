/**
 * With 1M tasks pending in one shard (due over the next 30 days, 64-byte args):
 *  - a tick with nothing due: one store claim for the current second, timed by the client,
 *    `probes` times (p50/p99), and the longest Redis call meanwhile (SLOWLOG at 0 µs);
 *  - a catch-up of 100k overdue tasks (due a few seconds ago, behind the cursor's next
 *    seconds) by a scheduler at concurrency 50: time to the last outcome, and SLOWLOG's max.
 * BullMQ beside it: 1M delayed jobs, then 100k overdue ones caught up by a Worker (it
 * promotes due jobs 1000 at a time inside its fetch script); it has no tick of its own, so
 * the idle-tick row has no BullMQ figure. The 1M are written once per system; the runs
 * repeat the probe and the catch-up over them. Minutes, not more: each wait is bounded.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { openStore } from '../../dist/store/open.js';
import { progress, spreadCountdown } from '../lib.js';
import { adminClient, args64, bullQueue, bullWorker, delaydApp, forks, latencyStats, redisBusy, nameScripts, serverOffset, sleep, slowlogAll, slowlogMax, until, vsBull, redisMain } from './lib.js';
import { startRedis } from './server.js';
import { measures } from './options.js';

const CALL = 10_000;
const MONTH_S = 30 * 86_400;
/** The overdue tasks fall due this long after they are written, then the consumer waits for all. */
const OVERDUE_LEAD_MS = 4000;

export async function measure(o) {
  const server = await startRedis({ appendfsync: 'everysec' });
  const admin = await adminClient(server.url);
  const d = { p50: [], p99: [], pingP50: [], pingP99: [], probeSlow: [], catchupMs: [], catchupSlow: [] };
  const b = { catchupMs: [], catchupSlow: [] };
  try {
    if (measures(o, 'delayd')) await fillDelayd(server.url, o);
    for (let run = 0; run < o.runs && measures(o, 'delayd'); run++) {
      const p = await probe(admin, server.url, o);
      d.p50.push(p.p50);
      d.p99.push(p.p99);
      d.pingP50.push(p.ping.p50);
      d.pingP99.push(p.ping.p99);
      d.probeSlow.push(p.slowUs / 1000);
      const c = await catchupDelayd(admin, server.url, o, run);
      d.catchupMs.push(c.ms);
      d.catchupSlow.push(c.slowUs / 1000);
      progress(`tick run ${run + 1}: idle claim p50 ${p.p50.toFixed(3)} p99 ${p.p99.toFixed(3)} ms (PING ${p.ping.p50.toFixed(3)} / ${p.ping.p99.toFixed(3)}), slowest call ${p.slowUs} µs (${await nameScripts(p.command)}); catch-up ${c.ms.toFixed(0)} ms, slowest call ${c.slowUs} µs (${await nameScripts(c.command)}), ${c.over5ms} over 5 ms, ${c.forks}`);
    }
    await admin.flushAll();
    if (measures(o, 'bullmq')) await fillBull(server.url, o);
    for (let run = 0; run < o.runs && measures(o, 'bullmq'); run++) {
      const c = await catchupBull(admin, server.url, o, run);
      b.catchupMs.push(c.ms);
      b.catchupSlow.push(c.slowUs / 1000);
      progress(`BullMQ catch-up run ${run + 1}: ${c.ms.toFixed(0)} ms, slowest call ${c.slowUs} µs (${c.command}), ${c.over5ms} over 5 ms, ${c.forks}`);
    }
  } finally {
    await admin.quit();
    await server.stop();
  }
  const pending = `${(o.pending / 1e6).toLocaleString()}M pending`;
  const catchup = `${o.catchup.toLocaleString()} overdue`;
  return [
    vsBull({ id: 'redis.tick.idle.p50', what: `tick, nothing due, ${pending}, 1 shard: p50 (client)`, unit: 'ms', better: 'lower', delayd: d.p50, bull: d.pingP50, bullName: 'ms a bare PING, same loop' }),
    vsBull({ id: 'redis.tick.idle.p99', what: `tick, nothing due, ${pending}, 1 shard: p99 (client)`, unit: 'ms', better: 'lower', delayd: d.p99, bull: d.pingP99, bullName: 'ms a bare PING, same loop', target: { text: '<= 1 ms', ok: (x) => x <= 1 } }),
    vsBull({ id: 'redis.tick.idle.slowlog', what: `tick, nothing due, ${pending}: slowest Redis call`, unit: 'ms', better: 'lower', delayd: d.probeSlow, target: { text: '<= 5 ms', ok: (x) => x <= 5 } }),
    vsBull({ id: 'redis.catchup.all', what: `catch-up of ${catchup} beside ${pending}: all done`, unit: 'ms', better: 'lower', delayd: d.catchupMs, bull: b.catchupMs, bullName: 'ms BullMQ Worker' }),
    vsBull({ id: 'redis.catchup.slowlog', what: `catch-up of ${catchup} beside ${pending}: slowest Redis call (SLOWLOG)`, unit: 'ms', better: 'lower', delayd: d.catchupSlow, bull: b.catchupSlow, bullName: 'ms BullMQ', target: { text: '<= 5 ms', ok: (x) => x <= 5 } }),
  ];
}

async function fillDelayd(url, o) {
  const t0 = performance.now();
  const { app, noop } = delaydApp(url, { ...o, shards: 1 });
  for (let from = 0; from < o.pending; from += CALL) {
    await noop.delayMany(Array.from({ length: Math.min(CALL, o.pending - from) }, (_, k) => ({ args: args64(from + k), when: { countdown: 3600 + spreadCountdown(from + k, MONTH_S) } })));
  }
  await app.close();
  progress(`delayd: ${o.pending.toLocaleString()} pending written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function fillBull(url, o) {
  const t0 = performance.now();
  const { queue, close } = await bullQueue(url);
  for (let from = 0; from < o.pending; from += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, o.pending - from) }, (_, k) => ({ name: 'noop', data: args64(from + k), opts: { delay: Math.round((3600 + spreadCountdown(from + k, MONTH_S)) * 1000) } })));
  }
  await close();
  progress(`BullMQ: ${o.pending.toLocaleString()} delayed written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** A full V8 collection (the flag is set at run time, so the part needs no --expose-gc). */
function collectGarbage() {
  v8.setFlagsFromString('--expose-gc');
  vm.runInNewContext('gc')();
}

/** Claims for the current second with nothing due, one at a time, each timed. */
async function probe(admin, url, o) {
  const store = openStore({ db: url });
  const owner = `bench-probe-${process.pid}`;
  const offset = await serverOffset(admin);
  try {
    await store.heartbeat({ owner, host: 'bench', pid: process.pid, names: ['noop'], policies: {}, startedMs: Date.now() }, Date.now() + offset, false);
    await store.claim({ owner, uptoSecond: Math.floor((Date.now() + offset) / 1000), limit: 1000, names: ['noop'] });
    // The fill's garbage (a million tasks built in this process) is collected now, not in a probe.
    collectGarbage();
    await slowlogAll(admin);
    const ms = [];
    // A bare PING after each claim, on another connection: what the same loop costs with no
    // script at all (the machine's own tail), the baseline of the claim's.
    const pings = [];
    for (let i = 0; i < o.probes; i++) {
      const uptoSecond = Math.floor((Date.now() + offset) / 1000);
      const t0 = performance.now();
      const got = await store.claim({ owner, uptoSecond, limit: 1000, names: ['noop'] });
      ms.push(performance.now() - t0);
      if (got.tasks.length > 0) throw new Error(`the idle probe claimed ${got.tasks.length} tasks`);
      const t1 = performance.now();
      await admin.ping();
      pings.push(performance.now() - t1);
      if (i % 100 === 99) await sleep(1);
    }
    const slow = await slowlogMax(admin);
    await store.release(owner);
    return { ...latencyStats(ms), ping: latencyStats(pings), slowUs: slow.us, command: slow.command };
  } finally {
    await store.close();
  }
}

async function catchupDelayd(admin, url, o, run) {
  const offset = await serverOffset(admin);
  const producer = delaydApp(url, { ...o, shards: 1 });
  const dueFrom = Date.now() + offset + OVERDUE_LEAD_MS;
  for (let from = 0; from < o.catchup; from += CALL) {
    await producer.noop.delayMany(Array.from({ length: Math.min(CALL, o.catchup - from) }, (_, k) => ({ args: args64(run * o.catchup + from + k), when: { eta: dueFrom + ((from + k) % 2000) } })));
  }
  await producer.app.close();
  await until('the catch-up tasks to be overdue', () => Date.now() + offset > dueFrom + 2100, 60_000, 20);
  const { app } = delaydApp(url, { ...o, shards: 1 });
  let done = 0;
  app.on('succeeded', () => done++);
  await slowlogAll(admin);
  await admin.sendCommand(['CONFIG', 'RESETSTAT']);
  const forked = await forks(admin);
  const busy0 = await redisBusy(admin);
  const t0 = performance.now();
  await app.start();
  await until('the catch-up to finish', () => done >= o.catchup, 180_000, 2);
  const ms = performance.now() - t0;
  const busy1 = await redisBusy(admin);
  const slow = await slowlogMax(admin);
  await app.close();
  const busy = `Redis CPU ${(busy1.cpuMs - busy0.cpuMs).toFixed(0)} ms, its commands' wall time ${busy1.commandsMs.toFixed(0)} ms`;
  return { ms, slowUs: slow.us, command: slow.command, over5ms: slow.over5ms, forks: `${forkDelta(forked, await forks(admin))}; ${busy}` };
}

async function catchupBull(admin, url, o, run) {
  const { queue, close } = await bullQueue(url);
  const lead = OVERDUE_LEAD_MS;
  for (let from = 0; from < o.catchup; from += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, o.catchup - from) }, (_, k) => ({ name: 'noop', data: args64(run * o.catchup + from + k), opts: { delay: lead + ((from + k) % 2000) } })));
  }
  await sleep(lead + 2100);
  let done = 0;
  const worker = await bullWorker(url, async () => {}, o.concurrency);
  worker.worker.on('completed', () => done++);
  await slowlogAll(admin);
  const forked = await forks(admin);
  const t0 = performance.now();
  worker.run();
  await until('the BullMQ catch-up to finish', () => done >= o.catchup, 180_000, 2);
  const ms = performance.now() - t0;
  const slow = await slowlogMax(admin);
  await worker.close();
  await close();
  return { ms, slowUs: slow.us, command: slow.command, over5ms: slow.over5ms, forks: forkDelta(forked, await forks(admin)) };
}

/** What forked during a catch-up: AOF rewrites and their last fork's time. */
function forkDelta(before, after) {
  const n = after.aofRewrites - before.aofRewrites + after.rdbSaves - before.rdbSaves;
  return n === 0 ? 'no fork' : `${n} fork(s), the last ${after.lastForkUs} µs`;
}

await redisMain(import.meta.url, measure);
