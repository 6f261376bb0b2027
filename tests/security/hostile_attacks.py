"""The attacks of issue 14 on the HTTP layer, as byte streams and crowds of
sockets. Each function returns what a test asserts on: the Answer (see
hostile_wire), and for the crowd, the time fresh clients waited."""
import selectors
import socket
import threading
import time
import zlib

from hostile_wire import exchange, request_head, simple

MIB = 1 << 20


def gzip_bomb(uncompressed_mib=1024):
    """`Content-Encoding: gzip` of this many MiB of zeros (1 GiB -> ~1 MB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MIB)
    parts = [compressor.compress(zeros) for _ in range(uncompressed_mib)]
    parts.append(compressor.flush())
    return b"".join(parts)


def compressed_body(port, method, path, bomb, headers=()):
    hdrs = list(headers) + [("Content-Encoding", "gzip"),
                            ("Content-Type", "application/octet-stream"),
                            ("Content-Length", str(len(bomb)))]
    return exchange(port, [request_head(method, path, port, hdrs), bomb], timeout_s=60)


def chunked_body(port, method, path, total_mib=300, headers=()):
    """`total_mib` MiB in 1 MiB chunks; stops when the server answers."""
    hdrs = list(headers) + [("Transfer-Encoding", "chunked"),
                            ("Content-Type", "application/octet-stream")]
    chunk = b"100000\r\n" + b"x" * MIB + b"\r\n"

    def stream():
        yield request_head(method, path, port, hdrs)
        for _ in range(total_mib):
            yield chunk
        yield b"0\r\n\r\n"

    return exchange(port, stream(), timeout_s=120)


def huge_header_line(port, path, total_mib=200):
    def stream():
        yield request_head("GET", path, port)[:-2] + b"X-Big: "
        for _ in range(total_mib):
            yield b"a" * MIB
        yield b"\r\n\r\n"

    return exchange(port, stream(), timeout_s=120)


def huge_request_line(port, path, total_mib=200):
    def stream():
        yield f"GET {path}?q=".encode()
        for _ in range(total_mib):
            yield b"a" * MIB
        yield f" HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()

    return exchange(port, stream(), timeout_s=120)


def many_headers(port, path, count=1_000_000):
    def stream():
        yield request_head("GET", path, port)[:-2]
        block = b"X-H: v\r\n" * 10_000
        for _ in range(count // 10_000):
            yield block
        yield b"\r\n"

    return exchange(port, stream(), timeout_s=120)


def many_ranges(port, path, count=2700):
    ranges = "bytes=" + ",".join(["0-"] * count)
    return simple(port, "GET", path, [("Range", ranges)], timeout_s=60)


def head_without_body(port, method, path, declared_bytes=32 * 1024, headers=()):
    """Declares a body and never sends it: an answer must not wait for it."""
    hdrs = list(headers) + [("Content-Type", "application/octet-stream"),
                            ("Content-Length", str(declared_bytes))]
    return exchange(port, [request_head(method, path, port, hdrs)], timeout_s=20)


def bodiless(port, method, path, headers=()):
    """A request with neither Content-Length nor Transfer-Encoding: no body."""
    return exchange(port, [request_head(method, path, port, headers)], timeout_s=20)


def half_closed(port, path):
    """A whole request, then the client shuts its sending side."""
    return exchange(port, [request_head("GET", path, port)], timeout_s=20, half_close=True)


class Crowd:
    """`slow` sockets sending one header byte a second and `idle` sockets
    sending nothing, each reopened as soon as the server closes it, on a
    thread of its own until stop()."""

    def __init__(self, port, slow=300, idle=2000):
        self.port, self.slow, self.idle = port, slow, idle
        self.selector = selectors.DefaultSelector()
        self.stopping = threading.Event()
        self.reopened = 0
        self.open_failures = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.thread.join()

    def _open(self, kind):
        sock = socket.socket()
        sock.setblocking(False)
        try:
            sock.connect_ex(("127.0.0.1", self.port))
            # [kind, time of the last byte sent, bytes sent]
            self.selector.register(sock, selectors.EVENT_READ, [kind, 0.0, 0])
            return True
        except OSError:
            sock.close()
            self.open_failures += 1
            return False

    def _drip(self, now):
        """One more byte of an endless head on every slow socket, once a second."""
        head = request_head("GET", "/healthz", self.port)[:-2] + b"X-Slow: "
        for key in list(self.selector.get_map().values()):
            state = key.data
            if state[0] != "slow" or now - state[1] < 1.0:
                continue
            byte = head[state[2]:state[2] + 1] if state[2] < len(head) else b"a"
            try:
                key.fileobj.send(byte)
                state[2] += 1
            except OSError:
                pass
            state[1] = now

    def _run(self):
        for _ in range(self.slow):
            self._open("slow")
        for _ in range(self.idle):
            self._open("idle")
        while not self.stopping.is_set():
            for key, _ in self.selector.select(timeout=0.05):
                kind = key.data[0]
                self.selector.unregister(key.fileobj)
                key.fileobj.close()
                self.reopened += 1
                self._open(kind)
            self._drip(time.monotonic())
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()
        self.selector.close()


def fresh_client_waits(port, path, seconds=12.0, every_s=0.5, timeout_s=30.0):
    """Latencies of fresh clients asking `path` every `every_s` for `seconds`
    (a probe that got no 200 counts as its timeout)."""
    waits = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        answer = simple(port, "GET", path, timeout_s=timeout_s)
        waits.append(answer.seconds if answer.status == 200 else timeout_s)
        time.sleep(every_s)
    return waits
