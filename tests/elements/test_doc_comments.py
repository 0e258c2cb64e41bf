#!/usr/bin/python3
"""Every element of the plugin is documented as GStreamer documents its own:
its source opens with a gtk-doc block `SECTION:element-NAME` with a title,
a description and a `## Example launch line` section whose `|[ ... ]|`
block holds a gst-launch-1.0 line that uses the element; that line parses
(gst_parse_launchv: every element and property in it exists, every value
is accepted).  The properties' descriptions, ranges and units are checked
from the plugin itself by the test plugin-doc."""
import json
import os
import re
import shlex
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

ROOT = sys.argv[1]
cache = json.load(open(os.path.join(ROOT, "plugins", "gst", "doc", "gst_plugins_cache.json")))
elements = next(iter(cache.values()))["elements"]
Gst.init(None)
n = failed = 0


def ok(cond, desc, detail=""):
    global n, failed
    n += 1
    print(f"{'ok' if cond else 'not ok'} {n} - {desc}", flush=True)
    if not cond:
        failed += 1
        for line in str(detail).splitlines()[:20]:
            print(f"# {line}", flush=True)


for name in sorted(elements):
    path = os.path.join(ROOT, "plugins", "gst", f"gst{name}.c")
    text = open(path).read() if os.path.exists(path) else ""
    m = re.search(r"/\*\*\s*\n\s*\* SECTION:element-" + name + r"\n(.*?)\*/", text, re.S)
    ok(m is not None, f"{name}: a SECTION:element-{name} doc block in {os.path.basename(path)}")
    if not m:
        continue
    block = "\n".join(re.sub(r"^\s*\* ?", "", line) for line in m.group(1).splitlines())
    ok(f"@title: {name}" in block and len(block) > 200,
       f"{name}: a title and a description", block[:300])
    ex = re.search(r"## Example launch line\s*\n\|\[\s*\n(.*?)\n\]\|", block, re.S)
    ok(ex is not None, f"{name}: a ## Example launch line section with a |[ ]| block", block)
    if not ex:
        continue
    lines = [line for line in ex.group(1).splitlines() if line.startswith("gst-launch-1.0")]
    ok(lines and all(re.search(r"\b" + name + r"\b", line) for line in lines),
       f"{name}: the launch line uses {name}", ex.group(1))
    for line in lines:
        argv = [a for a in shlex.split(line)[1:] if not a.startswith("-")]
        try:
            pipeline = Gst.parse_launchv(argv)
            err = None
        except GLib.Error as e:
            pipeline, err = None, e.message
        ok(pipeline is not None, f"{name}: the launch line parses", err or line)
print(f"1..{n}")
sys.exit(1 if failed else 0)
