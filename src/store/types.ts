/**
 * The data types of the store contract (contract.ts), in one place for every importer: the
 * tasks (tasks.ts), the store's status (status.ts), batches (batch-rows.ts) and crons
 * (cron-rows.ts). SQLite and Redis stand behind the same interface.
 *
 * A task moves through these states:
 *   scheduled --claim--> running --succeeded--> succeeded
 *                           |----failed, retries left--> scheduled (later due time)
 *                           |----failed, none left-----> failed --retry()--> scheduled
 *                           '----owner released or dead--> scheduled (same due time)
 *   scheduled --cancel()--> cancelled
 * `running` means claimed by an owner (a live scheduler): waiting in its memory or executing.
 *
 * Attempts and fencing. A claim hands a task to one owner; its attempt number is
 * `attempts + 1`. The attempt is *open* once its `started` outcome is written, which the
 * scheduler does before the handler runs: that write is the fence (it applies only while the
 * task is still `running` under that owner with that many attempts before it), so a task that
 * was cancelled, rescheduled, put back or re-claimed meanwhile is never started. Every later
 * outcome of the attempt applies only while the same attempt is still open under that owner.
 * The same owner's start of the attempt it already opened applies again and changes nothing: a
 * start whose answer was lost (a reset connection, replicas that did not confirm) is written
 * again, and refusing it would leave the task running under a live owner that never runs it.
 * Likewise a `succeeded` or `failed` written again by the owner whose same attempt ended the
 * task so applies and changes nothing (refused, its success would be logged as not recorded and
 * never emitted). A `retry` leaves no owner once applied, as a put-back does: written again,
 * it applies and changes nothing while its task still waits for it (scheduled, that attempt,
 * that due time, that attempt's error at that time last in its list), and is refused after.
 * When an owner's running tasks are put back, each open attempt counts as *cut off*
 * (`cutOffs + 1`); a cut-off attempt does not count against `retries`.
 *
 * Policy. A row stores only the policy given at enqueue (`retries`, `backoffMs`, `timeoutMs`:
 * null means "not given"); the scheduler that runs the task fills the rest from its handler's
 * task() options, then from the defaults (see policy.ts).
 */


export * from './tasks.js';
export * from './status.js';
export * from './batch-rows.js';
export * from './cron-rows.js';
export type { Store, TaskWriter, Claimer, Leases, Reads, Batches, Overview, Crons } from './contract.js';
