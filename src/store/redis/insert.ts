/**
 * Inserts, each call all or none. Tasks without a key go to one shard (round robin per call;
 * after a keyed task, its shard). A keyed task must go to its key's shard (the dedupe is atomic
 * there).
 *
 * A call on one shard that fits one short script (INSERT_CHUNK tasks, INSERT_BYTES of args: a
 * millisecond or two inside Redis) is one INSERT script; a bigger one is a staged write
 * (stage.ts): chunks into a stage, one commit, bounded publish steps; its ids increase in call
 * order. A call over several shards is a two-phase commit of stages (spread.ts); its ids
 * increase in call order within each shard. Every script carries a request id or an index:
 * a retry after a lost reply writes nothing twice.
 */
import type { Inserted, NewTask } from '../types.js';
import { shardOfKey } from './keys.js';
import { INSERT } from './scripts/insert.js';
import type { Session } from './session.js';
import { spreadInsert, type ShardGroup } from './spread.js';
import { stagedInsert } from './stage.js';
import { chunkEnd } from './steps.js';
import { nul, tag } from './values.js';

/** The most tasks (and args bytes) one INSERT script writes: ~15 µs a task inside Redis keeps it near 1.5 ms. */
export const INSERT_CHUNK = 100;
export const INSERT_BYTES = 128 * 1024;

/** True when these tasks (all bound for one shard) are one INSERT script. */
export function fitsOneScript(tasks: readonly NewTask[]): boolean {
  return chunkEnd(tasks, 0, INSERT_CHUNK, INSERT_BYTES) === tasks.length;
}

export async function insertAll(
  s: Session, tasks: readonly NewTask[], start: number, floor: number, ttlSec: number,
): Promise<{ inserted: Inserted[]; floor: number }> {
  const groups = new Map<number, ShardGroup>();
  let shard = start;
  tasks.forEach((t, i) => {
    if (t.key !== null) shard = shardOfKey(t.key, s.shards);
    let g = groups.get(shard);
    if (!g) groups.set(shard, (g = { shard, tasks: [], at: [] }));
    g.tasks.push(t);
    g.at.push(i);
  });
  if (groups.size > 1) return spreadInsert(s, [...groups.values()], tasks.length, floor, ttlSec);
  const [one] = groups.values();
  return fitsOneScript(one!.tasks) ? insertRun(s, one!.shard, one!.tasks, floor, ttlSec) : stagedInsert(s, one!.shard, one!.tasks, floor, ttlSec);
}

/** One INSERT script: tasks of one shard that fit it. */
async function insertRun(
  s: Session, shard: number, tasks: readonly NewTask[], floor: number, ttlSec: number,
): Promise<{ inserted: Inserted[]; floor: number }> {
  const nowMs = tasks[0]!.createdMs;
  const body: (string | number)[] = [tasks.length];
  for (const t of tasks) {
    body.push(t.name, t.args, t.dueMs, t.createdMs, tag(t.key), nul(t.retries), nul(t.backoffMs), nul(t.timeoutMs));
  }
  const reply = await s.runOnce(INSERT, shard, (rq) => [floor, rq, ttlSec, nowMs, ...body]);
  const inserted: Inserted[] = [];
  for (let i = 1; i + 2 < reply.length; i += 3) {
    inserted.push({ id: Number(reply[i]), dueMs: Number(reply[i + 1]), created: Number(reply[i + 2]) === 1 });
  }
  return { inserted, floor: Math.max(floor, Number(reply[0])) };
}
