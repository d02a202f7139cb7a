/** Without the optional `redis` package, a redis:// db says how to install it (E_MISSING_DEPENDENCY), at first use. */
import { expect, it, vi } from 'vitest';

vi.mock('redis', () => {
  throw new Error("Cannot find package 'redis' imported from delayd");
});

it('refuses with E_MISSING_DEPENDENCY and an install hint, without touching the network', async () => {
  const { openStore } = await import('../../src/store/open.js');
  const store = openStore({ db: 'redis://127.0.0.1:1' });
  await expect(store.stats()).rejects.toMatchObject({
    code: 'E_MISSING_DEPENDENCY',
    message: expect.stringContaining('npm install redis@^6'),
  });
  await store.close();
});
