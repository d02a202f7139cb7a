/** Child processes for the multi-process tests: start, wait for readiness, kill, read logs. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../../src/store/sqlite/index.js';

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

export function startWorker(db: string, log: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [here('./worker.mjs'), db, log], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
    child.stdout!.once('data', () => {
      child.removeAllListeners('exit');
      resolve(child);
    });
  });
}

export function runProducer(db: string, from: number, count: number): Promise<void> {
  const child = spawn(process.execPath, [here('./producer.mjs'), db, String(from), String(count)], { stdio: 'inherit' });
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`producer exited with ${code}`)))),
  );
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Polls the database (read-only use) until `done` holds or `timeoutMs` passes. */
export async function waitFor(db: string, done: (store: SqliteStore) => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const store = new SqliteStore({ path: db, mustExist: true });
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await done(store)) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return await done(store);
  } finally {
    await store.close();
  }
}

export interface Execution {
  id: number;
  pid: number;
  startMs: number;
  endMs: number | undefined;
}

/** Executions per task id, from the workers' start/end lines. */
export function readExecutions(log: string): Map<number, Execution[]> {
  const byId = new Map<number, Execution[]>();
  if (!existsSync(log)) return byId;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [kind, id, pid, at] = line.split(' ');
    if (!kind) continue;
    const list = byId.get(Number(id)) ?? [];
    if (kind === 'S') list.push({ id: Number(id), pid: Number(pid), startMs: Number(at), endMs: undefined });
    else {
      const run = list.find((r) => r.pid === Number(pid) && r.endMs === undefined);
      if (run) run.endMs = Number(at);
    }
    byId.set(Number(id), list);
  }
  return byId;
}
