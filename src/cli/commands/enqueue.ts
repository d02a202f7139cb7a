/** `delayd enqueue`: one task from flags, or many from JSON Lines. */
import { enqueueFile, enqueueOne } from '../enqueue.js';
import { enqueueShapeProblem, toEnqueueRequest, toStoreTarget, type EnqueueArgv } from '../options.js';
import { defineCommand, JSON_OPTION, type CommandContext } from './define.js';

export function enqueueCommand(ctx: CommandContext) {
  return defineCommand<EnqueueArgv>({
    command: 'enqueue [name]',
    describe: 'Schedule a task (or a JSON Lines file of them) and print its id; no daemon needs to run',
    builder: (y) =>
      y
        .positional('name', { type: 'string', describe: 'The task name, as registered with task()' })
        .option('args', { type: 'string', requiresArg: true, describe: 'The handler arguments as a JSON array [default: []]' })
        .option('countdown', { type: 'string', requiresArg: true, describe: 'Run in this many seconds [default: 0]' })
        .option('eta', { type: 'string', requiresArg: true, describe: 'Run at this ISO 8601 time' })
        .option('key', { type: 'string', requiresArg: true, describe: 'Idempotency key: while a task with it is unfinished, no new one is made' })
        .option('retries', { type: 'string', requiresArg: true, describe: 'Attempts after the first before the task fails [default: 0]' })
        .option('backoff', { type: 'string', requiresArg: true, describe: 'Seconds before the first retry; doubles each time [default: 1]' })
        .option('timeout', { type: 'string', requiresArg: true, describe: 'Seconds one attempt may run' })
        .option('file', { type: 'string', requiresArg: true, describe: 'Enqueue JSON Lines from FILE (- for stdin), 10,000 per transaction' })
        .option('json', JSON_OPTION)
        .conflicts('countdown', 'eta')
        .check((argv) => enqueueShapeProblem(argv as EnqueueArgv) ?? true)
        .example(`$0 enqueue send_email --args '["ann@example.com", "hello"]' --countdown 60`, 'Run send_email in a minute')
        .example('$0 enqueue report --eta 2030-01-01T09:00:00Z --key report-2030-01-01', 'Run once at a fixed time')
        .example('$0 enqueue --file tasks.jsonl', 'Lines like {"name": "test", "args": [1], "countdown": 5}')
        .example('generate-tasks | $0 enqueue --file -', 'Read the lines from stdin'),
    handler: async (argv) => {
      await ctx.run(async () => {
        const request = toEnqueueRequest(argv);
        const target = toStoreTarget(argv, ctx.io.env);
        if (request.kind === 'one') enqueueOne(request.task, target, argv.json === true, ctx.io);
        else await enqueueFile(request.file, target, argv.json === true, ctx.io);
      });
    },
  });
}
