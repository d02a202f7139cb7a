/**
 * Owners (contract Leases) on Redis: worker rows in the queue-wide hash {dq:Q}:workers (one
 * write per beat), running tasks per shard in run:<owner>. bury checks the beat and drops the
 * row in one script, then every shard puts the owner's tasks back in chunks (PUT_BACK), each
 * chunk re-checking that a task is still running under that owner. The look for orphans (every
 * daemon's, after each beat) also sweeps abandoned staged writes (stage.ts), a ZCARD per shard
 * when there are none.
 */
import type { WorkerRow } from '../types.js';
import { toMap, toWorkerRow } from './rows.js';
import { HEARTBEAT, PUT_BACK, WORKER_GONE } from './scripts/liveness.js';
import type { Session } from './session.js';
import type { LuaScript } from './link.js';
import { sweepStages } from './stage.js';

const PUT_BACK_CHUNK = 500;

/** A script on the workers hash (the queue-wide slot). */
function onWorkers(s: Session, script: LuaScript, args: readonly (string | number)[]): Promise<unknown> {
  return s.script(script, `${s.meta}workers`, args, true);
}

export async function release(s: Session, owner: string): Promise<number> {
  await s.command(`${s.meta}workers`, ['HDEL', `${s.meta}workers`, owner], true);
  return putBack(s, owner);
}

export async function bury(s: Session, owner: string, beat: number | null): Promise<number | null> {
  const gone = await onWorkers(s, WORKER_GONE, [owner, beat === null ? '' : beat]);
  if (Number(gone) !== 1) return null;
  return putBack(s, owner);
}

async function putBack(s: Session, owner: string): Promise<number> {
  const counts = await Promise.all(
    s.prefixes.map(async (_, shard) => {
      let total = 0;
      for (;;) {
        const [count, left] = (await s.run(PUT_BACK, shard, [owner, PUT_BACK_CHUNK], true)).map(Number) as [number, number];
        total += count;
        if (left === 0) return total;
      }
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

export async function heartbeat(s: Session, worker: Omit<WorkerRow, 'beat' | 'seenMs'>, atMs: number, continuing: boolean): Promise<boolean> {
  const beat = await onWorkers(s, HEARTBEAT, [
    worker.owner, worker.host, worker.pid, JSON.stringify(worker.names), JSON.stringify(worker.policies ?? {}), worker.startedMs, atMs,
  ]);
  return !(continuing && Number(beat) === 1);
}

export async function workers(s: Session): Promise<WorkerRow[]> {
  const flat = (await s.command(`${s.meta}workers`, ['HGETALL', `${s.meta}workers`], false)) as string[];
  return [...toMap(flat)].map(([owner, json]) => toWorkerRow(owner, json)).sort((a, b) => a.startedMs - b.startedMs);
}

export async function orphanOwners(s: Session): Promise<string[]> {
  // A failed sweep is left for the next look: it must not hold back the burial of dead owners.
  const sweeps = Promise.all(s.prefixes.map((_, shard) => sweepStages(s, shard).catch(() => 0)));
  const [workers, ...perShard] = await Promise.all([
    s.command(`${s.meta}workers`, ['HKEYS', `${s.meta}workers`], false) as Promise<string[]>,
    ...s.prefixes.map((p) => s.command(`${p}ro`, ['SMEMBERS', `${p}ro`], false) as Promise<string[]>),
  ]);
  await sweeps;
  const alive = new Set(workers);
  return [...new Set(perShard.flat())].filter((o) => !alive.has(o)).sort();
}

