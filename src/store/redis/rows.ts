/**
 * Decoding of script replies and hashes into the contract's rows, and the bit-order
 * conversion of batch bitmaps: Redis numbers bits most significant first within a byte
 * (so GETBIT bd:<batch> i is item i), delayd's bits.ts least significant first.
 */
import { chunkBytes, CHUNK_BITS, type Chunk } from '../../bits.js';
import type { AttemptError, BatchItemRow, BatchRow, ClaimedTask, TaskRow, TaskState, WorkerRow } from '../types.js';

export type Flat = (string | number)[];

export function toMap(flat: readonly unknown[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), String(flat[i + 1]));
  return map;
}

const int = (v: string | undefined): number | null => (v === undefined ? null : Number(v));

export function toTaskRow(id: number, h: Map<string, string>): TaskRow {
  const dueMs = Number(h.get('d'));
  return {
    id,
    name: h.get('n') as string,
    args: h.get('a') as string,
    dueMs,
    attempts: int(h.get('t')) ?? 0,
    cutOffs: int(h.get('x')) ?? 0,
    retries: int(h.get('r')),
    backoffMs: int(h.get('b')),
    timeoutMs: int(h.get('o')),
    state: (h.get('s') ?? 'scheduled') as TaskState,
    key: h.get('k') ?? null,
    owner: h.get('w') ?? null,
    createdMs: Number(h.get('c')),
    startedMs: int(h.get('sa')),
    finishedMs: int(h.get('f')),
    lastError: h.get('le') ?? null,
    lastErrorCode: h.get('lc') ?? null,
    errors: h.has('er') ? (JSON.parse(h.get('er') as string) as AttemptError[]) : [],
    result: h.get('rs') ?? null,
  };
}

/** The claim reply's tasks: 5 values each from `from` on (scripts/claim.ts): id, name, args, due, the rest. */
export function toClaimed(reply: readonly unknown[], from: number): ClaimedTask[] {
  const tasks: ClaimedTask[] = [];
  for (let i = from; i + 4 < reply.length; i += 5) {
    const task: ClaimedTask = {
      id: Number(reply[i]),
      name: String(reply[i + 1]),
      args: String(reply[i + 2]),
      dueMs: Number(reply[i + 3]),
      attempts: 0,
      cutOffs: 0,
      retries: null,
      backoffMs: null,
      timeoutMs: null,
      key: null,
    };
    const rest = String(reply[i + 4]);
    if (rest !== '') withRest(task, rest);
    tasks.push(task);
  }
  return tasks;
}

/** "attempts,cutOffs,retries,backoff,timeout," then '' or 'v' + key (the key may hold commas). */
function withRest(task: ClaimedTask, rest: string): void {
  const parts: string[] = [];
  let at = 0;
  for (let k = 0; k < 5; k++) {
    const comma = rest.indexOf(',', at);
    parts.push(rest.slice(at, comma));
    at = comma + 1;
  }
  const opt = (v: string | undefined) => (v === '' || v === undefined ? null : Number(v));
  task.attempts = opt(parts[0]) ?? 0;
  task.cutOffs = opt(parts[1]) ?? 0;
  task.retries = opt(parts[2]);
  task.backoffMs = opt(parts[3]);
  task.timeoutMs = opt(parts[4]);
  task.key = at < rest.length ? rest.slice(at + 1) : null;
}

export function toWorkerRow(owner: string, json: string): WorkerRow {
  const w = JSON.parse(json) as Omit<WorkerRow, 'owner'>;
  return { owner, host: w.host, pid: w.pid, names: w.names, policies: w.policies, startedMs: w.startedMs, beat: w.beat, seenMs: w.seenMs };
}

export function toBatchRow(id: number, h: Map<string, string>): BatchRow {
  return {
    id,
    name: h.get('n') as string,
    total: Number(h.get('tt')),
    done: Number(h.get('dn')),
    ok: Number(h.get('ok')),
    key: h.get('k') ?? null,
    reduceName: h.get('rn') ?? null,
    reduceTaskId: int(h.get('ri')),
    createdMs: Number(h.get('c')),
    finishedMs: int(h.get('f')),
  };
}

export function toBatchItems(reply: readonly unknown[]): BatchItemRow[] {
  const untag = (v: unknown) => (v === '' ? null : String(v).slice(1));
  const rows: BatchItemRow[] = [];
  for (let i = 0; i + 5 < reply.length; i += 6) {
    rows.push({
      index: Number(reply[i]),
      taskId: Number(reply[i + 1]),
      state: String(reply[i + 2]) as TaskState,
      result: untag(reply[i + 3]),
      lastError: untag(reply[i + 4]),
      lastErrorCode: untag(reply[i + 5]),
    });
  }
  return rows;
}

const REVERSED = Uint8Array.from({ length: 256 }, (_, n) => {
  let r = 0;
  for (let b = 0; b < 8; b++) if (n & (1 << b)) r |= 0x80 >> b;
  return r;
});

/** One chunk of a batch from the bytes Redis holds for it (possibly short: missing bytes are 0). */
export function toChunk(chunk: number, total: number, done: Buffer, ok: Buffer): Chunk {
  const size = chunkBytes(total, chunk);
  const convert = (raw: Buffer) => {
    const out = new Uint8Array(size);
    for (let i = 0; i < size && i < raw.length; i++) out[i] = REVERSED[raw[i] as number] as number;
    return out;
  };
  return { chunk, done: convert(done), ok: convert(ok) };
}

export const CHUNK_BYTES = CHUNK_BITS / 8;
