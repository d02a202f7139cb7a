/**
 * Inserts in order. Tasks without a key go to one shard (round robin per call). A keyed task
 * must go to its key's shard (the dedupe is atomic there); consecutive tasks bound for one
 * shard make a run, and the runs go one after the other, each numbering its ids above the last
 * (the seq floor), so a call's ids increase in its order.
 *
 * A run that fits one short script (INSERT_CHUNK tasks, INSERT_BYTES of args: a millisecond or
 * two inside Redis) is one INSERT script; a bigger run is a staged write (stage.ts): chunks
 * into a stage, one commit, bounded publish steps. Either way a run is all or none. A call of
 * several runs (keyed tasks on several shards) is all or none per run, not across them (a
 * refused run says how many of the call's tasks were written before it).
 * Each script carries a request id: a retry after a lost reply returns the first reply.
 */
import { DelaydError } from '../../errors.js';
import type { Inserted, NewTask } from '../types.js';
import { shardOfKey } from './keys.js';
import { INSERT } from './scripts/insert.js';
import type { Session } from './session.js';
import { chunkEnd, stagedInsert } from './stage.js';
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
  const runs: { shard: number; tasks: NewTask[] }[] = [];
  let shard = start;
  for (const t of tasks) {
    if (t.key !== null) shard = shardOfKey(t.key, s.shards);
    const last = runs[runs.length - 1];
    if (last && last.shard === shard) last.tasks.push(t);
    else runs.push({ shard, tasks: [t] });
  }
  const inserted: Inserted[] = [];
  for (const run of runs) {
    let written: Inserted[];
    try {
      ({ inserted: written, floor } = fitsOneScript(run.tasks)
        ? await insertRun(s, run.shard, run.tasks, floor, ttlSec)
        : await stagedInsert(s, run.shard, run.tasks, floor, ttlSec));
    } catch (error) {
      if (inserted.length === 0 || !(error instanceof DelaydError)) throw error;
      // Each run is atomic on its shard, a call over several shards is not: say what stays.
      const ids = inserted.map((i) => i.id);
      throw new DelaydError(
        error.code,
        `${error.message} (${inserted.length} of the call's ${tasks.length} tasks were written before this, on other shards: ids ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ', ...' : ''})`,
        { cause: error },
      );
    }
    inserted.push(...written);
  }
  return { inserted, floor };
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
