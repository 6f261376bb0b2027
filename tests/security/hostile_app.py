"""The application side of issue 14 replayed against real servers: a fake
node's registration and leader claims at discovery, form and multipart
bodies that look like exactly-once fields, a newline forging a log line, a
node whose disk fails (RLIMIT_FSIZE set on the running rank), the key-value
quota, and the monitor's rule for the addresses it dials (its own discovery
and monitor, fed fake registrations, with fake nodes and a trap listener).

Each case returns an Outcome whose `problems` are the failed assertions,
one sentence each; the suite (hostile_clients.py) measures every server's
peak memory around it."""
import base64
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hostile_cluster import Server, comm, descendants, free_range
from hostile_wire import exchange, simple

KIB = 1024


class Outcome:
    """What a case found: the assertions that failed, and a summary line."""

    def __init__(self):
        self.problems, self.notes = [], []
        self.status, self.body, self.sent_bytes = 0, b"", 0
        self.started = time.monotonic()
        self.seconds = 0.0

    def expect(self, condition, problem):
        if not condition:
            self.problems.append(problem)
        return condition

    def note(self, text):
        self.notes.append(text)

    def done(self):
        self.seconds = time.monotonic() - self.started
        return self

    def describe(self):
        return "; ".join(self.notes) if self.notes else "ok"


def check_outcome(outcome):
    return "; ".join(outcome.problems)


def as_json(answer):
    try:
        return json.loads(answer.body.decode("utf-8", "replace"))
    except ValueError:
        return {}


def wait_for(predicate, limit_s=15.0, every_s=0.1):
    """Polls `predicate` until it returns a true value or `limit_s` passes."""
    deadline = time.monotonic() + limit_s
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every_s)


def put(port, path, body, headers, content_type="application/octet-stream"):
    return simple(port, "PUT", path, list(headers) + [("Content-Type", content_type)], body,
                  timeout_s=15)


def post_json(port, path, doc, headers=(), source=None):
    body = json.dumps(doc).encode()
    hdrs = list(headers) + [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))]
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n" +
            "".join(f"{n}: {v}\r\n" for n, v in hdrs) + "\r\n").encode()
    return exchange(port, [head + body], timeout_s=15, source=source)


def stored_value(port, key):
    """The bytes node `port` holds for `key` (a stale read), or None."""
    answer = simple(port, "GET", f"/kv/{key}?stale=true")
    if answer.status != 200:
        return None
    doc = as_json(answer)
    if "value_base64" in doc:
        return base64.b64decode(doc["value_base64"])
    return doc.get("value", "").encode()


