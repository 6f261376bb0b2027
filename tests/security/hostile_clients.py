#!/usr/bin/env python3
"""Hostile clients against real servers (issue 14, the HTTP layer): a
3-node cluster from launch_cluster with a token, its discovery_server and
web_monitor, each attacked in turn with a gzip bomb, a 300 MB chunked body,
200 MB header and request lines, a million headers, 2,700 ranges, a foreign
Host, cross-site POSTs, a body announced and never sent, bodiless POSTs, a
half-closed client, and 300 slow plus 2,000 idle sockets beside a fresh
client. Then the application cases of hostile_app.py: fake registrations
and leader claims, form and multipart bodies that look like exactly-once
fields, a newline forging a log line, a disk that fails under a node, the
key-value quota, and the monitor's address rule against a forged registry.
Each case asserts the answer, and every server's peak memory (VmHWM, reset
before each case) stays below 64 MB above its idle size.

Usage: hostile_clients.py BIN_DIR [--mpirun PATH] [--report] [--only NAME,...]
  --report  print the figures of every case and exit 0 whatever they are
            (how docs/SECURITY.md measured the servers before and after)
Exit 0: every case held; 1: a case failed (each failure is one line).
"""
import argparse
import secrets
import sys
import threading
import time

import hostile_app
from hostile_attacks import (Crowd, bodiless, chunked_body, compressed_body, fresh_client_waits,
                             gzip_bomb, half_closed, head_without_body, huge_header_line,
                             huge_request_line, many_headers, many_ranges)
from hostile_cluster import SERVED_NAME, Cluster, reset_peak
from hostile_wire import simple

PEAK_LIMIT_MB = 64.0
FRESH_LIMIT_S = 1.0
MIB = 1 << 20

# What each server offers an attacker: a read, a mutating route with a body,
# an embedded asset, a route that takes no body.
TARGETS = {
    "node1": {"read": "/status", "write": ("PUT", "/kv/hostile"),
              "command": ("POST", "/command", b'{"cmd":"submit hostile"}'),
              "asset": "/node.js", "bodiless": ("POST", "/command")},
    "monitor": {"read": "/healthz", "write": ("PUT", "/api/kv/hostile"),
                "command": ("POST", "/api/nodes/0/command", b'{"cmd":"submit hostile"}'),
                "asset": "/monitor.js", "bodiless": ("POST", "/api/nodes/0/command")},
    "discovery": {"read": "/state", "write": ("POST", "/register"),
                  "command": ("POST", "/register", b'{"node_id":0,"host":"127.0.0.1","port":1}'),
                  "asset": None, "bodiless": ("POST", "/reset")},
}


class Suite:
    def __init__(self, cluster, report):
        self.cluster, self.report = cluster, report
        self.auth = [("Authorization", f"Bearer {cluster.token}")]
        self.failures = []
        self.rows = []
        self._bomb = None

    def bomb(self):
        if self._bomb is None:
            self._bomb = gzip_bomb()
        return self._bomb

    def run_case(self, name, server_name, attack, check, servers=None):
        """Runs `attack` with every server's peak reset first; `check(answer)`
        returns a failure sentence or ''. `servers`: the processes measured
        (default: the cluster's)."""
        servers = list(servers or self.cluster.servers.values())
        for s in servers:
            reset_peak(s.pid)
        answer = attack()
        peaks = {s.name: s.peak_above_idle_mb() for s in servers}
        problem = check(answer)
        worst = max(peaks, key=peaks.get)
        if peaks[worst] >= PEAK_LIMIT_MB:
            problem = (problem + "; " if problem else "") + \
                f"{worst} peaked {peaks[worst]:.0f} MB above idle"
        dead = [s.name for s in servers if not s.alive()]
        if dead:
            problem = (problem + "; " if problem else "") + f"{','.join(dead)} died"
        self.rows.append((name, server_name, answer, peaks[server_name], problem))
        line = f"{name:<22} {server_name:<9} {describe(answer):<64} " \
               f"peak +{peaks[server_name]:6.1f} MB"
        print(("FAIL " if problem else "ok   ") + line + (f"  <- {problem}" if problem else ""),
              flush=True)
        if problem:
            self.failures.append(f"{name} on {server_name}: {problem}")


