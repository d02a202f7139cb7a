/**
 * Pure bit math of a batch's status bitmaps. Item i of a batch lives in chunk
 * floor(i / CHUNK_BITS), at bit (i % CHUNK_BITS) of it: byte >> 3, least significant bit
 * first. A chunk's blobs are CHUNK_BITS / 8 bytes, except the last chunk of a batch, which is
 * only as long as its items need. Two bitmaps give three states per item:
 *   done=0          pending (not yet run to a final outcome)
 *   done=1, ok=1    succeeded
 *   done=1, ok=0    failed (retries used up, or cancelled)
 */
export const CHUNK_BITS = 4096;

export type ItemStatus = 'pending' | 'succeeded' | 'failed';

export interface Chunk {
  chunk: number;
  done: Uint8Array;
  ok: Uint8Array;
}

export function chunkOf(index: number): number {
  return Math.floor(index / CHUNK_BITS);
}

/** Bytes of chunk `chunk` of a batch of `total` items. */
export function chunkBytes(total: number, chunk: number): number {
  const items = Math.min(CHUNK_BITS, total - chunk * CHUNK_BITS);
  return Math.max(0, Math.ceil(items / 8));
}

export function getBit(bytes: Uint8Array, bit: number): boolean {
  return ((bytes[bit >> 3] ?? 0) & (1 << (bit & 7))) !== 0;
}

/** Sets or clears one bit; true when that changed it. */
export function putBit(bytes: Uint8Array, bit: number, value: boolean): boolean {
  const i = bit >> 3;
  const mask = 1 << (bit & 7);
  const before = bytes[i] ?? 0;
  const after = value ? before | mask : before & ~mask;
  bytes[i] = after;
  return after !== before;
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, n) => {
  let count = 0;
  for (let v = n; v !== 0; v &= v - 1) count++;
  return count;
});

export function popcount(bytes: Uint8Array): number {
  let count = 0;
  for (const byte of bytes) count += POPCOUNT[byte] as number;
  return count;
}

export function statusIn(chunk: Chunk | undefined, index: number): ItemStatus {
  if (!chunk) return 'pending';
  const bit = index % CHUNK_BITS;
  if (!getBit(chunk.done, bit)) return 'pending';
  return getBit(chunk.ok, bit) ? 'succeeded' : 'failed';
}

/** Item indices with `status`, in order, over chunks sorted by number (missing ones are all pending). */
export function indicesWith(chunks: readonly Chunk[], total: number, status: ItemStatus): number[] {
  const out: number[] = [];
  const byNumber = new Map(chunks.map((c) => [c.chunk, c]));
  const chunkCount = Math.ceil(total / CHUNK_BITS);
  for (let c = 0; c < chunkCount; c++) {
    const chunk = byNumber.get(c);
    const base = c * CHUNK_BITS;
    const bytes = chunkBytes(total, c);
    for (let i = 0; i < bytes; i++) {
      const done = chunk?.done[i] ?? 0;
      const ok = chunk?.ok[i] ?? 0;
      let word = status === 'succeeded' ? done & ok : status === 'failed' ? done & ~ok : ~done;
      word &= 0xff;
      for (; word !== 0; word &= word - 1) {
        const index = base + i * 8 + (31 - Math.clz32(word & -word));
        if (index < total) out.push(index);
      }
    }
  }
  return out;
}
