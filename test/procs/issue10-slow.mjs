// `slow`: takes its argument in ms; start and end lines let a test see who ran what, when.
import { task } from 'delayd';
import { mark, sleep } from './issue10-lib.mjs';

task('slow')(async function (ms) {
  mark('S', this.id);
  await sleep(ms);
  mark('E', this.id);
  return ms;
});
