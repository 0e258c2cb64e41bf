"""thermocam browser tests: a fresh thermocamd on loopback and headless Chromium
(Debian's chromium, driven by puppeteer-core from npm: scripts/setup.sh installs
both) running a script of tests/web against it (web.mjs unless named; with
--activated the daemon is activated first, with lib.mjs's password). TAP comes
from node; the screenshots of each screen go to BUILD/web-screens/.

  run.py [--activated] [SCRIPT.mjs]"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from daemon import BUILD, Daemon  # noqa: E402


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
    d = Daemon().start()
    try:
        if activated:
            d.activate()
        env = dict(os.environ, WEB_BASE=f"http://127.0.0.1:{d.http}/", WEB_SCREENS=screens,
                   CHROMIUM=chromium, NODE_PATH=os.path.join(ROOT, "node_modules"))
        r = subprocess.run([node, os.path.join(HERE, scripts[0])], env=env, timeout=280)
        if not d.alive():
            print("not ok 999 - the daemon is still running after the browser tests")
            print("# " + "\n# ".join(d.lines[-30:]))
            return 1
        return r.returncode
    finally:
        d.stop()


if __name__ == "__main__":
    sys.exit(main())
