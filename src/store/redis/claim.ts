/**
 * The claim over all shards. Every shard claims at once (one CLAIM script each, pipelined on
 * each node's connection) with a share of the room, at least one. When no shard filled its
 * share, that is everything due, in one round trip (the common case: less is due than there
 * is room). A shard that filled its share while its last task is due before the limit-th of
 * all taken claims again, with the whole limit; then the earliest `limit` tasks of all are
 * kept and the rest given back (UNCLAIM, placed behind the cursor,
 * so the next claim takes them first): the limit takes the earliest due tasks of the whole
 * queue, as on one SQLite file. The cursor is the least shard cursor, and below any task
 * given back: every task due by it has been claimed.
 */
import type { ClaimRequest, ClaimResult, ClaimedTask } from '../types.js';
import { shardOfId } from './keys.js';
import { CLAIM, UNCLAIM } from './scripts/claim.js';
import { toClaimed } from './rows.js';
import type { Session } from './session.js';

/** Tasks one script call may claim, and entries it may touch: keeps each call near a few ms. */
export const CALL_LIMIT = 100;
export const CALL_BUDGET = 160;
const MAX_ROUNDS = 32;

export async function claimAll(s: Session, request: ClaimRequest, aheadMs: number): Promise<ClaimResult> {
  const names = [...new Set(request.names)];
  const cursors = new Array<number>(s.shards).fill(Number.NEGATIVE_INFINITY);
  const before = new Map<number, number>();
  const limit = Math.max(0, request.limit);
  /** Every task claimed by this call so far (also by calls whose siblings failed). */
  const taken: ClaimedTask[] = [];
  const claimOn = async (shard: number, n: number) => {
    const reply = await s.run(CLAIM, shard, [request.owner, request.uptoSecond, n, aheadMs, CALL_BUDGET, ...names], true);
    cursors[shard] = Math.max(cursors[shard] as number, Number(reply[0]));
    if (!before.has(shard)) before.set(shard, Number(reply[2]));
    const tasks = toClaimed(reply, 3);
    for (const t of tasks) taken.push(t);
    return { shard, tasks, again: (n > 0 && tasks.length >= n) || Number(reply[1]) === 1 };
  };
  // Several calls to one shard at once: Redis runs them one after the other (one connection),
  // each taking up where the last left off, in one round trip.
  const claimMany = async (shard: number, n: number) => {
    const sizes = Array.from({ length: Math.ceil(n / CALL_LIMIT) }, (_, i) => Math.min(CALL_LIMIT, n - i * CALL_LIMIT));
    const settledParts = await Promise.allSettled(sizes.map((size) => claimOn(shard, size)));
    const failed = settledParts.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const parts = settledParts.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof claimOn>>>).value);
    const tasks = parts.flatMap((p) => p.tasks);
    return { shard, tasks, again: (n > 0 && tasks.length >= n) || parts.some((p) => p.again && p.tasks.length < CALL_LIMIT) };
  };
  // The first round: one call a shard (a tick with nothing due costs one probe per shard).
  const first = limit === 0 ? 0 : Math.min(CALL_LIMIT, Math.max(1, Math.ceil(limit / s.shards)));
  let active = Array.from({ length: s.shards }, (_, shard) => ({ shard, n: first }));
  for (let round = 0; active.length > 0 && round < MAX_ROUNDS; round++) {
    const settled = await Promise.allSettled(active.map(({ shard, n }) => claimMany(shard, n)));
    const results = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // One shard failed (CLUSTERDOWN, a lost connection...): what the others took goes back at
      // once rather than waiting, unknown to the caller, for a put-back of this owner.
      await giveBack(s, request.owner, taken, before).catch(() => undefined);
      throw failed.reason;
    }
    if (limit === 0) break;
    taken.sort(byDue);
    // A shard that filled its share may hold tasks due before some already taken: it claims
    // again, as many as could still make the cut (those before its last task are sure to).
    active = [];
    for (const r of results) {
      if (!r.again) continue;
      const last = r.tasks[r.tasks.length - 1];
      // By due time alone: Redis orders tasks due in the same ms by id as text ("10" < "9"),
      // byDue by number, so comparing ids as well counted some of this shard's own tasks as
      // after its last, and every refill of one shard claimed again and gave back the excess.
      const before = last === undefined ? 0 : taken.filter((t) => t.dueMs <= last.dueMs).length;
      const n = Math.min(CALL_LIMIT * 8, limit - before);
      if (n > 0) active.push({ shard: r.shard, n });
    }
  }
  taken.sort(byDue);
  const kept = taken.slice(0, limit);
  const extra = taken.slice(limit);
  let cursor = Math.min(...cursors);
  if (extra.length > 0) {
    cursor = Math.min(cursor, Math.floor((extra[0] as ClaimedTask).dueMs / 1000) - 1);
    await giveBack(s, request.owner, extra, before);
  }
  return { tasks: kept, cursor };
}

async function giveBack(s: Session, owner: string, tasks: readonly ClaimedTask[], before: Map<number, number>): Promise<void> {
  const byShard = new Map<number, number[]>();
  for (const t of tasks) byShard.set(shardOfId(t.id), [...(byShard.get(shardOfId(t.id)) ?? []), t.id]);
  await Promise.all([...byShard].map(([shard, ids]) => s.run(UNCLAIM, shard, [owner, before.get(shard) ?? 0, ...ids], true)));
}

function byDue(a: ClaimedTask, b: ClaimedTask): number {
  return a.dueMs - b.dueMs || a.id - b.id;
}