def describe(answer):
    if isinstance(answer, list):
        return f"fresh waits max {max(answer):.2f} s, median {sorted(answer)[len(answer) // 2]:.2f} s"
    return f"{answer.describe()[:40]} in {answer.seconds:.2f} s, sent {answer.sent_bytes / MIB:.1f} MiB"


def expect(statuses, sent_mib_max=None, seconds_max=None, body_excludes=None):
    def check(answer):
        problems = []
        if answer.status not in statuses:
            problems.append(f"wanted {'/'.join(map(str, statuses))}, got {answer.describe()}")
        if sent_mib_max is not None and answer.sent_bytes > sent_mib_max * MIB:
            problems.append(f"the server took {answer.sent_bytes / MIB:.0f} MiB before refusing")
        if seconds_max is not None and answer.seconds > seconds_max:
            problems.append(f"answered after {answer.seconds:.1f} s")
        if body_excludes and body_excludes.encode() in answer.body:
            problems.append(f"answered {body_excludes!r}")
        return "; ".join(problems)
    return check


def body_cases(suite, name, target):
    port = suite.cluster.servers[name].port
    method, path = target["write"]
    suite.run_case("gzip-bomb", name, lambda: compressed_body(port, method, path, suite.bomb(),
                                                               suite.auth), expect([415]))

    def two_bombs_without_token():
        answers = [None, None]
        threads = [threading.Thread(target=lambda i=i: answers.__setitem__(
            i, compressed_body(port, method, path, suite.bomb()))) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return max(answers, key=lambda a: a.seconds)

    suite.run_case("gzip-bomb-x2-no-token", name, two_bombs_without_token,
                   expect([401, 415], seconds_max=5))
    suite.run_case("chunked-300MB", name, lambda: chunked_body(port, method, path,
                                                               headers=suite.auth),
                   expect([413], sent_mib_max=64))
    suite.run_case("body-before-auth", name,
                   lambda: head_without_body(port, method, path), expect([401], seconds_max=2))


def head_cases(suite, name, target):
    port = suite.cluster.servers[name].port
    read = target["read"]
    suite.run_case("header-line-200MB", name, lambda: huge_header_line(port, read),
                   expect([431], sent_mib_max=16))
    suite.run_case("request-line-200MB", name, lambda: huge_request_line(port, read),
                   expect([414], sent_mib_max=16))
    suite.run_case("million-headers", name, lambda: many_headers(port, read),
                   expect([431], sent_mib_max=16))
    suite.run_case("half-closed", name, lambda: half_closed(port, read), expect([200]))
    suite.run_case("host-evil.example", name,
                   lambda: simple(port, "GET", read, host="evil.example"), expect([421]))
    # The name launch_cluster was given with --served_host is served everywhere.
    suite.run_case("host-served-name", name,
                   lambda: simple(port, "GET", read, host=f"{SERVED_NAME}:{port}"), expect([200]))
    if target["asset"]:
        size = len(simple(port, "GET", target["asset"]).body)

        def check_ranges(answer):
            problem = expect([200, 206])(answer)
            if len(answer.body) > 2 * size:
                problem += f"{len(answer.body)} bytes for a {size}-byte file"
            return problem

        suite.run_case("2700-ranges", name, lambda: many_ranges(port, target["asset"]),
                       check_ranges)


def cross_site_cases(suite, name, target):
    port = suite.cluster.servers[name].port
    method, path, body = target["command"]
    for origin in ("http://evil.example", "null"):
        headers = suite.auth + [("Content-Type", "text/plain"), ("Origin", origin)]
        suite.run_case(f"csrf-origin-{origin.split('/')[-1]}", name,
                       lambda: simple(port, method, path, headers, body), expect([403]))
    headers = [("Content-Type", "text/plain"), ("Origin", "http://evil.example")]
    suite.run_case("csrf-no-token", name, lambda: simple(port, method, path, headers, body),
                   expect([401, 403]))


def slow_case(suite, name, target):
    port = suite.cluster.servers[name].port
    crowd = Crowd(port).start()
    try:
        time.sleep(2.0)  # let the crowd connect before the first fresh client
        suite.run_case("300-slow+2000-idle", name,
                       lambda: fresh_client_waits(port, target["read"]),
                       lambda waits: "" if max(waits) < FRESH_LIMIT_S else
                       f"a fresh client waited {max(waits):.1f} s")
    finally:
        crowd.stop()


def bodiless_case(suite, name, target):
    port = suite.cluster.servers[name].port
    method, path = target["bodiless"]
    statuses = [200] if name == "discovery" else [200, 400, 503]
    suite.run_case("bodiless-post", name, lambda: bodiless(port, method, path, suite.auth),
                   expect(statuses, seconds_max=2, body_excludes="malformed HTTP request"))


def still_serves(suite, limit_s=30.0):
    """After everything, a normal authorized write through the monitor works
    (once the nodes have registered again after discovery's /reset)."""
    port = suite.cluster.servers["monitor"].port
    deadline = time.monotonic() + limit_s
    while True:
        answer = simple(port, "PUT", "/api/kv/after-the-siege", suite.auth + [
            ("Content-Type", "application/octet-stream")], b"still here", timeout_s=20)
        if answer.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if answer.status != 200:
        suite.failures.append(f"a normal write after the suite: {answer.describe()}")
    print(("ok   " if answer.status == 200 else "FAIL ") +
          f"normal write afterwards: {answer.describe()}", flush=True)


GROUPS = {"body": body_cases, "head": head_cases, "cross-site": cross_site_cases,
          "slow": slow_case, "bodiless": bodiless_case}


def cluster_app_case(method_name, server_name):
    def run(suite, cases):
        suite.run_case(method_name.replace("_", "-"), server_name, getattr(cases, method_name),
                       hostile_app.check_outcome)
    return run


def quota_group(suite, cases):
    node = hostile_app.QuotaNode(cases.bin_dir, cases.mpirun, suite.cluster.token)
    try:
        suite.run_case("kv-quota-1MiB", "quota-node", lambda: hostile_app.quota_case(
            node, suite.auth), hostile_app.check_outcome, [node.server])
    finally:
        node.stop()


def monitor_rule_group(suite, cases):
    rig = hostile_app.MonitorRig(cases.bin_dir, suite.cluster.token)
    try:
        suite.run_case("monitor-address-rule", "rig-monitor",
                       lambda: hostile_app.monitor_rule_case(rig), hostile_app.check_outcome,
                       rig.servers)
    finally:
        rig.stop()


# Run once each, before the per-server groups (which end with discovery's /reset).
APP_GROUPS = {"registration": cluster_app_case("fake_registration", "discovery"),
              "kv-bodies": cluster_app_case("form_and_multipart_bodies", "node1"),
              "log-line": cluster_app_case("forged_log_line", "node1"),
              "strict-json": cluster_app_case("strict_json", "node1"),
              "big-values": cluster_app_case("big_values", "node1"),
              "big-entries": cluster_app_case("big_entries_read", "node1"),
              "failed-disk": cluster_app_case("failed_disk", "node1"),
              "quota": quota_group, "monitor-rule": monitor_rule_group}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bin_dir")
    parser.add_argument("--mpirun")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--only", default=",".join(list(APP_GROUPS) + list(GROUPS)))
    args = parser.parse_args()
    groups = args.only.split(",")
    unknown = [g for g in groups if g not in GROUPS and g not in APP_GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}")
    sys.stdout.reconfigure(line_buffering=True)
    cluster = Cluster(args.bin_dir, secrets.token_hex(16), args.mpirun)
    suite = Suite(cluster, args.report)
    cases = hostile_app.Cases(cluster, args.bin_dir, args.mpirun)
    try:
        print("idle RSS: " + ", ".join(f"{s.name} {s.idle_rss_kb / 1024:.1f} MB"
                                       for s in cluster.servers.values()))
        for group in (g for g in groups if g in APP_GROUPS):
            try:
                APP_GROUPS[group](suite, cases)
            except RuntimeError as e:  # its servers did not start
                suite.failures.append(f"{group}: {e}")
                print(f"FAIL {group}: {e}", flush=True)
        for group in (g for g in groups if g in GROUPS):
            # discovery last: its bodiless POST is /reset
            for name in ("node1", "monitor", "discovery"):
                GROUPS[group](suite, name, TARGETS[name])
        still_serves(suite)
    finally:
        cluster.stop()
        if not suite.failures:
            cluster.remove_files()
        else:
            print(f"cluster logs kept in {cluster.data_dir}")
    for failure in suite.failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    sys.exit(0 if args.report or not suite.failures else 1)


if __name__ == "__main__":
    main()
