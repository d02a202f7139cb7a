/**
 * Helpers of the Redis failure tests, over the shared ones (test/fixtures/cli.ts's Daemon,
 * test/procs/harness.ts's readExecutions, test/procs/issue10.ts's until and killedAtEnd):
 * a daemon of the built CLI on a Redis URL serving handlers.mjs, optionally through faketime;
 * a producer in this process; every task row read through the store.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DelaydError } from '../../src/errors.js';
import { Scheduler } from '../../src/index.js';
import { createLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open.js';
import type { TaskRow } from '../../src/store/types.js';
import { CLI, Daemon } from '../fixtures/cli.js';
import { rawCommand } from '../redis/servers.js';

export const HANDLERS = fileURLToPath(new URL('./handlers.mjs', import.meta.url));
const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

export interface DaemonOptions {
  /** The runs log (handlers.mjs's RTEST_RUNS). */
  runs: string;
  /** Redis URL the `stamp` handler asks for TIME. @default the daemon's db */
  timeUrl?: string;
  /** Run under libfaketime with this FAKETIME (e.g. "+2s"). */
  faketime?: string;
  args?: readonly string[];
}

/**
 * `delayd daemon --db url --handlers handlers.mjs`. Daemon takes its environment from this
 * process's, so the variables are set only for the spawn and restored at once.
 */
export function redisDaemon(url: string, o: DaemonOptions): Daemon {
  const extra: Record<string, string> = { RTEST_RUNS: o.runs, RTEST_REDIS: o.timeUrl ?? url };
  if (o.faketime) Object.assign(extra, { LD_PRELOAD: FAKETIME_LIB, FAKETIME: o.faketime });
  const saved = Object.fromEntries(Object.keys(extra).map((k) => [k, process.env[k]]));
  Object.assign(process.env, extra);
  try {
    return new Daemon(url, ['daemon', '--db', url, '--handlers', HANDLERS, ...(o.args ?? [])], CLI);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

export const silent = createLogger({ level: 'silent' });

/** A producer scheduler in this process (never started), with the Redis options given. */
export function producer(url: string, options: { replicas?: number; shards?: number } = {}): Scheduler {
  return new Scheduler({ db: url, logger: silent, ...options });
}

/** Every task row, through a store of its own on `url`, or through `reader` (a scheduler). */
export async function tasks(url: string, reader?: Pick<Scheduler, 'list'>): Promise<TaskRow[]> {
  const store = reader ?? openStore({ db: url });
  try {
    // In pages (newest first, by id), as a backend may bound one list() call.
    const all: TaskRow[] = [];
    for (let beforeId: number | undefined; ; ) {
      const page = await store.list({ limit: 5000, ...(beforeId === undefined ? {} : { beforeId }) });
      all.push(...page);
      if (page.length < 5000) break;
      beforeId = Math.min(...page.map((r) => r.id));
    }
    return all.sort((a, b) => a.id - b.id);
  } finally {
    if (!reader) await (store as ReturnType<typeof openStore>).close();
  }
}

export function countByState(rows: readonly TaskRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.state] = (out[r.state] ?? 0) + 1;
  return out;
}

export interface Stamp {
  id: number;
  pid: number;
  redisMs: number;
  etaMs: number;
}

/** The `stamp` handler's lines. */
export function readStamps(log: string): Stamp[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('T '))
    .map((l) => {
      const [, id, pid, at, eta] = l.split(' ');
      return { id: Number(id), pid: Number(pid), redisMs: Number(at), etaMs: Number(eta) };
    });
}

export function runsIn(dir: string): string {
  return join(dir, 'runs.log');
}

export interface Writing {
  /** key -> id, eta and the time the write was acknowledged (created). */
  acked: Map<string, { id: number; etaMs: number; at: number }>;
  /** DelaydError codes (or the error's text) of the failed writes, with counts. */
  failures: Map<string, number>;
  /** Ends the writers; resolves once every write in flight has settled. */
  stop(): Promise<void>;
}

/**
 * `writers` loops enqueuing one `work` task each, every task with a key of its own, until
 * stop(): what Redis acknowledged is in `acked`, what failed in `failures` (the writer waits
 * 50 ms after a failure, as a client with a retry delay would).
 */
export function keepWriting(app: Scheduler, writers: number, countdown: (n: number) => number): Writing {
  const acked = new Map<string, { id: number; etaMs: number; at: number }>();
  const failures = new Map<string, number>();
  let stopped = false;
  let n = 0;
  const writer = async (w: number) => {
    while (!stopped) {
      const i = n++;
      const key = `w${w}-${i}`;
      try {
        const [s] = await app.enqueue('work', [{ args: [key, 0], when: { countdown: countdown(i), key } }]);
        if (s?.created) acked.set(key, { id: s.id, etaMs: s.eta.getTime(), at: Date.now() });
      } catch (error) {
        const code = error instanceof DelaydError ? error.code : String(error);
        failures.set(code, (failures.get(code) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const all = Array.from({ length: writers }, (_, w) => writer(w));
  return {
    acked,
    failures,
    async stop() {
      stopped = true;
      await Promise.all(all);
    },
  };
}

/** Acknowledged keys missing from the rows, and whether any key is on two rows. */
export function ackedVsPresent(acked: Map<string, unknown>, rows: readonly TaskRow[]): { lost: string[]; duplicated: number } {
  const keys = rows.map((r) => r.key ?? '');
  const present = new Set(keys);
  return { lost: [...acked.keys()].filter((k) => !present.has(k)), duplicated: keys.length - present.size };
}

/** The shard numbers whose keys live on the node at `port` (a test server: KEYS is fine). */
export async function shardsOn(port: number): Promise<Set<number>> {
  const reply = await rawCommand(port, ['KEYS', '*}:seq'], 5000);
  return new Set([...reply.matchAll(/\{dq:[^}]*:(\d+)\}:seq/g)].map((m) => Number(m[1])));
}
