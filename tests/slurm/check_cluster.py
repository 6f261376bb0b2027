#!/usr/bin/env python3
"""Checks a Raft cluster launch_cluster started inside a Slurm job.

Given discovery's and the monitor's URLs (as the banner printed them) and the
auth token, it waits for, in order:
  1. every rank registered with discovery, spread over the expected number
     of hosts, and a leader discovery knows;
  2. one agreed leader: every node's /status names the same leader and term,
     and that node says LEADER;
  3. a write through the monitor (PUT /api/kv), refused without the token,
     read back through the monitor;
  4. a failover: the leader paused through the monitor, a new leader in a
     higher term agreed by the others, a second write through the monitor,
     both values read back; the old leader resumed.
Each wait is for a condition with a deadline, never a fixed sleep. Prints
"FIGURE label name seconds" lines and exits 0, or prints "FAIL: ..." and
exits 1. registered_after_submit_s and leader_after_submit_s run from --since
(the epoch time the job was submitted) to the lines discovery wrote in --log
when the last rank registered and when it first heard of a leader: the
cluster's own record, not when this script happened to look.
"""
import argparse
import json
import re
import sys
import time
import urllib.error
import urllib.request

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(method, url, body=None, token=None):
    """(status, parsed JSON or raw text); status 0 when nothing answered."""
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with OPENER.open(request, timeout=5) as reply:
            status, raw = reply.status, reply.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e)
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


def wait_for(what, limit_s, probe):
    """Calls probe() until it returns something truthy; fails after limit_s."""
    deadline = time.monotonic() + limit_s
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            fail("timed out after %ds waiting for %s" % (limit_s, what))
        time.sleep(0.1)


class Cluster:
    def __init__(self, args):
        self.discovery = args.discovery.rstrip("/")
        self.monitor = args.monitor.rstrip("/")
        self.token = args.token
        self.ranks = args.ranks

    def state(self):
        status, body = call("GET", self.discovery + "/state")
        return body if status == 200 and isinstance(body, dict) else None

    def node_status(self, address):
        status, body = call("GET", "http://%s/status" % address)
        return body if status == 200 and isinstance(body, dict) else None

    def registered(self, hosts):
        """discovery's node list once every rank is in it on `hosts` hosts."""
        state = self.state()
        if not state or len(state.get("nodes", {})) != self.ranks:
            return None
        used = {address.rsplit(":", 1)[0] for address in state["nodes"].values()}
        return state["nodes"] if len(used) == hosts else None

    def agreed_leader(self, nodes, skip=()):
        """(leader id, term) every unpaused node outside `skip` agrees on."""
        views = []
        for node_id, address in nodes.items():
            if node_id in skip:
                continue
            status = self.node_status(address)
            if status is None or status.get("paused"):
                return None
            views.append((status.get("leader_id"), status.get("term"), node_id, status["state"]))
        leaders = {(leader, term) for leader, term, _, _ in views}
        if len(leaders) != 1:
            return None
        leader, term = leaders.pop()
        says_leader = [n for _, _, n, state in views if state == "LEADER"]
        return (leader, term) if leader is not None and says_leader == [leader] else None

    def command(self, node_id, cmd):
        return call("POST", "%s/api/nodes/%s/command" % (self.monitor, node_id),
                    json.dumps({"cmd": cmd}), self.token)

    def put(self, key, value, token):
        return call("PUT", "%s/api/kv/%s" % (self.monitor, key), value, token)

    def get(self, key):
        status, body = call("GET", "%s/api/kv/%s" % (self.monitor, key))
        return body.get("value") if status == 200 and isinstance(body, dict) else None


DISCOVERY_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3}) \[discovery\] info (.*)$")


def discovery_times(log, ranks):
    """(epoch when the last of `ranks` ranks first registered, epoch of the
    first leader) from discovery's lines in `log`; None for what is missing."""
    registered, leader = {}, None
    with open(log, errors="replace") as lines:
        for line in lines:
            match = DISCOVERY_LINE.match(line.strip())
            if not match:
                continue
            when = time.mktime(time.strptime(match.group(1), "%Y-%m-%d %H:%M:%S"))
            when += int(match.group(2)) / 1000
            said = re.match(r"node (\d+) registered at ", match.group(3))
            if said:
                registered.setdefault(said.group(1), when)
            elif leader is None and match.group(3).startswith("leader is now node"):
                leader = when
    last = max(registered.values()) if len(registered) == ranks else None
    return last, leader


def check_writes(cluster, key, value):
    status, body = cluster.put(key, value, None)
    if status != 401:
        fail("PUT /api/kv/%s without the token answered %s %s" % (key, status, body))
    # The monitor may not have seen the leader yet: retry until it writes.
    wait_for("a write of %s through the monitor" % key, 30,
             lambda: cluster.put(key, value, cluster.token)[0] == 200)
    wait_for("%s to read back through the monitor" % key, 30,
             lambda: cluster.get(key) == value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--discovery", required=True)
    parser.add_argument("--monitor", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--ranks", type=int, required=True)
    parser.add_argument("--hosts", type=int, required=True, help="hosts the ranks must be on")
    parser.add_argument("--since", type=float, required=True, help="epoch time of submission")
    parser.add_argument("--limit", type=int, default=120, help="seconds for each wait")
    parser.add_argument("--label", default="job", help="names the job in FIGURE lines")
    parser.add_argument("--log", required=True, help="the file discovery logs to")
    args = parser.parse_args()
    cluster = Cluster(args)


    def figure(name, seconds):
        print("FIGURE %s %s %.2f" % (args.label, name, seconds), flush=True)

    nodes = wait_for("%d ranks registered on %d hosts" % (args.ranks, args.hosts), args.limit,
                     lambda: cluster.registered(args.hosts))
    wait_for("discovery to know a leader", args.limit,
             lambda: (cluster.state() or {}).get("leader") is not None)
    registered_at, leader_at = discovery_times(args.log, args.ranks)
    if registered_at is None or leader_at is None:
        fail("discovery's log %s does not show %d registrations and a leader" % (args.log, args.ranks))
    figure("registered_after_submit_s", registered_at - args.since)
    figure("leader_after_submit_s", leader_at - args.since)
    print("ranks: " + " ".join("%s=%s" % kv for kv in sorted(nodes.items(), key=lambda kv: int(kv[0]))))
    leader, term = wait_for("one agreed leader", args.limit, lambda: cluster.agreed_leader(nodes))
    print("agreed leader: node %s in term %s" % (leader, term), flush=True)

    check_writes(cluster, "slurm-before", "written-before-failover")
    print("write through the monitor: ok (401 without the token)", flush=True)

    status, body = cluster.command(leader, "pause")
    if status != 200:
        fail("pausing node %s through the monitor answered %s %s" % (leader, status, body))
    paused_at = time.monotonic()

    def new_leader():
        agreed = cluster.agreed_leader(nodes, {leader})
        return agreed if agreed and agreed[0] != leader and agreed[1] > term else None

    new = wait_for("a new leader after pausing node %s" % leader, args.limit, new_leader)
    figure("failover_s", time.monotonic() - paused_at)
    print("failover: node %s paused, node %s leads in term %s" % (leader, new[0], new[1]))
    check_writes(cluster, "slurm-after", "written-after-failover")
    if cluster.get("slurm-before") != "written-before-failover":
        fail("the write from before the failover is gone")
    print("writes before and after the failover read back through the monitor", flush=True)
    status, body = cluster.command(leader, "resume")
    if status != 200:
        fail("resuming node %s answered %s %s" % (leader, status, body))
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
