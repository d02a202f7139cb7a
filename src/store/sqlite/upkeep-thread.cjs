/**
 * The upkeep thread (upkeep.ts starts it): WAL checkpoints and hour-bucket joins on a
 * connection of its own. Plain CommonJS so the same file runs from dist/ and from the sources
 * under test; tsc copies it into dist/ (allowJs in tsconfig.build.json). It loads the
 * better-sqlite3 the store resolved, and reports its failures to the store as messages.
 */
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const closed = new Int32Array(workerData.closed);
let db;
let timer;
const finish = () => {
  clearInterval(timer);
  try { db?.close(); } catch {}
  Atomics.store(closed, 0, 1);
  Atomics.notify(closed, 0);
  parentPort.close();
};
parentPort.once('message', finish);
// Errors go to the store's onError (once per kind of error and phase, not every 200 ms).
const told = new Set();
const tell = (phase, e) => {
  const text = phase + ': ' + (e && e.message ? e.message : String(e));
  if (told.has(text)) return;
  told.add(text);
  try { parentPort.postMessage({ phase, message: text, code: e && e.code }); } catch {}
};
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('busy_timeout = 0');
  db.pragma('synchronous = ' + workerData.synchronous);
  const sql = workerData.sql;
  const cursor = db.prepare(sql.cursor).pluck();
  const upNext = db.prepare(sql.upNext);
  const joinOne = db.prepare(sql.joinOne);
  const dropOne = db.prepare(sql.dropOne);
  const join = db.transaction((id) => { joinOne.run(id); dropOne.run(id); });
  const joinAhead = () => {
    const second = cursor.get();
    if (second === undefined || second === null) return;
    const horizon = Math.floor(second / workerData.secondsPerCycle) + 1;
    let budget = workerData.joinBudget;
    for (const bucket of upNext.all(horizon, 16)) {
      if (budget <= 0) return;
      join.immediate(bucket.id);
      budget -= bucket.n;
    }
  };
  timer = setInterval(() => {
    try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (e) { tell('checkpoint', e); }
    try { joinAhead(); } catch (e) { if (!String(e && e.code).startsWith('SQLITE_BUSY')) tell('join', e); }
  }, workerData.everyMs);
} catch (e) {
  tell('start', e);
  finish();
}
