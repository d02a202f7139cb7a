/**
 * The command line: yargs parses, each command (commands/) maps its argv to options, and the daemon or the store
 * does the work. Exit status: 0 success; 1 an error from delayd (a bad value, an unknown id,
 * a database that is missing, locked, not SQLite or too new); 2 a usage error caught by the
 * parser (unknown command or option, missing argument). Either way, one line on stderr:
 * `delayd: E_CODE: message` (E_USAGE for the parser's).
 */
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { DelaydError } from '../errors.js';
import { batchCommand } from './commands/batch.js';
import { cronCommand } from './commands/cron.js';
import { daemonCommand } from './commands/daemon.js';
import { enqueueCommand } from './commands/enqueue.js';
import { inspectCommands } from './commands/inspect.js';
import { manageCommands } from './commands/manage.js';
import { processIo, type CommandContext, type Io } from './context.js';

export const EXIT = { ok: 0, error: 1, usage: 2 } as const;

class UsageError extends Error {}

export interface RunCliOptions {
  io?: Io;
  /** How `delayd daemon` ends the process once it has stopped. @default process.exit */
  exit?: (code: number) => void;
}

export async function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<number> {
  const io = options.io ?? processIo();
  let code: number = EXIT.ok;
  const ctx: CommandContext = {
    io,
    run: async (body) => {
      try {
        await body();
      } catch (error) {
        io.stderr.write(`delayd: ${oneLine(messageOf(error))}\n`);
        code = EXIT.error;
      }
      return code;
    },
    exit: options.exit ?? ((c) => process.exit(c)),
  };
  try {
    await buildParser(args, ctx).parseAsync();
  } catch (error) {
    io.stderr.write(`delayd: ${oneLine(messageOf(error))} (see \`delayd --help\`)\n`);
    return EXIT.usage;
  }
  return code;
}

function buildParser(args: readonly string[], ctx: CommandContext) {
  const parser = yargs([...args]);
  return parser
    .scriptName('delayd')
    .usage('$0 <command> [options]\n\nA durable delayed-task scheduler: a timing wheel persisted in SQLite.')
    .option('db', {
      type: 'string',
      requiresArg: true,
      global: true,
      describe: 'The SQLite database file',
      defaultDescription: '$DELAYD_DB or ./delayd.db',
    })
    .option('busy-timeout', {
      type: 'string',
      requiresArg: true,
      global: true,
      describe: 'Seconds to wait for another process holding the database lock',
      defaultDescription: '$DELAYD_BUSY_TIMEOUT or 5',
    })
    .command(daemonCommand(ctx))
    .command(enqueueCommand(ctx))
    .command(inspectCommands(ctx))
    .command(manageCommands(ctx))
    .command(batchCommand(ctx))
    .command(cronCommand(ctx))
    .demandCommand(1, `Name a command: ${COMMANDS.join(', ')}`)
    .strict()
    .example('$0 daemon --handlers ./handlers.js', 'Run the tasks that ./handlers.js registers')
    .example(`$0 enqueue send_email --args '["ann@example.com"]' --countdown 60`, 'Schedule one task in a minute')
    .example('$0 stats', 'Counts by state and the load of the wheel')
    .epilogue(
      'Exit status: 0 on success, 1 on an error (bad value, unknown id, database missing, locked, not SQLite or too new), ' +
        '2 on a usage error (unknown command or option). Every command prints --help with examples.',
    )
    .help()
    .alias('help', 'h')
    .version(packageVersion())
    .wrap(Math.min(110, parser.terminalWidth()))
    .exitProcess(false)
    // Handlers never throw to yargs (ctx.run catches), so whatever reaches here is usage.
    .fail((message, error) => {
      const command = commandWord(args);
      if (command !== undefined && !COMMANDS.includes(command)) {
        throw new UsageError(`Unknown command ${JSON.stringify(command)}; expected one of ${COMMANDS.join(', ')}`);
      }
      throw new UsageError(message ?? error?.message ?? 'invalid command line');
    });
}

const COMMANDS = ['daemon', 'enqueue', 'stats', 'list', 'show', 'cancel', 'retry', 'reschedule', 'purge', 'batch', 'cron'];
const GLOBAL_VALUE_OPTIONS = new Set(['--db', '--busy-timeout']);

/** The first word that is neither an option nor the value of a global option. */
export function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (GLOBAL_VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** `E_CODE: message` for every error a user can cause; "unexpected error" is for bugs. */
function messageOf(error: unknown): string {
  if (error instanceof DelaydError) return `${error.code}: ${error.message}`;
  if (error instanceof UsageError) return `E_USAGE: ${error.message}`;
  if (error instanceof Error) return `unexpected error: ${error.message}`;
  return `unexpected error: ${String(error)}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
