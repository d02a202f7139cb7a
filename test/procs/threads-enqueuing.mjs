// A handler module that enqueues at import time, for test/threads.test.ts. Imported in a
// worker thread, that enqueue must fail loudly rather than write from every thread.
import { task } from '../../dist/index.js';

const later = task('later_thing')(() => 1);
export const enqueuingCrunch = task('enqueuing_crunch', { isolation: 'thread' })(() => 2);
await later.delay([]);
