"""A small RTSP client for load tests: many viewers in one process (asyncio),
each a real RTSP session (DESCRIBE with Digest, SETUP over TCP interleaved
or UDP, PLAY, TEARDOWN) that counts the H.264 frames it receives (RTP
marker bits) and the time from PLAY's answer to its first key frame (an IDR
or SPS NAL unit, single, in a STAP-A or starting an FU-A).  ffmpeg costs
about a core-second to start: fifty of them starting at once measure the
machine, not the camera.

    results = asyncio.run(run_viewers(host, port, "main", user, password,
                                      n=60, seconds=8, transports=["tcp", "udp"]))
"""
import asyncio
import hashlib
import re
import socket
import time


def _md5(s):
    return hashlib.md5(s.encode()).hexdigest()


class Viewer:
    def __init__(self, host, port, path, user, password, transport="tcp", source=None):
        self.host, self.port, self.path = host, port, path
        self.user, self.password, self.transport = user, password, transport
        self.url = f"rtsp://{host}:{port}/{path}"
        self.cseq = 0
        self.auth = None
        self.session = None
        self.frames = 0
        self.packets = 0
        self.bytes = 0
        self.first_key = None        # seconds from PLAY's answer
        self.play_at = None
        self.error = None
        self.rtp_ports = None
        self.source = source            # a local address of the client's own

    # ---- RTSP requests ----
    async def _request(self, method, url, extra=""):
        for attempt in range(2):
            self.cseq += 1
            head = f"{method} {url} RTSP/1.0\r\nCSeq: {self.cseq}\r\nUser-Agent: rtspload\r\n"
            if self.auth:
                realm, nonce = self.auth
                ha1 = _md5(f"{self.user}:{realm}:{self.password}")
                ha2 = _md5(f"{method}:{url}")
                head += (f'Authorization: Digest username="{self.user}", realm="{realm}", '
                         f'nonce="{nonce}", uri="{url}", response="{_md5(f"{ha1}:{nonce}:{ha2}")}"\r\n')
            if self.session:
                head += f"Session: {self.session}\r\n"
            self.writer.write((head + extra + "\r\n").encode())
            await self.writer.drain()
            status, headers, body = await self._response()
            if status == 401 and attempt == 0:
                m = re.search(r'Digest\s+realm="([^"]*)",\s*nonce="([^"]*)"',
                              headers.get("www-authenticate", ""))
                if not m:
                    raise RuntimeError(f"{method}: 401 without a Digest challenge")
                self.auth = (m.group(1), m.group(2))
                continue
            return status, headers, body
        raise RuntimeError(f"{method}: refused ({status})")

    async def _response(self):
        # interleaved data may come before an answer (TEARDOWN while playing)
        while True:
            first = await self.reader.readexactly(1)
            if first == b"$":
                hdr = await self.reader.readexactly(3)
                await self.reader.readexactly(int.from_bytes(hdr[1:3], "big"))
                continue
            line = first + await self.reader.readuntil(b"\r\n")
            break
        status = int(line.split()[1])
        headers = {}
        while True:
            h = (await self.reader.readuntil(b"\r\n")).decode().strip()
            if not h:
                break
            k, _, v = h.partition(":")
            headers.setdefault(k.strip().lower(), v.strip())
        n = int(headers.get("content-length", "0"))
        body = (await self.reader.readexactly(n)).decode() if n else ""
        return status, headers, body

    # ---- RTP ----
    def _rtp(self, p):
        if len(p) < 13:
            return
        self.packets += 1
        self.bytes += len(p)
        cc = p[0] & 0x0F
        off = 12 + 4 * cc
        if p[0] & 0x10 and len(p) >= off + 4:        # header extension
            off += 4 + 4 * int.from_bytes(p[off + 2:off + 4], "big")
        if p[1] & 0x80:
            self.frames += 1
        if self.first_key is None and len(p) > off + 1:
            nal = p[off] & 0x1F
            key = nal in (5, 7)
            if nal == 24:                                 # STAP-A: the first unit
                key = len(p) > off + 3 and (p[off + 3] & 0x1F) in (5, 7)
            elif nal == 28:                               # FU-A: its start
                key = bool(p[off + 1] & 0x80) and (p[off + 1] & 0x1F) in (5, 7)
            if key:
                self.first_key = time.monotonic() - self.play_at

    async def run(self, seconds, start_at=None):
        udp = []
        try:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, local_addr=(self.source, 0) if self.source else None)
            status, headers, sdp = await self._request("DESCRIBE", self.url,
                                                       "Accept: application/sdp\r\n")
            if status != 200:
                raise RuntimeError(f"DESCRIBE: {status}")
            base = headers.get("content-base", self.url + "/")
            m = re.search(r"a=control:(\S+)", sdp.split("m=video", 1)[-1])
            control = m.group(1) if m else "stream=0"
            track = control if control.startswith("rtsp://") else base.rstrip("/") + "/" + control
            loop = asyncio.get_running_loop()
            if self.transport == "udp":
                viewer = self

                class Rtp(asyncio.DatagramProtocol):
                    def datagram_received(self, data, addr):
                        if viewer.play_at is not None:
                            viewer._rtp(data)
                for _ in range(20):   # an even port and the next one
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.bind((self.source or "127.0.0.1", 0))
                    p = s.getsockname()[1]
                    if p % 2:
                        s.close()
                        continue
                    s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    try:
                        s2.bind((self.source or "127.0.0.1", p + 1))
                    except OSError:
                        s.close()
                        s2.close()
                        continue
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                    t1, _ = await loop.create_datagram_endpoint(Rtp, sock=s)
                    t2, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, sock=s2)
                    udp = [t1, t2]
                    self.rtp_ports = (p, p + 1)
                    break
                tr = f"RTP/AVP;unicast;client_port={self.rtp_ports[0]}-{self.rtp_ports[1]}"
            else:
                tr = "RTP/AVP/TCP;unicast;interleaved=0-1"
            status, headers, _ = await self._request("SETUP", track, f"Transport: {tr}\r\n")
            if status != 200:
                raise RuntimeError(f"SETUP: {status}")
            self.session = headers.get("session", "").split(";")[0]
            if start_at:
                await asyncio.sleep(max(0, start_at - time.monotonic()))
            t0 = time.monotonic()
            status, headers, _ = await self._request("PLAY", base, "Range: npt=0-\r\n")
            if status != 200:
                raise RuntimeError(f"PLAY: {status}")
            self.play_at = time.monotonic()
            self.play_request_s = self.play_at - t0
            end = self.play_at + seconds
            while time.monotonic() < end:
                if self.transport == "udp":
                    await asyncio.sleep(min(0.2, max(0, end - time.monotonic())))
                    continue
                try:
                    hdr = await asyncio.wait_for(self.reader.readexactly(4),
                                                 max(0.01, end - time.monotonic()))
                except asyncio.TimeoutError:
                    break
                if hdr[0:1] != b"$":
                    raise RuntimeError("not interleaved data")
                data = await self.reader.readexactly(int.from_bytes(hdr[2:4], "big"))
                if hdr[1] == 0:
                    self._rtp(data)
            try:
                await asyncio.wait_for(self._request("TEARDOWN", base), 3)
            except Exception:
                pass
        except Exception as e:  # noqa: BLE001 (the viewer's failure is its result)
            self.error = f"{type(e).__name__}: {e}"
        finally:
            for t in udp:
                t.close()
            if getattr(self, "writer", None):
                self.writer.close()
        return self


