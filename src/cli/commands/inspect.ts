/**
 * `delayd stats`, `list` and `show`: read-only views of the database, opened read-only (so a
 * user who may only read the file can run them); it must exist. Only live daemons count:
 * a worker row left by a crashed daemon is neither shown nor taken as serving its names.
 */
import { DelaydError } from '../../errors.js';
import { TASK_STATES, type ListFilter, type TaskState } from '../../store/types.js';
import { defineCommand, JSON_OPTION, printJson, type CommandContext, type Io } from '../context.js';
import { integerFlag, notA, toStoreTarget, toTaskId, type CommonArgv, type StoreTarget } from '../lib/argv.js';
import { READ_ONLY, withStore } from '../lib/open-store.js';
import { listText, showText, statsJson, statsText, taskJson } from '../lib/present.js';
import { liveServed, liveWorkers, processLiveContext, servedBy } from '../lib/serving.js';

export function inspectCommands(ctx: CommandContext) {
  const { io } = ctx;
  return [
    defineCommand<CommonArgv>({
      command: 'stats',
      describe: 'Counts by state, the cursor, the next due time and the busiest wheel slots',
      builder: (y) =>
        y
          .option('json', JSON_OPTION)
          .example('$0 stats', 'A table of counts and the wheel')
          .example('$0 stats --json', '{"scheduled": 3, "running": 0, ..., "cursor": ..., "nextDue": ..., "backend": "sqlite", "inBuckets": 0, "busiestSlots": [...]}'),
      handler: (argv) => ctx.run(() => stats(toStoreTarget(argv, io.env), argv.json === true, io)).then(() => {}),
    }),
    defineCommand<ListArgv>({
      command: 'list',
      describe: 'Tasks, newest first',
      builder: (y) =>
        y
          .option('state', { type: 'string', requiresArg: true, describe: `Only tasks in this state: ${TASK_STATES.join(', ')}` })
          .option('name', { type: 'string', requiresArg: true, describe: 'Only tasks with this name' })
          .option('limit', { type: 'string', requiresArg: true, describe: 'At most this many [default: 100]' })
          .option('json', JSON_OPTION)
          .example('$0 list --state failed', 'The failed tasks')
          .example('$0 list --name send_email --limit 10 --json', 'A JSON array of the last 10 send_email tasks'),
      handler: (argv) => ctx.run(() => list(toStoreTarget(argv, io.env), toListFilter(argv), argv.json === true, io)).then(() => {}),
    }),
    defineCommand<CommonArgv & { id?: string }>({
      command: 'show <id>',
      describe: 'One task in full: args, attempts, timestamps, last error, result',
      builder: (y) =>
        y
          .positional('id', { type: 'string', describe: 'The task id' })
          .option('json', JSON_OPTION)
          .example('$0 show 42', 'Task 42 in full')
          .example('$0 show 42 --json', 'The same as one JSON object'),
      handler: (argv) => ctx.run(() => show(toStoreTarget(argv, io.env), toTaskId(argv.id), argv.json === true, io)).then(() => {}),
    }),
  ];
}

export interface ListArgv extends CommonArgv {
  state?: string;
  name?: string;
  limit?: string;
}

export function toListFilter(argv: ListArgv): ListFilter {
  const filter: ListFilter = {};
  if (argv.state !== undefined) {
    if (!(TASK_STATES as readonly string[]).includes(argv.state)) throw notA('--state', `one of ${TASK_STATES.join(', ')}`, argv.state);
    filter.state = argv.state as TaskState;
  }
  if (argv.name !== undefined) filter.name = argv.name;
  if (argv.limit !== undefined) {
    const limit = integerFlag('--limit', argv.limit) as number;
    if (limit < 1) throw notA('--limit', 'an integer >= 1', argv.limit);
    filter.limit = limit;
  }
  return filter;
}

export async function stats(target: StoreTarget, json: boolean, io: Io): Promise<void> {
  await withStore(target, READ_ONLY, async (store) => {
    const s = await store.stats();
    const context = processLiveContext(io.clock.now());
    const workers = await store.workers();
    const live = liveWorkers(workers, context);
    const served = servedBy(workers, context);
    if (json) printJson(io, statsJson(s, live, served));
    else io.stdout.write(statsText(s, live, served, io.clock.now()));
  });
}

export async function list(target: StoreTarget, filter: ListFilter, json: boolean, io: Io): Promise<void> {
  await withStore(target, READ_ONLY, async (store) => {
    const rows = await store.list(filter);
    if (json) {
      const served = await liveServed(store, io);
      printJson(io, rows.map((row) => taskJson(row, served)));
    } else io.stdout.write(listText(rows, io.clock.now()));
  });
}

export async function show(target: StoreTarget, id: number, json: boolean, io: Io): Promise<void> {
  await withStore(target, READ_ONLY, async (store) => {
    const row = await store.get(id);
    if (!row) throw new DelaydError('E_NOT_FOUND', `No task with id ${id}`);
    const served = await liveServed(store, io);
    if (json) printJson(io, taskJson(row, served));
    else io.stdout.write(showText(row, io.clock.now(), served));
  });
}
