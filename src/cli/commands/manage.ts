/**
 * `delayd cancel`, `retry`, `reschedule` and `purge`: each one store call, one transaction,
 * on a database that must exist. A running daemon sees the change at its next tick, since its
 * claims reach every scheduled row at or before the cursor.
 */
import { DelaydError } from '../../errors.js';
import type { Store, TaskRow } from '../../store/types.js';
import { checkDelayOptions, dueMsOf, type DelayOptions } from '../../validate.js';
import { defineCommand, JSON_OPTION, printJson, type CommandContext, type Io } from '../context.js';
import { notA, numberFlag, toStoreTarget, toTaskId, withFlagNames, type CommonArgv, type StoreTarget } from '../lib/argv.js';
import { formatDuration, parseDuration } from '../lib/duration.js';
import { withStore } from '../lib/open-store.js';
import { iso, taskJson } from '../lib/present.js';
import { liveServed } from '../lib/serving.js';

export function manageCommands(ctx: CommandContext) {
  const { io } = ctx;
  const change = (argv: CommonArgv) => ({ target: toStoreTarget(argv, io.env), json: argv.json === true, io });
  return [
    defineCommand<CommonArgv & { id?: string }>({
      command: 'cancel <id>',
      describe: 'Cancel a scheduled task',
      builder: (y) => y.positional('id', { type: 'string', describe: 'The task id' }).option('json', JSON_OPTION).example('$0 cancel 42', 'Task 42 will not run'),
      handler: (argv) => ctx.run(() => cancel(toTaskId(argv.id), change(argv))).then(() => {}),
    }),
    defineCommand<CommonArgv & { id?: string }>({
      command: 'retry <id>',
      describe: 'Send a failed task back to scheduled, due now, with one more attempt',
      builder: (y) => y.positional('id', { type: 'string', describe: 'The task id' }).option('json', JSON_OPTION).example('$0 retry 42', 'Run failed task 42 again'),
      handler: (argv) => ctx.run(() => retry(toTaskId(argv.id), change(argv))).then(() => {}),
    }),
    defineCommand<RescheduleArgv>({
      command: 'reschedule <id>',
      describe: 'Move a scheduled task to a new time',
      builder: (y) =>
        y
          .positional('id', { type: 'string', describe: 'The task id' })
          .option('countdown', { type: 'string', requiresArg: true, describe: 'Due in this many seconds from now' })
          .option('eta', { type: 'string', requiresArg: true, describe: 'Due at this ISO 8601 time' })
          .option('json', JSON_OPTION)
          .conflicts('countdown', 'eta')
          .check((argv) => rescheduleShapeProblem(argv as RescheduleArgv) ?? true)
          .example('$0 reschedule 42 --countdown 300', 'Task 42 runs in five minutes')
          .example('$0 reschedule 42 --eta 2030-01-01T09:00:00Z', 'Task 42 runs at a fixed time'),
      handler: (argv) =>
        ctx.run(() => {
          const { id, when } = toReschedule(argv);
          return reschedule(id, when, change(argv));
        }).then(() => {}),
    }),
    defineCommand<CommonArgv & { olderThan?: string }>({
      command: 'purge',
      describe: 'Delete finished tasks (succeeded, failed, cancelled) older than a duration',
      builder: (y) =>
        y
          .option('older-than', {
            type: 'string',
            requiresArg: true,
            demandOption: 'Say how old: --older-than 7d (units ms, s, m, h, d, w)',
            describe: 'Finished more than this long ago: 30m, 12h, 7d, 1h30m',
          })
          .option('json', JSON_OPTION)
          .example('$0 purge --older-than 7d', 'Delete tasks that finished over a week ago'),
      handler: (argv) => ctx.run(() => purge(toPurgeAgeMs(argv), change(argv))).then(() => {}),
    }),
  ];
}

export interface RescheduleArgv extends CommonArgv {
  id?: string;
  countdown?: string;
  eta?: string;
}

/** Checked by the parser: exactly one of --countdown and --eta. */
export function rescheduleShapeProblem(argv: RescheduleArgv): string | undefined {
  return argv.countdown === undefined && argv.eta === undefined ? 'Give --countdown SECONDS or --eta ISO_TIME' : undefined;
}

export function toReschedule(argv: RescheduleArgv): { id: number; when: DelayOptions } {
  const id = toTaskId(argv.id);
  const problem = rescheduleShapeProblem(argv);
  if (problem) throw new DelaydError('E_BAD_OPTION', problem);
  if (argv.countdown !== undefined) return { id, when: { countdown: numberFlag('--countdown', argv.countdown) } };
  return { id, when: { eta: argv.eta } };
}

/** `--older-than 7d`: milliseconds of age. */
export function toPurgeAgeMs(argv: { olderThan?: string }): number {
  const ms = parseDuration(argv.olderThan, '--older-than');
  // Further back than a Date reaches would fail to print after the purge was committed.
  if (ms > MAX_AGE_MS) throw notA('--older-than', `a duration of at most ${MAX_AGE_MS / 86_400_000}d`, argv.olderThan);
  return ms;
}

/** Every task finished after 1970: older-than beyond this changes nothing, so it is refused as a typo. */
const MAX_AGE_MS = 100_000 * 86_400_000;

interface Change {
  target: StoreTarget;
  json: boolean;
  io: Io;
}

export async function cancel(id: number, c: Change): Promise<void> {
  await change(c, (store) => store.cancel(id, c.io.clock.now()), (row) => `cancelled task ${row.id} (${row.name})`);
}

export async function retry(id: number, c: Change): Promise<void> {
  await change(c, (store) => store.retry(id, c.io.clock.now()), (row) => `task ${row.id} (${row.name}) is scheduled again, due now`);
}

export async function reschedule(id: number, when: DelayOptions, c: Change): Promise<void> {
  // Validated before the database is opened: a bad --eta changes nothing.
  const dueMs = withFlagNames(() => dueMsOf(checkDelayOptions(when), c.io.clock.now()));
  await change(c, (store) => store.reschedule(id, dueMs), (row) => `task ${row.id} (${row.name}) is now due at ${iso(row.dueMs)}`);
}

export async function purge(olderThanMs: number, c: Change): Promise<void> {
  const beforeMs = c.io.clock.now() - olderThanMs;
  const purged = await withStore(c.target, { mustExist: true }, (store) => store.purge(beforeMs));
  if (c.json) printJson(c.io, { purged, finishedBefore: iso(beforeMs) });
  else c.io.stdout.write(`purged ${purged} finished tasks older than ${formatDuration(olderThanMs)} (finished before ${iso(beforeMs)})\n`);
}

async function change(c: Change, apply: (store: Store) => Promise<TaskRow>, describe: (row: TaskRow) => string): Promise<void> {
  await withStore(c.target, { mustExist: true }, async (store) => {
    // Read before the change: nothing that could fail runs after it is committed.
    const served = c.json ? await liveServed(store, c.io) : undefined;
    const row = await apply(store);
    if (served) printJson(c.io, taskJson(row, served));
    else c.io.stdout.write(`${describe(row)}\n`);
  });
}
