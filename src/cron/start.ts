/**
 * What a scheduler does about its crons when it starts (one call in Scheduler.start()):
 * the admission learns where the schedules are, and the store syncs every cron this daemon's
 * code defines, in one transaction (Crons.syncCrons): the record follows the code, pending
 * occurrences of a changed or removed schedule are cancelled, and a cron with no pending
 * occurrence gets its first one. Racing daemons end with one pending occurrence per cron.
 *
 * The first occurrence is the first one after both now and the last occurrence that started
 * (so a wall clock set back, or a changed definition, never brings back a time already run).
 */
import type { Admission } from '../admission.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { CronSync, Store } from '../store/types.js';
import type { Registry } from '../task.js';
import { occurrenceTask } from './occurrence.js';

export interface CronStartOptions {
  store: Store;
  registry: Registry;
  admission: Admission;
  clock: Clock;
  logger: Logger;
}

/** Never rejects: a failed sync is logged (the next start syncs again; pending occurrences run meanwhile). */
export async function startCrons(o: CronStartOptions): Promise<void> {
  const { store, registry, logger } = o;
  o.admission.useCrons((name) => registry.get(name)?.cron);
  try {
    const sync = await planSync(o);
    if (sync === undefined) return;
    for (const synced of await store.syncCrons(sync)) {
      const level = synced.change === 'unchanged' ? 'debug' : 'info';
      logger[level]({ ...synced }, `cron ${synced.change}`);
    }
  } catch (error) {
    logger.error({ err: error }, 'could not sync the crons of this daemon with the database; the next start tries again');
  }
}

/** What to sync; undefined when there is nothing to do (no cron here, and none to remove). */
async function planSync({ store, registry, clock }: CronStartOptions): Promise<CronSync | undefined> {
  const definitions = registry.names().map((name) => registry.get(name)!);
  const cronNames = definitions.filter((d) => d.cron !== undefined).map((d) => d.name);
  // A backend written before cron (issue 14) has no crons(): fine while no cron is defined.
  if (cronNames.length === 0 && typeof (store as Partial<Store>).crons !== 'function') return undefined;
  const records = new Map((await store.crons()).map((row) => [row.name, row]));
  const plain = definitions.filter((d) => d.cron === undefined && records.get(d.name)?.removedMs === null).map((d) => d.name);
  if (cronNames.length === 0 && plain.length === 0) return undefined;
  const nowMs = clock.now();
  const crons: CronSync['crons'] = [];
  for (const definition of definitions) {
    const schedule = definition.cron;
    if (!schedule) continue;
    const lastMs = records.get(definition.name)?.last?.dueMs ?? 0;
    const firstMs = schedule.after(Math.max(nowMs, lastMs));
    if (firstMs === null) continue; // the schedule has ended: nothing to insert
    crons.push({ def: schedule.def(definition.name), first: occurrenceTask(definition.name, schedule, firstMs, nowMs) });
  }
  return { nowMs, crons, plain };
}
