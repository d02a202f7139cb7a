/**
 * `delayd cron`: the periodic tasks of the database, as daemons synced them at start: the
 * expression and zone, the pending occurrence, the last one that started and how it ended,
 * and which live daemons serve the name. Read-only, like stats/list/show.
 */
import type { CronOccurrence, CronRow } from '../../store/types.js';
import { defineCommand, JSON_OPTION, printJson, type CommandContext, type Io } from '../context.js';
import { toStoreTarget, type CommonArgv, type StoreTarget } from '../lib/argv.js';
import { READ_ONLY, withStore } from '../lib/open-store.js';
import { iso } from '../lib/present.js';
import { liveWorkers, processLiveContext } from '../lib/serving.js';
import { formatTable } from '../lib/table.js';

export function cronCommand(ctx: CommandContext) {
  const { io } = ctx;
  return defineCommand<CommonArgv>({
    command: 'cron',
    describe: 'Periodic tasks: expression, zone, next occurrence, last run and its outcome, the daemons serving each',
    builder: (y) =>
      y
        .option('json', JSON_OPTION)
        .example('$0 cron', 'A table of the periodic tasks')
        .example('$0 cron --json', '[{"name": "report", "cron": "0 9 * * 1-5", "tz": "Europe/Paris", "next": {...}, "last": {...}, "servedBy": [...]}]'),
    handler: (argv) => ctx.run(() => cron(toStoreTarget(argv, io.env), argv.json === true, io)).then(() => {}),
  });
}

export interface CronJson {
  name: string;
  cron: string;
  tz: string;
  args: unknown[];
  missed: CronRow['missed'];
  /** 'defined', or 'removed' (a daemon served the name without a cron). */
  status: 'defined' | 'removed';
  updated: string;
  synced: string;
  next: OccurrenceJson | null;
  last: OccurrenceJson | null;
  /** Live daemons serving the name: owner, host, pid. */
  servedBy: { owner: string; host: string; pid: number }[];
}

export interface OccurrenceJson {
  id: number;
  due: string;
  state: CronOccurrence['state'];
  attempts: number;
  started: string | null;
  finished: string | null;
  errorCode: string | null;
}

export async function cron(target: StoreTarget, json: boolean, io: Io): Promise<void> {
  await withStore(target, READ_ONLY, async (store) => {
    const rows = await store.crons();
    const live = liveWorkers(await store.workers(), processLiveContext(io.clock.now()));
    const out = rows.map((row): CronJson => ({
      name: row.name,
      cron: row.expression,
      tz: row.tz,
      args: JSON.parse(row.args) as unknown[],
      missed: row.missed,
      status: row.removedMs === null ? 'defined' : 'removed',
      updated: iso(row.updatedMs),
      synced: iso(row.syncedMs),
      next: row.next && occurrenceJson(row.next),
      last: row.last && occurrenceJson(row.last),
      servedBy: live.filter((w) => w.names.includes(row.name)).map((w) => ({ owner: w.owner, host: w.host, pid: w.pid })),
    }));
    if (json) printJson(io, out);
    else io.stdout.write(cronText(out));
  });
}

function occurrenceJson(o: CronOccurrence): OccurrenceJson {
  return {
    id: o.id,
    due: iso(o.dueMs),
    state: o.state,
    attempts: o.attempts,
    started: o.startedMs === null ? null : iso(o.startedMs),
    finished: o.finishedMs === null ? null : iso(o.finishedMs),
    errorCode: o.lastErrorCode,
  };
}

export function cronText(crons: readonly CronJson[]): string {
  if (crons.length === 0) return 'No periodic tasks: no daemon with a task({ cron }) has started on this database.\n';
  const rows = crons.map((c) => [
    c.name,
    c.status === 'removed' ? `${c.cron} (removed)` : c.cron,
    c.tz,
    c.missed,
    c.next ? `${c.next.due} #${c.next.id}` : '-',
    c.last ? `${c.last.due} #${c.last.id}` : '-',
    c.last ? outcome(c.last) : '-',
    c.servedBy.length === 0 ? 'none' : c.servedBy.map((w) => `${w.host}:${w.pid}`).join(', '),
  ]);
  return formatTable(['NAME', 'CRON', 'TZ', 'MISSED', 'NEXT', 'LAST RUN', 'OUTCOME', 'SERVED BY'], rows);
}

function outcome(o: OccurrenceJson): string {
  return o.errorCode === null ? o.state : `${o.state} (${o.errorCode})`;
}