def local_non_loopback_ip():
    """This machine's address towards the outside (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip


class Cases:
    """The application cases against the suite's cluster (`cluster`, with a
    token, nodes at base_port + rank)."""

    def __init__(self, cluster, bin_dir, mpirun):
        self.cluster, self.bin_dir, self.mpirun = cluster, bin_dir, mpirun
        self.auth = [("Authorization", f"Bearer {cluster.token}")]

    # ---- helpers ------------------------------------------------------------------

    def state(self):
        return as_json(simple(self.cluster.discovery_port, "GET", "/state"))

    def leader_rank(self, limit_s=20.0):
        """The rank every node agrees leads (its own /status says LEADER)."""
        def find():
            for rank in range(3):
                doc = as_json(simple(self.cluster.base_port + rank, "GET", "/status"))
                if doc.get("state") == "LEADER":
                    return rank + 1  # 0 would read as "not found"
            return 0
        found = wait_for(find, limit_s)
        return found - 1 if found else None

    def node_port(self, rank):
        return self.cluster.base_port + rank

    # ---- discovery: fake registrations and leader claims ------------------------------

    def fake_registration(self):
        out = Outcome()
        port = self.cluster.discovery_port
        leader = self.leader_rank()
        out.expect(leader is not None, "no leader before the case")
        follower = 1 if leader != 1 else 2
        before = self.state()
        a = post_json(port, "/register", {"node_id": 9, "address": "127.0.0.1:7009"}, self.auth)
        out.expect(a.status == 403, f"a registration of node 9 (ranks 0..2): {a.describe()}")
        elsewhere = f"192.0.2.77:{self.node_port(follower)}"
        a = post_json(port, "/register", {"node_id": follower, "address": elsewhere}, self.auth)
        out.expect(a.status == 403 and b"registers itself" in a.body,
                   f"node {follower} registered at {elsewhere} from loopback: {a.describe()}")
        a = post_json(port, "/set_leader", {"node_id": 9, "term": 5}, self.auth)
        out.expect(a.status == 403, f"a leader claim of node 9: {a.describe()}")
        a = post_json(port, "/set_leader", {"node_id": follower, "term": 2 ** 63 - 1}, self.auth)
        out.expect(a.status == 400 and b"implausible" in a.body,
                   f"term 2^63-1 claimed for node {follower}: {a.describe()}")
        source = local_non_loopback_ip()
        if source:
            a = post_json(port, "/set_leader", {"node_id": follower, "term": 1}, self.auth,
                          source=source)
            out.expect(a.status == 403,
                       f"a claim for node {follower} from {source}: {a.describe()}")
        else:
            out.note("no non-loopback address here: the claim from another IP was not tried")
        after = self.state()
        out.expect("9" not in after.get("nodes", {}), f"node 9 is listed: {after}")
        out.expect(after.get("nodes", {}).get(str(follower)) ==
                   before.get("nodes", {}).get(str(follower)),
                   f"node {follower}'s address changed: {after}")
        out.expect(after.get("leader_term", 0) < 1_000_000, f"the term held became {after}")
        # The followers' 307s still name the true leader.
        a = put(self.node_port(follower), "/kv/sec-redirect", b"x", self.auth)
        location = a.headers.get("location", "")
        out.expect(a.status == 307 and f":{self.node_port(leader)}/" in location,
                   f"a write to follower {follower}: {a.describe()} Location {location!r}")
        # The monitor's snapshot may predate the election by a poll round.
        shown = {}

        def monitor_agrees():
            shown.update(as_json(simple(self.cluster.monitor_port, "GET", "/api/cluster")))
            return shown.get("leader") == str(leader)
        out.expect(wait_for(monitor_agrees, 10, 0.2),
                   f"the monitor shows leader {shown.get('leader')!r}, not {leader}")
        return out.done()

    # ---- writes whose bodies look like exactly-once fields ----------------------------

    def form_and_multipart_bodies(self):
        out = Outcome()
        leader = self.leader_rank()
        if not out.expect(leader is not None, "no leader"):
            return out.done()
        port = self.node_port(leader)
        boundary = "sec14boundary"
        multipart = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\n"
                     f"zz\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"seq\"\r\n\r\n"
                     f"7\r\n--{boundary}--\r\n").encode()
        bodies = [
            ("sec-form", b"client_id=zz&seq=7", "application/x-www-form-urlencoded", port, "/kv/"),
            ("sec-multipart", multipart, f"multipart/form-data; boundary={boundary}", port,
             "/kv/"),
            ("sec-form-monitor", b"client_id=zz&seq=8", "application/x-www-form-urlencoded",
             self.cluster.monitor_port, "/api/kv/"),
        ]
        for key, body, content_type, target, prefix in bodies:
            for attempt in (1, 2):  # the same body twice: no dedup identity, both applied
                a = put(target, prefix + key, body, self.auth, content_type)
                doc = as_json(a)
                out.expect(a.status == 200 and doc.get("duplicate") is not True,
                           f"{key} write {attempt}: {a.describe()}")
            value = stored_value(port, key)
            out.expect(value == body, f"{key} holds {value!r}, not the {len(body)} bytes sent")
        return out.done()

    # ---- a newline in a command argument ---------------------------------------------

    def forged_log_line(self):
        """A command whose text holds a newline, a carriage return and a
        colour code: node.log and /log must show it as one escaped line (the
        node cuts each argument at 60 bytes, hence a short forged line)."""
        out = Outcome()
        rank = 1
        marker = "FORGED" + secrets.token_hex(4)
        forged = f"[critical] {marker}"
        log_path = os.path.join(self.cluster.data_dir, f"node-{rank}", "node.log")
        a = post_json(self.node_port(rank), "/command",
                      {"cmd": f"submit s\n{forged}\r\x1b[31mX"}, self.auth)
        out.expect(a.status in (200, 400, 503), f"the command: {a.describe()}")
        # node.log is flushed at every info line: no other traffic is needed.

        def lines_with_marker():
            try:
                with open(log_path, "rb") as f:
                    return [line for line in f.read().split(b"\n") if marker.encode() in line]
            except OSError:
                return []
        lines = wait_for(lines_with_marker, 10)
        out.expect(bool(lines), f"the command was not logged in {log_path} (the case proves "
                                "nothing without it)")
        for line in lines:
            out.expect(not line.startswith(forged.encode()), f"a forged line: {line[:120]!r}")
            out.expect(b"\\n" in line and b"\x1b" not in line and b"\r" not in line,
                       f"the newline or escape was not escaped: {line[:160]!r}")
        ring = as_json(simple(self.node_port(rank), "GET", "/log?limit=200")).get("log", [])
        mine = [entry for entry in ring if marker in entry]
        out.expect(bool(mine), "the command is not in /log")
        out.expect(not any(entry.startswith(forged) or "\n" in entry for entry in ring),
                   f"a forged /log line: {mine[:2]}")
        return out.done()

    # ---- strict JSON bodies, and reads of big entries -----------------------------------

    def strict_json(self):
        """Duplicate keys, a number out of range and deep nesting are 400 at
        a node's /command and at discovery's /register, and change nothing."""
        out = Outcome()
        raw = [(self.node_port(1), "/command", b'{"cmd":"status","cmd":"pause"}'),
               (self.node_port(1), "/command", b'{"cmd":"status","x":1e400}'),
               (self.node_port(1), "/command", b'{"cmd":"status","x":' + b"[" * 40 +
                b"]" * 40 + b"}"),
               (self.cluster.discovery_port, "/register",
                b'{"node_id":1e400,"address":"127.0.0.1:7001"}'),
               (self.cluster.discovery_port, "/register",
                b'{"node_id":1,"node_id":2,"address":"127.0.0.1:7001"}')]
        for port, path, body in raw:
            a = simple(port, "POST", path, self.auth + [("Content-Type", "application/json")],
                       body)
            out.expect(a.status == 400, f"{path} {body[:40]!r}: {a.describe()}, not 400")
        doc = as_json(simple(self.node_port(1), "GET", "/status"))
        out.expect(doc.get("paused") is False, "a duplicate \"cmd\" key paused the node")
        return out.done()

    def big_values(self):
        """Six 1 MiB values, more than one /entries answer carries (kept:
        big_entries_read reads them back)."""
        out = Outcome()
        leader = self.leader_rank()
        if not out.expect(leader is not None, "no leader"):
            return out.done()
        value = b"v" * (1024 * KIB)
        for i in range(6):
            a = put(self.node_port(leader), f"/kv/sec-big-{i}", value, self.auth)
            out.expect(a.status == 200, f"1 MiB write {i}: {a.describe()}")
        return out.done()

    def big_entries_read(self):
        """After big_values, /entries?full=true&limit=1000 and a huge /log
        limit on node 1: the answers stay bounded (4 MiB of entry bytes) and
        the suite bounds the node's peak memory."""
        out = Outcome()
        a = simple(self.node_port(1), "GET", "/entries?from=1&limit=1000&full=true",
                   timeout_s=30)
        out.expect(a.status == 200, f"/entries: {a.describe()}")
        out.expect(len(a.body) < 5 * 1024 * KIB,
                   f"/entries answered {len(a.body)} bytes for 6 MiB of values")
        out.note(f"/entries answer {len(a.body) / (1024 * KIB):.1f} MiB")
        b = simple(self.node_port(1), "GET", "/log?limit=100000000")
        out.expect(b.status in (200, 400) and len(b.body) < 4 * 1024 * KIB,
                   f"/log with a huge limit: {b.describe()}, {len(b.body)} bytes")
        return out.done()

    # ---- a disk that fails under a running node -----------------------------------------

    def failed_disk(self):
        out = Outcome()
        leader = self.leader_rank()
        if not out.expect(leader is not None, "no leader"):
            return out.done()
        rank = 2 if leader != 2 else 1
        node = self.cluster.servers[f"node{rank}"]
        port, leader_port = self.node_port(rank), self.node_port(leader)
        saved = resource.prlimit(node.pid, resource.RLIMIT_FSIZE)
        try:
            # The kernel now refuses every write that grows a file of node
            # `rank` (EFBIG), as a full disk refuses with ENOSPC.
            resource.prlimit(node.pid, resource.RLIMIT_FSIZE, (1, saved[1]))
            status = {}

            def failed():
                put(leader_port, "/kv/sec-disk", b"d" * (4 * KIB), self.auth)
                status.update(as_json(simple(port, "GET", "/status")))
                return status.get("state") == "FAILED"
            out.expect(wait_for(failed, 15, 0.3), f"node {rank} never said FAILED: {status}")
            out.expect(isinstance(status.get("storage_error"), str) and
                       status.get("leader_id") is None,
                       f"FAILED without its error, or with a leader: {status}")
            # The node learns discovery's leader on its next look (every 5 s).
            a = wait_for(lambda: (lambda r: r if r.status == 307 else None)(
                put(port, "/kv/sec-disk-2", b"v", self.auth)), 12, 0.5) or \
                put(port, "/kv/sec-disk-2", b"v", self.auth)
            location = a.headers.get("location", "")
            out.expect(a.status == 307 and f":{leader_port}/" in location,
                       f"a write to the failed node: {a.describe()} Location {location!r}")
        finally:
            resource.prlimit(node.pid, resource.RLIMIT_FSIZE, saved)
        a = post_json(port, "/command", {"cmd": "restart"}, self.auth)
        out.expect(a.status == 200, f"restart once the disk works: {a.describe()}")
        back = wait_for(lambda: as_json(simple(port, "GET", "/status")).get("state") ==
                        "FOLLOWER" and stored_value(port, "sec-disk") is not None, 20, 0.2)
        out.expect(back, f"node {rank} did not come back with the data: "
                         f"{as_json(simple(port, 'GET', '/status'))}")
        return out.done()


