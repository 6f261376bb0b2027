"""The servers a hostile client attacks: a real cluster started with
launch_cluster (discovery_server, web_monitor, mpirun -n 3 raft_node), found
by PID in /proc, its memory read from /proc/PID/status, and stopped by PID."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "support"))
from free_ports import free_range  # noqa: E402  (needs the path above)


SERVED_NAME = "raft-sec.example"


def _children_map():
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid):
    children, out, todo = _children_map(), [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def mpi_rank(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            for item in f.read().split(b"\0"):
                if item.startswith(b"OMPI_COMM_WORLD_RANK="):
                    return int(item.split(b"=", 1)[1])
    except OSError:
        pass
    return None


def memory_kb(pid):
    """{'VmRSS': kB, 'VmHWM': kB} of a running process."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                out[name] = int(value.split()[0])
    return out


def reset_peak(pid):
    """Sets VmHWM back to the current VmRSS (Linux clear_refs, value 5)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


class Server:
    """One server process under attack: name, HTTP port and PID."""

    def __init__(self, name, port, pid):
        self.name, self.port, self.pid = name, port, pid
        self.idle_rss_kb = memory_kb(pid)["VmRSS"]

    def alive(self):
        return os.path.exists(f"/proc/{self.pid}") and comm(self.pid) != ""

    def peak_above_idle_mb(self):
        return (memory_kb(self.pid)["VmHWM"] - self.idle_rss_kb) / 1024.0


class Cluster:
    """launch_cluster with 3 nodes and a token, on free ports, in a temp dir."""

    def __init__(self, bin_dir, token, mpirun=None, timeout_s=120):
        ports = free_range(5)
        self.discovery_port, self.monitor_port, self.base_port = ports, ports + 1, ports + 2
        self.token = token
        self.data_dir = tempfile.mkdtemp(prefix="raft-security-")
        args = [os.path.join(bin_dir, "launch_cluster"), "--nodes", "3",
                "--discovery_port", str(self.discovery_port),
                "--monitor_port", str(self.monitor_port), "--base_port", str(self.base_port),
                "--min_election_timeout", "500", "--max_election_timeout", "1000",
                "--heartbeat_interval", "100", "--initial_delay_ms", "300",
                "--data_dir", self.data_dir, "--fsync", "never",
                # a name every server must answer to (RAFT_SERVED_HOSTS)
                "--served_host", SERVED_NAME,
                # info: the forged-log-line case needs the commands logged
                "--log_level", "info"]
        if mpirun:
            args += ["--mpirun", mpirun]
        env = dict(os.environ, RAFT_AUTH_TOKEN=token)
        self.log_path = os.path.join(self.data_dir, "launch_cluster.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log,
                                        text=True, env=env)
        self.pids = []
        self._wait_up(timeout_s)
        self.servers = self._find_servers(timeout_s)

    def _wait_up(self, timeout_s):
        up = threading.Event()

        def read_stdout():
            for line in self.process.stdout:
                self.log.write(line)
                if "is up" in line:
                    up.set()

        threading.Thread(target=read_stdout, daemon=True).start()
        deadline = time.monotonic() + timeout_s
        while not up.wait(0.1):
            if self.process.poll() is not None:
                raise RuntimeError(f"launch_cluster exited early; see {self.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"launch_cluster did not come up; see {self.log_path}")

    def _find_servers(self, timeout_s):
        deadline = time.monotonic() + timeout_s
        while True:
            self.pids = descendants(self.process.pid)
            found = {}
            for pid in self.pids:
                name = comm(pid)
                if name.startswith("discovery_serv"):
                    found["discovery"] = Server("discovery", self.discovery_port, pid)
                elif name == "web_monitor":
                    found["monitor"] = Server("monitor", self.monitor_port, pid)
                elif name == "raft_node" and mpi_rank(pid) is not None:
                    rank = mpi_rank(pid)
                    found[f"node{rank}"] = Server(f"node{rank}", self.base_port + rank, pid)
            if len(found) == 5:
                return found
            if time.monotonic() > deadline:
                raise RuntimeError(f"found only {sorted(found)} under launch_cluster")
            time.sleep(0.1)

    def stop(self):
        """SIGINT to launch_cluster (it stops its children), then SIGKILL to
        every process it had started that is still there, by PID."""
        known = {pid: comm(pid) for pid in set(self.pids) | set(descendants(self.process.pid))}
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for pid, name in known.items():
            if not name or comm(pid) != name:
                continue  # gone (its PID may belong to another process now)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.log.close()

    def remove_files(self):
        shutil.rmtree(self.data_dir, ignore_errors=True)
