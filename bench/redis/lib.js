/**
 * Shared by the Redis benchmarks: the 64-byte payload, BullMQ's Queue and Worker over a
 * node-redis client (BullMQ 6 ships no client of its own; createNodeRedisClient is its
 * documented adapter), a plain admin client (INFO, SLOWLOG, TIME, FLUSHALL), delayd on the
 * same server, and the rows with BullMQ as the baseline (ratio = delayd / BullMQ).
 */
import { createClient } from 'redis';
import { Scheduler } from '../../dist/index.js';
import { fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { percentile, progress, resultRow, silentLogger, sleep, tableLines } from '../lib.js';

/** Task args whose JSON is exactly 64 bytes; `i` keeps them distinct. */
export function args64(i) {
  const head = `u${String(i % 1e9).padStart(9, '0')}@example.com`;
  const filler = 64 - JSON.stringify([head, '']).length;
  return [head, 'x'.repeat(filler)];
}
if (JSON.stringify(args64(123)).length !== 64) throw new Error('args64 is not 64 bytes');

export const QUEUE = 'bench';

export async function adminClient(url) {
  const c = createClient({ url });
  c.on('error', () => {});
  await c.connect();
  return c;
}

/** A connected node-redis client wrapped for BullMQ. */
async function bullConnection(url) {
  // Loaded when first used: a process measuring delayd alone (lateness.js's consumer) does not
  // carry BullMQ's modules in its heap (4.5 MB, a longer mark-compact).
  const { createNodeRedisClient } = await import('bullmq');
  const raw = createClient({ url });
  raw.on('error', () => {});
  await raw.connect();
  return { raw, connection: createNodeRedisClient(raw) };
}

export async function bullQueue(url, name = QUEUE) {
  const { raw, connection } = await bullConnection(url);
  const { Queue } = await import('bullmq');
  const queue = new Queue(name, { connection });
  await queue.waitUntilReady();
  return {
    queue,
    async close() {
      await queue.close();
      await raw.quit().catch(() => {});
    },
  };
}

/** A BullMQ Worker at `concurrency`, running `fn` for each job. */
export async function bullWorker(url, fn, concurrency = 50, name = QUEUE) {
  const { raw, connection } = await bullConnection(url);
  const { Worker } = await import('bullmq');
  const worker = new Worker(name, fn, { connection, concurrency, autorun: false });
  return {
    worker,
    run() {
      void worker.run();
    },
    async close() {
      await worker.close();
      await raw.quit().catch(() => {});
    },
  };
}

/**
 * A delayd scheduler on the Redis at `url` with one task, `noop`, running `fn`. `o.shards`
 * (the Redis backend's `shards` option) applies when the queue is created: the bench's parts
 * that say "one shard" start on an empty server.
 */
export function delaydApp(url, o = {}, fn = async () => {}) {
  const app = new Scheduler({ db: url, logger: silentLogger, concurrency: o.concurrency ?? 50, ...(o.shards ? { shards: o.shards } : {}), ...(o.scheduler ?? {}) });
  const noop = app.task('noop')(fn);
  return { app, noop };
}

/** Redis TIME minus this host's clock, corrected by half the round trip (ms). */
export async function serverOffset(admin) {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    const [s, us] = await admin.time().then(timeParts);
    const t1 = Date.now();
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: s * 1000 + us / 1000 - (t0 + t1) / 2 };
  }
  return best.offset;
}

/** node-redis returns TIME as [seconds, microseconds] strings (or a Date in older versions). */
function timeParts(t) {
  if (Array.isArray(t)) return [Number(t[0]), Number(t[1])];
  if (t instanceof Date) return [Math.floor(t.getTime() / 1000), (t.getTime() % 1000) * 1000 + (t.microseconds ?? 0)];
  throw new Error(`unexpected TIME reply ${JSON.stringify(t)}`);
}

export async function usedMemory(admin) {
  const info = await admin.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

/** The bench's own commands, left out of the SLOWLOG figures. */
const ADMIN = new Set(['slowlog', 'config', 'flushall', 'info', 'time', 'keys', 'dbsize']);

/**
 * Max duration (µs) of the SLOWLOG entries since the last reset (the bench's own admin
 * commands left out), with the command and its first arguments (the script's sha and shard).
 */
export async function slowlogMax(admin) {
  const entries = await admin.sendCommand(['SLOWLOG', 'GET', '-1']);
  let max = { us: 0, command: '' };
  let over5ms = 0;
  for (const e of entries) {
    const us = Number(e[2]);
    const args = (e[3] ?? []).map(String);
    if (ADMIN.has((args[0] ?? '').toLowerCase())) continue;
    if (us > 5000) over5ms++;
    if (us > max.us) max = { us, command: args.slice(0, 7).join(' ').slice(0, 160) };
  }
  return { ...max, over5ms, entries: entries.length };
}

/** Forks Redis made so far (AOF rewrites, RDB saves): a fork's copy-on-write slows the commands after it. */
export async function forks(admin) {
  const info = await admin.info('persistence');
  const field = (name) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1] ?? 0);
  return { aofRewrites: field('aof_rewrites'), rdbSaves: field('rdb_saves'), lastForkUs: field('latest_fork_usec') };
}

/**
 * Redis's own CPU time and the wall time its commands took (commandstats) since `CONFIG
 * RESETSTAT`, in ms: wall well above CPU means Redis waited for a core, not for its work.
 */
