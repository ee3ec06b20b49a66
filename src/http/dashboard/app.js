// MediaNest Perf dashboard: signs in with a token, fills the last hour from /history (admins),
// follows the live feed (WebSocket, docs/live.md) and shows alerts and optimizations.
// Plain JavaScript, no dependencies, no requests to anything but the daemon (docs/dashboard.md).
//
// For tests and tools the page states what it shows in data attributes: <body data-status>
// ("signed-out", "connecting", "connected", "reconnecting"), data-role, data-history,
// data-frames; each chart's <figure data-points data-live-points data-history-points>.

'use strict';

(function () {
  const API = '/api/v1/performance';
  const TOKEN_KEY = 'medianest.dashboard.token';
  const HOUR = 3600 * 1000;
  // Consecutive points further apart than this are not joined by a line (no data between).
  const GAP = 150 * 1000;
  const COLORS = ['#1d4f91', '#b04a00', '#6b2c91'];

  const $ = (id) => document.getElementById(id);

  // ---- formatting ------------------------------------------------------------------------

  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

  function fixed(v, digits) {
    return Number(v.toFixed(digits)).toString();
  }
  const fmt = {
    percent: (v) => fixed(v, v < 10 ? 1 : 0) + ' %',
    fraction: (v) => fixed(v * 100, v < 0.1 ? 2 : 1) + ' %',
    ms: (v) => (v >= 1000 ? fixed(v / 1000, 2) + ' s' : fixed(v, v < 10 ? 2 : 0) + ' ms'),
    count: (v) => (v >= 1000 ? fixed(v / 1000, 1) + 'k' : fixed(v, v < 10 ? 1 : 0)),
  };

  /// The smallest of 1, 2, 2.5, 5 × 10^k at least `raw`: round tick labels.
  function niceStep(raw) {
    const p = 10 ** Math.floor(Math.log10(raw));
    return [1, 2, 2.5, 5, 10].find((m) => m * p >= raw * (1 - 1e-9)) * p;
  }

  function clock(t) {
    const d = new Date(t);
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  }

  function timeText(iso) {
    const t = Date.parse(iso);
    return Number.isNaN(t) ? String(iso || '') : new Date(t).toLocaleString();
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // ---- charts ----------------------------------------------------------------------------

  /// One <figure>: a canvas with up to three series over the last hour.
  class Chart {
    constructor(id, options) {
      this.figure = $(id);
      this.canvas = this.figure.querySelector('canvas');
      this.latest = this.figure.querySelector('.latest');
      this.note = this.figure.querySelector('.note');
      this.title = this.figure.querySelector('.title').textContent;
      this.format = options.format;
      this.fixedMax = options.max; // undefined: scale to the data
      this.minRange = options.minRange || 1;
      this.series = options.series.map((label, i) => ({ label, color: COLORS[i], points: [] }));
      const legend = this.figure.querySelector('.legend');
      if (this.series.length > 1) {
        this.series.forEach((s, i) => {
          const li = el('li', 's' + i);
          li.appendChild(el('span', null, s.label));
          legend.appendChild(li);
        });
      } else {
        legend.hidden = true;
      }
    }

    /// Adds a point to series `i`; nulls and non-numbers (an unavailable source) are skipped.
    add(i, t, v, source) {
      if (!isNum(v) || !isNum(t)) return;
      const pts = this.series[i].points;
      const p = { t, v, source };
      if (pts.length === 0 || pts[pts.length - 1].t < t) {
        pts.push(p);
      } else {
        // History arriving after live frames: insert in order, a live point wins a tie.
        let k = pts.length;
        while (k > 0 && pts[k - 1].t > t) k--;
        if (k > 0 && pts[k - 1].t === t) return;
        pts.splice(k, 0, p);
      }
    }

    clear() {
      for (const s of this.series) s.points = [];
      this.setNote('');
    }

    setNote(text) {
      this.note.textContent = text;
      this.note.hidden = !text;
    }

    trim(now) {
      const from = now - HOUR;
      for (const s of this.series) {
        let k = 0;
        while (k < s.points.length && s.points[k].t < from) k++;
        if (k) s.points.splice(0, k);
      }
    }

    count(source) {
      let n = 0;
      for (const s of this.series)
        for (const p of s.points) if (!source || p.source === source) n++;
      return n;
    }

    draw(now) {
      // The daemon's clock decides where "now" is when the browser's lags behind it.
      for (const s of this.series) if (s.points.length) now = Math.max(now, s.points[s.points.length - 1].t);
      this.trim(now);
      const total = this.count();
      this.figure.dataset.points = String(total);
      this.figure.dataset.livePoints = String(this.count('live'));
      this.figure.dataset.historyPoints = String(this.count('history'));

      const latest = this.series
        .filter((s) => s.points.length)
        .map((s) => (this.series.length > 1 ? s.label + ' ' : '') + this.format(s.points[s.points.length - 1].v));
      this.latest.textContent = latest.join(' · ');
      this.canvas.setAttribute('aria-label', this.title + ' over the last hour: '
        + (latest.length ? 'latest ' + latest.join(', ') + ', ' + total + ' points' : 'no data yet'));

      const dpr = window.devicePixelRatio || 1;
      const w = this.canvas.clientWidth;
      const h = this.canvas.clientHeight;
      if (!w || !h) return;
      if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
        this.canvas.width = Math.round(w * dpr);
        this.canvas.height = Math.round(h * dpr);
      }
      const g = this.canvas.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, w, h);

      let max = this.fixedMax;
      if (max === undefined) {
        max = this.minRange;
        for (const s of this.series) for (const p of s.points) max = Math.max(max, p.v * 1.1);
        max = niceStep(max / 4) * 4;
      }
      // The axis spans the data held, from 5 minutes (a daemon just started) to the hour.
      let first = now;
      for (const s of this.series) if (s.points.length) first = Math.min(first, s.points[0].t);
      const span = Math.min(HOUR, Math.max(5 * 60 * 1000, now - first + 30 * 1000));
      const left = 58;
      const right = 8;
      const top = 8;
      const bottom = 20;
      const pw = w - left - right;
      const ph = h - top - bottom;
      const from = now - span;
      const x = (t) => left + ((t - from) / span) * pw;
      const y = (v) => top + ph - (Math.min(v, max) / max) * ph;

      g.font = '11px system-ui, sans-serif';
      g.lineWidth = 1;
      g.strokeStyle = '#d5dbe3';
      g.fillStyle = '#4a5563';
      g.textBaseline = 'middle';
      g.textAlign = 'right';
      for (let k = 0; k <= 4; k++) {
        const v = (max * k) / 4;
        const yy = Math.round(y(v)) + 0.5;
        g.beginPath();
        g.moveTo(left, yy);
        g.lineTo(w - right, yy);
        g.stroke();
        g.fillText(this.format(v), left - 6, yy);
      }
      g.textAlign = 'center';
      g.textBaseline = 'top';
      const step = [1, 2, 5, 10, 15].find((m) => span / (m * 60 * 1000) <= 6) * 60 * 1000;
      for (let t = Math.ceil(from / step) * step; t <= now; t += step)
        g.fillText(clock(t), Math.min(Math.max(x(t), left + 14), w - right - 14), top + ph + 5);

      if (total === 0) {
        g.textBaseline = 'middle';
        g.fillText('waiting for data…', left + pw / 2, top + ph / 2);
        return;
      }
      g.save();
      g.beginPath();
      g.rect(left, top - 2, pw + 2, ph + 4);
      g.clip();
      g.lineWidth = 1.8;
      g.lineJoin = 'round';
      this.series.forEach((s) => {
        g.strokeStyle = s.color;
        g.fillStyle = s.color;
        let prev = null;
        g.beginPath();
        for (const p of s.points) {
          if (prev && p.t - prev.t <= GAP) {
            g.lineTo(x(p.t), y(p.v));
          } else {
            g.moveTo(x(p.t), y(p.v));
          }
          prev = p;
        }
        g.stroke();
        // A lone point (no neighbour within GAP) would be invisible as a line: draw a dot.
        s.points.forEach((p, k) => {
          const before = k > 0 && p.t - s.points[k - 1].t <= GAP;
          const after = k + 1 < s.points.length && s.points[k + 1].t - p.t <= GAP;
          if (!before && !after) {
            g.beginPath();
            g.arc(x(p.t), y(p.v), 2.5, 0, 2 * Math.PI);
            g.fill();
          }
        });
      });
      g.restore();
    }
  }

  // ---- state -----------------------------------------------------------------------------

  const state = {
    token: null,
    role: 'user',
    socket: null,
    attempt: 0,
    retryTimer: null,
    summaryTimer: null,
    frames: 0,
    session: 0, // bumped at every sign-in and sign-out: late answers of an earlier one are dropped
    alerts: new Map(), // id -> alert event
    runs: [], // admins: optimization runs, newest first
  };

  let charts = null;

  function makeCharts() {
    return {
      cpu: new Chart('chart-cpu', { series: ['cpu'], format: fmt.percent, max: 100 }),
      memory: new Chart('chart-memory', { series: ['memory'], format: fmt.percent, max: 100 }),
      response: new Chart('chart-response', { series: ['avg', 'p95', 'p99'], format: fmt.ms, minRange: 10 }),
      rpm: new Chart('chart-rpm', { series: ['requests/min'], format: fmt.count, minRange: 10 }),
      errors: new Chart('chart-errors', { series: ['error rate'], format: fmt.fraction, minRange: 0.01 }),
      cache: new Chart('chart-cache', { series: ['hit rate'], format: fmt.fraction, max: 1 }),
    };
  }

  let drawQueued = false;
  function redraw() {
    if (drawQueued) return;
    drawQueued = true;
    // requestAnimationFrame does not run in a hidden tab; a timeout does, slower.
    const run = () => {
      if (!drawQueued) return;
      drawQueued = false;
      const now = Date.now();
      for (const c of Object.values(charts)) c.draw(now);
    };
    window.requestAnimationFrame(run);
    setTimeout(run, 250);
  }

  function setStatus(status, text) {
    document.body.dataset.status = status;
    $('connection').textContent = text;
  }

  // ---- token -----------------------------------------------------------------------------

  /// The token's claims, read without checking the signature: only to pick what to show;
  /// the daemon checks every request.
  function claimsOf(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
    } catch (e) {
      return null;
    }
  }

  function tokenFromFragment() {
    if (!location.hash) return null;
    const params = new URLSearchParams(location.hash.slice(1));
    const token = params.get('token');
    if (token) history.replaceState(null, '', location.pathname + location.search);
    return token;
  }

  function signIn(token) {
    const claims = claimsOf(token);
    let problem = '';
    if (!claims) problem = 'That does not look like a JWT (three dot-separated parts).';
    else if (isNum(claims.exp) && claims.exp * 1000 < Date.now())
      problem = 'This token expired at ' + new Date(claims.exp * 1000).toLocaleString() + '.';
    if (problem) {
      sessionStorage.removeItem(TOKEN_KEY);
      $('login-error').textContent = problem;
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    state.token = token;
    state.role = claims.role === 'admin' ? 'admin' : 'user';
    $('login-error').textContent = '';
    $('token').value = '';
    start();
  }

  function signOut(reason) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    state.session++;
    clearTimeout(state.retryTimer);
    clearInterval(state.summaryTimer);
    if (state.socket) {
      const s = state.socket;
      state.socket = null;
      s.close(1000, 'signed out');
    }
    $('board').hidden = true;
    $('who').hidden = true;
    $('login').hidden = false;
    $('health').textContent = '';
    $('login-error').textContent = reason || '';
    setStatus('signed-out', 'Signed out');
    $('token').focus();
  }

  // ---- REST ------------------------------------------------------------------------------

  /// Calls the API with the token; resolves to {status, body} (body: the parsed envelope or
  /// null). A 401 signs out: the token expired or was revoked.
  async function api(path, init) {
    const session = state.session;
    const options = Object.assign({ headers: {} }, init || {});
    options.headers.Authorization = 'Bearer ' + state.token;
    let res;
    try {
      res = await fetch(API + path, options);
    } catch (e) {
      return { status: 0, body: null, error: 'the daemon cannot be reached' };
    }
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      body = null;
    }
    if (res.status === 401 && state.token && session === state.session) signOut('The daemon refused the token (expired or not valid here).');
    return { status: res.status, body };
  }

  function errorText(r) {
    const e = r.body && r.body.error;
    if (!e) return r.error || 'HTTP ' + r.status;
    let text = e.code + ' (' + e.statusCode + '): ' + e.message;
    if (e.details && Object.keys(e.details).length) text += ' — ' + JSON.stringify(e.details);
    return text;
  }

  const HISTORY = [
    ['cpu', 'cpu', (p) => [p.value]],
    ['memory', 'memory', (p) => [p.value]],
    ['response_time', 'response', (p) => [p.value, p.p95, p.p99]],
    ['requests_per_minute', 'rpm', (p) => [p.value]],
    ['error_rate', 'errors', (p) => [p.value]],
    ['cache_hit_rate', 'cache', (p) => [p.value]],
  ];

  /// Admins: the last hour at 1-minute resolution, one request per metric.
  async function loadHistory() {
    if (state.role !== 'admin') {
      document.body.dataset.history = 'not-allowed';
      $('history-note').textContent = 'The last hour from /history is for admins; this view shows live data since it opened.';
      $('history-note').hidden = false;
      return;
    }
    document.body.dataset.history = 'loading';
    const session = state.session;
    const results = await Promise.all(HISTORY.map(([metric, chart, values]) =>
      api('/history?metric=' + metric + '&period=1h&granularity=1m').then((r) => {
        if (session !== state.session) return null;
        if (r.status !== 200 || !r.body || !r.body.data) return errorText(r);
        for (const p of r.body.data.dataPoints || []) {
          const t = Date.parse(p.timestamp);
          values(p).forEach((v, i) => charts[chart].add(i, t, v, 'history'));
        }
        return null;
      })));
    if (session !== state.session) return;
    const failed = results.filter((e) => e);
    document.body.dataset.history = failed.length ? 'error' : 'loaded';
    $('history-note').textContent = failed.length ? 'History could not be read: ' + failed[0] : '';
    $('history-note').hidden = !failed.length;
    redraw();
  }

  async function refreshSummary() {
    const session = state.session;
    const r = await api('/summary');
    if (session !== state.session) return;
    if (r.status !== 200 || !r.body || !r.body.data) {
      $('health').textContent = 'Summary unavailable: ' + errorText(r);
      return;
    }
    const d = r.body.data;
    const health = $('health');
    health.textContent = 'Status';
    health.appendChild(el('span', 'badge ' + d.status, d.status));
    health.appendChild(document.createTextNode(d.score === null ? ' (no data yet)' : ' score ' + d.score));
    state.alerts = new Map((d.alerts || []).map((a) => [a.id, a]));
    renderAlerts();
    if (state.role !== 'admin') renderRecent(d.recentOptimizations || []);
  }

  async function refreshRuns() {
    const session = state.session;
    const r = await api('/optimize?limit=10');
    if (session !== state.session) return;
    if (r.status === 200 && r.body && r.body.data) {
      state.runs = r.body.data.optimizations || [];
      renderRuns();
    }
  }

  // ---- alerts and optimizations ----------------------------------------------------------

  /// The unit of an alert's value by its metric (alerts.md's table).
  function alertFormat(metric) {
    const m = String(metric || '');
    const f = m.startsWith('responseTime') || m === 'queryTime' ? fmt.ms
      : m === 'errorRate' || m === 'cacheHitRate' ? fmt.fraction
        : m === 'memoryUsage' || m === 'cpuUsage' ? fmt.percent : null;
    return (v) => (!isNum(v) ? String(v) : f ? f(v) : String(v));
  }

  function renderAlerts() {
    const list = $('alerts');
    list.replaceChildren();
    const alerts = [...state.alerts.values()].sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
    for (const a of alerts) {
      const li = el('li');
      li.appendChild(el('span', 'badge ' + a.severity, a.severity));
      const f = alertFormat(a.metric);
      li.appendChild(document.createTextNode(' ' + a.metric + ': ' + f(a.value) + ' past ' + f(a.threshold)));
      li.appendChild(el('div', 'meta', 'since ' + timeText(a.startedAt) + ' · ' + a.id));
      list.appendChild(li);
    }
    list.dataset.count = String(alerts.length);
    $('alerts-empty').hidden = alerts.length > 0;
  }

  function renderRecent(entries) {
    const list = $('optimizations');
    list.replaceChildren();
    for (const e of entries) {
      const li = el('li');
      li.appendChild(el('strong', null, e.action));
      li.appendChild(document.createTextNode(' — ' + (e.impact || '')));
      li.appendChild(el('div', 'meta', timeText(e.timestamp) + (e.description ? ' · ' + e.description : '')));
      list.appendChild(li);
    }
    list.dataset.count = String(entries.length);
    $('optimizations-empty').hidden = entries.length > 0;
  }

  function renderRuns() {
    const list = $('optimizations');
    list.replaceChildren();
    for (const run of state.runs) {
      const li = el('li');
      li.appendChild(el('span', 'badge ' + run.status, run.status));
      li.appendChild(document.createTextNode(' ' + run.optimizationId + ' '));
      li.appendChild(el('span', 'meta', run.trigger + (run.aggressive ? ', aggressive' : '')
        + ' · ' + timeText(run.startedAt) + (isNum(run.duration) ? ' · ' + run.duration + ' s' : '')));
      const details = el('ul', 'detail');
      for (const r of run.results || []) {
        const imps = Object.entries(r.improvements || {})
          .map(([k, v]) => k + ' ' + (v === null ? 'not measured' : v));
        let text = r.type + ': ' + r.status + (imps.length ? ' — ' + imps.join(', ') : '');
        if (r.error) text += ' — ' + r.error.message;
        details.appendChild(el('li', null, text));
      }
      li.appendChild(details);
      list.appendChild(li);
    }
    list.dataset.count = String(state.runs.length);
    $('optimizations-empty').hidden = state.runs.length > 0;
  }

  function upsertRun(run) {
    if (!run || !run.optimizationId) return;
    state.runs = state.runs.filter((r) => r.optimizationId !== run.optimizationId);
    state.runs.push(run);
    state.runs.sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
    state.runs = state.runs.slice(0, 10);
    renderRuns();
  }

  async function startOptimization(ev) {
    ev.preventDefault();
    const form = ev.target;
    const types = [...form.querySelectorAll('input[name=type]:checked')].map((i) => i.value);
    const out = $('optimize-result');
    out.classList.remove('failed');
    if (!types.length) {
      out.textContent = 'Choose at least one type.';
      out.classList.add('failed');
      return;
    }
    const button = form.querySelector('button');
    button.disabled = true;
    out.textContent = 'Starting…';
    const session = state.session;
    const r = await api('/optimize', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ optimizations: types, aggressive: form.elements.aggressive.checked }),
    });
    button.disabled = false;
    if (session !== state.session) return;
    if (r.status === 200 && r.body && r.body.success) {
      const d = r.body.data;
      out.textContent = 'Started ' + d.optimizationId + ' (' + d.optimizations.map((o) => o.type).join(', ')
        + '), estimated ' + d.estimatedDuration + ' s.';
      refreshRuns();
    } else {
      out.textContent = errorText(r);
      out.classList.add('failed');
    }
  }

  // ---- live feed -------------------------------------------------------------------------

  function onMetrics(frame) {
    const d = frame.data || {};
    let t = Date.parse(d.timestamp);
    if (Number.isNaN(t)) t = isNum(frame.at) ? frame.at : Date.now();
    state.frames++;
    document.body.dataset.frames = String(state.frames);
    if (d.currentMetrics) {
      // A user's frame: the /summary figures only.
      const m = d.currentMetrics;
      charts.cpu.add(0, t, m.cpuUsage, 'live');
      charts.memory.add(0, t, m.memoryUsage, 'live');
      charts.response.add(0, t, m.responseTime, 'live');
      charts.errors.add(0, t, m.errorRate, 'live');
      charts.cache.add(0, t, m.cacheHitRate, 'live');
      charts.response.setNote('p95 and p99 are shown to admins only.');
      charts.rpm.setNote('Requests per minute are shown to admins only.');
    } else {
      const apiSec = d.api || {};
      const system = d.system || {};
      const cache = d.cache || {};
      charts.cpu.add(0, t, system.cpu && system.cpu.usage, 'live');
      charts.memory.add(0, t, system.memory && system.memory.percentage, 'live');
      charts.response.add(0, t, apiSec.averageResponseTime, 'live');
      charts.response.add(1, t, apiSec.p95ResponseTime, 'live');
      charts.response.add(2, t, apiSec.p99ResponseTime, 'live');
      charts.rpm.add(0, t, apiSec.requestsPerMinute, 'live');
      charts.errors.add(0, t, apiSec.errorRate, 'live');
      charts.cache.add(0, t, cache.hitRate, 'live');
      const down = (section) => (section.status === 'unavailable' ? 'Source unavailable: ' + (section.error || 'no sample yet') : '');
      for (const c of [charts.cpu, charts.memory]) c.setNote(down(system));
      for (const c of [charts.response, charts.rpm, charts.errors]) c.setNote(down(apiSec));
      charts.cache.setNote(down(cache));
    }
    redraw();
  }

  function onFrame(frame) {
    switch (frame.type) {
      case 'hello': {
        const d = frame.data || {};
        state.attempt = 0;
        if (d.role === 'admin' || d.role === 'user') state.role = d.role;
        setStatus('connected', 'Live' + (isNum(d.interval) ? ' · every ' + d.interval + ' ms' : ''));
        break;
      }
      case 'metrics':
        onMetrics(frame);
        break;
      case 'alert': {
        const a = frame.data;
        if (!a || !a.id) break;
        if (a.state === 'resolved') state.alerts.delete(a.id);
        else state.alerts.set(a.id, a);
        renderAlerts();
        break;
      }
      case 'optimization':
        if (state.role === 'admin') upsertRun(frame.data);
        break;
      case 'error':
        console.warn('live feed:', frame.data && frame.data.message);
        break;
      default:
        break;
    }
  }

  const CLOSE_TEXT = {
    1000: 'closed', 1001: 'the daemon is going away', 1006: 'connection lost',
    1008: 'policy', 1009: 'message too big', 1011: 'server error', 1013: 'try again later',
  };

  function connect() {
    if (!state.token) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = scheme + '//' + location.host + API + '/live?token=' + encodeURIComponent(state.token);
    setStatus(state.attempt ? 'reconnecting' : 'connecting', 'Connecting to the live feed…');
    let opened = false;
    const ws = new WebSocket(url);
    state.socket = ws;
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (ev) => {
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (frame && typeof frame === 'object') onFrame(frame);
    };
    ws.onclose = (ev) => {
      if (state.socket !== ws) return; // signed out, or replaced
      state.socket = null;
      const why = ev.reason || CLOSE_TEXT[ev.code] || 'code ' + ev.code;
      const delay = Math.min(30000, 1000 * 2 ** state.attempt) * (0.8 + Math.random() * 0.4);
      state.attempt = Math.min(state.attempt + 1, 5);
      setStatus('reconnecting', 'Live feed closed (' + ev.code + ': ' + why + '); retrying in '
        + Math.round(delay / 1000) + ' s');
      // A refused handshake looks like any lost connection: /summary tells a bad token apart.
      if (!opened) refreshSummary();
      state.retryTimer = setTimeout(connect, delay);
    };
  }

  // ---- start -----------------------------------------------------------------------------

  function start() {
    $('login').hidden = true;
    $('board').hidden = false;
    $('who').hidden = false;
    $('role').textContent = 'Signed in as ' + state.role;
    document.body.dataset.role = state.role;
    $('optimize-form').hidden = state.role !== 'admin';
    state.session++;
    for (const c of Object.values(charts)) c.clear();
    state.frames = 0;
    state.attempt = 0;
    state.runs = [];
    state.alerts = new Map();
    renderAlerts();
    renderRuns();
    $('optimize-result').textContent = '';
    redraw();
    refreshSummary();
    loadHistory();
    if (state.role === 'admin') refreshRuns();
    clearInterval(state.summaryTimer);
    state.summaryTimer = setInterval(refreshSummary, 30000);
    connect();
  }

  function init() {
    charts = makeCharts();
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const token = $('token').value.trim();
      if (token) signIn(token);
      else $('login-error').textContent = 'Paste a token first.';
    });
    $('sign-out').addEventListener('click', () => signOut(''));
    $('optimize-form').addEventListener('submit', startOptimization);
    window.addEventListener('resize', redraw);
    // The time axis moves even when no frame comes.
    setInterval(() => state.token && redraw(), 10000);

    const token = tokenFromFragment() || sessionStorage.getItem(TOKEN_KEY);
    if (token) signIn(token);
    else setStatus('signed-out', 'Signed out');
  }

  init();
})();
