// A producer in a third process, on another host as far as delayd cares: it knows the task
// names and the Redis URL, not the handlers. Each enqueue resolves once Redis has the task.
//   node examples/redis/producer.js redis://127.0.0.1:6390
// It prints one JSON line per task ({ id, name, eta }) and exits; the daemons run them.
import { pino } from 'pino';
import { Scheduler } from 'delayd';

const db = process.argv[2] ?? process.env.DELAYD_DB;
if (!db) {
  console.error('usage: node examples/redis/producer.js redis://HOST:PORT');
  process.exit(1);
}
// No start(): a producer only writes. enqueue() takes a task by name, like `delayd enqueue`.
const app = new Scheduler({ db, logger: pino({ level: 'warn' }) });
const emails = await app.enqueue('send_email', ['ann', 'bob', 'cy'].map((who, i) => ({ args: [`${who}@example.com`, 'welcome'], when: i })));
const reports = await app.enqueue('build_report', [{ args: ['2030-01'], when: 1 }, { args: ['2030-02'], when: { countdown: 2 } }]);
for (const t of [...emails.map((s) => ({ ...s, name: 'send_email' })), ...reports.map((s) => ({ ...s, name: 'build_report' }))]) {
  console.log(JSON.stringify({ id: t.id, name: t.name, eta: t.eta }));
}
await app.close();
