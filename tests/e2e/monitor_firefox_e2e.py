#!/usr/bin/env python3
"""The web monitor in Firefox: the same walk as monitor_e2e.mjs (Chromium),
driven through Firefox's own remote protocol, Marionette, so it needs nothing
beyond Debian's firefox-esr and Python's standard library.

launch_cluster starts 3 nodes; headless Firefox opens the monitor, sees the
node cards and one leader, pauses the leader with its button and sees another
node take over, writes a key and sees it in every node's log row, checks that
the text was not rendered as HTML and saves a screenshot. Every process it
starts is stopped by PID.

Usage: monitor_firefox_e2e.py BIN_DIR SCREENSHOT_PATH   (FIREFOX=path to override)
"""
import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

DEADLINE_S = 60


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_range(count):
    for _ in range(200):
        base = random.randint(30000, 50000)
        if all(port_free(p) for p in range(base, base + count)):
            return base
    raise RuntimeError("no free ports")


class Marionette:
    """Just enough of Marionette: length-prefixed JSON over TCP."""

    def __init__(self, port):
        deadline = time.monotonic() + DEADLINE_S
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("Firefox did not open its Marionette port")
                time.sleep(0.2)
        self.buf = b""
        self.next_id = 0
        self._read()  # the greeting

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
        self.sock.sendall(str(len(message)).encode() + b":" + message)
        reply = self._read()
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


def main():
    bin_dir, screenshot = sys.argv[1], sys.argv[2]
    firefox = os.environ.get("FIREFOX", "firefox-esr")
    ports = free_range(5)
    discovery_port, monitor_port, base_port = ports, ports + 1, ports + 2
    data_dir = tempfile.mkdtemp(prefix="raft-e2e-ff-")
    profile = tempfile.mkdtemp(prefix="raft-e2e-ff-profile-")
    marionette_port = free_range(1)
    with open(os.path.join(profile, "user.js"), "w") as f:
        f.write(f'user_pref("marionette.port", {marionette_port});\n')
        f.write('user_pref("browser.shell.checkDefaultBrowser", false);\n')
        f.write('user_pref("datareporting.policy.dataSubmissionEnabled", false);\n')
        f.write('user_pref("app.update.disabledForTesting", true);\n')

    launcher = subprocess.Popen(
        [os.path.join(bin_dir, "launch_cluster"), "--nodes", "3",
         "--discovery_port", str(discovery_port), "--monitor_port", str(monitor_port),
         "--base_port", str(base_port), "--min_election_timeout", "500",
         "--max_election_timeout", "1000", "--heartbeat_interval", "100",
         "--initial_delay_ms", "300", "--data_dir", data_dir, "--fsync", "never"],
        stdout=subprocess.PIPE, text=True)
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

        env = dict(os.environ, HOME=profile, MOZ_CRASHREPORTER_DISABLE="1")
        browser = subprocess.Popen(
            [firefox, "--headless", "--marionette", "--no-remote", "--profile", profile,
             "--window-size=1400,1000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        m = Marionette(marionette_port)
        caps = m.call("WebDriver:NewSession", {"capabilities": {}})["capabilities"]
        print(f"e2e-firefox: {caps.get('browserName')} {caps.get('browserVersion')}")
        m.call("WebDriver:Navigate", {"url": f"http://127.0.0.1:{monitor_port}/"})

        m.wait("return document.querySelectorAll('#cards .card').length === 3", "3 node cards")
        print("e2e-firefox: 3 node cards")
        m.wait("return document.querySelectorAll('#cards .card.state-leader').length === 1",
               "one leader")
        leader = m.js("return document.querySelector('#cards .card.state-leader h3')"
                      ".textContent.replace(/\\D+/g, '')")
        print(f"e2e-firefox: one leader, node {leader}")

        m.js("document.querySelector('#cards .card.state-leader button[data-cmd=\"pause\"]').click()")
        new_leader = m.wait(
            "return [...document.querySelectorAll('#cards .card.state-leader h3')]"
            ".map((h) => h.textContent.replace(/\\D+/g, '')).find((id) => id !== arguments[0])",
            "a new leader", leader)
        print(f"e2e-firefox: paused node {leader}; node {new_leader} leads now")

        # Resume the paused node so every node's log can receive the write.
        m.js("""const card = [...document.querySelectorAll('#cards .card')]
                  .find((c) => c.querySelector('h3').textContent.replace(/\\D+/g, '') === arguments[0]);
                card.querySelector('button[data-cmd="resume"]').click();""", leader)
        m.js("""const set = (id, v) => { const e = document.getElementById(id); e.value = v;
                  e.dispatchEvent(new Event('input', {bubbles: true})); };
                set('kv-key', 'e2e-ff-key'); set('kv-value', '<b>from firefox</b>');
                document.getElementById('kv-put').click();""")
        m.wait("""const rows = [...document.querySelectorAll('#logs .log-row')];
                  return rows.length === 3 && rows.every((r) => [...r.querySelectorAll('.log-cell')]
                    .some((c) => (c.title || '').includes('e2e-ff-key')));""",
               "the key in every node's log")
        print("e2e-firefox: the key is in every node's log")
        if m.js("return document.querySelectorAll('#logs b, #cards b').length") != 0:
            raise RuntimeError("user text was rendered as HTML")
        png = m.call("WebDriver:TakeScreenshot", {"full": True})["value"]
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(png))
        print(f"e2e-firefox: screenshot {screenshot}")
        m.call("WebDriver:DeleteSession", {})
    except Exception as e:  # noqa: BLE001 - report any failure as one line
        failed = True
        print(f"e2e-firefox FAILED: {e}", file=sys.stderr)
    finally:
        if browser is not None:
            browser.terminate()
            try:
                browser.wait(10)
            except subprocess.TimeoutExpired:
                browser.kill()
                browser.wait()
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
        shutil.rmtree(profile, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
