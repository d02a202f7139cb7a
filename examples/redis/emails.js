// The handler module of the "emails" daemon: it serves send_email, nothing else. Another
// daemon on the same Redis serves build_report (reports.js); each claims only the names it
// serves, so a task always runs where its handler is.
//   delayd daemon --db redis://127.0.0.1:6390 --handlers examples/redis/emails.js
import { task } from 'delayd';

task('send_email', { retries: 3, backoff: 2 })(async function (to, subject) {
  // A real handler would call the mail service here; this one says who ran what, and when.
  console.log(`[emails pid ${process.pid}] task ${this.id}: mail to ${to} "${subject}", attempt ${this.attempt}, ${Date.now() - this.eta.getTime()} ms after its eta`);
  return { to, sentAt: new Date().toISOString() };
});
