/**
 * Sizes of the Redis benchmarks: flags of `npm run bench -- --redis` (e.g. --runs=1
 * --only=enqueue,bulk --bulk=20000), each with an environment twin, over the defaults below.
 * A part run alone (`node bench/redis/bulk.js`) reads BENCH_RUNS and the twins.
 */
const SPEC = {
  runs: ['BENCH_RUNS', 3],
  only: ['BENCH_REDIS_ONLY', ''],
  /** Which side to measure: 'delayd,bullmq' (both), or one of them alone. */
  systems: ['BENCH_REDIS_SYSTEMS', 'delayd,bullmq'],
  one: ['BENCH_REDIS_ONE', 5000],
  oneAlways: ['BENCH_REDIS_ONE_ALWAYS', 2000],
  bulk: ['BENCH_REDIS_BULK', 50_000],
  due: ['BENCH_REDIS_DUE', 30_000],
  lateness: ['BENCH_REDIS_LATENESS', 2000],
  memory: ['BENCH_REDIS_MEMORY', 200_000],
  pending: ['BENCH_REDIS_PENDING', 1_000_000],
  catchup: ['BENCH_REDIS_CATCHUP', 100_000],
  probes: ['BENCH_REDIS_PROBES', 2000],
  concurrency: ['BENCH_CONCURRENCY', 50],
};

const TEXT = new Set(['only', 'systems']);

/** Whether `system` ('delayd' or 'bullmq') is to be measured. */
export function measures(o, system) {
  return String(o.systems).split(',').includes(system);
}

/** Fills what `given` lacks from the environment and the defaults (numbers but `only`). */
export function redisOptions(given = {}, env = process.env) {
  const o = {};
  for (const [key, [envName, fallback]] of Object.entries(SPEC)) {
    const raw = given[key] ?? env[envName];
    o[key] = raw === undefined || raw === '' ? fallback : TEXT.has(key) ? String(raw) : Number(raw);
    if (!TEXT.has(key) && !(Number.isFinite(o[key]) && o[key] > 0)) throw new Error(`Expected --${key} to be a number > 0, got ${JSON.stringify(raw)}`);
  }
  return o;
}

/** `--name=value` / `--name value` flags (camelCase keys), refusing names not in SPEC. */
export function parseRedisFlags(argv) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-zA-Z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`Unexpected argument ${argv[i]}; options look like --runs=3`);
    const key = m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in SPEC)) throw new Error(`Unknown option --${m[1]} for --redis; expected one of ${Object.keys(SPEC).join(', ')}`);
    const next = argv[i + 1];
    flags[key] = m[2] ?? (next !== undefined && !next.startsWith('--') ? (i++, next) : '');
  }
  return redisOptions(flags);
}
