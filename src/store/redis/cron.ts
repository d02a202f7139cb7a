/** Crons (issue 14) over shards: each cron's sync is one script on its shard (keys.ts shardOfCron). */
import { DelaydError, describe } from '../../errors.js';
import { occurrenceKey, type CronOccurrence, type CronRow, type CronSync, type CronSynced, type TaskState } from '../types.js';
import { shardOfCron } from './keys.js';
import { CRONS, REMOVE_CRON, SYNC_CRON } from './scripts/cron.js';
import type { Session } from './session.js';
import { checkTime, nul } from './values.js';

export async function syncCrons(s: Session, sync: CronSync, floor: number): Promise<CronSynced[]> {
  for (const { def, first } of sync.crons) {
    checkTime(first.dueMs, `the due time of the first occurrence of cron ${JSON.stringify(def.name)}`);
    if (first.name !== def.name || first.key !== occurrenceKey(def.name, first.dueMs)) {
      throw new DelaydError(
        'E_BAD_OPTION',
        `Expected the first occurrence of cron ${JSON.stringify(def.name)} to be named so and keyed ${JSON.stringify(occurrenceKey(def.name, first.dueMs))}, got ${describe(first.key)}`,
      );
    }
  }
  const results: CronSynced[] = [];
  for (const { def, first } of sync.crons) {
    const reply = await s.run(SYNC_CRON, shardOfCron(def.name, s.shards), [
      def.name, def.expression, def.tz, def.args, def.missed, sync.nowMs, floor,
      first.args, first.dueMs, first.createdMs, first.key as string, nul(first.retries), nul(first.backoffMs), nul(first.timeoutMs),
    ], true);
    results.push({
      name: def.name,
      change: String(reply[0]) as CronSynced['change'],
      cancelled: Number(reply[1]),
      headId: reply[2] === '' ? null : Number(reply[2]),
      inserted: Number(reply[3]) === 1,
    });
  }
  for (const name of sync.plain) {
    const reply = await s.run(REMOVE_CRON, shardOfCron(name, s.shards), [name, sync.nowMs], true);
    if (reply.length === 0) continue;
    results.push({ name, change: 'removed', cancelled: Number(reply[0]), headId: reply[1] === '' ? null : Number(reply[1]), inserted: false });
  }
  return results;
}

export async function listCrons(s: Session): Promise<CronRow[]> {
  const replies = await Promise.all(s.prefixes.map((_, shard) => s.run(CRONS, shard, [], false)));
  const rows: CronRow[] = [];
  const opt = (v: unknown) => (v === '' ? null : Number(v));
  for (const r of replies) {
    for (let i = 0; i + 23 < r.length; i += 24) {
      const occurrence = (j: number): CronOccurrence | null =>
        r[j] === ''
          ? null
          : {
              id: Number(r[j + 1]), dueMs: Number(r[j + 2]), state: String(r[j + 3]) as TaskState, attempts: Number(r[j + 4]),
              startedMs: opt(r[j + 5]), finishedMs: opt(r[j + 6]), lastErrorCode: r[j + 7] === '' ? null : String(r[j + 7]).slice(1),
            };
      rows.push({
        name: String(r[i]), expression: String(r[i + 1]), tz: String(r[i + 2]), args: String(r[i + 3]),
        missed: String(r[i + 4]) as CronRow['missed'], updatedMs: Number(r[i + 5]), syncedMs: Number(r[i + 6]),
        removedMs: opt(r[i + 7]), next: occurrence(i + 8), last: occurrence(i + 16),
      });
    }
  }
  return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
