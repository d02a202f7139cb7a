/**
 * Staged writes (scripts/stage.ts): a delayMany or map() too big for one short script is put
 * into a stage on its shard in chunks (no read, claim or counter sees a stage), committed by
 * one small script, then published in steps of at most STEP_ITEMS items (steps.ts), each step a script of
 * a millisecond or two, so Redis never stalls its other clients for a big call.
 *
 * All or none: a failure before the commit drops the stage (or upkeep does, after STAGE_TTL_MS);
 * after the commit everything becomes visible, the producer publishing it, or upkeep if the
 * producer died. Between the commit and the last step a reader sees the call's first items
 * (in call order, each one whole: row, index, placement, counters) and not yet the rest; the
 * promise resolves only once all are visible. Every script carries a request id or an index,
 * so a retry after a lost reply writes nothing twice.
 */
import { randomUUID } from 'node:crypto';
import { DelaydError } from '../../errors.js';
import type { Inserted, InsertedBatch, NewBatch, NewTask } from '../types.js';
import { DECISION_ABORT, DECISION_DONE, DECISION_SWEEP } from './scripts/decision.js';
import { STAGE_COMMIT, STAGE_DROP, STAGE_PUT, STAGE_SWEEP } from './scripts/stage.js';
import { STAGE_PUBLISH } from './scripts/stage-publish.js';
import type { Session } from './session.js';
import { chunkEnd, LIVE_SEQS, stepEnd } from './steps.js';
import { nul, tag } from './values.js';

/** A stage whose last step is older than this is judged abandoned (uncommitted: deleted; committed: published). */
export const STAGE_TTL_MS = 5 * 60_000;
/** Items and args bytes per staging chunk (appending to a list: cheap per item). */
const PUT_ITEMS = 250;
const PUT_BYTES = 512 * 1024;
/** Publish steps sent ahead of the replies (at most this many of ours queued in Redis at once). */
const STEP_WINDOW = 2;
/** Staging chunks sent ahead of the replies (each a few hundred µs in Redis). */
const PUT_WINDOW = 4;
/** Stages one upkeep call looks at per shard. */
const SWEEP_LIMIT = 20;

/** A delayMany's tasks bound for one shard, any number: all or none. Ids increase in call order. */
export async function stagedInsert(
  s: Session, shard: number, tasks: readonly NewTask[], floor: number, ttlSec: number,
): Promise<{ inserted: Inserted[]; floor: number }> {
  const sid = randomUUID();
  const put = await putAll(s, shard, sid, tasks, { extra: 0, floor, now: tasks[0]!.createdMs, batchKey: '', decider: '' });
  if ('existing' in put) throw new Error('unreachable: only a batch stage meets a key at open');
  await commit(s, shard, sid, ['t'], ttlSec);
  const dupes = await publishAll(s, shard, sid, tasks, put.fs, ttlSec);
  const inserted = tasks.map((t, i) => dupes.get(i) ?? { id: (put.fs + i) * 1024 + shard, dueMs: t.dueMs, created: true });
  return { inserted, floor: Math.max(floor, put.last) };
}

/** A map() of any size on its home shard: all or none, its key checked at the open and at the commit. */
export async function stagedBatch(
  s: Session, shard: number, batch: NewBatch, items: readonly NewTask[], floor: number, ttlSec: number,
): Promise<{ inserted: InsertedBatch; last: number }> {
  const sid = randomUUID();
  const named = items.map((t) => ({ ...t, name: batch.name, key: null }));
  const put = await putAll(s, shard, sid, named, { extra: 1, floor, now: batch.createdMs, batchKey: tag(batch.key), decider: '' });
  if ('existing' in put) return { inserted: { id: put.existing, total: put.total, created: false }, last: 0 };
  const r = batch.reduce;
  const reply = await commit(s, shard, sid, [
    'b', batch.name, tag(batch.key), batch.createdMs, batch.dueMs, r?.name ?? '', nul(r?.retries ?? null), nul(r?.backoffMs ?? null), nul(r?.timeoutMs ?? null),
  ], ttlSec);
  // undefined: the reply was lost but the stage is committed; the batch id is the stage's first reserved one.
  const [id, total, created] = reply ?? [(put.fs - 1) * 1024 + shard, items.length, 1];
  if (created !== 1) return { inserted: { id: id!, total: total!, created: false }, last: 0 };
  await publishAll(s, shard, sid, named, put.fs, ttlSec);
  return { inserted: { id: id!, total: total!, created: true }, last: put.last };
}

export interface PutOptions {
  /** Ids reserved before the items' (1 for a batch: its own id). */
  extra: number;
  floor: number;
  now: number;
  batchKey: string;
  /** The shard holding the decision of a call over several shards ('' : the stage's own commit decides). */
  decider: number | '';
}

