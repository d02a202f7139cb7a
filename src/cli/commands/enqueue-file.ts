/**
 * `delayd enqueue`: writes straight to the database (no daemon needs to be up), then warns
 * about task names that no live daemon serves. Input is validated before the database is
 * opened, so bad input neither changes nor creates a database.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { DEFAULTS } from '../config.js';
import { DelaydError } from '../errors.js';
import { openStore } from '../store/factory.js';
import type { Store } from '../store/types.js';
import { buildNewTask, checkName } from '../validate.js';
import { enqueueLines } from './enqueue-lines.js';
import { printJson, warn, type Io } from './io.js';
import { LineReader } from './lines.js';
import { withStore } from './open-store.js';
import { withFlagNames, type EnqueueOne, type StoreTarget } from './options.js';
import { iso } from './present.js';
import { startProgress } from './progress.js';
import { processLiveContext, unservedWarning } from './serving.js';

const READ_BYTES = 1 << 20;
/** A line may carry the largest args and 64 KiB of the rest; longer ones are refused unread. */
export const MAX_LINE_BYTES = DEFAULTS.maxArgsBytes + 65_536;

export function enqueueOne(task: EnqueueOne, target: StoreTarget, json: boolean, io: Io): void {
  const nowMs = io.clock.now();
  const name = checkName(task.name);
  const row = withFlagNames(() => buildNewTask({ name, args: task.args, when: task.when, nowMs, maxArgsBytes: DEFAULTS.maxArgsBytes }));
  withStore(target, { mustExist: false }, (store) => {
    const [inserted] = store.insert([row]);
    if (!inserted) throw new DelaydError('E_DB', 'The store inserted nothing');
    if (json) printJson(io, { id: inserted.id, name, due: iso(inserted.dueMs), created: inserted.created });
    else io.stdout.write(`${inserted.id}\n`);
    if (!inserted.created) warn(io, `an unfinished task with key "${row.key}" already exists (id ${inserted.id}); nothing new was enqueued`);
    warnUnserved(store, [name], io);
  });
}

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
    if (store && result.names.size > 0) warnUnserved(store, result.names, io);
  } finally {
    progress.stop();
    store?.close();
    await input.close();
  }
}

function warnUnserved(store: Store, names: Iterable<string>, io: Io): void {
  const message = unservedWarning(names, store.workers(), processLiveContext(io.clock.now()));
  if (message) warn(io, message);
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
