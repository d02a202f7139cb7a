/**
 * The nudge subscriber of a single-server link (link.ts), on a connection of its own and
 * PINGed every `replyTimeoutMs` (once a second at most). A subscriber waits for no reply, so
 * on a connection gone silent without closing (deadline.ts) it would hear nothing for good and
 * every nudge would be lost: a countdown of 0 waiting for the next tick instead of running
 * within milliseconds. A PING unanswered within the deadline puts a fresh subscriber in its
 * place; nudges sent meanwhile are covered by the ticks.
 */
import { within } from './deadline.js';

/** The part of a node-redis client a subscriber uses. */
export interface SubscriberClient {
  connect(): Promise<unknown>;
  sSubscribe(channels: string[], listener: (message: string) => void): Promise<void>;
  sendCommand(args: readonly string[]): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  on(event: string, fn: (...args: unknown[]) => void): unknown;
}

/** Subscribes on a client from `open()`, kept answering; resolves a function that ends it. */
export async function watchedSubscriber(
  open: () => SubscriberClient, channels: readonly string[], listener: (message: string) => void, replyTimeoutMs: number,
): Promise<() => Promise<void>> {
  const listen = async (): Promise<SubscriberClient> => {
    const sub = open();
    sub.on('error', () => undefined);
    try {
      await sub.connect();
      // Bounded: on a path that is silent again it would never answer, and no check would follow.
      await within(sub.sSubscribe([...channels], listener), replyTimeoutMs, 'SSUBSCRIBE');
      return sub;
    } catch (error) {
      sub.destroy();
      throw error;
    }
  };
  let sub = await listen();
  let checking = false;
  let stopped = false;
  const check = async (): Promise<void> => {
    if (checking) return;
    checking = true;
    try {
      if (!(await answers(sub, replyTimeoutMs)) && !stopped) {
        const fresh = await listen();
        // Ended meanwhile: the fresh one must not outlive it (its socket would keep Node up).
        if (stopped) return fresh.destroy();
        sub.destroy();
        sub = fresh;
      }
    } catch {
      // No fresh subscriber either (Redis unreachable): the next check tries again.
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), Math.max(1000, replyTimeoutMs));
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    try {
      await sub.close();
    } catch {
      sub.destroy();
    }
  };
}

/** Whether a PING on `client` is answered within `ms` (an error reply counts: the link works). */
function answers(client: SubscriberClient, ms: number): Promise<boolean> {
  return within(client.sendCommand(['PING']), ms, 'PING').then(
    () => true,
    (error: unknown) => error instanceof Error && /^(ErrorReply|SimpleError|BlobError)$/.test(error.constructor.name),
  );
}