/**
 * Stages every item (a failure drops the stage and rethrows): the first item's seq and the last
 * reserved one. PUT_WINDOW chunks are sent ahead of the replies, in order on the shard's one
 * connection; a chunk that arrives before the one ahead of it (that one lost with a connection
 * and sent again) changes nothing and is sent again once every chunk before it is in.
 */
export async function putAll(
  s: Session, shard: number, sid: string, items: readonly NewTask[], o: PutOptions,
): Promise<{ fs: number; last: number } | { existing: number; total: number }> {
  const { width, common } = layoutOf(items);
  const send = (from: number, to: number) => {
    const head = [sid, from, items.length, o.extra, o.floor, o.now, o.batchKey, o.decider, to - from, width, ...common];
    const p = s.runOnce(STAGE_PUT, shard, () => encode(head, items, from, to, width)).then((r) => r.map(Number));
    p.catch(() => undefined); // awaited in order below; a later chunk's failure must not go unhandled meanwhile
    return { from, to, p };
  };
  const inFlight: ReturnType<typeof send>[] = [];
  let fs = 0;
  let last = 0;
  try {
    for (let next = 0; next < items.length || inFlight.length > 0; ) {
      if (next < items.length && inFlight.length < PUT_WINDOW) {
        const to = chunkEnd(items, next, PUT_ITEMS, PUT_BYTES);
        inFlight.push(send(next, to));
        next = to;
        continue;
      }
      const chunk = inFlight.shift()!;
      let r = await chunk.p;
      if (r[0] === -1) {
        await Promise.allSettled(inFlight.map((c) => c.p)); // they found no stage: nothing written
        return { existing: r[1]!, total: r[2]! };
      }
      if (r[0] === -2) r = await send(chunk.from, chunk.to).p;
      if (r[0]! < 0) throw new DelaydError('E_BAD_STATE', `The staged write ${sid} has ${r[1]} items, expected ${chunk.from} before a chunk`);
      [fs, last] = r as [number, number];
    }
  } catch (error) {
    await Promise.allSettled(inFlight.map((c) => c.p)); // none may land after the drop
    await dropStage(s, shard, sid); // else upkeep drops it after STAGE_TTL_MS
    throw error;
  }
  return { fs, last };
}

/**
 * How the stage holds its items (scripts/stage.ts, sgi): 1 value per item when all share name,
 * created and options and none has a key (those go once, in `common`), 2 when some have a key,
 * else 8. Fewer values: less for Node to encode and for Redis to parse, store and log.
 */
function layoutOf(items: readonly NewTask[]): { width: 1 | 2 | 8; common: (string | number)[] } {
  const f = items[0]!;
  let keyed = false;
  for (const t of items) {
    if (t.name !== f.name || t.createdMs !== f.createdMs || t.retries !== f.retries || t.backoffMs !== f.backoffMs || t.timeoutMs !== f.timeoutMs) {
      return { width: 8, common: ['', '', '', '', ''] };
    }
    keyed ||= t.key !== null;
  }
  return { width: keyed ? 2 : 1, common: [f.name, f.createdMs, nul(f.retries), nul(f.backoffMs), nul(f.timeoutMs)] };
}

/** A chunk's arguments: `head`, then `width` values for each of items[from, to). */
function encode(head: readonly (string | number)[], items: readonly NewTask[], from: number, to: number, width: 1 | 2 | 8): (string | number)[] {
  const out = head.slice();
  for (let i = from; i < to; i++) {
    const t = items[i]!;
    if (width === 8) out.push(t.name, t.args, t.dueMs, t.createdMs, tag(t.key), nul(t.retries), nul(t.backoffMs), nul(t.timeoutMs));
    else if (width === 2) out.push(`${t.dueMs}|${t.args}`, tag(t.key));
    else out.push(`${t.dueMs}|${t.args}`);
  }
  return out;
}

/**
 * The commit's reply, or undefined when it failed but the stage turned out committed (a lost
 * reply). Any other failure drops the stage and rethrows: nothing of the call was written.
 */
async function commit(s: Session, shard: number, sid: string, args: readonly (string | number)[], ttlSec: number): Promise<number[] | undefined> {
  try {
    return (await s.runOnce(STAGE_COMMIT, shard, (rq) => [sid, ...args, rq, ttlSec])).map(Number);
  } catch (error) {
    if ((await dropStage(s, shard, sid)) === 0) return undefined;
    throw error;
  }
}

/** Drops an uncommitted stage, best effort: 1 dropped, 0 committed (kept), -1 gone, undefined when the drop failed (upkeep will). */
export function dropStage(s: Session, shard: number, sid: string): Promise<number | undefined> {
  return s.run(STAGE_DROP, shard, [sid], true).then(Number, () => undefined);
}

/**
 * Publishes a committed stage to the end (`fs`: its first item's seq; `decided`: the stage of a
 * call over several shards, whose decision the caller read committed); the items that met an
 * existing key, by index.
 */
