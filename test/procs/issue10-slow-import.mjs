// A handler module that takes a while to import (a signal may come meanwhile).
import { task } from 'delayd';
import { mark, sleep } from './issue10-lib.mjs';

task('rec')(function () {
  mark('S', this.id);
});
process.stdout.write('{"msg":"importing"}\n');
await sleep(Number(process.env.IMPORT_MS ?? 1500));