# ---- one node under a small quota ------------------------------------------------------


class QuotaNode:
    """`mpirun -n 1 raft_node --kv_quota_mb 1` with a token, no discovery."""

    def __init__(self, bin_dir, mpirun, token, timeout_s=30):
        self.port = free_range(1)
        self.dir = tempfile.mkdtemp(prefix="raft-security-quota-")
        nowhere = free_range(1)  # discovery is not needed; nothing listens here
        args = [mpirun or "mpirun"]
        if os.geteuid() == 0:
            args.append("--allow-run-as-root")
        args += ["--oversubscribe", "--mca", "btl", "self,vader", "--mca",
                 "btl_vader_single_copy_mechanism", "none", "-n", "1", "--bind-to", "none",
                 "-x", "RAFT_AUTH_TOKEN", os.path.join(bin_dir, "raft_node"),
                 "--base_port", str(self.port), "--data_dir", self.dir, "--fsync", "never",
                 "--kv_quota_mb", "1", "--discovery_url", f"http://127.0.0.1:{nowhere}",
                 "--min_election_timeout", "300", "--max_election_timeout", "600",
                 "--heartbeat_interval", "50", "--initial_delay_ms", "200", "--log_level", "warn"]
        self.log = open(os.path.join(self.dir, "mpirun.log"), "w")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                        env=dict(os.environ, RAFT_AUTH_TOKEN=token))
        self.pids = []
        leader = wait_for(lambda: self._leader_pid(), timeout_s, 0.2)
        if not leader:
            self.stop()
            raise RuntimeError(f"the quota node did not lead; see {self.dir}/mpirun.log")
        self.server = Server("quota-node", self.port, leader)

    def _leader_pid(self):
        self.pids = descendants(self.process.pid)
        pid = next((p for p in self.pids if comm(p) == "raft_node"), None)
        doc = as_json(simple(self.port, "GET", "/status", timeout_s=2))
        return pid if pid and doc.get("state") == "LEADER" else None

    def stop(self):
        known = {pid: comm(pid) for pid in set(self.pids) | set(descendants(self.process.pid))}
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for pid, name in known.items():
            if name and comm(pid) == name:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def quota_case(node, auth):
    out = Outcome()
    value = b"q" * (256 * KIB)
    statuses = []
    for i in range(12):  # 3 MiB offered to a 1 MiB quota
        a = put(node.port, f"/kv/sec-quota-{i}", value, auth)
        statuses.append(a.status)
        if a.status == 507:
            out.expect(b"--kv_quota_mb" in a.body, f"a 507 not naming the quota: {a.describe()}")
    out.expect(statuses[0] == 200 and statuses.count(507) >= 8 and set(statuses) <= {200, 507},
               f"the writes were answered {statuses}")
    out.note(f"{statuses.count(200)} stored, {statuses.count(507)} refused 507")
    a = simple(node.port, "DELETE", "/kv/sec-quota-0", auth, timeout_s=15)
    out.expect(a.status == 200, f"a delete under the quota: {a.describe()}")
    a = put(node.port, "/kv/sec-quota-again", value, auth)
    out.expect(a.status == 200, f"a write after the delete made room: {a.describe()}")
    return out.done()


