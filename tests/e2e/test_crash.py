#!/usr/bin/python3
"""Kill -9 thermocamd while it saves its configuration, many times: the file
is always the old or the new document, never a broken one, and the daemon
starts from it with everything that was answered 200 before the kill."""
import json
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, Tap  # noqa: E402

t = Tap()
random.seed(7)
d = Daemon().start()
d.activate()
state = d.state_dir
path = os.path.join(state, "config.json")
ROUNDS = 12
written = set()
broken = []
lost = []
for rnd in range(ROUNDS):
    stop = threading.Event()
    acked = []

    def writer():
        i = 0
        while not stop.is_set():
            name = f"cam-{rnd}-{i}"
            # a big document: rules with many points make every save long
            rules = [{"id": k + 1, "name": f"r{k}", "type": "polygon",
                      "points": [[0.1 + 0.01 * (j % 8), 0.1 + 0.02 * (j // 8)] for j in range(16)]}
                     for k in range(40)]
            s1, _, _ = d.put("config/rules", rules, timeout=5)
            s, _, _ = d.put("config/device", {"name": name}, timeout=5)
            if s == 200:
                acked.append(name)
            i += 1

    th = threading.Thread(target=writer)
    th.start()
    time.sleep(random.uniform(0.4, 1.5))
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    stop.set()
    th.join()
    try:
        with open(path) as f:
            doc = json.load(f)
        name = doc["device"]["name"]
    except (ValueError, KeyError, OSError) as e:
        broken.append((rnd, repr(e)))
        name = None
    # the newest acknowledged name, or one being written when the kill came
    if acked and name is not None and name != acked[-1] and not name.startswith(f"cam-{rnd}-"):
        lost.append((rnd, acked[-1], name))
    leftovers = [f for f in os.listdir(state) if f.startswith("config.json.") and not f.endswith(".invalid")]
    d = Daemon(state_dir=state).start()
    s, cfg, _ = d.get("config/device")
    if name is not None and (s != 200 or cfg["name"] != name):
        broken.append((rnd, "restart", s, cfg, name))
    written.add(name)
t.ok(not broken, f"{ROUNDS} kills while saving: the configuration always parses and loads", broken)
t.ok(not lost, "an acknowledged change is never lost", lost)
t.ok(len(written) > 1, f"the kills came while changes were being saved ({len(written)} distinct states)", written)
t.ok(not os.path.exists(path + ".invalid"), "the daemon never had to set a file aside")
t.ok(d.stop() == 0, "clean exit")
t.done()
