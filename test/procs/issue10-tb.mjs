// Serves only `tb` (issue 10: two daemons with different handler modules on one database).
import { task } from 'delayd';
import { mark } from './issue10-lib.mjs';

task('tb')(async function (n) {
  mark('S', this.id);
  mark('E', this.id);
  return n;
});
