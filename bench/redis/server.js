/**
 * The bench's own redis-server: started on a free loopback port (never 6379) in a temporary
 * folder, with the persistence mode asked for, and stopped by its pid. delayd and BullMQ are
 * measured against the same one in each part. (The tests have their own launcher in
 * test/redis/servers.ts; the bench runs plain JavaScript over dist/, so it cannot import it.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Servers started and not yet stopped: killed by pid when this process exits, however it ends. */
const live = new Set();
process.on('exit', () => {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A port the kernel says is free on 127.0.0.1 right now (and not 6379). */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const { port: p } = s.address();
        s.close(() => resolve(p));
      });
    });
    if (port !== 6379) return port;
  }
}

/**
 * Starts redis-server. `appendfsync`: 'no-aof' (appendonly no), 'everysec' or 'always'.
 * `extra`: more `--name value` pairs (e.g. { maxmemory: '20mb' }).
 */
export async function startRedis({ appendfsync = 'no-aof', extra = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'delayd-bench-redis-'));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--protected-mode', 'yes'];
    if (appendfsync === 'no-aof') args.push('--appendonly', 'no');
    else args.push('--appendonly', 'yes', '--appendfsync', appendfsync);
    for (const [k, v] of Object.entries(extra)) args.push(`--${k}`, String(v));
    // BENCH_REDIS_CPU=1 pins redis-server to that core (taskset), the bench's node to the others:
    // on 2 cores, Node's GC threads otherwise take Redis's core mid-script (SLOWLOG is wall time).
    const cpu = process.env.BENCH_REDIS_CPU;
    const child = cpu ? spawn('taskset', ['-c', cpu, 'redis-server', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child.pid);
    child.once('exit', () => live.delete(child.pid));
    let log = '';
    child.stdout.on('data', (c) => (log += c));
    child.stderr.on('data', (c) => (log += c));
    const up = await ready(port, child, 10_000);
    if (!up) {
      child.kill('SIGKILL');
      if (/Address already in use/.test(log)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start on ${port}:\n${log}`);
    }
    return {
      port,
      pid: child.pid,
      url: `redis://127.0.0.1:${port}`,
      mode: appendfsync,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          const gone = new Promise((r) => child.once('exit', r));
          process.kill(child.pid, 'SIGKILL');
          await gone;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error('no free port for redis-server after 5 attempts');
}

/** Resolves true once the port answers PING with PONG, false at the deadline or on exit. */
async function ready(port, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    const ok = await new Promise((resolve) => {
      const sock = connect(port, '127.0.0.1');
      let got = '';
      sock.setTimeout(500, () => (sock.destroy(), resolve(false)));
      sock.on('error', () => resolve(false));
      sock.on('connect', () => sock.write('PING\r\n'));
      sock.on('data', (d) => {
        got += d;
        if (got.includes('PONG')) {
          sock.destroy();
          resolve(true);
        }
      });
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
