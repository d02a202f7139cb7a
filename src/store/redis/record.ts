/**
 * record() over shards: the outcomes grouped by their task's shard, the shards concurrently,
 * each shard's outcomes in order in RECORD calls of at most RECORD_CHUNK (Redis runs one script
 * at a time: a group commit of a whole dispatch round in one call took 50-130 ms in a catch-up).
 * Each call is atomic; a call refused part-way leaves the earlier chunks applied, which the
 * fence makes harmless to send again (they are refused, not applied twice).
 */
const RECORD_CHUNK = 100;
import type { Outcome, RecordResult } from '../types.js';
import { shardOfId } from './keys.js';
import type { Arg } from './link.js';
import { RECORD } from './scripts/record.js';
import type { Session } from './session.js';
import { tag } from './values.js';

export async function recordAll(s: Session, outcomes: readonly Outcome[]): Promise<RecordResult> {
  const byShard = new Map<number, number[]>();
  outcomes.forEach((o, i) => {
    const shard = shardOfId(o.id);
    const list = byShard.get(shard);
    if (list) list.push(i);
    else byShard.set(shard, [i]);
  });
  const applied = new Array<boolean>(outcomes.length).fill(false);
  let earliestDueMs: number | null = null;
  await Promise.all(
    [...byShard].map(async ([shard, all]) => {
      if (shard >= s.shards) return;
      for (let from = 0; from < all.length; from += RECORD_CHUNK) {
        const to = Math.min(all.length, from + RECORD_CHUNK);
        const args: Arg[] = [to - from];
        let owner: string | undefined;
        for (let k = from; k < to; k++) {
          const o = outcomes[all[k] as number] as Outcome;
          if (o.owner !== owner) args.push('w', (owner = o.owner));
          encodeOutcome(o, args);
        }
        const reply = await s.run(RECORD, shard, args, true);
        const due = Number(reply[0]);
        if (due >= 0 && (earliestDueMs === null || due < earliestDueMs)) earliestDueMs = due;
        const flags = String(reply[1]);
        for (let k = from; k < to; k++) applied[all[k] as number] = flags.charCodeAt(k - from) === 49; // '1'
      }
    }),
  );
  return { applied, earliestDueMs };
}

/** Appends one outcome in the script's encoding (scripts/record.ts). */
function encodeOutcome(o: Outcome, args: Arg[]): void {
  switch (o.kind) {
    case 'started': {
      const x = o.next;
      if (x === undefined) args.push('s', o.id, o.attempt, o.atMs);
      else args.push('sn', o.id, o.attempt, o.atMs, JSON.stringify({ n: x.name, a: x.args, d: x.dueMs, c: x.createdMs, k: x.key, r: x.retries, b: x.backoffMs, o: x.timeoutMs }));
      return;
    }
    case 'succeeded':
      if (o.result === null) args.push('ok', o.id, o.attempt, o.atMs);
      else args.push('okr', o.id, o.attempt, o.atMs, o.result);
      return;
    case 'failed':
    case 'retry': {
      const e = o.error;
      const json = JSON.stringify({ attempt: o.attempt, atMs: o.atMs, code: e.code, message: e.message, stack: e.stack, error: e.stack });
      if (o.kind === 'failed') args.push('f', o.id, o.attempt, o.atMs, json, e.stack, tag(e.code));
      else args.push('r', o.id, o.attempt, o.atMs, o.dueMs, json, e.stack, tag(e.code));
      return;
    }
  }
}
