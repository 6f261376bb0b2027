#!/usr/bin/env python3
"""The web monitor in Firefox: the same walk as monitor_e2e.mjs (Chromium),
driven through Firefox's own remote protocol, Marionette, so it needs nothing
beyond Debian's firefox-esr and Python's standard library.

launch_cluster starts 3 nodes; headless Firefox opens the monitor, sees the
nodes on the ring and one leader, slows every node down (`delay all 300`,
typed into the actions beside each node), forces an election from the ring
and sees the CANDIDATE and its vote messages, then the new leader; pauses
the picture and steps back with the slider to the CANDIDATE; writes a key
and sees it in every node's log row, checks that the text was not rendered
as HTML and saves a screenshot. Every process it starts is stopped by PID.

Usage: monitor_firefox_e2e.py BIN_DIR SCREENSHOT_PATH   (FIREFOX=path to override)
"""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "support"))
from free_ports import free_range  # noqa: E402  (needs the path above)

DEADLINE_S = 60


# launch_cluster always wants a token: give it one the test knows.
TOKEN = "e2e-token-0123456789abcdef"


class Marionette:
    """Just enough of Marionette: length-prefixed JSON over TCP."""

    def __init__(self, port, timeout_s):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.buf = b""
        self.next_id = 0
        try:
            greeting = self._read()
        except socket.timeout:
            raise RuntimeError(f"port {port} sent no Marionette greeting in {timeout_s:.0f} s")
        # Whatever answers must be Firefox's Marionette and nothing else.
        if greeting.get("applicationType") != "gecko":
            raise RuntimeError(f"port {port} answered {greeting!r}, not Marionette")

    def _read(self):
        while b":" not in self.buf:
            self.buf += self._recv()
        size, rest = self.buf.split(b":", 1)
        size = int(size)
        while len(rest) < size:
            rest += self._recv()
        self.buf = rest[size:]
        return json.loads(rest[:size])

    def _recv(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("Firefox closed the Marionette connection")
        return chunk

    def call(self, name, params):
        self.next_id += 1
        message = json.dumps([0, self.next_id, name, params]).encode()
        try:
            self.sock.sendall(str(len(message)).encode() + b":" + message)
            reply = self._read()
        except socket.timeout:
            raise RuntimeError(f"{name}: Firefox did not answer in {self.sock.gettimeout():.0f} s")
        if reply[2]:
            raise RuntimeError(f"{name}: {reply[2].get('message', reply[2])}")
        return reply[3]

    def js(self, script, *args):
        return self.call("WebDriver:ExecuteScript", {"script": script, "args": list(args)})["value"]

    def wait(self, script, what, *args):
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            value = self.js(script, *args)
            if value:
                return value
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}")


