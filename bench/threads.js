/**
 * Thread isolation (issue 6, seed 001): count the matching lines of many generated log files
 * as a batch of one task per file reduced to a total, with the handlers in worker threads
 * (isolation: 'thread', one thread per core) and in the scheduler's own thread (isolation:
 * 'none'), beside two baselines: a plain loop over the files in one process, and a raw
 * piscina pool of the same size mapping the same function (no scheduler, no database), which
 * shows how much parallelism this machine gives at all. Each run is a fresh scheduler on a
 * fresh database (and a fresh raw pool), timed from map() to the end of the reduce, so the
 * thread figures include starting the threads and importing the module in each. Runs
 * alternate the four so that a noisy neighbour hits them alike; every run checks its total.
 *
 *   node bench/threads.js [--runs=3]   (BENCH_THREADS_FILES=40, BENCH_THREADS_LINES=50000)
 */
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { Scheduler } from '../dist/index.js';
import { count_matches, generateLogs } from '../examples/log-count-work.js';
import { freshDb, main, median, progress, removeDb, resultRow, silentLogger } from './lib.js';

const WORK_MODULE = new URL('../examples/log-count-work.js', import.meta.url).href;

export async function measure(o) {
  const files = Number(process.env.BENCH_THREADS_FILES ?? 40);
  const lines = Number(process.env.BENCH_THREADS_LINES ?? 50_000);
  const threads = availableParallelism();
  const dir = join(o.dir, `logs-${process.pid}`);
  progress(`threads: generating ${files} log files of ${lines} lines`);
  const paths = generateLogs(dir, { files, lines });
  try {
    const expected = singleProcess(paths).total;
    const samples = { loop: [], piscina: [], none: [], thread: [] };
    for (let run = 0; run < o.runs; run++) {
      samples.loop.push(singleProcess(paths).ms);
      const raw = await rawPool(paths, threads);
      if (raw.total !== expected) throw new Error(`raw piscina: counted ${raw.total}, expected ${expected}`);
      samples.piscina.push(raw.ms);
      for (const isolation of ['none', 'thread']) {
        const { ms, total } = await viaBatch(o.dir, paths, isolation, threads);
        if (total !== expected) throw new Error(`${isolation}: counted ${total} matching lines, expected ${expected}`);
        samples[isolation].push(ms);
      }
      progress(
        `run ${run + 1}: loop ${samples.loop[run].toFixed(0)} ms, raw piscina ${samples.piscina[run].toFixed(0)} ms, ` +
          `delayd in-process ${samples.none[run].toFixed(0)} ms, delayd threads ${samples.thread[run].toFixed(0)} ms`,
      );
    }
    const speedups = samples.none.map((ms, i) => ms / samples.thread[i]);
    const rawSpeedups = samples.loop.map((ms, i) => ms / samples.piscina[i]);
    progress(`speed-up of thread isolation over in-process handlers on ${threads} cores: ${median(speedups).toFixed(2)}x (median of ${o.runs})`);
    progress(`speed-up of a raw piscina pool over a plain loop, same machine: ${median(rawSpeedups).toFixed(2)}x`);
    const what = `${files} files x ${lines.toLocaleString('en')} lines`;
    const loop = [
      { name: 'ms plain loop, 1 process', samples: samples.loop },
      { name: `ms raw piscina, ${threads} threads`, samples: samples.piscina },
    ];
    return [
      resultRow({ id: 'threads.logcount.none', what: `log count batch, in-process handlers, ${what}`, unit: 'ms', better: 'lower', delayd: samples.none, baselines: loop }),
      resultRow({
        id: 'threads.logcount.thread',
        what: `log count batch, ${threads} worker threads, ${what}`,
        unit: 'ms',
        better: 'lower',
        delayd: samples.thread,
        baselines: loop,
        note: 'includes starting the pool',
      }),
      resultRow({
        id: 'threads.logcount.speedup',
        what: `speed-up of thread isolation over in-process, ${threads} cores`,
        unit: 'x',
        better: 'higher',
        delayd: speedups,
        baselines: [{ name: 'x raw piscina over plain loop', samples: rawSpeedups }],
        // This machine's own parallelism is the limit (raw piscina's speed-up); delayd should keep it.
        target: { text: 'within 15% of raw piscina', ok: (_d, ratio) => ratio !== null && ratio > 0.85 },
      }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function singleProcess(paths) {
  const started = performance.now();
  let total = 0;
  for (const path of paths) total += count_matches(path);
  return { total, ms: performance.now() - started };
}

async function rawPool(paths, threads) {
  const pool = new Piscina({ filename: WORK_MODULE, name: 'count_matches', minThreads: threads, maxThreads: threads });
  const started = performance.now();
  const counts = await Promise.all(paths.map((path) => pool.run(path)));
  const ms = performance.now() - started;
  await pool.destroy();
  return { ms, total: counts.reduce((a, b) => a + b, 0) };
}

async function viaBatch(dir, paths, isolation, threads) {
  const db = freshDb(dir, `threads-${isolation}`);
  const app = new Scheduler({ db, logger: silentLogger, concurrency: 32, threads, threadModules: [WORK_MODULE] });
  const countMatches = app.task('count_matches', { isolation })(count_matches);
  let reduced;
  const finished = new Promise((resolve) => (reduced = resolve));
  const sum = app.task('sum_counts')((batchId) => {
    let total = 0;
    for (const item of app.batch(batchId).results()) total += item.value ?? 0;
    reduced(total);
  });
  app.start();
  const started = performance.now();
  await countMatches.map(paths.map((path) => [path]), { reduce: sum });
  const total = await finished;
  const ms = performance.now() - started;
  await app.close();
  removeDb(db);
  return { ms, total };
}

await main(import.meta.url, measure);