# ---- the monitor's address rule ------------------------------------------------------------


class FakeNode(ThreadingHTTPServer):
    """A node's /status and /kv as far as the monitor asks, recording every
    request with its headers; PUT /kv redirects to `redirect_to` (a rank)."""
    daemon_threads = True

    def __init__(self, port, rank, redirect_rank, redirect_port):
        self.requests = []
        self.rank, self.redirect_rank, self.redirect_port = rank, redirect_rank, redirect_port
        super().__init__(("127.0.0.1", port), _FakeNodeHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _FakeNodeHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self, status, doc, headers=()):
        body = json.dumps(doc).encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.requests.append((self.command, self.path, dict(self.headers)))

    def do_GET(self):
        self._record()
        if self.path.startswith("/status"):
            self._answer(200, {"node_id": str(self.server.rank), "rank": self.server.rank,
                               "state": "FOLLOWER", "term": 3, "leader_id": None,
                               "paused": False, "crashed": False})
        else:
            self._answer(404, {"ok": False, "error": "no"})

    def do_PUT(self):
        self._record()
        target = f"http://127.0.0.1:{self.server.redirect_port}{self.path}"
        self._answer(307, {"ok": False, "error": "not leader",
                           "leader_id": str(self.server.redirect_rank), "leader_url": target},
                     [("Location", target)])

    do_POST = do_PUT


