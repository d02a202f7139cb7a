/**
 * What an open dashboard and a Prometheus server do to a daemon, from another process (as a
 * browser and a scraper would): `node bench/http-poller.js URL` GETs /dashboard/overview and
 * /metrics once a second each until SIGTERM, then prints {"overview": n, "metrics": n,
 * "failed": n, "slowestMs": ms} on stdout.
 */
const url = process.argv[2];
const counts = { overview: 0, metrics: 0, failed: 0, slowestMs: 0 };
let stopping = false;

async function get(path, key) {
  const t0 = performance.now();
  try {
    const response = await fetch(`${url}${path}`);
    await response.arrayBuffer();
    if (response.ok) counts[key]++;
    else counts.failed++;
  } catch {
    counts.failed++;
  }
  counts.slowestMs = Math.max(counts.slowestMs, performance.now() - t0);
}

async function loop() {
  while (!stopping) {
    const next = performance.now() + 1000;
    await Promise.all([get('/dashboard/overview', 'overview'), get('/metrics', 'metrics')]);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
  }
}

process.on('SIGTERM', () => {
  stopping = true;
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  process.exit(0);
});
process.stdout.write('ready\n');
void loop();
