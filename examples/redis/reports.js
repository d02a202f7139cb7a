// The handler module of the "reports" daemon: it serves build_report only (see emails.js).
//   delayd daemon --db redis://127.0.0.1:6390 --handlers examples/redis/reports.js
import { task } from 'delayd';

task('build_report', { timeout: 30 })(async function (month) {
  console.log(`[reports pid ${process.pid}] task ${this.id}: report for ${month}, ${Date.now() - this.eta.getTime()} ms after its eta`);
  return { month, rows: month.length * 100 };
});
