"""thermocam browser tests: a fresh thermocamd on loopback and headless Chromium
(Debian's chromium, driven by puppeteer-core from npm: scripts/setup.sh installs
both) running a script of tests/web against it (web.mjs unless named; with
--activated the daemon is activated first, with lib.mjs's password). TAP comes
from node; the screenshots of each screen go to BUILD/web-screens/.

--config-ports: the daemon listens on ports of its configuration (config.json,
free ports picked here) rather than the command line's, so that the ports'
checks of a change apply. --peers: an FTP server (pyftpdlib), an SMTP server
(aiosmtpd) and an HTTP server (a surveillance center) of tests/e2e/peers.py
run too; the script finds their ports in WEB_FTP_PORT, WEB_SMTP_PORT and
WEB_HTTP_PORT, what they got in WEB_FTP_ROOT, WEB_SMTP_OUT and WEB_HTTP_OUT. The script may restart the daemon (same state,
same ports): it creates the file WEB_CONTROL/restart and waits for
WEB_CONTROL/restarted.

--ws-ports: the WebSocket and WebSockets ports on free ones (--websocket-port 0).
  run.py [--activated] [--config-ports] [--peers] [--ws-ports] [SCRIPT.mjs]"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from daemon import BUILD, Daemon, Peer  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def restarter(d, control, done):
    """restarts the daemon each time the script asks (WEB_CONTROL/restart)"""
    req = os.path.join(control, "restart")
    while not done.is_set():
        if os.path.exists(req):
            os.unlink(req)
            d.stop()
            d.start()
            with open(os.path.join(control, "restarted"), "w") as f:
                f.write(str(d.http))
        time.sleep(0.1)


def main():
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    node = shutil.which("node")
    puppeteer = os.path.join(ROOT, "node_modules", "puppeteer-core", "package.json")
    missing = [what for what, ok in (("chromium", chromium), ("node", node),
                                     ("node_modules/puppeteer-core (npm ci)",
                                      os.path.exists(puppeteer))) if not ok]
    if missing:
        print("not ok 1 - the browser tests can run: scripts/setup.sh installs "
              + ", ".join(missing))
        print("1..1")
        return 1
    screens = os.path.join(BUILD or ROOT, "web-screens")
    os.makedirs(screens, exist_ok=True)
    args = sys.argv[1:]
    activated = "--activated" in args
    scripts = [a for a in args if a.endswith(".mjs")] or ["web.mjs"]
    # --daemon-arg=X: X added to the daemon's command line
    d = Daemon(extra=[a.split("=", 1)[1] for a in args if a.startswith("--daemon-arg=")])
    if "--ws-ports" in args:
        # the WebSocket(s) ports, when switched on, on free ports (not 7681/7682)
        d.args += ["--websocket-port", "0", "--websockets-port", "0"]
    if "--config-ports" in args:
        with open(os.path.join(d.state_dir, "config.json"), "w") as f:
            json.dump({"ports": {k: free_port() for k in ("http", "rtsp", "https", "modbus", "server")}}, f)
        d.args = [a for i, a in enumerate(d.args)
                  if not (a.endswith("-port") or (i and d.args[i - 1].endswith("-port")))]
    d.start()
    peers = []
    done = threading.Event()
    control = tempfile.mkdtemp(prefix="web-control-")
    try:
        if activated:
            d.activate()
        env = dict(os.environ, WEB_BASE=f"http://127.0.0.1:{d.http}/", WEB_SCREENS=screens,
                   CHROMIUM=chromium, NODE_PATH=os.path.join(ROOT, "node_modules"),
                   WEB_CONTROL=control)
        if "--peers" in args:
            ftp_root = os.path.join(control, "ftp")
            smtp_out = os.path.join(control, "smtp")
            peers.append(Peer("ftp", "--root", ftp_root, "--user", "cam",
                              "--password", "secret1").start())
            peers.append(Peer("smtp", "--out", smtp_out).start())
            http_out = os.path.join(control, "http")
            peers.append(Peer("http", "--out", http_out).start())
            env.update(WEB_FTP_PORT=str(peers[0].port), WEB_FTP_ROOT=ftp_root,
                       WEB_SMTP_PORT=str(peers[1].port), WEB_SMTP_OUT=smtp_out,
                       WEB_HTTP_PORT=str(peers[2].port), WEB_HTTP_OUT=http_out)
        threading.Thread(target=restarter, args=(d, control, done), daemon=True).start()
        r = subprocess.run([node, os.path.join(HERE, scripts[0])], env=env, timeout=280)
        if not d.alive():
            print("not ok 999 - the daemon is still running after the browser tests")
            print("# " + "\n# ".join(d.lines[-30:]))
            return 1
        return r.returncode
    finally:
        done.set()
        for p in peers:
            p.stop()
        d.stop()
        shutil.rmtree(control, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