class Trap:
    """A listener nobody should ever dial: counts connections."""

    def __init__(self, port):
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def stop(self):
        self.stopping.set()
        self.thread.join()
        self.sock.close()


class MonitorRig:
    """A discovery_server without a token or --ranks (anyone may register
    anything) and a web_monitor with a token for ranks 0..2 at base_port +
    rank: the registry is forged, the monitor must hold."""

    def __init__(self, bin_dir, token, timeout_s=15):
        base = free_range(8)
        self.base_port, self.trap_port = base, base + 3
        self.discovery_port, self.monitor_port = base + 4, base + 5
        self.token = token
        self.dir = tempfile.mkdtemp(prefix="raft-security-monitor-")
        self.log = open(os.path.join(self.dir, "servers.log"), "w")
        env = {k: v for k, v in os.environ.items() if k != "RAFT_AUTH_TOKEN"}
        self.processes = [subprocess.Popen(
            [os.path.join(bin_dir, "discovery_server"), "--port", str(self.discovery_port),
             "--state_file", os.path.join(self.dir, "state.json"), "--log_level", "warn"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)]
        self.processes.append(subprocess.Popen(
            [os.path.join(bin_dir, "web_monitor"), "--port", str(self.monitor_port),
             "--discovery_url", f"http://127.0.0.1:{self.discovery_port}", "--nodes", "3",
             "--base_port", str(self.base_port), "--poll_interval_ms", "100",
             "--log_level", "warn"],
            stdout=self.log, stderr=subprocess.STDOUT, env=dict(env, RAFT_AUTH_TOKEN=token)))
        up = wait_for(lambda: all(simple(p, "GET", "/healthz", timeout_s=2).status == 200
                                  for p in (self.discovery_port, self.monitor_port)), timeout_s)
        if not up:
            self.stop()
            raise RuntimeError(f"the monitor rig did not start; see {self.dir}/servers.log")
        self.servers = [Server("rig-discovery", self.discovery_port, self.processes[0].pid),
                        Server("rig-monitor", self.monitor_port, self.processes[1].pid)]

    def stop(self):
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def monitor_rule_case(rig):
    """Node 0 is a fake node at its own port (the monitor may talk to it);
    the forged registrations point ranks 1 and 2 and an id 9 at a trap,
    by a wrong port and by a name, and claim leadership for 9."""
    out = Outcome()
    trap = Trap(rig.trap_port)
    node0 = FakeNode(rig.base_port, 0, redirect_rank=1, redirect_port=rig.trap_port)
    try:
        d = rig.discovery_port
        for node_id, address in ((0, f"127.0.0.1:{rig.base_port}"),
                                 (1, f"127.0.0.1:{rig.trap_port}"),
                                 (2, f"localhost:{rig.trap_port}"),
                                 (9, f"127.0.0.1:{rig.trap_port}")):
            a = post_json(d, "/register", {"node_id": node_id, "address": address})
            out.expect(a.status == 200, f"the forged registration {node_id}: {a.describe()}")
        a = post_json(d, "/set_leader", {"node_id": 9, "term": 999_999})
        out.expect(a.status == 200, f"the forged leader claim: {a.describe()}")

        def settled():
            doc = as_json(simple(rig.monitor_port, "GET", "/api/cluster"))
            nodes = {n.get("node_id"): n for n in doc.get("nodes", [])}
            return doc if nodes.get("0", {}).get("reachable") and "1" in nodes else None
        cluster = wait_for(settled, 10) or {}
        nodes = {n.get("node_id"): n for n in cluster.get("nodes", [])}
        out.expect(sorted(nodes) == ["0", "1", "2"], f"the monitor lists nodes {sorted(nodes)}")
        out.expect(cluster.get("leader") != "9" and cluster.get("discovery_leader") != "9",
                   f"the monitor shows leader {cluster.get('leader')!r} "
                   f"(discovery's {cluster.get('discovery_leader')!r})")
        for rank, why in (("1", "registered port"), ("2", "is a name")):
            error = nodes.get(rank, {}).get("error", "")
            out.expect(why in error, f"node {rank}'s refusal: {error!r}")

        bearer = [("Authorization", f"Bearer {rig.token}")]
        a = put(rig.monitor_port, "/api/kv/sec-rule", b"secret write", bearer)
        out.expect(a.status in (502, 503), f"a write redirected to node 1: {a.describe()}")
        for rank in (1, 2, 9):
            a = post_json(rig.monitor_port, f"/api/nodes/{rank}/command", {"cmd": "pause"},
                          bearer)
            out.expect(a.status in (404, 502), f"a command for node {rank}: {a.describe()}")
            a = simple(rig.monitor_port, "GET", f"/api/nodes/{rank}/log")
            out.expect(a.status in (404, 502), f"a log read of node {rank}: {a.describe()}")
        time.sleep(0.5)  # a few more poll rounds (100 ms each) for the trap to see
        out.expect(trap.connections == 0,
                   f"the monitor dialled the trap {trap.connections} time(s)")
        polled = [r for r in node0.requests if r[1].startswith("/status")]
        out.expect(bool(polled), "the monitor never polled node 0 (the case proves nothing)")
        out.note(f"trap dialled {trap.connections}x, node 0 asked {len(node0.requests)}x")
    finally:
        node0.shutdown()
        node0.server_close()
        trap.stop()
    return out.done()