class Firefox:
    """One headless Firefox in its own profile and process group, with its
    output kept in a log. Marionette listens on a port the kernel picks
    (marionette.port 0) and Firefox writes it to MarionetteActivePort: a port
    we chose could be taken meanwhile by any process on the machine."""

    START_S = 45

    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="raft-e2e-ff-profile-")
        with open(os.path.join(self.profile, "user.js"), "w") as f:
            f.write('user_pref("marionette.port", 0);\n')
            f.write('user_pref("browser.shell.checkDefaultBrowser", false);\n')
            f.write('user_pref("datareporting.policy.dataSubmissionEnabled", false);\n')
            f.write('user_pref("app.update.disabledForTesting", true);\n')
        self.log_path = os.path.join(self.profile, "firefox.log")
        env = dict(os.environ, HOME=self.profile, MOZ_CRASHREPORTER_DISABLE="1")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [binary, "--headless", "--marionette", "--no-remote", "--profile", self.profile,
                 "--window-size=1400,1000"],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def connect(self):
        """Waits for Marionette and opens a session; returns the Marionette."""
        deadline = time.monotonic() + self.START_S
        port_file = os.path.join(self.profile, "MarionetteActivePort")
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"Firefox exited with {self.process.returncode}")
            try:
                with open(port_file) as f:
                    port = int(f.read().strip())
                break
            except (OSError, ValueError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Firefox wrote no Marionette port in {self.START_S} s")
                time.sleep(0.1)
        m = Marionette(port, max(1.0, deadline - time.monotonic()))
        caps = m.call("WebDriver:NewSession", {"capabilities": {}})["capabilities"]
        m.sock.settimeout(DEADLINE_S)
        print(f"e2e-firefox: {caps.get('browserName')} {caps.get('browserVersion')}")
        return m

    def log_tail(self, lines=20):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        """SIGTERM lets Firefox close its content processes. Its PID is not
        reaped until whatever is left of its process group got SIGKILL, so the
        group's ID cannot have been reused by then."""
        pid = self.process.pid
        if self.process.returncode is None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                    break
                time.sleep(0.05)
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def open_firefox(binary, attempts=2):
    """Starts Firefox and opens a Marionette session. A start that hangs is
    retried once with a fresh profile, and its log is printed: the browser's
    start is the harness, not the cluster under test."""
    for attempt in range(1, attempts + 1):
        browser = Firefox(binary)
        try:
            return browser, browser.connect()
        except Exception as e:  # noqa: BLE001 - any start failure is retried
            print(f"e2e-firefox: start {attempt} of {attempts} failed: {e}\n"
                  f"--- firefox log ---\n{browser.log_tail()}--- end ---")
            browser.stop()
            if attempt == attempts:
                raise


def open_actions(m, node):
    """Clicks node `node` on the ring and waits for its actions beside it."""
    m.js("""const pop = document.getElementById('popover');
            if (pop.hidden || pop.dataset.node !== arguments[0]) {
              document.querySelector(`#ring g.node[data-node='${arguments[0]}']`)
                .dispatchEvent(new MouseEvent('click', {bubbles: true}));
            }""", node)
    m.wait("const pop = document.getElementById('popover');"
           "return !pop.hidden && pop.dataset.node === arguments[0]", f"the actions of node {node}", node)


def main():
    bin_dir, screenshot = sys.argv[1], sys.argv[2]
    sys.stdout.reconfigure(line_buffering=True)  # ctest's pipe keeps the order of steps
    firefox = os.environ.get("FIREFOX", "firefox-esr")
    ports = free_range(5)
    discovery_port, monitor_port, base_port = ports, ports + 1, ports + 2
    data_dir = tempfile.mkdtemp(prefix="raft-e2e-ff-")
    launcher = subprocess.Popen(
        [os.path.join(bin_dir, "launch_cluster"), "--nodes", "3",
         "--discovery_port", str(discovery_port), "--monitor_port", str(monitor_port),
         "--base_port", str(base_port), "--min_election_timeout", "1500",
         "--max_election_timeout", "3000", "--heartbeat_interval", "250",
         "--initial_delay_ms", "300", "--data_dir", data_dir, "--fsync", "never"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "RAFT_AUTH_TOKEN": TOKEN})
    browser = None
    failed = False
    try:
        up = threading.Event()

        def echo_launcher():
            for line in launcher.stdout:
                print(line, end="", flush=True)
                if "is up" in line:
                    up.set()

        threading.Thread(target=echo_launcher, daemon=True).start()
        deadline = time.monotonic() + DEADLINE_S
        while not up.wait(0.1):
            if time.monotonic() > deadline:
                raise RuntimeError("launch_cluster did not come up")
            if launcher.poll() is not None:
                raise RuntimeError("launch_cluster exited early")

        browser, m = open_firefox(firefox)
        m.call("WebDriver:Navigate", {"url": f"http://127.0.0.1:{monitor_port}/#token={TOKEN}"})

        m.wait("return document.querySelectorAll('#ring g.node').length === 3 && "
               "document.querySelectorAll('#cards .card').length === 3", "3 nodes")
        leader = m.wait("const g = document.querySelector('#ring g.node.s-leader');"
                        "return g ? g.dataset.node : null", "one leader")
        print(f"e2e-firefox: 3 nodes on the ring, node {leader} leads")

        # Slow motion on every node, from each node's actions beside the ring.
        for node in ("0", "1", "2"):
            open_actions(m, node)
            m.js("""const f = document.querySelector('#popover .freetext');
                    f.querySelector('input').value = 'delay all 300';
                    f.querySelector('button').click();""")
        m.wait("return document.querySelectorAll('#ring .link.delayed').length === 6",
               "six delayed links")
        print("e2e-firefox: every node holds each message for 300 ms")

        candidate = next(n for n in ("0", "1", "2") if n != leader)
        open_actions(m, candidate)
        m.js("""[...document.querySelectorAll('#popover button')]
                  .find((b) => b.textContent === 'Trigger election').click();""")
        m.wait("return !!document.querySelector(`#ring g.node.s-candidate[data-node='${arguments[0]}']`)"
               " && document.querySelectorAll('#msgs .msg.vote').length > 0",
               "a CANDIDATE and vote messages", candidate)
        print(f"e2e-firefox: node {candidate} is CANDIDATE and its vote requests fly")
        m.wait("return !!document.querySelector(`#ring g.node.s-leader[data-node='${arguments[0]}']`)",
               "the candidate leads", candidate)
        print(f"e2e-firefox: node {candidate} leads")

        # Pause the picture and step back with the slider to the election.
        m.js("document.getElementById('play-pause').click()")
        m.wait("""const s = document.getElementById('slider');
                  if (document.querySelector('#ring g.node.s-candidate')) return true;
                  s.value = String(Number(s.value) - 1);
                  s.dispatchEvent(new Event('input', {bubbles: true}));
                  return false;""", "the CANDIDATE when stepping back")
        print("e2e-firefox: paused; the slider stepped back to the CANDIDATE")
        m.js("document.getElementById('play-live').click()")
        for node in ("0", "1", "2"):
            open_actions(m, node)
            m.js("""const f = document.querySelector('#popover .freetext');
                    f.querySelector('input').value = 'heal';
                    f.querySelector('button').click();""")

        m.js("""const set = (id, v) => { const e = document.getElementById(id); e.value = v;
                  e.dispatchEvent(new Event('input', {bubbles: true})); };
                set('kv-key', 'e2e-ff-key'); set('kv-value', '<b>from firefox</b>');
                document.getElementById('kv-put').click();""")
        m.wait("""const rows = [...document.querySelectorAll('#logs .log-row')];
                  return rows.length === 3 && rows.every((r) => [...r.querySelectorAll('.log-cell')]
                    .some((c) => (c.title || '').includes('e2e-ff-key')));""",
               "the key in every node's log")
        print("e2e-firefox: the key is in every node's log")
        if m.js("return document.querySelectorAll('#logs b, #cards b, #events b').length") != 0:
            raise RuntimeError("user text was rendered as HTML")
        png = m.call("WebDriver:TakeScreenshot", {"full": True})["value"]
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(png))
        print(f"e2e-firefox: screenshot {screenshot}")
        m.call("WebDriver:DeleteSession", {})
    except Exception as e:  # noqa: BLE001 - report any failure as one line
        failed = True
        print(f"e2e-firefox FAILED: {e}", file=sys.stderr)
        if browser is not None:
            print(f"--- firefox log ---\n{browser.log_tail()}--- end ---", file=sys.stderr)
    finally:
        if browser is not None:
            browser.stop()
        if launcher.poll() is None:
            launcher.send_signal(signal.SIGINT)
        try:
            code = launcher.wait(30)
        except subprocess.TimeoutExpired:
            launcher.kill()
            code = launcher.wait()
        if code != 0:
            failed = True
            print(f"e2e-firefox FAILED: launch_cluster exited with {code} after SIGINT",
                  file=sys.stderr)
        shutil.rmtree(data_dir, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
