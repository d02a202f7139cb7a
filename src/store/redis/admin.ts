/**
 * Reads and admin changes that route by id or walk every shard: the shard of an id, list()
 * merged across shards newest first, cancel/reschedule/retry of one task (one script on its
 * shard), and purge in bounded chunks per shard.
 */
import { DelaydError } from '../../errors.js';
import type { ListFilter, TaskRow } from '../types.js';
import { shardOfId } from './keys.js';
import { toMap, toTaskRow } from './rows.js';
import type { CANCEL } from './scripts/change.js';
import { PURGE } from './scripts/purge.js';
import { LIST } from './scripts/reads.js';
import type { Session } from './session.js';

const PURGE_CHUNK = 500;
/** How many index entries list() reads per shard when it filters by name or finished state. */
const LIST_SCAN_CAP = 10_000;

export type ChangeScript = typeof CANCEL;

/** The shard of an id this queue could have handed out, or undefined. */
export function shardIn(s: Session, id: number): number | undefined {
  const shard = shardOfId(id);
  return Number.isSafeInteger(id) && id >= 0 && shard < s.shards ? shard : undefined;
}

export async function listTasks(s: Session, filter: ListFilter): Promise<TaskRow[]> {
  const limit = filter.limit ?? 100;
  if (limit <= 0) return [];
  const replies = await Promise.all(
    s.prefixes.map((_, shard) => s.run(LIST, shard, [filter.state ?? '', filter.name ?? '', limit, LIST_SCAN_CAP, filter.beforeId ?? ''], false)),
  );
  const rows: TaskRow[] = [];
  for (const reply of replies) {
    for (let i = 0; i < reply.length; ) {
      const id = Number(reply[i]);
      const n = Number(reply[i + 1]);
      rows.push(toTaskRow(id, toMap(reply.slice(i + 2, i + 2 + n))));
      i += 2 + n;
    }
  }
  return rows.sort((a, b) => b.id - a.id).slice(0, limit);
}

/** One admin change (the script checks the state it applies from); the task's row after it. */
export async function changeTask(s: Session, script: ChangeScript, id: number, ms: number): Promise<TaskRow> {
  const shard = shardIn(s, id);
  if (shard === undefined) throw new DelaydError('E_NOT_FOUND', `No task with id ${id}`);
  const flat = await s.run(script, shard, [id, ms], true);
  return toTaskRow(id, toMap(flat));
}

/** Deletes finished tasks and batches older than the cutoff, every shard in chunks; how many tasks. */
export async function purgeFinished(s: Session, finishedBeforeMs: number): Promise<number> {
  const before = Number.isFinite(finishedBeforeMs) ? finishedBeforeMs : finishedBeforeMs > 0 ? Number.MAX_SAFE_INTEGER : 0;
  const counts = await Promise.all(
    s.prefixes.map(async (_, shard) => {
      let deleted = 0;
      for (const mode of ['t', 'b']) {
        for (let offset = 0; ; ) {
          const [d, examined, kept] = (await s.run(PURGE, shard, [mode, before, offset, PURGE_CHUNK], true)).map(Number) as [number, number, number];
          deleted += d;
          offset += kept;
          if (examined < PURGE_CHUNK) break;
        }
      }
      return deleted;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}
