// The live page of the mesh: services and breakers from /v1/services and
// /v1/breakers, every call from the SSE stream /v1/traces/live drawn as a
// waterfall per trace (the last minutes replayed on open, the newest
// MAX_TRACES kept, filtered by service and by error), and one trace looked
// up by id from /v1/traces/{id}.
'use strict';
(() => {
  const MAX_TRACES = 500;
  const CALL_PREFIX = '/v1/call/'; // the bridge's handling of a call
  const POLL_MS = 5000;
  const params = new URLSearchParams(location.search);
  const since = params.get('since') ?? '5m';

  const $ = (id) => document.getElementById(id);
  const traces = new Map(); // trace id -> {id, spans: Map(span id -> event), card, services, failed}
  const dirty = new Set();
  const seenServices = new Set(); // every service of a trace kept, for the filter
  let renderTimer = 0;
  let calls = 0, errors = 0;

  // el makes an element with a class and text (never HTML).
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // parseTime reads an RFC 3339 time with up to nanoseconds into
  // microseconds since the epoch.
  function parseTime(s) {
    const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s || '');
    if (!m) return NaN;
    const frac = ((m[2] || '') + '000000').slice(0, 6);
    return Date.parse(m[1] + m[3]) * 1000 + Number(frac);
  }

  function fmtDur(us) {
    if (!isFinite(us)) return '';
    if (us < 1000) return Math.round(us) + ' µs';
    if (us < 1e6) return (us / 1000).toFixed(us < 1e4 ? 2 : 1) + ' ms';
    return (us / 1e6).toFixed(2) + ' s';
  }

  function fmtClock(us) {
    const d = new Date(us / 1000);
    const p = (n, w = 2) => String(n).padStart(w, '0');
    return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  }

  const codeText = (c) => (c ? String(c) : 'ok');

  // rowsOf lays a trace out: one row per hop, a booth's handling drawn in
  // the row of the caller's attempt that delivered it, each row after its
  // parent and indented by its depth.
  function rowsOf(events) {
    const bySpan = new Map(events.map((e) => [e.span_id, e]));
    const rowOf = new Map();
    const rows = [];
    const merged = (e) => e.kind === 'server' && bySpan.get(e.parent_span_id)?.kind === 'client';
    for (const e of events) {
      if (merged(e)) continue;
      const row = { main: e, handled: null, children: [] };
      rows.push(row);
      rowOf.set(e.span_id, row);
    }
    for (const e of events) {
      if (!merged(e)) continue;
      const row = rowOf.get(e.parent_span_id);
      if (!row.handled || e.start < row.handled.start) row.handled = e;
      rowOf.set(e.span_id, row); // the booth's own calls nest under this row
    }
    const roots = [];
    for (const row of rows) {
      const parent = rowOf.get(row.main.parent_span_id);
      if (parent && parent !== row) parent.children.push(row);
      else roots.push(row);
    }
    const byStart = (a, b) => a.main._start - b.main._start;
    const out = [];
    const seen = new Set();
    const walk = (row, depth) => {
      if (seen.has(row)) return;
      seen.add(row);
      row.depth = depth;
      out.push(row);
      row.children.sort(byStart).forEach((c) => walk(c, depth + 1));
    };
    roots.sort(byStart).forEach((r) => walk(r, 0));
    rows.filter((r) => !seen.has(r)).forEach((r) => walk(r, 0));
    return out;
  }

  // callOf names the call a root row stands for: the booth and path the
  // bridge called for a bridge's handling ("fee-calc /calculate"), else the
  // hop's own service and path.
  function callOf(row) {
    const e = row.main;
    if (e.kind === 'server' && e.path.startsWith(CALL_PREFIX)) {
      const rest = e.path.slice(CALL_PREFIX.length);
      const i = rest.indexOf('/');
      if (i > 0) return `${rest.slice(0, i)} ${rest.slice(i)}`;
    }
    return `${e.service} ${e.path}`;
  }

  // titleOf titles a trace by its root calls: the first one's caller, the
  // first call and, when there are more, the last ("gateway → fee-calc
  // /calculate … audit-log /record").
  function titleOf(rows) {
    const roots = rows.filter((r) => r.depth === 0);
    if (!roots.length) return '';
    const caller = roots[0].main.caller;
    let t = (caller ? caller + ' → ' : '') + callOf(roots[0]);
    if (roots.length > 1) t += ' … ' + callOf(roots[roots.length - 1]);
    return t;
  }

  // servicesOf lists the identities a trace's hops name, callers and
  // callees, in the order the waterfall first shows them.
  function servicesOf(rows) {
    const out = [];
    const add = (s) => { if (s && !out.includes(s)) out.push(s); };
    for (const row of rows) {
      add(row.main.caller);
      add(row.main.service);
      if (row.handled) add(row.handled.service);
    }
    return out;
  }

  function bar(kind, e, t0, span) {
    const b = el('div', 'bar ' + kind);
    b.style.left = ((e._start - t0) / span * 100).toFixed(3) + '%';
    b.style.width = Math.max(e.duration_us / span * 100, 0.4).toFixed(3) + '%';
    b.title = `${kind === 'server' ? e.service + ' handled' : (e.caller || '?') + ' called'} ${e.path}: ${codeText(e.code)} in ${fmtDur(e.duration_us)}`;
    return b;
  }

  function hopRow(row, t0, span) {
    const e = row.main;
    const h = row.handled;
    const failed = e.code !== 0 || (h && h.code !== 0);
    const div = el('div', 'hop' + (failed ? ' err' : ''));
    // The instance that did the work: the booth's for a delivered attempt.
    const instance = (h ? h.instance : e.instance) || '';
    Object.assign(div.dataset, {
      kind: e.kind, service: e.service, path: e.path, caller: e.caller || '',
      code: String(e.code), handled: String(Boolean(h)), span: e.span_id, instance,
    });
    const label = el('div', 'label');
    label.style.paddingLeft = (row.depth * 16) + 'px';
    const who = el('span', 'who');
    if (e.caller) {
      who.append(e.caller, el('span', 'arrow', '→'));
    }
    who.append(el('b', '', e.service));
    label.append(who, el('span', 'path', e.path));
    if (e.attempt > 1) label.append(el('span', 'tag', 'attempt ' + e.attempt));
    const lane = el('div', 'lane');
    lane.append(bar(e.kind, e, t0, span));
    if (h) lane.append(bar('server', h, t0, span));
    const meta = el('div', 'meta');
    const code = e.code || (h ? h.code : 0);
    if (instance) {
      const inst = el('span', 'inst-name', instance);
      inst.title = 'instance ' + instance;
      meta.append(inst);
    }
    meta.append(el('span', 'code ' + (code ? 'err' : 'ok'), codeText(code)), el('span', 'd', fmtDur(e.duration_us)));
    div.append(label, lane, meta);
    const errText = e.error || (h && h.error);
    if (errText) {
      const et = el('div', 'errtext', errText);
      et.style.paddingLeft = (row.depth * 16) + 'px';
      div.append(et);
    }
    return div;
  }

  // card draws one trace.
  function card(id, events, selected) {
    for (const e of events) {
      e._start = parseTime(e.start);
      e._stop = parseTime(e.stop);
    }
    const rows = rowsOf(events);
    const t0 = Math.min(...events.map((e) => e._start));
    const t1 = Math.max(...events.map((e) => Math.max(e._stop, e._start + e.duration_us)));
    const span = Math.max(t1 - t0, 1);
    const failed = events.filter((e) => e.code !== 0);
    const services = servicesOf(rows);
    const calls = rows.filter((r) => r.depth === 0).length;

    const art = el('article', 'trace' + (selected ? ' selected' : ''));
    art.dataset.trace = id;
    art.dataset.hops = String(rows.length);
    art.dataset.services = services.join(' ');
    art.dataset.failed = String(failed.length > 0);
    const head = el('header');
    const tid = el('button', 'tid', id);
    tid.type = 'button';
    tid.title = 'Show trace ' + id;
    tid.addEventListener('click', () => lookup(id));
    head.append(tid);
    const title = titleOf(rows);
    if (title) {
      const root = el('span', 'root', title);
      root.title = title;
      head.append(root);
    }
    head.append(el('span', 'when', fmtClock(t0)),
      el('span', 'count', `${calls} call${calls === 1 ? '' : 's'} · ${rows.length} hop${rows.length === 1 ? '' : 's'}`),
      el('span', 'total', fmtDur(t1 - t0)));
    head.append(el('span', 'status ' + (failed.length ? 'err' : 'ok'), failed.length ? codeText(failed[0].code) : 'ok'));
    if (selected) {
      const close = el('button', 'close', '×');
      close.type = 'button';
      close.title = 'Close';
      close.addEventListener('click', () => { $('selected').replaceChildren(); });
      head.append(close);
    }
    const axis = el('div', 'axis');
    const ticks = el('div', 'ticks');
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const t = el('span', '', fmtDur(span * f));
      t.style.left = (f * 100) + '%';
      ticks.append(t);
    }
    axis.append(el('div'), ticks, el('div'));
    const svcs = el('div', 'trace-svcs');
    services.forEach((s) => svcs.append(el('code', '', s)));
    const body = el('div', 'rows');
    for (const row of rows) body.append(hopRow(row, t0, span));
    art.append(head, svcs, axis, body);
    return art;
  }

  // add takes one event from the live stream.
  function add(ev) {
    if (!ev || !ev.trace_id || !ev.span_id) return;
    let t = traces.get(ev.trace_id);
    if (!t) {
      t = { id: ev.trace_id, spans: new Map(), card: null };
      traces.set(t.id, t);
    }
    if (t.spans.has(ev.span_id)) return; // replayed after a reconnect
    t.spans.set(ev.span_id, ev);
    if (ev.kind === 'client') {
      calls++;
      if (ev.code !== 0) errors++;
    }
    dirty.add(t.id);
    if (!renderTimer) renderTimer = setTimeout(render, 40);
  }

  // The filter: a service the trace names ('' for any) and errors only.
  const filter = { service: '', errors: false };
  const shows = (card) => (!filter.service || card.dataset.services.split(' ').includes(filter.service)) &&
    (!filter.errors || card.dataset.failed === 'true');

  function render() {
    renderTimer = 0;
    const live = $('live');
    for (const id of dirty) {
      const t = traces.get(id);
      if (!t) continue;
      const next = card(id, [...t.spans.values()], false);
      next.dataset.services.split(' ').forEach((s) => seenServices.add(s));
      if (t.card) t.card.replaceWith(next);
      else live.prepend(next);
      t.card = next;
    }
    dirty.clear();
    while (traces.size > MAX_TRACES) {
      const [oldest] = traces.keys();
      traces.get(oldest).card?.remove();
      traces.delete(oldest);
    }
    applyFilter();
    $('stat-traces').textContent = traces.size;
    $('stat-calls').textContent = calls;
    $('stat-errors').textContent = errors;
  }

  // applyFilter shows the traces the filter lets through, says how many,
  // and keeps the service choices up to date.
  function applyFilter() {
    let shown = 0;
    for (const t of traces.values()) {
      if (!t.card) continue;
      t.card.hidden = !shows(t.card);
      if (!t.card.hidden) shown++;
    }
    const sel = $('filter-service');
    const have = new Set([...sel.options].map((o) => o.value));
    if ([...seenServices].some((s) => !have.has(s))) {
      const keep = sel.value;
      sel.replaceChildren(el('option', '', 'all services'), ...[...seenServices].sort().map((s) => {
        const o = el('option', '', s);
        o.value = s;
        return o;
      }));
      sel.options[0].value = '';
      sel.value = keep;
    }
    const filtered = filter.service || filter.errors;
    $('shown').textContent = filtered ? `${shown} of ${traces.size} shown` : '';
    const empty = $('live-empty');
    empty.hidden = shown > 0;
    empty.textContent = traces.size ? 'No trace matches the filter.' : 'Waiting for calls…';
  }

  $('filter-service').addEventListener('change', (e) => { filter.service = e.target.value; applyFilter(); });
  $('filter-errors').addEventListener('change', (e) => { filter.errors = e.target.checked; applyFilter(); });

  function setConn(state, text) {
    const c = $('conn');
    c.className = 'conn ' + state;
    c.textContent = text;
  }

  function connect() {
    const url = '/v1/traces/live' + (since ? '?since=' + encodeURIComponent(since) : '');
    const es = new EventSource(url);
    es.onopen = () => setConn('live', 'live');
    es.onmessage = (m) => {
      try { add(JSON.parse(m.data)); } catch (err) { console.warn('bad trace event', err); }
    };
    es.addEventListener('error', (m) => {
      if (m.data) { // the server ended the stream and said why
        let msg = m.data;
        try { msg = JSON.parse(m.data).error.message; } catch (_) { /* keep the raw text */ }
        setConn('failed', 'stream failed: ' + msg);
        return;
      }
      setConn(es.readyState === EventSource.CLOSED ? 'failed' : 'connecting',
        es.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…');
    });
  }

  async function getJSON(url) {
    const res = await fetch(url, { headers: { Accept: 'application/json' } });
    let body = null;
    try { body = await res.json(); } catch (_) { /* not JSON */ }
    if (!res.ok) throw new Error(body?.error?.message || `${res.status} ${res.statusText}`);
    return body;
  }

  async function refreshServices() {
    const box = $('services');
    try {
      const [svc, br] = await Promise.all([getJSON('/v1/services'), getJSON('/v1/breakers').catch(() => null)]);
      const breakers = br?.breakers || {};
      const list = (svc?.services || []).slice().sort((a, b) => a.name.localeCompare(b.name));
      $('svc-count').textContent = list.length ? `(${list.length})` : '';
      if (!list.length) {
        box.replaceChildren(el('p', 'muted', 'No service is running.'));
        return;
      }
      box.replaceChildren(...list.map((s) => {
        const d = el('div', 'svc');
        d.dataset.service = s.name;
        const head = el('div', 'svc-head');
        const state = breakers[s.name] || 'closed';
        const badge = el('span', 'breaker ' + state, state);
        badge.title = 'circuit breaker';
        head.append(el('b', '', s.name), el('span', 'ver', (s.versions || []).map((v) => 'v' + v).join(' ')), badge);
        const inst = s.instances || [];
        const id = el('div', 'inst');
        id.append(`${inst.length} instance${inst.length === 1 ? '' : 's'}${inst.length ? ': ' : ''}`);
        inst.slice(0, 4).forEach((i, n) => {
          if (n) id.append(', ');
          // The instance's name, as its trace events give it; the micro id
          // (ids of one process share their start) only for a nameless one.
          const c = el('code', '', i.name || i.id.slice(-8));
          c.title = `${i.id} (v${i.version})`;
          id.append(c);
        });
        if (inst.length > 4) id.append(` +${inst.length - 4}`);
        const eps = el('div', 'eps');
        (s.endpoints || []).forEach((e) => {
          const c = el('code', '', e.path);
          c.title = e.subject;
          eps.append(c);
        });
        d.append(head, id, eps);
        return d;
      }));
    } catch (err) {
      box.replaceChildren(el('p', 'notice', 'Services unavailable: ' + err.message));
    }
  }

  async function lookup(id) {
    id = (id || '').trim().toLowerCase();
    const msg = $('lookup-msg');
    $('lookup-id').value = id;
    if (!/^[0-9a-f]{32}$/.test(id)) {
      msg.textContent = 'A trace id is 32 hexadecimal digits.';
      return;
    }
    msg.textContent = 'Looking up…';
    try {
      const t = await getJSON('/v1/traces/' + id);
      msg.textContent = '';
      const c = card(t.trace_id, t.events || [], true);
      const det = el('details', 'mermaid');
      det.append(el('summary', '', 'Mermaid sequence diagram'), el('pre', '', t.mermaid || ''));
      c.append(det);
      $('selected').replaceChildren(c);
    } catch (err) {
      msg.textContent = 'Trace ' + id + ': ' + err.message;
    }
  }

  $('lookup').addEventListener('submit', (e) => {
    e.preventDefault();
    lookup($('lookup-id').value);
  });

  connect();
  refreshServices();
  setInterval(refreshServices, POLL_MS);
  if (params.get('trace')) lookup(params.get('trace'));
})();
