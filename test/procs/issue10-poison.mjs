// A poison task that ends its process on every attempt, and an innocent one.
import { task } from 'delayd';
import { mark } from './issue10-lib.mjs';

task('crash')(function () {
  mark('S', this.id);
  process.exit(0); // looks clean; the daemon must not exit 0
});

task('hardcrash')(function () {
  mark('S', this.id);
  process.kill(process.pid, 'SIGKILL');
});

task('innocent')(function () {
  mark('S', this.id);
  mark('E', this.id);
  return 'fine';
});
