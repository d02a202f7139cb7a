/**
 * The cron options of task(name, { cron, tz, args, missed }), checked at task() time: a bad
 * expression or zone fails there with E_BAD_CRON, never later in a daemon.
 */
import { serializeArgs } from '../args.js';
import { DelaydError, describe } from '../errors.js';
import { CRON_MISSED, type CronMissed } from '../store/types.js';
import { CronSchedule } from './schedule.js';

/** The cron fields of TaskOptions. */
export interface CronOptions {
  /**
   * A cron expression: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds
   * first, as croner reads it (also @hourly, @daily ...). Each occurrence is a task of this name,
   * due at the occurrence's exact time.
   */
  cron?: string;
  /** The IANA zone `cron` is read in. @default the daemon's zone (Intl), resolved at task() */
  tz?: string;
  /** The args every occurrence gets. @default [] */
  args?: unknown[];
  /** What happens to occurrences that fell while no daemon ran (README). @default 'once' */
  missed?: CronMissed;
}

export const CRON_KEYS = ['cron', 'tz', 'args', 'missed'] as const;
/** The largest args of an occurrence (the scheduler's default maxArgsBytes). */
const MAX_CRON_ARGS_BYTES = 65_536;

/** The checked cron options (all undefined when there is no `cron`). */
export function checkCronOptions(record: Record<string, unknown>): CronOptions {
  const { cron, tz, args, missed } = record;
  if (cron === undefined) {
    const stray = CRON_KEYS.find((k) => k !== 'cron' && record[k] !== undefined);
    if (stray) throw new DelaydError('E_BAD_CRON', `Expected \`${stray}\` to come with a \`cron\` expression, got \`${stray}\` alone`);
    return {};
  }
  if (typeof cron !== 'string' || cron.trim() === '') {
    throw new DelaydError('E_BAD_CRON', `Expected \`cron\` to be a cron expression (5 fields, or 6 with seconds), got ${describe(cron)}`);
  }
  const options: CronOptions = { cron: cron.trim(), tz: checkZone(tz), args: checkArgs(args), missed: checkMissed(missed) };
  scheduleOf(options); // throws E_BAD_CRON for an expression croner refuses
  return options;
}

/** The compiled schedule of checked options, or undefined without `cron`. */
export function scheduleOf(options: CronOptions): CronSchedule | undefined {
  if (options.cron === undefined) return undefined;
  const spec = {
    expression: options.cron,
    tz: options.tz ?? localZone(),
    args: serializeArgs(options.args ?? [], MAX_CRON_ARGS_BYTES),
    missed: options.missed ?? 'once',
  };
  let schedule: CronSchedule;
  try {
    schedule = new CronSchedule(spec);
  } catch (error) {
    throw new DelaydError(
      'E_BAD_CRON',
      `Expected \`cron\` to be a cron expression of 5 fields (minute hour day month weekday) or 6 (second first), got ${describe(options.cron)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  // An expression that can never match (31 February) would end its chain at once.
  if (schedule.after(0) === null) {
    throw new DelaydError('E_BAD_CRON', `Expected \`cron\` to match some time, got ${describe(options.cron)}, which never does`);
  }
  return schedule;
}

function checkZone(tz: unknown): string {
  if (tz === undefined) return localZone();
  if (typeof tz === 'string' && tz !== '') {
    try {
      // Intl knows the IANA zones of this Node (and canonicalises their case).
      return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
    } catch {
      // worded below
    }
  }
  throw new DelaydError('E_BAD_CRON', `Expected \`tz\` to be an IANA time zone such as 'Europe/Paris' or 'UTC', got ${describe(tz)}`);
}

function checkArgs(args: unknown): unknown[] {
  if (args === undefined) return [];
  if (!Array.isArray(args)) throw new DelaydError('E_BAD_CRON', `Expected the cron's \`args\` to be an array, got ${describe(args)}`);
  try {
    serializeArgs(args, MAX_CRON_ARGS_BYTES);
  } catch (error) {
    throw new DelaydError('E_BAD_CRON', `Expected the cron's \`args\` to be JSON of at most ${MAX_CRON_ARGS_BYTES} bytes: ${(error as Error).message}`, { cause: error });
  }
  return args;
}

function checkMissed(missed: unknown): CronMissed {
  if (missed === undefined) return 'once';
  if ((CRON_MISSED as readonly unknown[]).includes(missed)) return missed as CronMissed;
  throw new DelaydError('E_BAD_CRON', `Expected \`missed\` to be one of ${CRON_MISSED.map((m) => `'${m}'`).join(', ')}, got ${describe(missed)}`);
}

function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
