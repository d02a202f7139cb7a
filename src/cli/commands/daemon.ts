/** `delayd daemon`: flags to DaemonOptions, then the daemon; the process exits with it. */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULTS } from '../../config.js';
import type { DaemonOptions } from '../../daemon.js';
import { DelaydError, describe } from '../../errors.js';
import type { LogLevel } from '../../logger.js';
import { defineCommand, type CommandContext } from '../context.js';
import { countFlag, integerFlag, millisFlag, notA, toStoreTarget, type CommonArgv } from '../lib/argv.js';
import { checkDbLocation } from '../lib/open-store.js';
import { toHttpListen } from '../../http/options.js';

/** The scheduler's own bound of `maxCutOffs` (config.ts), checked here so the message names the flag. */
const MAX_CUT_OFFS = 1000;

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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
        .option('max-cut-offs', {
          type: 'string',
          requiresArg: true,
          describe: `Attempts cut off by the death of their daemon (a crash, a kill, a handler's process.exit) before a task fails with E_CUT_OFF, unless its handler sets maxCutOffs; 0 to ${MAX_CUT_OFFS} [default: ${DEFAULTS.maxCutOffs}]`,
        })
        .option('shards', { type: 'string', requiresArg: true, describe: 'Redis only: shards of a new queue, fixed when it is created (spread over a cluster\'s masters) [default: 16]' })
        .option('replicas', { type: 'string', requiresArg: true, describe: 'Redis only: replicas that must confirm each write (WAIT), else E_BACKEND_NOT_REPLICATED [default: 0]' })
        .option('threads', { type: 'string', requiresArg: true, describe: "Worker threads for tasks with isolation: 'thread' [default: the number of cores]" })
        .option('http', { type: 'string', requiresArg: true, describe: 'Serve /metrics, /healthz, /readyz, the JSON API (/api/v1) and the dashboard on HOST:PORT (a bare PORT: 127.0.0.1) [default: off]' })
        .option('http-token-file', { type: 'string', requiresArg: true, describe: 'A file holding the API token [default: $DELAYD_HTTP_TOKEN; none: the API is off]' })
        .option('log-level', { type: 'string', requiresArg: true, describe: `Log level: ${LOG_LEVELS.join(', ')} [default: $DELAYD_LOG_LEVEL or info]` })
        .example('$0 daemon --handlers ./handlers.js', 'Run the tasks of ./handlers.js on ./delayd.db')
        .example('$0 daemon --handlers ./mail.js --handlers ./billing.js --concurrency 20', 'Serve two modules, 20 handlers at a time')
        .example('$0 daemon --handlers ./handlers.js --db /var/lib/app/delayd.db --drain-timeout 30', 'Give running handlers 30 s to finish on shutdown')
        .example('$0 daemon --handlers ./handlers.js --db redis://127.0.0.1:6379', 'Run on a Redis server shared by daemons on many hosts')
        .example('DELAYD_HTTP_TOKEN=... $0 daemon --handlers ./handlers.js --http 7070', 'Metrics, the API and the dashboard on http://127.0.0.1:7070/'),
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

export interface DaemonArgv extends CommonArgv {
  handlers?: string[];
  concurrency?: string;
  queueSize?: string;
  drainTimeout?: string;
  lease?: string;
  heartbeat?: string;
  threads?: string;
  maxCutOffs?: string;
  shards?: string;
  replicas?: string;
  logLevel?: string;
  http?: string;
  httpTokenFile?: string;
}

/** The daemon's flags, in seconds where they are times, checked here; $DELAYD_LOG_LEVEL below --log-level. */
export function toDaemonOptions(
  argv: DaemonArgv,
  context: { env: NodeJS.ProcessEnv; cwd: string; stdoutIsTTY: boolean },
): DaemonOptions {
  const level = argv.logLevel ?? context.env.DELAYD_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    const what = argv.logLevel === undefined ? '$DELAYD_LOG_LEVEL' : '--log-level';
    throw new DelaydError('E_BAD_OPTION', `Expected ${what} to be one of ${LOG_LEVELS.join(', ')}, got ${describe(level)}`);
  }
  const handlers = argv.handlers ?? [];
  if (handlers.length === 0) {
    throw new DelaydError('E_BAD_OPTION', 'Expected at least one `--handlers MODULE`, got none');
  }
  return {
    ...toStoreTarget(argv, context.env),
    handlers: handlers.map((spec) => moduleUrl(spec, context.cwd)),
    concurrency: countFlag('--concurrency', argv.concurrency),
    queueSize: countFlag('--queue-size', argv.queueSize),
    drainMs: millisFlag('--drain-timeout', argv.drainTimeout, 0),
    leaseMs: millisFlag('--lease', argv.lease, 1),
    heartbeatMs: millisFlag('--heartbeat', argv.heartbeat, 1),
    threads: countFlag('--threads', argv.threads),
    maxCutOffs: maxCutOffsFlag(argv.maxCutOffs),
    ...definedFlags({ shards: countFlag('--shards', argv.shards), replicas: replicasFlag(argv.replicas) }),
    logLevel: level as LogLevel,
    pretty: context.stdoutIsTTY,
    ...(argv.http !== undefined || argv.httpTokenFile !== undefined ? { http: toHttpListen(argv.http, argv.httpTokenFile, context.env) } : {}),
  };
}

function replicasFlag(raw: string | undefined): number | undefined {
  const value = integerFlag('--replicas', raw);
  if (value !== undefined && value < 0) throw notA('--replicas', 'an integer >= 0', raw);
  return value;
}

/** Only the flags given, so an absent one leaves the store's default (and SQLite does not see them). */
function definedFlags<T extends Record<string, number | undefined>>(flags: T): Partial<T> {
  return Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A handler module path, relative to the working directory, as a URL import() accepts. */
export function moduleUrl(spec: string, cwd: string): string {
  if (spec.startsWith('file:')) return spec;
  return pathToFileURL(isAbsolute(spec) ? spec : resolve(cwd, spec)).href;
}

/** `--max-cut-offs N`: an integer from 0 (the first cut-off fails the task) to MAX_CUT_OFFS; unset leaves the scheduler's default. */
function maxCutOffsFlag(raw: string | undefined): number | undefined {
  const value = integerFlag('--max-cut-offs', raw);
  if (value !== undefined && (value < 0 || value > MAX_CUT_OFFS)) throw notA('--max-cut-offs', `an integer from 0 to ${MAX_CUT_OFFS}`, raw);
  return value;
}
