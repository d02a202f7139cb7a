/**
 * `delayd batch ID`: a batch's counts, its reduce, and its succeeded and failed items, read
 * from the bitmaps through the same Batch handle the library gives (so it answers after the
 * item rows are purged). `--item N` answers for one item; `--watch` polls until every item is
 * done and the reduce has run, with a progress bar on stderr when stderr is a terminal.
 */
import cliProgress from 'cli-progress';
import { Batch } from '../../batch.js';
import { DelaydError, describe } from '../../errors.js';
import type { Store } from '../../store/types.js';
import { defineCommand, JSON_OPTION, printJson, type CommandContext, type Io } from '../context.js';
import { relativeTime } from '../lib/duration.js';
import { toStoreTarget, toTaskId, type CommonArgv, type StoreTarget } from '../lib/argv.js';
import { openStore, READ_ONLY } from '../lib/open-store.js';
import { iso } from '../lib/present.js';
import { formatFields, truncate } from '../lib/table.js';

export interface BatchArgv extends CommonArgv {
  id?: string;
  item?: string;
  watch?: boolean;
}

const POLL_MS = 500;

export function batchCommand(ctx: CommandContext) {
  const { io } = ctx;
  return defineCommand<BatchArgv>({
    command: 'batch <id>',
    describe: "A batch's progress, reduce, and succeeded and failed items (from its status bitmaps)",
    builder: (y) =>
      y
        .positional('id', { type: 'string', describe: 'The batch id (map() returns it as batch.id)' })
        .option('item', { type: 'string', requiresArg: true, describe: 'Only whether item N (its index in the list given to map) succeeded' })
        .option('watch', { type: 'boolean', describe: 'Poll until every item is done and the reduce has run; a progress bar on a terminal' })
        .option('json', JSON_OPTION)
        .example('$0 batch 7', 'Counts, the reduce task, and the indices of the failed and succeeded items')
        .example('$0 batch 7 --item 511', 'succeeded, failed or pending')
        .example('$0 batch 7 --watch', 'A live progress bar until the batch and its reduce are done')
        .example('$0 batch 7 --json', 'One JSON object, with the full lists of item indices'),
    handler: (argv) =>
      ctx
        .run(async () => {
          const id = toBatchId(argv.id);
          const item = argv.item === undefined ? undefined : toItemIndex(argv.item);
          await showBatch(toStoreTarget(argv, io.env), { id, item, watch: argv.watch === true, json: argv.json === true }, io);
        })
        .then(() => {}),
  });
}

export async function showBatch(target: StoreTarget, request: { id: number; item?: number; watch: boolean; json: boolean }, io: Io): Promise<void> {
  const store = openStore(target, READ_ONLY);
  try {
    const batch = new Batch(store, request.id);
    await batch.info(); // E_NOT_FOUND before anything is drawn
    if (request.watch) await watch(batch, store, io);
    if (request.item !== undefined) {
      const status = await batch.status(request.item);
      if (request.json) printJson(io, { batch: request.id, item: request.item, status });
      else io.stdout.write(`${status}\n`);
      return;
    }
    if (request.json) printJson(io, await batchJson(batch, store));
    else io.stdout.write(await batchText(batch, store, io.clock.now()));
  } finally {
    await store.close();
  }
}

export async function batchJson(batch: Batch, store: Store) {
  const row = await batch.info();
  const progress = await batch.progress();
  return {
    id: row.id,
    name: row.name,
    total: progress.total,
    succeeded: progress.succeeded,
    failed: progress.failed,
    pending: progress.pending,
    complete: progress.complete,
    key: row.key,
    created: iso(row.createdMs),
    finished: row.finishedMs === null ? null : iso(row.finishedMs),
    reduce: await reduceOf(row.reduceName, row.reduceTaskId, store),
    succeededItems: await batch.succeeded(),
    failedItems: await batch.failed(),
  };
}

export async function batchText(batch: Batch, store: Store, nowMs: number): Promise<string> {
  const row = await batch.info();
  const p = await batch.progress();
  const done = p.total === 0 ? 100 : Math.floor(((p.succeeded + p.failed) / p.total) * 100);
  const reduce = await reduceOf(row.reduceName, row.reduceTaskId, store);
  const [failed, succeeded] = [await batch.failed(), await batch.succeeded()];
  const list = (indices: number[]) => (indices.length === 0 ? 'none' : `${truncate(indices.join(', '), 100)} (${indices.length})`);
  return formatFields([
    ['batch', `${row.id} (${row.name})${row.key === null ? '' : `, key ${row.key}`}`],
    ['items', `${p.total}: ${p.succeeded} succeeded, ${p.failed} failed, ${p.pending} pending (${done}% done)`],
    ['created', `${iso(row.createdMs)} (${relativeTime(row.createdMs, nowMs)})`],
    ['finished', row.finishedMs === null ? null : `${iso(row.finishedMs)} (${relativeTime(row.finishedMs, nowMs)})`],
    ['reduce', reduce === null ? 'none' : `${reduce.name}, ${reduce.taskId === null ? 'not yet scheduled' : `task ${reduce.taskId}: ${reduce.state ?? 'purged'}`}`],
    ['failed', list(failed)],
    ['succeeded', list(succeeded)],
  ]);
}

async function reduceOf(name: string | null, taskId: number | null, store: Store) {
  if (name === null) return null;
  return { name, taskId, state: taskId === null ? null : ((await store.get(taskId))?.state ?? null) };
}

/** Until every item is done and the reduce (if any) has finished; a bar only on a terminal. */
async function watch(batch: Batch, store: Store, io: Io): Promise<void> {
  const bar = io.stderr.isTTY
    ? new cliProgress.SingleBar(
        { stream: io.stderr, format: 'batch |{bar}| {percentage}% | {succeeded} ok, {failed} failed, {pending} pending | {reduce}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const total = (await batch.progress()).total;
  bar?.start(Math.max(total, 1), 0, { succeeded: 0, failed: 0, pending: total, reduce: '' });
  try {
    for (;;) {
      const p = await batch.progress();
      const row = await batch.info();
      const reduce = await reduceOf(row.reduceName, row.reduceTaskId, store);
      const reduceDone = reduce === null || reduce.state === 'succeeded' || reduce.state === 'failed' || reduce.state === 'cancelled';
      const label = reduce === null ? '' : `reduce ${reduce.taskId === null ? 'waiting' : (reduce.state ?? 'done')}`;
      bar?.update(total === 0 ? 1 : p.succeeded + p.failed, { succeeded: p.succeeded, failed: p.failed, pending: p.pending, reduce: label });
      if (p.complete && reduceDone) return;
      await new Promise((resolve) => io.clock.setTimeout(() => resolve(undefined), POLL_MS));
    }
  } finally {
    bar?.stop();
  }
}

function toBatchId(raw: unknown): number {
  try {
    return toTaskId(raw);
  } catch {
    throw new DelaydError('E_BAD_OPTION', `Expected a batch ID (a positive integer), got ${describe(raw)}`);
  }
}

function toItemIndex(raw: string): number {
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new DelaydError('E_BAD_OPTION', `Expected \`--item\` to be an item index (an integer >= 0), got ${describe(raw)}`);
  }
  return Number(raw);
}
