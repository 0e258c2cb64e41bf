"""A small WebSocket client (RFC 6455) for the e2e tests: the handshake, masked
frames out, frames in (fragments joined, pings answered), close codes.
Python's standard library only."""
import base64
import hashlib
import os
import socket
import ssl
import struct
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG, CONT = 1, 2, 8, 9, 10, 0


def client_frame(opcode, payload, fin=True, mask=bytes(4)):
    """a client's frame, masked with @mask (the zero key leaves the payload as
    it is: what a test writes by hand)"""
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    if any(mask):
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + payload


class HandshakeRefused(Exception):
    def __init__(self, status, head, body):
        super().__init__(f"handshake answered {status}")
        self.status, self.head, self.body = status, head, body


class WebSocket:
    def __init__(self, port, path="/api/v1/live/ws", headers=(), origin=True, tls=False,
                 host="127.0.0.1", timeout=10, rcvbuf=None):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # a small window: a reader that stops reading is soon seen behind
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        raw.settimeout(timeout)
        raw.connect((host, port))
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            raw = ctx.wrap_socket(raw, server_hostname=host)
        self.sock = raw
        self.buf = b""
        self.close_code = None
        self.close_reason = None
        self.closed = False
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if origin is True:
            lines.append(f"Origin: {'https' if tls else 'http'}://{host}:{port}")
        elif origin:
            lines.append(f"Origin: {origin}")
        lines += list(headers)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = self._read_until(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        self.head = head.decode(errors="replace")
        if status != 101:
            m = [x for x in self.head.split("\r\n") if x.lower().startswith("content-length:")]
            body = self._read_exactly(int(m[0].split(":")[1])) if m else b""
            self.sock.close()
            raise HandshakeRefused(status, self.head, body)
        want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if f"sec-websocket-accept: {want.lower()}" not in self.head.lower():
            raise RuntimeError("bad Sec-WebSocket-Accept: " + self.head)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the peer")
        self.buf += chunk

    def _read_until(self, mark):
        while mark not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(mark)
        return head

    def _read_exactly(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_frame(self, opcode, payload, fin=True):
        self.sock.sendall(client_frame(opcode, payload, fin, os.urandom(4)))

    def send_text(self, text):
        self.send_frame(TEXT, text.encode() if isinstance(text, str) else text)

    def send_binary(self, data):
        self.send_frame(BINARY, data)

    def _frame(self):
        b0, b1 = self._read_exactly(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read_exactly(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read_exactly(8))[0]
        mask = self._read_exactly(4) if b1 & 0x80 else None
        data = self._read_exactly(n)
        if mask:
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        return bool(b0 & 0x80), b0 & 0x0F, data

    def recv(self, timeout=10):
        """(TEXT, str) or (BINARY, bytes); (CLOSE, code) once closed; None
        on timeout"""
        self.sock.settimeout(timeout)
        parts, kind = [], None
        try:
            while True:
                fin, op, data = self._frame()
                if op == PING:
                    self.send_frame(PONG, data)
                    continue
                if op == PONG:
                    continue
                if op == CLOSE:
                    self.close_code = struct.unpack(">H", data[:2])[0] if len(data) >= 2 else 1005
                    self.close_reason = data[2:].decode(errors="replace")
                    if not self.closed:
                        self.closed = True
                        try:
                            self.send_frame(CLOSE, data[:2])
                        except OSError:
                            pass
                    return CLOSE, self.close_code
                if op in (TEXT, BINARY):
                    kind = op
                parts.append(data)
                if fin:
                    data = b"".join(parts)
                    return (TEXT, data.decode()) if kind == TEXT else (BINARY, data)
        except socket.timeout:
            return None
        except (ConnectionError, OSError):
            self.closed = True
            return CLOSE, self.close_code

    def until_closed(self, timeout=10):
        """the messages received until the close, and its code"""
        got, end = [], time.time() + timeout
        while time.time() < end:
            m = self.recv(max(end - time.time(), 0.1))
            if m is None:
                break
            if m[0] == CLOSE:
                return got, m[1]
            got.append(m)
        return got, None

    def close(self, code=1000):
        try:
            if not self.closed:
                self.send_frame(CLOSE, struct.pack(">H", code))
                self.closed = True
        except OSError:
            pass
        self.sock.close()
