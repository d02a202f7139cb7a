/**
 * Batches on Redis, on their home shard (a keyed batch: crc32(key) % shards; else round robin):
 * a batch whose items fit one short script (insert.ts's fitsOneScript) is one INSERT_BATCH
 * script with a request id like insert; a bigger one is a staged write (stage.ts), all or none
 * too. The bitmaps are read a 4096-item chunk per script call and turned into delayd's bit order.
 */
import type { Chunk } from '../../bits.js';
import type { BatchRow, InsertedBatch, NewBatch, NewTask } from '../types.js';
import { CHUNK_BYTES, toBatchRow, toChunk, toMap } from './rows.js';
import { BATCH_CHUNK, INSERT_BATCH } from './scripts/batches.js';
import { RECENT_BATCHES } from './scripts/reads.js';
import type { Session } from './session.js';
import { fitsOneScript } from './insert.js';
import { stagedBatch } from './stage.js';
import { nul, tag } from './values.js';

export async function insertBatch(
  s: Session, shard: number, batch: NewBatch, items: readonly NewTask[], floor: number, ttlSec: number,
): Promise<{ inserted: InsertedBatch; last: number }> {
  if (!fitsOneScript(items)) return stagedBatch(s, shard, batch, items, floor, ttlSec);
  const r = batch.reduce;
  const args: (string | number)[] = [
    floor, batch.name, tag(batch.key), batch.createdMs, batch.dueMs, r?.name ?? '', nul(r?.retries ?? null),
    nul(r?.backoffMs ?? null), nul(r?.timeoutMs ?? null), items.length,
  ];
  for (const t of items) args.push(t.args, t.dueMs, t.createdMs, nul(t.retries), nul(t.backoffMs), nul(t.timeoutMs));
  const reply = await s.runOnce(INSERT_BATCH, shard, (rq) => [...args, rq, ttlSec]);
  const [id, total, created, last] = reply.map(Number) as [number, number, number, number];
  return { inserted: { id, total, created: created === 1 }, last };
}

export async function batchChunks(s: Session, shard: number, id: number, chunk: number | undefined): Promise<Chunk[]> {
  const read = async (c: number) => (await s.run(BATCH_CHUNK, shard, [id, c], false)).map(String);
  const [total, done, ok, length] = await read(chunk ?? 0);
  if (total === '' || total === undefined) return [];
  const count = Math.ceil(Number(length) / CHUNK_BYTES);
  const first = toChunk(chunk ?? 0, Number(total), Buffer.from(done ?? '', 'hex'), Buffer.from(ok ?? '', 'hex'));
  if (chunk !== undefined) return chunk < count ? [first] : [];
  const rest = await Promise.all(
    Array.from({ length: Math.max(0, count - 1) }, async (_, i) => {
      const [, d, o] = await read(i + 1);
      return toChunk(i + 1, Number(total), Buffer.from(d ?? '', 'hex'), Buffer.from(o ?? '', 'hex'));
    }),
  );
  return count === 0 ? [] : [first, ...rest];
}

export async function recentBatches(s: Session, limit: number): Promise<BatchRow[]> {
  const replies = await Promise.all(s.prefixes.map((_, shard) => s.run(RECENT_BATCHES, shard, [limit], false)));
  const rows: BatchRow[] = [];
  for (const r of replies) {
    for (let i = 0; i < r.length; ) {
      const n = Number(r[i + 1]);
      if (n > 0) rows.push(toBatchRow(Number(r[i]), toMap(r.slice(i + 2, i + 2 + n))));
      i += 2 + n;
    }
  }
  return rows.sort((a, b) => b.id - a.id).slice(0, limit);
}
