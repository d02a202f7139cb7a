/**
 * 5. Lateness: actual start minus eta, for n tasks with millisecond etas spread over `spread`
 * seconds, and for n tasks due within one second. A warm, started scheduler; a producer writes
 * the tasks 1.5 s ahead. The lateness is the 'accepted' event's lateMs (start minus due, from
 * the scheduler's clock); any negative one is a task run early. The baseline is the platform's
 * floor, run at the same time in another process: a bare setTimeout aimed at each of the same
 * etas (it does fire up to 1 ms early by Date.now(), which delayd's pool checks for).
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Scheduler } from '../dist/index.js';
import { newScheduler } from './due.js';
import { args105, freshDb, main, percentile, progress, removeDb, resultRow, silentLogger, sleep, until } from './lib.js';

const LEAD_MS = 1500;

export async function measure(o) {
  const rows = [];
  const cases = [
    { key: 'spread', label: `${o.lateness.toLocaleString()} over ${o.spread} s`, spanMs: o.spread * 1000, p99: 10 },
    { key: 'burst', label: `${o.lateness.toLocaleString()} due in 1 s`, spanMs: 1000, p99: 1000 },
  ];
  for (const c of cases) {
    const d = { p50: [], p99: [], max: [], early: [] };
    const b = { p50: [], p99: [], max: [], early: [] };
    for (let run = 0; run < o.runs; run++) {
      const etas = etasOf(o.lateness, c.spanMs, run);
      const [late, bare] = await delayd(o, etas);
      add(d, late);
      add(b, bare);
      progress(`lateness ${c.label} run ${run + 1}: delayd p50 ${d.p50[run]} p99 ${d.p99[run]} max ${d.max[run]} ms; setTimeout p99 ${b.p99[run]} ms`);
    }
    for (const stat of ['p50', 'p99', 'max']) {
      rows.push(
        resultRow({
          id: `lateness.${c.key}.${stat}`,
          what: `lateness ${stat}, ${c.label}`,
          unit: 'ms',
          better: 'lower',
          delayd: d[stat],
          baselines: [{ name: `ms bare setTimeout ${stat} (same time, other process)`, samples: b[stat] }],
          target: stat === 'p99' ? { text: `< ${c.p99} ms`, ok: (x) => x < c.p99 } : undefined,
        }),
      );
    }
    rows.push(
      resultRow({
        id: `lateness.${c.key}.early`,
        what: `started early, ${c.label}`,
        unit: 'tasks',
        better: 'lower',
        delayd: d.early,
        baselines: [{ name: 'setTimeout callbacks before eta', samples: b.early }],
        target: { text: 'none', ok: (x) => x === 0 },
      }),
    );
  }
  return rows;
}

/** Integer-millisecond offsets, a fixed pseudo-random spread over spanMs (a new one each run). */
export function etasOf(n, spanMs, seed) {
  let x = 0x9e3779b9 ^ (seed + 1);
  return Array.from({ length: n }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % spanMs;
  });
}

function add(into, lateMs) {
  const sorted = Float64Array.from(lateMs).sort();
  into.p50.push(percentile(sorted, 50));
  into.p99.push(percentile(sorted, 99));
  into.max.push(sorted[sorted.length - 1]);
  into.early.push(lateMs.filter((x) => x < 0).length);
}

async function delayd(o, offsets) {
  const path = freshDb(o.dir, 'delayd-lateness');
  const app = newScheduler(path, o);
  app.start();
  await sleep(1100);
  const late = [];
  app.on('accepted', (e) => late.push(e.lateMs));
  const producer = new Scheduler({ db: path, logger: silentLogger });
  const noop = producer.task('noop')(async () => {});
  const t0 = Date.now() + LEAD_MS;
  const bare = timers(o, t0, offsets);
  await noop.delayMany(offsets.map((off, i) => ({ args: args105(i), when: { eta: t0 + off } })));
  await until(() => late.length === offsets.length, 50);
  await producer.close();
  await app.close();
  removeDb(path);
  return [late, await bare];
}

/** The bare-setTimeout baseline in a child process, over the same etas at the same time. */
function timers(o, t0, offsets) {
  const file = freshDb(o.dir, 'offsets').replace(/\.db$/, '.json');
  writeFileSync(file, JSON.stringify(offsets));
  const child = fileURLToPath(new URL('./timers-child.js', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [child, String(t0), file], { maxBuffer: 64 << 20 }, (error, stdout) => {
      rmSync(file, { force: true });
      if (error) reject(error);
      else resolve(JSON.parse(stdout));
    });
  });
}

await main(import.meta.url, measure);
