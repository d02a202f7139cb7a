// Seed 001: split the work into units, run them on every core, reduce the results.
// Counts the matching lines of many generated log files: one task per file, run in worker
// threads, reduced to a total, then checked against a count in this single process.
// Run: node examples/log-count.js [files] [lines per file]   (temporary files; a few seconds)
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scheduler } from 'delayd';
import { count_matches, generateLogs } from './log-count-work.js';

process.env.DELAYD_LOG_LEVEL ??= 'warn';
const [files = 24, lines = 40_000] = process.argv.slice(2).map(Number);
const dir = mkdtempSync(join(tmpdir(), 'delayd-logs-'));

const app = new Scheduler({
  db: join(dir, 'log-count.db'),
  concurrency: 32,
  threads: availableParallelism(),
  // Each worker thread imports this module and runs `count_matches` from it by name.
  threadModules: [new URL('./log-count-work.js', import.meta.url).href],
});

// The map step runs in the pool's threads; the reduce step in this thread, where the
// scheduler and its database are.
const countMatches = app.task('count_matches', { isolation: 'thread', retries: 2 })(count_matches);
let reduced;
const finished = new Promise((resolve) => (reduced = resolve));
const sumCounts = app.task('sum_counts')(async (batchId) => {
  let total = 0;
  for await (const item of (await app.batch(batchId)).results()) total += item.value ?? 0;
  reduced(total);
  return total;
});

console.log(`generating ${files} log files of ${lines.toLocaleString('en')} lines in ${dir} ...`);
const paths = generateLogs(dir, { files, lines });

const started = performance.now();
app.start();
const batch = await countMatches.map(paths.map((path) => [path]), { reduce: sumCounts });
const total = await finished;
const mapped = performance.now() - started;

const single = performance.now();
const expected = paths.reduce((sum, path) => sum + count_matches(path), 0);
const singleMs = performance.now() - single;

const progress = await batch.progress();
console.log(`batch ${batch.id}: ${progress.succeeded} of ${progress.total} files counted, ${progress.failed} failed`);
console.log(`map/reduce on ${availableParallelism()} threads: ${total.toLocaleString('en')} matching lines in ${mapped.toFixed(0)} ms`);
console.log(`single process:             ${expected.toLocaleString('en')} matching lines in ${singleMs.toFixed(0)} ms`);
console.log(total === expected ? 'the totals agree' : 'MISMATCH: the totals differ');

await app.close();
rmSync(dir, { recursive: true, force: true });
process.exitCode = total === expected ? 0 : 1;
