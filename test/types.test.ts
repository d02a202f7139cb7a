// Compile-time checks of the public types (run by `tsc --noEmit` in `npm test`), with one
// runtime assertion so vitest counts the file.
import { describe, expect, it } from 'vitest';
import { Scheduler, type TaskContext } from '../src/index.js';

describe('delay() args are typed from the handler', () => {
  it('accepts the handler parameters and refuses others', async () => {
    const app = new Scheduler({ db: ':memory:', logger: undefined });
    const send = app.task('send')(async function (this: TaskContext, to: string, times: number) {
      return `${to}${times}${this.attempt}`;
    });
    const calls = () => {
      void send.delay(['ann', 2], 10);
      void send.delay(['ann', 2], { eta: new Date(), key: 'k' });
      // @ts-expect-error: a number where a string is expected
      void send.delay([1, 2], 10);
      // @ts-expect-error: a missing argument
      void send.delay(['ann'], 10);
      // @ts-expect-error: an unknown option
      void send.delay(['ann', 2], { countdwn: 1 });
    };
    expect(typeof calls).toBe('function');
    void app.close();
  });
});