async def run_viewers(host, port, path, user, password, n, seconds, transports=("tcp",),
                      together=False):
    """n viewers: connected at one instant, or connected and set up, then
    all PLAY at one instant (together); each watches for @seconds.  From
    loopback addresses of their own, 20 a source (the camera takes at most
    32 connections from one address).  Returns the Viewer objects"""
    viewers = [Viewer(host, port, path, user, password, transports[i % len(transports)],
                      f"127.0.0.{2 + i // 20}" if host == "127.0.0.1" else None)
               for i in range(n)]
    start_at = time.monotonic() + 1.0 if together else None
    return await asyncio.gather(*(v.run(seconds, start_at) for v in viewers))


def summary(viewers, fps, seconds):
    frames = sorted(v.frames for v in viewers)
    keys = sorted(v.first_key for v in viewers if v.first_key is not None)
    return {
        "viewers": len(viewers),
        "errors": [v.error for v in viewers if v.error][:5],
        "frames_min": frames[0] if frames else 0,
        "frames_median": frames[len(frames) // 2] if frames else 0,
        "frames_expected": int(fps * seconds),
        "first_key_frame_ms_median": round(1000 * keys[len(keys) // 2]) if keys else None,
        "first_key_frame_ms_max": round(1000 * keys[-1]) if keys else None,
        "without_key_frame": len(viewers) - len(keys),
    }


def main(argv):
    """rtspload.py HOST PORT PATH USER PASSWORD N SECONDS [tcp,udp]: the
    viewers, their summary as JSON on stdout (a process of its own: the
    clients' work stays out of the caller's, and out of its environment,
    such as meson's MALLOC_PERTURB_)"""
    import json
    host, port, path, user, password, n, seconds = argv[1:8]
    transports = tuple(argv[8].split(",")) if len(argv) > 8 else ("tcp",)
    viewers = asyncio.run(run_viewers(host, int(port), path, user, password, int(n),
                                      float(seconds), transports))
    fps = 15 if path in ("sub", "Streaming/Channels/102") else 30
    print(json.dumps(summary(viewers, fps, float(seconds))))


if __name__ == "__main__":
    import sys
    main(sys.argv)
