// The node page: polls this node's API and shows it. Every value from the
// API goes into the page as text (textContent / createElement / append of
// strings), never as markup. One request per kind at a time: a poller does
// not start a new request while its last one is in flight.
"use strict";

(() => {
  const STATUS_EVERY_MS = 300;
  const SLOW_EVERY_MS = 1000;  // entries, log, history
  const ENTRIES_SHOWN = 50;
  const LOG_LINES = 200;
  const FEEDBACK_KEPT = 6;

  const $ = (id) => document.getElementById(id);
  // Read before anything strips the fragment (#token=..., #monitor=...).
  const INITIAL_HASH = window.location.hash;

  /// el("td", {class: "num"}, "text", childNode, ...): children are text or nodes.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "class") node.className = value;
        else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children) {
      if (child === undefined || child === null) continue;
      node.append(typeof child === "string" ? child : child instanceof Node ? child : String(child));
    }
    return node;
  }

  function setText(id, text) {
    const node = $(id);
    const value = text === undefined || text === null ? "–" : String(text);
    if (node.textContent !== value) node.textContent = value;
  }

  function fmtMs(ms) {
    if (ms === undefined || ms === null || !Number.isFinite(ms)) return "–";
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
    const s = Math.floor(ms / 1000);
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }

  function clock() {
    return new Date().toLocaleTimeString([], {hour12: false});
  }

  /// A base URL from the API, used as a link only if it really is http(s).
  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\/[^\s"'<>]+$/.test(url) ? url : null;
  }

  // The cluster's auth token, needed for commands and writes when the node
  // was started with one (several machines). It comes in the URL fragment
  // (#token=..., never sent to a server), is kept for this tab only, and is
  // asked for once when the node answers 401.
  const TOKEN_KEY = "raft_auth_token";
  (function takeTokenFromFragment() {
    const m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
    if (!m) return;
    try { sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1])); } catch (_) { /* private mode */ }
    history.replaceState(null, "", window.location.pathname + window.location.search);
  })();
  function authToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (_) { return ""; }
  }

  // The monitor this page was opened from: it says where it is in the
  // fragment (#monitor=URL); the link back is kept for this browser.
  const MONITOR_KEY = "raft_monitor_url";
  (function linkToMonitor() {
    const m = /(?:^#|&)monitor=([^&]+)/.exec(INITIAL_HASH);
    let url = null;
    try {
      if (m) {
        url = safeUrl(decodeURIComponent(m[1]));
        if (url) localStorage.setItem(MONITOR_KEY, url);
      } else {
        url = safeUrl(localStorage.getItem(MONITOR_KEY));
      }
    } catch (_) { /* private mode */ }
    if (m && window.location.hash) history.replaceState(null, "", window.location.pathname + window.location.search);
    const link = $("monitor-link");
    link.hidden = !url;
    if (url) link.href = url;
  })();

  /// fetch with a deadline; never throws. {ok, status, body (JSON or null), text, error}
  /// A 401 asks for the token once and retries.
  async function request(path, options = {}, timeoutMs = 5000, retried = false) {
    const token = authToken();
    if (token) options = {...options, headers: {...(options.headers || {}), Authorization: `Bearer ${token}`}};
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetch(path, {cache: "no-store", ...options, signal: controller.signal});
      if (response.status === 401 && !retried) {
        const given = window.prompt("This node needs the cluster's auth token (printed by launch_cluster):");
        if (given) {
          try { sessionStorage.setItem(TOKEN_KEY, given.trim()); } catch (_) { /* private mode */ }
          clearTimeout(timer);
          return request(path, options, timeoutMs, true);
        }
      }
      if (response.type === "opaqueredirect") {
        return {ok: false, status: 307, redirected: true, body: null, text: ""};
      }
      const text = await response.text();
      let body = null;
      try {
        body = JSON.parse(text);
      } catch (_) {
        body = null;
      }
      return {ok: response.ok, status: response.status, body, text};
    } catch (e) {
      const error = e && e.name === "AbortError" ? "no answer in time" : "the node does not answer";
      return {ok: false, status: 0, body: null, text: "", error};
    } finally {
      clearTimeout(timer);
    }
  }

  /// Runs `fn` every `everyMs`, never twice at once; kick() runs it soon.
  class Poller {
    constructor(fn, everyMs) {
      this.fn = fn;
      this.everyMs = everyMs;
      this.busy = false;
      this.timer = null;
      this.again = false;
    }
    start() {
      this.run();
    }
    kick() {
      if (this.busy) {
        this.again = true;  // once the request in flight is done
        return;
      }
      clearTimeout(this.timer);
      this.run();
    }
    async run() {
      this.timer = null;
      if (document.hidden) {  // a hidden tab does not poll; visibilitychange kicks
        this.schedule(this.everyMs);
        return;
      }
      this.busy = true;
      try {
        await this.fn();
      } catch (e) {
        console.error(e);
      } finally {
        this.busy = false;
      }
      this.schedule(this.again ? 0 : this.everyMs);
      this.again = false;
    }
    schedule(ms) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.run(), ms);
    }
  }

  // ---- status --------------------------------------------------------------

  let status = null;       // last /status answer
  let statusAt = 0;        // performance.now() when it arrived
  let failures = 0;
  let initialTotal = 0;    // the longest INITIAL countdown seen, for the bar

  function idText(id, selfRank) {
    if (id === null || id === undefined) return "none";
    return String(id) === String(selfRank) ? `node ${id} (this node)` : `node ${id}`;
  }

  function renderStatus(s) {
    const rank = s.rank;
    setText("title", `Raft node ${rank}`);
    const state = $("state");
    const stateName = ["INITIAL", "FOLLOWER", "CANDIDATE", "LEADER", "STANDBY"].includes(s.state) ? s.state : "unknown";
    state.textContent = s.state;
    state.className = `state state-${stateName}`;
    document.title = `Node ${rank} · ${s.state} · term ${s.term}`;

    $("badge-paused").hidden = !s.paused;
    $("badge-crashed").hidden = !s.crashed;
    $("badge-prevote").hidden = !s.pre_voting;
    showRanksBadge("badge-partitioned", s.partitioned, "cut off from");
    showRanksBadge("badge-drop-from", s.dropping_from, "deaf to");
    showRanksBadge("badge-drop-to", s.dropping_to, "silent to");
    const delays = s.delaying && typeof s.delaying === "object" ? Object.entries(s.delaying) : [];
    $("badge-delay").hidden = delays.length === 0;
    setText("badge-delay", `delaying ${delays.map(([rank, ms]) => `${rank}: ${ms} ms`).join(", ")}`);

    const storageError = $("storage-error");
    storageError.hidden = !s.storage_error;
    if (s.storage_error) setText("storage-error", `Storage failed, writes are refused: ${s.storage_error}`);

    setText("f-term", s.term);
    const leader = $("f-leader");
    leader.replaceChildren();
    const leaderUrl = safeUrl(s.leader_url);
    if (s.leader_id === null || s.leader_id === undefined) {
      leader.append("unknown");
    } else if (String(s.leader_id) === String(rank) || !leaderUrl) {
      leader.append(idText(s.leader_id, rank));
    } else {
      leader.append(el("a", {href: `${leaderUrl}/`}, idText(s.leader_id, rank)));
    }
    setText("f-voted", idText(s.voted_for, rank));
    setText("f-log-length", s.log_length);
    setText("f-commit", s.commit_index);
    setText("f-applied", s.last_applied);
    setText("f-snapshot", s.snapshot_index ? `index ${s.snapshot_index} (log starts at ${s.first_index})` : "none");
    setText("f-keys", s.kv_keys);
    setText("f-cluster", s.cluster_size ? `${s.cluster_size} rank${s.cluster_size === 1 ? "" : "s"}` : "–");
    renderMembership(s);
    setText("f-uptime", fmtMs(s.uptime_ms));

    const t = s.timers || {};
    initialTotal = s.state === "INITIAL" ? Math.max(initialTotal, t.initial_remaining_ms || 0) : 0;
    setText("f-heartbeat", fmtMs(t.heartbeat_interval_ms));
    setText("f-range", t.election_timeout_min_ms !== undefined
      ? `${fmtMs(t.election_timeout_min_ms)} – ${fmtMs(t.election_timeout_max_ms)}` : "–");
    renderPeers(s);
  }

  /// The ids of a /status list ("voters", "learners") as strings.
  function idList(value) {
    return Array.isArray(value) ? value.map(String) : [];
  }

  /// This node's place in the configuration it sees: voter, learner or STANDBY.
  function roleOf(s) {
    const self = String(s.rank);
    if (idList(s.voters).includes(self)) return "voter";
    if (idList(s.learners).includes(self)) return "learner";
    return "standby";
  }

  function renderMembership(s) {
    const known = Array.isArray(s.voters);
    const role = known ? roleOf(s) : null;
    const voters = idList(s.voters);
    const learners = idList(s.learners);
    const roleBadge = $("badge-role");
    roleBadge.hidden = !role || role === "voter" || s.state === "STANDBY";
    roleBadge.className = `badge badge-role role-${role || "unknown"}`;
    setText("badge-role", role === "learner" ? "learner: no vote" : "standby: not a member");
    setText("f-role", !known ? "–" : role === "voter" ? "a voter" : role === "learner"
      ? "a learner: receives the log, never votes" : "STANDBY: not a member (add_node on the leader)");
    setText("f-voters", known ? voters.join(", ") || "none" : "–");
    setText("f-quorum", known ? `${Math.floor(voters.length / 2) + 1} of ${voters.length}` : "–");
    setText("f-learners", known ? learners.join(", ") || "none" : "–");
    const standby = [];
    for (let r = 0; r < (s.cluster_size || 0); r++) {
      if (!voters.includes(String(r)) && !learners.includes(String(r))) standby.push(String(r));
    }
    setText("f-standby", known ? standby.join(", ") || "none" : "–");
    const index = s.config_index;
    const heard = s.state === "STANDBY" ? " · as this node last heard: it holds no log until added" : "";
    setText("f-config", !known ? "–" : (index ? `log index ${index}${index <= s.commit_index ? " (committed)" : " (not committed yet)"}`
      : "the initial one (no change yet)") + heard);
    // Only the leader changes the configuration: elsewhere, say where it is.
    const note = $("member-note");
    const leaderUrl = safeUrl(s.leader_url);
    const key = `${s.state}|${s.leader_id}|${leaderUrl}`;
    if (note.dataset.key === key) return;
    note.dataset.key = key;
    note.replaceChildren();
    if (s.state === "LEADER") {
      note.append("This node leads: changes sent here go through its log, one at a time.");
    } else if (s.leader_id !== null && s.leader_id !== undefined && leaderUrl) {
      note.append("Changes are made by the leader (this node refuses them): ",
        el("a", {href: `${leaderUrl}/`}, `open node ${s.leader_id}'s page`), ".");
    } else {
      note.append("Changes are made by the leader; none is known to this node right now.");
    }
  }

  // A badge listing ranks (partition or a one-way cut), hidden when there are none.
  function showRanksBadge(id, ranks, label) {
    const list = Array.isArray(ranks) ? ranks : [];
    $(id).hidden = list.length === 0;
    setText(id, `${label} ${list.join(", ")}`);
  }

  function peerCuts(p) {
    const cuts = [];
    if (p.partitioned) cuts.push("cut off");
    if (p.dropping_from) cuts.push("not heard");
    if (p.dropping_to) cuts.push("not sent to");
    return cuts.length ? el("span", {class: "cut"}, ` (${cuts.join(", ")})`) : null;
  }

  function renderPeers(s) {
    const body = $("peers");
    const peers = Array.isArray(s.peers) ? s.peers.filter((p) => String(p.id) !== String(s.rank)) : [];
    const learners = idList(s.learners);
    $("peers-note").hidden = peers.length > 0;
    const rows = peers.map((p) => el("tr", null,
      el("td", null, `node ${p.id}`, learners.includes(String(p.id)) ? el("span", {class: "muted"}, " (learner)") : null, peerCuts(p)),
      el("td", {class: "num"}, String(p.match_index)),
      el("td", {class: "num"}, String(p.next_index)),
      el("td", null, String(p.progress_state))));
    body.replaceChildren(...rows);
  }

  function setConnection(ok, message) {
    const conn = $("conn");
    conn.className = `conn ${ok ? "conn-live" : "conn-down"}`;
    conn.textContent = message;
    // One missed poll is not worth a banner; two in a row are.
    const offline = !ok && failures >= 2;
    $("offline").hidden = !offline;
    if (offline) {
      const state = $("state");
      state.textContent = "OFFLINE";
      state.className = "state state-OFFLINE";
    }
  }

  async function pollStatus() {
    const r = await request("status", {}, 4000);
    if (r.ok && r.body && typeof r.body === "object") {
      failures = 0;
      status = r.body;
      statusAt = performance.now();
      renderStatus(status);
      setConnection(true, "live");
    } else {
      failures += 1;
      setConnection(false, r.error || `status answered ${r.status}`);
    }
  }

  // ---- election timer (animated between polls) -------------------------------

  function drawTimer() {
    const fill = $("timer-fill");
    const bar = $("timer");
    let fraction = 0;
    let kind = "t-stopped";
    let text = "–";
    let limit = "";
    let contact = "–";
    const s = status;
    if (s && s.timers && failures < 2) {
      const t = s.timers;
      const running = t.running && !s.paused && !s.crashed;
      const since = running ? performance.now() - statusAt : 0;
      if (t.since_leader_contact_ms === null || t.since_leader_contact_ms === undefined) {
        contact = s.state === "LEADER" ? "this node leads" : "never";
      } else {
        contact = s.state === "LEADER" ? "this node leads" : `${fmtMs(t.since_leader_contact_ms + since)} ago`;
      }
      if (s.crashed) {
        text = "crashed: no timers run";
      } else if (s.state === "STANDBY") {
        text = "STANDBY: not a member, no election timer";
      } else if (Array.isArray(s.voters) && s.state === "FOLLOWER" && roleOf(s) === "learner") {
        text = "learner: follows the leader, never campaigns";
      } else if (s.state === "LEADER") {
        fraction = 1;
        kind = running ? "t-leader" : "t-stopped";
        text = running ? "leader: sends heartbeats, its followers' timers reset"
          : "paused: timers stand still";
        limit = `heartbeat every ${fmtMs(t.heartbeat_interval_ms)}`;
      } else if (s.state === "INITIAL") {
        const remaining = Math.max(0, (t.initial_remaining_ms || 0) - since);
        fraction = initialTotal > 0 ? 1 - remaining / initialTotal : 0;
        kind = running ? "t-initial" : "t-stopped";
        text = running ? `INITIAL: becomes FOLLOWER in ${fmtMs(remaining)}` : "paused: timers stand still";
      } else {
        const timeout = t.election_timeout_ms || 0;
        const elapsed = Math.min(timeout, (t.election_elapsed_ms || 0) + since);
        fraction = timeout > 0 ? elapsed / timeout : 0;
        if (!running) kind = "t-stopped";
        else if (s.state === "CANDIDATE") kind = "t-candidate";
        else kind = fraction > 0.8 ? "t-hot" : "t-follower";
        text = `${running ? "" : "paused at "}${fmtMs(elapsed)} elapsed`;
        limit = `times out at ${fmtMs(timeout)}`;
      }
    }
    fraction = Math.max(0, Math.min(1, fraction));
    fill.style.transform = `scaleX(${fraction})`;
    const cls = `timer-fill ${kind}`;
    if (fill.className !== cls) fill.className = cls;
    bar.setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
    setText("timer-text", text);
    setText("timer-limit", limit);
    setText("f-contact", contact);
    requestAnimationFrame(drawTimer);
  }

  // ---- replicated log ------------------------------------------------------------

  let entriesKey = "";

  /// The term colours of /theme.css, the same as on the monitor.
  function termClass(term) {
    return `term-${Math.abs(Math.trunc(Number(term) || 0)) % 10}`;
  }

  function describeEntry(e) {
    if (e.kv && typeof e.kv === "object") {
      const kv = e.kv;
      const who = kv.client_id ? ` · client ${kv.client_id} #${kv.seq}` : "";
      if (kv.op === "put") return `PUT ${kv.key} (${kv.value_bytes} bytes)${who}`;
      if (kv.op === "delete") return `DELETE ${kv.key}${who}`;
      if (kv.op === "cas") return `CAS ${kv.key} (${kv.expected_bytes} → ${kv.value_bytes} bytes)${who}`;
      return `${kv.op} ${kv.key}${who}`;
    }
    if (e.type === "noop") return "(new leader's no-op)";
    let text = typeof e.data === "string" ? e.data : "";
    if (e.truncated) text += ` … (${e.data_bytes} bytes)`;
    return text;
  }

  function stickToBottom(scroller, update) {
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 24;
    update();
    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
  }

  async function pollEntries() {
    const s = status;
    let from = 1;
    if (s && Number.isFinite(s.log_length)) {
      from = Math.max(s.first_index || 1, s.log_length - ENTRIES_SHOWN + 1, 1);
    }
    const r = await request(`entries?from=${from}&limit=${ENTRIES_SHOWN}`, {}, 4000);
    const body = $("entries");
    if (!r.ok || !r.body || !Array.isArray(r.body.entries)) {
      const why = r.body && r.body.error ? r.body.error : r.error || `entries answered ${r.status}`;
      const key = `error:${why}`;
      if (key !== entriesKey) {
        entriesKey = key;
        body.replaceChildren(el("tr", null, el("td", {colspan: 5, class: "empty"}, why)));
        setText("entries-summary", "");
      }
      return;
    }
    const list = r.body.entries;
    const commit = r.body.commit_index;
    const last = list.length ? list[list.length - 1] : null;
    const key = [list.length, list.length ? list[0].index : 0, last ? last.index : 0,
      last ? last.term : 0, commit, r.body.first_index].join(":");
    setText("entries-summary", list.length
      ? `showing ${list[0].index}–${last.index} of ${r.body.last_index} · committed up to ${commit}` +
        (r.body.first_index > 1 ? ` · compacted before ${r.body.first_index}` : "")
      : `empty · committed up to ${commit}`);
    if (key === entriesKey) return;
    entriesKey = key;
    const rows = list.map((e) => {
      const committed = e.index <= commit;
      const termChip = el("span", {class: `term ${termClass(e.term)}`}, String(e.term));
      const typeName = e.kv ? "kv" : String(e.type);
      return el("tr", {class: committed ? "committed" : "uncommitted"},
        el("td", {class: "num"}, String(e.index)),
        el("td", {class: "num"}, termChip),
        el("td", null, el("span", {class: `type type-${["noop", "command", "config", "kv"].includes(typeName) ? typeName : "command"}`}, typeName)),
        el("td", {class: "data", title: e.truncated ? `${e.data_bytes} bytes` : null}, describeEntry(e)),
        el("td", null, el("span", {class: `commit-state ${committed ? "done" : "pending"}`},
          committed ? "committed" : "not yet committed")));
    });
    if (!rows.length) rows.push(el("tr", null, el("td", {colspan: 5, class: "empty"}, "The log is empty.")));
    stickToBottom($("entries-scroll"), () => body.replaceChildren(...rows));
  }

  // ---- node log and history ------------------------------------------------------------

  let logLines = [];
  let logKey = "";

  function lineClass(line) {
    if (/\b(error|critical)\b/.test(line)) return "line line-error";
    if (/\bwarn(ing)?\b/.test(line)) return "line line-warn";
    if (/\b(debug|trace)\b/.test(line)) return "line line-debug";
    return "line";
  }

  function renderLog() {
    const filter = $("log-filter").value.trim().toLowerCase();
    const shown = filter ? logLines.filter((l) => l.toLowerCase().includes(filter)) : logLines;
    const key = `${filter}\u0000${shown.length}\u0000${shown.length ? shown[shown.length - 1] : ""}`;
    if (key === logKey) return;
    logKey = key;
    const nodes = shown.map((line) => el("div", {class: lineClass(line)}, line));
    if (!nodes.length) nodes.push(el("div", {class: "line line-debug"}, filter ? "No line matches." : "No log lines yet."));
    stickToBottom($("log-scroll"), () => $("log").replaceChildren(...nodes));
  }

  async function pollLog() {
    const r = await request(`log?limit=${LOG_LINES}`, {}, 4000);
    if (r.ok && r.body && Array.isArray(r.body.log)) {
      logLines = r.body.log.map(String);
      renderLog();
    }
  }

  let historyKey = "";

  async function pollHistory() {
    const r = await request("cmd_history", {}, 4000);
    if (!r.ok || !r.body || !Array.isArray(r.body.history)) return;
    const list = r.body.history.map(String);
    const key = `${list.length}\u0000${list.length ? list[list.length - 1] : ""}`;
    if (key === historyKey) return;
    historyKey = key;
    const items = list.map((line) => el("li", null, line));
    if (!items.length) items.push(el("li", {class: "muted"}, "No commands yet."));
    stickToBottom($("history-scroll"), () => $("history").replaceChildren(...items));
  }

  // ---- feedback ---------------------------------------------------------------------

  /// Shows one action's outcome at the top of `panel`, keeping the last few.
  function feedback(panel, title, r, extraNode) {
    const ok = r.ok && (!r.body || r.body.ok !== false);
    const box = el("div", {class: `fb ${ok ? "fb-ok" : "fb-err"}`});
    const code = r.status ? `HTTP ${r.status}` : "no answer";
    let message;
    if (r.redirected) message = "This node is not the leader, so it redirects writes and linearizable reads there.";
    else if (r.body && typeof r.body.result === "string") message = r.body.result;
    else if (r.body && typeof r.body.error === "string") message = r.body.error;
    else if (r.error) message = r.error;
    else message = r.text ? r.text.slice(0, 300) : "";
    box.append(el("div", {class: "fb-head"},
      el("span", null, ok ? "✓" : "✗"),
      el("span", {class: "fb-cmd"}, title),
      el("span", {class: "fb-status"}, code),
      el("span", {class: "fb-time"}, clock())));
    if (message) box.append(el("div", null, message));
    if (extraNode) box.append(el("div", null, extraNode));
    if (r.body && typeof r.body === "object") {
      const extra = {};
      for (const [k, v] of Object.entries(r.body)) {
        if (!["ok", "result", "error"].includes(k)) extra[k] = v;
      }
      if (Object.keys(extra).length) {
        const details = el("details", {open: title.startsWith("state_details") || title.startsWith("check_timers") || title.startsWith("show_known_nodes") || title.startsWith("show_config")},
          el("summary", null, "details"),
          el("pre", {class: "json"}, JSON.stringify(extra, null, 2)));
        box.append(details);
      }
    }
    panel.prepend(box);
    while (panel.children.length > FEEDBACK_KEPT) panel.lastElementChild.remove();
  }

  // ---- actions ------------------------------------------------------------------------

  async function runCommand(cmd, button, panel = $("feedback")) {
    const line = cmd.trim();
    if (!line) {
      feedback(panel, "(empty)", {ok: false, status: 0, body: null, error: "Type a command first."});
      return;
    }
    if (button) button.disabled = true;
    try {
      const r = await request("command", {
        method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({cmd: line}),
      }, 15000);
      feedback(panel, line.length > 80 ? `${line.slice(0, 80)}…` : line, r);
    } finally {
      if (button) button.disabled = false;
      statusPoller.kick();
      entriesPoller.kick();
      historyPoller.kick();
      logPoller.kick();
    }
  }

  async function runKv(action, button) {
    const key = $("in-key").value;
    const panel = $("kv-feedback");
    if (!key) {
      feedback(panel, action, {ok: false, status: 0, body: null, error: "Type a key first."});
      return;
    }
    const path = `kv/${encodeURIComponent(key)}`;
    let r;
    button.disabled = true;
    try {
      // A follower answers 307 to the leader on another port: not followed
      // (that would be a cross-origin call); the feedback says where to go.
      if (action === "put") {
        r = await request(path, {method: "PUT", body: $("in-value").value, redirect: "manual",
          headers: {"Content-Type": "text/plain; charset=utf-8"}}, 15000);
      } else if (action === "delete") {
        r = await request(path, {method: "DELETE", redirect: "manual"}, 15000);
      } else {
        r = await request(action === "stale" ? `${path}?stale=true` : path, {redirect: "manual"}, 15000);
      }
    } finally {
      button.disabled = false;
    }
    const title = `${action === "stale" ? "get (stale)" : action} ${key.length > 40 ? `${key.slice(0, 40)}…` : key}`;
    if (r.ok && r.body && typeof r.body.value === "string") {
      r = {...r, body: {...r.body, result: `value: ${r.body.value}`}};
    } else if (r.ok && r.body && r.body.index !== undefined) {
      r = {...r, body: {...r.body, result: `committed at index ${r.body.index} in term ${r.body.term}`}};
    }
    let link = null;
    const leaderUrl = status && safeUrl(status.leader_url);
    if (r.redirected && leaderUrl && status.leader_id !== null) {
      link = el("a", {href: `${leaderUrl}/`}, `Open the page of node ${status.leader_id}, the leader`);
    }
    feedback(panel, title, r, link);
    entriesPoller.kick();
  }

  function bind() {
    for (const button of document.querySelectorAll("button[data-cmd]")) {
      const panel = button.dataset.panel ? $(button.dataset.panel) : undefined;
      button.addEventListener("click", () => runCommand(button.dataset.cmd, button, panel));
    }
    // Membership: one rank, four changes; without a rank the node says what is missing.
    const memberForm = $("form-member");
    const change = (name, button) => runCommand(`${name} ${$("in-member").value.trim()}`, button, $("member-feedback"));
    memberForm.addEventListener("submit", (event) => {
      event.preventDefault();
      change("add_node", memberForm.querySelector("button[type=submit]"));
    });
    for (const button of memberForm.querySelectorAll("button[type=button][data-member]")) {
      button.addEventListener("click", () => change(button.dataset.member, button));
    }
    const forms = [
      ["form-transfer", "in-transfer", "transfer_leadership"],
      ["form-partition", "in-partition", "partition"],
      ["form-drop-from", "in-drop-from", "drop_from"],
      ["form-drop-to", "in-drop-to", "drop_to"],
      ["form-delay", "in-delay", "delay"],
      ["form-submit", "in-submit", "submit"],
      ["form-free", "in-free", ""],
    ];
    for (const [formId, inputId, name] of forms) {
      const form = $(formId);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const value = $(inputId).value;
        const button = form.querySelector("button");
        // Without an argument the node itself says what is missing.
        runCommand(name ? `${name} ${value}` : value, button);
        if (name === "submit" || !name) $(inputId).select();
      });
    }
    const kvForm = $("form-kv");
    kvForm.addEventListener("submit", (event) => {
      event.preventDefault();
      runKv("put", kvForm.querySelector("button[data-kv=put]"));
    });
    for (const button of kvForm.querySelectorAll("button[type=button][data-kv]")) {
      button.addEventListener("click", () => runKv(button.dataset.kv, button));
    }
    $("log-filter").addEventListener("input", renderLog);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) for (const p of [statusPoller, entriesPoller, logPoller, historyPoller]) p.kick();
    });
  }

  const statusPoller = new Poller(pollStatus, STATUS_EVERY_MS);
  const entriesPoller = new Poller(pollEntries, SLOW_EVERY_MS);
  const logPoller = new Poller(pollLog, SLOW_EVERY_MS);
  const historyPoller = new Poller(pollHistory, SLOW_EVERY_MS);

  bind();
  statusPoller.start();
  entriesPoller.start();
  logPoller.start();
  historyPoller.start();
  requestAnimationFrame(drawTimer);
})();
