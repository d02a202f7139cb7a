/**
 * `delayd enqueue`: one task from flags, or many from JSON Lines (enqueue-file.ts). Writes
 * straight to the database (no daemon needs to be up), then warns about task names that no
 * live daemon serves. Input is validated before the database is opened, so bad input neither
 * changes nor creates a database.
 */
import { DEFAULTS } from '../../config.js';
import { DelaydError, describe } from '../../errors.js';
import { buildNewTask, checkName, type DelayOptions } from '../../validate.js';
import { defineCommand, JSON_OPTION, printJson, warn, type CommandContext, type Io } from '../context.js';
import { numberFlag, toStoreTarget, withFlagNames, type CommonArgv, type StoreTarget } from '../lib/argv.js';
import { parseJsonExact } from '../lib/json.js';
import { withStore } from '../lib/open-store.js';
import { iso } from '../lib/present.js';
import { warnUnserved } from '../lib/serving.js';
import { enqueueFile } from './enqueue-file.js';

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
        if (request.kind === 'one') await enqueueOne(request.task, target, argv.json === true, ctx.io);
        else await enqueueFile(request.file, target, argv.json === true, ctx.io);
      });
    },
  });
}

export interface EnqueueArgv extends CommonArgv {
  name?: string;
  args?: string;
  countdown?: string;
  eta?: string;
  key?: string;
  retries?: string;
  backoff?: string;
  timeout?: string;
  file?: string;
}

export interface EnqueueOne {
  name: string;
  /** Parsed from --args; validate.ts checks that it is an array of JSON values. */
  args: unknown;
  when: DelayOptions;
}

export type EnqueueRequest = { kind: 'one'; task: EnqueueOne } | { kind: 'file'; file: string };

const PER_TASK_FLAGS = ['args', 'countdown', 'eta', 'key', 'retries', 'backoff', 'timeout'] as const;

/**
 * The shape of an enqueue command line, checked by the parser (so a wrong shape is a usage
 * error): a NAME with per-task flags, or `--file` alone. Returns the problem, or undefined.
 */
export function enqueueShapeProblem(argv: EnqueueArgv): string | undefined {
  if (argv.file === undefined) return argv.name === undefined ? 'Give a task NAME, or --file FILE' : undefined;
  const clash = [
    ...(argv.name !== undefined ? ['NAME'] : []),
    ...PER_TASK_FLAGS.filter((flag) => argv[flag] !== undefined).map((flag) => `--${flag}`),
  ];
  if (clash.length === 0) return undefined;
  return `--file takes no ${clash.join(', ')}: each line carries its own name and options`;
}

export function toEnqueueRequest(argv: EnqueueArgv): EnqueueRequest {
  const problem = enqueueShapeProblem(argv);
  if (problem) throw new DelaydError('E_BAD_OPTION', problem);
  if (argv.file !== undefined) return { kind: 'file', file: argv.file };
  if (argv.name === undefined) throw new DelaydError('E_BAD_NAME', 'Expected a task NAME, got none');
  const when: DelayOptions = {};
  if (argv.countdown !== undefined) when.countdown = numberFlag('--countdown', argv.countdown);
  if (argv.eta !== undefined) when.eta = argv.eta;
  if (argv.key !== undefined) when.key = argv.key;
  if (argv.retries !== undefined) when.retries = numberFlag('--retries', argv.retries);
  if (argv.backoff !== undefined) when.backoff = numberFlag('--backoff', argv.backoff);
  if (argv.timeout !== undefined) when.timeout = numberFlag('--timeout', argv.timeout);
  return { kind: 'one', task: { name: argv.name, args: parseArgsJson(argv.args), when } };
}

/** `--args '[1, "a"]'`; absent means no arguments. */
export function parseArgsJson(raw: string | undefined): unknown {
  if (raw === undefined) return [];
  return parseJsonExact(raw, (why) =>
    new DelaydError('E_BAD_ARGS', `Expected \`--args\` to be a JSON array such as '[1, "a"]', got ${describe(raw)}, which ${why}`),
  );
}

export async function enqueueOne(task: EnqueueOne, target: StoreTarget, json: boolean, io: Io): Promise<void> {
  const nowMs = io.clock.now();
  const name = checkName(task.name);
  const row = withFlagNames(() => buildNewTask({ name, args: task.args, when: task.when, nowMs, maxArgsBytes: DEFAULTS.maxArgsBytes }));
  await withStore(target, { mustExist: false }, async (store) => {
    const [inserted] = await store.insert([row]);
    if (!inserted) throw new DelaydError('E_DB', 'The store inserted nothing');
    if (json) printJson(io, { id: inserted.id, name, due: iso(inserted.dueMs), created: inserted.created });
    else io.stdout.write(`${inserted.id}\n`);
    if (!inserted.created) warn(io, `an unfinished task with key "${row.key}" already exists (id ${inserted.id}); nothing new was enqueued`);
    await warnUnserved(store, [name], io);
  });
}
