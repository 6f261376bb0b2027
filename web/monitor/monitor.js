// The cluster page of web_monitor.
//
// Data comes from the monitor only (the browser never calls a node):
//   - /api/history: the recorded history (the nodes' Raft events and the
//     monitor's status frames), loaded at start and when the slider goes
//     further back than what is loaded;
//   - /api/events?history=1&after=ID (Server-Sent Events): new history
//     records as they arrive, and the /api/cluster snapshot when it changes;
//     if the stream fails the page polls /api/cluster and /api/history.
//
// The ring is drawn from the history at a view time T: live, T is half a
// second behind the cluster (so every message recorded is drawn); paused, T
// stands still; replaying, T runs at the chosen speed. The page draws only
// while something moves (a message, a growing timer, a replay).
//
// Everything shown is built with createElement/textContent/setAttribute:
// node ids, log lines, keys and values are data, never markup.

'use strict';

(() => {
  // ---- constants ----------------------------------------------------------------------

  const POLL_MS = 1000;              // fallback polling period
  const SSE_RETRY_MS = 5000;         // after falling back, try the stream again this often
  const LIVE_LAG_MS = 600;           // the live ring runs this far behind the cluster
  const MIN_FLIGHT_MS = 250;         // a message without a delay takes this long on screen
  const DROP_SHOW_MS = 500;          // a dropped message's cross stays this long
  const HISTORY_LOAD_MS = 15 * 60 * 1000;  // loaded at start: the last 15 minutes
  const HISTORY_PAGE = 20000;
  const RECORDS_MAX = 120000;        // records kept in the page
  const LOG_REFETCH_MS = 1000;
  const DRAWER_REFRESH_MS = 1000;
  const TOAST_MS = 5000;
  const TOASTS_MAX = 5;
  const STATES = ['INITIAL', 'FOLLOWER', 'CANDIDATE', 'LEADER', 'STANDBY'];
  const LAYOUT_MS = 450;             // members moving to their new places on the ring
  const REQUEST_OF = { vote_resp: 'vote', prevote_resp: 'prevote', append_resp: 'append', snap_resp: 'snap' };
  const RING = { cx: 300, cy: 300, R: 215 };
  // Standby nodes (not members) sit on a shelf under the ring, which then
  // grows from 600 to SHELF.height units tall.
  const SHELF = { top: 608, y: 652, height: 700, r: 18, gap: 80 };
  // On a phone the ring is drawn at about 60% scale: bigger captions, a smaller orbit.
  const phone = window.matchMedia('(max-width: 700px)');

  const SVG_NS = document.getElementById('ring').namespaceURI;
  const reducedMotion = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)');

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

  function setAttrs(e, attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      const s = String(v);
      if (e.getAttribute(k) !== s) e.setAttribute(k, s);
    }
  }

  function setClass(e, cls) {
    if (e.getAttribute('class') !== cls) e.setAttribute('class', cls);
  }

  function setDisplay(e, visible) {
    const v = visible ? '' : 'none';
    if (e.style.display !== v) e.style.display = v;
  }

  function setText(e, text) {
    const s = String(text);
    if (e.textContent !== s) e.textContent = s;
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

  function termClass(term) {
    return 'term-' + (Math.abs(Math.trunc(num(term))) % 10);
  }

  function clock(ms, withMs) {
    const d = new Date(ms);
    const s = d.toLocaleTimeString([], { hour12: false });
    return withMs ? s + '.' + String(Math.floor(ms % 1000)).padStart(3, '0') : s;
  }

  function fmtMs(v) {
    if (typeof v !== 'number') return '–';
    return v >= 10000 ? (v / 1000).toFixed(1) + ' s' : Math.round(v) + ' ms';
  }

  function preview(text, max) {
    const s = String(text);
    return s.length > max ? s.slice(0, max) + '…' : s;
  }

  /// The last element of `arr` (sorted by .t) with t <= T, or null.
  function lastAtOrBefore(arr, T) {
    if (!arr || arr.length === 0) return null;
    let lo = 0, hi = arr.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (arr[mid].t <= T) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found < 0 ? null : arr[found];
  }

  /// The index of the first element with key(e) > T.
  function firstAfter(arr, T, key) {
    let lo = 0, hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (key(arr[mid]) <= T) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  function insertSorted(arr, rec) {
    if (arr.length === 0 || arr[arr.length - 1].t <= rec.t) { arr.push(rec); return; }
    arr.splice(firstAfter(arr, rec.t, (e) => e.t), 0, rec);
  }

  // ---- state --------------------------------------------------------------------------------

  const app = {
    cluster: null,        // the last /api/cluster body
    offsetMs: null,       // server wall clock minus ours (smallest seen)
    cards: new Map(),     // node id -> row handles
    ringNodes: new Map(), // node id -> ring handles
    selected: null,       // node id whose actions are open
    logs: new Map(),
    logEnd: null,         // last index shown in the log grid; null: the newest
    logRenderKey: '',
    feed: { es: null, mode: 'connecting', pollTimer: null, pollGeneration: 0, retryTimer: null, lastMessage: 0 },
    drawer: { kind: null, id: null, timer: null },
    view: { mode: 'live', t: 0, speed: 0.25, replayWall: 0, replayT: 0 },
    frame: { pending: false, timer: null },
  };

  // The history as the page holds it, indexed for drawing at any time T (ms).
  const hist = {
    ids: new Set(),
    lastId: 0,
    available: true,      // false: the monitor keeps no history (fall back to snapshots)
    oldestMs: null,       // the oldest record the monitor has (ms)
    loadedFromMs: null,   // records older than this are not loaded
    count: 0,
    frames: new Map(),    // node -> status frames, by t
    states: new Map(),    // node -> state events, by t
    sends: [],            // send events, by t
    drops: [],            // drop events, by t
    requests: new Map(),  // "from>to" -> request sends, by t (answers wait for them)
    votes: [],            // vote and PreVote answers, by t
    notable: [],          // what the events list shows, by t
    steps: [],            // what the step buttons stop at, by t
    maxFlight: MIN_FLIGHT_MS,
    version: 0,
    notableVersion: 0,    // grows when the events list or the strip has news
  };

  function nodeList(map, id) {
    let arr = map.get(id);
    if (!arr) { arr = []; map.set(id, arr); }
    return arr;
  }

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

  // The cluster's auth token, needed for commands and writes when the cluster
  // has one. It comes in the URL fragment (#token=..., never sent to a
  // server), is kept for this tab only, and is asked for once on a 401.
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
  /// monitor could not be reached. A 401 asks for the token once and retries.
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

  function succeeded(answer) {
    return answer.status >= 200 && answer.status < 300 && !!answer.json && answer.json.ok !== false;
  }

  /// Sends `cmd` to node `id` and says how it went in a toast (unless quiet).
  async function sendCommand(id, cmd, button, quiet) {
    if (button) { button.disabled = true; button.classList.add('busy'); }
    const answer = await call('POST', '/api/nodes/' + encodeURIComponent(id) + '/command',
                              JSON.stringify({ cmd }));
    if (button) { button.disabled = false; button.classList.remove('busy'); }
    if (!quiet) commandToast(id, cmd, answer);
    refreshSoon();
    return answer;
  }

  function commandToast(id, cmd, answer) {
    const what = 'node ' + id + ' · ' + preview(cmd, 60);
    if (succeeded(answer)) toast('ok', what, show(answer.json.result));
    else toast('err', what, errorText(answer));
  }

  /// The leader now (not at the time shown, when paused): membership
  /// changes are the leader's to make.
  function leaderNow() {
    const c = app.cluster;
    if (c && typeof c.leader === 'string') return c.leader;
    return app.world && app.world.leader ? app.world.leader.id : null;
  }

  /// Sends a membership command to the leader; one that has just stepped
  /// down names its successor, which is asked once. Returns the answer and
  /// who gave it, or null when no leader is known.
  async function leaderCommand(cmd, button) {
    const leader = leaderNow();
    if (leader === null) return null;
    let by = leader;
    let answer = await sendCommand(leader, cmd, button, true);
    const hint = answer.json && answer.json.leader_id;
    if (!succeeded(answer) && typeof hint === 'string' && hint !== leader) {
      by = hint;
      answer = await sendCommand(hint, cmd, button, true);
    }
    commandToast(by, cmd, answer);
    return { answer, by };
  }

  // ---- the history ---------------------------------------------------------------------------

  /// Takes records from /api/history or the stream into the indexes.
  function ingest(records) {
    if (!Array.isArray(records) || records.length === 0) return;
    let added = 0;
    let earliest = Infinity;
    for (const raw of records) {
      if (!raw || typeof raw !== 'object' || typeof raw.id !== 'number' || hist.ids.has(raw.id)) continue;
      hist.ids.add(raw.id);
      hist.lastId = Math.max(hist.lastId, raw.id);
      const r = raw;
      r.t = num(r.t) / 1000;  // µs -> ms
      if (r.t === 0) r.t = num(r.at);
      if (typeof r.node !== 'string') continue;
      index(r);
      earliest = Math.min(earliest, r.t);
      added++;
    }
    hist.count += added;
    if (added > 0) {
      hist.version++;
      if (hist.oldestMs === null) {
        let oldest = Infinity;
        for (const r of records) oldest = Math.min(oldest, num(r.at, Infinity));
        if (Number.isFinite(oldest)) hist.oldestMs = oldest;
      }
      if (hist.count > RECORDS_MAX) trimHistory();
      onHistoryChanged(earliest);
    }
  }

  function index(r) {
    switch (r.k) {
      case 'status': insertSorted(nodeList(hist.frames, r.node), r); break;
      case 'state':
        insertSorted(nodeList(hist.states, r.node), r);
        insertSorted(hist.steps, r);
        insertSorted(hist.notable, r);
        hist.notableVersion++;
        break;
      case 'send': indexSend(r); break;
      case 'drop': insertSorted(hist.drops, r); insertSorted(hist.steps, r); break;
      case 'command': insertSorted(hist.notable, r); insertSorted(hist.steps, r); hist.notableVersion++; break;
      case 'gap': case 'boot': insertSorted(hist.notable, r); hist.notableVersion++; break;
      case 'commit': case 'snapshot': insertSorted(hist.steps, r); break;
      default: break;
    }
  }

  function indexSend(r) {
    r.flight = num(r.hold_ms) > 0 ? num(r.hold_ms) : MIN_FLIGHT_MS;
    hist.maxFlight = Math.max(hist.maxFlight, r.flight);
    insertSorted(hist.sends, r);
    if (!r.hb) insertSorted(hist.steps, r);
    if (REQUEST_OF[r.type] === undefined) insertSorted(nodeList(hist.requests, r.node + '>' + r.peer), r);
    if (r.type === 'vote_resp' || r.type === 'prevote_resp') insertSorted(hist.votes, r);
  }

  function trimHistory() {
    // Keep the newest part: rebuild the indexes from what stays.
    const all = [];
    for (const arr of hist.frames.values()) all.push(...arr);
    for (const arr of hist.states.values()) all.push(...arr);
    all.push(...hist.sends, ...hist.drops);
    for (const r of hist.notable) if (r.k !== 'state') all.push(r);
    for (const r of hist.steps) if (r.k === 'commit' || r.k === 'snapshot') all.push(r);
    all.sort((a, b) => a.t - b.t);
    const keep = all.slice(Math.floor(all.length / 3));
    hist.frames = new Map(); hist.states = new Map(); hist.requests = new Map();
    hist.sends = []; hist.drops = []; hist.votes = []; hist.notable = []; hist.steps = [];
    for (const r of keep) index(r);
    hist.count = keep.length;
    hist.loadedFromMs = keep.length ? keep[0].t : null;
  }

  async function loadHistory(fromMs, toMs) {
    let path = '/api/history?from_ms=' + Math.max(0, Math.floor(fromMs)) + '&limit=' + HISTORY_PAGE;
    if (toMs !== undefined) path += '&to_ms=' + Math.floor(toMs);
    for (let page = 0; page < 6; page++) {
      const answer = await call('GET', path);
      if (answer.status === 503) { hist.available = false; return false; }
      if (answer.status !== 200 || !answer.json || !Array.isArray(answer.json.records)) return false;
      hist.available = true;
      hist.oldestMs = num(answer.json.oldest_ms, hist.oldestMs || Date.now());
      ingest(answer.json.records);
      if (!answer.json.more) break;
      path = '/api/history?after=' + num(answer.json.next_after) + '&limit=' + HISTORY_PAGE;
    }
    hist.loadedFromMs = hist.loadedFromMs === null ? fromMs : Math.min(hist.loadedFromMs, fromMs);
    return true;
  }

  /// Without a history (an old monitor), each snapshot becomes a frame.
  function framesFromSnapshot(data) {
    if (hist.available || !Array.isArray(data.nodes)) return;
    const t = num(data.updated_at_ms, Date.now());
    const records = data.nodes.map((n, i) => {
      const tm = n.timers || {};
      return {
        id: -(num(data.seq) * 1000 + i), k: 'status', node: String(n.node_id), t: t * 1000,
        reachable: n.reachable !== false && n.state !== 'offline', state: n.state, term: n.term,
        leader_id: n.leader_id, voted_for: n.voted_for, commit_index: n.commit_index, log_length: n.log_length,
        paused: n.paused, crashed: n.crashed, pre_voting: n.pre_voting, partitioned: n.partitioned,
        dropping_from: n.dropping_from, dropping_to: n.dropping_to, delaying: n.delaying,
        election_timeout_ms: tm.election_timeout_ms, election_elapsed_ms: tm.election_elapsed_ms,
        heartbeat_interval_ms: tm.heartbeat_interval_ms, running: tm.running,
        voters: n.voters, learners: n.learners, config_index: n.config_index,
      };
    });
    ingest(records);
  }

  // ---- time ---------------------------------------------------------------------------------------

  function serverNow() { return Date.now() + (app.offsetMs || 0); }
  function liveT() { return serverNow() - LIVE_LAG_MS; }

  function noteServerTime(serverMs) {
    if (typeof serverMs !== 'number') return;
    // The smallest lead seen is the truest (transit only ever adds).
    // A snapshot is at most its transit old: the largest offset seen lately
    // is the truest (it decays slowly, so a clock that drifts is followed).
    const offset = serverMs - Date.now();
    if (app.offsetMs === null || Math.abs(offset - app.offsetMs) > 5000) app.offsetMs = offset;
    else app.offsetMs = Math.max(offset, app.offsetMs - 1);
  }

  /// The view time without switching a finished replay to live.
  function viewTNoSwitch() {
    const v = app.view;
    if (v.mode === 'replay') return Math.min(liveT(), v.replayT + (performance.now() - v.replayWall) * v.speed);
    return v.mode === 'live' ? liveT() : v.t;
  }

  function viewT() {
    const v = app.view;
    if (v.mode === 'live') return liveT();
    if (v.mode === 'replay') {
      const t = v.replayT + (performance.now() - v.replayWall) * v.speed;
      if (t >= liveT()) { setMode('live'); return liveT(); }
      return t;
    }
    return v.t;
  }

  function setMode(mode, t) {
    const v = app.view;
    // Away from live the slider's scale stands still, so a position keeps its time.
    if (v.mode === 'live' && mode !== 'live') v.rangeEnd = liveT();
    if (mode === 'paused') v.t = t !== undefined ? t : viewT();
    if (mode === 'replay') { v.replayT = t !== undefined ? t : viewT(); v.replayWall = performance.now(); }
    v.mode = mode;
    $('play-pause').classList.toggle('on', mode === 'paused');
    $('play-replay').classList.toggle('on', mode === 'replay');
    $('play-live').classList.toggle('on', mode === 'live');
    setText($('play-pause'), mode === 'paused' ? '❚❚ Paused' : '❚❚ Pause');
    setText($('slider-mode'), mode === 'live' ? 'live' : mode === 'replay' ? 'replay ' + v.speed + '×' : 'paused');
    scheduleFrame();
  }

  // ---- the world at time T ---------------------------------------------------------------------------

  /// What node `id` was at time T, from its latest frame and state event.
  function nodeAt(id, T) {
    const f = lastAtOrBefore(hist.frames.get(id), T);
    const s = lastAtOrBefore(hist.states.get(id), T);
    const n = { id, known: !!(f || s), reachable: true, state: 'INITIAL', term: 0, leader: null, vote: null,
                paused: false, crashed: false, preVote: false, commit: null, last: null,
                partitioned: [], dropFrom: [], dropTo: [], delaying: {}, timer: null, hb: 0, conf: null };
    if (f) {
      n.reachable = f.reachable !== false && f.state !== 'offline';
      n.state = STATES.includes(f.state) ? f.state : 'offline';
      n.term = num(f.term); n.leader = f.leader_id ?? null; n.vote = f.voted_for ?? null;
      n.paused = !!f.paused; n.crashed = !!f.crashed; n.preVote = !!f.pre_voting;
      n.commit = f.commit_index ?? null; n.last = f.log_length ?? null;
      n.partitioned = Array.isArray(f.partitioned) ? f.partitioned.map(String) : [];
      n.dropFrom = Array.isArray(f.dropping_from) ? f.dropping_from.map(String) : [];
      n.dropTo = Array.isArray(f.dropping_to) ? f.dropping_to.map(String) : [];
      n.delaying = f.delaying && typeof f.delaying === 'object' ? f.delaying : {};
      n.hb = num(f.heartbeat_interval_ms);
      if (Array.isArray(f.voters)) {
        n.conf = { voters: f.voters.map(String), learners: Array.isArray(f.learners) ? f.learners.map(String) : [],
                   index: num(f.config_index) };
      }
      if (typeof f.election_timeout_ms === 'number') {
        n.timer = { at: f.t, elapsed: num(f.election_elapsed_ms), timeout: f.election_timeout_ms,
                    running: f.running !== false, exact: false };
      }
    }
    // The node's own state events are exact; a frame (a poll) may have been
    // taken a moment before the change it is stamped after. A frame wins
    // only when it is much newer and disagrees (events were lost).
    const agrees = f && s && f.state === s.state && num(f.term) === num(s.term) && !!f.paused === !!s.paused;
    if (s && (!f || s.t >= f.t - 5000 || agrees)) {
      n.state = STATES.includes(s.state) ? s.state : n.state;
      n.term = num(s.term, n.term); n.leader = s.leader ?? null; n.vote = s.vote ?? null;
      n.paused = !!s.paused; n.crashed = !!s.crashed; n.preVote = !!s.pre_vote;
      if (!n.timer || s.t >= n.timer.at) {
        n.timer = { at: s.t, elapsed: num(s.elapsed_ms), timeout: num(s.timeout_ms),
                    running: !s.paused && !s.crashed, exact: true };
      }
    }
    if (!n.reachable) n.state = 'offline';
    return n;
  }

  function worldAt(T) {
    const ids = new Set([...hist.frames.keys(), ...hist.states.keys()]);
    if (app.cluster) for (const n of app.cluster.nodes) ids.add(String(n.node_id));
    const nodes = [...ids].sort((a, b) => Number(a) - Number(b)).map((id) => nodeAt(id, T));
    let maxTerm = 0;
    for (const n of nodes) if (n.reachable && !n.crashed) maxTerm = Math.max(maxTerm, n.term);
    let leader = null;
    for (const n of nodes) {
      n.live = n.reachable && !n.paused && !n.crashed;
      n.stale = n.state === 'LEADER' && n.live && n.term < maxTerm;
      if (n.state === 'LEADER' && n.live && !n.stale && (!leader || n.term > leader.term)) leader = n;
    }
    for (const n of nodes) if (n.state === 'CANDIDATE' || n.preVote) n.votes = votesAt(n, T);
    const config = configOf(nodes, leader);
    for (const n of nodes) {
      n.role = config.voters.has(n.id) ? 'voter' : config.learners.has(n.id) ? 'learner' : 'spare';
      // The leader's view runs ahead of the node's own until the node hears
      // of the change: it is on its way in (or out).
      n.joining = n.role !== 'spare' && n.reachable && n.state === 'STANDBY';
      n.leaving = n.role === 'spare' && n.reachable && !n.crashed && n.state !== 'STANDBY' && n.state !== 'INITIAL';
    }
    const members = nodes.filter((n) => n.role !== 'spare');
    const spares = nodes.filter((n) => n.role === 'spare');
    return { T, nodes, members, spares, leader, maxTerm, config };
  }

  /// The configuration drawn: the leader's view (it appends every change),
  /// else the newest view a reachable node reports. Nodes that report none
  /// (a cluster without membership) are all voters.
  function configOf(nodes, leader) {
    let from = leader && leader.conf ? leader : null;
    if (!from) {
      for (const n of nodes) {
        if (n.reachable && n.conf && (!from || n.conf.index > from.conf.index)) from = n;
      }
    }
    if (!from) {
      const all = new Set(nodes.map((n) => n.id));
      return { voters: all, learners: new Set(), index: null, committed: true, from: null, quorum: Math.floor(all.size / 2) + 1 };
    }
    const voters = new Set(from.conf.voters);
    return { voters, learners: new Set(from.conf.learners), index: from.conf.index,
             committed: from.commit === null || from.conf.index <= from.commit, from: from.id,
             quorum: Math.floor(voters.size / 2) + 1 };
  }

  /// The votes (or PreVotes) candidate `n` had received by time T, itself included.
  function votesAt(n, T) {
    const pre = n.preVote && n.state !== 'CANDIDATE';
    const wantType = pre ? 'prevote_resp' : 'vote_resp';
    const wantTerm = pre ? n.term + 1 : n.term;
    const from = new Set([n.id]);
    const start = firstAfter(hist.votes, T - 60000, (e) => e.t);
    for (let i = start; i < hist.votes.length && hist.votes[i].t <= T; i++) {
      const v = hist.votes[i];
      if (v.type !== wantType || v.peer !== n.id || num(v.term) !== wantTerm || !v.ok) continue;
      if (v.t + v.flight <= T) from.add(v.node);
    }
    return { got: from.size, pre };
  }

  /// The election timer of `n` at T: {frac, growing} or null (none drawn).
  function timerAt(n, T) {
    const t = n.timer;
    // Standby nodes and learners never campaign: their timer means nothing.
    if (!t || !n.live || n.state === 'LEADER' || n.state === 'INITIAL' || n.state === 'STANDBY' ||
        n.role === 'learner' || n.role === 'spare' || t.timeout <= 0) return null;
    let grow = t.running ? Math.max(0, T - t.at) : 0;
    // A follower that hears its leader is reset by every heartbeat: past one
    // heartbeat from the report, nothing is known, so nothing is drawn.
    const capped = n.state === 'FOLLOWER' && n.leader !== null && n.hb > 0 && t.elapsed <= 2 * n.hb;
    if (capped) grow = Math.min(grow, n.hb);
    const elapsed = Math.min(t.timeout, t.elapsed + grow);
    const growing = t.running && elapsed < t.timeout && (!capped || grow < n.hb);
    return { frac: elapsed / t.timeout, elapsed, timeout: t.timeout, growing, capped };
  }

  /// The messages on screen at T: [{r, from, to, p (0..1), kind, dropped}].
  function flightsAt(T) {
    const out = [];
    const sends = hist.sends;
    const end = firstAfter(sends, T, (e) => e.t);
    const startT = T - hist.maxFlight - MIN_FLIGHT_MS * 4;
    for (let i = end - 1; i >= 0 && sends[i].t >= startT; i--) {
      const r = sends[i];
      if (hidden(r)) continue;
      const dep = departure(r);
      if (dep > T || dep + r.flight < T) continue;
      // A heartbeat at full speed blinks half-way instead of flying: it
      // would cross in a few frames anyway, and every frame costs.
      const blink = r.hb && !r.hold_ms;
      out.push({ r, from: r.node, to: r.peer, p: blink ? 0.5 : (T - dep) / r.flight, kind: messageClass(r),
                 dropped: false, still: blink, until: dep + r.flight });
    }
    const drops = hist.drops;
    const dEnd = firstAfter(drops, T, (e) => e.t);
    for (let i = dEnd - 1; i >= 0 && drops[i].t >= T - DROP_SHOW_MS; i--) {
      const r = drops[i];
      const inbound = r.dir === 'in';
      out.push({ r, from: inbound ? r.peer : r.node, to: inbound ? r.node : r.peer, p: inbound ? 0.85 : 0.25,
                 kind: 'dropped', dropped: true, still: true, until: r.t + DROP_SHOW_MS });
    }
    return out;
  }

  /// The answer to a heartbeat says nothing new: drawn only in slow motion.
  function hidden(r) {
    return r.hb && r.type === 'append_resp' && r.ok && !r.hold_ms;
  }

  /// When an answer leaves on screen: not before the request it answers
  /// arrived on screen (both really travel in well under a millisecond).
  function departure(r) {
    const req = REQUEST_OF[r.type];
    if (!req) return r.t;
    const list = hist.requests.get(r.peer + '>' + r.node);
    if (!list) return r.t;
    const i = firstAfter(list, r.t, (e) => e.t) - 1;
    for (let j = i; j >= 0 && j >= i - 8; j--) {
      if (list[j].type === req) return Math.max(r.t, departure(list[j]) + list[j].flight);
    }
    return r.t;
  }

  function messageClass(r) {
    switch (r.type) {
      case 'vote': return 'vote';
      case 'prevote': return 'prevote';
      case 'vote_resp': case 'prevote_resp': return r.ok ? 'granted' : 'refused';
      case 'append': return r.hb ? 'hb' : 'append';
      case 'append_resp': return r.ok ? (r.hb ? 'hb' : 'ack') : 'rejected';
      case 'snap': case 'snap_resp': return 'snap';
      case 'timeout_now': return 'timeout_now';
      case 'removed': return 'refused';
      default: return 'hb';
    }
  }

  // ---- drawing: one frame ------------------------------------------------------------------------

  /// A frame now, or after `delayMs`; the earliest asked for wins.
  function scheduleFrame(delayMs) {
    const f = app.frame;
    if (document.hidden) return;
    if (delayMs && delayMs > 0) {
      if (f.pending) return;
      const due = performance.now() + delayMs;
      if (f.timer && f.due <= due) return;
      clearTimeout(f.timer);
      f.due = due;
      f.timer = setTimeout(() => { f.timer = null; scheduleFrame(); }, delayMs);
      return;
    }
    if (f.timer) { clearTimeout(f.timer); f.timer = null; }
    if (f.pending) return;
    f.pending = true;
    requestAnimationFrame(drawFrame);
  }

  function drawFrame(now) {
    app.frame.pending = false;
    const T = viewT();
    const world = worldAt(T);
    app.world = world;
    const flights = reducedMotion && reducedMotion.matches ? [] : flightsAt(T);
    const growing = renderRing(world, flights);
    // The rows, the pills and the slider move slowly: four times a second
    // is enough, unless what the ring shows changed.
    const key = world.nodes.map((n) => [n.id, n.state, n.term, n.paused, n.crashed, n.reachable, n.role, n.joining, n.leaving].join(':')).join('|') +
      '|' + world.config.index + ':' + world.config.committed;
    if (key !== app.worldKey || app.view.mode !== 'live' || !(now - app.slowAt < 250)) {
      app.worldKey = key;
      app.slowAt = now;
      renderCards(world);
      renderSummary(world);
      renderViewTime(T);
      updateSlider(T);
      if (app.selected) placePopover();
    }
    // Draw again only while something moves (30 frames a second), or when
    // a blinking message goes out, and no sooner than needed.
    const slow = reducedMotion && reducedMotion.matches;
    const moving = flights.some((f) => !f.still);
    let blinkEnd = Infinity;
    for (const f of flights) if (f.still) blinkEnd = Math.min(blinkEnd, f.until);
    if (app.view.mode === 'replay' || moving || app.layoutMoving) scheduleFrame(slow ? 250 : 33);
    else if (Number.isFinite(blinkEnd)) scheduleFrame(Math.max(16, blinkEnd - T + 1));
    // A timer running out is drawn smoothly; one a heartbeat will reset
    // soon, four times a second.
    if (growing) scheduleFrame(slow ? 500 : growing === 2 ? 100 : 250);
    if (app.view.mode === 'live') {
      // Sleep until the next recorded message or change is due, if any.
      let i = firstAfter(hist.sends, T, (e) => e.t);
      while (i < hist.sends.length && hidden(hist.sends[i])) i++;
      const a = hist.sends[i];
      const b = hist.steps[firstAfter(hist.steps, T, (e) => e.t)];
      const next = Math.min(a ? a.t : Infinity, b ? b.t : Infinity);
      if (Number.isFinite(next)) scheduleFrame(Math.max(16, Math.min(2000, next - T)));
    }
  }

  /// New records from `earliest` on: live, the ring runs behind, so they are
  /// drawn when the view reaches them (a frame now only if it already has).
  function onHistoryChanged(earliest) {
    scheduleFrame(app.view.mode === 'live' ? Math.max(0, earliest - liveT()) : 0);
    // The list and the strip change only with states, commands and gaps.
    if (hist.notableVersion !== app.notableSeen) {
      app.notableSeen = hist.notableVersion;
      scheduleStrip();
      scheduleEvents();
    }
  }

  // ---- the ring ---------------------------------------------------------------------------------------

  /// The orbit's radius R and a node's r. Up to 7 nodes the captions sit
  /// above or below each node; beyond, they run outwards from the centre,
  /// and the orbit shrinks so that they stay inside the ring's box.
  function geometry(n) {
    const room = phone.matches ? 150 : 100;  // a side caption's width and gap
    let R = phone.matches ? RING.R - 45 : RING.R;
    const nodeR = (orbit) => n <= 5 ? 34 : n <= 7 ? 30 : Math.max(14, Math.min(30, orbit * Math.sin(Math.PI / n) * 0.55));
    if (n > 7) R = Math.min(R, RING.cx - nodeR(R) - room);
    return { R: n <= 1 ? 0 : R, r: nodeR(R), outward: n > 7 };
  }

  function positionOf(i, n, R) {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, n);
    return { x: RING.cx + R * Math.cos(angle), y: RING.cy + R * Math.sin(angle), angle };
  }

  /// Draws the ring at world.T; returns 2 when a timer runs towards an
  /// election, 1 when timers only grow until the next heartbeat, else 0.
  function renderRing(world, flights) {
    const root = $('ring');
    const { R, r, pos } = animatedLayout(world);
    app.ringPos = pos;
    app.ringR = r;
    setAttrs(root.querySelector('.orbit'), { r: R.toFixed(1) });
    renderShelf(root, world);
    renderLinks(root.querySelector('g.links'), world, pos, r);
    renderMessages($('msgs').querySelector('g.msgs'), flights, pos, r);
    let growing = 0;
    const layer = root.querySelector('g.nodes');
    const seen = new Set();
    for (const node of world.nodes) {
      seen.add(node.id);
      let h = app.ringNodes.get(node.id);
      if (!h) { h = makeRingNode(layer, node.id); app.ringNodes.set(node.id, h); }
      growing = Math.max(growing, updateRingNode(h, node, pos.get(node.id), world));
    }
    for (const [id, h] of app.ringNodes) if (!seen.has(id)) { h.g.remove(); app.ringNodes.delete(id); }
    return growing;
  }

  /// Where each node belongs: the members around the ring (in id order),
  /// the standby nodes in a row on the shelf under it.
  function layoutOf(world) {
    const n = world.members.length;
    const { R, r } = geometry(n);
    const target = new Map();
    world.members.forEach((node, i) => target.set(node.id, { ...positionOf(i, n, R), r, shelf: false }));
    const k = world.spares.length;
    const { gap, r: shelfR, y: shelfY } = shelfGeometry(k);
    // On a phone the drawing is small: bigger nodes and no captions (the
    // shelf's label says what they are).
    world.spares.forEach((node, i) => target.set(node.id, {
      x: RING.cx + (i - (k - 1) / 2) * gap, y: shelfY, angle: Math.PI / 2, r: shelfR, shelf: true,
      caption: gap >= 56 && !phone.matches }));
    return { R, r, target, key: world.members.map((m) => m.id).join(',') + '/' + world.spares.map((m) => m.id).join(',') };
  }

  /// The layout, eased over LAYOUT_MS from where the nodes were drawn when
  /// the membership changed (at once with reduced motion or on first draw).
  function animatedLayout(world) {
    const { R, r, target, key } = layoutOf(world);
    const now = performance.now();
    const prev = app.layout;
    if (!prev || prev.key !== key) {
      const animate = !!prev && !(reducedMotion && reducedMotion.matches);
      app.layout = { key, from: animate ? new Map(app.drawnPos || []) : new Map(), fromR: animate ? prev.R : R,
                     start: animate ? now : -Infinity, R };
    }
    const a = app.layout;
    a.R = R;
    const p = Math.min(1, Math.max(0, (now - a.start) / LAYOUT_MS));
    const e = 1 - Math.pow(1 - p, 3);
    const pos = new Map();
    for (const [id, to] of target) {
      const from = a.from.get(id);
      pos.set(id, !from || p >= 1 ? to : { ...to, x: from.x + (to.x - from.x) * e, y: from.y + (to.y - from.y) * e,
                                                  r: from.r + (to.r - from.r) * e });
    }
    app.layoutMoving = p < 1;
    app.drawnPos = pos;
    return { R: a.fromR + (R - a.fromR) * e, r, pos };
  }

  function shelfGeometry(k) {
    const small = phone.matches;
    return { gap: Math.min(small ? 110 : SHELF.gap, 540 / Math.max(1, k)), r: small ? 26 : SHELF.r,
             y: small ? SHELF.y + 10 : SHELF.y, minWidth: small ? 560 : 360 };
  }

  /// The shelf under the ring, shown (and the drawing made taller) only
  /// while there are standby nodes.
  function renderShelf(root, world) {
    const on = world.spares.length > 0;
    const box = '0 0 600 ' + (on ? SHELF.height : 600);
    for (const layer of [root, $('msgs')]) if (layer.getAttribute('viewBox') !== box) layer.setAttribute('viewBox', box);
    root.classList.toggle('with-shelf', on);
    const shelf = root.querySelector('g.shelf');
    if (shelf.getAttribute('display') !== (on ? 'inline' : 'none')) shelf.setAttribute('display', on ? 'inline' : 'none');
    if (!on) return;
    const k = world.spares.length;
    const { gap, r, minWidth } = shelfGeometry(k);
    const width = Math.max(minWidth, (k - 1) * gap + 2 * r + 40);
    setAttrs(shelf.querySelector('rect'), { x: (RING.cx - width / 2).toFixed(1), y: SHELF.top, width: width.toFixed(1),
                                            height: SHELF.height - SHELF.top - 4 });
    // The label inside the shelf, clear of the captions of the ring's bottom node.
    setAttrs(shelf.querySelector('text'), { x: (RING.cx - width / 2 + 10).toFixed(1), y: SHELF.top + 15 });
  }

  function renderLinks(g, world, pos, r) {
    const key = JSON.stringify([world.nodes.length, r, world.leader && world.leader.id, app.layoutMoving ? performance.now() : app.layout.key,
      world.nodes.map((n) => [n.id, n.live, n.leader, n.partitioned, n.dropTo, n.dropFrom, n.delaying])]);
    if (g.dataset.key === key) return;
    g.dataset.key = key;
    clear(g);
    const line = (a, b, cls, title) => {
      const pa = pos.get(a), pb = pos.get(b);
      if (!pa || !pb) return null;
      const l = svg('line', { class: 'link ' + cls, x1: pa.x, y1: pa.y, x2: pb.x, y2: pb.y }, g);
      if (title) svg('title', null, l).textContent = title;
      return l;
    };
    if (world.leader) {
      for (const node of world.nodes) {
        if (node.id !== world.leader.id && node.live && node.leader === world.leader.id && node.role !== 'spare') {
          line(world.leader.id, node.id, node.role === 'learner' ? 'follows learns' : 'follows');
        }
      }
    }
    const pairs = new Set();
    for (const node of world.nodes) {
      for (const other of node.partitioned) {
        const key = [node.id, other].sort().join('|');
        if (pairs.has(key)) continue;
        pairs.add(key);
        line(node.id, other, 'cut', 'partition: nothing passes between nodes ' + node.id + ' and ' + other);
      }
      for (const other of node.dropTo) line(node.id, other, 'oneway', 'messages from node ' + node.id + ' to node ' + other + ' are dropped');
      for (const other of node.dropFrom) line(other, node.id, 'oneway', 'messages from node ' + other + ' to node ' + node.id + ' are dropped');
      for (const [other, ms] of Object.entries(node.delaying)) {
        const l = line(node.id, other, 'delayed', 'node ' + node.id + ' holds each message to node ' + other + ' for ' + ms + ' ms');
        const pa = pos.get(node.id), pb = pos.get(other);
        if (!l || !pa || !pb) continue;
        const d = Math.hypot(pb.x - pa.x, pb.y - pa.y) || 1;
        const k = Math.min(0.45, (r + 22) / d);
        const tag = svg('text', { class: 'delay-tag', x: pa.x + (pb.x - pa.x) * k, y: pa.y + (pb.y - pa.y) * k }, g);
        tag.textContent = ms + 'ms';
      }
    }
  }

  function renderMessages(g, flights, pos, r) {
    // A pool of circles, reused frame to frame.
    const pool = g.children;
    let used = 0;
    const size = Math.max(5, Math.min(9, r * 0.28));
    for (const f of flights) {
      const a = pos.get(f.from), b = pos.get(f.to);
      if (!a || !b) continue;
      const p = Math.max(0, Math.min(1, f.p));
      const x = a.x + (b.x - a.x) * p, y = a.y + (b.y - a.y) * p;
      let c = pool[used];
      if (!c) c = svg('circle', {}, g);
      used++;
      const big = f.kind === 'vote' || f.kind === 'prevote' || f.kind === 'granted' || f.kind === 'refused' || f.kind === 'append';
      setAttrs(c, { cx: x.toFixed(1), cy: y.toFixed(1), r: (f.dropped ? size * 1.1 : big ? size : size * 0.7).toFixed(1),
                    class: 'msg ' + f.kind, 'data-type': f.r.type, 'data-from': f.from, 'data-to': f.to });
    }
    while (pool.length > used) g.removeChild(g.lastChild);
  }

  function makeRingNode(layer, id) {
    const g = svg('g', { class: 'node', tabindex: 0, role: 'button', 'data-node': id }, layer);
    const h = {
      g, id, title: svg('title', null, g), track: svg('circle', { class: 'timer-track' }, g),
      arc: svg('circle', { class: 'timer-arc' }, g), leaderRing: svg('circle', { class: 'leader-ring' }, g),
      cutoff: svg('circle', { class: 'cutoff' }, g), body: svg('circle', { class: 'body' }, g),
      cross: svg('path', { class: 'cross' }, g), pause: svg('path', { class: 'pausebar' }, g),
      label: svg('text', { class: 'label' }, g), crown: svg('text', { class: 'crown' }, g),
      cap1: svg('text', { class: 'caption' }, g), cap2: svg('text', { class: 'caption sub' }, g),
      votes: svg('g', { class: 'votes' }, g),
    };
    h.label.textContent = id;
    h.crown.textContent = '♛';
    const open = () => selectNode(id);
    g.addEventListener('click', open);
    g.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } });
    return h;
  }

  /// What a node is, in one word, failures first: they decide what it can do.
  function condition(node) {
    if (!node.known && !node.reachable) return 'offline';
    if (!node.reachable) return 'offline';
    if (node.crashed) return 'crashed';
    if (node.paused) return 'paused';
    if (node.stale) return 'stale';
    return '';
  }

  /// The node's one word: a failure's, else its state.
  function stateWord(node) {
    const cond = condition(node);
    return cond === 'offline' ? 'OFFLINE' : cond === 'crashed' ? 'CRASHED' : cond === 'paused' ? 'PAUSED'
      : cond === 'stale' ? 'STALE LEADER' : node.state;
  }

  /// Two lines under a node; `short` (many nodes, text running sideways)
  /// keeps them to a dozen characters.
  function captions(node, world, short) {
    const cond = condition(node);
    const cut = node.partitioned.length > 0 && !cond;
    // A learner reports FOLLOWER: what it is in the cluster says more.
    const learner = node.role === 'learner' && !cond && !cut && node.state === 'FOLLOWER';
    const first = cut ? 'CUT OFF' : learner ? 'LEARNER' : stateWord(node);
    let second = node.reachable ? 'T' + node.term : '';
    if (node.joining) return [first, second + ' · joining…'];
    if (node.leaving) return [first, second + ' · leaving…'];
    if (learner) return [first, second + (short ? '' : ' · no vote')];
    if (node.votes && node.live) {
      const need = world.config.quorum;
      second += ' · ' + node.votes.got + '/' + need + (node.votes.pre ? ' pre' : ' votes');
    } else if (cut) {
      second += ' · ' + node.state;
    } else if ((cond === 'paused' || cond === 'crashed') && !short) {
      second += ' · was ' + node.state;
    } else if (cond === 'stale') {
      second += ' < T' + world.maxTerm;
    }
    return [first, second];
  }

  function roleWord(node) {
    return node.role === 'voter' ? 'voter' : node.role === 'learner' ? 'learner, no vote' : 'standby, not a member';
  }

  function updateRingNode(h, node, p, world) {
    const r = p.r;
    const cond = condition(node);
    const state = node.reachable ? node.state.toLowerCase() : 'offline';
    const isLeader = world.leader && world.leader.id === node.id;
    setClass(h.g, 'node s-' + state + ' ' + node.role + (cond ? ' ' + cond : '') +
      (node.joining ? ' joining' : '') + (node.leaving ? ' leaving' : '') +
      (node.partitioned.length ? ' cut' : '') + (app.selected === node.id ? ' selected' : ''));
    const ringR = r + 7;
    for (const c of [h.track, h.arc]) setAttrs(c, { cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: ringR });
    setAttrs(h.arc, { transform: 'rotate(-90 ' + p.x.toFixed(1) + ' ' + p.y.toFixed(1) + ')' });
    const timer = timerAt(node, world.T);
    const circ = 2 * Math.PI * ringR;
    setDisplay(h.track, timer);
    setDisplay(h.arc, timer);
    if (timer) setAttrs(h.arc, { 'stroke-dasharray': (timer.frac * circ).toFixed(1) + ' ' + circ.toFixed(1) });
    setAttrs(h.leaderRing, { cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: r + 6 });
    setDisplay(h.leaderRing, isLeader);
    setAttrs(h.cutoff, { cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: r + 13 });
    setDisplay(h.cutoff, node.partitioned.length && node.reachable);
    setAttrs(h.body, { cx: p.x.toFixed(1), cy: p.y.toFixed(1), r,
                       class: 'body ' + (cond || 'fill-' + state) });
    const k = r * 0.55;
    setAttrs(h.cross, { d: cond === 'crashed' ? `M${p.x - k} ${p.y - k}L${p.x + k} ${p.y + k}M${p.x + k} ${p.y - k}L${p.x - k} ${p.y + k}` : 'M0 0' });
    const b = r * 0.16;
    setAttrs(h.pause, { d: cond === 'paused' ? `M${p.x - 3 * b} ${p.y - 2.4 * b}h${2 * b}v${4.8 * b}h${-2 * b}zM${p.x + b} ${p.y - 2.4 * b}h${2 * b}v${4.8 * b}h${-2 * b}z` : 'M0 0' });
    setAttrs(h.label, { x: p.x.toFixed(1), y: p.y.toFixed(1) });
    const font = Math.max(11, Math.round(r * 0.62)) + 'px';
    if (h.label.style.fontSize !== font) h.label.style.fontSize = font;
    setDisplay(h.label, cond !== 'paused' && cond !== 'crashed');
    // Captions outside the ring, away from the centre, so 15 nodes do not collide.
    const cos = Math.cos(p.angle), sin = Math.sin(p.angle);
    const outward = !p.shelf && geometry(world.members.length).outward;
    const anchor = !outward ? 'middle' : cos > 0.35 ? 'start' : cos < -0.35 ? 'end' : 'middle';
    // The crown (and a candidate's votes) sit on the inner side, towards the centre.
    setAttrs(h.crown, { x: (p.x - cos * (r + 18)).toFixed(1), y: (p.y - sin * (r + 18)).toFixed(1) });
    setDisplay(h.crown, isLeader);
    const line = phone.matches ? 22 : 15;
    let cx, cy;
    if (p.shelf) {
      // One line under a standby node; none when the shelf is crowded.
      cx = p.x;
      cy = p.y + r + 10;
    } else if (!outward) {
      // Few nodes: under the node, or above it for the nodes at the top.
      cx = p.x;
      cy = sin < -0.35 ? p.y - r - 12 - line * 1.2 : p.y + r + 12 + line * 0.5;
    } else {
      // Past the timer arc (r + 10), further out on the sides, where text runs outwards.
      const out = anchor === 'middle' ? r + 16 : r + 24;
      cx = p.x + cos * out;
      cy = p.y + sin * out + (sin > 0.35 ? line * 0.7 : sin < -0.35 ? -line * 1.2 : -line * 0.4);
    }
    const [c1, c2] = captions(node, world, outward);
    setAttrs(h.cap1, { x: cx.toFixed(1), y: cy.toFixed(1), 'text-anchor': anchor });
    setAttrs(h.cap2, { x: cx.toFixed(1), y: (cy + line).toFixed(1), 'text-anchor': anchor });
    setText(h.cap1, p.shelf && !p.caption ? '' : p.shelf && node.leaving ? 'leaving…' : c1);
    setText(h.cap2, p.shelf ? '' : c2);
    renderVoteDots(h, node, p, r);
    const [l1, l2] = captions(node, world, false);
    const title = 'node ' + node.id + ' (' + roleWord(node) + '): ' + l1 + ' ' + l2 + (node.commit !== null ? ', commit ' + node.commit : '');
    setText(h.title, title);
    h.g.setAttribute('aria-label', title);
    return !timer || !timer.growing ? 0 : timer.capped ? 1 : 2;
  }

  function renderVoteDots(h, node, p, r) {
    const want = node.votes && node.live ? node.votes.got : 0;
    while (h.votes.children.length > want) h.votes.removeChild(h.votes.lastChild);
    while (h.votes.children.length < want) svg('circle', { class: 'vote-dot' }, h.votes);
    // A row of dots on the inner side, across the line to the centre.
    const cos = Math.cos(p.angle), sin = Math.sin(p.angle);
    const dot = Math.max(3, r * 0.16), gap = dot * 2.6;
    const bx = p.x - cos * (r + 16), by = p.y - sin * (r + 16);
    for (let i = 0; i < want; i++) {
      const o = (i - (want - 1) / 2) * gap;
      setAttrs(h.votes.children[i], { cx: (bx - sin * o).toFixed(1), cy: (by + cos * o).toFixed(1), r: dot.toFixed(1) });
    }
  }

  // ---- the node rows ------------------------------------------------------------------------------------

  function snapshotNode(id) {
    if (!app.cluster) return null;
    return app.cluster.nodes.find((n) => String(n.node_id) === id) || null;
  }

  function makeCard(id) {
    const root = el('div', 'card');
    root.setAttribute('role', 'listitem');
    root.dataset.node = id;
    const nid = el('span', 'nid', 'N' + id);
    const state = el('span', 'state');
    const info = el('div', 'info');
    const facts = el('span', 'facts');
    const badges = el('span', 'badges');
    const bar = el('div', 'timer-bar');
    const fill = el('div', 'timer-fill');
    bar.append(fill);
    info.append(facts, badges, bar);
    const actions = el('span', 'row-actions');
    const more = el('button', null, '⋯');
    more.type = 'button';
    more.title = 'Actions for node ' + id;
    const page = el('a', null, '↗');
    page.target = '_blank';
    page.rel = 'noopener noreferrer';
    page.title = 'The page of node ' + id;
    actions.append(more, page);
    root.append(nid, state, info, actions);
    root.addEventListener('click', (e) => {
      if (e.target === page) return;
      selectNode(id);
    });
    return { root, state, facts, badges, fill, page, key: '' };
  }

  function badge(cls, text, title) {
    const b = el('span', 'badge ' + cls, text);
    if (title) b.title = title;
    return b;
  }

  function renderCards(world) {
    const container = $('cards');
    const seen = new Set();
    world.nodes.forEach((node, i) => {
      seen.add(node.id);
      let card = app.cards.get(node.id);
      if (!card) { card = makeCard(node.id); app.cards.set(node.id, card); }
      if (container.children[i] !== card.root) container.insertBefore(card.root, container.children[i] || null);
      updateCard(card, node, world);
    });
    for (const [id, card] of app.cards) if (!seen.has(id)) { card.root.remove(); app.cards.delete(id); }
  }

  function updateCard(card, node, world) {
    const cond = condition(node);
    const state = node.reachable ? node.state.toLowerCase() : 'offline';
    setClass(card.root, 'card s-' + state + ' ' + node.role + (cond ? ' ' + cond : '') + (app.selected === node.id ? ' selected' : ''));
    setClass(card.state, 'state s-' + state + (cond ? ' ' + cond : ''));
    setText(card.state, stateWord(node));
    const snap = snapshotNode(node.id);
    const parts = [];
    if (node.reachable) {
      parts.push('T' + node.term);
      parts.push('leader ' + show(node.leader));
      if (node.commit !== null) parts.push('commit ' + node.commit + '/' + show(node.last));
    } else if (snap && snap.error) {
      parts.push(preview(snap.error, 60));
    }
    setText(card.facts, parts.join(' · '));
    const key = JSON.stringify([node.partitioned, node.dropFrom, node.dropTo, node.delaying, cond, node.preVote,
                                snap && snap.alive, snap && snap.storage_error, world.leader && world.leader.id,
                                node.role, node.joining, node.leaving]);
    if (key !== card.key) {
      card.key = key;
      clear(card.badges);
      card.badges.append(badge('role ' + node.role, node.role === 'spare' ? 'standby' : node.role, roleWord(node)));
      if (node.joining) card.badges.append(badge('warn', 'joining', 'the leader has added it; it has not heard yet'));
      if (node.leaving) card.badges.append(badge('warn', 'leaving', 'removed from the configuration; STANDBY once the removal commits'));
      if (node.partitioned.length) card.badges.append(badge('bad', 'cut off from ' + node.partitioned.join(', ')));
      if (node.dropFrom.length) card.badges.append(badge('bad', 'deaf to ' + node.dropFrom.join(', '), 'drop_from: drops what these nodes send it'));
      if (node.dropTo.length) card.badges.append(badge('bad', 'silent to ' + node.dropTo.join(', '), 'drop_to: drops what it sends these nodes'));
      const delays = Object.entries(node.delaying);
      if (delays.length) card.badges.append(badge('warn', 'delay ' + delays.map(([k, v]) => 'to ' + k + ' ' + v + 'ms').join(', '), 'delay: messages to these nodes are held'));
      if (node.preVote && node.live) card.badges.append(badge('warn', 'pre-voting'));
      if (snap && snap.alive === false) card.badges.append(badge('warn', 'silent in discovery'));
      if (snap && snap.storage_error) card.badges.append(badge('bad', 'storage failed', String(snap.storage_error)));
    }
    const timer = timerAt(node, world.T);
    const width = (timer ? timer.frac * 100 : 0).toFixed(1) + '%';
    if (card.fill.style.width !== width) card.fill.style.width = width;
    setClass(card.fill, 'timer-fill' + (node.state === 'CANDIDATE' ? ' candidate' : '') + (node.paused ? ' stopped' : ''));
    const url = snap && typeof snap.api_url === 'string' && /^https?:\/\//.test(snap.api_url) ? snap.api_url : null;
    if (card.page.hidden !== !url) card.page.hidden = !url;
    if (url && card.url !== url) { card.url = url; card.page.href = nodePageUrl(url); }
  }

  /// The node's page, told (in its URL fragment, which is never sent) where
  /// this monitor is, so it can link back, and the token, if the tab has one.
  function nodePageUrl(apiUrl) {
    let fragment = 'monitor=' + encodeURIComponent(window.location.origin + '/');
    const token = authToken();
    if (token) fragment += '&token=' + encodeURIComponent(token);
    return apiUrl.replace(/\/+$/, '') + '/#' + fragment;
  }

  // ---- summary, view time, slider --------------------------------------------------------------------

  function renderSummary(world) {
    renderConfigPill(world);
    const leaderPill = $('leader-pill');
    const key = JSON.stringify([world.leader && world.leader.id, world.maxTerm, app.cluster && app.cluster.seq,
                                world.members.map((n) => n.id + (n.live ? '+' : '-'))]);
    if (leaderPill.dataset.key === key) return;
    leaderPill.dataset.key = key;
    clear(leaderPill);
    leaderPill.append('leader: ', el('strong', null, world.leader ? 'node ' + world.leader.id : 'none'));
    const electing = !world.leader && world.nodes.some((n) => n.live && (n.state === 'CANDIDATE' || n.preVote));
    if (electing) leaderPill.append(' (election running)');
    leaderPill.className = 'pill' + (world.leader ? '' : ' warn');
    const termPill = $('term-pill');
    clear(termPill);
    termPill.append('term: ', el('strong', null, show(world.maxTerm)));
    const data = app.cluster;
    const nodesPill = $('nodes-pill');
    clear(nodesPill);
    const up = world.members.filter((n) => n.live).length;
    nodesPill.append('members: ', el('strong', null, up + ' / ' + world.members.length), ' taking part');
    nodesPill.className = 'pill' + (up < world.members.length ? ' warn' : '');
    const d = data ? data.discovery || {} : {};
    const discoveryPill = $('discovery-pill');
    clear(discoveryPill);
    discoveryPill.append('discovery: ', el('strong', null, !data ? '–' : d.ok ? 'ok' : d.url ? 'unreachable' : 'off'));
    discoveryPill.className = 'pill' + (!data || d.ok || !d.url ? '' : ' bad');
    discoveryPill.title = d.ok ? show(d.url) + (data.discovery_leader !== null && data.discovery_leader !== undefined
      ? ' · last leader reported: node ' + data.discovery_leader : '') : show(d.error);
  }

  /// Voters and the quorum they make, learners, spares, and whether the
  /// configuration drawn is committed yet.
  function renderConfigPill(world) {
    const c = world.config;
    const pill = $('config-pill');
    const key = JSON.stringify([[...c.voters], [...c.learners], world.spares.map((n) => n.id), c.index, c.committed, c.from]);
    if (pill.dataset.key === key) return;
    pill.dataset.key = key;
    clear(pill);
    pill.append('voters: ', el('strong', null, c.voters.size), ' · quorum ', el('strong', null, c.quorum));
    if (c.learners.size) pill.append(' · learners ', el('strong', null, [...c.learners].join(', ')));
    if (world.spares.length) pill.append(' · spares ', el('strong', null, world.spares.map((n) => n.id).join(', ')));
    if (!c.committed) pill.append(' · ', el('strong', null, 'change committing…'));
    pill.className = 'pill' + (c.committed ? '' : ' warn');
    pill.title = c.index === null ? 'the nodes report no membership: every node votes'
      : 'configuration at log index ' + c.index + ' as node ' + c.from + ' sees it' +
        (c.committed ? ' (committed)' : ' (not committed yet)') + ': voters ' + [...c.voters].join(', ');
  }

  function renderViewTime(T) {
    const e = $('view-time');
    const behind = serverNow() - T;
    const text = app.view.mode === 'live' ? 'live · ' + clock(T) : clock(T, true) + ' · ' + (behind / 1000).toFixed(1) + ' s ago';
    setText(e, text);
    e.classList.toggle('past', app.view.mode !== 'live');
  }

  function sliderRange() {
    const v = app.view;
    if (v.mode !== 'live' && v.rangeEnd !== undefined) v.rangeEnd = Math.max(v.rangeEnd, viewTNoSwitch());
    const end = v.mode === 'live' || v.rangeEnd === undefined ? liveT() : v.rangeEnd;
    const start = Math.min(hist.oldestMs || end - 60000, end - 10000);
    return { start, end };
  }

  function updateSlider(T) {
    const s = $('slider');
    if (app.sliderDragging) return;
    const { start, end } = sliderRange();
    const v = Math.round(((T - start) / Math.max(1, end - start)) * 1000);
    if (String(v) !== s.value) s.value = String(Math.max(0, Math.min(1000, v)));
    setText($('slider-start'), clock(start));
  }

  async function onSlider() {
    const { start, end } = sliderRange();
    const T = start + (Number($('slider').value) / 1000) * (end - start);
    if (Number($('slider').value) >= 1000) { setMode('live'); return; }
    setMode('paused', T);
    if (hist.loadedFromMs !== null && T < hist.loadedFromMs) {
      await loadHistory(T - 60000, hist.loadedFromMs);
      scheduleFrame();
    }
  }

  function step(direction) {
    const T = viewT();
    const steps = hist.steps;
    let target = null;
    if (direction < 0) {
      const i = firstAfter(steps, T - 0.5, (e) => e.t) - 1;
      if (i >= 0) target = steps[i].t;
    } else {
      const i = firstAfter(steps, T + 0.5, (e) => e.t);
      if (i < steps.length && steps[i].t < liveT()) target = steps[i].t;
    }
    if (target === null) return;
    setMode('paused', target + 0.01);
  }

  // ---- the strip of terms and leaders ---------------------------------------------------------------

  let stripTimer = null;
  function scheduleStrip() {
    if (stripTimer) return;
    stripTimer = setTimeout(() => { stripTimer = null; drawStrip(); }, 1000);
  }

  function leaderSegments() {
    const events = [];
    for (const arr of hist.states.values()) events.push(...arr);
    events.sort((a, b) => a.t - b.t);
    const nodes = new Map();
    const segs = [];
    let cur = null;
    for (const e of events) {
      nodes.set(e.node, e);
      let leader = null, term = 0;
      for (const s of nodes.values()) {
        term = Math.max(term, num(s.term));
        if (s.state === 'LEADER' && !s.paused && !s.crashed && (!leader || num(s.term) > num(leader.term))) leader = s;
      }
      const id = leader && num(leader.term) === term ? leader.node : null;
      if (!cur || cur.leader !== id || cur.term !== term) {
        if (cur) cur.end = e.t;
        cur = { start: e.t, end: null, leader: id, term };
        segs.push(cur);
      }
    }
    return segs;
  }

  function drawStrip() {
    const root = $('strip');
    clear(root);
    const { start, end } = sliderRange();
    const W = 1000;
    const x = (t) => Math.max(0, Math.min(W, ((t - start) / Math.max(1, end - start)) * W));
    for (const s of leaderSegments()) {
      const x1 = x(s.start), x2 = x(s.end === null ? end : s.end);
      if (x2 <= 0 || x2 - x1 < 0.2) continue;
      const rect = svg('rect', { class: 'seg' + (s.leader !== null ? '' : ' seg-none'), x: x1, y: 0, width: x2 - x1, height: 22 }, root);
      if (s.leader !== null) rect.style.fill = 'var(--' + termClass(s.term) + ')';
      svg('title', null, rect).textContent = 'term ' + s.term + (s.leader !== null ? ': node ' + s.leader + ' leads' : ': no leader') +
        ' (from ' + clock(s.start) + ')';
      if (x2 - x1 > 34 && s.leader !== null) {
        const label = svg('text', { class: 'seg-label', x: x1 + 3, y: 11 }, root);
        label.textContent = 'N' + s.leader + ' T' + s.term;
      }
    }
  }

  // ---- the events list --------------------------------------------------------------------------------

  let eventsTimer = null;
  function scheduleEvents() {
    if (eventsTimer) return;
    eventsTimer = setTimeout(() => { eventsTimer = null; renderEvents(); }, 300);
  }

  function eventText(r, prev) {
    switch (r.k) {
      case 'state': {
        if (r.crashed && !(prev && prev.crashed)) return 'crashed';
        if (r.paused && !(prev && prev.paused)) return 'paused';
        if (prev && prev.paused && !r.paused) return 'resumed';
        if (r.pre_vote && !(prev && prev.pre_vote)) return 'PreVote for T' + (num(r.term) + 1);
        if (!prev || prev.state !== r.state || prev.term !== r.term) return r.state + ' in T' + r.term;
        if (prev.leader !== r.leader && r.leader !== null && r.leader !== undefined) return 'follows node ' + r.leader;
        return null;
      }
      case 'command': return 'command: ' + preview(show(r.text), 60) + (r.ok === false ? ' (refused)' : '');
      case 'gap': return show(r.lost) + ' events lost (the node overwrote them before the monitor read them)';
      case 'boot': return 'process started';
      default: return null;
    }
  }

  function renderEvents() {
    const list = $('events');
    clear(list);
    const prevOf = new Map();
    const lines = [];
    for (const r of hist.notable) {
      const prev = r.k === 'state' ? prevOf.get(r.node) : undefined;
      if (r.k === 'state') prevOf.set(r.node, r);
      const text = eventText(r, prev);
      if (text) lines.push({ r, text });
    }
    for (const { r, text } of lines.slice(-80).reverse()) {
      const li = el('li');
      li.dataset.t = String(r.t);
      li.dataset.kind = r.k === 'state' ? String(r.state) : r.k;
      li.append(el('time', null, clock(r.t, true)), el('span', r.k === 'state' ? 'ev-state' : null, 'N' + r.node + ' ' + text));
      li.addEventListener('click', () => setMode('paused', r.t + 1));
      list.append(li);
    }
  }

  // ---- acting in place: the popover beside a node ---------------------------------------------------

  function selectNode(id) {
    if (app.selected === id) { closePopover(); return; }
    app.selected = id;
    buildPopover(id);
    scheduleFrame();
  }

  function closePopover() {
    app.selected = null;
    $('popover').hidden = true;
    scheduleFrame();
  }

  function popButton(label, title, onClick, cls) {
    const b = el('button', cls || null, label);
    b.type = 'button';
    if (title) b.title = title;
    b.addEventListener('click', () => onClick(b));
    return b;
  }

  function group(name, ...children) {
    const g = el('div', 'group');
    g.append(el('span', 'group-name', name), ...children);
    return g;
  }

  function buildPopover(id) {
    const pop = $('popover');
    clear(pop);
    const title = el('h3', null, 'Node ' + id);
    title.id = 'pop-title';
    const close = popButton('✕', 'Close', closePopover, 'close');
    title.append(close);
    const meta = el('div', 'pop-meta');
    const run = (cmd) => (b) => sendCommand(id, cmd, b);
    const pause = popButton('Pause', '', (b) => sendCommand(id, b.dataset.cmd, b));
    const crash = popButton('Crash', '', (b) => sendCommand(id, b.dataset.cmd, b), 'danger');
    const makeLeader = popButton('Make leader', 'Ask the current leader to hand leadership to this node', (b) => {
      const leader = app.world && app.world.leader;
      if (!leader) { toast('err', 'node ' + id, 'no leader to transfer from'); return; }
      sendCommand(leader.id, 'transfer_leadership ' + id, b);
    });
    const peers = el('div', 'peers');
    for (const other of (app.world ? app.world.nodes : []).map((n) => n.id).filter((x) => x !== id)) {
      const label = el('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.value = other;
      label.append(box, document.createTextNode(other));
      peers.append(label);
    }
    const chosen = () => [...peers.querySelectorAll('input:checked')].map((b) => b.value);
    const withPeers = (cmd) => (b) => {
      const ranks = chosen();
      if (ranks.length === 0) { toast('err', 'node ' + id, 'tick the nodes to ' + cmd.replace('_', ' ') + ' first'); return; }
      sendCommand(id, cmd + ' ' + ranks.join(' '), b);
    };
    const delayMs = document.createElement('input');
    delayMs.type = 'number'; delayMs.min = '0'; delayMs.max = '60000'; delayMs.step = '50'; delayMs.value = '400';
    delayMs.setAttribute('aria-label', 'delay in milliseconds');
    const delay = popButton('Delay', 'Hold each message to the ticked nodes (all, if none is ticked) for this long; 0 clears',
      (b) => {
        const ranks = chosen();
        const ms = String(Math.max(0, Math.min(60000, Math.round(Number(delayMs.value) || 0))));
        sendCommand(id, 'delay ' + (ranks.length ? ranks.join(' ') : 'all') + ' ' + ms, b);
      });
    const free = el('form', 'freetext');
    const freeIn = document.createElement('input');
    freeIn.type = 'text';
    freeIn.placeholder = 'any command, e.g. delay all 300';
    freeIn.setAttribute('aria-label', 'command for node ' + id);
    free.append(freeIn, popButton('Send', 'Send this command to the node', () => free.requestSubmit()));
    free.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = freeIn.value.trim();
      if (text) sendCommand(id, text, free.querySelector('button')).then((a) => { if (a.status === 200) freeIn.value = ''; });
    });
    const links = el('div', 'links-row');
    const page = el('a', null, 'node page ↗');
    page.target = '_blank';
    page.rel = 'noopener noreferrer';
    const logLink = popButton('log', 'The node\'s log lines', () => openDrawer('log', id));
    const details = popButton('details', 'Everything about its Raft state', (b) =>
      sendCommand(id, 'state_details', b).then((a) => showAnswer(id, 'state_details', a)));
    const historyLink = popButton('commands', 'The commands this node received', () => openDrawer('history', id));
    const member = membershipGroup(id);
    links.append(page, logLink, details, historyLink);
    pop.append(title, meta,
      group('Election', popButton('Trigger election', 'Start an election now (skips PreVote)', run('trigger_election')),
            popButton('Force timeout', 'The timer runs out now: PreVote first', run('force_timeout')),
            popButton('Become follower', 'INITIAL → FOLLOWER', run('become_follower')), makeLeader),
      group('Process', pause, crash, popButton('Snapshot', 'Compact the log now', run('snapshot'))),
      group('Network (tick nodes)', peers, popButton('Partition', 'Drop all traffic with the ticked nodes', withPeers('partition')),
            popButton('Drop from', 'Drop what the ticked nodes send it', withPeers('drop_from')),
            popButton('Drop to', 'Drop what it sends the ticked nodes', withPeers('drop_to')),
            popButton('Heal', 'Clear partitions, cuts and delays', run('heal'))),
      group('Slow network', delayMs, el('span', 'hint', 'ms'), delay),
      member.group, group('Command', free), links);
    pop.dataset.node = id;
    app.pop = { id, meta, pause, crash, makeLeader, page, member };
    pop.hidden = false;
    updatePopover();
  }

  /// Add, promote and remove this node: sent to the leader, whose answer
  /// (or one-line refusal) is shown under the buttons.
  function membershipGroup(id) {
    const result = el('div', 'member-result');
    result.setAttribute('aria-live', 'polite');
    const change = (cmd) => async (b) => {
      setClass(result, 'member-result busy');
      setText(result, cmd + ' ' + id + ' → leader…');
      const sent = await leaderCommand(cmd + ' ' + id, b);
      if (!sent) {
        setClass(result, 'member-result err');
        setText(result, 'no leader is known right now: wait for an election, then try again');
        toast('err', cmd + ' ' + id, 'no leader is known right now');
        return;
      }
      const ok = succeeded(sent.answer);
      setClass(result, 'member-result ' + (ok ? 'ok' : 'err'));
      setText(result, 'node ' + sent.by + ': ' + (ok ? show(sent.answer.json.result) : errorText(sent.answer)));
    };
    const buttons = {
      addVoter: popButton('Add as voter', 'add_node: joins as a learner, catches up, then the leader makes it a voter', change('add_node')),
      addLearner: popButton('Add as learner', 'add_learner: receives the log, never votes', change('add_learner')),
      promote: popButton('Promote to voter', 'promote: this learner becomes a voter (once caught up)', change('promote')),
      remove: popButton('Remove', 'remove_node: back to STANDBY once the change commits', change('remove_node'), 'danger'),
      config: popButton('show config', 'The leader\'s configuration (show_config)', async (b) => {
        const leader = leaderNow();
        if (leader === null) { toast('err', 'show_config', 'no leader is known right now'); return; }
        showAnswer(leader, 'show_config', await sendCommand(leader, 'show_config', b, true));
      }),
    };
    const role = el('span', 'member-role');
    const g = group('Membership', role, buttons.addVoter, buttons.addLearner, buttons.promote, buttons.remove,
                    buttons.config, result);
    g.classList.add('membership');
    return { group: g, role, buttons, result };
  }

  function updateMembershipGroup(m, node) {
    // For a standby node, joining is the thing to do: its buttons come first.
    const pop = $('popover');
    const first = pop.querySelector('.pop-meta').nextSibling;
    const commandGroup = pop.querySelector('.freetext') && pop.querySelector('.freetext').parentElement;
    const want = node.role === 'spare' ? first : commandGroup;
    if (want && want !== m.group && m.group.nextSibling !== want) pop.insertBefore(m.group, want);
    setText(m.role, roleWord(node) + (node.joining ? ', joining' : node.leaving ? ', leaving' : '') + ':');
    m.buttons.addVoter.hidden = node.role !== 'spare';
    m.buttons.addLearner.hidden = node.role !== 'spare';
    m.buttons.promote.hidden = node.role !== 'learner';
    m.buttons.remove.hidden = node.role === 'spare';
  }

  function updatePopover() {
    const p = app.pop;
    if (!p || !app.world || app.selected !== p.id) return;
    const node = app.world.nodes.find((n) => n.id === p.id);
    if (!node) { closePopover(); return; }
    const [c1, c2] = captions(node, app.world);
    setText(p.meta, c1 + ' · ' + c2 + (node.commit !== null ? ' · commit ' + node.commit : '') +
      (app.view.mode !== 'live' ? ' (at the time shown; actions act now)' : ''));
    p.pause.dataset.cmd = node.paused ? 'resume' : 'pause';
    setText(p.pause, node.paused ? 'Resume' : 'Pause');
    p.crash.dataset.cmd = node.crashed ? 'restart' : 'crash';
    setText(p.crash, node.crashed ? 'Restart' : 'Crash');
    // Only a voter can be handed leadership.
    p.makeLeader.hidden = !app.world.leader || app.world.leader.id === p.id || node.role !== 'voter';
    updateMembershipGroup(p.member, node);
    const snap = snapshotNode(p.id);
    const url = snap && typeof snap.api_url === 'string' && /^https?:\/\//.test(snap.api_url) ? snap.api_url : null;
    p.page.hidden = !url;
    if (url) p.page.href = nodePageUrl(url);
  }

  /// Lines the actions up with their node, beside the ring (under it on
  /// narrow screens, by CSS).
  function placePopover() {
    updatePopover();
    const pop = $('popover');
    if (pop.hidden || !app.ringPos) return;
    if (window.matchMedia('(max-width: 1000px)').matches) { if (pop.style.marginTop) pop.style.marginTop = ''; return; }
    const p = app.ringPos.get(app.selected);
    if (!p) return;
    const ring = $('ring').getBoundingClientRect();
    const scale = ring.width / 600;  // the drawing is 600 units wide (taller with the shelf)
    const top = Math.max(0, Math.min(ring.height - pop.offsetHeight, p.y * scale - pop.offsetHeight / 2));
    const margin = Math.round(top) + 'px';
    if (pop.style.marginTop !== margin) pop.style.marginTop = margin;
  }

  // ---- the feed: SSE with polling fallback ------------------------------------------------------

  function setFeed(mode) {
    app.feed.mode = mode;
    const dot = $('feed-dot');
    dot.className = 'dot ' + (mode === 'live' ? 'live' : mode === 'polling' ? 'polling' : mode === 'down' ? 'down' : '');
    setText($('feed-text'), mode === 'live' ? 'live' : mode === 'polling' ? 'polling every second'
      : mode === 'down' ? 'monitor unreachable: retrying' : 'connecting…');
  }

  function startStream() {
    if (!('EventSource' in window)) { startPolling(); return; }
    if (app.feed.es) return;
    let es;
    const query = hist.available ? '?history=1&after=' + hist.lastId : '';
    try { es = new EventSource('/api/events' + query); } catch (_) { startPolling(); return; }
    app.feed.es = es;
    es.onmessage = (ev) => {
      let data = null;
      try { data = JSON.parse(ev.data); } catch (_) { return; }
      app.feed.lastMessage = performance.now();
      stopPolling();
      setFeed('live');
      onCluster(data);
    };
    es.addEventListener('history', (ev) => {
      let records = null;
      try { records = JSON.parse(ev.data); } catch (_) { return; }
      app.feed.lastMessage = performance.now();
      ingest(records);
    });
    es.onerror = () => {
      // Reopen with the newest id, so nothing is sent twice or missed;
      // poll meanwhile so the page stays current.
      es.close();
      if (app.feed.es === es) app.feed.es = null;
      startPolling();
      clearTimeout(app.feed.retryTimer);
      app.feed.retryTimer = setTimeout(startStream, SSE_RETRY_MS);
    };
  }

  function startPolling() {
    if (app.feed.pollTimer) return;
    if (app.feed.mode !== 'down') setFeed('polling');
    const generation = ++app.feed.pollGeneration;
    const tick = async () => {
      const answer = await call('GET', '/api/cluster');
      if (generation !== app.feed.pollGeneration) return;
      if (answer.status === 200 && answer.json) {
        if (app.feed.mode !== 'live') setFeed('polling');
        onCluster(answer.json);
        if (hist.available) {
          const more = await call('GET', '/api/history?after=' + hist.lastId + '&limit=' + HISTORY_PAGE);
          if (more.status === 200 && more.json) ingest(more.json.records);
        }
      } else {
        setFeed('down');
      }
      if (generation === app.feed.pollGeneration) app.feed.pollTimer = setTimeout(tick, POLL_MS);
    };
    app.feed.pollTimer = setTimeout(tick, 0);
  }

  function stopPolling() {
    clearTimeout(app.feed.pollTimer);
    app.feed.pollTimer = null;
    app.feed.pollGeneration++;
  }

  function refreshSoon() {
    if (app.feed.pollTimer) { stopPolling(); startPolling(); }
  }

  function onCluster(data) {
    if (!data || !Array.isArray(data.nodes)) return;
    app.cluster = data;
    noteServerTime(data.updated_at_ms);
    framesFromSnapshot(data);
    scheduleLogFetches(data);
    renderLogs();
    updateDrawerMeta();
    scheduleFrame();
  }

  // ---- logs -------------------------------------------------------------------------------------------

  function logWidth() {
    const w = $('logs').clientWidth || 600;
    return Math.max(8, Math.min(60, Math.floor((w - 60) / 24)));
  }

  function logWindow(data) {
    let last = 0;
    for (const node of data.nodes) if (node.reachable !== false) last = Math.max(last, num(node.log_length));
    for (const log of app.logs.values()) last = Math.max(last, log.last || 0);
    const width = logWidth();
    const end = app.logEnd === null ? last : Math.min(app.logEnd, last);
    const start = Math.max(1, end - width + 1);
    return { start, end: Math.max(end, start + Math.min(width, last) - 1), last, width };
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
      if (node.reachable === false || node.crashed) { log.stale = true; continue; }
      log.stale = false;
      const key = [win.start, win.width, node.log_length, node.commit_index, node.term, node.first_index].join(':');
      if (key === log.key || log.inFlight || log.timer) continue;
      const wait = LOG_REFETCH_MS - (performance.now() - log.fetchedAt);
      if (wait <= 0) fetchLog(id, key, win);
      else log.timer = setTimeout(() => { log.timer = null; scheduleLogFetches(app.cluster); }, wait);
    }
    for (const id of [...app.logs.keys()]) if (!ids.has(id)) app.logs.delete(id);
  }

  async function fetchLog(id, key, win) {
    const log = app.logs.get(id);
    if (!log) return;
    log.inFlight = true;
    log.fetchedAt = performance.now();
    const answer = await call('GET', '/api/nodes/' + encodeURIComponent(id) + '/entries?from=' + win.start + '&limit=' + win.width);
    log.inFlight = false;
    if (answer.status !== 200 || !answer.json || !Array.isArray(answer.json.entries)) return;
    const entries = new Map();
    for (const e of answer.json.entries) if (e && typeof e.index === 'number') entries.set(e.index, e);
    log.entries = entries;
    log.first = num(answer.json.first_index, 1);
    log.commit = num(answer.json.commit_index, 0);
    log.last = num(answer.json.last_index, 0);
    log.key = key;
    log.start = win.start;
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
    setText($('log-range'), win.last === 0 ? '' : win.start + '–' + Math.min(win.end, win.last) + ' of ' + win.last);
    $('log-older').disabled = win.start <= 1;
    $('log-newer').disabled = app.logEnd === null;
    $('log-newest').disabled = app.logEnd === null;
    const parts = [win.start, win.end, win.last];
    for (const node of data.nodes) {
      const log = app.logs.get(String(node.node_id));
      parts.push(String(node.node_id), log ? log.key : '', log && log.stale ? 's' : '');
    }
    const renderKey = parts.join('|');
    if (renderKey === app.logRenderKey) return;
    app.logRenderKey = renderKey;
    clear(root);
    if (win.last === 0) {
      root.append(el('p', 'log-empty', 'All logs are empty. Write a key or submit an entry: it appears here in every node\'s log.'));
      return;
    }
    const head = el('div', 'log-head');
    head.append(el('span', 'log-name', 'index'));
    const idx = el('div', 'log-cells');
    for (let i = win.start; i <= win.end; i++) idx.append(el('span', 'log-index', i % 5 === 0 || i === win.start ? i : ''));
    head.append(idx);
    root.append(head);
    for (const node of data.nodes) root.append(logRow(node, win));
  }

  function logRow(node, win) {
    const id = String(node.node_id);
    const log = app.logs.get(id);
    const row = el('div', 'log-row');
    row.append(el('span', 'log-name', 'N' + id));
    const cells = el('div', 'log-cells');
    if (log && (log.key || log.entries.size > 0)) {
      for (let i = win.start; i <= win.end; i++) {
        const cell = el('span', 'log-cell');
        const e = log.entries.get(i);
        if (i < log.first) {
          cell.classList.add('compacted');
          cell.title = '#' + i + ': compacted into the snapshot';
        } else if (!e) {
          cell.classList.add('missing');
          cell.title = '#' + i + ': not in this node\'s log';
        } else {
          cell.classList.add(termClass(e.term));
          cell.textContent = String(e.term);
          cell.title = entryTitle(e) + (i <= log.commit ? ' · committed' : ' · not committed yet');
          if (e.type === 'noop') cell.classList.add('noop');
          if (i > log.commit) cell.classList.add('uncommitted');
          if (i === log.commit) cell.classList.add('commit-edge');
        }
        cells.append(cell);
      }
    } else {
      cells.append(el('span', 'log-empty', node.reachable === false ? 'offline' : 'loading…'));
    }
    row.append(cells);
    const status = [];
    if (log && log.stale) status.push(node.reachable === false ? 'offline: last known' : 'crashed: last known');
    if (log && log.key) status.push('commit ' + log.commit);
    row.append(el('span', 'log-more', status.join(' · ')));
    if (log && log.stale) row.style.opacity = '0.55';
    return row;
  }

  function pageLog(direction) {
    if (!app.cluster) return;
    const win = logWindow(app.cluster);
    if (direction === 0) app.logEnd = null;
    else {
      const end = (app.logEnd === null ? win.last : app.logEnd) + direction * win.width;
      app.logEnd = end >= win.last ? null : Math.max(win.width, end);
    }
    scheduleLogFetches(app.cluster);
    renderLogs();
  }

  // ---- the drawer: log lines, history, command answers ------------------------------------------------

  function openDrawer(kind, id) {
    const d = app.drawer;
    clearTimeout(d.timer);
    d.kind = kind;
    d.id = String(id);
    $('drawer').hidden = false;
    setText($('drawer-title'), (kind === 'log' ? 'Log of node ' : kind === 'history' ? 'Command history of node ' : 'Node ') + id);
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
    const node = snapshotNode(d.id);
    setText($('drawer-meta'), node
      ? (node.reachable === false ? 'offline' : show(node.state) + ' · term ' + show(node.term) + ' · log ' + show(node.log_length) +
         ' · commit ' + show(node.commit_index)) + ' · ' + show(node.address)
      : 'this node is no longer listed');
  }

  async function refreshDrawer(scrollToEnd) {
    const d = app.drawer;
    const kind = d.kind, id = d.id;
    if (kind !== 'log' && kind !== 'history') return;
    const path = '/api/nodes/' + encodeURIComponent(id) + (kind === 'log' ? '/log?limit=400' : '/cmd_history');
    const answer = await call('GET', path);
    if (d.kind !== kind || d.id !== id) return;
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
    setText($('drawer-title'), 'Node ' + id + ': ' + cmd);
    $('drawer-body').textContent = answer.json ? JSON.stringify(answer.json, null, 2) : errorText(answer);
  }

  // ---- the client box -------------------------------------------------------------------------------

  function showResult(kind, text) {
    const box = $('client-result');
    box.className = 'result ' + kind;
    box.textContent = text;
  }

  async function kvCall(method, stale, button) {
    const key = $('kv-key').value;
    if (key === '') { showResult('err', 'Enter a key first.'); $('kv-key').focus(); return; }
    const value = $('kv-value').value;
    button.disabled = true; button.classList.add('busy');
    const path = '/api/kv/' + encodeURIComponent(key) + (stale ? '?stale=true' : '');
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
      return;
    }
    const answer = await sendCommand(String(leader), 'submit ' + text, button);
    if (answer.status === 200 && answer.json && answer.json.ok !== false) {
      showResult('ok', show(answer.json.result));
      $('submit-text').value = '';
    } else {
      showResult('err', errorText(answer));
    }
  }

  // ---- start --------------------------------------------------------------------------------------------

  function bindControls() {
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
    $('play-pause').addEventListener('click', () => setMode(app.view.mode === 'paused' ? 'live' : 'paused'));
    $('play-live').addEventListener('click', () => setMode('live'));
    $('play-replay').addEventListener('click', () => {
      const T = viewT();
      // From live, replay the last ten seconds.
      setMode('replay', app.view.mode === 'live' ? T - 10000 : T);
    });
    $('play-back').addEventListener('click', () => step(-1));
    $('play-fwd').addEventListener('click', () => step(1));
    $('play-speed').addEventListener('change', (e) => {
      const T = viewT();
      app.view.speed = Number(e.currentTarget.value) || 0.25;
      if (app.view.mode === 'replay') setMode('replay', T);
    });
    const slider = $('slider');
    slider.addEventListener('input', () => { app.sliderDragging = true; onSlider(); });
    slider.addEventListener('change', () => { app.sliderDragging = false; onSlider(); });
    $('log-older').addEventListener('click', () => pageLog(-1));
    $('log-newer').addEventListener('click', () => pageLog(1));
    $('log-newest').addEventListener('click', () => pageLog(0));
    document.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      if (app.drawer.kind) closeDrawer();
      else if (app.selected) closePopover();
    });
    document.addEventListener('visibilitychange', () => { if (!document.hidden) scheduleFrame(); });
    window.addEventListener('resize', () => { app.logRenderKey = ''; if (app.cluster) { scheduleLogFetches(app.cluster); renderLogs(); } scheduleFrame(); });
    document.addEventListener('raft-theme', () => scheduleFrame());
    setInterval(() => { if (!document.hidden) drawStrip(); }, 5000);
  }

  async function start() {
    bindControls();
    app.view.speed = Number($('play-speed').value) || 0.25;
    setMode('live');
    const first = await call('GET', '/api/cluster');
    if (first.status === 200 && first.json) onCluster(first.json);
    await loadHistory(serverNow() - HISTORY_LOAD_MS);
    drawStrip();
    renderEvents();
    startStream();
    // If the stream has delivered nothing after a moment, poll meanwhile.
    setTimeout(() => { if (app.feed.lastMessage === 0) startPolling(); }, 3000);
  }

  start();
})();
