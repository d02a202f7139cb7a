/**
 * The dashboard's page and style sheet, served by the daemon as they are (no build step). The
 * script (dashboard.js) fills it from /dashboard/overview once a second and writes every value
 * with textContent, never as HTML; the Content-Security-Policy allows scripts from this server
 * only, so even a value that got into the page as markup could not run.
 */
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>delayd</title>
<link rel="stylesheet" href="/dashboard.css">
<script type="module" src="/dashboard.js"></script>
</head>
<body>
<header>
  <h1>delayd</h1>
  <span id="clock" class="muted"></span>
  <form id="token-form" autocomplete="off">
    <label for="token">API token</label>
    <input id="token" type="password" placeholder="needed to retry or cancel" spellcheck="false">
    <button id="token-save" type="submit">Use</button>
    <span id="token-state" class="muted">no token: read-only</span>
  </form>
</header>
<p id="status" role="status"></p>
<main>
  <section id="counts-section" class="wide">
    <div class="count"><span class="label">scheduled</span><span id="count-scheduled" class="n">-</span></div>
    <div class="count"><span class="label">running</span><span id="count-running" class="n">-</span></div>
    <div class="count"><span class="label">succeeded</span><span id="count-succeeded" class="n">-</span></div>
    <div class="count"><span class="label">failed</span><span id="count-failed" class="n">-</span></div>
    <div class="count"><span class="label">cancelled</span><span id="count-cancelled" class="n">-</span></div>
  </section>
  <section>
    <h2>The wheel</h2>
    <canvas id="ring" width="440" height="440" aria-label="scheduled tasks per slot, this hour (inner ring) and the next (outer ring)"></canvas>
    <p id="cursor-text" class="muted">cursor: not started</p>
    <p class="muted">Inner ring: this hour's 3600 slots; outer ring: the next hour's. Brighter: more tasks due in that second.</p>
  </section>
  <section>
    <h2>Lateness <span class="muted">(this daemon, last 5 minutes)</span></h2>
    <canvas id="lateness" width="520" height="160"></canvas>
    <p id="lateness-text" class="muted"></p>
    <h2>Throughput <span class="muted">(attempts ended per second)</span></h2>
    <canvas id="throughput" width="520" height="120"></canvas>
    <p id="throughput-text" class="muted"></p>
  </section>
  <section>
    <h2>Daemons</h2>
    <table id="daemons"><thead><tr><th>daemon</th><th>serves</th><th>running</th><th>seen</th></tr></thead><tbody></tbody></table>
    <h2>Running</h2>
    <table id="running"><thead><tr><th>id</th><th>name</th><th>daemon</th><th>started</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="wide">
    <h2>Recent failures</h2>
    <table id="failures"><thead><tr><th>id</th><th>name</th><th>args</th><th>error</th><th>finished</th><th></th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Batches</h2>
    <div id="batches"></div>
  </section>
  <section>
    <h2>Task</h2>
    <form id="detail-form" autocomplete="off">
      <input id="detail-id" inputmode="numeric" placeholder="task id">
      <button type="submit">Show</button>
    </form>
    <pre id="detail"></pre>
  </section>
</main>
</body>
</html>
`;

export const PAGE_CSS = `
:root { color-scheme: light dark; --bg: #0f1115; --fg: #e6e6e6; --muted: #8a8f98; --card: #181b21; --line: #2a2e36; --ok: #3fb950; --bad: #f85149; --accent: #58a6ff; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
h1 { font-size: 1.2rem; margin: 0; }
h2 { font-size: .95rem; margin: .2rem 0 .5rem; }
.muted { color: var(--muted); font-size: .85rem; }
#token-form { margin-left: auto; display: flex; gap: .4rem; align-items: center; }
input, button { font: inherit; background: var(--card); color: var(--fg); border: 1px solid var(--line); border-radius: 4px; padding: .2rem .5rem; }
button { cursor: pointer; }
button:hover { border-color: var(--accent); }
#status { margin: .4rem 1rem; min-height: 1.2em; color: var(--bad); }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 1rem; padding: 0 1rem 1rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .8rem; overflow: auto; }
section.wide { grid-column: 1 / -1; }
#counts-section { display: flex; gap: 1rem; flex-wrap: wrap; }
.count { flex: 1; min-width: 120px; }
.count .label { display: block; color: var(--muted); }
.count .n { font-size: 1.8rem; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; padding: .25rem .4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.code { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; max-width: 28rem; }
pre { white-space: pre-wrap; word-break: break-all; font-size: .8rem; max-height: 24rem; overflow: auto; }
.batch { margin-bottom: .5rem; }
.bar { height: .6rem; background: var(--line); border-radius: 3px; overflow: hidden; display: flex; }
.bar .ok { background: var(--ok); }
.bar .bad { background: var(--bad); }
canvas { max-width: 100%; }
`;
