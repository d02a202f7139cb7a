/**
 * The published package, as a user gets it (red-team 18, issue 11): a fresh build packed with
 * npm, unpacked into a new project as node_modules/delayd beside ONLY its production
 * dependencies (symlinked from this checkout: no network, no native rebuild), then type-checked
 * with skipLibCheck: false and run. Optional peers (fake-timers, pino-pretty) are absent at first.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
};
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const bounded = { encoding: 'utf8' as const, timeout: 30_000 };

let tmp: string;
let app: string;
let packed: string[];

/** node_modules/<name> in the app -> the checkout's copy (its own dependencies resolve there). */
function link(name: string): void {
  const at = join(app, 'node_modules', name);
  mkdirSync(dirname(at), { recursive: true });
  symlinkSync(join(root, 'node_modules', name), at, 'dir');
}

function run(file: string, ...args: string[]) {
  return spawnSync(process.execPath, [file, ...args], { ...bounded, cwd: app, env: { ...process.env, DELAYD_LOG_LEVEL: 'info' } });
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'delayd-package-'));
  // A clean build of src/ in a staging copy: what `npm pack` publishes, without stale files in
  // the checkout's dist/ and without touching the dist/ other tests run.
  const stage = join(tmp, 'stage');
  mkdirSync(stage);
  for (const file of ['package.json', 'README.md']) cpSync(join(root, file), join(stage, file));
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], bounded);
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { ...bounded, cwd: stage });
  const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  packed = info!.files.map((f) => f.path);

  app = join(tmp, 'app');
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  execFileSync('tar', ['-xzf', join(tmp, info!.filename), '-C', join(app, 'node_modules')], bounded);
  renameSync(join(app, 'node_modules/package'), join(app, 'node_modules/delayd'));
  for (const name of Object.keys(pkg.dependencies)) link(name);
  link('@types/node'); // the app's own, as any Node project has
}, 60_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds dist/ and the README, and no sources, tests, benchmarks or examples', () => {
    expect(packed).toContain('dist/cli.js');
    expect(packed).toContain('dist/testing.d.ts');
    expect(packed).toContain('README.md');
    expect(packed.filter((p) => !/^(package\.json|README\.md|LICENSE|dist\/)/.test(p))).toEqual([]);
    expect(packed.filter((p) => /\.test\.|^dist\/(test|bench|examples)\//.test(p))).toEqual([]);
  });

  it('the checkout publishes only dist/ and the README too (the files field)', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { ...bounded, cwd: root });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files.filter((p) => !/^(package\.json|README\.md|LICENSE|dist\/)/.test(p))).toEqual([]);
  });

  it('type-checks in a strict consumer with skipLibCheck: false and no extra @types', () => {
    writeFileSync(
      join(app, 'app.ts'),
      [
        'import { Scheduler, task } from "delayd";',
        'import { createTestScheduler, type TestClock } from "delayd/testing";',
        'const send = task("send")((to: string, times: number) => `${to} ${times}`);',
        'const t = createTestScheduler({ now: "2030-01-01T00:00:00Z" });',
        'const clock: TestClock = t.clock;',
        'const s: Scheduler = t.scheduler;',
        'await send.delay(["ann", 2], 60);',
        'await clock.tickAsync(1000);',
        'void s; await t.close();',
      ].join('\n'),
    );
    // The same call with its arguments swapped must not compile: the types are really checked.
    writeFileSync(join(app, 'bad.ts'), 'import { task } from "delayd";\nawait task("x")((a: string, b: number) => a + b).delay([1, "a"], 60);\n');
    const flags = ['--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', 'false', '--noEmit'];
    const result = spawnSync(process.execPath, [tsc, ...flags, 'app.ts', 'bad.ts'], { ...bounded, cwd: app });
    const errors = result.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors.filter((line) => !line.startsWith('bad.ts(')), result.stdout).toEqual([]);
    expect(errors.length, result.stdout).toBeGreaterThan(0);
  });

  it('runs its CLI from the production install', () => {
    const result = run('node_modules/delayd/dist/cli.js', '--version');
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('without pino-pretty logs JSON lines even when asked to be pretty', () => {
    writeFileSync(join(app, 'log.mjs'), 'const { createLogger } = await import("./node_modules/delayd/dist/logger.js");\ncreateLogger({ pretty: true }).info("hello");\n');
    const result = run('log.mjs');
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({ msg: 'hello' });
  });

  it('delayd/testing says what to install without @sinonjs/fake-timers, and works once it is there', () => {
    writeFileSync(
      join(app, 'test.mjs'),
      [
        'import { task } from "delayd";',
        'import { createTestScheduler } from "delayd/testing";',
        'let t;',
        'try { t = createTestScheduler(); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); process.exit(0); }',
        'const ran = [];',
        'const job = task("job")((n) => void ran.push(n));',
        't.scheduler.start();',
        'await job.delay([7], 3600);',
        'await t.advance(3_600_000);',
        'await t.close();',
        'console.log(JSON.stringify({ ran }));',
      ].join('\n'),
    );
    const missing = run('test.mjs');
    expect(missing.stderr).toBe('');
    expect(JSON.parse(missing.stdout)).toEqual({
      code: 'E_MISSING_DEPENDENCY',
      message: expect.stringContaining('delayd/testing needs @sinonjs/fake-timers: npm install -D @sinonjs/fake-timers'),
    });
    link('@sinonjs/fake-timers');
    const present = run('test.mjs');
    expect(present.stderr).toBe('');
    expect(JSON.parse(present.stdout)).toEqual({ ran: [7] });
  });
});
