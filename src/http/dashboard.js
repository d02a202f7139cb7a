// The dashboard's script, served as it is by the daemon: no imports, no build. It is loaded
// as a module script, since tsc adds `export {}` when it copies it into dist/. It polls
// /dashboard/overview once a second and redraws. Every value from the store (names, args,
// errors, results) is written with textContent or as canvas pixels, never as HTML. The API
// token lives in this page's memory only: never in a URL, a cookie or storage.
(function () {
  'use strict';
  var POLL_MS = 1000;
  var SLOTS = 3600;
  var token = '';
  var last = null;

  function $(id) {
    return document.getElementById(id);
  }

  /** An element with text content (never parsed as HTML) and the given children. */
  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function row(cells) {
    var tr = document.createElement('tr');
    cells.forEach(function (cell) {
      if (cell instanceof Node) {
        var td = document.createElement('td');
        td.appendChild(cell);
        tr.appendChild(td);
      } else tr.appendChild(el('td', cell));
    });
    return tr;
  }

  function fill(tableId, rows, empty) {
    var body = $(tableId).tBodies[0];
    body.replaceChildren();
    if (rows.length === 0) {
      var tr = row([empty]);
      tr.firstChild.colSpan = 6;
      tr.firstChild.className = 'muted';
      body.appendChild(tr);
    }
    rows.forEach(function (r) {
      body.appendChild(r);
    });
  }

  function ago(iso, nowMs) {
    if (!iso) return '';
    var s = Math.round((nowMs - Date.parse(iso)) / 1000);
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.round(s / 60) + ' min ago';
    return Math.round(s / 3600) + ' h ago';
  }

  function headers(extra) {
    var h = extra || {};
    if (token) h.Authorization = 'Bearer ' + token;
    return h;
  }

  function say(text) {
    $('status').textContent = text || '';
  }

  async function getJson(path) {
    var response = await fetch(path, { headers: headers(), cache: 'no-store' });
    var body = await response.json();
    if (!response.ok) throw new Error((body.error && body.error.code) + ': ' + (body.error && body.error.message));
    return body;
  }

  async function poll() {
    try {
      var o = await getJson('/dashboard/overview');
      last = o;
      draw(o);
      say('');
    } catch (error) {
      say('Could not read the overview: ' + error.message);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  function draw(o) {
    $('clock').textContent = o.now + ' · daemon ' + o.owner;
    ['scheduled', 'running', 'succeeded', 'failed', 'cancelled'].forEach(function (state) {
      $('count-' + state).textContent = String(o.counts[state]);
    });
    drawRing(o);
    drawSeries(o.series);
    fill('daemons', o.daemons.map(function (d) {
      return row([d.host + ':' + d.pid + (d.owner === o.owner ? ' (this one)' : ''), d.tasks.join(', '), d.running, ago(d.seen, o.nowMs)]);
    }), 'no live daemon');
    fill('running', o.running.map(function (t) {
      return row([t.id, t.name, t.daemon, ago(t.started, o.nowMs)]);
    }), 'nothing running');
    fill('failures', o.failures.map(failureRow), 'no failed task');
    drawBatches(o.batches);
  }

  function failureRow(t) {
    var button = el('button', 'retry', 'retry');
    button.type = 'button';
    button.dataset.id = String(t.id);
    button.addEventListener('click', function () {
      retry(t.id, button);
    });
    var error = (t.lastErrorCode ? t.lastErrorCode + ': ' : '') + firstLine(t.lastError || '');
    return row([t.id, t.name, el('span', JSON.stringify(t.args), 'code'), el('span', error, 'code'), t.finished || '', button]);
  }

  function firstLine(text) {
    return text.split('\n', 1)[0];
  }

  async function retry(id, button) {
    if (!token) {
      say('Enter the API token above to retry a task.');
      $('token').focus();
      return;
    }
    button.disabled = true;
    try {
      var response = await fetch('/api/v1/tasks/' + encodeURIComponent(id) + '/retry', { method: 'POST', headers: headers() });
      var body = await response.json();
      if (!response.ok) throw new Error(body.error.code + ': ' + body.error.message);
      say('');
      $('status').textContent = '';
      showDetail(body);
    } catch (error) {
      say('Retry of task ' + id + ' failed: ' + error.message);
      button.disabled = false;
    }
  }

  function drawRing(o) {
    var canvas = $('ring');
    var g = canvas.getContext('2d');
    var w = canvas.width;
    var c = w / 2;
    g.clearRect(0, 0, w, w);
    var rings = [
      { from: 0, r0: c * 0.52, r1: c * 0.72 },
      { from: SLOTS, r0: c * 0.75, r1: c * 0.95 },
    ];
    var counts = new Map();
    var max = 1;
    o.load.slots.forEach(function (s) {
      counts.set(s[0], s[1]);
      if (s[1] > max) max = s[1];
    });
    rings.forEach(function (ring) {
      g.fillStyle = '#20242c';
      g.beginPath();
      g.arc(c, c, ring.r1, 0, 2 * Math.PI);
      g.arc(c, c, ring.r0, 0, 2 * Math.PI, true);
      g.fill();
      for (var slot = 0; slot < SLOTS; slot++) {
        var n = counts.get(ring.from + slot);
        if (!n) continue;
        var heat = Math.log(1 + n) / Math.log(1 + max);
        var a0 = angle(slot);
        var a1 = angle(slot + 1) + 0.002;
        g.fillStyle = 'hsl(' + (50 - 50 * heat) + ', 95%, ' + (35 + 30 * heat) + '%)';
        g.beginPath();
        g.arc(c, c, ring.r1, a0, a1);
        g.arc(c, c, ring.r0, a1, a0, true);
        g.fill();
      }
    });
    canvas.dataset.load = String(o.load.total);
    if (o.cursor === null) {
      $('cursor-text').textContent = 'cursor: not started';
      canvas.dataset.cursor = '';
      return;
    }
    var slotNow = ((o.cursor % SLOTS) + SLOTS) % SLOTS;
    var a = angle(slotNow + 0.5);
    g.strokeStyle = '#58a6ff';
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(c + Math.cos(a) * c * 0.2, c + Math.sin(a) * c * 0.2);
    g.lineTo(c + Math.cos(a) * c * 0.98, c + Math.sin(a) * c * 0.98);
    g.stroke();
    g.fillStyle = '#e6e6e6';
    g.font = '13px system-ui, sans-serif';
    g.textAlign = 'center';
    g.fillText('slot ' + slotNow, c, c - 4);
    g.fillStyle = '#8a8f98';
    g.fillText(o.load.total + ' due in 2 h', c, c + 14);
    canvas.dataset.cursor = String(o.cursor);
    canvas.dataset.load = String(o.load.total);
    $('cursor-text').textContent = 'cursor: second ' + o.cursor + ' (slot ' + slotNow + ', ' + o.cursorTime + ')';
  }

  function angle(slot) {
    return (slot / SLOTS) * 2 * Math.PI - Math.PI / 2;
  }

  function drawSeries(points) {
    var late = $('lateness');
    var g = late.getContext('2d');
    g.clearRect(0, 0, late.width, late.height);
    var maxLate = 1;
    var worst = 0;
    points.forEach(function (p) {
      if (p.maxLateMs !== null) maxLate = Math.max(maxLate, p.maxLateMs);
      if (p.p99Ms !== null) worst = Math.max(worst, p.p99Ms);
    });
    line(g, late, points, 'maxLateMs', maxLate, '#8a8f98');
    line(g, late, points, 'p99Ms', maxLate, '#58a6ff');
    $('lateness-text').textContent = 'blue: p99 per second (bin edge), grey: max; scale 0 to ' + maxLate + ' ms; worst p99 ' + worst + ' ms';
    var tp = $('throughput');
    var h = tp.getContext('2d');
    h.clearRect(0, 0, tp.width, tp.height);
    var maxN = 1;
    var total = 0;
    points.forEach(function (p) {
      maxN = Math.max(maxN, p.succeeded + p.failed + p.retried);
      total += p.succeeded + p.failed + p.retried;
    });
    var bw = tp.width / points.length;
    points.forEach(function (p, i) {
      var ok = (p.succeeded / maxN) * tp.height;
      var bad = ((p.failed + p.retried) / maxN) * tp.height;
      h.fillStyle = '#3fb950';
      h.fillRect(i * bw, tp.height - ok, Math.max(bw - 0.5, 0.5), ok);
      h.fillStyle = '#f85149';
      h.fillRect(i * bw, tp.height - ok - bad, Math.max(bw - 0.5, 0.5), bad);
    });
    $('throughput-text').textContent = 'green: succeeded, red: failed or retrying; ' + total + ' in 5 minutes, peak ' + maxN + '/s';
  }

  function line(g, canvas, points, key, max, color) {
    g.strokeStyle = color;
    g.lineWidth = 1.5;
    g.beginPath();
    var step = canvas.width / Math.max(points.length - 1, 1);
    var pen = false;
    var dots = [];
    points.forEach(function (p, i) {
      var v = p[key];
      if (v === null) {
        pen = false;
        return;
      }
      var y = canvas.height - 2 - (v / max) * (canvas.height - 4);
      if (pen) g.lineTo(i * step, y);
      else g.moveTo(i * step, y);
      pen = true;
      dots.push([i * step, y]);
    });
    g.stroke();
    // A second with starts between two without is a point, not a line: mark each one.
    g.fillStyle = color;
    dots.forEach(function (d) {
      g.fillRect(d[0] - 1.5, d[1] - 1.5, 3, 3);
    });
  }

  function drawBatches(batches) {
    var box = $('batches');
    box.replaceChildren();
    if (batches.length === 0) box.appendChild(el('p', 'no batch', 'muted'));
    batches.forEach(function (b) {
      var div = el('div', null, 'batch');
      div.appendChild(el('div', 'batch ' + b.id + ' (' + b.name + '): ' + b.succeeded + ' ok, ' + b.failed + ' failed, ' + b.pending + ' pending of ' + b.total));
      var bar = el('div', null, 'bar');
      var total = Math.max(b.total, 1);
      var ok = el('span', null, 'ok');
      ok.style.width = (100 * b.succeeded) / total + '%';
      var bad = el('span', null, 'bad');
      bad.style.width = (100 * b.failed) / total + '%';
      bar.appendChild(ok);
      bar.appendChild(bad);
      div.appendChild(bar);
      box.appendChild(div);
    });
  }

  function showDetail(task) {
    $('detail').textContent = JSON.stringify(task, null, 2);
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('token-form').addEventListener('submit', function (event) {
      event.preventDefault();
      token = $('token').value.trim();
      $('token').value = '';
      $('token-state').textContent = token ? 'token set (kept in this page only)' : 'no token: read-only';
    });
    $('detail-form').addEventListener('submit', async function (event) {
      event.preventDefault();
      var id = $('detail-id').value.trim();
      if (!/^\d+$/.test(id)) return say('Expected a task id (a positive integer), got ' + JSON.stringify(id));
      try {
        showDetail(await getJson('/dashboard/tasks/' + id));
        say('');
      } catch (error) {
        $('detail').textContent = '';
        say(error.message);
      }
    });
    poll();
  });
})();
