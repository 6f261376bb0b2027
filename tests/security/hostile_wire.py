"""Raw HTTP/1.1 on a socket, as a hostile client writes it: heads and bodies
of any size or shape, sent until the server answers or closes, with the
answer, the bytes sent and the time taken. Standard library only."""
import errno
import selectors
import socket
import time
from dataclasses import dataclass, field


@dataclass
class Answer:
    status: int = 0           # 0: no status line came (closed, reset, timed out)
    headers: dict = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    sent_bytes: int = 0       # what the server took before it answered or closed
    seconds: float = 0.0      # from connect to the end of the answer
    error: str = ""           # why the exchange ended without a whole answer

    def describe(self):
        text = self.body[:120].decode("utf-8", "replace").strip()
        return f"{self.status} {text!r}" if self.status else f"no answer ({self.error})"


def _parse_head(buf):
    """(status, headers, head_length) once the answer's head is complete."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = buf[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, end + 4


def _answer_complete(buf, head_only):
    parsed = _parse_head(buf)
    if parsed is None:
        return None
    status, headers, head_len = parsed
    if status == 100:  # 100 Continue: the real answer follows
        rest = _answer_complete(buf[head_len:], head_only)
        return rest
    if head_only or status in (204, 304):
        return status, headers, b""
    if "content-length" in headers:
        length = int(headers["content-length"])
        if len(buf) - head_len >= length:
            return status, headers, buf[head_len:head_len + length]
    return None  # chunked or close-delimited: complete at EOF


def _finish_at_eof(buf, answer):
    parsed = _parse_head(buf)
    if parsed is None:
        return
    status, headers, head_len = parsed
    if status == 100:
        _finish_at_eof(buf[head_len:], answer)
        return
    answer.status, answer.headers, answer.body = status, headers, buf[head_len:]


def _wait(sock, want_write, timeout_s):
    """(readable, writable) within timeout_s; poll-based, so any fd number works."""
    with selectors.PollSelector() as sel:
        sel.register(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if want_write else 0))
        events = sel.select(timeout_s)
    mask = events[0][1] if events else 0
    return bool(mask & selectors.EVENT_READ), bool(mask & selectors.EVENT_WRITE)


def exchange(port, chunks, timeout_s=30.0, host="127.0.0.1", head_only=False,
             half_close=False, source=None):
    """Connects, sends the byte strings of `chunks` (any iterable, drawn
    lazily) and stops sending as soon as the server answers or closes.
    Returns an Answer. `half_close` shuts the writing side after the last
    chunk (a client that says it has nothing more to send)."""
    answer = Answer()
    start = time.monotonic()
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    if source:
        sock.bind((source, 0))
    sock.settimeout(timeout_s)
    try:
        sock.connect((host, port))
    except OSError as e:
        answer.error = f"connect: {e}"
        sock.close()
        return answer
    sock.setblocking(False)
    chunk_iter = iter(chunks)
    pending = memoryview(b"")
    sending = True
    buf = b""
    deadline = start + timeout_s
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                answer.error = f"no whole answer in {timeout_s:.0f} s"
                _finish_at_eof(buf, answer)
                break
            if sending and not pending:
                nxt = next(chunk_iter, None)
                if nxt is None:
                    sending = False
                    if half_close:
                        sock.shutdown(socket.SHUT_WR)
                else:
                    pending = memoryview(nxt)
            readable, writable = _wait(sock, sending and pending, min(left, 1.0))
            if readable:
                try:
                    data = sock.recv(1 << 16)
                except OSError as e:
                    answer.error = f"recv: {e.strerror or e}"
                    _finish_at_eof(buf, answer)
                    break
                if not data:
                    answer.error = "closed by the server"
                    _finish_at_eof(buf, answer)
                    break
                buf += data
                done = _answer_complete(buf, head_only)
                if done is not None:
                    answer.status, answer.headers, answer.body = done
                    answer.error = ""
                    break
                parsed = _parse_head(buf)
                if parsed and parsed[0] != 100:
                    sending = False  # answered early (a refusal): send no more
            if writable and pending:
                try:
                    n = sock.send(pending)
                    answer.sent_bytes += n
                    pending = pending[n:]
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                        sending = False  # reset or closed: read what came back
    finally:
        answer.seconds = time.monotonic() - start
        sock.close()
    return answer


def request_head(method, path, port, headers=(), host=None, version="HTTP/1.1"):
    """The bytes of a request head; `headers` are (name, value) pairs. Host is
    127.0.0.1:port unless given (None in `host` means that default; "" none)."""
    lines = [f"{method} {path} {version}"]
    if host is None:
        host = f"127.0.0.1:{port}"
    if host:
        lines.append(f"Host: {host}")
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def simple(port, method, path, headers=(), body=b"", timeout_s=10.0, host=None):
    """One ordinary request with a Content-Length body."""
    hdrs = list(headers)
    if body or method in ("POST", "PUT", "PATCH"):
        hdrs.append(("Content-Length", str(len(body))))
    return exchange(port, [request_head(method, path, port, hdrs, host) + body], timeout_s)