export async function redisBusy(admin) {
  const cpu = await admin.info('cpu');
  const stats = await admin.info('commandstats');
  const used = ['used_cpu_user', 'used_cpu_sys'].reduce((sum, f) => sum + Number(new RegExp(`${f}:([\\d.]+)`).exec(cpu)?.[1] ?? 0), 0);
  let usec = 0;
  for (const m of stats.matchAll(/usec=(\d+)/g)) usec += Number(m[1]);
  return { cpuMs: used * 1000, commandsMs: usec / 1000 };
}

export async function slowlogAll(admin) {
  await admin.sendCommand(['CONFIG', 'SET', 'slowlog-log-slower-than', '0']);
  await admin.sendCommand(['CONFIG', 'SET', 'slowlog-max-len', '1000000']);
  await admin.sendCommand(['SLOWLOG', 'RESET']);
}

export function latencyStats(xs) {
  const s = Float64Array.from(xs).sort();
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN, n: s.length };
}

/** A row whose baseline is BullMQ on the same server in the same run. */
export function vsBull({ id, what, unit, better, delayd, bull, bullName, target, note }) {
  return resultRow({
    id,
    what,
    unit,
    better,
    delayd,
    baselines: bull ? [{ name: bullName ?? `${unit} BullMQ`, samples: bull }] : [],
    target,
    note,
  });
}

/** Resolves once `check()` holds; throws `what` after `timeoutMs` (every part is bounded). */
export async function until(what, check, timeoutMs, everyMs = 5) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export { sleep };

/**
 * Runs a part's `measure(options)` when its file is executed directly, like ../lib.js main()
 * but with the Redis bench's options: from run.js (BENCH_OPTIONS) or this process's flags. In a
 * child started by inChild(), runs the named function of `children` instead.
 */
export async function redisMain(moduleUrl, measure, children = {}) {
  if (moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  if (process.env.BENCH_CHILD_CALL) return childCall(children, JSON.parse(process.env.BENCH_CHILD_CALL));
  const { parseRedisFlags, redisOptions } = await import('./options.js');
  const o = process.env.BENCH_OPTIONS ? redisOptions(JSON.parse(process.env.BENCH_OPTIONS)) : parseRedisFlags(process.argv.slice(2));
  const rows = await measure(o);
  if (process.env.BENCH_OPTIONS) process.stdout.write(`@@BENCH ${JSON.stringify(rows)}\n`);
  else console.log(tableLines(rows).join('\n'));
  // BullMQ's and node-redis's timers must not keep a finished part alive.
  process.exit(0);
}

/**
 * `children[name](args, ready)` of the part at `moduleUrl` in a child process of its own: its
 * result. A consumer measured there runs as a daemon does, apart from its producers: its heap
 * holds neither this process's writes nor an earlier run's garbage, whose collections would
 * otherwise land in its window. The child may call `ready()` once it is set up: `onReady()`
 * runs here (the producing, say), then the child goes on.
 */
export function inChild(moduleUrl, name, args, onReady = async () => {}) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(moduleUrl), [], {
      env: { ...process.env, BENCH_CHILD_CALL: JSON.stringify({ name, args }) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the child running ${name} exited (${code}) before reporting`)));
    child.on('message', (m) => {
      if (m.ready) onReady().then(() => child.send({ go: true }), reject);
      if ('result' in m) resolve(m.result);
      if (m.error) reject(new Error(`${name} in a child: ${m.error}`));
    });
  });
}

async function childCall(children, { name, args }) {
  const ready = () =>
    new Promise((resolve) => {
      process.once('message', resolve);
      process.send({ ready: true });
    });
  try {
    const result = await children[name](args, ready);
    process.send({ result }, () => process.exit(0));
  } catch (error) {
    process.send({ error: error?.stack ?? String(error) }, () => process.exit(1));
  }
}

/**
 * The loop most parts share: one redis-server in `appendfsync` mode for the part, and per run
 * FLUSHALL, delayd's figure, FLUSHALL, BullMQ's (alternating, so a noisy neighbour hits both
 * alike); either side skipped when --systems leaves it out. Resolves { d, b }: the samples.
 */
export async function sideBySide(o, { appendfsync = 'everysec', label, delayd, bullmq, show = (x) => x.toFixed(0) }) {
  const { startRedis } = await import('./server.js');
  const { measures } = await import('./options.js');
  const server = await startRedis({ appendfsync });
  const admin = await adminClient(server.url);
  const d = [];
  const b = [];
  try {
    for (let run = 0; run < o.runs; run++) {
      await admin.flushAll();
      if (measures(o, 'delayd')) d.push(await delayd(server.url, admin));
      await admin.flushAll();
      if (measures(o, 'bullmq')) b.push(await bullmq(server.url, admin));
      progress(`${label} run ${run + 1}: delayd ${d.length > run ? show(d[run]) : '-'}, BullMQ ${b.length > run ? show(b[run]) : '-'}`);
    }
  } finally {
    await admin.quit();
    await server.stop();
  }
  return { d, b };
}

/** "FCALL <script>_<library hash> ..." with the library's hash left out (delayd's functions.ts). */
export async function nameScripts(command) {
  return command.replace(/^FCALL (\w+)_[0-9a-f]{12}\b/i, 'FCALL ($1)');
}
