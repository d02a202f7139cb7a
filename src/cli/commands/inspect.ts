/** `delayd stats`, `list` and `show`. */
import { TASK_STATES } from '../../store/types.js';
import { list, show, stats } from '../inspect.js';
import { toListFilter, toStoreTarget, toTaskId, type CommonArgv, type ListArgv } from '../options.js';
import { defineCommand, JSON_OPTION, type CommandContext } from './define.js';

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
          .example('$0 stats --json', '{"scheduled": 3, "running": 0, ..., "cursor": ..., "nextDue": ..., "inBuckets": 0, "busiestSlots": [...]}'),
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