export async function publishAll(
  s: Session, shard: number, sid: string, items: readonly NewTask[], fs: number, ttlSec: number, decided = false,
): Promise<Map<number, Inserted>> {
  const dupes = new Map<number, Inserted>();
  const step = (from: number, count: number) => {
    const p = s.runOnce(STAGE_PUBLISH, shard, (rq) => [sid, from, count, decided ? '1' : '', rq, ttlSec]);
    p.catch(() => undefined); // awaited in order below; a later step's failure must not go unhandled meanwhile
    return p;
  };
  let moved = false;
  try {
    // STEP_WINDOW steps in flight: the next is sent before the last's reply comes, hiding the
    // round trip; each names the published count it expects, so one that finds the stage
    // elsewhere (a step before it failed, upkeep took over) changes nothing and says so.
    const inFlight: Promise<unknown[]>[] = [];
    for (let from = 0; from < items.length || inFlight.length > 0; ) {
      if (from < items.length && inFlight.length < STEP_WINDOW) {
        const to = stepEnd(items, from, fs);
        inFlight.push(step(from, to - from));
        from = to;
        continue;
      }
      const r = (await inFlight.shift()!).map(Number);
      if (r[0]! < 0) moved = true; // -1: gone (all published), -2: not where this step expected it
      else for (let i = 2; i + 2 < r.length; i += 3) dupes.set(r[i]!, { id: r[i + 1]!, dueMs: r[i + 2]!, created: false });
    }
    if (moved) await publishRest(s, shard, sid, ttlSec, decided);
  } catch (error) {
    const e = error as DelaydError;
    throw new DelaydError(
      'E_BACKEND_UNKNOWN_OUTCOME',
      `${e.message} (the call is committed: its first items are visible and the rest will be once any daemon's upkeep publishes them; do not send it again)`,
      { cause: error },
    );
  }
  if (moved) {
    const key = `${s.prefixes[shard]}sr:${sid}`;
    const flat = (await s.command(key, ['HGETALL', key], false)) as string[];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const [id, due] = flat[i + 1]!.split(',').map(Number) as [number, number];
      dupes.set(Number(flat[i]), { id, dueMs: due, created: false });
    }
  }
  return dupes;
}

/**
 * Publishes whatever is left of a committed stage (upkeep, for a producer that died). It does
 * not see the items, so it takes the steps that scattered or keyed ones get (stepEnd).
 */
export async function publishRest(s: Session, shard: number, sid: string, ttlSec: number, decided = false): Promise<void> {
  for (;;) {
    const r = (await s.runOnce(STAGE_PUBLISH, shard, (rq) => [sid, '', LIVE_SEQS / 2, decided ? '1' : '', rq, ttlSec])).map(Number);
    if (r[0] === -1 || r[0] === r[1]) return;
  }
}

/**
 * Upkeep of one shard: stages and decisions whose last step is older than `ttlMs`, SWEEP_LIMIT
 * of each per call. An uncommitted stage is dropped (one of a call over several shards after
 * aborting its decision, unless that was committed: then it is published); a committed one is
 * published; a committed decision has its stages published, then goes. How many it dealt
 * with. A look that finds nothing costs two ZCARDs.
 */
export async function sweepStages(s: Session, shard: number, ttlMs = STAGE_TTL_MS, ttlSec = 30): Promise<number> {
  const p = s.prefixes[shard] as string;
  const [stages, decisions] = await Promise.all(['sgs', 'sds'].map(async (k) => Number(await s.command(`${p}${k}`, ['ZCARD', `${p}${k}`], false))));
  let dealt = 0;
  if (stages! > 0) {
    const r = (await s.run(STAGE_SWEEP, shard, [ttlMs, SWEEP_LIMIT], true)).map(String);
    dealt += Number(r[0]);
    for (let i = 1; i + 1 < r.length; i += 2) {
      const [sid, decider] = [r[i]!, r[i + 1]!];
      dealt++;
      if (decider === '') await publishRest(s, shard, sid, ttlSec);
      else if (Number(await s.run(DECISION_ABORT, Number(decider), [sid], true)) === 1) await dropStage(s, shard, sid);
      else await publishRest(s, shard, sid, ttlSec, true);
    }
  }
  if (decisions! > 0) {
    const r = (await s.run(DECISION_SWEEP, shard, [ttlMs, SWEEP_LIMIT], true)).map(String);
    dealt += Number(r[0]);
    for (let i = 1; i + 1 < r.length; i += 2) {
      const sid = r[i]!;
      for (const other of r[i + 1]!.split(',').map(Number)) {
        const key = `${s.prefixes[other]}sg:${sid}`;
        if (Number(await s.command(key, ['EXISTS', key], false)) === 1) await publishRest(s, other, sid, ttlSec, true);
      }
      await s.run(DECISION_DONE, shard, [sid], true);
      dealt++;
    }
  }
  return dealt;
}
