/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core), served by a
 * daemon in a child process: counts change after an enqueue, the cursor moves, a failed task
 * is retried with its button and runs, and hostile args and errors show as text, never as
 * markup. With SAVE_SCREENSHOT=1 it also writes docs/dashboard.png for the README.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { type Daemon, tempDir } from './fixtures/cli.js';
import { httpDaemon, TOKEN, tokenFile } from './http-lib.js';

// The browser's globals, as the callbacks given to page.evaluate see them (this program has no DOM types).
declare const document: any;
declare const window: any;

const FLAKY = fileURLToPath(new URL('./fixtures/http-handlers.js', import.meta.url));
const SCRIPT = '<script>window.__pwned = 1</script>';
const IMG = '"><img src=x onerror="window.__pwned = 2">';

let tmp: ReturnType<typeof tempDir>;
let daemon: Daemon;
let url: string;
let profile: string;
let context: BrowserContext;
let page: Page;

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(answer)}`);
  return answer;
}

const text = (selector: string) => page.locator(selector).innerText();

beforeAll(async () => {
  tmp = tempDir();
  ({ daemon, url } = await httpDaemon(tmp.db, ['--handlers', FLAKY, '--http', '127.0.0.1:0', '--http-token-file', tokenFile(tmp.dir)]));
  profile = mkdtempSync(join(tmpdir(), 'delayd-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 1100 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${url}/`);
  await page.waitForFunction(() => /^\d+$/.test(document.getElementById('count-scheduled')?.textContent ?? ''));
}, 60_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await daemon?.stop();
  tmp?.remove();
});

describe('the dashboard in a browser', () => {
  it('shows the counts change after an enqueue, and the ring load with them', async () => {
    const before = Number(await text('#count-scheduled'));
    const load = Number(await page.locator('#ring').getAttribute('data-load'));
    // Within the next hour and a half: all three are on the ring (this hour's or the next).
    await api('POST', '/tasks/bulk', Array.from({ length: 3 }, (_, i) => ({ name: 'slow', args: [i], countdown: 1800 + i * 600 })));
    await page.waitForFunction((n) => Number(document.getElementById('count-scheduled')?.textContent) === n, before + 3, { timeout: 10_000 });
    await page.waitForFunction((n) => Number(document.getElementById('ring')?.dataset.load) === n, load + 3, { timeout: 10_000 });
  });

  it('moves the cursor every second', async () => {
    const first = Number(await page.locator('#ring').getAttribute('data-cursor'));
    expect(first).toBeGreaterThan(1_700_000_000);
    await page.waitForFunction((c) => Number(document.getElementById('ring')?.dataset.cursor) >= c + 2, first, { timeout: 10_000 });
    expect(await text('#cursor-text')).toMatch(/^cursor: second \d+ \(slot \d+, /);
  });

  it('shows hostile args and errors as text: no script runs, no element is made', async () => {
    const { id } = await api('POST', '/tasks', { name: 'boom', args: [`${SCRIPT}${IMG}`, IMG] });
    const row = page.locator('#failures tbody tr', { hasText: `${SCRIPT}${IMG}` });
    await row.first().waitFor({ timeout: 10_000 });
    const cells = await row.first().locator('td').allInnerTexts();
    expect(cells[0]).toBe(String(id));
    expect(cells[2]).toBe(JSON.stringify([`${SCRIPT}${IMG}`, IMG]));
    expect(cells[3]).toBe(`Error: ${SCRIPT}${IMG}`);
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);
    // The task's full detail by id, escaped the same way.
    await page.fill('#detail-id', String(id));
    await page.click('#detail-form button');
    await page.waitForFunction(() => (document.getElementById('detail')?.textContent ?? '').includes('"state": "failed"'));
    expect(await text('#detail')).toContain('<img src=x onerror=');
    expect(await page.locator('#detail *').count()).toBe(0);
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
  });

  it('retries a failed task with its button (after asking for the token) and shows it run', async () => {
    const { id } = await api('POST', '/tasks', { name: 'flaky', args: ['again'] });
    const button = page.locator(`#failures button.retry[data-id="${id}"]`);
    await button.waitFor({ timeout: 10_000 });
    await button.click();
    await page.waitForFunction(() => (document.getElementById('status')?.textContent ?? '').includes('Enter the API token'));
    expect((await api('GET', `/tasks/${id}`)).state).toBe('failed');
    await page.fill('#token', TOKEN);
    await page.click('#token-save');
    expect(await page.inputValue('#token')).toBe(''); // not left in the field
    await page.locator(`#failures button.retry[data-id="${id}"]`).click();
    await page.waitForFunction((taskId) => !document.querySelector(`#failures button.retry[data-id="${taskId}"]`), id, { timeout: 10_000 });
    const succeeded = async () => (await api('GET', `/tasks/${id}`)).state === 'succeeded';
    for (let i = 0; i < 200 && !(await succeeded()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await page.fill('#detail-id', String(id));
    await page.click('#detail-form button');
    await page.waitForFunction(() => (document.getElementById('detail')?.textContent ?? '').includes('"state": "succeeded"'), undefined, { timeout: 10_000 });
    expect(await text('#detail')).toContain('"attempts": 2');
    expect(page.url()).not.toContain(TOKEN);
  });

  it('draws a screenshot of a busy wheel', async () => {
    // Due over the next two hours, denser in some minutes than in others.
    const now = Date.now();
    const items = Array.from({ length: 3000 }, (_, i) => ({ name: 'slow', args: [i], eta: new Date(now + 60_000 + (((i * 7919) % 6000) * (1 + Math.sin(i))) * 500).toISOString() }));
    await api('POST', '/tasks/bulk', items);
    await api('POST', '/tasks/bulk', Array.from({ length: 200 }, (_, i) => ({ name: 'fast', args: [i], countdown: (i % 20) / 4 })));
    await page.waitForFunction(() => (document.getElementById('throughput-text')?.textContent ?? '').match(/ (\d+) in 5 minutes/)?.[1] !== '0', undefined, { timeout: 15_000 });
    const store = new SqliteStore({ path: tmp.db, busyTimeoutMs: 2000 });
    const item = (i: number) => ({ name: i % 3 ? 'fast' : 'slow', args: `[${i % 3 ? i : 60_000}]`, dueMs: now, createdMs: now, key: null, retries: null, backoffMs: null, timeoutMs: null });
    await store.insertBatch({ name: 'fast', key: null, createdMs: now, dueMs: now, reduce: null }, Array.from({ length: 30 }, (_, i) => item(i)));
    await store.close();
    await page.fill('#detail-id', '2');
    await page.click('#detail-form button');
    await page.waitForFunction(() => document.querySelectorAll('#batches .batch').length > 0, undefined, { timeout: 10_000 });
    await page.waitForTimeout(1500);
    await page.evaluate(() => window.scrollTo(0, 0));
    const file = join(tmp.dir, 'dashboard.png');
    await page.screenshot({ path: file });
    if (process.env.SAVE_SCREENSHOT === '1') {
      mkdirSync(fileURLToPath(new URL('../docs/', import.meta.url)), { recursive: true });
      copyFileSync(file, fileURLToPath(new URL('../docs/dashboard.png', import.meta.url)));
    }
  });
});
