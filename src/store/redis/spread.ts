/**
 * A delayMany whose tasks fall on several shards (keyed tasks go to their keys' shards), all or
 * none: a Redis Cluster runs no script across hash slots, so the call is a two-phase commit.
 * The decision opens on the call's first shard (scripts/decision.ts); every shard stages its
 * tasks (stage.ts); the decision commits in one small script; then each shard publishes. A
 * failure before the commit aborts the decision and drops the stages (or upkeep does, after
 * STAGE_TTL_MS: a stage whose decision is gone or still open is dropped); after the commit
 * every stage is published, by the producer or by upkeep.
 *
 * Ids: each shard's tasks get ids increasing in call order, all above the ids this process was
 * given before; across shards, a call's ids are not in call order (each shard reserves its own
 * block). Between the commit and the last step a reader may see some shards' tasks (each one
 * whole) and not yet the others'.
 */
import { randomUUID } from 'node:crypto';
import { DelaydError } from '../../errors.js';
import type { Inserted, NewTask } from '../types.js';
import { DECISION_ABORT, DECISION_COMMIT, DECISION_DONE, DECISION_OPEN } from './scripts/decision.js';
import type { Session } from './session.js';
import { dropStage, publishAll, putAll } from './stage.js';

export interface ShardGroup {
  shard: number;
  tasks: NewTask[];
  /** Each task's position in the call. */
  at: number[];
}

export async function spreadInsert(
  s: Session, groups: readonly ShardGroup[], total: number, floor: number, ttlSec: number,
): Promise<{ inserted: Inserted[]; floor: number }> {
  const sid = randomUUID();
  const decider = groups[0]!.shard;
  await s.runOnce(DECISION_OPEN, decider, () => [sid, groups.map((g) => g.shard).join(',')]);
  // Settled, not raced: a stage still being written while the others are dropped would stay.
  const puts = await Promise.allSettled(groups.map((g) => putAll(s, g.shard, sid, g.tasks, { extra: 0, floor, now: g.tasks[0]!.createdMs, batchKey: '', decider })));
  const failed = puts.find((p): p is PromiseRejectedResult => p.status === 'rejected');
  if (failed) {
    await abort(s, groups, sid);
    throw failed.reason;
  }
  await decide(s, groups, sid);
  // A failure from here on says the call is committed and will be finished by upkeep (publishAll).
  const dupes = await Promise.all(groups.map((g, k) => publishAll(s, g.shard, sid, g.tasks, (puts[k] as PromiseFulfilledResult<{ fs: number }>).value.fs, ttlSec, true)));
  await s.run(DECISION_DONE, decider, [sid], true).catch(() => undefined); // else upkeep deletes it
  const inserted = new Array<Inserted>(total);
  let last = floor;
  groups.forEach((g, k) => {
    const put = puts[k] as PromiseFulfilledResult<{ fs: number; last: number }>;
    last = Math.max(last, put.value.last);
    g.tasks.forEach((t, i) => {
      inserted[g.at[i]!] = dupes[k]!.get(i) ?? { id: (put.value.fs + i) * 1024 + g.shard, dueMs: t.dueMs, created: true };
    });
  });
  return { inserted, floor: last };
}

/** Commits the decision, or aborts the call (drops every stage) and throws. */
async function decide(s: Session, groups: readonly ShardGroup[], sid: string): Promise<void> {
  const decider = groups[0]!.shard;
  let committed: boolean;
  try {
    committed = Number(await s.runOnce(DECISION_COMMIT, decider, () => [sid])) === 1;
  } catch (error) {
    // Refused (out of memory) or no reply: abort unless it did commit.
    const aborted = await s.run(DECISION_ABORT, decider, [sid], true).then(Number, () => undefined);
    if (aborted === 0) return;
    if (aborted === 1) await dropAll(s, groups, sid);
    throw error;
  }
  if (committed) return;
  await dropAll(s, groups, sid);
  throw new DelaydError(
    'E_BACKEND_UNAVAILABLE',
    `The staged write ${sid} over ${groups.length} shards was aborted by upkeep before its commit (it took longer than the stage TTL): nothing of it was written`,
  );
}

/** Before our commit: the decision goes (best effort; else upkeep aborts it) and so do the stages. */
async function abort(s: Session, groups: readonly ShardGroup[], sid: string): Promise<void> {
  await s.run(DECISION_ABORT, groups[0]!.shard, [sid], true).catch(() => undefined);
  await dropAll(s, groups, sid);
}

async function dropAll(s: Session, groups: readonly ShardGroup[], sid: string): Promise<void> {
  await Promise.all(groups.map((g) => dropStage(s, g.shard, sid)));
}
