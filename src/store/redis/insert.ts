/**
 * Inserts in order. Tasks without a key go to one shard (round robin per call): one script
 * per chunk of 1000. A keyed task must go to its key's shard (the dedupe is atomic there);
 * consecutive tasks bound for one shard make a run, and the runs go one after the other, each
 * numbering its ids above the last (the seq floor), so a call's ids increase in its order.
 * Each chunk carries a request id: a retry after a lost reply returns the first reply.
 * Each script is atomic on its shard; a call that needs several is not all-or-none across
 * them (a refused one says how many of the call's tasks were written before it).
 */
import { DelaydError } from '../../errors.js';
import type { Inserted, NewTask } from '../types.js';
import { shardOfKey } from './keys.js';
import { INSERT } from './scripts/insert.js';
import type { Session } from './session.js';
import { nul, tag } from './values.js';

const CHUNK = 1000;

export async function insertAll(
  s: Session, tasks: readonly NewTask[], start: number, floor: number, ttlSec: number,
): Promise<{ inserted: Inserted[]; floor: number }> {
  const runs: { shard: number; tasks: NewTask[] }[] = [];
  let shard = start;
  for (const t of tasks) {
    if (t.key !== null) shard = shardOfKey(t.key, s.shards);
    const last = runs[runs.length - 1];
    if (last && last.shard === shard && last.tasks.length < CHUNK) last.tasks.push(t);
    else runs.push({ shard, tasks: [t] });
  }
  const inserted: Inserted[] = [];
  for (const run of runs) {
    const nowMs = run.tasks[0]!.createdMs;
    const body: (string | number)[] = [run.tasks.length];
    for (const t of run.tasks) {
      body.push(t.name, t.args, t.dueMs, t.createdMs, tag(t.key), nul(t.retries), nul(t.backoffMs), nul(t.timeoutMs));
    }
    const at = floor;
    let reply: unknown[];
    try {
      reply = await s.runOnce(INSERT, run.shard, (rq) => [at, rq, ttlSec, nowMs, ...body]);
    } catch (error) {
      if (inserted.length === 0 || !(error instanceof DelaydError)) throw error;
      // Each script is atomic on its shard, a call over several shards is not: say what stays.
      const ids = inserted.map((i) => i.id);
      throw new DelaydError(
        error.code,
        `${error.message} (${inserted.length} of the call's ${tasks.length} tasks were written before this, on other shards: ids ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ', ...' : ''})`,
        { cause: error },
      );
    }
    floor = Math.max(floor, Number(reply[0]));
    for (let i = 1; i + 2 < reply.length; i += 3) {
      inserted.push({ id: Number(reply[i]), dueMs: Number(reply[i + 1]), created: Number(reply[i + 2]) === 1 });
    }
  }
  return { inserted, floor };
}
