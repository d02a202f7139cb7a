/** A fresh temporary database path per test, removed afterwards. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDb(): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'delayd-test-'));
  return { path: join(dir, 'test.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
