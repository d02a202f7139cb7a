/**
 * Shared helpers of the benchmark suite: options (flags > environment > defaults), statistics,
 * temporary databases, the payload, result rows and the table.
 *
 * Every delayd figure is reported beside a baseline measured in the same run (raw
 * better-sqlite3 doing the same storage work, see baseline.js), as a median of `runs` runs,
 * with baseline and delayd alternating so that a noisy neighbour hits both alike.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLogger } from '../dist/logger.js';

/** Option name -> [environment variable, default, parser]. Sizes are counts of tasks. */
const SPEC = {
  runs: ['BENCH_RUNS', 3, Number],
  dir: ['BENCH_DIR', join(tmpdir(), 'delayd-bench'), String],
  only: ['BENCH_ONLY', '', String],
  big: ['BENCH_BIG', false, (v) => v === true || v === '1' || v === 'true'],
  pending: ['BENCH_PENDING', '1000000', String],
  due: ['BENCH_DUE', '0,1000,10000', String],
  ticks: ['BENCH_TICKS', 15, Number],
  single: ['BENCH_SINGLE', 30_000, Number],
  bulk: ['BENCH_BULK', 200_000, Number],
  batch: ['BENCH_BATCH', 1000, Number],
  throughput: ['BENCH_THROUGHPUT', 50_000, Number],
  concurrency: ['BENCH_CONCURRENCY', 50, Number],
  lateness: ['BENCH_LATENESS', 10_000, Number],
  spread: ['BENCH_SPREAD_S', 10, Number],
  catchup: ['BENCH_CATCHUP', 100_000, Number],
  disk: ['BENCH_DISK', 100_000, Number],
  idleSeconds: ['BENCH_IDLE_S', 6, Number],
};

/** Parses `--name=value`, `--name value` and bare `--flag` over the environment and defaults. */
export function parseOptions(argv = process.argv.slice(2), env = process.env) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-zA-Z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`Unexpected argument ${argv[i]}; options look like --runs=5`);
    const key = m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in SPEC)) throw new Error(`Unknown option --${m[1]}; expected one of ${Object.keys(SPEC).join(', ')}`);
    const next = argv[i + 1];
    flags[key] = m[2] ?? (next !== undefined && !next.startsWith('--') ? (i++, next) : true);
  }
  const options = {};
  for (const [key, [envName, fallback, parse]] of Object.entries(SPEC)) {
    const raw = flags[key] ?? env[envName];
    options[key] = raw === undefined || raw === '' ? fallback : parse(raw);
  }
  const pending = String(options.pending).split(',').map(Number);
  if (options.big && !pending.includes(10_000_000)) pending.push(10_000_000);
  options.pending = pending;
  options.due = String(options.due).split(',').map(Number);
  return options;
}

/** Options as the orchestrator hands them to a child process. */
export function childOptions() {
  return process.env.BENCH_OPTIONS ? JSON.parse(process.env.BENCH_OPTIONS) : parseOptions();
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const silentLogger = createLogger({ level: 'silent' });

/** Task args whose JSON is exactly 105 bytes, like the payload; `i` keeps rows distinct. */
export function args105(i) {
  const head = `user-${String(i % 1e9).padStart(9, '0')}@example.com`;
  const filler = 105 - JSON.stringify([head, '']).length;
  return [head, 'x'.repeat(filler)];
}

export const PAYLOAD_BYTES = JSON.stringify(args105(0)).length;

/** A fresh database path under the bench directory (any old file and its WAL removed). */
export function freshDb(dir, name) {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}-${process.pid}.db`);
  removeDb(path);
  return path;
}

export function removeDb(path) {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}

export function fileSize(path) {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** A deterministic spread of countdowns (seconds, with milliseconds) over `spanS`. */
export function spreadCountdown(i, spanS) {
  return ((i * 7919) % (spanS * 1000)) / 1000;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `check()` is true, polling on timers (so group commits get their turn). */
export async function until(check, everyMs = 0) {
  while (!check()) await sleep(everyMs);
}

/**
 * One line of the results table.
 *   delayd / baselines[i].samples: one figure per run; the median is what is reported.
 *   better: 'higher' for rates, 'lower' for times; the ratio is delayd / first baseline.
 *   target: { text, ok(delaydMedian, ratio) } or undefined.
 */
export function resultRow({ id, what, unit, better, delayd, baselines = [], target, note }) {
  const d = median(delayd);
  const base = baselines.map((b) => ({ name: b.name, median: median(b.samples), samples: b.samples }));
  const ratio = base.length > 0 && base[0].median > 0 ? d / base[0].median : null;
  return {
    id,
    what,
    unit,
    better,
    runs: delayd.length,
    delayd: { median: d, samples: delayd },
    baselines: base,
    ratio,
    target: target ? { text: target.text, met: target.ok(d, ratio) } : null,
    note: note ?? null,
  };
}

export function formatNumber(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  const a = Math.abs(x);
  if (a >= 100_000) return `${(x / 1000).toFixed(0)}k`;
  if (a >= 10_000) return `${(x / 1000).toFixed(1)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return '0';
  return x.toPrecision(2);
}

export function tableLines(rows) {
  const header = ['measurement', 'delayd', 'raw baseline (same run)', 'ratio', 'target', 'met', 'runs'];
  const body = rows.map((r) => [
    r.what,
    `${formatNumber(r.delayd.median)} ${r.unit}`,
    r.baselines.map((b) => `${formatNumber(b.median)} ${b.name}`).join('; ') || '-',
    r.ratio === null ? '-' : `${r.ratio.toFixed(r.ratio >= 10 ? 1 : 2)}x`,
    r.target?.text ?? '',
    r.target ? (r.target.met ? 'yes' : 'NO') : '',
    String(r.runs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)];
}

const MARK = '@@BENCH ';

/**
 * Runs a measurement module's `measure(options)` when the file is executed directly: as a
 * child of run.js it prints its rows as one marked JSON line; on its own it prints a table.
 */
export async function main(moduleUrl, measure) {
  if (moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  const rows = await measure(childOptions());
  if (process.env.BENCH_OPTIONS) process.stdout.write(`${MARK}${JSON.stringify(rows)}\n`);
  else console.log(tableLines(rows).join('\n'));
}

export function parseChildOutput(stdout) {
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  return line ? JSON.parse(line.slice(MARK.length)) : null;
}

export function progress(message) {
  process.stderr.write(`  ${message}\n`);
}

/** Runs one measurement script in a child process of its own (a fresh heap) and parses its figures. */
export function runChild(script, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, BENCH_OPTIONS: JSON.stringify(options) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const parsed = parseChildOutput(out);
      if (code !== 0 || !parsed) reject(new Error(`${script} exited with ${code}:\n${out}`));
      else resolve(parsed);
    });
  });
}
