/**
 * The hashed timing wheel's cursor. A task due at second t sits in slot t % 3600 of cycle
 * floor(t / 3600) (see slot.ts); the persisted cursor is the last second whose slot has been
 * emptied, and it never goes back, even when the wall clock does.
 *
 * advanceTo(second), asynchronous like every store call, empties every slot up to `second` in one claim: the store's range scan over
 * (cycle, slot) visits the slots between the cursor and `second` in order, and also reaches
 * behind the cursor, so a task inserted late (countdown 0, an eta in the past, a write from
 * another process racing the tick) runs at the next tick instead of a turn of the ring later.
 * The claim takes at most `limit` tasks; when it is full, the cursor stops short of the slot it
 * could not finish and `backlog` is set, so the caller claims again as room frees up.
 */
import type { ClaimedTask, Store } from './store/types.js';

export interface Advance {
  tasks: ClaimedTask[];
  cursor: number;
  /** More due tasks may be waiting in the store than the limit allowed to claim. */
  backlog: boolean;
}

export class Wheel {
  readonly #store: Store;
  readonly #owner: string;
  #cursor: number | null = null;

  constructor(options: { store: Store; owner: string }) {
    this.#store = options.store;
    this.#owner = options.owner;
  }

  /** The last second claimed through, or null before the first advance. */
  get cursor(): number | null {
    return this.#cursor;
  }

  /**
   * Tasks running under our name, as the store has them: after a claim whose answer never came
   * (it may have run), the tasks it took are ours without our knowing them. Up to `limit`.
   */
  async strays(limit: number): Promise<ClaimedTask[]> {
    const rows = await this.#store.list({ state: 'running', limit: Math.max(limit, 1000) });
    return rows.filter((row) => row.owner === this.#owner);
  }

  /** Claims what is due up to `second` among `names` (the tasks this scheduler serves). */
  async advanceTo(second: number, limit: number, names: readonly string[]): Promise<Advance> {
    if (limit <= 0) return { tasks: [], cursor: this.#cursor ?? second, backlog: true };
    const { tasks, cursor } = await this.#store.claim({ owner: this.#owner, uptoSecond: second, limit, names });
    // Claims are single-flight (scheduler.ts), but the persisted cursor never goes back: neither does ours.
    if (this.#cursor === null || cursor > this.#cursor) this.#cursor = cursor;
    return { tasks, cursor, backlog: tasks.length >= limit };
  }
}
