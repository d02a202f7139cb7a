/**
 * 4. End-to-end throughput of due tasks through no-op handlers, every state change durable
 * (claim, start and finish committed; WAL, synchronous=NORMAL). After a warm-up run in the same
 * process, a producer writes n tasks already due, then a scheduler starts; the rate is n over
 * the time from the first start to the moment all are durable. Two layouts: tasks due in the order they were inserted
 * (one fixed countdown: tasks due together share pages) and scattered (countdowns of every
 * length: each task of a claim is on a page of its own, and every state change rewrites it).
 * The baselines are raw claim-then-complete cycles over the same layout: 1,000 rows per
 * transaction, and one row per transaction (timed over the first 10,000; it is slow).
 */
import { rawClaimComplete, rawDueTable } from './baseline.js';
import { fillDue, newScheduler, watch } from './due.js';
import { freshDb, main, progress, removeDb, resultRow, until } from './lib.js';

const PER_ROW_SAMPLE = 10_000;
const SPREAD_S = 60;

export async function measure(o) {
  const rows = [];
  for (const ordered of [true, false]) {
    const n = o.throughput;
    const delayd = [];
    const single = [];
    const batched = [];
    for (let run = 0; run < o.runs; run++) {
      for (const [samples, batch] of [[batched, 1000], [single, 1]]) {
        const path = freshDb(o.dir, 'raw-due');
        const nowMs = Date.now();
        const db = rawDueTable(path, n, nowMs, SPREAD_S, ordered);
        samples.push(rawClaimComplete(db, batch === 1 ? Math.min(n, PER_ROW_SAMPLE) : n, nowMs, batch).rate);
        db.close();
        removeDb(path);
      }
      delayd.push(await throughput(o, n, ordered));
      progress(`throughput ${ordered ? 'in due order' : 'scattered'} run ${run + 1}: delayd ${delayd[run].toFixed(0)}/s, raw ${batched[run].toFixed(0)}/s batched, ${single[run].toFixed(0)}/s per row`);
    }
    rows.push(
      resultRow({
        id: `throughput.${ordered ? 'ordered' : 'scattered'}`,
        what: `due tasks through no-op handlers, ${ordered ? 'in due order' : 'scattered'} (${n.toLocaleString()}, concurrency ${o.concurrency})`,
        unit: 'tasks/s',
        better: 'higher',
        delayd,
        baselines: [
          { name: 'raw claim+complete/s, 1000 rows per tx', samples: batched },
          { name: '1 row per tx', samples: single },
        ],
        target: { text: '>= 30k tasks/s', ok: (d) => d >= 30_000 },
      }),
    );
  }
  return rows;
}

async function throughput(o, n, ordered) {
  const path = freshDb(o.dir, 'delayd-throughput');
  // Warm up: a few thousand tasks through the same path first, in this process.
  const warm = 5000;
  const warmApp = newScheduler(path, o);
  warmApp.start();
  const w0 = watch(warmApp, path, warm);
  await fillDue(path, warm, Date.now(), SPREAD_S, { ordered });
  void warmApp.tick(Math.floor(Date.now() / 1000));
  await w0.done();
  await warmApp.close();
  // The n tasks are all written before a scheduler starts, as the raw baseline's table is
  // built before its clock starts: the producer's inserts are not timed as throughput.
  await fillDue(path, n, Date.now(), SPREAD_S, { firstId: warm, ordered });
  const app = newScheduler(path, o);
  const w = watch(app, path, n);
  app.start();
  await until(() => w.firstMs !== null, 1);
  const { at, succeededInDb } = await w.done();
  if (succeededInDb !== warm + n) throw new Error(`expected ${warm + n} succeeded, the store has ${succeededInDb}`);
  await app.close();
  removeDb(path);
  return n / ((at - w.firstMs) / 1000);
}

await main(import.meta.url, measure);
