/**
 * `npm run bench -- --redis [--runs=3] [--only=enqueue,bulk,due,lateness,memory,tick] [--bulk=50000 ...]`
 * delayd on Redis against BullMQ 6 on the same redis-server (each part starts its own on a free
 * loopback port), same 64-byte payloads, concurrency 50, medians of `runs`; ratio = delayd /
 * BullMQ. Each part runs in its own child process and alone too (`node bench/redis/due.js`).
 * Writes bench/results/redis-<stamp>.json and redis-latest.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runChild, tableLines } from '../lib.js';
import { parseRedisFlags } from './options.js';

const PARTS = ['enqueue', 'bulk', 'due', 'lateness', 'memory', 'tick'];
const here = (file) => fileURLToPath(new URL(file, import.meta.url));

export async function run(argv) {
  const options = parseRedisFlags(argv);
  const only = options.only ? options.only.split(',') : PARTS;
  for (const name of only) if (!PARTS.includes(name)) throw new Error(`Unknown part ${name}; expected one of ${PARTS.join(', ')}`);
  const version = await redisVersion();
  console.log(`delayd on Redis vs BullMQ: ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, node ${process.version}, ${version}; medians of ${options.runs} runs`);
  const started = Date.now();
  const rows = [];
  for (const name of only) {
    const t0 = Date.now();
    console.error(`${name}...`);
    rows.push(...(await runChild(here(`./${name}.js`), options)));
    console.error(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const lines = tableLines(rows).map((l, i) => (i === 0 ? l.replace('raw baseline (same run)', 'BullMQ 6.7, same server') : l));
  console.log(['', ...lines, '', `${rows.length} figures in ${((Date.now() - started) / 1000).toFixed(0)} s; medians of ${options.runs} runs; ratio = delayd / BullMQ.`].join('\n'));
  mkdirSync(here('../results'), { recursive: true });
  const result = { redis: version, node: process.version, date: new Date(started).toISOString(), options, rows, table: lines };
  const stamp = new Date(started).toISOString().replace(/[:.]/g, '-');
  writeFileSync(here(`../results/redis-${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(here('../results/redis-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote bench/results/redis-${stamp}.json`);
  return 0;
}

function redisVersion() {
  return new Promise((resolve) => {
    const child = spawn('redis-server', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('error', () => resolve('redis-server not found'));
    child.on('close', () => resolve(/v=(\S+)/.exec(out)?.[0].replace('v=', 'Redis ') ?? out.trim()));
  });
}
