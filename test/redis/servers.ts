/**
 * Real redis-server processes for tests: each on a free loopback port in its own temporary
 * folder, stopped by pid. Never the machine's Redis on 6379, never an address beyond loopback.
 *
 *   const r = await startRedis({ appendonly: true, appendfsync: 'always' });
 *   ... r.url ...
 *   afterAll(stopAllRedis);
 *
 * Every process started here is also killed (SIGKILL, by pid) when the test process exits, so
 * a failed test never leaves a server behind. Every wait is bounded.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServerOptions {
  /** AOF on (`appendonly yes`). @default false */
  appendonly?: boolean;
  /** @default 'everysec' (Redis's own default) */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** e.g. '20mb'. @default none */
  maxmemory?: string;
  /** @default 'noeviction' */
  maxmemoryPolicy?: string;
  /** Any further `--name value` arguments, e.g. ['--hz', '100']. */
  extraArgs?: string[];
  /** Reuse this folder (a restart on the same AOF). @default a new temporary folder */
  dir?: string;
  /** @default a free port */
  port?: number;
}

export interface RedisServer {
  port: number;
  url: string;
  /** The current process's pid (changes on restart). */
  pid: number;
  dir: string;
  /** SIGTERM, wait for the exit (bounded), then remove the folder. */
  stop(): Promise<void>;
  /** SIGKILL, wait for the exit; the folder stays (for a restart). */
  kill9(): Promise<void>;
  /** Start again on the same port and folder (after kill9 or a stop with keepDir). */
  restart(): Promise<void>;
}

export interface RedisCluster {
  /** 3 masters then 3 replicas, as created; roles may change after a failover. */
  nodes: RedisServer[];
  /** redis+cluster://127.0.0.1:p1,127.0.0.1:p2,... */
  url: string;
  ports: number[];
  stop(): Promise<void>;
}

const live = new Map<number, ChildProcess>();
const all: (RedisServer | RedisCluster)[] = [];
process.on('exit', () => {
  for (const pid of live.keys()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/** A loopback port nobody listens on (and, for cluster nodes, port + 10000 too). */
export async function freePort(withBus = false): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = withBus ? 20000 + Math.floor(Math.random() * 25000) : await ephemeral();
    if (port === 6379 || port === 16379) continue;
    if (!(await canBind(port))) continue;
    if (withBus && !(await canBind(port + 10000))) continue;
    return port;
  }
  throw new Error('no free loopback port found in 50 tries');
}

function ephemeral(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** One raw RESP command over a fresh socket (no client library): the reply's text. */
export function rawCommand(port: number, args: string[], timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    let data = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no reply from 127.0.0.1:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('data', (chunk) => {
      data += chunk.toString('utf8');
      if (complete(data)) {
        clearTimeout(timer);
        sock.end();
        resolve(data);
      }
    });
    sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
  });
}

function complete(reply: string): boolean {
  if (reply[0] === '$') {
    const nl = reply.indexOf('\r\n');
    if (nl < 0) return false;
    const len = Number(reply.slice(1, nl));
    return len < 0 || reply.length >= nl + 2 + len + 2;
  }
  return reply.endsWith('\r\n');
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function argsOf(port: number, dir: string, o: RedisServerOptions, cluster: boolean): string[] {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no'];
  args.push('--appendonly', o.appendonly ? 'yes' : 'no', '--appendfsync', o.appendfsync ?? 'everysec');
  if (o.maxmemory) args.push('--maxmemory', o.maxmemory);
  args.push('--maxmemory-policy', o.maxmemoryPolicy ?? 'noeviction');
  if (cluster) {
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000');
  }
  return args.concat(o.extraArgs ?? []);
}

function exited(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function launch(options: RedisServerOptions, cluster: boolean): Promise<RedisServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'delayd-redis-'));
  const port = options.port ?? (await freePort(cluster));
  if (port === 6379) throw new Error('refusing to start a test server on 6379');
  let child!: ChildProcess;
  let stderr = '';
  const spawnOne = async () => {
    stderr = '';
    child = spawn('redis-server', argsOf(port, dir, options, cluster), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    live.set(child.pid!, child);
    const me = child;
    child.once('exit', () => live.delete(me.pid!));
    try {
      await waitFor(`redis-server on ${port} to answer PING`, 10_000, async () => {
        if (me.exitCode !== null) throw new Error(`redis-server exited: ${stderr}`);
        return (await rawCommand(port, ['PING'], 500)).startsWith('+PONG');
      });
    } catch (e) {
      if (me.exitCode !== null) throw new Error(`redis-server on ${port} exited at start: ${stderr}`);
      throw e;
    }
  };
  await spawnOne();
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid!;
    },
    dir,
    async stop() {
      child.kill('SIGTERM');
      await exited(child, 5000);
      rmSync(dir, { recursive: true, force: true });
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited(child, 5000);
    },
    async restart() {
      if (child.exitCode === null && child.signalCode === null) throw new Error('restart(): the server is still running');
      await spawnOne();
    },
  };
  return server;
}

/** One redis-server on a free loopback port; stopped by stopAllRedis() if not before. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const s = await launch(options, false);
  all.push(s);
  return s;
}

/** 3 masters and 3 replicas (node timeout 2 s), waiting until every node says cluster_state:ok. */
export async function startCluster(options: RedisServerOptions = {}): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < 6; i++) nodes.push(await launch(options, true));
    const ports = nodes.map((n) => n.port);
    await new Promise<void>((resolve, reject) => {
      execFile(
        'redis-cli',
        ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'],
        { timeout: 30_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`cluster create failed: ${err.message}\n${stdout}\n${stderr}`)) : resolve()),
      );
    });
    await waitFor('cluster_state:ok on all 6 nodes', 20_000, async () => {
      for (const p of ports) {
        if (!(await rawCommand(p, ['CLUSTER', 'INFO'])).includes('cluster_state:ok')) return false;
      }
      return true;
    });
    // Replicas must have synced before a test reads from them or fails a master over.
    await waitFor('replicas in sync', 20_000, async () => {
      let synced = 0;
      for (const p of ports) {
        const info = await rawCommand(p, ['INFO', 'replication']);
        if (info.includes('role:slave') && info.includes('master_link_status:up')) synced++;
      }
      return synced === 3;
    });
    const cluster: RedisCluster = {
      nodes,
      ports,
      url: 'redis+cluster://' + ports.map((p) => `127.0.0.1:${p}`).join(','),
      async stop() {
        await Promise.all(nodes.map((n) => n.stop()));
      },
    };
    all.push(cluster);
    return cluster;
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw e;
  }
}

/** Stops every server and cluster this process started (for afterAll); bounded by the stops. */
export async function stopAllRedis(): Promise<void> {
  await Promise.all(all.splice(0).map((s) => s.stop()));
}
