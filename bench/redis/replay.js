/**
 * The store traffic of the due bench (due.js), replayed in a fixed order on one shard: n due
 * tasks inserted, then claims of CALL tasks, their starts and their successes in RECORD calls
 * of PER (the size the scheduler's admission and journal reach at concurrency 50), one call at
 * a time. No scheduler, no handlers: what it costs is the store's alone.
 *
 * `node bench/redis/replay.js` prints Redis CPU (INFO used_cpu_user + sys) and this process's
 * CPU per task, and the FCALL calls. On a shared machine those move 20-30% from run to run;
 * BENCH_CALLGRIND=1 runs redis-server under valgrind's callgrind and prints the instructions
 * Redis ran per task for each phase (all claims, then all starts, then all successes), which
 * do not move: the figure to compare two builds by. Needs valgrind; ~1 min for 10,000 tasks.
 *
 * BENCH_REPLAY_N (30,000; 10,000 under callgrind), BENCH_REPLAY_PER (44), BENCH_REPLAY_CALL (250),
 * BENCH_REPLAY_AOF ('' no AOF; everysec or always: appendonly yes with that fsync, as due.js runs).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisStore } from '../../dist/index.js';
import { adminClient, args64 } from './lib.js';
import { freePort } from './server.js';

const cg = process.env.BENCH_CALLGRIND === '1';
const n = Number(process.env.BENCH_REPLAY_N ?? (cg ? 10_000 : 30_000));
const per = Number(process.env.BENCH_REPLAY_PER ?? 44);
const call = Number(process.env.BENCH_REPLAY_CALL ?? 250);

const dir = mkdtempSync(join(tmpdir(), 'delayd-replay-'));
const port = await freePort();
const aof = process.env.BENCH_REPLAY_AOF ?? '';
const serverArgs = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, ...(aof ? ['--appendonly', 'yes', '--appendfsync', aof] : ['--appendonly', 'no'])];
const child = cg
  ? spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${dir}/cg.out`, 'redis-server', ...serverArgs], { stdio: 'ignore' })
  : spawn('redis-server', serverArgs, { stdio: 'ignore' });
const url = `redis://127.0.0.1:${port}`;
const callgrind = (...args) => execFileSync('callgrind_control', [...args, String(child.pid)], { stdio: 'ignore' });

try {
  const admin = await connect(url);
  const store = new RedisStore({ url, queue: 'replay', shards: 1, checkDurability: false });
  const now = Date.now();
  for (let from = 0; from < n; from += 1000) {
    const tasks = Array.from({ length: Math.min(1000, n - from) }, (_, k) => ({
      name: 'noop', args: JSON.stringify(args64(from + k)), dueMs: now - 1 - ((from + k) % 5000), createdMs: now,
      key: null, retries: null, backoffMs: null, timeoutMs: null,
    }));
    await store.insert(tasks);
  }
  await admin.configResetStat();
  const cpu0 = await redisCpu(admin);
  const node0 = process.cpuUsage();
  if (cg) callgrind('-i', 'on');
  const claimed = [];
  for (;;) {
    const got = await store.claim({ owner: 'replay', uptoSecond: Math.floor(now / 1000) + 1, limit: call, names: ['noop'] });
    if (got.tasks.length === 0) break;
    claimed.push(...got.tasks);
  }
  if (cg) callgrind('-d', 'claim');
  const atMs = Date.now();
  await recordAll(store, claimed, (t) => ({ kind: 'started', id: t.id, owner: 'replay', attempt: t.attempts + 1, atMs }));
  if (cg) callgrind('-d', 'start');
  await recordAll(store, claimed, (t) => ({ kind: 'succeeded', id: t.id, owner: 'replay', attempt: t.attempts + 1, atMs: atMs + 1, result: null }));
  if (cg) callgrind('-d', 'success');
  if (cg) callgrind('-i', 'off');
  const cpu1 = await redisCpu(admin);
  const node1 = process.cpuUsage(node0);
  const evals = Number(/cmdstat_fcall:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
  const { succeeded } = (await store.stats()).counts;
  if (claimed.length !== n || succeeded !== n) throw new Error(`claimed ${claimed.length}, succeeded ${succeeded} of ${n}`);
  console.log(`${n} tasks (claims of ${call}, records of ${per}${aof ? `, AOF ${aof}` : ''}): Redis CPU ${((cpu1 - cpu0) / n).toFixed(1)} µs/task, this process ${((node1.user + node1.system) / n).toFixed(1)} µs/task, ${evals} FCALL`);
  if (cg) console.log(`Redis instructions per task: ${instructions(dir).join(', ')}`);
  await store.close();
  await admin.quit();
} finally {
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);

async function connect(url) {
  for (let attempt = 0; ; attempt++) {
    try {
      const admin = await adminClient(url);
      await admin.ping();
      return admin;
    } catch (error) {
      if (attempt > 150) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function recordAll(store, tasks, outcome) {
  for (let i = 0; i < tasks.length; i += per) {
    const result = await store.record(tasks.slice(i, i + per).map(outcome));
    if (!result.applied.every(Boolean)) throw new Error('an outcome was refused');
  }
}

async function redisCpu(admin) {
  const info = await admin.info('cpu');
  return (Number(/used_cpu_user:([\d.]+)/.exec(info)[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)[1])) * 1e6;
}

/** "claim 50k" ... from the dumps callgrind wrote, in order (a dump counts what ran since the last). */
function instructions(dir) {
  const out = [];
  const files = readdirSync(dir).filter((f) => /^cg\.out\.\d+$/.test(f)).sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    const phase = /^desc: Trigger: dump (\w+)/m.exec(text)?.[1];
    const total = Number(/^summary: (\d+)/m.exec(text)?.[1] ?? 0);
    if (phase && ['claim', 'start', 'success'].includes(phase)) out.push(`${phase} ${(total / n / 1000).toFixed(1)}k`);
  }
  return out;
}
