/**
 * `npm run bench`: runs each measurement in its own child process (a fresh heap each), prints
 * one table, and writes the figures with the machine they came from to bench/results/.
 *
 *   node bench/run.js [--runs=3] [--only=tick,idle] [--big] [--pending=1000000,10000000] ...
 *   node bench/run.js --only=threads,batches   (issue 6's measurements, not run by default)
 *
 * Every option has an environment twin (see SPEC in lib.js: BENCH_RUNS, BENCH_PENDING, ...).
 * --big adds the 10M-pending database (built once, about 2 GB, kept in --dir for reuse).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { parseOptions, runChild, tableLines } from './lib.js';

const MEASUREMENTS = ['enqueue-one', 'enqueue-bulk', 'enqueue-file', 'tick', 'idle', 'throughput', 'lateness', 'catchup', 'disk', 'http'];
/** Run only when named with --only (issue 6's measurements, a few minutes each). */
const OPTIONAL = ['threads', 'batches'];
const here = (file) => fileURLToPath(new URL(file, import.meta.url));

// `--redis`: delayd on Redis against BullMQ (bench/redis/), its own flags and table.
if (process.argv[2] === '--redis') process.exit(await (await import('./redis/run.js')).run(process.argv.slice(3)));
const options = parseOptions();
const only = options.only ? options.only.split(',') : MEASUREMENTS;
const machine = machineInfo();
console.log(`delayd benchmarks: ${machine.cpu} x${machine.cores}, node ${machine.node}, SQLite ${machine.sqlite}; ${options.runs} runs each`);
const started = Date.now();
const rows = [];
for (const name of only) {
  if (!MEASUREMENTS.includes(name) && !OPTIONAL.includes(name)) {
    throw new Error(`Unknown measurement ${name}; expected one of ${[...MEASUREMENTS, ...OPTIONAL].join(', ')}`);
  }
  const t0 = Date.now();
  console.error(`${name}...`);
  rows.push(...(await runChild(here(`./${name}.js`), options)));
  console.error(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
const seconds = (Date.now() - started) / 1000;
const lines = tableLines(rows);
console.log(['', ...lines, '', `${rows.length} figures in ${seconds.toFixed(0)} s; medians of ${options.runs} runs.`].join('\n'));
mkdirSync(here('./results'), { recursive: true });
const result = { machine, command: `node bench/run.js ${process.argv.slice(2).join(' ')}`.trim(), options, seconds, rows, table: lines };
const stamp = new Date(started).toISOString().replace(/[:.]/g, '-');
writeFileSync(here(`./results/${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(here('./results/latest.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote bench/results/${stamp}.json`);

function machineInfo() {
  const db = new Database(':memory:');
  const sqlite = db.prepare('SELECT sqlite_version()').pluck().get();
  db.close();
  let cores = cpus().length;
  try {
    cores = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {}
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {}
  const pkg = JSON.parse(readFileSync(here('../node_modules/better-sqlite3/package.json'), 'utf8'));
  return {
    cpu,
    cores,
    memGb: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    sqlite,
    betterSqlite3: pkg.version,
    date: new Date().toISOString(),
  };
}
