// The cluster page of web_monitor.
//
// Data comes from the monitor only (the browser never calls a node): the
// /api/events stream (Server-Sent Events) pushes the /api/cluster JSON a few
// times a second; if the stream fails the page polls /api/cluster every
// second and tries the stream again later.
//
// Everything shown is built with createElement/textContent/setAttribute:
// node ids, log lines, keys and values are data, never markup.

'use strict';

(() => {
  // ---- constants ----------------------------------------------------------------------

  const POLL_MS = 1000;              // fallback polling period
  const SSE_RETRY_MS = 15000;        // after falling back, try the stream again this often
  const LOG_WINDOW = 40;             // entries shown per node
  const LOG_REFETCH_MS = 1000;       // at most one /entries fetch per node per second
  const TIMELINE_MS = 5 * 60 * 1000; // the timeline shows the last five minutes
  const DRAWER_REFRESH_MS = 1000;
  const TOAST_MS = 5000;
  const TOASTS_MAX = 5;
  const STATES = ['INITIAL', 'FOLLOWER', 'CANDIDATE', 'LEADER'];
  // Leaders in the timeline and node chips: one hue per node id.
  const NODE_COLORS = ['#22c55e', '#3b82f6', '#f59e0b', '#a855f7', '#ef4444', '#14b8a6',
                       '#eab308', '#ec4899', '#6366f1', '#84cc16', '#06b6d4', '#f97316'];
  // Log entries: one colour per term (cycling), as in RaftScope.
  const TERM_COLORS = ['#93c5fd', '#fca5a5', '#86efac', '#fcd34d', '#c4b5fd', '#f9a8d4',
                       '#5eead4', '#fdba74', '#a5b4fc', '#bef264'];

  // The SVG namespace, taken from the page's own <svg> (the HTML parser puts
  // inline SVG there), so the script carries no URL at all.
  const SVG_NS = document.getElementById('ring').namespaceURI;

  // ---- small helpers ----------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function svg(tag, attrs, parent) {
    const e = document.createElementNS(SVG_NS, tag);
    if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (parent) parent.appendChild(e);
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function show(v) {
    return v === null || v === undefined || v === '' ? '–' : String(v);
  }

  function num(v, fallback = 0) {
    return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
  }

  function nodeColor(id) {
    const n = Number.parseInt(id, 10);
    return NODE_COLORS[(Number.isFinite(n) ? n : 0) % NODE_COLORS.length];
  }

  function termColor(term) {
    return TERM_COLORS[Math.abs(num(term)) % TERM_COLORS.length];
  }

  function stateOf(node) {
    const s = node && typeof node.state === 'string' ? node.state : 'offline';
    return STATES.includes(s) ? s : 'offline';
  }

  function clock(date) {
    return date.toLocaleTimeString([], { hour12: false });
  }

  function ms(v) {
    if (typeof v !== 'number') return '–';
    return v >= 10000 ? (v / 1000).toFixed(1) + ' s' : Math.round(v) + ' ms';
  }

  function preview(text, max) {
    const s = String(text);
    return s.length > max ? s.slice(0, max) + '…' : s;
  }

  function isOffline(node) { return !node || node.reachable === false || stateOf(node) === 'offline'; }

  // ---- state --------------------------------------------------------------------------------

  const app = {
    cluster: null,        // the last /api/cluster body
    receivedAt: 0,        // performance.now() when it arrived
    cards: new Map(),     // node id -> card handles
    ringNodes: new Map(), // node id -> ring handles
    logs: new Map(),      // node id -> {entries, first, commit, last, key, fetchedAt, inFlight, timer}
    logRenderKey: '',
    lastRendered: new Map(), // node id -> highest index drawn (for the "new entry" pop)
    segments: [],         // timeline: {start, end, leader, term}
    events: [],           // {at: Date, text, leader}
    initialTotal: new Map(),
    feed: { es: null, mode: 'connecting', pollTimer: null, pollGeneration: 0, retryTimer: null, lastMessage: 0 },
    drawer: { kind: null, id: null, timer: null },
  };

  // ---- toasts -------------------------------------------------------------------------------

  function toast(kind, what, message) {
    const box = $('toasts');
    const t = el('div', 'toast ' + kind);
    if (what) t.appendChild(el('span', 'what', what));
    t.appendChild(document.createTextNode(String(message)));
    box.appendChild(t);
    while (box.children.length > TOASTS_MAX) box.removeChild(box.firstChild);
    setTimeout(() => { if (t.parentNode) t.parentNode.removeChild(t); },
               kind === 'err' ? TOAST_MS * 1.6 : TOAST_MS);
  }

  // ---- HTTP -------------------------------------------------------------------------------------

  // The cluster's auth token (launch_cluster --auth_token), needed for
  // commands and writes when the cluster listens on a network. It comes in the
  // URL fragment (#token=..., never sent to a server), is kept for this tab
  // only, and is asked for once when the monitor answers 401.
  const TOKEN_KEY = 'raft_auth_token';
  (function takeTokenFromFragment() {
    const m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
    if (!m) return;
    try { sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1])); } catch (_) { /* private mode */ }
    history.replaceState(null, '', window.location.pathname + window.location.search);
  })();
  function authToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (_) { return ''; }
  }

  /// fetch() that always resolves to {status, json, text}; status 0 when the
  /// monitor could not be reached at all. A 401 asks for the token once and
  /// retries.
  async function call(method, path, body, contentType, retried) {
    const init = { method, cache: 'no-store', headers: {} };
    if (body !== undefined) {
      init.body = body;
      init.headers['Content-Type'] = contentType || 'application/json';
    }
    const token = authToken();
    if (token) init.headers['Authorization'] = 'Bearer ' + token;
    let answer;
    try {
      const res = await fetch(path, init);
      const text = await res.text();
      let json = null;
      try { json = JSON.parse(text); } catch (_) { json = null; }
      answer = { status: res.status, json, text };
    } catch (e) {
      return { status: 0, json: null, text: 'the monitor is unreachable' };
    }
    if (answer.status === 401 && !retried) {
      const given = window.prompt('This cluster needs its auth token (printed by launch_cluster):');
      if (given) {
        try { sessionStorage.setItem(TOKEN_KEY, given.trim()); } catch (_) { /* private mode */ }
        return call(method, path, body, contentType, true);
      }
    }
    return answer;
  }

  function errorText(answer) {
    if (answer.status === 0) return 'the monitor is unreachable';
    if (answer.json && typeof answer.json.error === 'string') return answer.json.error;
    return 'HTTP ' + answer.status + (answer.text ? ': ' + preview(answer.text, 200) : '');
  }

  async function sendCommand(id, cmd, button) {
    if (button) { button.disabled = true; button.classList.add('busy'); }
    const answer = await call('POST', '/api/nodes/' + encodeURIComponent(id) + '/command',
                              JSON.stringify({ cmd }));
    if (button) { button.disabled = false; button.classList.remove('busy'); }
    const what = 'node ' + id + ' · ' + cmd;
    if (answer.status >= 200 && answer.status < 300 && answer.json && answer.json.ok !== false) {
      toast('ok', what, show(answer.json.result));
    } else {
      toast('err', what, errorText(answer));
    }
    refreshSoon();
    return answer;
  }

  // ---- the feed: SSE with polling fallback ------------------------------------------------------

  function setFeed(mode) {
    app.feed.mode = mode;
    const dot = $('feed-dot');
    dot.className = 'dot ' + (mode === 'live' ? 'live' : mode === 'polling' ? 'polling' : mode === 'down' ? 'down' : '');
    $('feed-text').textContent = mode === 'live' ? 'live (event stream)'
      : mode === 'polling' ? 'polling every second'
      : mode === 'down' ? 'monitor unreachable: retrying'
      : 'connecting…';
  }

  function startStream() {
    if (!('EventSource' in window)) { startPolling(); return; }
    if (app.feed.es) return;
    let es;
    try { es = new EventSource('/api/events'); } catch (_) { startPolling(); return; }
    app.feed.es = es;
    es.onmessage = (ev) => {
      let data = null;
      try { data = JSON.parse(ev.data); } catch (_) { return; }
      app.feed.lastMessage = performance.now();
      stopPolling();
      setFeed('live');
      onCluster(data);
    };
    es.onerror = () => {
      // The browser reconnects by itself while the state is CONNECTING; poll
      // meanwhile so the page stays current. CLOSED (e.g. 503: too many
      // streams) means it gave up: try again later.
      startPolling();
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        if (app.feed.es === es) app.feed.es = null;
        clearTimeout(app.feed.retryTimer);
        app.feed.retryTimer = setTimeout(startStream, SSE_RETRY_MS);
      }
    };
  }

  function startPolling() {
    if (app.feed.pollTimer) return;
    if (app.feed.mode !== 'down') setFeed('polling');
    // A generation per polling loop: a request still in flight from a loop
    // that was stopped (or restarted) must not schedule a second loop.
    const generation = ++app.feed.pollGeneration;
    const tick = async () => {
      const answer = await call('GET', '/api/cluster');
      if (generation !== app.feed.pollGeneration) return;
      if (answer.status === 200 && answer.json) {
        if (app.feed.mode !== 'live') setFeed('polling');
        onCluster(answer.json);
      } else {
        setFeed('down');
      }
      app.feed.pollTimer = setTimeout(tick, POLL_MS);
    };
    app.feed.pollTimer = setTimeout(tick, 0);
  }

  function stopPolling() {
    clearTimeout(app.feed.pollTimer);
    app.feed.pollTimer = null;
    app.feed.pollGeneration++;
  }

  /// After a command: with the stream the next event comes within a poll
  /// interval anyway; when polling, ask at once.
  function refreshSoon() {
    if (app.feed.pollTimer) {
      stopPolling();
      startPolling();
    }
  }

  // ---- one cluster update -------------------------------------------------------------------------

  function onCluster(data) {
    if (!data || !Array.isArray(data.nodes)) return;
    app.cluster = data;
    app.receivedAt = performance.now();
    renderSummary(data);
    renderCards(data);
    renderRing(data);
    recordTimeline(data);
    scheduleLogFetches(data);
    renderLogs();
    updateDrawerMeta();
  }

  function clusterTerm(data) {
    let term = num(data.leader_term, 0);
    for (const n of data.nodes) if (!isOffline(n)) term = Math.max(term, num(n.term));
    return term;
  }

  function renderSummary(data) {
    const leaderPill = $('leader-pill');
    clear(leaderPill);
    leaderPill.appendChild(document.createTextNode('leader: '));
    leaderPill.appendChild(el('strong', null, data.leader === null || data.leader === undefined ? 'none' : 'node ' + data.leader));
    if (data.leader_source === 'discovery') leaderPill.appendChild(document.createTextNode(' (per discovery)'));
    leaderPill.className = 'pill' + (data.leader_conflict ? ' bad' : data.leader === null ? ' warn' : '');
    if (data.leader_conflict) leaderPill.appendChild(document.createTextNode(' · two leaders claim this term!'));

    const termPill = $('term-pill');
    clear(termPill);
    termPill.appendChild(document.createTextNode('term: '));
    termPill.appendChild(el('strong', null, show(clusterTerm(data))));

    const up = data.nodes.filter((n) => !isOffline(n)).length;
    const nodesPill = $('nodes-pill');
    clear(nodesPill);
    nodesPill.appendChild(document.createTextNode('nodes: '));
    nodesPill.appendChild(el('strong', null, up + ' / ' + data.nodes.length));
    nodesPill.appendChild(document.createTextNode(' reachable'));
    nodesPill.className = 'pill' + (up < data.nodes.length ? ' warn' : '');

    const d = data.discovery || {};
    const discoveryPill = $('discovery-pill');
    clear(discoveryPill);
    discoveryPill.appendChild(document.createTextNode('discovery: '));
    discoveryPill.appendChild(el('strong', null, d.ok ? 'ok' : d.url ? 'unreachable' : 'off'));
    if (d.ok && data.discovery_leader !== null && data.discovery_leader !== undefined) {
      discoveryPill.appendChild(document.createTextNode(' · says leader ' + data.discovery_leader));
    }
    discoveryPill.className = 'pill' + (d.ok || !d.url ? '' : ' bad');
    discoveryPill.title = d.ok ? show(d.url) : show(d.error);
  }

  // ---- node cards -----------------------------------------------------------------------------

  const COMMAND_GROUPS = [
    ['Election', [
      ['trigger_election', 'Trigger election', 'Start an election now (refused in INITIAL)'],
      ['force_timeout', 'Force timeout', 'Treat the election timer as expired (PreVote first)'],
      ['become_follower', 'Become follower', 'INITIAL → FOLLOWER now'],
    ]],
    ['Failures', [
      ['pause', 'Pause', 'Drop Raft messages and stop timers (HTTP still answers)'],
      ['crash', 'Crash', 'Drop all volatile state; restart recovers from disk'],
      ['@partition', 'Partition…', 'Drop all traffic to and from chosen ranks'],
      ['heal', 'Heal', 'Let traffic flow to and from every node again'],
    ]],
    ['Leadership and log', [
      ['@transfer', 'Transfer…', 'Hand leadership to another node (leader only)'],
      ['snapshot', 'Snapshot', 'Compact the log into a snapshot now'],
    ]],
    ['Inspect', [
      ['state_details', 'State details', 'Everything about the node\'s Raft state'],
      ['check_timers', 'Check timers', 'Election timeout, time since the last heartbeat'],
      ['@log', 'Show log', 'The node\'s recent log lines, refreshed every second'],
      ['@history', 'History', 'The commands this node received'],
      ['show_known_nodes', 'Known nodes', 'The addresses this node knows from discovery'],
      ['sync_known_nodes', 'Sync nodes', 'Re-read the node list from discovery now'],
    ]],
  ];

  function makeCard(id) {
    const root = el('article', 'card');
    root.id = 'node-' + id;
    const head = el('div', 'card-head');
    const title = el('h3', null, 'Node ' + id);
    const stateBadge = el('span', 'state');
    const badges = el('span', 'badges');
    const addr = el('span', 'addr');
    head.append(title, stateBadge, badges, addr);

    const fields = el('dl', 'fields');
    const values = {};
    for (const [key, label] of [['term', 'term'], ['leader_id', 'leader'], ['voted_for', 'voted for'],
                                ['log_length', 'log length'], ['commit_index', 'commit index'],
                                ['last_applied', 'last applied']]) {
      const cell = el('div');
      cell.append(el('dt', null, label));
      const dd = el('dd', null, '–');
      cell.append(dd);
      fields.append(cell);
      values[key] = dd;
    }

    const timer = el('div', 'timer');
    const bar = el('div', 'timer-bar');
    const fill = el('div', 'timer-fill');
    bar.append(fill);
    const timerText = el('div', 'timer-text', '–');
    timer.append(bar, timerText);

    const extra = el('div', 'timer-text');
    const error = el('div', 'card-error');

    const actions = el('div', 'actions');
    const buttons = {};
    for (const [groupName, commands] of COMMAND_GROUPS) {
      const group = el('div', 'group');
      group.append(el('span', 'group-name', groupName));
      for (const [cmd, label, hint] of commands) {
        const b = el('button', null, label);
        b.type = 'button';
        b.title = hint;
        b.dataset.cmd = cmd;
        b.addEventListener('click', () => onAction(id, b.dataset.cmd, b));
        group.append(b);
        buttons[cmd] = b;
      }
      actions.append(group);
    }
    const picker = el('div', 'picker');
    picker.hidden = true;
    actions.append(picker);

    root.append(head, fields, timer, extra, error, actions);
    return { root, stateBadge, badges, addr, values, fill, timerText, extra, error, buttons, picker, node: null };
  }

  // One-way cuts as thin dotted lines, one per direction "from -> to" whose
  // messages are lost (whichever end drops them), with the direction as a tooltip.
  function drawOneWayCuts(nodes, pos, links) {
    const drawn = new Set();
    const draw = (from, to) => {
      const key = from + '>' + to;
      const a = pos.get(from), b = pos.get(to);
      if (drawn.has(key) || !a || !b) return;
      drawn.add(key);
      const line = svg('line', { class: 'cut oneway', x1: a.x, y1: a.y, x2: b.x, y2: b.y }, links);
      svg('title', null, line).textContent = 'messages from node ' + from + ' to node ' + to + ' are dropped';
    };
    for (const node of nodes) {
      const id = String(node.node_id);
      if (Array.isArray(node.dropping_to)) for (const other of node.dropping_to) draw(id, String(other));
      if (Array.isArray(node.dropping_from)) for (const other of node.dropping_from) draw(String(other), id);
    }
  }

  function badge(cls, text, title) {
    const b = el('span', 'badge ' + cls, text);
    if (title) b.title = title;
    return b;
  }

  function renderCards(data) {
    const container = $('cards');
    const seen = new Set();
    for (const node of data.nodes) {
      const id = String(node.node_id);
      seen.add(id);
      let card = app.cards.get(id);
      if (!card) {
        card = makeCard(id);
        app.cards.set(id, card);
      }
      container.appendChild(card.root);  // keeps the id order of the server
      updateCard(card, node, data);
    }
    for (const [id, card] of app.cards) {
      if (!seen.has(id)) { card.root.remove(); app.cards.delete(id); }
    }
    if (data.nodes.length === 0) {
      clear(container);
      container.appendChild(el('p', 'hint', 'No nodes yet: discovery knows none, and the monitor was started with --nodes 0.'));
    } else {
      const hint = container.querySelector('p.hint');
      if (hint) hint.remove();
    }
  }

  function updateCard(card, node, data) {
    card.node = node;
    const offline = isOffline(node);
    const state = stateOf(node);
    const lower = state.toLowerCase();
    card.root.className = 'card state-' + lower + (card.root.classList.contains('flash') ? ' flash' : '');
    card.stateBadge.className = 'state s-' + lower;
    card.stateBadge.textContent = offline ? 'offline' : state;

    clear(card.badges);
    if (offline) card.badges.append(badge('offline', 'offline', node.error ? String(node.error) : ''));
    if (node.paused) card.badges.append(badge('paused', 'paused', 'Raft messages dropped, timers stand still'));
    if (node.crashed) card.badges.append(badge('crashed', 'crashed', 'volatile state dropped: restart recovers from disk'));
    if (Array.isArray(node.partitioned) && node.partitioned.length > 0) {
      card.badges.append(badge('partitioned', 'partitioned from ' + node.partitioned.join(', '),
                               'drops all traffic to and from these ranks'));
    }
    if (Array.isArray(node.dropping_from) && node.dropping_from.length > 0) {
      card.badges.append(badge('partitioned', 'deaf to ' + node.dropping_from.join(', '),
                               'one way: drops every message from these ranks, still sends to them'));
    }
    if (Array.isArray(node.dropping_to) && node.dropping_to.length > 0) {
      card.badges.append(badge('partitioned', 'silent to ' + node.dropping_to.join(', '),
                               'one way: drops every message to these ranks, still hears them'));
    }
    if (node.pre_voting) card.badges.append(badge('prevote', 'pre-voting', 'asking whether it could win before raising its term'));
    if (node.transfer_target !== null && node.transfer_target !== undefined) {
      card.badges.append(badge('warn', 'transferring to ' + node.transfer_target));
    }
    if (node.alive === false) card.badges.append(badge('warn', 'silent in discovery', 'discovery has not heard from this node lately'));
    if (node.registered === false) card.badges.append(badge('', 'not registered', 'discovery does not know this node; reached at base_port + rank'));
    if (node.id_mismatch) card.badges.append(badge('warn', 'answers as ' + show(node.reported_node_id)));
    if (node.storage_error) card.badges.append(badge('crashed', 'storage failed', String(node.storage_error)));
    if (data.leader !== null && String(data.leader) === String(node.node_id)) card.badges.append(badge('prevote', '♛ cluster leader'));

    card.addr.textContent = show(node.address);
    card.addr.title = show(node.api_url);

    const v = card.values;
    v.term.textContent = show(node.term);
    v.leader_id.textContent = show(node.leader_id);
    v.voted_for.textContent = show(node.voted_for);
    v.log_length.textContent = show(node.log_length);
    v.commit_index.textContent = show(node.commit_index);
    v.last_applied.textContent = show(node.last_applied);

    const bits = [];
    if (typeof node.snapshot_index === 'number' && node.snapshot_index > 0) bits.push('snapshot at ' + node.snapshot_index);
    if (typeof node.first_index === 'number' && node.first_index > 1) bits.push('log from ' + node.first_index);
    if (typeof node.kv_keys === 'number') bits.push(node.kv_keys + ' key' + (node.kv_keys === 1 ? '' : 's'));
    if (Array.isArray(node.peers) && node.peers.length > 0) {
      bits.push('peers: ' + node.peers.map((p) => show(p.id) + '@' + show(p.match_index) + (p.progress_state ? ' ' + p.progress_state : '')).join(', '));
    }
    if (typeof node.uptime_ms === 'number') bits.push('up ' + ms(node.uptime_ms));
    card.extra.textContent = bits.join(' · ');
    card.error.textContent = offline && node.error ? String(node.error) : '';

    // Buttons: what the node would refuse anyway is disabled with a reason.
    const b = card.buttons;
    const crashed = !!node.crashed;
    const paused = !!node.paused;
    b.pause.dataset.cmd = paused ? 'resume' : 'pause';
    b.pause.textContent = paused ? 'Resume' : 'Pause';
    b.crash.dataset.cmd = crashed ? 'restart' : 'crash';
    b.crash.textContent = crashed ? 'Restart' : 'Crash';
    b.crash.classList.toggle('danger', !crashed);
    const running = !offline && !crashed && !paused;
    setEnabled(b.trigger_election, running && state !== 'INITIAL',
               state === 'INITIAL' ? 'refused in INITIAL: use Become follower first' : null);
    setEnabled(b.force_timeout, running && state !== 'INITIAL', state === 'INITIAL' ? 'refused in INITIAL' : null);
    setEnabled(b.become_follower, running);
    setEnabled(b.pause, !offline && !crashed);
    setEnabled(b.crash, !offline);
    setEnabled(b['@partition'], !offline && !crashed);
    setEnabled(b.heal, !offline && !crashed);
    setEnabled(b['@transfer'], running && state === 'LEADER', state !== 'LEADER' ? 'only the leader can transfer leadership' : null);
    setEnabled(b.snapshot, !offline && !crashed);
    for (const k of ['state_details', 'check_timers', 'show_known_nodes', 'sync_known_nodes', '@history']) setEnabled(b[k], !offline);
    setEnabled(b['@log'], !offline);
  }

  function setEnabled(button, enabled, reason) {
    if (button.classList.contains('busy')) return;
    button.disabled = !enabled;
    if (!button.dataset.hint) button.dataset.hint = button.title;
    button.title = !enabled && reason ? reason : button.dataset.hint;
  }

  function otherIds(id) {
    const ids = app.cluster ? app.cluster.nodes.map((n) => String(n.node_id)) : [];
    return ids.filter((x) => x !== String(id));
  }

  function onAction(id, cmd, button) {
    const card = app.cards.get(String(id));
    if (cmd === '@partition') { openPartitionPicker(id, card); return; }
    if (cmd === '@transfer') { openTransferPicker(id, card); return; }
    if (cmd === '@log') { openDrawer('log', id); return; }
    if (cmd === '@history') { openDrawer('history', id); return; }
    if (cmd === 'state_details' || cmd === 'check_timers' || cmd === 'show_known_nodes' || cmd === 'sync_known_nodes') {
      sendCommand(id, cmd, button).then((answer) => showAnswer(id, cmd, answer));
      return;
    }
    sendCommand(id, cmd, button);
  }

  function closePicker(card) {
    card.picker.hidden = true;
    clear(card.picker);
  }

  function openPartitionPicker(id, card) {
    if (!card) return;
    if (!card.picker.hidden && card.picker.dataset.kind === 'partition') { closePicker(card); return; }
    clear(card.picker);
    card.picker.dataset.kind = 'partition';
    const current = new Set((card.node && Array.isArray(card.node.partitioned) ? card.node.partitioned : []).map(String));
    card.picker.append(el('span', 'hint', 'cut off from:'));
    const boxes = [];
    for (const other of otherIds(id)) {
      const label = el('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.value = other;
      box.checked = current.has(other);
      boxes.push(box);
      label.append(box, document.createTextNode(' node ' + other));
      card.picker.append(label);
    }
    if (boxes.length === 0) card.picker.append(el('span', 'hint', 'no other nodes'));
    const apply = el('button', 'primary', 'Apply');
    apply.type = 'button';
    apply.addEventListener('click', async () => {
      const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
      const dropped = [...current].some((r) => !chosen.includes(r));
      closePicker(card);
      // `partition` adds to the set: unchecking a rank needs a heal first.
      if (chosen.length === 0 || dropped) {
        const healed = await sendCommand(id, 'heal');
        if (healed.status !== 200) return;
      }
      if (chosen.length > 0) await sendCommand(id, 'partition ' + chosen.join(' '));
    });
    const cancel = el('button', null, 'Cancel');
    cancel.type = 'button';
    cancel.addEventListener('click', () => closePicker(card));
    card.picker.append(apply, cancel);
    card.picker.hidden = false;
  }

  function openTransferPicker(id, card) {
    if (!card) return;
    if (!card.picker.hidden && card.picker.dataset.kind === 'transfer') { closePicker(card); return; }
    clear(card.picker);
    card.picker.dataset.kind = 'transfer';
    const label = el('label', null, 'hand leadership to ');
    const select = document.createElement('select');
    for (const other of otherIds(id)) {
      const option = el('option', null, 'node ' + other);
      option.value = other;
      select.append(option);
    }
    label.append(select);
    const go = el('button', 'primary', 'Transfer');
    go.type = 'button';
    go.disabled = select.options.length === 0;
    go.addEventListener('click', () => {
      const target = select.value;
      closePicker(card);
      sendCommand(id, 'transfer_leadership ' + target);
    });
    const cancel = el('button', null, 'Cancel');
    cancel.type = 'button';
    cancel.addEventListener('click', () => closePicker(card));
    card.picker.append(label, go, cancel);
    card.picker.hidden = false;
  }

  // ---- timers: smooth between updates -------------------------------------------------------------

  /// The election timer of a node at `now` (performance.now()): the
  /// elapsed time reported, plus the time since the report if the node's
  /// clock runs. A paused or crashed node's timer stands still.
  function timerOf(node, now) {
    const t = node && node.timers && typeof node.timers === 'object' ? node.timers : null;
    if (!t || isOffline(node)) return null;
    const timeout = num(t.election_timeout_ms, 0);
    const running = t.running !== false && !node.paused && !node.crashed;
    const since = Math.max(0, now - app.receivedAt);
    const elapsed = num(t.election_elapsed_ms, 0) + (running ? since : 0);
    const initialLeft = Math.max(0, num(t.initial_remaining_ms, 0) - (running ? since : 0));
    return { timeout, running, elapsed: timeout > 0 ? Math.min(elapsed, timeout) : elapsed,
             heartbeat: num(t.heartbeat_interval_ms, 0), initialLeft };
  }

  function timerFraction(node, timer) {
    if (!timer) return 0;
    const state = stateOf(node);
    if (state === 'LEADER') return 1;
    if (state === 'INITIAL') {
      const id = String(node.node_id);
      const total = Math.max(app.initialTotal.get(id) || 0, timer.initialLeft);
      app.initialTotal.set(id, total);
      return total > 0 ? 1 - timer.initialLeft / total : 0;
    }
    return timer.timeout > 0 ? timer.elapsed / timer.timeout : 0;
  }

  function animate() {
    const now = performance.now();
    if (app.cluster) {
      for (const card of app.cards.values()) {
        const node = card.node;
        if (!node) continue;
        const timer = timerOf(node, now);
        const state = stateOf(node);
        const frac = Math.max(0, Math.min(1, timerFraction(node, timer)));
        const cls = !timer ? '' : state === 'LEADER' && timer.running ? 'leader'
          : !timer.running ? 'stopped' : state === 'CANDIDATE' ? 'candidate' : state === 'INITIAL' ? 'initial' : '';
        card.fill.className = 'timer-fill ' + cls;
        card.fill.style.width = (timer ? frac * 100 : 0).toFixed(1) + '%';
        card.timerText.textContent = timerLabel(node, timer);
        const ring = app.ringNodes.get(String(node.node_id));
        if (ring) {
          const c = ring.circumference;
          const shown = state === 'LEADER' ? 0 : frac;
          ring.arc.setAttribute('stroke-dasharray', (shown * c).toFixed(1) + ' ' + c.toFixed(1));
        }
      }
    }
    requestAnimationFrame(animate);
  }

  function timerLabel(node, timer) {
    if (isOffline(node)) return 'no data: the node does not answer';
    if (node.crashed) return 'crashed: timers stopped until restart';
    if (!timer) return '–';
    const state = stateOf(node);
    const stopped = timer.running ? '' : ' (paused: standing still)';
    if (state === 'LEADER') return 'leading: heartbeat every ' + ms(timer.heartbeat) + stopped;
    if (state === 'INITIAL') return 'INITIAL: becomes FOLLOWER in ' + ms(timer.initialLeft) + stopped;
    return 'election timer ' + ms(timer.elapsed) + ' / ' + ms(timer.timeout) + stopped;
  }

  // ---- the ring -----------------------------------------------------------------------------------

  function renderRing(data) {
    const root = $('ring');
    const nodes = data.nodes;
    const n = nodes.length;
    const cx = 210, cy = 210, R = n <= 1 ? 0 : 150;
    const r = n <= 7 ? 30 : Math.max(12, Math.min(30, 150 * Math.sin(Math.PI / n) * 0.55));

    let orbit = root.querySelector('.orbit');
    if (!orbit) orbit = svg('circle', { class: 'orbit', cx, cy, r: 150 }, root);
    let links = root.querySelector('g.links');
    if (!links) links = svg('g', { class: 'links' }, root);
    let layer = root.querySelector('g.nodes');
    if (!layer) layer = svg('g', { class: 'nodes' }, root);
    let empty = root.querySelector('.empty');
    if (n === 0 && !empty) {
      empty = svg('text', { class: 'empty', x: cx, y: cy }, root);
      empty.textContent = 'no nodes known yet';
    } else if (n > 0 && empty) {
      empty.remove();
    }

    const pos = new Map();
    nodes.forEach((node, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, n);
      pos.set(String(node.node_id), { x: cx + R * Math.cos(angle), y: cy + R * Math.sin(angle) });
    });

    // Links: the leader to each follower that follows it; red cuts for partitions.
    clear(links);
    const leader = data.leader === null || data.leader === undefined ? null : String(data.leader);
    if (leader !== null && pos.has(leader)) {
      const a = pos.get(leader);
      for (const node of nodes) {
        const id = String(node.node_id);
        if (id === leader || isOffline(node) || node.paused || node.crashed) continue;
        if (String(node.leader_id) !== leader) continue;
        const b = pos.get(id);
        svg('line', { class: 'link', x1: a.x, y1: a.y, x2: b.x, y2: b.y }, links);
      }
    }
    const cuts = new Set();
    for (const node of nodes) {
      if (!Array.isArray(node.partitioned)) continue;
      for (const other of node.partitioned) {
        const pair = [String(node.node_id), String(other)].sort().join('|');
        if (cuts.has(pair)) continue;
        cuts.add(pair);
        const a = pos.get(String(node.node_id)), b = pos.get(String(other));
        if (a && b) svg('line', { class: 'cut', x1: a.x, y1: a.y, x2: b.x, y2: b.y }, links);
      }
    }
    drawOneWayCuts(nodes, pos, links);

    const seen = new Set();
    for (const node of nodes) {
      const id = String(node.node_id);
      seen.add(id);
      let h = app.ringNodes.get(id);
      if (!h) {
        h = makeRingNode(layer, id);
        app.ringNodes.set(id, h);
      }
      const p = pos.get(id);
      updateRingNode(h, node, p, r, leader === id);
    }
    for (const [id, h] of app.ringNodes) {
      if (!seen.has(id)) { h.g.remove(); app.ringNodes.delete(id); }
    }
  }

  function makeRingNode(layer, id) {
    const g = svg('g', { class: 'node', tabindex: 0, role: 'button' }, layer);
    const title = svg('title', null, g);
    const track = svg('circle', { class: 'timer-track' }, g);
    const arc = svg('circle', { class: 'timer-arc' }, g);
    const leaderRing = svg('circle', { class: 'leader-ring' }, g);
    const body = svg('circle', { class: 'body' }, g);
    const label = svg('text', { class: 'label' }, g);
    label.textContent = id;
    const sub = svg('text', { class: 'sub' }, g);
    const glyph = svg('text', { class: 'glyph' }, g);
    const crown = svg('text', { class: 'crown' }, g);
    crown.textContent = '♛';
    const open = () => focusCard(id);
    g.addEventListener('click', open);
    g.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } });
    return { g, title, track, arc, leaderRing, body, label, sub, glyph, crown, circumference: 0 };
  }

  function updateRingNode(h, node, p, r, isLeader) {
    const state = stateOf(node);
    const offline = isOffline(node);
    const ringR = r + 8;
    h.circumference = 2 * Math.PI * ringR;
    for (const c of [h.track, h.arc]) {
      c.setAttribute('cx', p.x); c.setAttribute('cy', p.y); c.setAttribute('r', ringR);
    }
    h.arc.setAttribute('transform', 'rotate(-90 ' + p.x.toFixed(1) + ' ' + p.y.toFixed(1) + ')');
    h.arc.style.stroke = state === 'CANDIDATE' ? 'var(--candidate)' : node.paused ? '#a16207' : '#e6ebf1';
    h.leaderRing.setAttribute('cx', p.x); h.leaderRing.setAttribute('cy', p.y); h.leaderRing.setAttribute('r', r + 8);
    h.leaderRing.style.display = isLeader ? '' : 'none';
    h.track.style.display = isLeader || offline ? 'none' : '';
    h.arc.style.display = isLeader || offline ? 'none' : '';
    h.body.setAttribute('cx', p.x); h.body.setAttribute('cy', p.y); h.body.setAttribute('r', r);
    h.body.setAttribute('class', 'body fill-' + (offline ? 'offline' : state.toLowerCase()));
    h.label.setAttribute('x', p.x); h.label.setAttribute('y', p.y);
    h.label.setAttribute('class', 'label' + (offline || state === 'FOLLOWER' ? ' light' : ''));
    h.label.style.fontSize = Math.max(10, Math.round(r * 0.65)) + 'px';
    h.sub.setAttribute('x', p.x); h.sub.setAttribute('y', p.y + r + 24);
    h.sub.textContent = offline ? 'offline' : 'term ' + show(node.term);
    h.glyph.setAttribute('x', p.x); h.glyph.setAttribute('y', p.y - r * 0.45);
    h.glyph.textContent = node.crashed ? '✕' : node.paused ? '❚❚' : '';
    h.crown.setAttribute('x', p.x); h.crown.setAttribute('y', p.y - r - 14);
    h.crown.style.display = isLeader ? '' : 'none';
    h.title.textContent = 'node ' + show(node.node_id) + ': ' + (offline ? 'offline' : state) +
      (offline ? '' : ', term ' + show(node.term) + ', log ' + show(node.log_length) + ', commit ' + show(node.commit_index)) +
      (node.paused ? ', paused' : '') + (node.crashed ? ', crashed' : '');
    h.g.setAttribute('aria-label', h.title.textContent);
  }

  function focusCard(id) {
    const card = app.cards.get(String(id));
    if (!card) return;
    card.root.scrollIntoView({ behavior: 'smooth', block: 'center' });
    card.root.classList.add('flash');
    setTimeout(() => card.root.classList.remove('flash'), 1200);
  }

  // ---- timeline of terms and leaders -----------------------------------------------------------------

  function recordTimeline(data) {
    const now = Date.now();
    const term = clusterTerm(data);
    const leader = data.leader === null || data.leader === undefined ? null : String(data.leader);
    const last = app.segments[app.segments.length - 1];
    if (last && last.leader === leader && last.term === term) {
      last.end = now;
    } else {
      app.segments.push({ start: now, end: now, leader, term });
      if (last) {
        last.end = now;
        const text = leader !== null ? 'term ' + term + ': node ' + leader + ' leads'
                                     : 'term ' + term + ': no leader';
        addEvent(text, leader);
      } else {
        addEvent('watching: ' + (leader !== null ? 'node ' + leader + ' leads in term ' + term : 'no leader, term ' + term), leader);
      }
    }
    const horizon = now - TIMELINE_MS;
    while (app.segments.length > 1 && app.segments[0].end < horizon) app.segments.shift();
  }

  function addEvent(text, leader) {
    app.events.unshift({ at: new Date(), text, leader });
    if (app.events.length > 50) app.events.length = 50;
    const list = $('events');
    const li = el('li');
    const chip = el('span', 'chip');
    chip.style.background = leader !== null ? nodeColor(leader) : '#ffffff30';
    li.append(el('time', null, clock(app.events[0].at)), chip, el('span', null, text));
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 50) list.removeChild(list.lastChild);
  }

  function drawTimeline() {
    const root = $('timeline');
    clear(root);
    const W = 600, H = 64, now = Date.now(), from = now - TIMELINE_MS;
    const x = (t) => Math.max(0, Math.min(W, ((t - from) / TIMELINE_MS) * W));
    let lastLabelX = -100;
    let prevTerm = null;
    for (const s of app.segments) {
      const x1 = x(s.start), x2 = Math.max(x(s.end), x1 + 1);
      const rect = svg('rect', { x: x1, y: 16, width: x2 - x1, height: H - 16 }, root);
      if (s.leader !== null) rect.setAttribute('fill', nodeColor(s.leader));
      else rect.setAttribute('class', 'none');
      const t = svg('title', null, rect);
      t.textContent = 'term ' + s.term + (s.leader !== null ? ', leader node ' + s.leader : ', no leader') +
        ' (' + clock(new Date(s.start)) + ' – ' + clock(new Date(s.end)) + ')';
      if (prevTerm !== null && s.term !== prevTerm && s.start >= from) {
        svg('line', { class: 'tick', x1, y1: 10, x2: x1, y2: H }, root);
        if (x1 - lastLabelX > 26) {
          const label = svg('text', { class: 'tick-label', x: x1 + 2, y: 10 }, root);
          label.textContent = 'T' + s.term;
          lastLabelX = x1;
        }
      }
      prevTerm = s.term;
    }
  }

  // ---- logs -------------------------------------------------------------------------------------------

  function logWindow(data) {
    let last = 0;
    for (const node of data.nodes) if (!isOffline(node)) last = Math.max(last, num(node.log_length));
    for (const log of app.logs.values()) last = Math.max(last, log.last || 0);
    const start = Math.max(1, last - LOG_WINDOW + 1);
    return { start, last };
  }

  function scheduleLogFetches(data) {
    const win = logWindow(data);
    const ids = new Set();
    for (const node of data.nodes) {
      const id = String(node.node_id);
      ids.add(id);
      let log = app.logs.get(id);
      if (!log) {
        log = { entries: new Map(), first: 1, commit: 0, last: 0, key: '', fetchedAt: 0, inFlight: false, timer: null, stale: false };
        app.logs.set(id, log);
      }
      if (isOffline(node) || node.crashed) { log.stale = true; continue; }
      log.stale = false;
      // Only when something changed that the row shows.
      const key = [win.start, node.log_length, node.commit_index, node.term, node.first_index].join(':');
      if (key === log.key) continue;
      const wait = LOG_REFETCH_MS - (performance.now() - log.fetchedAt);
      if (log.inFlight || log.timer) continue;  // the pending fetch will see the latest key
      if (wait <= 0) fetchLog(id, key, win.start);
      else log.timer = setTimeout(() => { log.timer = null; const w = logWindow(app.cluster); fetchLog(id, null, w.start); }, wait);
    }
    for (const id of [...app.logs.keys()]) if (!ids.has(id)) app.logs.delete(id);
  }

  async function fetchLog(id, key, start) {
    const log = app.logs.get(id);
    if (!log) return;
    log.inFlight = true;
    log.fetchedAt = performance.now();
    const node = app.cluster ? app.cluster.nodes.find((n) => String(n.node_id) === id) : null;
    const wantKey = key || (node ? [start, node.log_length, node.commit_index, node.term, node.first_index].join(':') : '');
    const answer = await call('GET', '/api/nodes/' + encodeURIComponent(id) + '/entries?from=' + start + '&limit=' + LOG_WINDOW);
    log.inFlight = false;
    if (answer.status !== 200 || !answer.json || !Array.isArray(answer.json.entries)) return;
    const entries = new Map();
    for (const e of answer.json.entries) if (e && typeof e.index === 'number') entries.set(e.index, e);
    log.entries = entries;
    log.first = num(answer.json.first_index, 1);
    log.commit = num(answer.json.commit_index, 0);
    log.last = num(answer.json.last_index, entries.size ? Math.max(...entries.keys()) : 0);
    log.key = wantKey;
    renderLogs();
  }

  function entryTitle(e) {
    let s = '#' + e.index + ' · term ' + e.term + ' · ' + show(e.type);
    if (e.kv && typeof e.kv === 'object') {
      s += ' · ' + show(e.kv.op) + ' ' + preview(show(e.kv.key), 60);
      if (typeof e.kv.value_bytes === 'number') s += ' (' + e.kv.value_bytes + ' bytes)';
    } else if (typeof e.data === 'string' && e.data.length > 0) {
      s += ' · ' + preview(e.data, 80);
    }
    return s;
  }

  function renderLogs() {
    const data = app.cluster;
    if (!data) return;
    const root = $('logs');
    const win = logWindow(data);
    const parts = [win.start, win.last];
    for (const node of data.nodes) {
      const log = app.logs.get(String(node.node_id));
      parts.push(String(node.node_id), isOffline(node) ? 'off' : stateOf(node), log ? log.key : '', log && log.stale ? 's' : '');
    }
    const renderKey = parts.join('|');
    if (renderKey === app.logRenderKey) return;
    app.logRenderKey = renderKey;
    clear(root);
    if (data.nodes.length === 0) { root.append(el('p', 'log-empty', 'No nodes.')); return; }
    if (win.last === 0) {
      root.append(el('p', 'log-empty', 'All logs are empty. Write a key or submit an entry: it appears here in every node\'s log.'));
      return;
    }
    // Index header: a label every fifth column.
    const head = el('div', 'log-head');
    head.append(el('span', 'log-name', 'index'));
    const idx = el('div', 'log-cells');
    for (let i = win.start; i <= win.last; i++) idx.append(el('span', 'log-index', i % 5 === 0 || i === win.start ? i : ''));
    head.append(idx);
    root.append(head);

    for (const node of data.nodes) {
      const id = String(node.node_id);
      const log = app.logs.get(id);
      const row = el('div', 'log-row');
      const name = el('span', 'log-name');
      const chip = el('span', 'chip');
      chip.style.background = isOffline(node) ? 'var(--offline-line)' : 'var(--' + stateOf(node).toLowerCase() + ')';
      name.append(chip, document.createTextNode('N' + id));
      row.append(name);
      const cells = el('div', 'log-cells');
      const prevMax = app.lastRendered.get(id) || 0;
      let drawnMax = prevMax;
      if (log && (log.key || log.entries.size > 0)) {
        for (let i = win.start; i <= win.last; i++) {
          const cell = el('span', 'log-cell');
          const e = log.entries.get(i);
          if (i < log.first) {
            cell.classList.add('compacted');
            cell.title = '#' + i + ': compacted into the snapshot';
          } else if (!e) {
            cell.classList.add('missing');
            cell.title = '#' + i + ': not in this node\'s log';
          } else {
            cell.style.background = termColor(e.term);
            cell.textContent = String(e.term);
            cell.title = entryTitle(e) + (i <= log.commit ? ' · committed' : ' · not committed yet');
            if (e.type === 'noop') cell.classList.add('noop');
            if (i > log.commit) cell.classList.add('uncommitted');
            if (i === log.commit) cell.classList.add('commit-edge');
            if (prevMax > 0 && i > prevMax) cell.classList.add('fresh');
            drawnMax = Math.max(drawnMax, i);
          }
          cells.append(cell);
        }
        app.lastRendered.set(id, drawnMax);
      } else {
        cells.append(el('span', 'log-empty', isOffline(node) ? 'offline' : 'loading…'));
      }
      row.append(cells);
      const status = [];
      if (log && log.stale) status.push(isOffline(node) ? 'offline: last known' : 'crashed: last known');
      if (log && log.key) status.push('commit ' + log.commit);
      row.append(el('span', 'log-more', status.join(' · ')));
      row.style.opacity = log && log.stale ? '0.55' : '';
      root.append(row);
    }
  }

  // ---- the drawer: log lines, history, command answers ------------------------------------------------

  function openDrawer(kind, id) {
    const d = app.drawer;
    clearTimeout(d.timer);
    d.kind = kind;
    d.id = String(id);
    $('drawer').hidden = false;
    $('drawer-title').textContent = (kind === 'log' ? 'Log of node ' : kind === 'history' ? 'Command history of node ' : 'Node ') + id;
    $('drawer-follow').parentElement.hidden = !(kind === 'log' || kind === 'history');
    $('drawer-body').textContent = 'loading…';
    updateDrawerMeta();
    if (kind === 'log' || kind === 'history') refreshDrawer(true);
  }

  function closeDrawer() {
    const d = app.drawer;
    clearTimeout(d.timer);
    d.kind = null;
    d.id = null;
    $('drawer').hidden = true;
  }

  function updateDrawerMeta() {
    const d = app.drawer;
    if (!d.kind || !app.cluster) return;
    const node = app.cluster.nodes.find((n) => String(n.node_id) === d.id);
    $('drawer-meta').textContent = node
      ? (isOffline(node) ? 'offline' : stateOf(node) + ' · term ' + show(node.term) + ' · log ' + show(node.log_length) +
         ' · commit ' + show(node.commit_index)) + ' · ' + show(node.address)
      : 'this node is no longer listed';
  }

  async function refreshDrawer(scrollToEnd) {
    const d = app.drawer;
    const kind = d.kind, id = d.id;
    if (kind !== 'log' && kind !== 'history') return;
    const path = '/api/nodes/' + encodeURIComponent(id) + (kind === 'log' ? '/log?limit=400' : '/cmd_history');
    const answer = await call('GET', path);
    if (d.kind !== kind || d.id !== id) return;  // closed or switched meanwhile
    const body = $('drawer-body');
    const atEnd = scrollToEnd || body.scrollTop + body.clientHeight >= body.scrollHeight - 20;
    clear(body);
    if (answer.status !== 200 || !answer.json) {
      body.textContent = 'cannot read it: ' + errorText(answer);
    } else {
      const lines = kind === 'log' ? answer.json.log : answer.json.history;
      if (!Array.isArray(lines) || lines.length === 0) {
        body.textContent = kind === 'log' ? '(no log lines yet)' : '(no commands yet)';
      } else {
        for (const line of lines) {
          const text = String(line);
          const span = el('span', null, text + '\n');
          if (/\b(error|critical)\b/i.test(text)) span.className = 'lvl-err';
          else if (/\bwarn(ing)?\b/i.test(text)) span.className = 'lvl-warn';
          else if (/\b(debug|trace)\b/i.test(text)) span.className = 'lvl-debug';
          body.append(span);
        }
      }
    }
    if (atEnd) body.scrollTop = body.scrollHeight;
    if ($('drawer-follow').checked) {
      clearTimeout(d.timer);
      d.timer = setTimeout(() => refreshDrawer(false), DRAWER_REFRESH_MS);
    }
  }

  function showAnswer(id, cmd, answer) {
    openDrawer('answer', id);
    $('drawer-title').textContent = 'Node ' + id + ': ' + cmd;
    const body = $('drawer-body');
    if (answer.json) body.textContent = JSON.stringify(answer.json, null, 2);
    else body.textContent = errorText(answer);
  }

  // ---- the client box -------------------------------------------------------------------------------

  function showResult(kind, text) {
    const box = $('client-result');
    box.className = 'result ' + kind;
    box.textContent = text;
  }

  function kvPath(key) {
    return '/api/kv/' + encodeURIComponent(key);
  }

  async function kvCall(method, stale, button) {
    const key = $('kv-key').value;
    if (key === '') { showResult('err', 'Enter a key first.'); $('kv-key').focus(); return; }
    const value = $('kv-value').value;
    button.disabled = true; button.classList.add('busy');
    const path = kvPath(key) + (stale ? '?stale=true' : '');
    const answer = method === 'PUT' ? await call('PUT', path, value, 'application/octet-stream')
                                    : await call(method, path);
    button.disabled = false; button.classList.remove('busy');
    const what = method + ' ' + preview(key, 40);
    if (answer.status === 200 && answer.json && answer.json.ok !== false) {
      if (method === 'GET') {
        const v = typeof answer.json.value === 'string' ? answer.json.value : '';
        showResult('ok', 'value of "' + preview(key, 80) + '":\n' + v +
                   (answer.json.value_base64 ? '\n(not UTF-8; base64: ' + answer.json.value_base64 + ')' : ''));
      } else {
        showResult('ok', (method === 'PUT' ? 'written' : 'deleted') + ' at index ' + show(answer.json.index) +
                   ', term ' + show(answer.json.term) + ': committed and applied');
        toast('ok', what, 'committed at index ' + show(answer.json.index));
      }
    } else {
      showResult('err', errorText(answer));
      if (method !== 'GET' || answer.status !== 404) toast('err', what, errorText(answer));
    }
  }

  async function submitEntry(button) {
    const text = $('submit-text').value.trim();
    if (text === '') { showResult('err', 'Enter some text to append.'); return; }
    const leader = app.cluster ? app.cluster.leader : null;
    if (leader === null || leader === undefined) {
      showResult('err', 'No leader is known right now; wait for an election.');
      toast('err', 'submit', 'no leader known');
      return;
    }
    button.disabled = true; button.classList.add('busy');
    const answer = await sendCommand(String(leader), 'submit ' + text);
    button.disabled = false; button.classList.remove('busy');
    if (answer.status === 200 && answer.json && answer.json.ok !== false) {
      showResult('ok', show(answer.json.result));
      $('submit-text').value = '';
    } else {
      showResult('err', errorText(answer));
    }
  }

  // ---- start --------------------------------------------------------------------------------------------

  function start() {
    $('kv-form').addEventListener('submit', (e) => { e.preventDefault(); kvCall('PUT', false, $('kv-put')); });
    $('kv-get').addEventListener('click', (e) => kvCall('GET', false, e.currentTarget));
    $('kv-get-stale').addEventListener('click', (e) => kvCall('GET', true, e.currentTarget));
    $('kv-delete').addEventListener('click', (e) => kvCall('DELETE', false, e.currentTarget));
    $('submit-form').addEventListener('submit', (e) => {
      e.preventDefault();
      submitEntry(e.currentTarget.querySelector('button[type="submit"]'));
    });
    $('drawer-close').addEventListener('click', closeDrawer);
    $('drawer-follow').addEventListener('change', (e) => {
      if (e.currentTarget.checked) refreshDrawer(false);
      else clearTimeout(app.drawer.timer);
    });
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && app.drawer.kind) closeDrawer(); });
    setInterval(drawTimeline, 1000);
    drawTimeline();
    requestAnimationFrame(animate);
    startStream();
    // If the stream has not delivered anything after a moment, poll meanwhile.
    setTimeout(() => { if (app.feed.lastMessage === 0) startPolling(); }, 2500);
  }

  start();
})();
