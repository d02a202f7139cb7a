/** `delayd daemon`: flags to DaemonOptions, then the daemon; the process exits with it. */
import { DEFAULTS } from '../../config.js';
import { checkDbLocation } from '../open-store.js';
import { LOG_LEVELS, toDaemonOptions, type DaemonArgv } from '../options.js';
import { defineCommand, type CommandContext } from './define.js';

export function daemonCommand(ctx: CommandContext) {
  return defineCommand<DaemonArgv>({
    command: 'daemon',
    describe: 'Run the handlers of the given modules until SIGTERM or SIGINT',
    builder: (y) =>
      y
        .option('handlers', {
          type: 'string',
          array: true,
          requiresArg: true,
          demandOption: 'Give at least one --handlers MODULE (an ES module that calls task())',
          describe: 'An ES module that registers tasks with task() (repeatable; relative to the working directory)',
        })
        .option('concurrency', { type: 'string', requiresArg: true, describe: `Handlers running at once [default: ${DEFAULTS.concurrency}]` })
        .option('queue-size', { type: 'string', requiresArg: true, describe: `Claimed tasks waiting in memory [default: ${DEFAULTS.queueSize}]` })
        .option('drain-timeout', { type: 'string', requiresArg: true, describe: `Seconds to wait for running handlers on shutdown [default: ${DEFAULTS.drainMs / 1000}]` })
        .option('lease', { type: 'string', requiresArg: true, describe: `Seconds of silence before another daemon's running tasks are put back [default: ${DEFAULTS.leaseMs / 1000}]` })
        .option('heartbeat', { type: 'string', requiresArg: true, describe: `Seconds between heartbeats [default: ${DEFAULTS.heartbeatMs / 1000}]` })
        .option('threads', { type: 'string', requiresArg: true, describe: "Worker threads for tasks with isolation: 'thread' [default: the number of cores]" })
        .option('log-level', { type: 'string', requiresArg: true, describe: `Log level: ${LOG_LEVELS.join(', ')} [default: $DELAYD_LOG_LEVEL or info]` })
        .example('$0 daemon --handlers ./handlers.js', 'Run the tasks of ./handlers.js on ./delayd.db')
        .example('$0 daemon --handlers ./mail.js --handlers ./billing.js --concurrency 20', 'Serve two modules, 20 handlers at a time')
        .example('$0 daemon --handlers ./handlers.js --db /var/lib/app/delayd.db --drain-timeout 30', 'Give running handlers 30 s to finish on shutdown'),
    handler: async (argv) => {
      let code = 0;
      const failed = await ctx.run(async () => {
        const options = toDaemonOptions(argv, { env: ctx.io.env, cwd: ctx.io.cwd, stdoutIsTTY: ctx.io.stdout.isTTY === true });
        checkDbLocation(options.db);
        // Loaded here: the scheduler and pino would slow every other command's start.
        const { runDaemon } = await import('../../daemon.js');
        code = await runDaemon(options);
      });
      ctx.exit(failed || code);
    },
  });
}
