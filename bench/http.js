/**
 * 10. The HTTP server's cost to punctuality (issue 13): lateness (start minus eta) of n tasks
 * with millisecond etas spread over `spread` seconds, on a database that also holds `pending`
 * tasks due hours ahead, without the server and with it (a dashboard polling
 * /dashboard/overview and a scraper reading /metrics, once a second each, from another
 * process). The two alternate run by run (which goes first alternates too), so both see the
 * same machine; the target is a p99 within 1 ms of the one without.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Scheduler, startHttpServer } from '../dist/index.js';
import { openStore } from '../dist/store/open.js';
import { etasOf } from './lateness.js';
import { args105, freshDb, main, percentile, progress, removeDb, resultRow, silentLogger, sleep, until } from './lib.js';

const LEAD_MS = 1500;
const PENDING = Number(process.env.BENCH_HTTP_PENDING ?? 100_000);

export async function measure(o) {
  const without = { p50: [], p99: [], max: [], elu: [] };
  const withHttp = { p50: [], p99: [], max: [], elu: [] };
  const polls = [];
  for (let run = 0; run < o.runs; run++) {
    const order = run % 2 === 0 ? [false, true] : [true, false];
    for (const http of order) {
      const r = await once(o, http, run);
      const into = http ? withHttp : without;
      for (const stat of ['p50', 'p99', 'max', 'elu']) into[stat].push(r[stat]);
      if (r.polls) polls.push(r.polls);
      progress(`http run ${run + 1} ${http ? 'with the server' : 'without'}: p50 ${r.p50} p99 ${r.p99} max ${r.max} ms, main thread busy ${r.elu}%${r.polls ? `; ${JSON.stringify(r.polls)}` : ''}`);
    }
  }
  const label = `${o.lateness.toLocaleString()} over ${o.spread} s, ${PENDING.toLocaleString()} pending`;
  const rows = ['p50', 'p99', 'max'].map((stat) => {
    const base = [...without[stat]].sort((a, b) => a - b)[Math.floor(without[stat].length / 2)];
    return resultRow({
      id: `http.lateness.${stat}`,
      what: `lateness ${stat} with dashboard + /metrics each 1 s, ${label}`,
      unit: 'ms',
      better: 'lower',
      delayd: withHttp[stat],
      baselines: [{ name: `ms without the server (same run)`, samples: without[stat] }],
      target: stat === 'p99' ? { text: '<= without + 1 ms', ok: (d) => d <= base + 1 } : undefined,
      note: stat === 'p99' ? `polls answered: ${JSON.stringify(polls)}` : undefined,
    });
  });
  // Less at the mercy of other processes than lateness: how busy the scheduler's own thread was.
  rows.push(resultRow({
    id: 'http.elu',
    what: `scheduler thread busy (event loop utilization) with dashboard + /metrics, ${label}`,
    unit: '%',
    better: 'lower',
    delayd: withHttp.elu,
    baselines: [{ name: '% without the server (same run)', samples: without.elu }],
  }));
  return rows;
}

async function once(o, http, seed) {
  const path = freshDb(o.dir, 'delayd-http');
  const store = openStore({ db: path });
  const now = Date.now();
  // Pending work hours ahead (bulk: in the hour buckets, as a big backlog would be).
  for (let from = 0; from < PENDING; from += 10_000) {
    const rows = [];
    for (let i = from; i < Math.min(PENDING, from + 10_000); i++) {
      rows.push({ name: 'later', args: JSON.stringify(args105(i)), dueMs: now + 3 * 3600_000 + (i % 86_400) * 1000, createdMs: now, key: null, retries: null, backoffMs: null, timeoutMs: null });
    }
    await store.insert(rows);
  }
  const app = new Scheduler({ store, logger: silentLogger, concurrency: o.concurrency });
  app.task('noop')(async () => {});
  await app.start();
  let server;
  let poller;
  if (http) {
    // As the daemon does: the server's reads in a thread with a read-only connection of its own.
    server = await startHttpServer(app, { host: '127.0.0.1', port: 0, store, readThread: { db: path } });
    poller = await startPoller(server.url);
  }
  await sleep(1100);
  const late = [];
  app.on('accepted', (e) => late.push(e.lateMs));
  const elu0 = performance.eventLoopUtilization();
  const offsets = etasOf(o.lateness, o.spread * 1000, seed);
  const t0 = Date.now() + LEAD_MS;
  const producer = new Scheduler({ db: path, logger: silentLogger });
  const noop = producer.task('noop')(async () => {});
  await noop.delayMany(offsets.map((off, i) => ({ args: args105(i), when: { eta: t0 + off } })));
  await producer.close();
  await until(() => late.length === offsets.length, 50);
  const elu = Math.round(performance.eventLoopUtilization(elu0).utilization * 1000) / 10;
  const polls = poller ? await poller.stop() : null;
  await server?.close();
  await app.close();
  await store.close();
  removeDb(path);
  const sorted = Float64Array.from(late).sort();
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1], elu, polls };
}

function startPoller(url) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./http-poller.js', import.meta.url)), url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (out += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    const check = setInterval(() => {
      if (!out.startsWith('ready\n')) return;
      clearInterval(check);
      resolve({
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
          return JSON.parse(out.split('\n')[1]);
        },
      });
    }, 20);
    child.once('error', reject);
  });
}

await main(import.meta.url, measure);
