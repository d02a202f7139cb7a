/**
 * 6. Catch-up: n tasks overdue (spread over the last hour) when a scheduler starts. Times from
 * start() to the first task started, and to every outcome durable. The baseline is raw
 * claim-then-complete over the same number of overdue rows, 1,000 rows per transaction: the
 * first batch claimed, and all done (one row per transaction is in throughput.js).
 */
import { rawClaimComplete, rawDueTable } from './baseline.js';
import { fillDue, newScheduler, watch } from './due.js';
import { freshDb, main, progress, removeDb, resultRow } from './lib.js';

export async function measure(o) {
  const n = o.catchup;
  const d = { first: [], all: [] };
  const batched = { first: [], all: [] };
  for (let run = 0; run < o.runs; run++) {
    const path = freshDb(o.dir, 'raw-catchup');
    const nowMs = Date.now();
    const db = rawDueTable(path, n, nowMs, 3600);
    const raw = rawClaimComplete(db, n, nowMs, 1000);
    batched.first.push(raw.firstMs);
    batched.all.push(raw.totalMs);
    db.close();
    removeDb(path);
    const r = await catchup(o, n);
    d.first.push(r.firstMs);
    d.all.push(r.allMs);
    progress(`catch-up run ${run + 1}: delayd first ${r.firstMs.toFixed(1)} ms, all ${r.allMs.toFixed(0)} ms; raw ${batched.all[run].toFixed(0)} ms`);
  }
  const label = n.toLocaleString();
  return [
    resultRow({
      id: 'catchup.first',
      what: `catch-up, ${label} overdue: first task started`,
      unit: 'ms',
      better: 'lower',
      delayd: d.first,
      baselines: [{ name: 'ms raw first 1000 claimed (one tx)', samples: batched.first }],
    }),
    resultRow({
      id: 'catchup.all',
      what: `catch-up, ${label} overdue: all done, durable`,
      unit: 'ms',
      better: 'lower',
      delayd: d.all,
      baselines: [{ name: 'ms raw claim+complete all, 1000 per tx', samples: batched.all }],
    }),
  ];
}

async function catchup(o, n) {
  const path = freshDb(o.dir, 'delayd-catchup');
  await fillDue(path, n, Date.now(), 3600);
  const app = newScheduler(path, o);
  const w = watch(app, path, n);
  const t0 = performance.now();
  app.start();
  const { at, succeededInDb } = await w.done();
  if (succeededInDb !== n) throw new Error(`expected ${n} succeeded, the store has ${succeededInDb}`);
  await app.close();
  removeDb(path);
  return { firstMs: w.firstMs - t0, allMs: at - t0 };
}

await main(import.meta.url, measure);
