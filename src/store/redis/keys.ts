/**
 * Key names. Every key of shard n of queue Q starts with the hash tag `{dq:Q:n}`, so a shard
 * lives in one Redis Cluster hash slot and every script touches one slot; the queue-wide keys
 * (shard count, worker rows) share the tag `{dq:Q}`. Inside a shard (prefix P):
 *
 *   P seq, P bseq            task and batch counters: id = seq * 1024 + n (the shard in the low bits)
 *   P t:<id>                 task hash (fields in scripts/lib.ts)
 *   P w:<slot>               ring: 3600 zsets, member id, score due ms, cycles <= P jc
 *   P h:<cycle>, P hx        hour buckets of later cycles, and the zset of their cycle numbers
 *   P l:<name>               due at or behind the cursor, per name (put-back, late inserts, retries)
 *   P cur, P jc              cursor (last second walked; only moves forward), highest cycle in the ring
 *   P run:<owner>, P ro      ids an owner holds; owners holding any
 *   P k:<key>, P bk:<key>    idempotency keys of unfinished tasks and batches
 *   P cnt, P sn, P sc        counts by final and running state; scheduled by name (their sum is the
 *                            scheduled count); ring tasks per wheel slot
 *   P rn, P ib               tasks in the ring; tasks in buckets
 *   P il:<c>, P ix:<state>   ids for list(): scheduled and running ones in zsets of 128 seqs (c = seq / 128,
 *                            listpack-small), finished ones by state
 *   P fin                    final tasks by finish ms (purge)
 *   P b:<id>, bd:, bo:, bfin batch hash, done and ok bitmaps (Redis bit order), finished batches
 *   P rq:<uuid>              reply of an insert, for a retry of the same request (short TTL)
 *   P cr:<name>, P crs       a cron's record; the cron names of the shard
 *   P hd:<name>              a cron's heads (occurrences with no attempt started), by due ms
 *   P bix                    batch ids, for recentBatches
 */
export const MAX_SHARDS = 1024;

export function queuePrefix(queue: string): string {
  return `{dq:${queue}}:`;
}

export function shardPrefix(queue: string, shard: number): string {
  return `{dq:${queue}:${shard}}:`;
}

export function shardOfId(id: number): number {
  return id % MAX_SHARDS;
}

/** CRC-32 (IEEE) of a key's UTF-8 bytes: the shard of a keyed task is crc32(key) % shards. */
const TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) crc = (TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * A cron occurrence (key `cron:<name>:<dueMs>`) goes to its cron's shard, crc32(`cron:<name>`),
 * so the chain, its record and its heads share one shard: the follower is inserted by the
 * start's script, and a sync is one script.
 */
export function shardOfKey(key: string, shards: number): number {
  const cron = /^(cron:.*):\d+$/s.exec(key);
  return crc32(cron ? (cron[1] as string) : key) % shards;
}

export function shardOfCron(name: string, shards: number): number {
  return crc32(`cron:${name}`) % shards;
}
