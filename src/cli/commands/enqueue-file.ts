/**
 * `delayd enqueue --file FILE` (- for stdin): JSON Lines read by LineReader, turned into
 * tasks by enqueueLines in large transactions, written straight to the database (no daemon
 * needs to be up), then a warning about task names that no live daemon serves.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { DEFAULTS } from '../../config.js';
import { DelaydError } from '../../errors.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { printJson, type Io } from '../context.js';
import type { StoreTarget } from '../lib/argv.js';
import { enqueueLines } from '../lib/enqueue-lines.js';
import { LineReader } from '../lib/lines.js';
import { startProgress } from '../lib/progress.js';
import { warnUnserved } from '../lib/serving.js';

const READ_BYTES = 1 << 20;
/** A line may carry the largest args and 64 KiB of the rest; longer ones are refused unread. */
export const MAX_LINE_BYTES = DEFAULTS.maxArgsBytes + 65_536;

export async function enqueueFile(file: string, target: StoreTarget, json: boolean, io: Io): Promise<void> {
  const input = await openInput(file, io);
  // Opened on the first full batch, so input that is bad from line 1 creates no database.
  let store: Store | undefined;
  const progress = startProgress(io, input.size);
  const lines = new LineReader(input.stream as AsyncIterable<Buffer | string>, { maxLineBytes: MAX_LINE_BYTES });
  try {
    const result = await enqueueLines({
      lines,
      insert: (rows) => {
        store ??= openStore({ db: target.db, busyTimeoutMs: target.busyTimeoutMs });
        return store.insert(rows);
      },
      now: () => io.clock.now(),
      setTimer: (fn, ms) => {
        const handle = io.clock.setTimeout(fn, ms);
        return { clear: () => io.clock.clearTimeout(handle) };
      },
      onProgress: (r) => progress.update(lines.bytes, r.enqueued + r.deduplicated),
    });
    progress.stop();
    const summary = { lines: result.lines, enqueued: result.enqueued, deduplicated: result.deduplicated, batches: result.batches };
    if (json) printJson(io, summary);
    else io.stdout.write(`enqueued ${result.enqueued} tasks from ${result.lines} lines in ${result.batches} transactions; ${result.deduplicated} deduplicated by key\n`);
    if (store && result.names.size > 0) await warnUnserved(store, result.names, io);
  } finally {
    progress.stop();
    await store?.close();
    await input.close();
  }
}

interface Input {
  stream: NodeJS.ReadableStream;
  size: number | undefined;
  close(): Promise<void>;
}

async function openInput(file: string, io: Io): Promise<Input> {
  if (file === '-') return { stream: io.stdin, size: undefined, close: async () => {} };
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new DelaydError('E_BAD_OPTION', `Expected \`--file\` to name a readable JSON Lines file, got ${JSON.stringify(file)}: ${why}`);
  }
  const stat = await handle.stat();
  if (stat.isDirectory()) {
    await handle.close();
    throw new DelaydError('E_BAD_OPTION', `Expected \`--file\` to name a readable JSON Lines file, got ${JSON.stringify(file)}: a directory`);
  }
  // Reads of 1 MiB rather than the default 64 KiB: with small reads the parser kept waiting
  // for the next one (about 5% of an enqueue of 200,000 lines).
  const stream = handle.createReadStream({ autoClose: false, highWaterMark: READ_BYTES });
  // A pipe (`--file <(generate)`) has no size, so no progress bar.
  return { stream, size: stat.isFile() ? stat.size : undefined, close: () => handle.close() };
}
