// Handler bugs that must not take the daemon down (red-team 3), and one that ends it.
import { task } from 'delayd';
import { mark } from './issue10-lib.mjs';

task('throw_nullproto')(async function () {
  throw Object.create(null);
});
task('floating_reject')(async function () {
  Promise.reject(new Error('forgotten promise'));
  return 'ok';
});
task('timer_throw')(async function () {
  setTimeout(() => {
    throw new Error('thrown in a timer');
  }, 10);
  return 'ok';
});
task('throw_obj')(async function () {
  throw { message: 'obj msg', code: 'E_OBJ' };
});
task('ret_bigint')(async function () {
  return 10n;
});
task('ok')(function () {
  mark('S', this.id);
  return 'ok';
});
