/** `delayd cancel`, `retry`, `reschedule` and `purge`. */
import { cancel, purge, reschedule, retry } from '../manage.js';
import { rescheduleShapeProblem, toPurgeAgeMs, toReschedule, toStoreTarget, toTaskId, type CommonArgv, type RescheduleArgv } from '../options.js';
import { defineCommand, JSON_OPTION, type CommandContext } from './define.js';

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
          reschedule(id, when, change(argv));
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
