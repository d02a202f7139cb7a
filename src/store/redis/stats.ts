/** stats() over all shards: one STATS script each, summed; the cursor is the least shard cursor. */
import { TASK_STATES, type Stats, type TaskState } from '../types.js';
import { toMap } from './rows.js';
import { STATS } from './scripts/reads.js';
import type { Session } from './session.js';

export async function readStats(s: Session): Promise<Stats> {
  const replies = await Promise.all(s.prefixes.map((_, shard) => s.run(STATS, shard, [], false)));
  const counts = Object.fromEntries(TASK_STATES.map((st) => [st, 0])) as Record<TaskState, number>;
  const byName: Record<string, number> = {};
  const bySlot = new Map<number, number>();
  let cursor: number | null = null;
  let nextDueMs: number | null = null;
  let inBuckets = 0;
  for (const [cur, cnt, sn, sc, next] of replies as [string, string[], string[], string[], string][]) {
    if (cur !== '') cursor = cursor === null ? Number(cur) : Math.min(cursor, Number(cur));
    for (const [field, value] of toMap(cnt)) {
      if (field === 'ib') inBuckets += Number(value);
      else if (field in counts && field !== 'scheduled') counts[field as TaskState] += Number(value);
    }
    // Scheduled is the sum by name: every script that places or takes a task counts it there,
    // and a second counter beside it was one more HINCRBY on every insert.
    for (const [name, value] of toMap(sn)) {
      byName[name] = (byName[name] ?? 0) + Number(value);
      counts.scheduled += Number(value);
    }
    for (const [slot, value] of toMap(sc)) bySlot.set(Number(slot), (bySlot.get(Number(slot)) ?? 0) + Number(value));
    if (next !== '' && (nextDueMs === null || Number(next) < nextDueMs)) nextDueMs = Number(next);
  }
  const scheduledByName = Object.fromEntries(Object.entries(byName).filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : 1)));
  const busiestSlots = [...bySlot]
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, 5)
    .map(([slot, count]) => ({ slot, count }));
  return { counts, cursor, nextDueMs, busiestSlots, scheduledByName, backend: { kind: 'redis', inBuckets, shards: s.shards } };
}
