// Testing a delayed task without waiting: delayd/testing runs the default scheduler on an
// in-memory database and a fake clock. Run: npx vitest run examples/testing.test.js
import { afterEach, expect, it } from 'vitest';
import { task } from 'delayd';
import { createTestScheduler } from 'delayd/testing';

const sent = [];
const remind = task('remind')(async (user, text) => {
  sent.push(`${user}: ${text}`);
});

let t;
afterEach(async () => t.close());

it('sends the reminder tomorrow at 09:00, not before', async () => {
  t = createTestScheduler({ now: '2030-01-01T12:00:00Z' });
  t.scheduler.start();
  await remind.delay(['ann', 'stand-up'], { eta: '2030-01-02T09:00:00Z' });
  await t.advance(21 * 3_600_000 - 1); // 20:59:59.999 later
  expect(sent).toEqual([]);
  await t.advance(1);
  expect(sent).toEqual(['ann: stand-up']);
  expect(await t.scheduler.list({ state: 'succeeded' })).toHaveLength(1);
});
